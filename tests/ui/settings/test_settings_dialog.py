"""Settings dialog: generated from the declarations, saved to the store and read back, validation
beside the setting, restore defaults, and applied live to the panel."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QSpinBox

from assistant.core import replies, settings
from assistant.ui.settings.settings_dialog import ActionHotkeys, AppRules, SettingsDialog


def open_settings(qtbot, worker, data_dir) -> SettingsDialog:
    dialog = SettingsDialog(worker, {}, data_dir=data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.save_button.isEnabled, timeout=5000)
    return dialog


def test_every_declared_setting_has_an_editor(qtbot, worker, data_dir):
    dialog = open_settings(qtbot, worker, data_dir)
    # ui.geometry is the panel's own; team.* only change with `kefu team connect` (with the keyring).
    shown = {s.name for s in settings.DECLARED} - {"ui.geometry", "team.server", "team.role", "team.kind", "team.agents"}
    assert set(dialog.editors) == shown
    assert isinstance(dialog.editors["ui.always_on_top"].widget, QCheckBox)
    assert isinstance(dialog.editors["ui.width"].widget, QSpinBox)
    assert isinstance(dialog.editors["ui.language"].widget, QComboBox)
    assert isinstance(dialog.editors["hotkeys.actions"].widget, ActionHotkeys)
    assert isinstance(dialog.editors["paste.app_rules"].widget, AppRules)
    spin = dialog.editors["ui.width"].widget
    assert (spin.minimum(), spin.maximum()) == (260, 1200)


def test_round_trip_through_the_store(qtbot, worker, store, data_dir):
    dialog = open_settings(qtbot, worker, data_dir)
    ed = dialog.editors
    ed["ui.language"].set("en")
    ed["ui.width"].set(420)
    ed["ui.always_on_top"].set(False)
    ed["agent.name"].set("小美")
    ed["ui.dock"].set("left")
    ed["paste.restore_delay_ms"].set(500)
    actions = dict(settings.get(store, "hotkeys.actions"))
    actions["next_chase"] = "Ctrl+Alt+J"
    ed["hotkeys.actions"].set(actions)
    ed["paste.app_rules"].set([{"name": "千牛", "process": "AliWorkBench", "method": "shift+insert",
                                "restore_delay_ms": 600}])
    with qtbot.waitSignal(dialog.saved) as blocker:
        dialog.save()
    saved = blocker.args[0]
    for name, value in (("ui.language", "en"), ("ui.width", 420), ("ui.always_on_top", False),
                        ("agent.name", "小美"), ("ui.dock", "left"), ("paste.restore_delay_ms", 500)):
        assert settings.get(store, name) == value
        assert saved[name] == value
    assert settings.get(store, "hotkeys.actions")["next_chase"] == "Ctrl+Alt+J"
    assert settings.get(store, "paste.app_rules") == [
        {"name": "千牛", "process": "AliWorkBench", "method": "shift+insert", "restore_delay_ms": 600}]

    again = open_settings(qtbot, worker, data_dir)
    assert again.values() == {**again.values(), **{k: saved[k] for k in again.editors}}
    assert again.editors["agent.name"].get() == "小美"
    assert again.editors["hotkeys.actions"].get()["next_chase"] == "Ctrl+Alt+J"

    again.restore_defaults()
    assert again.editors["ui.width"].get() == 360
    with qtbot.waitSignal(again.saved):
        again.save()
    assert settings.get(store, "ui.width") == 360
    assert settings.get(store, "agent.name") == ""
    assert not store.query("SELECT 1 FROM settings WHERE key = 'ui.width'"), "a default is not stored"


def test_an_action_hotkey_taken_by_a_reply_is_flagged_and_refused(qtbot, worker, store, data_dir):
    replies.update_reply(store, "wh1", hotkey="Ctrl+Alt+Q")
    dialog = open_settings(qtbot, worker, data_dir)
    widget = dialog.editors["hotkeys.actions"].widget
    widget.edits["next_chase"].set_hotkey("Ctrl+Alt+Q")
    assert any("欢迎光临" in p for p in widget.problems()), widget.problems()
    dialog.save()
    qtbot.waitUntil(lambda: dialog.error_text("hotkeys.actions") != "", timeout=5000)
    assert "Ctrl+Alt+Q" in dialog.error_text("hotkeys.actions")
    assert settings.get(store, "hotkeys.actions")["next_chase"] != "Ctrl+Alt+Q"
    assert dialog.isVisible()


def test_duplicate_action_hotkeys_are_flagged_at_once(qtbot, worker, data_dir):
    dialog = open_settings(qtbot, worker, data_dir)
    widget = dialog.editors["hotkeys.actions"].widget
    widget.edits["star_selection"].set_hotkey(widget.edits["focus_search"].hotkey())
    assert widget.problems() and "重复" in widget.problems()[0]


def test_a_bad_paste_rule_is_shown_beside_the_rules(qtbot, worker, store, data_dir):
    dialog = open_settings(qtbot, worker, data_dir)
    dialog.editors["paste.app_rules"].set([{"name": "坏的", "title": "([未闭合"}])
    dialog.save()
    assert "坏的" in dialog.error_text("paste.app_rules")
    assert settings.get(store, "paste.app_rules") == []


def test_the_panel_applies_saved_settings_live(qtbot, panel, store):
    assert panel.is_always_on_top()
    panel.open_settings()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog) and w.isVisible())
    qtbot.waitUntil(dialog.save_button.isEnabled)
    dialog.editors["ui.always_on_top"].set(False)
    dialog.editors["ui.width"].set(400)
    with qtbot.waitSignal(panel.settings_saved):
        dialog.save()
    assert not panel.is_always_on_top()
    assert not panel.pin_button.isChecked()
    qtbot.waitUntil(lambda: panel.frameGeometry().width() == 400)


def test_the_shops_synonyms_one_group_per_line(qtbot, worker, store, data_dir):
    """搜索同义词 in the settings: a line per group, words apart by spaces, / or 、; a line of one word is
    refused beside the editor and nothing is stored."""
    dialog = open_settings(qtbot, worker, data_dir)
    text = dialog.editors["search.synonyms"].widget
    text.setPlainText("退钱 钱退/返款\n\n亲子装、家庭装\n")
    with qtbot.waitSignal(dialog.saved):
        dialog.save()
    assert settings.get(store, "search.synonyms") == [["退钱", "钱退", "返款"], ["亲子装", "家庭装"]]
    again = open_settings(qtbot, worker, data_dir)
    assert again.editors["search.synonyms"].widget.toPlainText() == "退钱 钱退 返款\n亲子装 家庭装"
    again.editors["search.synonyms"].widget.setPlainText("只有一个词")
    again.save()
    qtbot.waitUntil(lambda: again.error_text("search.synonyms") != "", timeout=5000)
    assert "2 到" in again.error_text("search.synonyms")
    assert settings.get(store, "search.synonyms") == [["退钱", "钱退", "返款"], ["亲子装", "家庭装"]]
