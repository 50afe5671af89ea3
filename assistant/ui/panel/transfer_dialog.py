"""Import and export dialogs (Qianniu CSV/XLSX and our JSON, assistant.core.transfer).

Import shows the plan first — what will be added, replaced, skipped and why — and writes only when
the agent confirms; parsing, planning and writing run on the store worker with a progress bar.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import compliance, transfer
from ...errors import ImportBracesError, ImportFileError, KnownError
from ...services.worker import StoreWorker
from ..widgets import i18n
from . import queries

translate = QCoreApplication.translate

SHOW_AT_MOST = 2000


def _file_filter() -> str:
    return translate("Transfer", "回复文件 (*.csv *.xlsx *.json);;千牛 CSV (*.csv);;千牛 Excel (*.xlsx);;JSON (*.json)")


def _documents() -> str:
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())


class ImportDialog(QDialog):
    imported = Signal(object)  # transfer.ImportResult

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None, path: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ImportDialog")
        self.worker = worker
        self.path: str | None = None
        self.plan: transfer.ImportPlan | None = None
        self.result: transfer.ImportResult | None = None
        self.setWindowTitle(translate("Transfer", "导入回复"))
        self.resize(560, 520)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)

        row = QHBoxLayout()
        self.file_label = QLabel(translate("Transfer", "尚未选择文件"))
        self.file_label.setWordWrap(True)
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        choose = QPushButton(translate("Transfer", "选择文件…"))
        choose.clicked.connect(self.choose_file)
        row.addWidget(self.file_label, 1)
        row.addWidget(choose)
        layout.addLayout(row)
        hint = QLabel(translate("Transfer", "支持千牛导出的快捷短语（CSV / Excel）和本软件导出的 JSON。导入前会先列出将要新增、覆盖和跳过的回复。"),
                      objectName="Hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)

        self.replace_box = QCheckBox(translate("Transfer", "覆盖库中已有的同一条回复（按 ID 或短码匹配），而不是跳过"))
        self.replace_box.toggled.connect(self._replan)
        layout.addWidget(self.replace_box)
        # Offered once a Qianniu phrase turns out to hold braces that are no fill-in field.
        self.keep_braces_box = QCheckBox(translate("Transfer", "保留原样：不是填空字段的花括号（如 {8折}）按普通文字导入"))
        self.keep_braces_box.toggled.connect(self._replan)
        self.keep_braces_box.hide()
        layout.addWidget(self.keep_braces_box)

        self.summary = QLabel(objectName="SectionTitle")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.tabs = QTabWidget()
        self.lists: dict[str, QTreeWidget] = {}
        for key in ("add", "replace", "skip"):
            tree = QTreeWidget()
            tree.setRootIsDecorated(False)
            tree.setUniformRowHeights(True)
            tree.setAlternatingRowColors(True)
            tree.setHeaderLabels([translate("Transfer", "位置"), translate("Transfer", "标题"),
                                  translate("Transfer", "分组"), translate("Transfer", "说明")])
            tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
            self.lists[key] = tree
            self.tabs.addTab(tree, "")
        layout.addWidget(self.tabs, 1)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.progress = QProgressBar()
        self.progress.hide()
        layout.addWidget(self.progress)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(translate("Transfer", "取消"))
        self.cancel_button.clicked.connect(self.reject)
        self.import_button = QPushButton(translate("Transfer", "导入"), objectName="Primary")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.start_import)
        self.import_button.setDefault(True)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        self._update_tabs()
        if path:
            self.set_path(path)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, translate("Transfer", "选择要导入的文件"), _documents(),
                                              _file_filter())
        if path:
            self.set_path(path)
        elif self.path is None:
            self.reject()

    def set_path(self, path: str) -> None:
        self.path = path
        self.file_label.setText(path)
        self._replan()

    def _busy(self, busy: bool) -> None:
        self.import_button.setEnabled(not busy and self.plan is not None
                                      and bool(self.plan.to_add or self.plan.to_replace))
        self.replace_box.setEnabled(not busy)
        self.keep_braces_box.setEnabled(not busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _replan(self) -> None:
        if self.path is None:
            return
        path, replace, keep = self.path, self.replace_box.isChecked(), self.keep_braces_box.isChecked()
        self.plan = None
        self.error.hide()
        self._busy(True)
        self.worker.submit(lambda store, progress: transfer.plan_import(store, path, replace=replace,
                                                                        progress=progress, keep_braces=keep),
                           self._on_plan, self._on_error, key=f"import-plan-{id(self)}",
                           on_progress=self._on_progress)

    def _on_plan(self, plan: transfer.ImportPlan) -> None:
        self.plan = plan
        self._busy(False)
        self._fill(plan)

    def _on_error(self, exc: KnownError) -> None:
        self._busy(False)
        self.plan = None
        self._fill(None)
        text = i18n.pick(exc.zh, exc.en)
        if isinstance(exc, ImportFileError) and exc.row is not None and str(exc.row) not in text:
            text = translate("Transfer", "第 {row} 行：").replace("{row}", str(exc.row)) + text
        if isinstance(exc, ImportBracesError):
            self.keep_braces_box.show()
            text += "\n" + translate("Transfer", "如果这些花括号只是普通文字，请勾选上面的“保留原样”。")
        self.error.setText(text)
        self.error.show()
        self.import_button.setEnabled(False)

    def _fill(self, plan: transfer.ImportPlan | None) -> None:
        groups = {"add": plan.to_add if plan else [], "replace": plan.to_replace if plan else [],
                  "skip": plan.skipped if plan else []}
        for key, items in groups.items():
            tree = self.lists[key]
            tree.clear()
            rows = []
            for item in items[:SHOW_AT_MOST]:
                note = i18n.pick(item.reason_zh, item.reason_en)
                if item.warning_zh:
                    note = (note + " " if note else "") + i18n.pick(item.warning_zh, item.warning_en)
                if item.findings:  # imported all the same, and flagged in the list
                    note = (note + " " if note else "") + "⚠ " + i18n.pick(*compliance.summary(item.findings))
                row = QTreeWidgetItem([i18n.pick(item.where_zh, item.where_en), item.title, item.group_path, note])
                row.setToolTip(1, item.body[:400])
                row.setToolTip(3, note)
                rows.append(row)
            tree.addTopLevelItems(rows)
            if len(items) > SHOW_AT_MOST:
                tree.addTopLevelItem(QTreeWidgetItem(
                    ["", translate("Transfer", "…另有 %n 条未列出", None, len(items) - SHOW_AT_MOST), "", ""]))
            for col in (0, 2):
                tree.resizeColumnToContents(col)
        self._update_tabs()
        if plan is None:
            self.summary.setText("")
            return
        parts = [translate("Transfer", "文件中共 %n 条回复", None, plan.total),
                 translate("Transfer", "新增 %n 条", None, len(plan.to_add)),
                 translate("Transfer", "覆盖 %n 条", None, len(plan.to_replace)),
                 translate("Transfer", "跳过 %n 条", None, len(plan.skipped))]
        if plan.new_groups:
            parts.append(translate("Transfer", "新建分组 %n 个", None, len(plan.new_groups)))
        if plan.braces_escaped:
            parts.append(translate("Transfer", "%n 处花括号按原样保留", None, plan.braces_escaped))
        if plan.flagged:
            parts.append(translate("Transfer", "%n 条有合规提示（照常导入）", None, len(plan.flagged)))
        self.summary.setText("  ·  ".join(parts))
        count = len(plan.to_add) + len(plan.to_replace)
        import_n = translate("Transfer", "导入 %n 条", None, count)
        self.import_button.setText(import_n if count else translate("Transfer", "导入"))
        self.import_button.setEnabled(count > 0)
        if plan.skipped and not plan.to_add and not plan.to_replace:
            self.tabs.setCurrentIndex(2)

    def _update_tabs(self) -> None:
        plan = self.plan
        counts = (len(plan.to_add), len(plan.to_replace), len(plan.skipped)) if plan else (0, 0, 0)
        for n, (label, count) in enumerate(zip((translate("Transfer", "新增"), translate("Transfer", "覆盖"),
                                                translate("Transfer", "跳过")), counts, strict=True)):
            self.tabs.setTabText(n, f"{label} ({count})")

    def start_import(self) -> None:
        if self.path is None or self.plan is None:
            return
        path, replace, keep = self.path, self.replace_box.isChecked(), self.keep_braces_box.isChecked()
        self._busy(True)
        self.import_button.setEnabled(False)
        self.worker.submit(lambda store, progress: transfer.import_file(store, path, replace=replace,
                                                                        progress=progress, keep_braces=keep),
                           self._on_imported, self._on_error, write=True, on_progress=self._on_progress)

    def _on_imported(self, result: transfer.ImportResult) -> None:
        self._busy(False)
        self.result = result
        self.imported.emit(result)
        parent = self.parent()
        text = (translate("Transfer", "导入完成：新增 {added} 条，覆盖 {replaced} 条，跳过 {skipped} 条")
                .replace("{added}", str(result.added)).replace("{replaced}", str(result.replaced))
                .replace("{skipped}", str(result.skipped)))
        if result.braces_escaped:
            text += translate("Transfer", "；%n 处花括号按原样保留", None, result.braces_escaped)
        if result.flagged:
            text += translate("Transfer", "；%n 条有合规提示，已在列表中标出", None, len(result.flagged))
        if parent is not None and hasattr(parent, "show_message"):
            parent.show_message(text, None, "success")
        self.accept()


class ExportDialog(QDialog):
    exported = Signal(str, int)

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ExportDialog")
        self.worker = worker
        self.setWindowTitle(translate("Transfer", "导出回复"))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.scope = QComboBox()
        self.scope.addItem(translate("Transfer", "全部回复"), None)
        self.format = QComboBox()
        for ext, label in (("csv", translate("Transfer", "千牛快捷短语 CSV (.csv)")),
                           ("xlsx", translate("Transfer", "千牛快捷短语 Excel (.xlsx)")),
                           ("json", translate("Transfer", "完整备份 JSON（含快捷键、使用次数）(.json)"))):
            self.format.addItem(label, ext)
        self.format.currentIndexChanged.connect(self._format_changed)
        path_row = QHBoxLayout()
        stamp = datetime.date.today().strftime("%Y%m%d")
        self.path = QLineEdit(str(Path(_documents()) / f"kefu-replies-{stamp}.csv"))
        browse = QPushButton(translate("Transfer", "浏览…"))
        browse.clicked.connect(self._browse)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form.addRow(translate("Transfer", "范围"), self.scope)
        form.addRow(translate("Transfer", "格式"), self.format)
        form.addRow(translate("Transfer", "保存到"), path_row)
        layout.addLayout(form)
        self.progress = QProgressBar()
        self.progress.hide()
        layout.addWidget(self.progress)
        self.status = QLabel(objectName="Hint")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.open_folder = QPushButton(translate("Transfer", "打开所在文件夹"))
        self.open_folder.hide()
        self.open_folder.clicked.connect(self._open_folder)
        buttons.addWidget(self.open_folder)
        buttons.addStretch(1)
        self.close_button = QPushButton(translate("Transfer", "关闭"))
        self.close_button.clicked.connect(self.reject)
        self.export_button = QPushButton(translate("Transfer", "导出"), objectName="Primary")
        self.export_button.clicked.connect(self.start_export)
        self.export_button.setDefault(True)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        worker.submit(queries.library, self._on_library)

    def _on_library(self, library: queries.Library) -> None:
        for g in library.groups:
            self.scope.addItem(("    " if g.parent_id else "") + g.name + f"  ({g.count})", g.id)

    def _format_changed(self) -> None:
        ext = self.format.currentData()
        path = Path(self.path.text() or "kefu-replies.csv")
        self.path.setText(str(path.with_suffix("." + ext)))

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, translate("Transfer", "导出到"), self.path.text(), _file_filter())
        if path:
            self.path.setText(path)
            index = self.format.findData(Path(path).suffix.lstrip(".").lower())
            if index >= 0:
                self.format.blockSignals(True)
                self.format.setCurrentIndex(index)
                self.format.blockSignals(False)

    def start_export(self) -> None:
        text = self.path.text().strip()
        if not text:
            self.status.setText(translate("Transfer", "请选择保存位置"))
            return
        path = Path(text).expanduser()
        if path.suffix.lower() not in transfer.EXTENSIONS:
            path = path.with_suffix("." + self.format.currentData())
            self.path.setText(str(path))
        group = self.scope.currentData()
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.worker.submit(lambda store, progress: transfer.export_file(store, path, group=group, progress=progress),
                           lambda n: self._on_done(str(path), n), self._on_error, on_progress=self._on_progress)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _on_done(self, path: str, count: int) -> None:
        self.progress.hide()
        self.export_button.setEnabled(True)
        done = translate("Transfer", "已导出 %n 条回复到：", None, count)
        self.status.setText(done + path)
        self.open_folder.show()
        self.exported.emit(path, count)

    def _on_error(self, exc: KnownError) -> None:
        self.progress.hide()
        self.export_button.setEnabled(True)
        self.status.setText(i18n.pick(exc.zh, exc.en))

    def _open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.path.text()).parent)))
