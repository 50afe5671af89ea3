"""Windows: the `keyboard` package for hotkeys and keys, user32/advapi32 through ctypes for windows.

`keyboard` is imported only inside create() (and tests pass a fake): it cannot run on Linux
machines without /dev/input, and importing it there fails in surprising ways.

Known `keyboard` weaknesses and what we do about them:
- its low-level hook is silently dropped by Windows when a callback is slow (LowLevelHooksTimeout)
  -> callbacks only emit a Qt signal (queued to the GUI thread) and return;
- the hook can stop working after the lock screen or sleep -> a 2 s health timer notices a clock
  gap (sleep/resume, a hang) or the input desktop coming back from "Winlogon" (unlock) and
  re-registers every hotkey (rehook()).
- UIPI: a program running elevated (as administrator) silently ignores keys from a normal one ->
  check_target() compares integrity levels and the controller tells the agent instead of
  "pasting" into the void.
A hotkey another program registered with RegisterHotKey is invisible to a keyboard hook, so
register() first probes it with RegisterHotKey/UnregisterHotKey and reports the conflict.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ...errors import KnownError
from .. import keys
from ..base import Backend, Capabilities, HotkeyBackend, HotkeyConflict, KeySender, WindowInfo, WindowTracker

log = logging.getLogger(__name__)

HEALTH_INTERVAL_MS = 2000
CLOCK_GAP_S = 5.0
_KEYBOARD_MODIFIERS = {"Ctrl": "ctrl", "Alt": "alt", "Shift": "shift", "Meta": "windows"}
SECURITY_MANDATORY_MEDIUM_RID = 0x2000


class WinApi(Protocol):
    def foreground_window(self) -> int: ...
    def window_pid(self, hwnd: int) -> int: ...
    def window_title(self, hwnd: int) -> str: ...
    def window_class(self, hwnd: int) -> str: ...
    def process_name(self, pid: int) -> str: ...
    def is_window(self, hwnd: int) -> bool: ...
    def activate(self, hwnd: int) -> bool: ...
    def integrity_level(self, pid: int | None) -> int | None:
        """Mandatory integrity RID of a process (None = own process); None when it cannot be
        read (access denied: the usual sign of an elevated process)."""
    def hotkey_free(self, modifiers: int, vk: int) -> bool: ...
    def input_desktop(self) -> str:
        """Name of the desktop receiving input: "Default", or "Winlogon" while locked."""


def target_blocked(own_level: int | None, target_level: int | None) -> bool:
    """UIPI: keys from a lower integrity level are dropped. An unreadable target level counts as
    higher (that is what access denied means for a medium-level caller)."""
    own = own_level if own_level is not None else SECURITY_MANDATORY_MEDIUM_RID
    if target_level is None:
        return own < 0x3000
    return target_level > own


class KeyboardHotkeys(QObject, HotkeyBackend):
    """HotkeyBackend over keyboard.add_hotkey."""

    _hook_fired = Signal(str)

    def __init__(self, keyboard: Any, api: WinApi | None = None, parent: QObject | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.kb = keyboard
        self.api = api
        self._callback: Callable[[str], None] | None = None
        self._handles: dict[str, tuple[str, Any]] = {}  # action -> (hotkey, keyboard handle)
        self._wall = wall_clock
        self._last_wall = wall_clock()
        self._locked = False
        self.fired_at = 0.0
        self.rehooks = 0
        # Queued: the hook thread only posts an event; the GUI thread does the work.
        self._hook_fired.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._health = QTimer(self)
        self._health.setInterval(HEALTH_INTERVAL_MS)
        self._health.timeout.connect(self.check_health)
        self._health.start()

    def set_callback(self, on_activated: Callable[[str], None]) -> None:
        self._callback = on_activated

    def registered(self) -> dict[str, str]:
        return {action: hk for action, (hk, _) in self._handles.items()}

    def _hook_callback(self, action_id: str) -> Callable[[], None]:
        def fired() -> None:  # runs on keyboard's hook thread: emit and return, nothing else
            self.fired_at = time.monotonic()
            self._hook_fired.emit(action_id)

        return fired

    def register(self, hotkey: str, action_id: str) -> None:
        if action_id in self._handles:
            self.unregister(action_id)
        if self.api is not None:
            flags, vk = keys.to_windows_vk(hotkey)
            if not self.api.hotkey_free(flags, vk):
                raise HotkeyConflict(
                    f"快捷键 {hotkey} 已被其他程序占用（例如输入法、QQ/微信或千牛），请换一个或关闭那个程序的快捷键",
                    f"Hotkey {hotkey} is already registered by another program (an input method, QQ/WeChat, "
                    "Qianniu...); choose another or free it there",
                    hotkey, "其他程序", "another program")
        name = keys.to_keyboard(hotkey)
        try:
            handle = self.kb.add_hotkey(name, self._hook_callback(action_id), suppress=True,
                                        trigger_on_release=False)
        except (ValueError, ImportError, OSError, AssertionError) as exc:
            raise KnownError(f"无法注册快捷键 {hotkey}：{exc}", f"Cannot register hotkey {hotkey}: {exc}") from exc
        self._handles[action_id] = (hotkey, handle)

    def unregister(self, action_id: str) -> None:
        entry = self._handles.pop(action_id, None)
        if entry is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.kb.remove_hotkey(entry[1])

    def unregister_all(self) -> None:
        for action_id in list(self._handles):
            self.unregister(action_id)

    def rehook(self) -> None:
        """Drop and re-add every hotkey (the hook may be dead after unlock/resume)."""
        wanted = {action: hk for action, (hk, _) in self._handles.items()}
        with contextlib.suppress(Exception):
            self.kb.unhook_all()
        self._handles.clear()
        for action, hk in wanted.items():
            name = keys.to_keyboard(hk)
            self._handles[action] = (hk, self.kb.add_hotkey(name, self._hook_callback(action), suppress=True,
                                                            trigger_on_release=False))
        self.rehooks += 1
        log.info("keyboard hooks re-registered (%d hotkeys)", len(wanted))

    def check_health(self) -> None:
        """Re-hook after a clock gap (sleep/resume, a long hang) or when the session is unlocked."""
        now = self._wall()
        gap = now - self._last_wall - HEALTH_INTERVAL_MS / 1000
        self._last_wall = now
        unlocked = False
        if self.api is not None:
            try:
                desktop = self.api.input_desktop()
            except OSError:
                desktop = ""
            locked = desktop.lower() not in ("default", "")
            unlocked = self._locked and not locked
            self._locked = locked
        if gap > CLOCK_GAP_S or unlocked:
            log.info("re-hooking: %s", "session unlocked" if unlocked else f"clock gap of {gap:.0f} s")
            self.rehook()

    def _deliver(self, action_id: str) -> None:
        if self._callback is not None:
            self._callback(action_id)

    def close(self) -> None:
        self._health.stop()
        self.unregister_all()


class KeyboardKeySender(KeySender):
    def __init__(self, keyboard: Any) -> None:
        self.kb = keyboard

    def held_modifiers(self) -> set[str]:
        return {mod for mod, name in _KEYBOARD_MODIFIERS.items() if self.kb.is_pressed(name)}

    def release_modifiers(self, modifiers: set[str]) -> set[str]:
        released = set()
        for mod in modifiers:
            name = _KEYBOARD_MODIFIERS[mod]
            if self.kb.is_pressed(name):
                self.kb.release(name)
                released.add(mod)
        return released

    def key_down(self, key: str) -> bool:
        return bool(self.kb.is_pressed(keys.keyboard_key_name(key)))

    def send_chord(self, chord: str) -> None:
        self.kb.send(keys.to_keyboard(keys.parse_chord(chord)))

    def type_text(self, text: str) -> None:
        # Enter would send the chat message: Shift+Enter is a new line in chat clients.
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if line:
                self.kb.write(line)
            if index < len(lines) - 1:
                self.kb.send("shift+enter")


class Win32Windows(WindowTracker):
    checks_targets = True

    def __init__(self, api: WinApi, own_pid: int) -> None:
        self.api = api
        self.own_pid = own_pid
        self._own_level = api.integrity_level(None)

    def foreground(self) -> int:
        return self.api.foreground_window()

    def describe(self, handle: int) -> WindowInfo:
        if not handle:
            return WindowInfo(0)
        pid = self.api.window_pid(handle)
        return WindowInfo(handle, self.api.window_class(handle), self.api.window_title(handle),
                          self.api.process_name(pid) if pid else "", pid)

    def activate(self, handle: int) -> bool:
        return self.api.is_window(handle) and self.api.activate(handle)

    def is_own(self, handle: int) -> bool:
        return bool(handle) and self.api.window_pid(handle) == self.own_pid

    def check_target(self, info: WindowInfo) -> tuple[str, str] | None:
        if not info.pid:
            return None
        if target_blocked(self._own_level, self.api.integrity_level(info.pid)):
            name = info.process or "聊天程序"
            return (f"{name} 以管理员身份运行，Windows 不允许普通程序向它发送按键。回复已复制，请按 Ctrl+V；"
                    "或以管理员身份运行客服助手。",
                    f"{info.process or 'The chat program'} runs as administrator; Windows drops keys sent to it "
                    "from a normal program. The reply was copied: press Ctrl+V, or run kefu-assistant as "
                    "administrator.")
        return None


def create(reason: str = "", keyboard: Any = None, api: WinApi | None = None) -> Backend:
    import os

    if keyboard is None:
        import keyboard as keyboard_module  # Windows only: see the module docstring

        keyboard = keyboard_module
    if api is None:
        from .win32 import Win32Api

        api = Win32Api()
    hotkeys = KeyboardHotkeys(keyboard, api)
    caps = Capabilities(global_hotkeys=True, send_keys=True, release_modifiers=True, name="windows")
    return Backend("windows", reason, hotkeys, KeyboardKeySender(keyboard), Win32Windows(api, os.getpid()), caps)
