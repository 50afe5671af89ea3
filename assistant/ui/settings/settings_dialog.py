"""The settings dialog, generated from assistant.core.settings.DECLARED: one editor per declared
setting (by its type), grouped into pages by name; a new declared setting appears without UI code.
Values are read from and written to the store on the worker; a ValidationError is shown beside the
setting it names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QSize, Qt, QUrl, Signal
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
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import hotkeys, settings
from ...errors import KnownError, ValidationError
from ...services.worker import StoreWorker
from ..panel import queries
from ..widgets import i18n, icons
from ..widgets.widgets import HotkeyEdit

translate = QCoreApplication.translate

# ui.geometry: saved by the panel itself; team.*: set only by connecting (the 团队 page, or `kefu team
# connect`), together with the password in the OS keyring (an edit here would leave the two out of step).
HIDDEN = {"ui.geometry", "team.server", "team.role", "team.kind", "team.agents"}
PAGES = (  # (key, icon, label context/source)
    ("general", "settings", QT_TRANSLATE_NOOP("Settings", "常规")),
    ("window", "dock-right", QT_TRANSLATE_NOOP("Settings", "窗口")),
    ("hotkeys", "keyboard", QT_TRANSLATE_NOOP("Settings", "快捷键")),
    ("paste", "paste", QT_TRANSLATE_NOOP("Settings", "粘贴")),
    ("reminders", "bell", QT_TRANSLATE_NOOP("Settings", "提醒")),
    ("data", "folder", QT_TRANSLATE_NOOP("Settings", "数据与备份")),
    ("team", "users", QT_TRANSLATE_NOOP("Settings", "团队")),
    ("other", "list", QT_TRANSLATE_NOOP("Settings", "其他")),
)
PAGE_BY_NAME = {"ui.language": "general", "agent.name": "general"}
PAGE_BY_PREFIX = {"ui": "window", "hotkeys": "hotkeys", "paste": "paste", "backup": "data", "agent": "general",
                  "reminders": "reminders", "orders": "reminders"}

CHOICE_LABELS: dict[tuple[str, str], str] = {
    ("ui.language", "zh_CN"): QT_TRANSLATE_NOOP("Settings", "简体中文"),
    ("ui.language", "en"): QT_TRANSLATE_NOOP("Settings", "English（英语）"),
    ("ui.dock", "right"): QT_TRANSLATE_NOOP("Settings", "停靠在屏幕右侧"),
    ("ui.dock", "left"): QT_TRANSLATE_NOOP("Settings", "停靠在屏幕左侧"),
    ("ui.dock", "attach"): QT_TRANSLATE_NOOP("Settings", "跟随聊天窗口（贴在它旁边）"),
    ("ui.dock", "free"): QT_TRANSLATE_NOOP("Settings", "自由摆放（记住位置）"),
    ("paste.chord", "ctrl+v"): QT_TRANSLATE_NOOP("Settings", "Ctrl+V（大多数程序）"),
    ("paste.chord", "shift+insert"): QT_TRANSLATE_NOOP("Settings", "Shift+Insert（终端、部分旧程序）"),
    ("paste.chord", "type"): QT_TRANSLATE_NOOP("Settings", "逐字输入（不经剪贴板）"),
    ("reminders.on_reply", "restart"): QT_TRANSLATE_NOOP("Settings", "从头开始催单节奏"),
    ("reminders.on_reply", "keep"): QT_TRANSLATE_NOOP("Settings", "保持原来的节奏"),
    ("reminders.after_in_chat", "revisit"): QT_TRANSLATE_NOOP("Settings", "转入空窗回访"),
    ("reminders.after_in_chat", "stop"): QT_TRANSLATE_NOOP("Settings", "停止催单"),
    ("reminders.default_cadence", "auto"): QT_TRANSLATE_NOOP("Settings", "自动（按客单价选择）"),
    ("reminders.default_cadence", "in_chat"): QT_TRANSLATE_NOOP("Settings", "会话中（3/5/7/9 分钟）"),
    ("reminders.default_cadence", "revisit"): QT_TRANSLATE_NOOP("Settings", "回访（10/20/30 分钟）"),
    ("reminders.default_cadence", "high_ticket"): QT_TRANSLATE_NOOP("Settings", "高客单（多日跟进）"),
    ("reminders.default_cadence", "low_ticket"): QT_TRANSLATE_NOOP("Settings", "低客单（当次跟进）"),
}


def page_of(name: str) -> str:
    return PAGE_BY_NAME.get(name) or PAGE_BY_PREFIX.get(name.split(".")[0], "other")


class _Editor:
    """One setting's editor: widget, get(), set(value), and where its error is shown."""

    def __init__(self, setting: settings.Setting, widget: QWidget, get: Callable[[], Any],
                 put: Callable[[Any], None]) -> None:
        self.setting = setting
        self.widget = widget
        self.get = get
        self.set = put
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()


