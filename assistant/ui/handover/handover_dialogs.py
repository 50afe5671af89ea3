"""Dialogs of the 交接 tab: 交班导出 (export with progress), 导入交接 (preview, then apply), 交班给同事
(team mode: hand the buyers this agent follows to a colleague or the shop's pool), the calculator
for the domain's two formulas, and editing one work-log entry.

Store work runs on the StoreWorker; the export reports progress by signal and never blocks the GUI
thread. Folder and file choices are injectable (tests never open a real file dialog).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import customers, handover, kpi, reminders, settings, shifts
from ...core.clock import from_db, to_db
from ...core.store import Store
from ...errors import KnownError
from ...services.worker import StoreWorker
from ..widgets import i18n, icons, style

translate = QCoreApplication.translate

FolderChooser = Callable[[QWidget, str], "str | None"]
FileChooser = Callable[[QWidget, str], "str | None"]
Opener = Callable[[Path], None]

SHOW_AT_MOST = 1000

DIALOG_CSS = f"""
#WarnText {{ color: {style.WARN}; font-size: 12px; background: {style.WARN_BG}; border: 1px solid #fde68a;
    border-radius: 6px; padding: 6px 8px; }}
#ResultBig {{ font-size: 22px; font-weight: 700; color: {style.ACCENT}; }}
#ResultSub {{ color: {style.TEXT_2}; font-size: 12px; }}
#ResultCard {{ background: {style.SURFACE}; border: 1px solid {style.BORDER}; border-radius: 8px; }}
#NoteLine {{ color: {style.TEXT_2}; font-size: 12px; }}
#FileList {{ background: {style.SURFACE}; border: 1px solid {style.BORDER}; border-radius: 6px; }}
"""


def documents_dir() -> str:
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())


def default_folder() -> str:
    return str(Path(documents_dir()) / translate("HandoverDialogs", "客服交接"))


def ask_folder(parent: QWidget, start: str) -> str | None:
    path = QFileDialog.getExistingDirectory(parent, translate("HandoverDialogs", "选择保存交接文件的文件夹"), start)
    return path or None


def ask_file(parent: QWidget, start: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, translate("HandoverDialogs", "选择交接文件"), start,
                                          translate("HandoverDialogs", "交接文件 (*.json)"))
    return path or None


def open_in_file_manager(folder: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def _error_text(exc: KnownError) -> str:
    return i18n.pick(exc.zh, exc.en)


# ================================================================ export

class ExportDialog(QDialog):
    """交班导出: folder, formats, phones (off by default, with a warning), end the shift; progress."""

    exported = Signal(object)  # handover.ExportResult

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None, *, folder: str | None = None,
                 end_shift: bool = False, shift_open: bool = True, choose_folder: FolderChooser | None = None,
                 open_folder: Opener | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HandoverExportDialog")
        self.setStyleSheet(DIALOG_CSS)
        self.worker = worker
        self.result: handover.ExportResult | None = None
        self._choose_folder = choose_folder or ask_folder
        self._open_folder = open_folder or open_in_file_manager
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)

        self.folder_title = QLabel(objectName="SectionTitle")
        layout.addWidget(self.folder_title)
        row = QHBoxLayout()
        row.setSpacing(6)
        self.folder = QLineEdit(folder or default_folder())
        self.browse = QPushButton()
        self.browse.setIcon(icons.icon("folder"))
        self.browse.clicked.connect(self.choose_folder)
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        layout.addLayout(row)

        self.formats_title = QLabel(objectName="SectionTitle")
        layout.addWidget(self.formats_title)
        self.format_boxes: dict[str, QCheckBox] = {}
        for fmt in handover.FORMATS:
            box = QCheckBox()
            box.setChecked(True)
            box.toggled.connect(self._update_buttons)
            self.format_boxes[fmt] = box
            layout.addWidget(box)

        self.phones = QCheckBox()
        self.phones.setChecked(False)
        self.phones.toggled.connect(self._update_buttons)
        layout.addWidget(self.phones)
        self.phones_warning = QLabel(objectName="WarnText")
        self.phones_warning.setWordWrap(True)
        self.phones_warning.hide()
        layout.addWidget(self.phones_warning)
        self.end_shift = QCheckBox()
        self.end_shift.setChecked(end_shift and shift_open)
        self.end_shift.setEnabled(shift_open)
        self.end_shift.toggled.connect(self._update_buttons)
        layout.addWidget(self.end_shift)

        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = QLabel(objectName="Hint")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.files = QListWidget(objectName="FileList")
        self.files.setMaximumHeight(84)
        self.files.hide()
        layout.addWidget(self.files)

        buttons = QHBoxLayout()
        self.open_button = QPushButton()
        self.open_button.setIcon(icons.icon("folder"))
        self.open_button.clicked.connect(self.open_folder)
        self.open_button.hide()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.reject)
        self.export_button = QPushButton(objectName="Primary")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        self._busy = False
        self._retranslate()
        self._update_buttons()

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("HandoverDialogs", "交班导出"))
        self.folder_title.setText(translate("HandoverDialogs", "保存到文件夹"))
        self.browse.setText(translate("HandoverDialogs", "选择…"))
        self.formats_title.setText(translate("HandoverDialogs", "导出格式"))
        self.format_boxes["html"].setText(translate("HandoverDialogs", "HTML 报告（可打印）"))
        self.format_boxes["xlsx"].setText(translate("HandoverDialogs", "Excel 表格 (.xlsx)"))
        self.format_boxes["json"].setText(translate("HandoverDialogs", "JSON（接班同事导入用）"))
        self.phones.setText(translate("HandoverDialogs", "包含完整手机号和订单号"))
        self.phones_warning.setText(translate(
            "HandoverDialogs", "文件中将出现买家的完整手机号和订单号。只发给接班同事，不要转发到群里或外传。"))
        self.end_shift.setText(translate("HandoverDialogs", "导出后交班（结束本班次）"))
        self.open_button.setText(translate("HandoverDialogs", "打开文件夹"))
        self.close_button.setText(translate("HandoverDialogs", "关闭"))
        self._update_buttons()

    def changeEvent(self, event) -> None:  # noqa: ANN001
        if event.type() == event.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def formats(self) -> list[str]:
        return [fmt for fmt, box in self.format_boxes.items() if box.isChecked()]

    def _update_buttons(self) -> None:
        self.phones_warning.setVisible(self.phones.isChecked())
        if self.end_shift.isChecked():
            self.export_button.setText(translate("HandoverDialogs", "导出并交班"))
        else:
            self.export_button.setText(translate("HandoverDialogs", "导出"))
        self.export_button.setEnabled(not self._busy and bool(self.formats()))
        self.adjustSize()

    def choose_folder(self) -> None:
        path = self._choose_folder(self, self.folder.text() or documents_dir())
        if path:
            self.folder.setText(path)

    def start_export(self) -> None:
        text = self.folder.text().strip()
        if not text:
            self._show_error(translate("HandoverDialogs", "请选择保存的文件夹"))
            return
        folder, formats = Path(text).expanduser(), self.formats()
        phones, end = self.phones.isChecked(), self.end_shift.isChecked()
        self._busy = True
        self.error.hide()
        self.files.hide()
        self.open_button.hide()
        self.status.setText(translate("HandoverDialogs", "正在导出…"))
        self.progress.setRange(0, 0)
        self.progress.show()
        for w in (self.folder, self.browse, self.phones, self.end_shift, *self.format_boxes.values()):
            w.setEnabled(False)
        self._update_buttons()
        self.worker.submit(
            lambda store, progress: handover.export_handover(store, folder, formats=formats, include_phones=phones,
                                                             end_shift=end, progress=progress),
            self._on_done, self._on_error, write=True, on_progress=self._on_progress)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    def _enable_inputs(self, shift_open: bool) -> None:
        self._busy = False
        for w in (self.folder, self.browse, self.phones, *self.format_boxes.values()):
            w.setEnabled(True)
        self.end_shift.setEnabled(shift_open)
        if not shift_open:
            self.end_shift.setChecked(False)

    def _on_done(self, result: handover.ExportResult) -> None:
        self.result = result
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.hide()
        self._enable_inputs(bool(result.shift is not None and result.shift.open))
        text = translate("HandoverDialogs", "已导出 %n 位买家的交接信息到：", None, int(result.counts.get("buyers", 0)))
        if result.shift is not None and not result.shift.open and result.shift.ended_how == "handover":
            text = translate("HandoverDialogs", "已交班。") + text
        self.status.setText(text + str(result.folder))
        self.files.clear()
        for _fmt, path in result.files.items():
            self.files.addItem(path.name)
        self.files.show()
        self.open_button.show()
        self._update_buttons()
        self.exported.emit(result)

    def _on_error(self, exc: KnownError) -> None:
        self.progress.hide()
        self._enable_inputs(True)
        self.status.setText("")
        self._show_error(_error_text(exc))
        self._update_buttons()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def open_folder(self) -> None:
        if self.result is not None:
            self._open_folder(self.result.folder)


# ================================================================ import

ACTIONS = {"add": QT_TRANSLATE_NOOP("HandoverDialogs", "新增"), "update": QT_TRANSLATE_NOOP("HandoverDialogs", "更新")}


class ImportDialog(QDialog):
    """导入交接: preview what the file adds and updates; nothing is written until 导入 is pressed."""

    imported = Signal(object)  # handover.ImportPlan (applied)

    def __init__(self, worker: StoreWorker, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HandoverImportDialog")
        self.setStyleSheet(DIALOG_CSS)
        self.worker = worker
        self.path = path
        self.plan: handover.ImportPlan | None = None
        self.result: handover.ImportPlan | None = None
        self.failed: KnownError | None = None
        self.resize(440, 480)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        self.file_label = QLabel(objectName="SectionTitle")
        self.file_label.setWordWrap(True)
        layout.addWidget(self.file_label)
        self.source = QLabel(objectName="Hint")
        self.source.setWordWrap(True)
        layout.addWidget(self.source)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        layout.addWidget(self.tree, 1)
        layout.addStretch(0)  # takes the room when there is no list to show
        self.warnings = QLabel(objectName="WarnText")
        self.warnings.setWordWrap(True)
        self.warnings.hide()
        layout.addWidget(self.warnings)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        layout.addWidget(self.error)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setRange(0, 0)
        layout.addWidget(self.progress)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.reject)
        self.import_button = QPushButton(objectName="Primary")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.apply)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        self._retranslate()
        worker.submit(lambda store: handover.preview_import(store, path), self._on_plan, self._on_error,
                      key=f"handover-preview-{id(self)}")

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("HandoverDialogs", "导入交接"))
        self.file_label.setText(translate("HandoverDialogs", "文件：") + Path(self.path).name)
        self.tree.setHeaderLabels([translate("HandoverDialogs", "买家"), translate("HandoverDialogs", "操作"),
                                   translate("HandoverDialogs", "说明")])
        self.cancel_button.setText(translate("HandoverDialogs", "取消") if self.result is None
                                   else translate("HandoverDialogs", "关闭"))
        self.import_button.setText(translate("HandoverDialogs", "导入"))
        if self.failed is not None:
            self._on_error(self.failed)
        elif self.plan is not None:
            self._fill(self.result or self.plan)

    def changeEvent(self, event) -> None:  # noqa: ANN001
        if event.type() == event.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _on_plan(self, plan: handover.ImportPlan) -> None:
        self.plan = plan
        self.progress.hide()
        self._fill(plan)
        self.import_button.setEnabled(plan.has_changes)

    def _fill(self, plan: handover.ImportPlan) -> None:
        when = from_db(plan.exported_at)
        stamp = when.astimezone().strftime("%Y-%m-%d %H:%M") if when else "-"
        self.source.setText(translate("HandoverDialogs", "来自 {agent} · 导出于 {when}")
                            .replace("{agent}", plan.source_agent or "-").replace("{when}", stamp))
        self.summary.setText(plan.summary("en" if i18n.is_english() else "zh"))
        self.tree.clear()
        rows = []
        for item in [i for i in plan.items if i.changed][:SHOW_AT_MOST]:
            action = translate("HandoverDialogs", ACTIONS.get(item.action, ACTIONS["update"]))
            row = QTreeWidgetItem([item.nickname, action, self._describe(item)])
            row.setToolTip(2, row.text(2))
            rows.append(row)
        self.tree.addTopLevelItems(rows)
        self.tree.setVisible(bool(rows))
        warnings = [i18n.pick(zh, en) for zh, en in plan.warnings]
        self.warnings.setText("\n".join(warnings))
        self.warnings.setVisible(bool(warnings))

    @staticmethod
    def _describe(item: handover.PlanItem) -> str:
        parts = []
        if item.chases_added:
            parts.append(translate("HandoverDialogs", "催单记录 +%n", None, item.chases_added))
        if item.reminders_added:
            parts.append(translate("HandoverDialogs", "提醒 +%n", None, item.reminders_added))
        if item.notes_merged:
            parts.append(translate("HandoverDialogs", "合并备注"))
        if item.marks_added:
            parts.append(translate("HandoverDialogs", "标记：") + "、".join(item.marks_added))
        if item.action == "update" and item.fields and not parts:
            parts.append(translate("HandoverDialogs", "更新 %n 项信息", None, len(item.fields)))
        return " · ".join(parts)

    def _on_error(self, exc: KnownError) -> None:
        self.failed = exc
        self.progress.hide()
        self.import_button.setEnabled(False)
        self.error.setText(_error_text(exc))
        self.error.show()
        self.tree.setVisible(self.plan is not None)

    def apply(self) -> None:
        plan = self.plan
        if plan is None:
            return
        self.import_button.setEnabled(False)
        self.progress.show()
        self.worker.submit(lambda store: handover.apply_import(store, plan), self._on_applied, self._on_error,
                           write=True)

    def _on_applied(self, done: handover.ImportPlan) -> None:
        self.result = done
        self.progress.hide()
        self._fill(done)
        self.cancel_button.setText(translate("HandoverDialogs", "关闭"))
        self.imported.emit(done)


# ================================================================ 交班给同事 (team mode)

@dataclass
class TeamHandoverInfo:
    me: str  # this agent's role; "" without a team server
    colleagues: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (role, display name): active, not me
    held: int = 0  # buyers this agent follows now (as last synced)


def team_mode(store: Store) -> bool:
    return bool(customers.team_role(store))


def load_team_handover(store: Store) -> TeamHandoverInfo:
    """The receivers to offer and how many buyers would move (team.agents is filled by each sync)."""
    me = customers.team_role(store)
    if not me:
        return TeamHandoverInfo("")
    colleagues = []
    for entry in settings.get(store, "team.agents") or []:
        try:
            role, name, active = entry[0], entry[1], entry[2]
        except (IndexError, KeyError, TypeError):  # a malformed entry must not hide the others
            continue
        if active and role and role != me:
            colleagues.append((str(role), str(name or role)))
    held = store.query("SELECT count(*) AS n FROM buyers WHERE holder = ? AND held_until > ?",
                       (me, to_db(store.clock.now())))[0]["n"]
    return TeamHandoverInfo(me, colleagues, int(held))


class TeamHandoverDialog(QDialog):
    """交班给同事: pick an active colleague or the shop's pool; 交班 runs reminders.hand_over_team on
    the worker (the live sync pushes the queued op at once)."""

    #: (buyers moved, receiver's role or None for the pool, receiver's display name or None)
    handed_over = Signal(int, object, object)

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TeamHandoverDialog")
        self.setStyleSheet(DIALOG_CSS)
        self.worker = worker
        self.info: TeamHandoverInfo | None = None
        self.setMinimumWidth(340)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        self.title = QLabel(objectName="SectionTitle")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.receivers = QListWidget(objectName="FileList")
        self.receivers.setMinimumHeight(120)
        # The selection, not the current item: focus makes the first row current without choosing it.
        self.receivers.itemSelectionChanged.connect(self._update_buttons)
        self.receivers.itemDoubleClicked.connect(lambda _item: self.hand_over())
        layout.addWidget(self.receivers, 1)
        self.held = QLabel(objectName="NoteLine")
        self.held.setWordWrap(True)
        layout.addWidget(self.held)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton(objectName="Primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.hand_over)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        self._busy = False
        self._retranslate()
        worker.submit(load_team_handover, self._on_info, self._on_error, key=f"team-handover-{id(self)}")

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("HandoverDialogs", "交班给同事"))
        self.title.setText(translate("HandoverDialogs", "把我跟进的买家和提醒交给："))
        self.cancel_button.setText(translate("HandoverDialogs", "取消"))
        self.ok_button.setText(translate("HandoverDialogs", "交班"))
        if self.info is not None:
            self._fill(self.info)
        else:
            self.held.setText(translate("HandoverDialogs", "正在读取…"))
        self._update_buttons()

    def changeEvent(self, event) -> None:  # noqa: ANN001
        if event.type() == event.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _on_info(self, info: TeamHandoverInfo) -> None:
        self.info = info
        self._fill(info)
        self._update_buttons()

    def _fill(self, info: TeamHandoverInfo) -> None:
        chosen = self.chosen()
        self.receivers.clear()
        for role, name in info.colleagues:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, role)
            item.setToolTip(role)
            self.receivers.addItem(item)
        pool = QListWidgetItem(translate("HandoverDialogs", "店铺待接池（任何同事可接）"))
        pool.setData(Qt.ItemDataRole.UserRole, None)
        self.receivers.addItem(pool)
        if chosen is not None:  # a language change keeps the choice
            for n in range(self.receivers.count()):
                if self.receivers.item(n).data(Qt.ItemDataRole.UserRole) == chosen[0]:
                    self.receivers.setCurrentRow(n)
        self.held.setText(translate("HandoverDialogs", "我现在跟进 %n 位买家，他们的提醒将转给接班人。", None,
                                    info.held))

    def chosen(self) -> tuple[str | None, str | None] | None:
        """(role or None for the pool, display name or None) of the selected receiver, or None."""
        selected = self.receivers.selectedItems()
        if not selected:
            return None
        item = selected[0]
        role = item.data(Qt.ItemDataRole.UserRole)
        return (role, item.text()) if role else (None, None)

    def choose(self, role: str | None) -> None:
        for n in range(self.receivers.count()):
            if self.receivers.item(n).data(Qt.ItemDataRole.UserRole) == role:
                self.receivers.setCurrentRow(n)
                return
        raise KeyError(role)

    def _update_buttons(self) -> None:
        self.ok_button.setEnabled(not self._busy and self.info is not None and self.chosen() is not None)

    def hand_over(self) -> None:
        chosen = self.chosen()
        if chosen is None or self._busy:
            return
        role, name = chosen
        self._busy = True
        self.error.hide()
        self._update_buttons()
        self.worker.submit(lambda store: reminders.hand_over_team(store, role, name),
                           lambda moved: self._on_done(moved, role, name), self._on_error, write=True)

    def _on_done(self, moved: int, role: str | None, name: str | None) -> None:
        self._busy = False
        self.handed_over.emit(moved, role, name)
        self.accept()

    def _on_error(self, exc: KnownError) -> None:
        self._busy = False
        self.error.setText(_error_text(exc))
        self.error.show()
        self._update_buttons()


# ================================================================ calculator

SHOP_LABELS = {"ka": ("HandoverDialogs", QT_TRANSLATE_NOOP("HandoverDialogs", "KA 重点店铺（约 ×45）")),
               "established": ("HandoverDialogs", QT_TRANSLATE_NOOP("HandoverDialogs", "成熟店铺（约 ×22）")),
               "ordinary": ("HandoverDialogs", QT_TRANSLATE_NOOP("HandoverDialogs", "普通店铺（约 ×15）"))}


def _money(value: float) -> str:
    return f"¥{value:,.2f}" if value < 1000 else f"¥{value:,.0f}"


class CalculatorDialog(QDialog):
    """销售额 = 询单人数 × 转化率 × 客单价; 大促排班 from daily inquiries, shop type and shops."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CalculatorDialog")
        self.setStyleSheet(DIALOG_CSS)
        self.setMinimumWidth(340)
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)

        sales_page = QWidget()
        form = QFormLayout(sales_page)
        self.inquiries = QSpinBox()
        self.inquiries.setRange(0, 10_000_000)
        self.inquiries.setValue(200)
        self.conversion = QLineEdit("20%")
        self.aov = QLineEdit("128")
        self.sales_labels = [QLabel(), QLabel(), QLabel()]
        form.addRow(self.sales_labels[0], self.inquiries)
        form.addRow(self.sales_labels[1], self.conversion)
        form.addRow(self.sales_labels[2], self.aov)
        self.sales_result, self.sales_sub, sales_card = self._result_card()
        form.addRow(sales_card)
        self.sales_formula = QLabel(objectName="Hint")
        self.sales_formula.setWordWrap(True)
        form.addRow(self.sales_formula)
        self.tabs.addTab(sales_page, "")

        staff_page = QWidget()
        sform = QFormLayout(staff_page)
        self.daily = QSpinBox()
        self.daily.setRange(0, 10_000_000)
        self.daily.setValue(300)
        self.shop_type = QComboBox()
        for code in kpi.SHOP_TYPES:
            self.shop_type.addItem("", code)
        self.shops = QSpinBox()
        self.shops.setRange(1, 10_000)
        self.shops.setValue(3)
        self.capacity = QSpinBox()
        self.capacity.setRange(0, 1_000_000)
        self.capacity.setSingleStep(100)
        self.staff_labels = [QLabel(), QLabel(), QLabel(), QLabel()]
        for label, field in zip(self.staff_labels, (self.daily, self.shop_type, self.shops, self.capacity),
                                strict=True):
            sform.addRow(label, field)
        self.staff_result, self.staff_sub, staff_card = self._result_card()
        sform.addRow(staff_card)
        self.notes = QLabel(objectName="NoteLine")
        self.notes.setWordWrap(True)
        sform.addRow(self.notes)
        self.tabs.addTab(staff_page, "")

        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        close = QHBoxLayout()
        close.addStretch(1)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.accept)
        close.addWidget(self.close_button)
        layout.addLayout(close)

        self.estimate: kpi.SalesEstimate | None = None
        self.plan: kpi.StaffingPlan | None = None
        for spin in (self.inquiries, self.daily, self.shops, self.capacity):
            spin.valueChanged.connect(self.compute)
        for edit in (self.conversion, self.aov):
            edit.textChanged.connect(self.compute)
        self.shop_type.currentIndexChanged.connect(self.compute)
        self.tabs.currentChanged.connect(self.compute)
        self._retranslate()

    @staticmethod
    def _result_card() -> tuple[QLabel, QLabel, QFrame]:
        card = QFrame(objectName="ResultCard")
        box = QVBoxLayout(card)
        box.setContentsMargins(12, 8, 12, 8)
        box.setSpacing(2)
        big = QLabel(objectName="ResultBig")
        sub = QLabel(objectName="ResultSub")
        sub.setWordWrap(True)
        box.addWidget(big)
        box.addWidget(sub)
        return big, sub, card

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("HandoverDialogs", "计算器"))
        self.tabs.setTabText(0, translate("HandoverDialogs", "销售额"))
        self.tabs.setTabText(1, translate("HandoverDialogs", "大促排班"))
        for label, text in zip(self.sales_labels, (translate("HandoverDialogs", "询单人数"),
                                                   translate("HandoverDialogs", "转化率"),
                                                   translate("HandoverDialogs", "客单价（元）")), strict=True):
            label.setText(text)
        self.conversion.setPlaceholderText(translate("HandoverDialogs", "如 20% 或 0.2"))
        self.sales_formula.setText(translate("HandoverDialogs", "销售额 = 询单人数 × 转化率 × 客单价"))
        for label, text in zip(self.staff_labels, (translate("HandoverDialogs", "平日日均询单（每店）"),
                                                   translate("HandoverDialogs", "店铺类型"),
                                                   translate("HandoverDialogs", "店铺数"),
                                                   translate("HandoverDialogs", "每人每天承接")), strict=True):
            label.setText(text)
        self.capacity.setSpecialValueText(translate("HandoverDialogs", "不限"))
        for n in range(self.shop_type.count()):
            self.shop_type.setItemText(n, translate(*SHOP_LABELS[self.shop_type.itemData(n)]))
        self.close_button.setText(translate("HandoverDialogs", "关闭"))
        self.compute()

    def changeEvent(self, event) -> None:  # noqa: ANN001
        if event.type() == event.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def compute(self) -> None:
        self.error.hide()
        try:
            rate = kpi.parse_rate(self.conversion.text() or "0")
            self.estimate = kpi.sales(self.inquiries.value(), rate, (self.aov.text() or "0").strip())
        except KnownError as exc:
            self.estimate = None
            self.sales_result.setText("—")
            self.sales_sub.setText("")
            if self.tabs.currentIndex() == 0:
                self.error.setText(_error_text(exc))
                self.error.show()
        else:
            e = self.estimate
            self.sales_result.setText(_money(e.sales))
            self.sales_sub.setText(translate("HandoverDialogs", "约 {orders} 单 · 转化率 {rate}")
                                   .replace("{orders}", f"{e.orders:,.1f}".rstrip("0").rstrip("."))
                                   .replace("{rate}", f"{e.conversion * 100:.1f}%".replace(".0%", "%")))
        capacity = self.capacity.value() or None
        plan = kpi.staffing(self.daily.value(), str(self.shop_type.currentData()), self.shops.value(),
                            agent_capacity=capacity)
        self.plan = plan
        self.staff_result.setText(translate("HandoverDialogs", "大促需 %n 人", None, plan.promo_agents))
        self.staff_sub.setText(
            translate("HandoverDialogs", "大促当天询单约 {total}（每店 {per}，平日的 {mult} 倍）· 平日 {normal} 人")
            .replace("{total}", f"{plan.promo_inquiries:,.0f}").replace("{per}", f"{plan.promo_inquiries_per_shop:,.0f}")
            .replace("{mult}", f"{plan.multiplier:g}").replace("{normal}", str(plan.normal_agents)))
        self.notes.setText("\n".join("• " + i18n.pick(zh, en) for zh, en in plan.notes))


