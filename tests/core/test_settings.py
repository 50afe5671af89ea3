import pytest

from assistant.core import replies, settings
from assistant.errors import ValidationError


def test_defaults_declared_once(store):
    values = settings.get_all(store)
    assert values["ui.language"] == "zh_CN" and values["paste.restore_delay_ms"] == 300
    assert set(values["hotkeys.actions"]) == set(settings.ACTIONS)
    assert all(s.zh and s.en for s in settings.DECLARED)


def test_set_validates_and_round_trips(store):
    settings.set(store, "ui.always_on_top", "false")
    assert settings.get(store, "ui.always_on_top") is False
    with pytest.raises(ValidationError):
        settings.set(store, "ui.dock", "top")
    with pytest.raises(ValidationError):
        settings.set(store, "paste.restore_delay_ms", 5)
    with pytest.raises(ValidationError):
        settings.set(store, "no.such", 1)


def test_action_hotkeys_conflicts(store):
    actions = settings.get(store, "hotkeys.actions")
    with pytest.raises(ValidationError) as info:
        settings.set(store, "hotkeys.actions", {**actions, "next_chase": actions["focus_search"]})
    assert "聚焦搜索框" in info.value.zh and "粘贴下一条催单" in info.value.zh
    replies.create_reply(store, body="x", title="我的回复", hotkey="Ctrl+Alt+9")
    with pytest.raises(ValidationError) as info:
        settings.set(store, "hotkeys.actions", {**actions, "toggle_pause": "alt+ctrl+9"})
    assert "我的回复" in info.value.zh


def test_reset_restores_defaults(store):
    settings.set(store, "ui.width", 500)
    settings.reset(store)
    assert settings.get(store, "ui.width") == 360


def test_hand_edited_bad_value_falls_back_to_default(store):
    with store.write() as db:
        db.execute("INSERT INTO settings (key, value, updated_at) VALUES ('ui.width', '\"wide\"', 'x')")
    assert settings.get(store, "ui.width") == 360
