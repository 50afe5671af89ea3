"""Hotkey strings ("Ctrl+Alt+1"): parsing and one normal form, pure and platform-free.

The normal form is what the store keeps (so uniqueness is checked on it): modifiers in the order
Ctrl, Alt, Shift, Meta, then one key, joined by '+', e.g. "Ctrl+Alt+F1". Backends map it to their
own key codes (assistant/platform/keys.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationError

MODIFIERS = ("Ctrl", "Alt", "Shift", "Meta")
MOD_ALIASES = {
    "ctrl": "Ctrl", "control": "Ctrl", "ctl": "Ctrl", "strg": "Ctrl",
    "alt": "Alt", "option": "Alt", "opt": "Alt",
    "shift": "Shift",
    "meta": "Meta", "win": "Meta", "super": "Meta", "cmd": "Meta", "command": "Meta", "windows": "Meta",
}
NAMED_KEYS = {
    **{f"f{i}": f"F{i}" for i in range(1, 25)},
    "space": "Space", "enter": "Enter", "return": "Enter", "tab": "Tab", "esc": "Esc", "escape": "Esc",
    "backspace": "Backspace", "delete": "Delete", "del": "Delete", "insert": "Insert", "ins": "Insert",
    "home": "Home", "end": "End", "pageup": "PageUp", "pgup": "PageUp", "pagedown": "PageDown",
    "pgdn": "PageDown", "up": "Up", "down": "Down", "left": "Left", "right": "Right",
    "`": "`", "-": "-", "=": "=", "[": "[", "]": "]", ";": ";", "'": "'", ",": ",", ".": ".", "/": "/",
    "\\": "\\", "minus": "-", "equal": "=", "comma": ",", "period": ".", "slash": "/",
    "backquote": "`", "grave": "`", "semicolon": ";", "apostrophe": "'", "backslash": "\\",
    "bracketleft": "[", "bracketright": "]",
}
# Chords an agent types all day or an input method owns: refusing them avoids breaking typing.
RESERVED = {
    "Ctrl+C", "Ctrl+V", "Ctrl+X", "Ctrl+Z", "Ctrl+A", "Ctrl+S", "Ctrl+Space", "Ctrl+Shift+Space",
    "Shift+Space", "Alt+Tab", "Alt+F4", "Ctrl+Alt+Delete", "Enter", "Ctrl+Enter",
}


@dataclass(frozen=True)
class Hotkey:
    modifiers: tuple[str, ...]
    key: str

    def __str__(self) -> str:
        return "+".join((*self.modifiers, self.key))


def _bad(text: str, zh_reason: str, en_reason: str) -> ValidationError:
    return ValidationError(f"快捷键“{text}”无效：{zh_reason}", f"Invalid hotkey '{text}': {en_reason}", field="hotkey")


def parse(text: str) -> Hotkey:
    raw = (text or "").strip()
    if not raw:
        raise _bad(text, "为空", "empty")
    # '+' itself as the key: "Ctrl++" -> ['Ctrl', '', ''] ; handle by splitting carefully.
    parts = raw.replace(" ", "").split("+")
    if raw.endswith("++"):
        parts = parts[:-2] + ["+"]
    mods: set[str] = set()
    key: str | None = None
    for part in parts:
        if not part:
            raise _bad(text, "有多余的“+”", "stray '+'")
        low = part.lower()
        if low in MOD_ALIASES:
            mod = MOD_ALIASES[low]
            if mod in mods:
                raise _bad(text, f"修饰键 {mod} 重复", f"modifier {mod} repeated")
            mods.add(mod)
            continue
        if key is not None:
            raise _bad(text, "只能有一个非修饰键", "only one non-modifier key is allowed")
        if len(part) == 1 and part.isascii() and part.isalnum():
            key = part.upper()
        elif low in NAMED_KEYS:
            key = NAMED_KEYS[low]
        elif part == "+":
            key = "+"
        else:
            raise _bad(text, f"不认识的按键“{part}”", f"unknown key '{part}'")
    if key is None:
        raise _bad(text, "缺少主键（例如 Ctrl+Alt+1 中的 1）", "no main key (like the 1 in Ctrl+Alt+1)")
    ordered = tuple(m for m in MODIFIERS if m in mods)
    is_function_key = key.startswith("F") and key[1:].isdigit()
    if not ordered and not is_function_key:
        raise _bad(text, "需要至少一个修饰键（Ctrl/Alt/Shift/Win），否则会影响正常打字",
                   "needs a modifier (Ctrl/Alt/Shift/Win) or it would break normal typing")
    if ordered == ("Shift",) and not is_function_key:
        raise _bad(text, "Shift+字符 会影响正常打字", "Shift+character would break normal typing")
    hotkey = Hotkey(ordered, key)
    if str(hotkey) in RESERVED:
        raise _bad(text, "这是常用编辑键或输入法切换键，请换一个", "reserved for editing or input-method switching")
    return hotkey


def normalize(text: str) -> str:
    return str(parse(text))
