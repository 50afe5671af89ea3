import pytest

from assistant.core import hotkeys
from assistant.errors import ValidationError


@pytest.mark.parametrize("text,expected", [
    ("ctrl+alt+1", "Ctrl+Alt+1"),
    ("Alt + Ctrl + f1", "Ctrl+Alt+F1"),
    ("F9", "F9"),
    ("win+shift+q", "Shift+Meta+Q"),
    ("Control+Option+Space", "Ctrl+Alt+Space"),
    ("ctrl+alt+pgdn", "Ctrl+Alt+PageDown"),
    ("Ctrl+Alt++", "Ctrl+Alt++"),
])
def test_normal_form(text, expected):
    assert hotkeys.normalize(text) == expected


@pytest.mark.parametrize("text,reason", [
    ("", "为空"),
    ("a", "修饰键"),
    ("shift+a", "打字"),
    ("ctrl+v", "输入法"),
    ("ctrl+space", "输入法"),
    ("ctrl+ctrl+1", "重复"),
    ("ctrl+a+b", "一个"),
    ("ctrl+alt", "主键"),
    ("ctrl+大", "不认识"),
])
def test_rejections_explain_why(text, reason):
    with pytest.raises(ValidationError) as info:
        hotkeys.parse(text)
    assert reason in info.value.zh
