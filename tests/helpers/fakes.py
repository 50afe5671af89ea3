"""Fakes for the platform base classes: clipboard, key sender, window tracker, scheduler (a manual
clock), hotkey backend, and the `keyboard` package. They append what happens to one shared list,
so tests can assert the exact order of the paste steps."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from assistant.platform.base import (
    Backend,
    Capabilities,
    ClipboardAccess,
    HotkeyBackend,
    HotkeyConflict,
    KeySender,
    WindowInfo,
    WindowTracker,
)


class Recorder(list):
    def names(self) -> list[str]:
        return [entry[0] for entry in self]


class FakeScheduler:
    """call_later on a manual clock: advance(ms) runs what became due, in order."""

    def __init__(self, log: Recorder | None = None) -> None:
        self.now = 0
        self._queue: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.log = log

    def call_later(self, delay_ms: int, fn: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (self.now + max(0, int(delay_ms)), next(self._seq), fn))

    def advance(self, ms: int) -> None:
        until = self.now + ms
        while self._queue and self._queue[0][0] <= until:
            when, _, fn = heapq.heappop(self._queue)
            self.now = max(self.now, when)
            fn()
        self.now = until

    def run_all(self, limit_ms: int = 60_000) -> None:
        self.advance(limit_ms)

    @property
    def pending(self) -> int:
        return len(self._queue)


class FakeClipboard(ClipboardAccess):
    """Holds (formats dict, owner). snapshot() returns a copy of all formats."""

    def __init__(self, log: Recorder, formats: dict[str, bytes] | None = None, owner: str = "other") -> None:
        self.log = log
        self.formats: dict[str, bytes] = dict(formats or {})
        self.owner = owner

    def snapshot(self) -> dict[str, bytes]:
        self.log.append(("snapshot",))
        return dict(self.formats)

    def set_text(self, text: str) -> None:
        self.log.append(("set_text", text))
        self.formats = {"text/plain": text.encode()}
        self.owner = "us"

    def holds_text(self, text: str) -> bool:
        return self.owner == "us" and self.formats.get("text/plain") == text.encode()

    refuse_restores = 0  # the next N restore() calls are refused (a stale toolkit timestamp)

    def restore(self, snapshot: dict[str, bytes]) -> bool:
        if self.refuse_restores:
            self.refuse_restores -= 1
            self.log.append(("restore_refused",))
            return False
        self.log.append(("restore", dict(snapshot)))
        self.formats = dict(snapshot)
        self.owner = "us"
        return True

    def refresh(self) -> None:
        self.log.append(("refresh",))

    password_hint: bool | None = None

    def set_password_hint(self, on: bool) -> None:
        self.password_hint = on

    def hand_over(self) -> None:
        """The paste failed and our text stays: the real one moves it to the toolkit."""
        self.log.append(("hand_over",))

    def text(self) -> str:
        return self.formats.get("text/plain", b"").decode()

    # what another program does
    def user_copies(self, text: str) -> None:
        self.formats = {"text/plain": text.encode()}
        self.owner = "other"


class FakeKeys(KeySender):
    """Key sender with a modifier state. release_works=False: synthetic releases are ignored
    (a platform where the user must let go)."""

    def __init__(self, log: Recorder, held: set[str] | None = None, release_works: bool = True,
                 on_chord: Callable[[str], None] | None = None) -> None:
        self.log = log
        self.held = set(held or ())
        self.release_works = release_works
        self.on_chord = on_chord
        self.type_chunk = 4
        self.type_delay_ms = 7
        self.down: set[str] = set()  # non-modifier keys held ("V")

    def key_down(self, key: str) -> bool:
        self.log.append(("key_down?", key))
        return key in self.down

    def held_modifiers(self) -> set[str]:
        self.log.append(("held?", frozenset(self.held)))
        return set(self.held)

    def release_modifiers(self, modifiers: set[str]) -> set[str]:
        released = self.held & set(modifiers)
        self.log.append(("release", frozenset(released)))
        if self.release_works:
            self.held -= released
        return released

    def send_chord(self, chord: str) -> None:
        self.log.append(("chord", chord, frozenset(self.held)))
        if self.on_chord is not None:
            self.on_chord(chord)

    def type_text(self, text: str) -> None:
        self.log.append(("type", text))

    def user_releases(self) -> None:
        self.held.clear()
        self.down.clear()


class FakeWindows(WindowTracker):
    def __init__(self, log: Recorder, focused: int = 0x100, own: set[int] | None = None,
                 info: dict[int, WindowInfo] | None = None, alive: set[int] | None = None,
                 focus_follows_activate: bool = True) -> None:
        self.log = log
        self.focused = focused
        self.own = set(own or ())
        self.info = dict(info or {})
        self.alive = alive
        self.focus_follows_activate = focus_follows_activate
        self.warning: tuple[str, str] | None = None
        self.checks_targets = False

    def foreground(self) -> int:
        self.log.append(("foreground", self.focused))
        return self.focused

    def describe(self, handle: int) -> WindowInfo:
        return self.info.get(handle, WindowInfo(handle))

    def activate(self, handle: int) -> bool:
        self.log.append(("activate", handle))
        if self.alive is not None and handle not in self.alive:
            return False
        if self.focus_follows_activate:
            self.focused = handle
        return True

    def is_own(self, handle: int) -> bool:
        return handle in self.own

    def own_focused(self) -> bool:
        return self.focused in self.own

    def check_target(self, info: WindowInfo) -> tuple[str, str] | None:
        return self.warning


class FakeHotkeys(HotkeyBackend):
    """HotkeyBackend: `taken` hotkeys behave as held by another program."""

    def __init__(self, log: Recorder | None = None, taken: set[str] | None = None) -> None:
        self.log = log if log is not None else Recorder()
        self.taken = set(taken or ())
        self._registered: dict[str, str] = {}
        self._callback: Callable[[str], None] | None = None
        self.fired_at = 0.0

    def set_callback(self, on_activated: Callable[[str], None]) -> None:
        self._callback = on_activated

    def register(self, hotkey: str, action_id: str) -> None:
        if hotkey in self.taken:
            self.log.append(("register-refused", hotkey, action_id))
            raise HotkeyConflict(f"快捷键 {hotkey} 已被其他程序占用", f"Hotkey {hotkey} is taken by another program",
                                 hotkey, "其他程序", "another program")
        self.log.append(("register", hotkey, action_id))
        self._registered[action_id] = hotkey

    def unregister(self, action_id: str) -> None:
        if self._registered.pop(action_id, None) is not None:
            self.log.append(("unregister", action_id))

    def unregister_all(self) -> None:
        for action_id in list(self._registered):
            self.unregister(action_id)

    def registered(self) -> dict[str, str]:
        return dict(self._registered)

    def close(self) -> None:
        self._registered.clear()

    def press(self, hotkey: str) -> None:
        """The user presses a registered hotkey."""
        for action_id, key in self._registered.items():
            if key == hotkey:
                assert self._callback is not None
                self._callback(action_id)
                return
        raise AssertionError(f"{hotkey} is not registered")


def fake_backend(log: Recorder, *, held: set[str] | None = None, focused: int = 0x100, taken: set[str] | None = None,
                 release_works: bool = True, with_keys: bool = True, name: str = "fake") -> Backend:
    hotkeys = FakeHotkeys(log, taken)
    keys = FakeKeys(log, held, release_works) if with_keys else None
    windows = FakeWindows(log, focused) if with_keys else None
    caps = Capabilities(global_hotkeys=True, send_keys=with_keys, release_modifiers=release_works, name=name)
    return Backend(name, "test", hotkeys, keys, windows, caps)


class FakeKeyboardModule:
    """Enough of the `keyboard` package: add_hotkey/remove_hotkey/unhook_all, is_pressed/release,
    send/write. trigger(name) plays the hook thread calling a hotkey's callback."""

    def __init__(self) -> None:
        self.hotkeys: dict[int, tuple[str, Callable[[], None], dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self.pressed: set[str] = set()
        self.calls: list[tuple] = []

    def add_hotkey(self, name: str, callback: Callable[[], None], **kwargs: Any) -> int:
        handle = next(self._ids)
        self.hotkeys[handle] = (name, callback, kwargs)
        self.calls.append(("add_hotkey", name, kwargs))
        return handle

    def remove_hotkey(self, handle: int) -> None:
        del self.hotkeys[handle]
        self.calls.append(("remove_hotkey", handle))

    def unhook_all(self) -> None:
        self.hotkeys.clear()
        self.calls.append(("unhook_all",))

    def is_pressed(self, name: str) -> bool:
        return name in self.pressed

    def release(self, name: str) -> None:
        self.pressed.discard(name)
        self.calls.append(("release", name))

    def send(self, combo: str) -> None:
        self.calls.append(("send", combo, frozenset(self.pressed)))

    def write(self, text: str) -> None:
        self.calls.append(("write", text))

    def trigger(self, name: str) -> None:
        for hk_name, callback, _ in list(self.hotkeys.values()):
            if hk_name == name:
                callback()
                return
        raise AssertionError(f"no hotkey {name}")


class FakeWinApi:
    def __init__(self) -> None:
        self.foreground = 0x500
        self.pids = {0x500: 42}
        self.levels: dict[int | None, int | None] = {None: 0x2000, 42: 0x2000}
        self.taken: set[tuple[int, int]] = set()
        self.desktop = "Default"
        self.titles = {0x500: "千牛工作台"}
        self.classes = {0x500: "StandardFrame"}
        self.processes = {42: "AliWorkBench.exe"}

    def foreground_window(self) -> int:
        return self.foreground

    def window_pid(self, hwnd: int) -> int:
        return self.pids.get(hwnd, 0)

    def window_title(self, hwnd: int) -> str:
        return self.titles.get(hwnd, "")

    def window_class(self, hwnd: int) -> str:
        return self.classes.get(hwnd, "")

    def process_name(self, pid: int) -> str:
        return self.processes.get(pid, "")

    def is_window(self, hwnd: int) -> bool:
        return hwnd in self.pids

    def activate(self, hwnd: int) -> bool:
        self.foreground = hwnd
        return True

    def integrity_level(self, pid: int | None) -> int | None:
        return self.levels.get(pid)

    def hotkey_free(self, modifiers: int, vk: int) -> bool:
        return (modifiers, vk) not in self.taken

    def input_desktop(self) -> str:
        return self.desktop
