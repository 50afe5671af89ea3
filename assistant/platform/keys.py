"""From the normal form ("Ctrl+Alt+1", assistant.core.hotkeys) to what each backend needs. Pure.

- X11: modifier names plus an X keysym NAME ("1", "a", "F1", "grave"); the X11 backend turns the
  name into a keysym and a keycode of the running server's layout.
- Windows (`keyboard` package): "ctrl+alt+1".
- Paste chords ("ctrl+v", "shift+insert"): parsed by the same rules, so a chord in a setting or an
  app rule can be written like a hotkey.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import hotkeys
from ..errors import ValidationError

# Normal-form key name -> X keysym name (XStringToKeysym). Letters use the lower-case keysym: the
# keycode is the same and that is the keysym a layout lists first.
_X11_NAMED = {
    "Space": "space", "Enter": "Return", "Tab": "Tab", "Esc": "Escape", "Backspace": "BackSpace",
    "Delete": "Delete", "Insert": "Insert", "Home": "Home", "End": "End", "PageUp": "Prior",
    "PageDown": "Next", "Up": "Up", "Down": "Down", "Left": "Left", "Right": "Right",
    "`": "grave", "-": "minus", "=": "equal", "[": "bracketleft", "]": "bracketright",
    ";": "semicolon", "'": "apostrophe", ",": "comma", ".": "period", "/": "slash",
    "\\": "backslash", "+": "plus",
}
# Normal-form key name -> `keyboard` package key name.
_KEYBOARD_NAMED = {
    "Space": "space", "Enter": "enter", "Tab": "tab", "Esc": "esc", "Backspace": "backspace",
    "Delete": "delete", "Insert": "insert", "Home": "home", "End": "end", "PageUp": "page up",
    "PageDown": "page down", "Up": "up", "Down": "down", "Left": "left", "Right": "right",
    "+": "plus",
}
_KEYBOARD_MODS = {"Ctrl": "ctrl", "Alt": "alt", "Shift": "shift", "Meta": "windows"}

# Windows virtual-key codes (RegisterHotKey probe for "already taken by another program").
MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
_WIN_MODS = {"Ctrl": MOD_CONTROL, "Alt": MOD_ALT, "Shift": MOD_SHIFT, "Meta": MOD_WIN}
_WIN_VK_NAMED = {
    "Space": 0x20, "Enter": 0x0D, "Tab": 0x09, "Esc": 0x1B, "Backspace": 0x08, "Delete": 0x2E,
    "Insert": 0x2D, "Home": 0x24, "End": 0x23, "PageUp": 0x21, "PageDown": 0x22, "Up": 0x26,
    "Down": 0x28, "Left": 0x25, "Right": 0x27, ";": 0xBA, "=": 0xBB, "+": 0xBB, ",": 0xBC,
    "-": 0xBD, ".": 0xBE, "/": 0xBF, "`": 0xC0, "[": 0xDB, "\\": 0xDC, "]": 0xDD, "'": 0xDE,
}

# Paste methods, as stored in settings 'paste.chord' and in app rules.
PASTE_METHODS = ("ctrl+v", "shift+insert", "type")


@dataclass(frozen=True)
class Chord:
    """A key combination to SEND (paste chord, copy chord). Unlike a hotkey it may be a reserved
    editing chord like Ctrl+V, or lack modifiers."""

    modifiers: tuple[str, ...]
    key: str

    def __str__(self) -> str:
        return "+".join((*self.modifiers, self.key))


def parse_hotkey(text: str) -> hotkeys.Hotkey:
    return hotkeys.parse(text)


def parse_chord(text: str) -> Chord:
    """"ctrl+v", "Shift+Insert", "ctrl+c" -> Chord. Raises ValidationError."""
    raw = (text or "").replace(" ", "")
    parts = [p for p in raw.split("+")]
    if not raw or any(not p for p in parts):
        raise ValidationError(f"按键组合“{text}”无效", f"Invalid key combination '{text}'", field="chord")
    mods: list[str] = []
    key: str | None = None
    for part in parts:
        low = part.lower()
        mod = hotkeys.MOD_ALIASES.get(low)
        if mod:
            if mod not in mods:
                mods.append(mod)
            continue
        if key is not None:
            raise ValidationError(f"按键组合“{text}”只能有一个主键", f"'{text}' has more than one main key",
                                  field="chord")
        if len(part) == 1 and part.isascii() and part.isalnum():
            key = part.upper()
        elif low in hotkeys.NAMED_KEYS:
            key = hotkeys.NAMED_KEYS[low]
        else:
            raise ValidationError(f"不认识的按键“{part}”", f"Unknown key '{part}'", field="chord")
    if key is None:
        raise ValidationError(f"按键组合“{text}”缺少主键", f"'{text}' has no main key", field="chord")
    return Chord(tuple(m for m in hotkeys.MODIFIERS if m in mods), key)


def _split(hotkey: str | hotkeys.Hotkey | Chord) -> tuple[tuple[str, ...], str]:
    if isinstance(hotkey, hotkeys.Hotkey | Chord):
        return hotkey.modifiers, hotkey.key
    parsed = hotkeys.parse(hotkey)
    return parsed.modifiers, parsed.key


def x11_keysym_name(key: str) -> str:
    """The X keysym name of a normal-form key ("1" -> "1", "A" -> "a", "F5" -> "F5")."""
    if key in _X11_NAMED:
        return _X11_NAMED[key]
    if len(key) == 1 and key.isascii() and key.isalpha():
        return key.lower()
    if len(key) == 1 and key.isdigit():
        return key
    if key.startswith("F") and key[1:].isdigit():
        return key
    raise ValidationError(f"按键“{key}”无法用于 X11", f"Key '{key}' has no X11 keysym", field="hotkey")


def to_x11(hotkey: str | hotkeys.Hotkey | Chord) -> tuple[tuple[str, ...], str]:
    """(modifier names, keysym name): ("Ctrl", "Alt"), "1"."""
    mods, key = _split(hotkey)
    return mods, x11_keysym_name(key)


def keyboard_key_name(key: str) -> str:
    if key in _KEYBOARD_NAMED:
        return _KEYBOARD_NAMED[key]
    if len(key) == 1:
        return key.lower()
    if key.startswith("F") and key[1:].isdigit():
        return key.lower()
    raise ValidationError(f"按键“{key}”无法用于 Windows", f"Key '{key}' has no Windows name", field="hotkey")


def to_keyboard(hotkey: str | hotkeys.Hotkey | Chord) -> str:
    """The `keyboard` package's hotkey string: "Ctrl+Alt+1" -> "ctrl+alt+1"."""
    mods, key = _split(hotkey)
    return "+".join([*(_KEYBOARD_MODS[m] for m in mods), keyboard_key_name(key)])


def to_windows_vk(hotkey: str | hotkeys.Hotkey | Chord) -> tuple[int, int]:
    """(RegisterHotKey modifier flags, virtual-key code)."""
    mods, key = _split(hotkey)
    flags = 0
    for m in mods:
        flags |= _WIN_MODS[m]
    if key in _WIN_VK_NAMED:
        vk = _WIN_VK_NAMED[key]
    elif len(key) == 1 and key.isascii() and key.isalnum():
        vk = ord(key.upper())
    elif key.startswith("F") and key[1:].isdigit() and 1 <= int(key[1:]) <= 24:
        vk = 0x70 + int(key[1:]) - 1
    else:
        raise ValidationError(f"按键“{key}”无法用于 Windows", f"Key '{key}' has no Windows key code", field="hotkey")
    return flags, vk
