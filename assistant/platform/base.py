"""What a platform backend provides. The controller and PasteService talk only to these.

A backend is a bundle (see `Backend`): a HotkeyBackend (global hotkeys), a KeySender (synthetic
keys), a WindowTracker (the foreground window) and its Capabilities. Clipboard access goes through
Qt (QClipboard, assistant/platform/qtclipboard.py) on every platform; a fake in tests.

HotkeyBackend, KeySender, WindowTracker, ClipboardAccess and ClipboardOwnership are base classes,
not Protocols: every implementation and test fake inherits one, so a member a platform lacks has a
declared default (no-op, False, None) and callers use every member directly, never probe for it.
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


class HotkeyBackend:
    """Global hotkeys. `on_activated(action_id)` is called on the GUI thread (backends whose OS
    callback runs elsewhere hand it over through a queued Qt signal and do nothing else).

    Every backend inherits this: callers use every member directly. Methods raising
    NotImplementedError are required; the others are defaults a backend may override."""

    # monotonic time of the last hotkey acted on (latency diagnostics); 0.0: not stamped
    fired_at: float = 0.0

    def set_callback(self, on_activated: ActivatedCallback) -> None:
        raise NotImplementedError

    def register(self, hotkey: str, action_id: str) -> None:
        """Grab hotkey (normal form). Raises HotkeyConflict when another program holds it."""
        raise NotImplementedError

    def unregister(self, action_id: str) -> None:
        raise NotImplementedError

    def unregister_all(self) -> None:
        raise NotImplementedError

    def registered(self) -> dict[str, str]:
        """action id -> hotkey currently held."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def rehook(self) -> None:
        """Install the hooks again after a resume from sleep (Windows may drop a low-level hook).
        Default: nothing to do (a grab survives a suspend)."""


TYPE_CHUNK = 16  # characters typed per scheduler tick in "type" mode, unless the sender says otherwise


class KeySender:
    """Synthetic keys. Methods raising NotImplementedError are required; the rest are defaults."""

    # True once this sender's synthetic releases were verified effective often enough that
    # PasteService skips checking them (one round trip less per paste). Default: always check.
    releases_trusted: bool = False
    type_chunk: int = TYPE_CHUNK  # characters per type_text() call in "type" mode
    type_delay_ms: int = 0  # pause between two type_text() calls

    def held_modifiers(self) -> set[str]:
        """Modifiers ("Ctrl", "Alt", "Shift", "Meta") the keyboard state shows as down now."""
        raise NotImplementedError

    def release_modifiers(self, modifiers: set[str]) -> set[str]:
        """Synthetically release those of these modifiers that are down; returns the ones it
        released. No verification: call held_modifiers() afterwards (a platform may ignore it)."""
        raise NotImplementedError

    def key_down(self, key: str) -> bool:
        """Is this key (normal-form name, "V", "Insert") down now?"""
        raise NotImplementedError

    def send_chord(self, chord: str) -> None:
        """"ctrl+v", "shift+insert": press and release, leaving no key down."""
        raise NotImplementedError

    def type_text(self, text: str) -> None:
        """Type the text key by key (for apps that block pasting)."""
        raise NotImplementedError

    def note_release_result(self, worked: bool) -> None:
        """Whether a release from release_modifiers() was seen to work (feeds releases_trusted).
        Default: not recorded."""