# ================================================================ one log entry

class EntryDialog(QDialog):
    """Edit one of the agent's own work-log entries (kind and text)."""

    def __init__(self, entry_kind: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EntryDialog")
        self.setMinimumWidth(320)
        layout = QVBoxLayout(self)
        self.kind = QComboBox()
        for code in shifts.ENTRY_KINDS:
            self.kind.addItem("", code)
        self.kind.setCurrentIndex(max(0, self.kind.findData(entry_kind)))
        self.text = QPlainTextEdit(text)
        self.text.setTabChangesFocus(True)
        self.text.setFixedHeight(110)
        layout.addWidget(self.kind)
        layout.addWidget(self.text)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(objectName="Primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.text.textChanged.connect(lambda: self.save_button.setEnabled(bool(self.text.toPlainText().strip())))
        self._retranslate()

    def _retranslate(self) -> None:
        from .handover_tab import kind_name

        self.setWindowTitle(translate("HandoverDialogs", "编辑日志"))
        for n in range(self.kind.count()):
            self.kind.setItemText(n, kind_name(str(self.kind.itemData(n))))
        self.cancel_button.setText(translate("HandoverDialogs", "取消"))
        self.save_button.setText(translate("HandoverDialogs", "保存"))

    def _save(self) -> None:
        if self.text.toPlainText().strip():
            self.accept()

    def values(self) -> tuple[str, str]:
        return str(self.kind.currentData()), self.text.toPlainText().strip()

