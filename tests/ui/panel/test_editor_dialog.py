"""Reply editor: validation errors beside the field (in Chinese), create / edit / duplicate /
delete with undo, insert-field buttons, and hotkey capture with conflicts shown at once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from assistant.core import replies, settings
from assistant.ui.panel.editor_dialog import EditorDialog

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def open_editor(qtbot, worker, reply_id=None, **kw) -> EditorDialog:
    dialog = EditorDialog(worker, reply_id, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog._loaded)
    return dialog


def save_and_wait_error(qtbot, dialog, field):
    dialog.save()
    qtbot.waitUntil(lambda: dialog.error_text(field) != "", timeout=5000)
    return dialog.error_text(field)


def test_empty_body_is_refused_beside_the_body(qtbot, worker, store):
    count = replies.count_replies(store)
    dialog = open_editor(qtbot, worker)
    dialog.title.setText("空的")
    text = save_and_wait_error(qtbot, dialog, "body")
    assert "回复内容不能为空" in text
    assert dialog.isVisible()
    assert dialog.body.property("invalid") is True
    assert replies.count_replies(store) == count


def test_unknown_fill_in_field_is_named(qtbot, worker):
    dialog = open_editor(qtbot, worker)
    dialog.body.setPlainText("亲，{顾客}您好")
    text = save_and_wait_error(qtbot, dialog, "body")
    assert "未知的填空字段 {顾客}" in text


def test_duplicate_short_code_is_shown_beside_the_code(qtbot, worker):
    dialog = open_editor(qtbot, worker)
    dialog.body.setPlainText("亲，在的～")
    dialog.code.setText("wh1")
    text = save_and_wait_error(qtbot, dialog, "code")
    assert "短码“wh1”已被回复" in text
    assert dialog.error_text("body") == ""


def test_create_with_insert_field_buttons_and_all_attributes(qtbot, worker, store):
    dialog = open_editor(qtbot, worker)
    dialog.title.setText("测试回复")
    dialog.body.setPlainText("您好 ")
    dialog.body.moveCursor(dialog.body.textCursor().MoveOperation.End)
    next(b for b in dialog.field_buttons if b.text() == "{客户}").click()
    dialog.group.setEditText("测试分组/子组")
    dialog.code.setText("t1")
    dialog.set_language("en")
    dialog.platform_buttons["jd"].setChecked(True)
    dialog.select_angle("gift")
    with qtbot.waitSignal(dialog.saved) as blocker:
        dialog.save()
    row = blocker.args[0]
    reply = replies.get_reply(store, row.id)
    assert reply.body == "您好 {客户}"
    assert (reply.title, reply.code, reply.language, reply.platforms, reply.angle) == \
        ("测试回复", "t1", "en", ["jd"], "gift")
    assert reply.group_path == "测试分组/子组"
    assert not dialog.isVisible()


def test_edit_duplicate_and_delete_with_undo(qtbot, worker, store, panel):
    reply = replies.get_reply(store, "wh2")
    dialog = open_editor(qtbot, worker, reply.id)
    assert dialog.body.toPlainText() == reply.body
    assert dialog.group.currentText() == reply.group_path
    dialog.title.setText("改过的标题")
    with qtbot.waitSignal(dialog.saved):
        dialog.save()
    assert replies.get_reply(store, reply.id).title == "改过的标题"

    copy = open_editor(qtbot, worker, reply.id, duplicate=True)
    assert copy.reply_id is None and copy.code.text() == "" and copy.title.text().startswith("改过的标题")
    with qtbot.waitSignal(copy.saved) as blocker:
        copy.save()
    assert blocker.args[0].id != reply.id
    assert replies.get_reply(store, blocker.args[0].id).body == reply.body

    count = replies.count_replies(store)
    panel.delete_reply(reply.id)
    qtbot.waitUntil(lambda: replies.count_replies(store) == count - 1)
    qtbot.waitUntil(lambda: "已删除" in panel.message_bar.text())
    assert panel.message_bar._action.isVisible()
    panel.message_bar._action.click()
    qtbot.waitUntil(lambda: replies.count_replies(store) == count)
    back = replies.get_reply(store, "wh2")
    assert (back.uuid, back.title) == (reply.uuid, "改过的标题")


def test_hotkey_capture_records_the_chord(qtbot, worker):
    dialog = open_editor(qtbot, worker)
    dialog.hotkey.setFocus()
    qtbot.keyClick(dialog.hotkey, Qt.Key.Key_K, CTRL_ALT)
    assert dialog.hotkey.hotkey() == "Ctrl+Alt+K"
    qtbot.keyClick(dialog.hotkey, Qt.Key.Key_Backspace)
    assert dialog.hotkey.hotkey() == ""


def test_hotkey_conflict_with_a_global_action_is_shown_at_once(qtbot, worker):
    dialog = open_editor(qtbot, worker)
    dialog.hotkey.setFocus()
    qtbot.keyClick(dialog.hotkey, Qt.Key.Key_F, CTRL_ALT)  # the default "focus search" hotkey
    qtbot.waitUntil(lambda: dialog.hotkey_status_text() != "")
    assert settings.ACTIONS["focus_search"][1] in dialog.hotkey_status_text()
    assert dialog.hotkey_status.objectName() == "FieldError"
    dialog.body.setPlainText("亲～")
    dialog.save()
    assert "聚焦搜索框" in dialog.error_text("hotkey")


def test_hotkey_conflict_with_another_reply_and_a_free_one(qtbot, worker, store):
    owner = replies.update_reply(store, "wh3", hotkey="Ctrl+Alt+3")
    dialog = open_editor(qtbot, worker)
    dialog.hotkey.setFocus()
    qtbot.keyClick(dialog.hotkey, Qt.Key.Key_3, CTRL_ALT)
    qtbot.waitUntil(lambda: dialog.hotkey_status_text() != "")
    assert owner.title in dialog.hotkey_status_text()
    qtbot.keyClick(dialog.hotkey, Qt.Key.Key_9, CTRL_ALT)
    qtbot.waitUntil(lambda: "可用" in dialog.hotkey_status_text())
    assert dialog.hotkey_status.objectName() == "FieldOk"
    # Its own hotkey is no conflict when editing that reply.
    own = open_editor(qtbot, worker, owner.id)
    qtbot.waitUntil(lambda: own.hotkey_status_text() != "")
    assert "可用" in own.hotkey_status_text()


def test_reserved_chord_is_explained(qtbot, worker):
    dialog = open_editor(qtbot, worker)
    dialog.hotkey.setFocus()
    qtbot.keyClick(dialog.hotkey, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.hotkey_status_text() != "")
    assert "Ctrl+V" in dialog.hotkey_status_text()
    assert dialog.hotkey_status.objectName() == "FieldError"


def test_panel_new_reply_preselects_the_current_group(qtbot, panel, store):
    from assistant.ui.panel import queries

    group = replies.get_group(store, "售前/问候")
    panel.set_group_filter(queries.GroupFilter("group", group.id))
    qtbot.waitUntil(lambda: panel._library is not None)
    panel.new_reply()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, EditorDialog) and w.isVisible())
    qtbot.waitUntil(lambda: dialog._loaded)
    assert dialog.group.currentText() == "售前/问候"
    dialog.reject()


def test_panel_plus_button_opens_an_empty_editor(qtbot, panel):
    # clicked(bool) used to reach new_reply(body=False): setPlainText(False) raised TypeError.
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, EditorDialog) and w.isVisible())
    qtbot.waitUntil(lambda: dialog._loaded)
    assert dialog.body.toPlainText() == ""
    dialog.reject()


def test_hotkey_field_stops_global_hotkeys_at_the_click_not_at_the_focus_in(qtbot):
    # Qt hands the focus to a field of an inactive window only once it has processed the window's
    # activation; the global hotkeys were live until then, so a chord pressed right after the
    # click fired the reply's hotkey instead of being recorded.
    from PySide6.QtWidgets import QLineEdit

    from assistant.ui.widgets.widgets import HotkeyEdit

    chat = QLineEdit()  # stands in for the chat client holding the keyboard focus
    field = HotkeyEdit()
    qtbot.addWidget(chat)
    qtbot.addWidget(field)
    field.show()
    chat.show()
    chat.activateWindow()
    qtbot.waitUntil(chat.isActiveWindow)
    seen: list[bool] = []
    field.capturing_changed.connect(seen.append)
    qtbot.mousePress(field, Qt.MouseButton.LeftButton)
    assert seen == [True] and field.is_capturing()  # at once, before any event is processed
    qtbot.waitUntil(field.hasFocus)  # the click asked for the focus too
    qtbot.mouseRelease(field, Qt.MouseButton.LeftButton)
    assert seen == [True]  # the focus-in does not announce it twice
    chat.activateWindow()
    qtbot.waitUntil(lambda: seen == [True, False])  # leaving the field grabs again
    assert not field.is_capturing()