class ActionHotkeys(QWidget):
    """The global actions' hotkeys, with conflicts shown as they are recorded."""

    changed = Signal()
    capture_active = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.edits: dict[str, HotkeyEdit] = {}
        self.notes: dict[str, QLabel] = {}
        self.reply_hotkeys: dict[str, str] = {}
        for action, (_default, zh, en) in settings.ACTIONS.items():
            edit = HotkeyEdit()
            edit.hotkey_changed.connect(self._check)
            edit.capturing_changed.connect(self.capture_active)
            note = QLabel(objectName="FieldError")
            note.hide()
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(edit)
            box.addWidget(note)
            layout.addRow(i18n.pick(zh, en), box)
            self.edits[action] = edit
            self.notes[action] = note

    def value(self) -> dict[str, str]:
        return {action: edit.hotkey() for action, edit in self.edits.items()}

    def set_value(self, value: dict[str, str] | None) -> None:
        for action, edit in self.edits.items():
            edit.blockSignals(True)
            edit.set_hotkey((value or {}).get(action, ""))
            edit.blockSignals(False)
        self._check()

    def _check(self, *_: object) -> None:
        seen: dict[str, str] = {}
        for action, edit in self.edits.items():
            note = self.notes[action]
            key = edit.hotkey()
            problem = ""
            if key:
                try:
                    key = hotkeys.normalize(key)
                except ValidationError as exc:
                    problem = i18n.pick(exc.zh, exc.en)
                else:
                    if key in seen:
                        other = settings.ACTIONS[seen[key]]
                        problem = translate("Settings", "与“{action}”重复").replace(
                            "{action}", i18n.pick(other[1], other[2]))
                    elif key in self.reply_hotkeys:
                        title = self.reply_hotkeys[key]
                        problem = translate("Settings", "已被回复“{title}”使用").replace("{title}", title)
                    seen.setdefault(key, action)
            note.setText(problem)
            note.setVisible(bool(problem))
        self.changed.emit()

    def problems(self) -> list[str]:
        return [n.text() for n in self.notes.values() if not n.isHidden()]