class WindowTracker:
    """The foreground window. Methods raising NotImplementedError are required; the rest are
    defaults."""

    # True: describe() and check_target() on every paste, even without per-app rules (Windows
    # warns about elevated targets). Default False: the hotkey path skips them.
    checks_targets: bool = False

    def foreground(self) -> int:
        """Handle of the window with the keyboard focus now (cheap: one query)."""
        raise NotImplementedError

    def describe(self, handle: int) -> WindowInfo:
        """Class, title, process of a window (for per-app rules)."""
        raise NotImplementedError

    def activate(self, handle: int) -> bool:
        """Give the window the keyboard focus again; False when it is gone."""
        raise NotImplementedError

    def is_own(self, handle: int) -> bool:
        """True for our own windows (the panel)."""
        raise NotImplementedError

    def check_target(self, info: WindowInfo) -> tuple[str, str] | None:
        """(zh, en) warning when synthetic keys cannot reach this window (elevated on Windows)."""
        raise NotImplementedError

    def own_focused(self) -> bool:
        """Does one of OUR windows have the keyboard focus, known without asking the OS? False
        lets the hotkey path paste into the focused window without capturing it first. Default
        True: a tracker that cannot tell cheaply has the caller capture the target as usual."""
        return True

    def close(self) -> None:
        """Default: nothing to release."""


class Scheduler(Protocol):
    """Run fn after delay_ms on the GUI thread (QTimer.singleShot; a fake in tests)."""

    def call_later(self, delay_ms: int, fn: Callable[[], None]) -> None: ...


class ClipboardOwnership:
    """X11: who owns CLIPBOARD, asked of the server, and a way to bring the toolkit's clipboard
    timestamp forward (x11/backend.py)."""

    def owned(self) -> bool:
        """Does one of the toolkit's windows own CLIPBOARD now (one round trip)?"""
        raise NotImplementedError

    def refresh(self, flush: bool = True) -> None:
        """Make the toolkit adopt the server's current time; flush=False leaves the request
        for the caller's next flush."""
        raise NotImplementedError


class ClipboardAccess:
    """The clipboard as PasteService and the controller use it. Methods raising
    NotImplementedError are required; the rest are defaults."""

    # X11: the ClipboardOwnership behind this clipboard (QtClipboard); None elsewhere
    ownership: ClipboardOwnership | None = None

    def snapshot(self) -> Any:
        """Everything the clipboard holds now, all formats (opaque to the caller)."""
        raise NotImplementedError

    def set_text(self, text: str) -> bool | None:
        """Own the clipboard with this text (marked as transient where the OS supports it);
        False when the OS refused (retry after refresh())."""
        raise NotImplementedError

    def holds_text(self, text: str) -> bool:
        """Still our text? (False once the user or another program copied something.)"""
        raise NotImplementedError

    def restore(self, snapshot: Any) -> bool | None:
        """Put the snapshot back; False when the OS refused (retry after refresh())."""
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    def refresh(self) -> None:
        """Before retrying a refused set_text()/restore(): bring the toolkit's clipboard time
        forward (X11). Default: nothing to refresh."""

    def fetch_state(self) -> tuple[int, float] | None:
        """(reads of our text since set_text(), monotonic time of the first read), or None when
        reads cannot be counted here: PasteService then restores after its fixed delay."""
        return None

    def hand_over(self) -> None:
        """A failed paste leaves our text on the clipboard for the agent: make sure it stays
        there without us answering for it (X11). Default: nothing to hand over."""

    def release_tracking(self) -> None:
        """At exit: leave what we put on the clipboard as a plain copy. Default: nothing tracked."""

    def set_password_hint(self, on: bool) -> None:
        """Mark pasted text for clipboard managers to skip (setting paste.hide_from_history).
        Default: no such mark on this platform."""


@dataclass
class Backend:
    name: str  # "x11" | "windows" | "dummy"
    reason: str
    hotkeys: HotkeyBackend
    keys: KeySender | None
    windows: WindowTracker | None
    capabilities: Capabilities
    # X11: qt_window_id -> its ClipboardOwnership, see QtClipboard (None elsewhere)
    clipboard_ownership: Callable[[int], ClipboardOwnership] | None = None
    # X11: wraps the app's clipboard for PasteService, serving the pasted text from the backend's
    # own connection (x11/selection.py); None elsewhere
    paste_clipboard: Callable[[ClipboardAccess], ClipboardAccess] | None = None

    def close(self) -> None:
        self.hotkeys.close()
        if self.windows is not None:
            self.windows.close()
