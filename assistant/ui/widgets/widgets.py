"""Widgets shared by the panel, its tabs and dialogs: message bar, row background, fill-in field
highlighting, search box (the panel's keyboard), hotkey recorder, elided status line. The replies
page's own row painter and preview are in ui/panel/reply_view.py."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QSyntaxHighlighter,
    QTextCharFormat,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

from ...core import templates
from . import i18n, icons, style

translate = QCoreApplication.translate


LEVEL_ICONS = {"info": ("info", style.ACCENT), "success": ("check", style.OK),
               "warning": ("warning", style.WARN), "error": ("error", style.ERROR)}


class MessageBar(QFrame):
    """Shows one message at a time; a newer one replaces it."""

    action_triggered = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self.setProperty("level", "info")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 4, 6)
        layout.setSpacing(6)
        self._icon = QLabel()
        self._icon.setFixedSize(18, 18)
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._text = QLabel()
        self._text.setWordWrap(True)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._action = QPushButton()
        self._action.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._action.clicked.connect(self._on_action)
        self._close = QToolButton()
        self._close.setIcon(icons.icon("close"))
        self._close.setIconSize(QSize(14, 14))
        self._close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._close.clicked.connect(self.dismiss)
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._text, 1)
        layout.addWidget(self._action, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.dismiss)
        self._message: tuple[str, str] = ("", "")
        self._action_texts: tuple[str, str] | None = None
        self._callback: Callable[[], None] | None = None
        self.hide()
        self._retranslate()

    # texts are kept in both languages so a language switch re-labels a visible message
    def show_message(self, zh: str, en: str | None = None, level: str = "info", *,
                     action: tuple[str, str] | None = None, callback: Callable[[], None] | None = None,
                     timeout_ms: int | None = None) -> None:
        self._message = (zh, en or zh)
        self._action_texts = action
        self._callback = callback
        self.setProperty("level", level)
        name, colour = LEVEL_ICONS.get(level, LEVEL_ICONS["info"])
        self._icon.setPixmap(icons.pixmap(name, 18, colour))
        self._refresh_texts()
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()
        if timeout_ms is None:
            timeout_ms = {"info": 6000, "success": 5000}.get(level, 0)
        if action is not None and timeout_ms:
            timeout_ms = max(timeout_ms, 10000)
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def text(self) -> str:
        return self._text.text()

    def message(self) -> tuple[str, str]:
        """(zh, en) of the message shown (or last shown)."""
        return self._message

    def level(self) -> str:
        return str(self.property("level"))

    def dismiss(self) -> None:
        self._timer.stop()
        self._callback = None
        self.hide()

    def _on_action(self) -> None:
        callback = self._callback
        self.dismiss()
        if callback is not None:
            callback()
        self.action_triggered.emit()

    def _refresh_texts(self) -> None:
        self._text.setText(i18n.pick(*self._message))
        if self._action_texts:
            self._action.setText(i18n.pick(*self._action_texts))
            self._action.show()
        else:
            self._action.hide()

    def _retranslate(self) -> None:
        self._close.setToolTip(translate("MessageBar", "关闭"))
        self._refresh_texts()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)


def body_html(body: str) -> str:
    """The body as HTML with each {field} highlighted; line breaks kept."""
    out: list[str] = []
    pos = 0
    for start, end, _name in templates.field_spans(body):
        out.append(html.escape(body[pos:start]))
        out.append(f'<span style="background-color:{style.FIELD_BG}; color:{style.FIELD_FG}; '
                   f'font-weight:600;">{html.escape(body[start:end])}</span>')
        pos = end
    out.append(html.escape(body[pos:]))
    return "".join(out).replace("\n", "<br>")


PAD_X = 10  # a row's inner margin (its bottom line, the reply rows' text)


def paint_row_background(painter: QPainter, option: QStyleOptionViewItem, accent_inset: int = 10) -> bool:
    """The look every painted list row shares: a rounded selection with an accent bar, a hover
    wash, else a hairline under the row. Returns whether the row is selected."""
    rect = option.rect
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    if selected:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(style.SELECTED))
        painter.drawRoundedRect(QRectF(rect.adjusted(3, 2, -3, -2)), 6, 6)
        painter.setBrush(QColor(style.ACCENT))
        painter.drawRoundedRect(QRectF(rect.left() + 3, rect.top() + accent_inset, 3,
                                       rect.height() - 2 * accent_inset), 1.5, 1.5)
    elif option.state & QStyle.StateFlag.State_MouseOver:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#f1f5f9"))
        painter.drawRoundedRect(QRectF(rect.adjusted(3, 2, -3, -2)), 6, 6)
    else:
        painter.setPen(QPen(QColor("#f1f5f9")))
        painter.drawLine(rect.left() + PAD_X, rect.bottom(), rect.right() - PAD_X, rect.bottom())
    return selected


def panel_key(event: QKeyEvent) -> tuple[str, int] | None:
    """The panel command of a key press: ("move", ±n), ("paste", 0), ("copy", 0), ("pick", n),
    ("escape", 0), or None for ordinary typing."""
    key = event.key()
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        if mods == Qt.KeyboardModifier.ControlModifier:
            return ("copy", 0)
        if mods == Qt.KeyboardModifier.NoModifier:
            return ("paste", 0)
        return None
    if mods == Qt.KeyboardModifier.NoModifier:
        if key == Qt.Key.Key_Up:
            return ("move", -1)
        if key == Qt.Key.Key_Down:
            return ("move", 1)
        if key == Qt.Key.Key_PageUp:
            return ("move", -5)
        if key == Qt.Key.Key_PageDown:
            return ("move", 5)
        if key == Qt.Key.Key_Escape:
            return ("escape", 0)
    if mods == Qt.KeyboardModifier.AltModifier and Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
        return ("pick", key - Qt.Key.Key_0)
    return None


class SearchBox(QLineEdit):
    command = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SearchBox")
        self.setClearButtonEnabled(True)
        self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, True)
        self._icon = QAction(icons.icon("search", style.TEXT_3), "", self)
        self.addAction(self._icon, QLineEdit.ActionPosition.LeadingPosition)
        self._retranslate()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        cmd = panel_key(event)
        if cmd is not None:
            self.command.emit(*cmd)
            event.accept()
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        # Alt+digit and Esc must reach keyPressEvent even when a shortcut or mnemonic would take them.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and panel_key(event) is not None:
            event.accept()
            return True
        return super().event(event)

    def _retranslate(self) -> None:
        self.setPlaceholderText(translate("SearchBox", "搜索话术：文字、拼音首字母或短码"))
        self.setToolTip(translate("SearchBox", "↑↓ 选择 · Enter 粘贴 · Ctrl+Enter 复制 · Alt+数字 直接发送 · Esc 清空/隐藏"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)


_SHIFTED_DIGITS = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
                   "(": "9", ")": "0"}
_NAMED = {
    Qt.Key.Key_Space: "Space", Qt.Key.Key_Return: "Enter", Qt.Key.Key_Enter: "Enter", Qt.Key.Key_Tab: "Tab",
    Qt.Key.Key_Escape: "Esc", Qt.Key.Key_Backspace: "Backspace", Qt.Key.Key_Delete: "Delete",
    Qt.Key.Key_Insert: "Insert", Qt.Key.Key_Home: "Home", Qt.Key.Key_End: "End", Qt.Key.Key_PageUp: "PageUp",
    Qt.Key.Key_PageDown: "PageDown", Qt.Key.Key_Up: "Up", Qt.Key.Key_Down: "Down", Qt.Key.Key_Left: "Left",
    Qt.Key.Key_Right: "Right",
}
_MODIFIER_KEYS = {Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Shift, Qt.Key.Key_Meta, Qt.Key.Key_AltGr,
                  Qt.Key.Key_Super_L, Qt.Key.Key_Super_R}


def chord_text(key: int, modifiers: Qt.KeyboardModifier, text: str = "") -> str | None:
    """"Ctrl+Alt+1" for a key press, or None for a lone modifier / unknown key."""
    if key in _MODIFIER_KEYS:
        return None
    mods: list[str] = []
    if modifiers & Qt.KeyboardModifier.ControlModifier:
        mods.append("Ctrl")
    if modifiers & Qt.KeyboardModifier.AltModifier:
        mods.append("Alt")
    if modifiers & Qt.KeyboardModifier.ShiftModifier:
        mods.append("Shift")
    if modifiers & Qt.KeyboardModifier.MetaModifier:
        mods.append("Meta")
    name: str | None = None
    if Qt.Key.Key_F1 <= key <= Qt.Key.Key_F24:
        name = f"F{key - Qt.Key.Key_F1 + 1}"
    elif key in _NAMED:
        name = _NAMED[Qt.Key(key)]
    elif Qt.Key.Key_A <= key <= Qt.Key.Key_Z or Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
        name = chr(key)
    elif 0x20 < key < 0x7F:
        ch = chr(key)
        name = _SHIFTED_DIGITS.get(ch, ch)
    if name is None:
        return None
    return "+".join([*mods, name])


class HotkeyEdit(QLineEdit):
    """Press a chord to set it; Backspace or Delete alone clears it."""

    hotkey_changed = Signal(str)
    capturing_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setObjectName("HotkeyEdit")
        self._hotkey = ""
        self._capturing = False
        # A click that never brings the keyboard focus (the window manager refused to activate us)
        # must not leave every global hotkey off: give up recording if the focus has not come.
        self._focus_wait = QTimer(self)
        self._focus_wait.setSingleShot(True)
        self._focus_wait.setInterval(1500)
        self._focus_wait.timeout.connect(lambda: self._set_capturing(self.hasFocus()))
        self._retranslate()

    def hotkey(self) -> str:
        return self._hotkey

    def set_hotkey(self, value: str | None) -> None:
        value = value or ""
        changed = value != self._hotkey
        self._hotkey = value
        self.setText(value)
        if changed:
            self.hotkey_changed.emit(value)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers()
        bare = not (mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                            | Qt.KeyboardModifier.MetaModifier | Qt.KeyboardModifier.ShiftModifier))
        if bare and key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
            self.set_hotkey("")
            return
        if bare and key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Escape, Qt.Key.Key_Return,
                            Qt.Key.Key_Enter):
            event.ignore()  # dialog navigation keeps working
            return
        chord = chord_text(key, mods, event.text())
        if chord is None:
            partial = [m for m, flag in (("Ctrl", Qt.KeyboardModifier.ControlModifier),
                                         ("Alt", Qt.KeyboardModifier.AltModifier),
                                         ("Shift", Qt.KeyboardModifier.ShiftModifier),
                                         ("Meta", Qt.KeyboardModifier.MetaModifier)) if mods & flag]
            self.setText("+".join(partial) + "+…" if partial else self._hotkey)
            return
        self.set_hotkey(chord)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if self.text() != self._hotkey and not event.modifiers():
            self.setText(self._hotkey)
        super().keyReleaseEvent(event)

    def is_capturing(self) -> bool:
        return self._capturing

    def _set_capturing(self, on: bool) -> None:
        if on != self._capturing:
            self._capturing = on
            self.capturing_changed.emit(on)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # Recording starts at the click itself, not at Qt's focus-in: Qt learns of window
        # (de)activation late (it waits ~100 ms after an X FocusOut for a FocusIn, and on a
        # desktop the window manager activates us on its own schedule), so a chord pressed just
        # after the click still fired the global hotkey, or a stale deactivation ended the
        # recording. Ungrab now, and ask for the keyboard focus now so the chord reaches us.
        self._set_capturing(True)
        self.window().activateWindow()
        if not self.hasFocus():
            self._focus_wait.start()
        super().mousePressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self._focus_wait.stop()
        self._set_capturing(True)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.setText(self._hotkey)
        self._focus_wait.stop()
        self._set_capturing(False)

    def hideEvent(self, event: QEvent) -> None:
        super().hideEvent(event)
        self._focus_wait.stop()
        self._set_capturing(False)  # a dialog closed while recording: grab again

    def event(self, event: QEvent) -> bool:
        # Tab with modifiers and Alt+letters must reach keyPressEvent, not focus navigation/mnemonics.
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()
            return True
        return super().event(event)

    def _retranslate(self) -> None:
        self.setPlaceholderText(translate("HotkeyEdit", "点击后按下组合键，退格键清除"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)


class ElidedLabel(QLabel):
    """A one-line label that elides its text to the width it gets (the panel's status line)."""

    def __init__(self, parent: QWidget | None = None, **kwargs) -> None:  # noqa: ANN003 - QLabel's keywords
        super().__init__(parent, **kwargs)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(0, self.contentsRect().width())
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width) if width else self._full
        super().setText(shown)


class FieldHighlighter(QSyntaxHighlighter):
    """Highlights {fields} while a reply is typed (known fields amber, unknown ones red)."""

    def __init__(self, document) -> None:  # noqa: ANN001 - QTextDocument
        super().__init__(document)
        self._known = QTextCharFormat()
        self._known.setBackground(QColor(style.FIELD_BG))
        self._known.setForeground(QColor(style.FIELD_FG))
        self._unknown = QTextCharFormat()
        self._unknown.setForeground(QColor(style.ERROR))
        self._unknown.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self._unknown.setUnderlineColor(QColor(style.ERROR))

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        for match in _FIELD_TOKEN.finditer(text):
            known = templates.canonical(match.group(1)) is not None
            self.setFormat(match.start(), match.end() - match.start(), self._known if known else self._unknown)


_FIELD_TOKEN = re.compile(r"(?<!\{)\{([^{}\n]{1,40})\}(?!\})")