class AppRules(QWidget):
    """paste.app_rules as a table: which paste method (and delay) for which program."""

    COLUMNS = ("name", "process", "class", "title", "method", "restore_delay_ms")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([
            translate("Settings", "名称"), translate("Settings", "程序名"), translate("Settings", "窗口类"),
            translate("Settings", "标题"), translate("Settings", "粘贴方式"), translate("Settings", "延迟(毫秒)")])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for col in (4, 5):  # method, delay
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(120)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        add = QPushButton(translate("Settings", "添加规则"))
        add.clicked.connect(lambda: self.add_rule({}))
        remove = QPushButton(translate("Settings", "删除所选"))
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        hint = QLabel(translate("Settings", "程序名/窗口类/标题为正则表达式，不区分大小写；留空的粘贴方式和延迟用上面的默认值。"),
                      objectName="Hint")
        hint.setWordWrap(True)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(hint)

    def add_rule(self, rule: dict[str, Any]) -> None:
        n = self.table.rowCount()
        self.table.insertRow(n)
        for col, key in enumerate(self.COLUMNS):
            if key == "method":
                combo = QComboBox()
                combo.addItem(translate("Settings", "默认"), "")
                for choice in settings.BY_NAME["paste.chord"].choices:
                    combo.addItem(choice, choice)
                combo.setCurrentIndex(max(0, combo.findData(str(rule.get("method") or rule.get("chord") or ""))))
                self.table.setCellWidget(n, col, combo)
            else:
                value = rule.get(key)
                self.table.setItem(n, col, QTableWidgetItem("" if value is None else str(value)))

    def value(self) -> list[dict[str, Any]]:
        rules = []
        for n in range(self.table.rowCount()):
            rule: dict[str, Any] = {}
            for col, key in enumerate(self.COLUMNS):
                if key == "method":
                    method = self.table.cellWidget(n, col).currentData()
                    if method:
                        rule["method"] = method
                    continue
                item = self.table.item(n, col)
                text = item.text().strip() if item is not None else ""
                if text:
                    rule[key] = int(text) if key == "restore_delay_ms" and text.isdigit() else text
            if any(rule.get(k) for k in ("process", "class", "title")) or rule.get("name"):
                rules.append(rule)
        return rules

    def set_value(self, value: Any) -> None:
        self.table.setRowCount(0)
        for rule in value if isinstance(value, list) else []:
            if isinstance(rule, dict):
                self.add_rule(rule)

    def problem(self) -> str:
        for n, rule in enumerate(self.value(), 1):
            name = rule.get("name") or f"#{n}"
            if not any(rule.get(k) for k in ("process", "class", "title")):
                return translate("Settings", "规则“{name}”需要填写程序名、窗口类或标题中的至少一项").replace("{name}", name)
            for key in ("process", "class", "title"):
                try:
                    re.compile(str(rule.get(key) or ""))
                except re.error as exc:
                    return translate("Settings", "规则“{name}”的表达式无效：{error}").replace("{name}", name).replace(
                        "{error}", str(exc))
            delay = rule.get("restore_delay_ms")
            if delay is not None and not isinstance(delay, int):
                return translate("Settings", "规则“{name}”的延迟应为整数").replace("{name}", name)
        return ""


