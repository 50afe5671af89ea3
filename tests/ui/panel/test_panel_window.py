"""The window: docked at full work-area height, attached beside a window and following it, falling
back to the screen edge with a message; always on top; never taking focus when shown."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from assistant.core import settings
from assistant.ui.widgets import docking


def test_edge_rect_takes_the_full_work_area_height():
    work = QRect(0, 0, 1920, 1040)
    assert docking.edge_rect(work, "right", 360) == QRect(1560, 0, 360, 1040)
    assert docking.edge_rect(work, "left", 360) == QRect(0, 0, 360, 1040)
    assert docking.edge_rect(QRect(1920, 30, 1366, 738), "right", 400) == QRect(2886, 30, 400, 738)


def test_beside_rect_prefers_the_right_then_the_left_then_overlaps():
    work = QRect(0, 0, 1920, 1080)
    rect, side = docking.beside_rect(QRect(100, 50, 1000, 900), work, 360)
    assert (rect, side) == (QRect(1100, 50, 360, 900), "right")
    rect, side = docking.beside_rect(QRect(800, 50, 1100, 900), work, 360)
    assert (rect, side) == (QRect(440, 50, 360, 900), "left")
    rect, side = docking.beside_rect(QRect(0, 0, 1920, 1080), work, 360)
    assert side == "inside" and rect.right() == 1919
    # a short window: the panel keeps a usable height, inside the work area
    rect, side = docking.beside_rect(QRect(100, 900, 1000, 150), work, 360, min_height=420)
    assert (rect, side) == (QRect(1100, 660, 360, 420), "right")
    rect, side = docking.beside_rect(QRect(100, 100, 1000, 150), work, 360, min_height=420)
    assert rect == QRect(1100, 100, 360, 420)
    rect, side = docking.beside_rect(QRect(100, 100, 1000, 150), QRect(0, 0, 1920, 300), 360, min_height=420)
    assert rect == QRect(1100, 0, 360, 300)  # a work area lower than the minimum: all of it


def test_panel_docks_right_at_full_height(qtbot, panel):
    panel.apply_placement()
    work = panel.docker.work_area()
    assert panel.frameGeometry() == QRect(work.right() - 360 + 1, work.top(), 360, work.height())
    panel.set_dock_mode("left")
    assert panel.frameGeometry().left() == work.left()


def test_attach_follows_the_window_and_falls_back_with_a_message(qtbot, panel, store):
    work = panel.docker.work_area()
    x, y = work.left() + 10, work.top() + 20
    target = {"rect": (x, y, 300, 400)}
    panel.set_window_locator(lambda pattern: target["rect"] if pattern == "千牛" else None)
    panel.config["ui.attach_pattern"] = "千牛"
    panel.set_dock_mode("attach")
    assert panel.frameGeometry() == QRect(x + 300, y, 360, 400)
    target["rect"] = (x + 40, y + 10, 300, 380)  # the chat window moved
    qtbot.waitUntil(lambda: panel.frameGeometry() == QRect(x + 340, y + 10, 360, 380), timeout=3000)
    target["rect"] = None  # closed
    qtbot.waitUntil(lambda: panel.message_bar.isVisible(), timeout=3000)
    assert "千牛" in panel.message_bar.text()
    work = panel.docker.work_area()
    assert panel.frameGeometry().right() == work.right()
    qtbot.waitUntil(lambda: settings.get(store, "ui.dock") == "attach")


def test_attach_without_any_locator_says_it_is_not_supported(qtbot, panel):
    panel.set_window_locator(None)
    panel.set_dock_mode("attach")
    assert panel.message_bar.isVisible()
    assert "不支持跟随" in panel.message_bar.text()


def test_always_on_top_toggle_is_saved(qtbot, panel, store):
    assert panel.is_always_on_top() and panel.pin_button.isChecked()
    panel.pin_button.click()
    assert not panel.is_always_on_top()
    assert not panel.act_on_top.isChecked()
    qtbot.waitUntil(lambda: settings.get(store, "ui.always_on_top") is False)
    assert panel.isVisible()


def test_showing_and_refreshing_never_take_focus(qtbot, panel):
    # Shown without activation (the platform honours it: X11 _NET_WM_USER_TIME 0, Windows SW_SHOWNOACTIVATE;
    # Qt's offscreen test platform activates every new window, so only the attribute is checked here).
    assert panel.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    chat = QLineEdit()
    qtbot.addWidget(chat)
    chat.show()
    chat.activateWindow()
    chat.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is chat)
    panel.show_panel()
    panel.refresh()
    panel.show_message("新消息")
    qtbot.wait(100)
    assert QApplication.focusWidget() is chat
    panel.focus_search()  # the focus-search hotkey: the one way in besides a click
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.search_box)


def test_closing_hides_to_the_tray_or_minimises_without_one(qtbot, panel):
    panel._tray_available = lambda: True
    panel.close()
    assert not panel.isVisible()
    panel.show_panel()
    assert panel.isVisible()
    panel._tray_available = lambda: False
    panel.close()
    assert panel.isMinimized() or not panel.isActiveWindow()


def test_free_mode_remembers_the_geometry(qtbot, panel, store):
    panel.set_dock_mode("free")
    panel.setGeometry(QRect(200, 150, 380, 600))
    qtbot.waitUntil(lambda: settings.get(store, "ui.geometry") == [200, 150, 380, 600], timeout=5000)


def test_tray_menu_drives_the_panel(qtbot, panel):
    from assistant.ui.widgets.tray import Tray

    tray = Tray()
    tray.toggle_requested.connect(panel.toggle_visible)
    tray.pause_toggled.connect(panel.set_hotkeys_paused)
    panel.pause_hotkeys_toggled.connect(tray.set_paused)
    tray.act_toggle.trigger()
    assert not panel.isVisible()
    tray.act_toggle.trigger()
    assert panel.isVisible()
    tray.act_pause.trigger()
    assert panel.hotkeys_paused and "已暂停" in panel.status.full_text()
    panel.act_pause.trigger()  # from the panel's menu: back on, the tray follows
    assert not tray.is_paused() and not tray.act_pause.isChecked()
    with qtbot.waitSignal(tray.quit_requested):
        tray.act_quit.trigger()


def test_attached_beside_a_short_window_the_panel_stays_on_the_screen(qtbot, panel):
    work = panel.docker.work_area()
    target = (work.left() + 10, work.bottom() - 260 + 1, 300, 260)  # a short chat window at the bottom
    panel.set_window_locator(lambda _pattern: target)
    panel.config["ui.attach_pattern"] = "千牛"
    panel.set_dock_mode("attach")
    frame = panel.frameGeometry()
    assert work.contains(frame), (frame, work)
    assert frame.height() >= docking.MIN_ATTACHED_HEIGHT and frame.bottom() == work.bottom()
    assert frame.left() == target[0] + 300  # still beside it


def test_the_attach_warning_goes_away_once_attaching_works(qtbot, panel):
    work = panel.docker.work_area()
    x, y = work.left() + 10, work.top() + 20
    target: dict = {"rect": None}
    panel.set_window_locator(lambda pattern: target["rect"] if pattern == "千牛" else None)
    panel.config["ui.attach_pattern"] = ""
    panel.set_dock_mode("attach")
    assert panel.message_bar.isVisible() and "尚未设置要跟随的窗口" in panel.message_bar.text()
    panel.apply_settings({"ui.attach_pattern": "千牛"})  # set in the settings; the chat client is not open yet
    assert "没有找到" in panel.message_bar.text()
    target["rect"] = (x, y, 300, 400)  # the agent opens it
    qtbot.waitUntil(lambda: panel.frameGeometry() == QRect(x + 300, y, 360, 400), timeout=3000)
    assert not panel.message_bar.isVisible()
    panel.show_message("别的消息")  # any other message stays
    target["rect"] = (x + 5, y, 300, 400)
    qtbot.waitUntil(lambda: panel.frameGeometry().left() == x + 305, timeout=3000)
    assert panel.message_bar.isVisible() and panel.message_bar.text() == "别的消息"


def test_ui_settings_set_from_the_command_line_apply_while_running(qtbot, panel, store):
    assert panel.is_always_on_top()
    settings.set(store, "ui.always_on_top", False)  # kefu settings set ui.always_on_top false
    settings.set(store, "ui.language", "en")
    settings.set(store, "ui.width", 420)
    panel.worker.data_changed.emit()  # what the worker's data_version poll announces
    qtbot.waitUntil(lambda: not panel.is_always_on_top(), timeout=5000)
    qtbot.waitUntil(lambda: panel.tabs.tabText(0) == "Replies", timeout=5000)
    qtbot.waitUntil(lambda: panel.frameGeometry().width() == 420, timeout=5000)
    assert not panel.pin_button.isChecked()


def test_the_panel_shows_what_is_posted_on_a_bridge_once(qtbot, panel):
    from assistant.services.messages import MessageBridge

    bridge = MessageBridge()
    panel.listen(bridge)
    panel.listen(bridge)  # connect_panel and wire_reminders may both ask: still shown once
    shown: list[tuple] = []
    original = panel.message_bar.show_message
    panel.message_bar.show_message = lambda *a, **k: (shown.append(a), original(*a, **k))
    bridge.post("交接文件已导出（2 个）", "Handover exported (2 files)", "success")
    assert shown == [("交接文件已导出（2 个）", "Handover exported (2 files)", "success")]
    assert panel.message_bar.message() == ("交接文件已导出（2 个）", "Handover exported (2 files)")
    assert panel.message_bar.level() == "success"
    bridge.post("已取消标星")  # a translate()d text: no English of its own
    assert panel.message_bar.message() == ("已取消标星", "已取消标星")
    assert panel.message_bar.level() == "info"
