"""Normal-form hotkeys to X11 keysyms, `keyboard` names and Windows virtual keys; paste chords."""

from __future__ import annotations

import pytest

from assistant.errors import ValidationError
from assistant.platform import keys


@pytest.mark.parametrize(("hotkey", "expected"), [
    ("Ctrl+Alt+1", (("Ctrl", "Alt"), "1")),
    ("ctrl+alt+a", (("Ctrl", "Alt"), "a")),
    ("Alt+Ctrl+F5", (("Ctrl", "Alt"), "F5")),
    ("Win+Shift+Space", (("Shift", "Meta"), "space")),
    ("Ctrl+Alt+`", (("Ctrl", "Alt"), "grave")),
    ("Ctrl+Alt+PageDown", (("Ctrl", "Alt"), "Next")),
    ("Ctrl+Alt+/", (("Ctrl", "Alt"), "slash")),
    ("F9", ((), "F9")),
])
def test_to_x11(hotkey, expected):
    assert keys.to_x11(hotkey) == expected


@pytest.mark.parametrize(("hotkey", "expected"), [
    ("Ctrl+Alt+1", "ctrl+alt+1"),
    ("Ctrl+Alt+X", "ctrl+alt+x"),
    ("Meta+Alt+F12", "alt+windows+f12"),
    ("Ctrl+Alt+PageUp", "ctrl+alt+page up"),
    ("Ctrl+Alt+=", "ctrl+alt+="),
])
def test_to_keyboard(hotkey, expected):
    assert keys.to_keyboard(hotkey) == expected


def test_to_windows_vk():
    assert keys.to_windows_vk("Ctrl+Alt+1") == (keys.MOD_CONTROL | keys.MOD_ALT, ord("1"))
    assert keys.to_windows_vk("Ctrl+Alt+x") == (keys.MOD_CONTROL | keys.MOD_ALT, ord("X"))
    assert keys.to_windows_vk("Shift+F1") == (keys.MOD_SHIFT, 0x70)
    assert keys.to_windows_vk("Win+Alt+F24") == (keys.MOD_WIN | keys.MOD_ALT, 0x87)
    assert keys.to_windows_vk("Ctrl+Alt+;") == (keys.MOD_CONTROL | keys.MOD_ALT, 0xBA)


@pytest.mark.parametrize(("text", "mods", "key"), [
    ("ctrl+v", ("Ctrl",), "V"),
    ("Shift+Insert", ("Shift",), "Insert"),
    ("shift + ins", ("Shift",), "Insert"),
    ("ctrl+c", ("Ctrl",), "C"),
    ("Return", (), "Enter"),
])
def test_parse_chord(text, mods, key):
    chord = keys.parse_chord(text)
    assert (chord.modifiers, chord.key) == (mods, key)


@pytest.mark.parametrize("text", ["", "ctrl+", "ctrl+v+c", "ctrl+ünknown", "+"])
def test_parse_chord_rejects(text):
    with pytest.raises(ValidationError):
        keys.parse_chord(text)


def test_chords_map_to_backends():
    assert keys.to_x11(keys.parse_chord("ctrl+v")) == (("Ctrl",), "v")
    assert keys.to_x11(keys.parse_chord("shift+insert")) == (("Shift",), "Insert")
    assert keys.to_keyboard(keys.parse_chord("shift+insert")) == "shift+insert"


def test_invalid_hotkeys_are_validation_errors():
    with pytest.raises(ValidationError) as info:
        keys.to_x11("Ctrl+Alt+Nope")
    assert info.value.zh and info.value.en
    with pytest.raises(ValidationError):
        keys.to_keyboard("Ctrl+V")  # reserved: an agent's own paste key


def test_paste_methods_match_the_setting():
    from assistant.core import settings

    assert set(keys.PASTE_METHODS) == set(settings.BY_NAME["paste.chord"].choices)