class SettingsDialog(QDialog):
    saved = Signal(dict)  # every declared setting after saving
    edit_reply = Signal(int)
    capture_active = Signal(bool)

    def __init__(self, worker: StoreWorker, config: dict[str, Any], parent: QWidget | None = None, *,
                 data_dir: Path | None = None,
                 window_lister: Callable[[], list[tuple[str, str]]] | None = None,
                 team: Any = None) -> None:
        """team: the panel's TeamLink (ui/team/link.py); without one the 团队 page is hidden."""
        super().__init__(parent)
        self.setObjectName("SettingsDialog")
        self.worker = worker
        self.data_dir = data_dir
        self.window_lister = window_lister
        self.loaded: dict[str, Any] = dict(config)
        self.editors: dict[str, _Editor] = {}
        self.setWindowTitle(translate("Settings", "设置"))
        self.resize(640, 540)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        body = QHBoxLayout()
        self.nav = QListWidget(objectName="SettingsNav")
        self.nav.setFixedWidth(140)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # English labels fit
        self.nav.setIconSize(QSize(16, 16))
        self.stack = QStackedWidget()
        self.page_index: dict[str, int] = {}
        self.forms: dict[str, QFormLayout] = {}
        self.page_layouts: dict[str, QVBoxLayout] = {}
        for key, icon_name, label in PAGES:
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(4, 0, 8, 0)
            form = QFormLayout()
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            form.setVerticalSpacing(10)
            page_layout.addLayout(form)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(page)
            self.page_index[key] = self.stack.addWidget(scroll)
            self.forms[key] = form
            self.page_layouts[key] = page_layout
            item = QListWidgetItem(icons.icon(icon_name), translate("Settings", label))
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        # wide enough for the longest page name in the UI's language (English "Data & backups")
        self.nav.setFixedWidth(max(140, self.nav.sizeHintForColumn(0) + 2 * self.nav.frameWidth() + 12))
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)

        for setting in settings.DECLARED:
            if setting.name not in HIDDEN:
                self._add_editor(setting)
        self._add_extras()
        self.team_page = None
        if team is not None:
            from .team_page import TeamPage

            self.team_page = TeamPage(team, worker)
            self.page_layouts["team"].addWidget(self.team_page)
        for key, layout in self.page_layouts.items():
            layout.addStretch(1)
            if self.forms[key].rowCount() == 0 and (key == "other" or (key == "team" and team is None)):
                self.nav.item(self.page_index[key]).setHidden(True)

        self.general_error = QLabel(objectName="FieldError")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        outer.addWidget(self.general_error)
        buttons = QHBoxLayout()
        self.defaults_button = QPushButton(translate("Settings", "恢复默认设置"))
        self.defaults_button.setToolTip(translate("Settings", "把所有设置改回默认值（点“保存”后生效）"))
        self.defaults_button.clicked.connect(self.restore_defaults)
        self.cancel_button = QPushButton(translate("Settings", "取消"))
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(translate("Settings", "保存"), objectName="Primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.defaults_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        self.nav.setCurrentRow(0)
        self.set_values(self.loaded)
        self.save_button.setEnabled(False)
        worker.submit(self._load, self._on_loaded, self._on_error)

    # ------------------------------------------------------------ building

    def _label(self, setting: settings.Setting) -> str:
        return i18n.pick(setting.zh, setting.en)

    def _add_editor(self, s: settings.Setting) -> None:
        widget: QWidget
        if s.type == "bool":
            box = QCheckBox(self._label(s))
            editor = _Editor(s, box, box.isChecked, lambda v, b=box: b.setChecked(bool(v)))
            label = ""
        elif s.type == "int":
            spin = QSpinBox()
            spin.setRange(s.minimum if s.minimum is not None else -10**9, s.maximum if s.maximum is not None else 10**9)
            spin.setMaximumWidth(140)
            editor = _Editor(s, spin, spin.value, lambda v, w=spin: w.setValue(int(v)))
            label = self._label(s)
        elif s.type == "choice":
            combo = QComboBox()
            for choice in s.choices:
                label_src = CHOICE_LABELS.get((s.name, choice))
                combo.addItem(translate("Settings", label_src) if label_src else choice, choice)
            editor = _Editor(s, combo, combo.currentData,
                             lambda v, c=combo: c.setCurrentIndex(max(0, c.findData(v))))
            label = self._label(s)
        elif s.type == "hotkey":
            edit = HotkeyEdit()
            edit.capturing_changed.connect(self.capture_active)
            editor = _Editor(s, edit, edit.hotkey, lambda v, e=edit: e.set_hotkey(v or ""))
            label = self._label(s)
        elif s.name == "hotkeys.actions":
            actions = ActionHotkeys()
            actions.capture_active.connect(self.capture_active)
            editor = _Editor(s, actions, actions.value, actions.set_value)
            label = self._label(s)
        elif s.name == "paste.app_rules":
            rules = AppRules()
            editor = _Editor(s, rules, rules.value, rules.set_value)
            label = self._label(s)
        elif s.type == "json" and isinstance(s.default, list) and all(isinstance(v, int) for v in s.default) \
                and s.default:
            numbers = QLineEdit()
            numbers.setPlaceholderText(", ".join(str(v) for v in s.default))

            def get_numbers(w: QLineEdit = numbers) -> Any:
                parts = [p for p in re.split(r"[,，\s]+", w.text().strip()) if p]
                return [int(p) for p in parts] if all(p.isdigit() for p in parts) else w.text()

            editor = _Editor(s, numbers, get_numbers,
                             lambda v, w=numbers: w.setText(", ".join(str(x) for x in v) if isinstance(v, list) else str(v)))
            label = self._label(s)
        elif s.type == "json" and isinstance(s.default, list) and s.default \
                and all(isinstance(v, str) for v in s.default):
            # a list of words (邀评 groups): one line, apart by commas or spaces, not JSON
            words = QLineEdit()
            words.setPlaceholderText(translate("Settings", "多个词用逗号隔开"))

            def get_words(w: QLineEdit = words) -> Any:
                return [p for p in re.split(r"[,，、\s]+", w.text().strip()) if p]

            editor = _Editor(s, words, get_words,
                             lambda v, w=words: w.setText("，".join(str(x) for x in v) if isinstance(v, list) else str(v)))
            label = self._label(s)
        elif s.name == "search.synonyms":
            # one group per line, words apart by spaces, / or 、: what a shop manager can type
            groups = QPlainTextEdit()
            groups.setMaximumHeight(120)
            groups.setPlaceholderText(translate("Settings", "每行一组意思相同的词，用空格隔开，例如：\n退钱 钱退 返款\n亲子装 家庭装"))

            def get_groups(t: QPlainTextEdit = groups) -> Any:
                lines = [line for line in t.toPlainText().splitlines() if line.strip()]
                return [[w for w in re.split(r"[\s/、，,]+", line.strip()) if w] for line in lines]

            editor = _Editor(s, groups, get_groups,
                             lambda v, t=groups: t.setPlainText("\n".join(" ".join(g) for g in v or [])))
            label = self._label(s)
        elif s.type == "json":
            text = QPlainTextEdit()
            text.setMaximumHeight(90)
            def get_json(t: QPlainTextEdit = text) -> Any:
                try:
                    return json.loads(t.toPlainText() or "null")
                except ValueError:
                    return t.toPlainText()

            editor = _Editor(s, text, get_json,
                             lambda v, t=text: t.setPlainText(json.dumps(v, ensure_ascii=False, indent=1)))
            label = self._label(s)
        else:
            line = QLineEdit()
            editor = _Editor(s, line, lambda w=line: w.text().strip(), lambda v, w=line: w.setText(str(v or "")))
            label = self._label(s)
            if s.name == "backup.dir":
                widget = self._with_button(line, translate("Settings", "选择…"), lambda: self._choose_dir(line))
                editor.widget = widget
            elif s.name == "ui.attach_pattern":
                line.setPlaceholderText(translate("Settings", "如 千牛、AliWorkBench、京麦"))
                widget = self._with_button(line, translate("Settings", "从打开的窗口中选…"),
                                           lambda: self._choose_window(line))
                editor.widget = widget
        container = QWidget()
        box = QVBoxLayout(container)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(editor.widget)
        box.addWidget(editor.error)
        self.forms[page_of(s.name)].addRow(label, container)
        self.editors[s.name] = editor

    @staticmethod
    def _with_button(line: QLineEdit, text: str, slot: Callable[[], None]) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(line, 1)
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
        return holder

    def _add_extras(self) -> None:
        # Data folder: where everything lives (set with --data-dir or KEFU_HOME, so shown, not edited).
        folder = QLabel(str(self.data_dir) if self.data_dir else "—")
        folder.setWordWrap(True)
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_button = QPushButton(translate("Settings", "打开文件夹"))
        open_button.setEnabled(self.data_dir is not None)
        open_button.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_dir))))
        holder = QWidget()
        col = QVBoxLayout(holder)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(folder)
        hint = QLabel(translate("Settings", "更换数据文件夹：用 --data-dir 参数或 KEFU_HOME 环境变量启动。请勿放在网盘同步文件夹中。"),
                      objectName="Hint")
        hint.setWordWrap(True)
        col.addWidget(hint)
        col.addWidget(open_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.forms["data"].insertRow(0, translate("Settings", "数据文件夹"), holder)

        # Per-reply hotkeys: listed here, edited in the reply editor.
        self.reply_table = QTableWidget(0, 2)
        self.reply_table.setHorizontalHeaderLabels([translate("Settings", "快捷键"), translate("Settings", "回复")])
        self.reply_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.reply_table.verticalHeader().hide()
        self.reply_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.reply_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.reply_table.setMinimumHeight(120)
        self.reply_table.cellDoubleClicked.connect(self._edit_reply_row)
        self.reply_empty = QLabel(translate("Settings", "还没有回复设置快捷键。在回复编辑器的“快捷键”一栏按下组合键即可设置。"),
                                  objectName="Hint")
        self.reply_empty.setWordWrap(True)
        holder = QWidget()
        col = QVBoxLayout(holder)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.reply_table)
        col.addWidget(self.reply_empty)
        hint = QLabel(translate("Settings", "双击一行可编辑该回复。"), objectName="Hint")
        col.addWidget(hint)
        self.forms["hotkeys"].addRow(translate("Settings", "回复快捷键"), holder)

    def _choose_dir(self, line: QLineEdit) -> None:
        path = QFileDialog.getExistingDirectory(self, translate("Settings", "选择备份文件夹"), line.text())
        if path:
            line.setText(path)

    def _choose_window(self, line: QLineEdit) -> None:
        windows: list[tuple[str, str]] = []
        if self.window_lister is not None:
            try:
                windows = self.window_lister()
            except Exception:  # noqa: BLE001 - listing other programs' windows may fail
                windows = []
        menu = QMenu(self)
        if not windows:
            action = menu.addAction(translate("Settings", "（无法列出窗口：请直接输入标题中的文字）"))
            action.setEnabled(False)
        for title, wm_class in windows[:40]:
            text = title if len(title) <= 60 else title[:57] + "…"
            action = menu.addAction(f"{text}   [{wm_class}]" if wm_class else text)
            pattern = wm_class.split(" ")[-1] if wm_class else title
            action.triggered.connect(lambda _=False, p=pattern: line.setText(p))
        menu.exec(line.mapToGlobal(line.rect().bottomLeft()))

    # ------------------------------------------------------------ values

    @staticmethod
    def _load(store) -> tuple[dict[str, Any], list[tuple[int, str, str]]]:  # noqa: ANN001 - worker thread
        return settings.get_all(store), queries.replies_with_hotkeys(store)

    def _on_loaded(self, data: tuple[dict[str, Any], list[tuple[int, str, str]]]) -> None:
        values, reply_keys = data
        self.loaded = dict(values)
        self.set_values(values)
        self.reply_table.setRowCount(len(reply_keys))
        for n, (rid, title, key) in enumerate(reply_keys):
            key_item = QTableWidgetItem(key)
            key_item.setData(Qt.ItemDataRole.UserRole, rid)
            self.reply_table.setItem(n, 0, key_item)
            self.reply_table.setItem(n, 1, QTableWidgetItem(title))
        self.reply_table.resizeColumnToContents(0)
        self.reply_table.setVisible(bool(reply_keys))
        self.reply_empty.setVisible(not reply_keys)
        actions = self.editors.get("hotkeys.actions")
        if actions is not None and isinstance(actions.widget, ActionHotkeys):
            actions.widget.reply_hotkeys = {key: title for _rid, title, key in reply_keys}
            actions.widget._check()
        self.save_button.setEnabled(True)

    def _edit_reply_row(self, row: int, _col: int) -> None:
        item = self.reply_table.item(row, 0)
        if item is not None:
            self.edit_reply.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def set_values(self, values: dict[str, Any]) -> None:
        for name, editor in self.editors.items():
            if name in values:
                editor.set(values[name])

    def values(self) -> dict[str, Any]:
        return {name: editor.get() for name, editor in self.editors.items()}

    def restore_defaults(self) -> None:
        self.set_values({s.name: s.default for s in settings.DECLARED})

    def clear_errors(self) -> None:
        self.general_error.hide()
        for editor in self.editors.values():
            editor.error.hide()

    def show_error(self, name: str | None, zh: str, en: str) -> None:
        editor = self.editors.get(name or "")
        text = i18n.pick(zh, en)
        if editor is None:
            self.general_error.setText(text)
            self.general_error.show()
            return
        editor.error.setText(text)
        editor.error.show()
        self.nav.setCurrentRow(self.page_index[page_of(editor.setting.name)])

    def show_page(self, key: str) -> None:
        """Open a page by its key (PAGES), e.g. "team"."""
        self.nav.setCurrentRow(self.page_index[key])

    def error_text(self, name: str) -> str:
        editor = self.editors.get(name)
        return editor.error.text() if editor is not None and not editor.error.isHidden() else ""

    def save(self) -> None:
        self.clear_errors()
        rules = self.editors.get("paste.app_rules")
        if rules is not None and isinstance(rules.widget, AppRules) and rules.widget.problem():
            problem = rules.widget.problem()
            self.show_error("paste.app_rules", problem, problem)
            return
        new = self.values()
        changes = {name: value for name, value in new.items() if value != self.loaded.get(name)}
        defaults = {s.name: s.default for s in settings.DECLARED}

        def write(store) -> dict[str, Any]:  # noqa: ANN001 - worker thread
            with store.write():
                for name, value in changes.items():
                    if value == defaults.get(name):
                        settings.reset(store, [name])
                    else:
                        settings.set(store, name, value)
            return settings.get_all(store)

        self.save_button.setEnabled(False)
        self.worker.submit(write, self._on_saved, self._on_error, write=True)

    def _on_saved(self, values: dict[str, Any]) -> None:
        self.save_button.setEnabled(True)
        self.loaded = dict(values)
        self.saved.emit(values)
        self.accept()

    def _on_error(self, exc: KnownError) -> None:
        self.save_button.setEnabled(True)
        field = exc.field if isinstance(exc, ValidationError) else None
        self.show_error(field, exc.zh, exc.en)
