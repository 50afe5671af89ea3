"""assistant.app.wire_hotkeys + connect_panel: the real HotkeyMap and PasteFlow on the panel's own
StoreWorker and the dummy backend (no global hotkeys: it copies and says "press Ctrl+V"): hotkey ->
fill-in form in the panel -> paste flow; Enter in the panel -> paste flow; pause from the panel, the
tray or the pause hotkey stays in step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from assistant.app import connect_panel, wire_hotkeys
from assistant.core import replies, templates
from assistant.ui.panel.fill_dialog import FillFieldsDialog
from assistant.ui.widgets.tray import Tray


def wire(panel, backend):  # noqa: ANN001, ANN201 - as app.run does, on the panel's worker
    from assistant.services.systemwatch import SystemWatch

    watch = SystemWatch(panel.worker, interval_ms=0)
    hotkeys, flow = wire_hotkeys(backend, panel.worker, watch)
    tray = Tray()
    connect_panel(panel, tray, hotkeys, flow)
    watch.start()
    hotkeys.start()
    return tray, hotkeys, flow


@pytest.fixture
def wired(qtbot, panel, db_path, monkeypatch):
    from assistant.platform.detect import create_backend

    monkeypatch.setenv("KEFU_HOTKEY_BACKEND", "dummy")
    tray, hotkeys, flow = wire(panel, create_backend())
    yield panel, tray, hotkeys, flow
    flow.shutdown()
    hotkeys.shutdown()


def open_form() -> FillFieldsDialog:
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, FillFieldsDialog) and w.isVisible())


def test_start_message_reaches_the_panel(wired):
    panel, _tray, _hotkeys, _flow = wired
    assert panel.paste_available
    assert panel.message_bar.isVisible()
    assert "全局快捷键" in panel.message_bar.text()


def test_focus_search_hotkey(qtbot, wired):
    panel, _tray, hotkeys, flow = wired
    hotkeys.backend.hotkeys.trigger("action:focus_search")
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.search_box)


def test_reply_hotkey_with_fields_asks_in_the_panel_then_pastes(qtbot, wired, store):
    panel, _tray, hotkeys, flow = wired
    reply = next(r for r in replies.list_replies(store) if r.fields == ["客户"] or "客户" in r.fields)
    replies.update_reply(store, reply.id, hotkey="Ctrl+Alt+7")
    hotkeys.reload()
    hotkeys.backend.hotkeys.trigger(f"paste:{reply.id}")
    qtbot.waitUntil(lambda: any(isinstance(w, FillFieldsDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()))
    form = open_form()
    for name, edit in form.edits.items():
        edit.setText(f"值{name}")
    form.accept()
    expected = templates.render(reply.body, {name: f"值{name}" for name in reply.fields}).text
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == expected)
    qtbot.waitUntil(lambda: "已复制" in panel.message_bar.text())


def test_enter_in_the_panel_goes_through_the_paste_flow(qtbot, wired, store):
    panel, _tray, _hotkeys, _flow = wired
    n = next(n for n, r in enumerate(panel.results_model.rows()) if not r.fields)
    row = panel.results_model.row_at(n)
    panel.select_row(n)
    before = replies.get_reply(store, row.id).use_count
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == row.body)
    qtbot.waitUntil(lambda: replies.get_reply(store, row.id).use_count == before + 1)


def test_pause_stays_in_step_everywhere(qtbot, wired):
    panel, tray, hotkeys, flow = wired
    panel.act_pause.trigger()
    assert hotkeys.is_paused and tray.is_paused() and panel.hotkeys_paused
    tray.act_pause.trigger()
    assert not hotkeys.is_paused and not panel.hotkeys_paused and not panel.act_pause.isChecked()
    hotkeys.toggle_pause()  # the pause hotkey
    assert panel.hotkeys_paused and tray.is_paused()


def test_chord_capture_suspends_hotkeys_quietly_and_keeps_the_pause(qtbot, wired):
    panel, tray, hotkeys, flow = wired
    panel.act_pause.trigger()  # the agent paused
    shown = panel.message_bar.text()
    messages: list[tuple] = []
    hotkeys.messages.message.connect(lambda m: messages.append((m.zh, m.en)))
    hotkeys.paused.connect(lambda *a: messages.append(("paused", *a)))
    panel.hotkey_capture_active.emit(True)  # the reply editor's hotkey field has the focus
    assert hotkeys.is_capture_suspended
    fired: list[str] = []
    flow.focus_search_requested.connect(lambda: fired.append("focus_search"))
    hotkeys.backend.hotkeys.trigger("action:focus_search")  # a chord pressed into the field
    assert fired == []
    panel.hotkey_capture_active.emit(False)
    assert not hotkeys.is_capture_suspended
    assert hotkeys.is_paused and tray.is_paused() and panel.hotkeys_paused  # still paused
    assert messages == [] and panel.message_bar.text() == shown



def test_click_on_the_editors_hotkey_field_ungrabs_before_any_event_is_processed(qtbot, panel, db_path):
    from PySide6.QtWidgets import QLineEdit

    from assistant.ui.panel.editor_dialog import EditorDialog
    from tests.helpers.fakes import Recorder, fake_backend

    _tray, hotkeys, flow = wire(panel, fake_backend(Recorder()))
    try:
        panel.new_reply()
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, EditorDialog) and w.isVisible())
        qtbot.waitUntil(lambda: dialog._loaded)
        chat = QLineEdit()  # the agent comes from the chat client
        qtbot.addWidget(chat)
        chat.show()
        chat.activateWindow()
        qtbot.waitUntil(chat.isActiveWindow)
        qtbot.waitUntil(lambda: bool(hotkeys.backend.hotkeys.registered()))  # the snapshot came from the worker
        qtbot.mousePress(dialog.hotkey, Qt.MouseButton.LeftButton)
        assert hotkeys.backend.hotkeys.registered() == {}  # synchronously: a chord now is recorded
        qtbot.mouseRelease(dialog.hotkey, Qt.MouseButton.LeftButton)
        dialog.reject()
        qtbot.waitUntil(lambda: bool(hotkeys.backend.hotkeys.registered()))  # closing grabs again
    finally:
        flow.shutdown()
        hotkeys.shutdown()
