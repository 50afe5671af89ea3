"""What a platform backend provides. The controller and PasteService talk only to these.

A backend is a bundle (see `Backend`): a HotkeyBackend (global hotkeys), a KeySender (synthetic
keys), a WindowTracker (the foreground window) and its Capabilities. Clipboard access goes through
Qt (QClipboard, assistant/platform/qtclipboard.py) on every platform; a fake in tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import KnownError


class HotkeyConflict(KnownError):
    """A hotkey could not be registered because something else holds it."""

    def __init__(self, zh: str, en: str, hotkey: str = "", owner_zh: str = "", owner_en: str = "") -> None:
        super().__init__(zh, en)
        self.hotkey = hotkey
        self.owner_zh = owner_zh
        self.owner_en = owner_en


class PasteError(KnownError):
    """The text could not be pasted (target gone, elevated target, modifiers held...)."""


@dataclass(frozen=True)
class WindowInfo:
    """A top-level window as captured when a hotkey fired."""

    handle: int
    wm_class: str = ""  # X11 WM_CLASS "instance.Class", Windows window class
    title: str = ""
    process: str = ""  # executable name, e.g. "AliWorkBench.exe", "chrome"
    pid: int = 0

    def describe(self) -> str:
        """For logs: never the title (it can hold a buyer's name)."""
        return f"window {self.handle:#x} class={self.wm_class or '?'} process={self.process or '?'}"


@dataclass(frozen=True)
class Capabilities:
    global_hotkeys: bool
    send_keys: bool
    # True when synthetic key releases neutralise the held hotkey modifiers; otherwise the paste
    # waits until the user lets go.
    release_modifiers: bool
    name: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


ActivatedCallback = Callable[[str], None]


class HotkeyBackend(Protocol):
    """Global hotkeys. `on_activated(action_id)` is called on the GUI thread (backends whose OS
    callback runs elsewhere hand it over through a queued Qt signal and do nothing else)."""

    def set_callback(self, on_activated: ActivatedCallback) -> None: ...

    def register(self, hotkey: str, action_id: str) -> None:
        """Grab hotkey (normal form). Raises HotkeyConflict when another program holds it."""

    def unregister(self, action_id: str) -> None: ...

    def unregister_all(self) -> None: ...

    def registered(self) -> dict[str, str]:
        """action id -> hotkey currently held."""

    def close(self) -> None: ...


class KeySender(Protocol):
    def held_modifiers(self) -> set[str]:
        """Modifiers ("Ctrl", "Alt", "Shift", "Meta") the keyboard state shows as down now."""

    def release_modifiers(self, modifiers: set[str]) -> set[str]:
        """Synthetically release those of these modifiers that are down; returns the ones it
        released. No verification: call held_modifiers() afterwards (a platform may ignore it)."""

    def key_down(self, key: str) -> bool:
        """Is this key (normal-form name, "V", "Insert") down now?"""

    def send_chord(self, chord: str) -> None:
        """"ctrl+v", "shift+insert": press and release, leaving no key down."""

    def type_text(self, text: str) -> None:
        """Type the text key by key (for apps that block pasting)."""


class WindowTracker(Protocol):
    def foreground(self) -> int:
        """Handle of the window with the keyboard focus now (cheap: one query)."""

    def describe(self, handle: int) -> WindowInfo:
        """Class, title, process of a window (for per-app rules)."""

    def activate(self, handle: int) -> bool:
        """Give the window the keyboard focus again; False when it is gone."""

    def is_own(self, handle: int) -> bool:
        """True for our own windows (the panel)."""

    def check_target(self, info: WindowInfo) -> tuple[str, str] | None:
        """(zh, en) warning when synthetic keys cannot reach this window (elevated on Windows)."""


class Scheduler(Protocol):
    """Run fn after delay_ms on the GUI thread (QTimer.singleShot; a fake in tests)."""

    def call_later(self, delay_ms: int, fn: Callable[[], None]) -> None: ...


class ClipboardAccess(Protocol):
    def snapshot(self) -> Any:
        """Everything the clipboard holds now, all formats (opaque to the caller)."""

    def set_text(self, text: str) -> None:
        """Own the clipboard with this text (marked as transient where the OS supports it)."""

    def holds_text(self, text: str) -> bool:
        """Still our text? (False once the user or another program copied something.)"""

    def restore(self, snapshot: Any) -> bool | None:
        """Put the snapshot back; False when the OS refused (retry after refresh())."""

    def text(self) -> str: ...


@dataclass
class Backend:
    name: str  # "x11" | "windows" | "dummy"
    reason: str
    hotkeys: HotkeyBackend
    keys: KeySender | None
    windows: WindowTracker | None
    capabilities: Capabilities
    # X11: qt_window_id -> object with owned()/refresh(), see QtClipboard (None elsewhere)
    clipboard_ownership: Callable[[int], Any] | None = None
    # X11: wraps the app's clipboard for PasteService, serving the pasted text from the backend's
    # own connection (x11/selection.py); None elsewhere
    paste_clipboard: Callable[[Any], Any] | None = None

    def close(self) -> None:
        self.hotkeys.close()
        closer = getattr(self.windows, "close", None)
        if closer:
            closer()
