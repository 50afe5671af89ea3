"""The Windows backend against a fake `keyboard` module and a fake Win32 API (runs on Linux)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.platform import keys
from assistant.platform.base import HotkeyConflict, WindowInfo
from assistant.platform.windows.backend import (
    CLOCK_GAP_S,
    HEALTH_INTERVAL_MS,
    KeyboardHotkeys,
    KeyboardKeySender,
    Win32Windows,
    create,
    target_blocked,
)
from tests.helpers.fakes import FakeKeyboardModule, FakeWinApi


class Wall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def kb():
    return FakeKeyboardModule()


@pytest.fixture
def api():
    return FakeWinApi()


@pytest.fixture
def hotkeys(qapp, kb, api):
    wall = Wall()
    h = KeyboardHotkeys(kb, api, wall_clock=wall)
    h.wall = wall
    yield h
    h.close()


def test_module_does_not_import_keyboard():
    code = ("import sys, assistant.platform.windows.backend, assistant.platform.windows.win32; "
            "assert 'keyboard' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_register_uses_keyboard_names_and_suppresses(hotkeys, kb):
    hotkeys.register("Ctrl+Alt+1", "paste:3")
    (name, _, kwargs), = kb.hotkeys.values()
    assert name == "ctrl+alt+1" and kwargs["suppress"] is True
    assert hotkeys.registered() == {"paste:3": "Ctrl+Alt+1"}
    hotkeys.unregister("paste:3")
    assert kb.hotkeys == {} and hotkeys.registered() == {}


def test_hook_callback_only_emits_and_the_gui_thread_delivers(qtbot, hotkeys, kb):
    seen = []
    hotkeys.set_callback(seen.append)
    hotkeys.register("Ctrl+Alt+1", "paste:3")
    kb.trigger("ctrl+alt+1")  # what keyboard's hook thread does
    assert seen == []  # queued: nothing ran inside the hook
    qtbot.waitUntil(lambda: seen == ["paste:3"], timeout=1000)


def test_hook_from_another_thread(qtbot, hotkeys, kb):
    import threading

    seen = []
    hotkeys.set_callback(seen.append)
    hotkeys.register("Ctrl+Alt+2", "action:focus_search")
    thread = threading.Thread(target=kb.trigger, args=("ctrl+alt+2",))
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: seen == ["action:focus_search"], timeout=1000)


def test_hotkey_registered_by_another_program_is_a_conflict(hotkeys, kb, api):
    api.taken.add(keys.to_windows_vk("Ctrl+Alt+X"))
    with pytest.raises(HotkeyConflict) as info:
        hotkeys.register("Ctrl+Alt+X", "action:star_selection")
    assert info.value.hotkey == "Ctrl+Alt+X" and "其他程序" in info.value.zh
    assert kb.hotkeys == {}


def test_rehook_after_clock_gap(hotkeys, kb):
    hotkeys.register("Ctrl+Alt+1", "paste:3")
    hotkeys.register("Ctrl+Alt+F", "action:focus_search")
    hotkeys.wall.t += HEALTH_INTERVAL_MS / 1000  # a normal tick
    hotkeys.check_health()
    assert hotkeys.rehooks == 0
    hotkeys.wall.t += HEALTH_INTERVAL_MS / 1000 + CLOCK_GAP_S + 60  # the laptop slept a minute
    hotkeys.check_health()
    assert hotkeys.rehooks == 1
    assert ("unhook_all",) in kb.calls
    assert sorted(name for name, _, _ in kb.hotkeys.values()) == ["ctrl+alt+1", "ctrl+alt+f"]
    assert hotkeys.registered() == {"paste:3": "Ctrl+Alt+1", "action:focus_search": "Ctrl+Alt+F"}


def test_rehook_after_unlock(hotkeys, kb, api):
    hotkeys.register("Ctrl+Alt+1", "paste:3")
    api.desktop = "Winlogon"
    hotkeys.wall.t += 2
    hotkeys.check_health()
    assert hotkeys.rehooks == 0
    api.desktop = "Default"
    hotkeys.wall.t += 2
    hotkeys.check_health()
    assert hotkeys.rehooks == 1


def test_rehooked_callbacks_still_deliver(qtbot, hotkeys, kb):
    seen = []
    hotkeys.set_callback(seen.append)
    hotkeys.register("Ctrl+Alt+1", "paste:3")
    hotkeys.rehook()
    kb.trigger("ctrl+alt+1")
    qtbot.waitUntil(lambda: seen == ["paste:3"], timeout=1000)


def test_key_sender_neutralises_modifiers_and_sends_the_chord(kb):
    sender = KeyboardKeySender(kb)
    kb.pressed = {"ctrl", "alt"}
    assert sender.held_modifiers() == {"Ctrl", "Alt"}
    assert sender.release_modifiers({"Ctrl", "Alt", "Shift", "Meta"}) == {"Ctrl", "Alt"}
    assert sender.held_modifiers() == set()
    sender.send_chord("ctrl+v")
    assert kb.calls[-1] == ("send", "ctrl+v", frozenset())
    sender.send_chord("shift+insert")
    assert kb.calls[-1][1] == "shift+insert"


def test_typing_turns_newlines_into_shift_enter(kb):
    KeyboardKeySender(kb).type_text("第一行\n第二行")
    assert [c for c in kb.calls if c[0] in ("write", "send")] == [
        ("write", "第一行"), ("send", "shift+enter", frozenset()), ("write", "第二行")]


@pytest.mark.parametrize(("own", "target", "blocked"), [
    (0x2000, 0x2000, False),  # both medium
    (0x2000, 0x3000, True),  # target elevated
    (0x2000, None, True),  # access denied reading the target: elevated
    (0x3000, 0x3000, False),  # we run elevated too
    (0x3000, None, False),
    (0x3000, 0x4000, True),  # a system process
    (None, 0x2000, False),
])
def test_target_blocked(own, target, blocked):
    assert target_blocked(own, target) is blocked


def test_elevated_target_is_reported(api):
    windows = Win32Windows(api, own_pid=1)
    info = windows.describe(0x500)
    assert info == WindowInfo(0x500, "StandardFrame", "千牛工作台", "AliWorkBench.exe", 42)
    assert windows.check_target(info) is None
    api.levels[42] = 0x3000
    warning = windows.check_target(info)
    assert warning and "管理员" in warning[0] and "administrator" in warning[1]
    assert "AliWorkBench.exe" in warning[0]


def test_window_tracking(api):
    api.pids[0x600] = 1
    windows = Win32Windows(api, own_pid=1)
    assert windows.foreground() == 0x500
    assert windows.is_own(0x600) and not windows.is_own(0x500)
    assert windows.activate(0x600) and windows.foreground() == 0x600
    assert not windows.activate(0x777)  # gone


def test_create_with_fakes(qapp, kb, api):
    backend = create("test", keyboard=kb, api=api)
    try:
        assert backend.name == "windows" and backend.capabilities.global_hotkeys
        assert backend.windows.checks_targets
    finally:
        backend.close()
