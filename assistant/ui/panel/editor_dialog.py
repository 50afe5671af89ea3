"""Reply editor: new / edit / duplicate / delete. Validation is the core's (ValidationError names the
field); its message is shown in Chinese (or English) right under that field. The hotkey is checked
against other replies and the global actions while it is being recorded."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ...core import compliance, replies, templates
from ...errors import KnownError, ValidationError
from ...services.worker import StoreWorker
from ..widgets import i18n, icons, style
from ..widgets.widgets import FieldHighlighter, HotkeyEdit
from . import queries
from .queries import ReplyRow

translate = QCoreApplication.translate

PLATFORMS = (("taobao", QT_TRANSLATE_NOOP("Editor", "淘宝/天猫")), ("jd", QT_TRANSLATE_NOOP("Editor", "京东")),
             ("pdd", QT_TRANSLATE_NOOP("Editor", "拼多多")), ("douyin", QT_TRANSLATE_NOOP("Editor", "抖音")),
             ("aliexpress", QT_TRANSLATE_NOOP("Editor", "速卖通")), ("amazon", QT_TRANSLATE_NOOP("Editor", "亚马逊")))
LANGUAGES = (("zh", QT_TRANSLATE_NOOP("Editor", "中文")), ("en", QT_TRANSLATE_NOOP("Editor", "英语")),
             ("ru", QT_TRANSLATE_NOOP("Editor", "俄语")), ("es", QT_TRANSLATE_NOOP("Editor", "西班牙语")))
ANGLE_LABELS = {"product": QT_TRANSLATE_NOOP("Editor", "商品卖点"), "price": QT_TRANSLATE_NOOP("Editor", "价格优惠"),
                "logistics": QT_TRANSLATE_NOOP("Editor", "物流时效"), "gift": QT_TRANSLATE_NOOP("Editor", "赠品福利"),
                "ask": QT_TRANSLATE_NOOP("Editor", "询问顾虑")}
# Where the core's ValidationError.field lands in this form.
FIELD_ALIASES = {"name": "group", "parent": "group"}


class EditorDialog(QDialog):
    saved = Signal(object)  # ReplyRow
    copied = Signal(object)  # ReplyRow: the personal copy of a shop reply ("复制到我的话术")
    delete_requested = Signal(int)
    capture_active = Signal(bool)

    def __init__(self, worker: StoreWorker, reply_id: int | None, parent: QWidget | None = None, *,
                 duplicate: bool = False, body: str = "", group: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EditorDialog")
        self.worker = worker
        self.reply_id = reply_id
        self._duplicate = duplicate
        self._extra_platforms: list[str] = []
        self._hotkey_conflict: tuple[str, str] | None = None
        self._loaded = False
        # Team mode: a shop reply opened by an agent is read-only but for its (local) hotkey.
        self._shop: str | None = None
        self._row: ReplyRow | None = None
        self._team_kind = ""
        self.locked = False
        # Compliance: the rules come with the load (worker thread); the text is checked here as it is
        # typed (a pure function, well under a millisecond) and again by the core when it is saved.
        self._rules: compliance.RuleSet | None = None
        self.findings: list[compliance.Finding] = []
        self._check_timer = QTimer(self, singleShot=True, interval=200)
        self._check_timer.timeout.connect(self.check_compliance)
        self.setMinimumWidth(480)
        self.resize(520, 640)
        self._build()
        self.body.setPlainText(body)
        if group:
            self.group.setEditText(group)
        self._retranslate()
        self._set_busy(True)
        self.worker.submit(self._load, self._on_loaded, self._on_load_error)

    # ------------------------------------------------------------ layout

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(4)
        self.general_error = QLabel(objectName="FieldError")
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addWidget(self.general_error)
        self.shop_note = QFrame(objectName="ShopNote")
        note_row = QHBoxLayout(self.shop_note)
        note_row.setContentsMargins(10, 6, 6, 6)
        note_row.setSpacing(8)
        self.shop_note_label = QLabel()
        self.shop_note_label.setWordWrap(True)
        self.copy_mine_button = QPushButton()
        self.copy_mine_button.setIcon(icons.icon("duplicate", style.SHOP_FG))
        self.copy_mine_button.setIconSize(QSize(15, 15))
        self.copy_mine_button.clicked.connect(self.copy_to_mine)
        note_row.addWidget(self.shop_note_label, 1)
        note_row.addWidget(self.copy_mine_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.shop_note.hide()
        layout.addWidget(self.shop_note)
        layout.addSpacing(2)
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}

        def section(name: str, widget: QWidget, into: QVBoxLayout | None = None) -> QVBoxLayout:
            box = QVBoxLayout()
            box.setSpacing(3)
            label = QLabel(objectName="SectionTitle")
            self.labels[name] = label
            box.addWidget(label)
            box.addWidget(widget)
            error = QLabel(objectName="FieldError")
            error.setWordWrap(True)
            error.hide()
            self.errors[name] = error
            box.addWidget(error)
            (into or layout).addLayout(box)
            return box

        self.title = QLineEdit()
        section("title", self.title)
        layout.addSpacing(4)

        self.body = QPlainTextEdit()
        self.body.setMinimumHeight(130)
        self.body.setTabChangesFocus(True)
        self._highlighter = FieldHighlighter(self.body.document())
        body_box = section("body", self.body)
        chips = self.chips = QWidget()
        chips_layout = QGridLayout(chips)
        chips_layout.setContentsMargins(0, 2, 0, 0)
        chips_layout.setHorizontalSpacing(4)
        chips_layout.setVerticalSpacing(4)
        self.insert_label = QLabel(objectName="Hint")
        chips_layout.addWidget(self.insert_label, 0, 0)
        self.field_buttons: list[QPushButton] = []
        per_row = 6
        for n, field in enumerate(templates.FIELDS):
            button = QPushButton("{" + field.name + "}", objectName="Chip")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.clicked.connect(lambda _=False, name=field.name: self.insert_field(name))
            chips_layout.addWidget(button, n // per_row, 1 + n % per_row)
            self.field_buttons.append(button)
        chips_layout.setColumnStretch(per_row + 1, 1)
        body_box.insertWidget(2, chips)
        # Right under the text: what the compliance check finds in it, with a compliant wording.
        self.compliance_note = QFrame(objectName="ComplianceNote")
        self.compliance_note.setStyleSheet(
            f"#ComplianceNote {{ background: #fffbeb; border: 1px solid #fcd34d; border-radius: 8px; }}"
            f"#ComplianceNote QLabel {{ background: transparent; color: {style.TEXT}; font-size: 12px; }}")
        note_box = QVBoxLayout(self.compliance_note)
        note_box.setContentsMargins(10, 6, 10, 6)
        note_box.setSpacing(2)
        self.compliance_label = QLabel()
        self.compliance_label.setWordWrap(True)
        self.compliance_label.setTextFormat(Qt.TextFormat.RichText)
        self.compliance_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note_box.addWidget(self.compliance_label)
        self.compliance_note.hide()
        body_box.insertWidget(3, self.compliance_note)
        self.body.textChanged.connect(lambda: self._check_timer.start())
        layout.addSpacing(4)

        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        self.group = QComboBox()
        self.group.setEditable(True)
        self.group.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.code = QLineEdit()
        self.language = QComboBox()
        self.angle = QComboBox()
        for col_row, (name, widget) in enumerate((("group", self.group), ("code", self.code),
                                                  ("language", self.language), ("angle", self.angle))):
            holder = QWidget()
            box = QVBoxLayout(holder)
            box.setContentsMargins(0, 0, 0, 0)
            section(name, widget, box)
            grid.addWidget(holder, col_row // 2, col_row % 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        layout.addLayout(grid)
        layout.addSpacing(4)
        # after-sales rules depend on the group and the angle, language-bound ones on the language
        for changed in (self.group.currentTextChanged, self.angle.currentIndexChanged,
                        self.language.currentIndexChanged):
            changed.connect(lambda *_: self._check_timer.start())  # not start(int): that is the interval

        platforms = QWidget()
        platform_row = QHBoxLayout(platforms)
        platform_row.setContentsMargins(0, 0, 0, 0)
        platform_row.setSpacing(4)
        self.platform_buttons: dict[str, QPushButton] = {}
        for tag, _label in PLATFORMS:
            button = QPushButton(checkable=True)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setStyleSheet(
                f"QPushButton {{ border-radius: 10px; padding: 2px 10px; font-size: 12px; }}"
                f"QPushButton:checked {{ background: {style.ACCENT_SOFT}; color: {style.ACCENT};"
                f" border-color: {style.ACCENT}; }}")
            platform_row.addWidget(button)
            self.platform_buttons[tag] = button
        platform_row.addStretch(1)
        section("platforms", platforms)
        layout.addSpacing(4)

        hotkey_row = QWidget()
        row = QHBoxLayout(hotkey_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.hotkey = HotkeyEdit()
        self.hotkey.hotkey_changed.connect(self._check_hotkey)
        self.hotkey.capturing_changed.connect(self.capture_active)
        self.hotkey_clear = QPushButton()
        self.hotkey_clear.clicked.connect(lambda: self.hotkey.set_hotkey(""))
        row.addWidget(self.hotkey, 1)
        row.addWidget(self.hotkey_clear)
        section("hotkey", hotkey_row)
        self.hotkey_status = QLabel(objectName="FieldOk")
        self.hotkey_status.hide()
        layout.addWidget(self.hotkey_status)
        layout.addStretch(1)

        footer = QHBoxLayout()
        footer.setSpacing(6)
        self.delete_button = QPushButton(objectName="Danger")
        self.delete_button.setIcon(icons.icon("trash", style.ERROR))
        self.delete_button.clicked.connect(self._delete)
        self.duplicate_button = QPushButton()
        self.duplicate_button.setIcon(icons.icon("duplicate"))
        self.duplicate_button.clicked.connect(self.make_duplicate)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(objectName="Primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        for button in (self.delete_button, self.duplicate_button, self.save_button, self.cancel_button):
            button.setIconSize(QSize(15, 15))
        footer.addWidget(self.delete_button)
        footer.addWidget(self.duplicate_button)
        footer.addStretch(1)
        footer.addWidget(self.cancel_button)
        footer.addWidget(self.save_button)
        layout.addSpacing(6)
        layout.addLayout(footer)
        save = QShortcut(QKeySequence("Ctrl+S"), self)
        save.activated.connect(self.save)
        save_enter = QShortcut(QKeySequence("Ctrl+Return"), self)
        save_enter.activated.connect(self.save)

    def _retranslate(self) -> None:
        new = self.reply_id is None
        self.setWindowTitle(translate("Editor", "新建回复") if new else translate("Editor", "编辑回复"))
        for name, text in (("title", translate("Editor", "标题")), ("body", translate("Editor", "回复内容")),
                           ("group", translate("Editor", "分组")), ("code", translate("Editor", "短码")),
                           ("language", translate("Editor", "语言")), ("angle", translate("Editor", "催单角度")),
                           ("platforms", translate("Editor", "适用平台")), ("hotkey", translate("Editor", "快捷键"))):
            self.labels[name].setText(text)
        self.title.setPlaceholderText(translate("Editor", "留空则用正文开头"))
        self.body.setPlaceholderText(translate("Editor", "亲，您好～……  用下面的按钮插入 {客户} 这样的填空"))
        self.insert_label.setText(translate("Editor", "插入填空："))
        for button, field in zip(self.field_buttons, templates.FIELDS, strict=True):
            # The core declares each field with an English label; its example value is Chinese data.
            button.setToolTip(i18n.pick(f"例如：{field.example}", field.label_en))
        self.group.lineEdit().setPlaceholderText(translate("Editor", "选择或输入新分组，如 售前/问候"))
        self.code.setPlaceholderText(translate("Editor", "如 wh1，搜索框输入即可找到"))
        current_lang = self.language.currentData()
        self.language.clear()
        for code, label in LANGUAGES:
            self.language.addItem(f"{translate('Editor', label)} ({code})", code)
        if current_lang:
            self.set_language(current_lang)
        current_angle = self.angle.currentData()
        self.angle.clear()
        self.angle.addItem(translate("Editor", "（不是催单话术）"), None)
        for angle in replies.ANGLES:
            self.angle.addItem(translate("Editor", ANGLE_LABELS[angle]), angle)
        self.select_angle(current_angle)
        for tag, label in PLATFORMS:
            self.platform_buttons[tag].setText(translate("Editor", label))
        self.hotkey_clear.setText(translate("Editor", "清除"))
        self.delete_button.setText(translate("Editor", "删除"))
        self.duplicate_button.setText(translate("Editor", "复制为新回复"))
        self.cancel_button.setText(translate("Editor", "取消"))
        self.save_button.setText(translate("Editor", "保存"))
        self.save_button.setToolTip(translate("Editor", "保存 (Ctrl+S)"))
        self.delete_button.setVisible(not new)
        self.duplicate_button.setVisible(not new)
        self._retranslate_shop()
        self._show_findings()

    def _retranslate_shop(self) -> None:
        locked_text = translate("Team", "店铺话术由主管维护，不能修改")
        if self.locked:
            self.shop_note_label.setText(locked_text)
        elif self._shop is not None and self.reply_id is not None:
            self.shop_note_label.setText(translate("Team", "店铺话术：保存后同步给店铺的所有客服"))
        self.copy_mine_button.setText(translate("Team", "复制到我的话术"))
        self.copy_mine_button.setToolTip(translate("Team", "复制一份归你自己的话术，可以随意修改"))
        self.delete_button.setToolTip(locked_text if self.locked else "")
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "save_button"):
            self._retranslate()
        super().changeEvent(event)

    # ------------------------------------------------------------ loading

    def _load(self, store) -> tuple[list[str], ReplyRow | None, str, compliance.RuleSet]:  # noqa: ANN001
        row = queries.get_row(store, self.reply_id) if self.reply_id is not None else None
        return queries.group_paths(store), row, replies.team_kind(store), compliance.rules_for(store)

    def _on_loaded(self, data: tuple[list[str], ReplyRow | None, str, compliance.RuleSet]) -> None:
        paths, row, self._team_kind, self._rules = data
        typed = self.group.currentText()
        self.group.clear()
        self.group.addItems(paths)
        self.group.setEditText(typed)
        if row is not None:
            self._fill(row)
        self._loaded = True
        self._set_busy(False)
        self.check_compliance()
        if row is not None and self._duplicate:
            self.make_duplicate()
        if self.locked:
            self.hotkey.setFocus()
        else:
            (self.body if not self.body.toPlainText() or self.reply_id is not None else self.title).setFocus()

    def _fill(self, row: ReplyRow) -> None:
        self.title.setText(row.title)
        self.body.setPlainText(row.body)
        self.group.setEditText(row.group_path)
        self.code.setText(row.code or "")
        self.set_language(row.language)
        self.select_angle(row.angle)
        self.hotkey.set_hotkey(row.hotkey or "")
        self._extra_platforms = [p for p in row.platforms if p not in self.platform_buttons]
        for tag, button in self.platform_buttons.items():
            button.setChecked(tag in row.platforms)
        self._row = row
        self._shop = row.shop
        self._set_locked(row.shop is not None and self._team_kind != "supervisor")

    def _set_locked(self, locked: bool) -> None:
        """A shop reply for an agent: every shared field read-only, the hotkey (local) editable."""
        self.locked = locked
        for edit in (self.title, self.body, self.code):
            edit.setReadOnly(locked)
        for widget in (self.group, self.language, self.angle, *self.platform_buttons.values()):
            widget.setEnabled(not locked)
        for widget in (self.title, self.body, self.code, self.group, self.language, self.angle):
            widget.setProperty("locked", locked)  # greyed by the stylesheet: visibly not editable
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self.chips.setVisible(not locked)  # nothing to insert into a text that cannot change
        self.delete_button.setEnabled(not locked)
        shop_reply = self._shop is not None and self.reply_id is not None
        self.shop_note.setVisible(shop_reply)
        self.copy_mine_button.setVisible(locked)
        self._retranslate_shop()
        if shop_reply and self.isVisible():
            needed = self.sizeHint().height()
            if self.height() < needed:  # the note is one more row: grow rather than squeeze the form
                self.resize(self.width(), needed)

    # ------------------------------------------------------------ compliance

    def check_compliance(self) -> None:
        """Check the text as it stands, in the group and angle chosen (the core checks it again when
        it is saved and stores what it finds with the reply)."""
        self._check_timer.stop()
        if self._rules is None:
            return
        self.findings = compliance.check(self.body.toPlainText(), self._rules,
                                         group_path=self.group.currentText().strip(),
                                         angle=self.angle.currentData(), language=self.language.currentData() or "zh")
        self._show_findings()

    def _show_findings(self) -> None:
        if not hasattr(self, "compliance_label"):
            return
        english = i18n.is_english()
        parts: list[str] = []
        problem = self._rules.problem if self._rules is not None else None
        if problem is not None:
            parts.append(f'<p style="color:{style.WARN};">{html.escape(problem[1] if english else problem[0])}</p>')
        for f in self.findings:
            name = f.category_en if english else f.category_zh
            message = f.message_en if english else f.message_zh
            suggestion = f.suggestion_en if english else f.suggestion_zh
            quoted = html.escape(" ".join(f.text.split()))
            suggest = translate("Editor", "建议：")  # outside the f-string: lupdate does not look inside
            parts.append(
                f'<p style="margin:2px 0;"><b style="color:{style.WARN};">⚠ {html.escape(name)}</b>'
                f' <span style="color:{style.ERROR};">“{quoted}”</span>'
                f' <span style="color:{style.TEXT_3};">[{html.escape(f.rule)}]</span><br>{html.escape(message)}'
                f'<br><span style="color:{style.OK};">{html.escape(suggest)}'
                f'{html.escape(suggestion)}</span></p>')
        if self.findings:
            still = translate("Editor", "仍可保存；列表里会标出这条回复。")
            parts.append(f'<p style="color:{style.TEXT_3};">{html.escape(still)}</p>')
        self.compliance_label.setText("".join(parts))
        self.compliance_note.setVisible(bool(parts))
        self._underline(self.findings)
        if parts and self.isVisible():
            needed = self.sizeHint().height()
            if self.height() < needed:  # the note takes room: grow rather than squeeze the text box
                self.resize(self.width(), needed)

    def _underline(self, findings: list[compliance.Finding]) -> None:
        """A wavy red line under each place the check found (positions are in the text as typed)."""
        selections = []
        text = self.body.toPlainText()

        def unit(i: int) -> int:  # Qt counts UTF-16 units: an emoji before the place is two
            return len(text[:i].encode("utf-16-le")) // 2

        for f in findings:
            if f.end > len(text):
                continue
            selection = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor(style.ERROR))
            fmt.setToolTip(f.message_en if i18n.is_english() else f.message_zh)
            selection.format = fmt  # type: ignore[attr-defined]
            cursor = QTextCursor(self.body.document())
            cursor.setPosition(unit(f.start))
            cursor.setPosition(unit(f.end), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor  # type: ignore[attr-defined]
            selections.append(selection)
        self.body.setExtraSelections(selections)

    def compliance_text(self) -> str:
        """What the compliance note says, as plain text (empty when hidden)."""
        if self.compliance_note.isHidden():
            return ""
        doc = QTextDocument()
        doc.setHtml(self.compliance_label.text())
        return doc.toPlainText()

    def _on_load_error(self, exc: KnownError) -> None:
        self._set_busy(False)
        self._show_general(exc)

    def select_angle(self, angle: str | None) -> None:
        self.angle.setCurrentIndex(0 if not angle else max(0, self.angle.findData(angle)))

    def set_language(self, code: str) -> None:
        index = self.language.findData(code)
        if index < 0:
            self.language.addItem(code, code)
            index = self.language.count() - 1
        self.language.setCurrentIndex(index)

    def _set_busy(self, busy: bool) -> None:
        self.save_button.setEnabled(not busy)

    # ------------------------------------------------------------ actions

    def insert_field(self, name: str) -> None:
        self.body.insertPlainText("{" + name + "}")
        self.body.setFocus()

    def make_duplicate(self) -> None:
        """Turn the dialog into "new reply" with this one's texts (short code and hotkey must differ)."""
        self.reply_id = None
        self._duplicate = False
        self._shop = None
        self._set_locked(False)
        self.title.setText(self.title.text() + translate("Editor", "（副本）"))
        self.code.clear()
        self.hotkey.set_hotkey("")
        self._retranslate()

    def values(self) -> dict[str, Any]:
        platforms = [tag for tag, b in self.platform_buttons.items() if b.isChecked()] + self._extra_platforms
        return {
            "title": self.title.text(),
            "body": self.body.toPlainText(),
            "group": self.group.currentText().strip() or None,
            "code": self.code.text().strip() or None,
            "language": self.language.currentData() or "zh",
            "platforms": platforms,
            "hotkey": self.hotkey.hotkey() or None,
            "angle": self.angle.currentData(),
        }

    def clear_errors(self) -> None:
        self.general_error.hide()
        for name, label in self.errors.items():
            label.hide()
            widget = self._widget_for(name)
            if widget is not None and widget.property("invalid"):
                widget.setProperty("invalid", False)
                widget.style().polish(widget)

    def _widget_for(self, name: str) -> QWidget | None:
        return {"title": self.title, "body": self.body, "group": self.group, "code": self.code,
                "language": self.language, "hotkey": self.hotkey, "angle": self.angle}.get(name)

    def show_error(self, field: str | None, zh: str, en: str) -> None:
        name = FIELD_ALIASES.get(field or "", field or "")
        label = self.errors.get(name)
        if label is None:
            self.general_error.setText(i18n.pick(zh, en))
            self.general_error.show()
            return
        label.setText(i18n.pick(zh, en))
        label.show()
        widget = self._widget_for(name)
        if widget is not None:
            widget.setProperty("invalid", True)
            widget.style().polish(widget)
            widget.setFocus()

    def error_text(self, field: str) -> str:
        label = self.errors.get(field)
        return label.text() if label is not None and not label.isHidden() else ""

    def _show_general(self, exc: KnownError) -> None:
        self.general_error.setText(exc.message("en" if i18n.is_english() else "zh"))
        self.general_error.show()

    def save(self) -> None:
        if not self._loaded or not self.save_button.isEnabled():
            return
        self.clear_errors()
        if self._hotkey_conflict is not None:
            self.show_error("hotkey", *self._hotkey_conflict)
            return
        values = self.values()
        rid = self.reply_id
        if self.locked:
            values = {"hotkey": values["hotkey"]}  # all an agent may change of a shop reply
        elif self._shop is not None and self._row is not None and rid == self._row.id:
            values = self._changed(values, self._row)  # an unchanged field is no new shop version
        if rid is not None and values.get("group", "") is None:
            values.pop("group")
        self._set_busy(True)
        self.worker.submit(lambda store: queries.save_reply(store, rid, values), self._on_saved, self._on_save_error,
                           write=True)

    def _on_saved(self, row: ReplyRow) -> None:
        self._set_busy(False)
        self.saved.emit(row)
        self.accept()

    def _on_save_error(self, exc: KnownError) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError):
            self.show_error(exc.field, exc.zh, exc.en)
        else:
            self._show_general(exc)

    @staticmethod
    def _changed(values: dict[str, Any], row: ReplyRow) -> dict[str, Any]:
        before = {"title": row.title, "body": row.body, "group": row.group_path, "code": row.code or None,
                  "language": row.language, "platforms": list(row.platforms), "hotkey": row.hotkey or None,
                  "angle": row.angle}
        return {k: v for k, v in values.items() if before.get(k, object()) != v}

    def copy_to_mine(self) -> None:
        """"复制到我的话术": a personal copy of this shop reply, then this dialog edits the copy."""
        rid = self.reply_id
        if rid is None or not self._loaded:
            return
        self.clear_errors()
        self.copy_mine_button.setEnabled(False)
        self._set_busy(True)

        def done(row: ReplyRow) -> None:
            self.copy_mine_button.setEnabled(True)
            self._set_busy(False)
            self.reply_id = row.id
            self._fill(row)
            self._retranslate()
            self.copied.emit(row)
            self.body.setFocus()

        def failed(exc: KnownError) -> None:
            self.copy_mine_button.setEnabled(True)
            self._on_save_error(exc)

        self.worker.submit(lambda store: queries.get_row(store, replies.copy_to_mine(store, rid).id), done, failed,
                           write=True)

    def _delete(self) -> None:
        if self.reply_id is not None:
            self.delete_requested.emit(self.reply_id)
            self.accept()

    def _check_hotkey(self, text: str) -> None:
        self.errors["hotkey"].hide()
        if not text:
            self._hotkey_conflict = None
            self.hotkey_status.hide()
            return
        rid = self.reply_id

        def done(conflict: tuple[str, str] | None) -> None:
            if self.hotkey.hotkey() != text:
                return
            self._hotkey_conflict = conflict
            if conflict is None:
                self.hotkey_status.setObjectName("FieldOk")
                self.hotkey_status.setText(translate("Editor", "✓ {key} 可用").replace("{key}", text))
            else:
                self.hotkey_status.setObjectName("FieldError")
                self.hotkey_status.setText(f"{text}：{i18n.pick(*conflict)}")
            self.hotkey_status.style().unpolish(self.hotkey_status)
            self.hotkey_status.style().polish(self.hotkey_status)
            self.hotkey_status.show()

        self.worker.submit(lambda store: queries.hotkey_conflict(store, text, rid), done, self._show_general,
                           key=f"hotkey-check-{id(self)}")

    def hotkey_status_text(self) -> str:
        return self.hotkey_status.text() if not self.hotkey_status.isHidden() else ""
