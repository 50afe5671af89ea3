"""Linux/X11: python-xlib. XGrabKey for hotkeys, XTest for the paste chord, XGetInputFocus for the
target window. Everything runs on the GUI thread: a QSocketNotifier watches our own X connection,
so a hotkey is seen as soon as the server sends its KeyPress, with no extra thread.

One X connection serves grabs, XTest and queries, so requests keep their order (XUngrabKeyboard
before the chord). python-xlib may read events into its queue while waiting for a reply, after
which the socket is no longer readable; every round trip outside the event handler therefore
schedules a drain of that queue.

Held modifiers: when a passive grab fires the keyboard is actively grabbed by us until the hotkey's
key is released (≈ 20 ms after the press when `xdotool key` types it, longer for a human), and any
chord we send meanwhile would come back to us. So at the KeyPress we XUngrabKeyboard, and before the
chord we release the held modifiers through XTest (xdotool's --clearmodifiers does the same); if the
keyboard state still shows them down, PasteService waits for the user to let go.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSocketNotifier, QTimer
from PySide6.QtGui import QGuiApplication
from Xlib import XK, X, Xatom, error
from Xlib.ext import xtest
from Xlib.protocol import event as xevent
from Xlib.protocol import request

from ...errors import KnownError
from .. import keys
from ..base import (
    Backend,
    Capabilities,
    ClipboardOwnership,
    HotkeyBackend,
    HotkeyConflict,
    KeySender,
    WindowInfo,
    WindowTracker,
)
from .display import NoDisplay, open_display
from .selection import SelectionClipboard, X11Selection

log = logging.getLogger(__name__)

_MOD_INDEX_NAMES = ("Shift", "Lock", "Control", "Mod1", "Mod2", "Mod3", "Mod4", "Mod5")
_MOD_MASKS = (X.ShiftMask, X.LockMask, X.ControlMask, X.Mod1Mask, X.Mod2Mask, X.Mod3Mask, X.Mod4Mask,
              X.Mod5Mask)
_MODIFIER_KEYSYMS = {
    "Shift": ("Shift_L", "Shift_R"),
    "Ctrl": ("Control_L", "Control_R"),
    "Alt": ("Alt_L", "Alt_R"),
    "Meta": ("Super_L", "Super_R", "Meta_L", "Meta_R", "Hyper_L", "Hyper_R"),
}
REPEAT_POLL_MS = 30
VERIFY_RELEASES = 5


class X11Connection(QObject):
    """The X display, its modifier layout, and the event pump."""

    def __init__(self, display_name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        try:
            self.display = open_display(display_name)
        except NoDisplay as exc:
            raise KnownError(f"无法连接 X11 显示服务：{exc}", f"Cannot connect to the X11 display: {exc}") from exc
        self.display.set_error_handler(self._on_async_error)
        self.root = self.display.screen().root
        if not self.display.has_extension("XTEST"):
            log.warning("X server has no XTEST extension: synthetic keys unavailable")
        self._handlers: list[Callable[[object], None]] = []
        self.in_dispatch = False
        self._dispatch_keymap: list[int] | None = None
        self._prefetched: tuple[object, object] | None = None  # (GetInputFocus, QueryKeymap) in flight
        self.dispatch_state = 0  # modifier state of the KeyPress being dispatched
        self._drain_scheduled = False
        self._closed = False
        self.load_modifier_layout()
        self._notifier = QSocketNotifier(self.display.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self.drain)

    # ------------------------------------------------------------ modifier layout

    def load_modifier_layout(self) -> None:
        """Which ModN mask Alt, Meta(Super), NumLock and ScrollLock sit on, and the keycodes of every
        modifier key (layouts differ; Xvfb's default puts Alt on Mod1 and Super on Mod4)."""
        mapping = self.display.get_modifier_mapping()
        keycode_mask: dict[int, int] = {}
        for index, codes in enumerate(mapping):
            for code in codes:
                if code:
                    keycode_mask[code] = _MOD_MASKS[index]

        def mask_of(*names: str) -> int:
            for name in names:
                code = self.display.keysym_to_keycode(XK.string_to_keysym(name))
                if code and code in keycode_mask:
                    return keycode_mask[code]
            return 0

        self.masks = {
            "Shift": X.ShiftMask,
            "Ctrl": X.ControlMask,
            "Alt": mask_of("Alt_L", "Alt_R", "Meta_L") or X.Mod1Mask,
            "Meta": mask_of("Super_L", "Super_R", "Hyper_L") or X.Mod4Mask,
        }
        self.numlock_mask = mask_of("Num_Lock")
        self.scrolllock_mask = mask_of("Scroll_Lock")
        # Lock states a hotkey must work with: CapsLock, NumLock, ScrollLock on or off.
        lock_masks = [m for m in (X.LockMask, self.numlock_mask, self.scrolllock_mask) if m]
        self.ignored_combos: list[int] = [0]
        for mask in lock_masks:
            self.ignored_combos += [combo | mask for combo in self.ignored_combos]
        self.ignored_mask = 0
        for mask in lock_masks:
            self.ignored_mask |= mask
        self.modifier_keycodes: dict[str, list[int]] = {}
        for name, syms in _MODIFIER_KEYSYMS.items():
            codes: list[int] = []
            for sym in syms:
                for code, _index in self.display.keysym_to_keycodes(XK.string_to_keysym(sym)):
                    if code not in codes:
                        codes.append(code)
            # Every keycode on the modifier's mask too (e.g. ISO_Level3 on Mod5 is not ours to touch).
            self.modifier_keycodes[name] = codes
        self.modifier_keycodes["Ctrl"] += [c for c in mapping[2] if c and c not in self.modifier_keycodes["Ctrl"]]
        self.modifier_keycodes["Shift"] += [c for c in mapping[0] if c and c not in self.modifier_keycodes["Shift"]]

    # ------------------------------------------------------------ events

    def add_handler(self, handler: Callable[[object], None]) -> None:
        self._handlers.append(handler)

    def drain(self, *_args: object) -> None:
        """Handle every event the server sent (called by the notifier and after round trips)."""
        self._drain_scheduled = False
        if self._closed:
            return
        try:
            while self.display.pending_events():
                event = self.display.next_event()
                for handler in self._handlers:
                    handler(event)
        except (error.ConnectionClosedError, OSError) as exc:
            log.error("X11 connection lost: %s", exc)
            self._closed = True
            self._notifier.setEnabled(False)

    def schedule_drain(self) -> None:
        if not self._drain_scheduled and not self._closed:
            self._drain_scheduled = True
            QTimer.singleShot(0, self.drain)

    def _on_async_error(self, err: object, request: object = None) -> None:
        log.warning("X11 error: %s", type(err).__name__)

    def sync(self) -> None:
        self.display.sync()
        self.schedule_drain()

    # ------------------------------------------------------------ keyboard state

    def keymap(self) -> list[int]:
        bits = self.display.query_keymap()
        self.schedule_drain()
        return bits

    def prefetch_focus_and_keymap(self) -> None:
        """Send XGetInputFocus and XQueryKeymap now, without waiting (the caller flushes): the
        hotkey's KeyPress handler does this first thing, so the answers travel while the reply is
        looked up, and focus_and_keymap() in that dispatch only collects them. The server answers
        in request order, so the focus is still the one at the moment of the hotkey."""
        self._prefetched = (request.GetInputFocus(display=self.display.display, defer=True),
                            request.QueryKeymap(display=self.display.display, defer=True))

    def focus_and_keymap(self) -> tuple[object, list[int]]:
        """XGetInputFocus and XQueryKeymap in ONE round trip (both requests go out before we
        wait; inside a hotkey dispatch they were sent at the KeyPress). Inside a hotkey dispatch
        the keymap is kept for release_modifiers(), which then needs no round trip of its own."""
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and self.in_dispatch:
            first, second = prefetched
        else:
            first = request.GetInputFocus(display=self.display.display, defer=True)
            second = request.QueryKeymap(display=self.display.display, defer=True)
        first.reply()
        second.reply()
        if not self.in_dispatch:
            # (In a dispatch, drain() looks at the queue again when the handler returns.)
            self.schedule_drain()
        if self.in_dispatch:
            self._dispatch_keymap = second.map
        return first.focus, second.map

    def begin_dispatch(self, state: int) -> None:
        """A hotkey's KeyPress is being handled; `state` is its modifier mask."""
        self.in_dispatch = True
        self._dispatch_keymap = None
        self.dispatch_state = state

    def end_dispatch(self) -> None:
        self.in_dispatch = False
        self._dispatch_keymap = None
        # Not collected (nothing asked for the focus): python-xlib files the replies when they
        # arrive; a later query must never take these stale answers.
        self._prefetched = None

    def take_dispatch_keymap(self) -> list[int] | None:
        """The keymap read together with the focus in this hotkey dispatch, once."""
        keymap, self._dispatch_keymap = self._dispatch_keymap, None
        return keymap if self.in_dispatch else None

    @staticmethod
    def is_down(keymap: list[int], keycode: int) -> bool:
        return bool(keymap[keycode // 8] & (1 << (keycode % 8)))

    def keycode(self, keysym_name: str) -> int:
        sym = XK.string_to_keysym(keysym_name)
        if not sym:
            return 0
        return self.display.keysym_to_keycode(sym)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._notifier.setEnabled(False)
        with contextlib.suppress(Exception):
            self.display.close()


class X11Hotkeys(QObject, HotkeyBackend):
    """HotkeyBackend over XGrabKey on the root window."""

    def __init__(self, conn: X11Connection, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.conn = conn
        self._callback: Callable[[str], None] | None = None
        self._by_action: dict[str, tuple[str, int, int]] = {}  # action -> (hotkey, keycode, mask)
        self._by_combo: dict[tuple[int, int], str] = {}  # (keycode, mask) -> action
        # Keycodes whose hotkey fired and are still held: their auto-repeat presses are swallowed.
        self._held: set[int] = set()
        self._guarded: set[int] = set()  # keycodes grabbed with AnyModifier while held
        self._chord_codes: set[int] | None = None
        self._repeat_timer = QTimer(self)
        self._repeat_timer.setInterval(REPEAT_POLL_MS)
        self._repeat_timer.timeout.connect(self._check_held)
        self.fired_at: float = 0.0  # monotonic time of the last KeyPress we acted on (diagnostics)
        conn.add_handler(self._on_event)

    def set_callback(self, on_activated: Callable[[str], None]) -> None:
        self._callback = on_activated

    def registered(self) -> dict[str, str]:
        return {action: hk for action, (hk, _, _) in self._by_action.items()}

    def register(self, hotkey: str, action_id: str) -> None:
        if action_id in self._by_action:
            self.unregister(action_id)
        mods, keysym_name = keys.to_x11(hotkey)
        keycode = self.conn.keycode(keysym_name)
        if not keycode:
            raise KnownError(f"当前键盘布局中没有快捷键 {hotkey} 的按键", f"The keyboard layout has no key for {hotkey}")
        mask = 0
        for mod in mods:
            mask |= self.conn.masks[mod]
        if (keycode, mask) in self._by_combo:
            other = self._by_combo[(keycode, mask)]
            raise HotkeyConflict(f"快捷键 {hotkey} 已被本程序的另一项占用", f"Hotkey {hotkey} is already used here",
                                 hotkey, other, other)
        catcher = error.CatchError(error.BadAccess)
        for extra in self.conn.ignored_combos:
            self.conn.root.grab_key(keycode, mask | extra, False, X.GrabModeAsync, X.GrabModeAsync,
                                    onerror=catcher)
        self.conn.sync()
        if catcher.get_error() is not None:
            for extra in self.conn.ignored_combos:
                self.conn.root.ungrab_key(keycode, mask | extra)
            self.conn.sync()
            raise HotkeyConflict(
                f"快捷键 {hotkey} 已被其他程序占用（X11 无法得知是哪个程序），请换一个或关闭那个程序的快捷键",
                f"Hotkey {hotkey} is already taken by another program (X11 does not say which); "
                "choose another or free it there",
                hotkey, "其他程序", "another program")
        self._by_action[action_id] = (hotkey, keycode, mask)
        self._by_combo[(keycode, mask)] = action_id

    def unregister(self, action_id: str) -> None:
        entry = self._by_action.pop(action_id, None)
        if entry is None:
            return
        _, keycode, mask = entry
        self._by_combo.pop((keycode, mask), None)
        for extra in self.conn.ignored_combos:
            self.conn.root.ungrab_key(keycode, mask | extra)
        self.conn.sync()

    def unregister_all(self) -> None:
        for action_id in list(self._by_action):
            self.unregister(action_id)

    def close(self) -> None:
        self._repeat_timer.stop()
        with contextlib.suppress(Exception):
            for code in list(self._guarded):
                self._unguard(code)
            self.unregister_all()

    def _on_event(self, event: object) -> None:
        if getattr(event, "type", None) != X.KeyPress:
            return
        keycode = event.detail  # type: ignore[attr-defined]
        mask = event.state & ~self.conn.ignored_mask & 0xFF  # type: ignore[attr-defined]
        # End the grab the KeyPress started, at once: otherwise the keyboard stays ours until the
        # key is released and the chord we send would come back to us instead of the chat client.
        # (Sent with the paste's first round trip, or flushed below.)
        self.conn.display.ungrab_keyboard(X.CurrentTime)
        action = None if keycode in self._held else self._by_combo.get((keycode, mask))
        if action is None:
            # Nothing to do, or auto-repeat of a hotkey still held (one press, one paste): the
            # repeat guard catches those repeats even after we released the modifiers.
            self.conn.display.flush()
            return
        # Ask for the focus and the key state (collected by focus_and_keymap()). Not flushed here:
        # they leave with the first write - on the fast path the chord's, and are collected after
        # it (every write wakes the X server: ~50-100 us on this machine). The server answers in
        # request order, so the focus is still the one of this moment.
        self.conn.prefetch_focus_and_keymap()
        self._held.add(keycode)
        self.fired_at = time.monotonic()
        conn = self.conn
        try:
            if self._callback is not None:
                conn.begin_dispatch(event.state)  # type: ignore[attr-defined]
                try:
                    self._callback(action)
                finally:
                    conn.end_dispatch()
        finally:
            # The repeat guard after the paste's chord: auto-repeat starts ~0.5 s later at the
            # earliest, and the chord should not wait for this.
            if keycode not in self._chord_keycodes():
                self._guard(keycode)
            self.conn.display.flush()
            self._repeat_timer.start()

    def _chord_keycodes(self) -> set[int]:
        """Keys our own chords press (V, Insert, C): a guard on one of them would swallow the
        chord itself (a hotkey like Ctrl+Alt+V), so those keys go unguarded."""
        if self._chord_codes is None:
            self._chord_codes = {code for code in (self.conn.keycode(n) for n in ("v", "Insert", "c")) if code}
        return self._chord_codes

    def _guard(self, keycode: int) -> None:
        """While the hotkey's key stays down, grab it with ANY modifiers. Once we released Ctrl/Alt
        synthetically, the key's auto-repeat (after ~0.6 s of holding) would come without them,
        match no grab and type "1" into the chat box; the guard catches those presses instead.
        No round trip here: a BadAccess (another program grabs that key with some modifiers)
        arrives later and only means no guard."""
        self.conn.root.grab_key(keycode, X.AnyModifier, False, X.GrabModeAsync, X.GrabModeAsync,
                                onerror=self._guard_error)
        self._guarded.add(keycode)

    def _guard_error(self, err: object, request: object = None) -> None:
        log.debug("repeat guard not available for a hotkey key (%s)", type(err).__name__)

    def _unguard(self, keycode: int) -> None:
        """Drop the guard: ungrabbing AnyModifier drops our own grabs of that key too, so the
        registered hotkeys on it are grabbed again in the same batch."""
        self._guarded.discard(keycode)
        self.conn.root.ungrab_key(keycode, X.AnyModifier)
        for (code, mask) in self._by_combo:
            if code == keycode:
                for extra in self.conn.ignored_combos:
                    self.conn.root.grab_key(keycode, mask | extra, False, X.GrabModeAsync, X.GrabModeAsync,
                                            onerror=self._guard_error)
        self.conn.sync()

    def _check_held(self) -> None:
        if self._held:
            state = self.conn.keymap()
            released = {code for code in self._held if not X11Connection.is_down(state, code)}
            self._held -= released
            for code in released & self._guarded:
                self._unguard(code)
        if not self._held:
            self._repeat_timer.stop()


class X11KeySender(KeySender):
    """Synthetic keys through XTest."""

    def __init__(self, conn: X11Connection) -> None:
        self.conn = conn
        self._chords: dict[str, tuple[list[int], int]] = {}  # chord -> (modifier keycodes, keycode)
        # The keyboard mapping changed (another layout, or our typing): look keycodes up again.
        conn.add_handler(self._on_event)
        self.type_delay_ms = 60  # between typed chunks: the target reloads the keymap we changed
        self._spare: list[int] | None = None
        self._assigned: dict[str, int] = {}  # character -> spare keycode now mapped to it
        self._previous: set[int] = set()  # keycodes the previous chunk typed
        self._verified_releases = 0
        self._release_failed = False
        self.mask_keycode = self._find_mask_keycode()

    def _find_mask_keycode(self) -> int:
        """A keycode with no keysym at all, tapped before we release a held modifier: the chat
        client then never sees a LONE modifier press+release - which would switch a Chinese input
        method between 中/英 (Shift), or open Firefox's menu bar (Alt) - only the modifier with a
        key that means nothing (AutoHotkey's "mask key" idea). 0 when the layout has none."""
        d = self.conn.display
        first, last = d.display.info.min_keycode, d.display.info.max_keycode
        try:
            mapping = d.get_keyboard_mapping(first, last - first + 1)
        except error.XError:
            return 0
        finally:
            self.conn.schedule_drain()
        return next((first + i for i, syms in enumerate(mapping) if not any(syms)), 0)

    def _neutralise(self, codes: list[int]) -> None:
        """Press every key of `codes`, tap the mask key, release them all: whatever the client
        makes of our (repeated) press, the release that follows is not a lone tap."""
        if not codes:
            return
        for code in codes:
            self._fake(X.KeyPress, code)
        if self.mask_keycode:
            self._fake(X.KeyPress, self.mask_keycode)
            self._fake(X.KeyRelease, self.mask_keycode)
        for code in codes:
            self._fake(X.KeyRelease, code)

    @property
    def releases_trusted(self) -> bool:
        """After VERIFY_RELEASES synthetic releases checked effective on this server (and none
        that was not), PasteService skips the check: one round trip less per paste."""
        return not self._release_failed and self._verified_releases >= VERIFY_RELEASES

    def note_release_result(self, worked: bool) -> None:
        if worked:
            self._verified_releases += 1
        elif not self._release_failed:
            self._release_failed = True
            log.info("synthetic modifier releases are not effective on this server: pastes wait for the user")

    def _on_event(self, event: object) -> None:
        if getattr(event, "type", None) == X.MappingNotify:
            self._chords.clear()

    def _fake(self, event_type: int, keycode: int) -> None:
        """Queued, not flushed: the caller's flush sends it."""
        xtest.fake_input(self.conn.display, event_type, keycode)

    def held_modifiers(self) -> set[str]:
        state = self.conn.keymap()
        return {name for name, codes in self.conn.modifier_keycodes.items()
                if any(X11Connection.is_down(state, c) for c in codes)}

    def release_modifiers(self, modifiers: set[str]) -> set[str]:
        """Make the server see the held modifiers as up; returns those still down.

        Each held modifier key gets an XTest press AND release. The server keeps key state per
        device: a bare XTest release of a key held on the physical keyboard is dropped as a
        duplicate (the XTest device never pressed it), while press+release clears it on the master
        device the clients see. For a key the XTest device already holds (xdotool, our tests) the
        press is dropped and the release counts. Either way the user's own later release is then a
        harmless duplicate: nothing stays stuck. Returns the modifiers released, without waiting:
        the caller checks held_modifiers() later and waits for the user if any is still down."""
        keymap = self.conn.take_dispatch_keymap()
        if keymap is None and self.conn.in_dispatch and self.releases_trusted:
            by_state = self._release_by_state(modifiers)
            if by_state is not None:
                return by_state
        state = keymap or self.conn.keymap()
        released: set[str] = set()
        codes: list[int] = []
        for name in modifiers:
            for code in self.conn.modifier_keycodes.get(name, ()):
                if X11Connection.is_down(state, code):
                    codes.append(code)
                    released.add(name)
        self._neutralise(codes)
        # No flush here: the releases leave with the chord (same connection, so in order), or
        # with the verifying keymap query; a separate flush only cost time on the hotkey path.
        return released

    def _release_by_state(self, modifiers: set[str]) -> set[str] | None:
        """Hotkey fast path, no round trip: the KeyPress's own modifier state says which modifiers
        are down (not which of their keys), so every key of those modifiers gets the press+release
        - for a key that was not down that is a tap, harmless for Ctrl and Alt while the hotkey's
        Ctrl is held. Not for Shift (a lone Shift tap switches Chinese input methods between
        中/英) or Super (a lone tap opens the desktop's launcher): None, and the caller reads the
        key state instead. Used only once releases have been verified on this server."""
        state = self.conn.dispatch_state
        held = {name for name in modifiers if state & self.conn.masks.get(name, 0)}
        if held & {"Shift", "Meta"}:
            return None
        self._neutralise([code for name in held for code in self.conn.modifier_keycodes.get(name, ())])
        return held

    def key_down(self, key: str) -> bool:
        code = self.conn.keycode(keys.x11_keysym_name(key))
        return bool(code) and X11Connection.is_down(self.conn.keymap(), code)

    def _chord_codes(self, chord: str) -> tuple[list[int], int]:
        cached = self._chords.get(chord)
        if cached is None:
            cached = self._chords[chord] = self._look_up_chord(chord)
        return cached

    def _look_up_chord(self, chord: str) -> tuple[list[int], int]:
        parsed = keys.parse_chord(chord)
        mods, keysym_name = keys.to_x11(parsed)
        mod_codes = []
        for mod in mods:
            codes = self.conn.modifier_keycodes.get(mod) or []
            if not codes:
                raise KnownError(f"键盘布局中没有 {mod} 键", f"The keyboard layout has no {mod} key")
            mod_codes.append(codes[0])
        keycode = self.conn.keycode(keysym_name)
        if not keycode:
            raise KnownError(f"键盘布局中没有 {chord} 的按键", f"The keyboard layout has no key for {chord}")
        return mod_codes, keycode

    def send_chord(self, chord: str) -> None:
        """The chord's keys, in the same flush as the modifier releases queued before it."""
        mod_codes, keycode = self._chord_codes(chord)
        for code in mod_codes:
            self._fake(X.KeyPress, code)
        self._fake(X.KeyPress, keycode)
        self._fake(X.KeyRelease, keycode)
        for code in reversed(mod_codes):
            self._fake(X.KeyRelease, code)
        self.conn.display.flush()

    # -------------------------------------------------------------- typing

    def _spare_keycodes(self) -> list[int]:
        """Keycodes with no keysym: typing maps characters onto them (as xdotool does), so any
        Unicode character can be typed whatever the layout."""
        if self._spare is None:
            d = self.conn.display
            first, last = d.display.info.min_keycode, d.display.info.max_keycode
            mapping = d.get_keyboard_mapping(first, last - first + 1)
            self._spare = [first + i for i, syms in enumerate(mapping)
                           if not any(syms) and first + i != self.mask_keycode][-128:]
        return self._spare

    @property
    def type_chunk(self) -> int:
        """Characters per type_text() call: at most half the spare keycodes, so a chunk never
        remaps a keycode the previous chunk typed (the chat client may still be reading those)."""
        return max(1, min(64, len(self._spare_keycodes()) // 2))

    def type_text(self, text: str) -> None:
        """Type up to type_chunk characters; the caller spaces calls by type_delay_ms.

        The chat client looks keysyms up in ITS copy of the keymap, refreshed when it processes
        the MappingNotify we cause. Characters keep their keycode across chunks (most replies fit
        in one mapping), new ones take keycodes the previous chunk did not use, and all changes of
        a chunk go out before its keys."""
        d = self.conn.display
        spare = self._spare_keycodes()
        if len(spare) < 2:
            raise KnownError("键盘映射中没有空闲按键，无法模拟输入", "No free keycode to type with")
        shift = (self.conn.modifier_keycodes.get("Shift") or [0])[0]
        enter = self.conn.keycode("Return")
        chars = [c for c in dict.fromkeys(text) if c != "\n"]
        needed = [c for c in chars if c not in self._assigned]
        protected = self._previous | {self._assigned[c] for c in chars if c in self._assigned}
        by_code = {code: char for char, code in self._assigned.items()}
        free = [code for code in spare if code not in protected]
        free.sort(key=lambda code: code in by_code)  # unmapped keycodes first
        changes: dict[int, int] = {}
        for char, code in zip(needed, free, strict=False):
            old = by_code.pop(code, None)
            if old is not None:
                del self._assigned[old]
            self._assigned[char] = code
            changes[code] = _keysym_for(char)
        for first, syms in _runs(changes):
            d.change_keyboard_mapping(first, [(sym, sym, sym, sym) for sym in syms])
        if changes:
            d.sync()
        used: set[int] = set()
        for char in text:
            if char == "\n":
                # Enter would SEND the chat message: Shift+Enter is "new line" in chat clients.
                xtest.fake_input(d, X.KeyPress, shift)
                xtest.fake_input(d, X.KeyPress, enter)
                xtest.fake_input(d, X.KeyRelease, enter)
                xtest.fake_input(d, X.KeyRelease, shift)
            elif char in self._assigned:
                code = self._assigned[char]
                used.add(code)
                xtest.fake_input(d, X.KeyPress, code)
                xtest.fake_input(d, X.KeyRelease, code)
        self._previous = used
        d.sync()
        self.conn.schedule_drain()

    def clear_typing_map(self) -> None:
        if not self._spare or not self._assigned:
            return
        d = self.conn.display
        for first, syms in _runs({code: 0 for code in self._assigned.values()}):
            d.change_keyboard_mapping(first, [(0, 0, 0, 0)] * len(syms))
        self._assigned.clear()
        d.sync()


def _runs(changes: dict[int, int]) -> list[tuple[int, list[int]]]:
    """{keycode: keysym} -> [(first keycode, [keysyms of consecutive keycodes])]."""
    runs: list[tuple[int, list[int]]] = []
    for code in sorted(changes):
        if runs and runs[-1][0] + len(runs[-1][1]) == code:
            runs[-1][1].append(changes[code])
        else:
            runs.append((code, [changes[code]]))
    return runs


def _keysym_for(char: str) -> int:
    point = ord(char)
    if char == "\t":
        return XK.string_to_keysym("Tab")
    if 0x20 <= point <= 0x7E or 0xA0 <= point <= 0xFF:
        return point
    return 0x01000000 | point


class X11Windows(WindowTracker):
    """WindowTracker: the focused window, its class/title/process, and giving focus back."""

    def __init__(self, conn: X11Connection) -> None:
        self.conn = conn
        d = conn.display
        self._atoms = {name: d.intern_atom(name) for name in
                       ("_NET_ACTIVE_WINDOW", "_NET_WM_NAME", "UTF8_STRING", "_NET_WM_PID", "WM_CLASS")}
        self._own_pid = os.getpid()
        self._info_cache: dict[int, tuple[str, int, str, int]] = {}  # handle -> (class, pid, process, top)

    def foreground(self) -> int:
        focus, _ = self.conn.focus_and_keymap()
        if isinstance(focus, int):  # X.NONE / X.PointerRoot
            return self._active_from_wm()
        return focus.id

    def _active_from_wm(self) -> int:
        try:
            prop = self.conn.root.get_full_property(self._atoms["_NET_ACTIVE_WINDOW"], X.AnyPropertyType)
        except error.XError:
            return 0
        finally:
            self.conn.schedule_drain()
        return int(prop.value[0]) if prop and len(prop.value) else 0

    def _top_level(self, handle: int) -> tuple[int, str, int]:
        """(window carrying WM_CLASS, its class, its pid), walking up from a focus child."""
        d = self.conn.display
        window = d.create_resource_object("window", handle)
        for _ in range(8):
            try:
                cls = window.get_wm_class()
                if cls:
                    pid_prop = window.get_full_property(self._atoms["_NET_WM_PID"], X.AnyPropertyType)
                    pid = int(pid_prop.value[0]) if pid_prop and len(pid_prop.value) else 0
                    return window.id, ".".join(cls), pid
                tree = window.query_tree()
            except error.XError:
                return 0, "", 0
            if not tree.parent or tree.parent.id == tree.root.id:
                return window.id, "", 0
            window = tree.parent
        return window.id, "", 0

    def describe(self, handle: int) -> WindowInfo:
        if not handle:
            return WindowInfo(0)
        try:
            cached = self._info_cache.get(handle)
            if cached is None:
                top, wm_class, pid = self._top_level(handle)
                process = ""
                if pid:
                    with contextlib.suppress(OSError):
                        process = Path(f"/proc/{pid}/comm").read_text().strip()
                cached = (wm_class, pid, process, top)
                if len(self._info_cache) > 256:
                    self._info_cache.clear()
                self._info_cache[handle] = cached
            wm_class, pid, process, top = cached
            title = self._title(top or handle)
        finally:
            self.conn.schedule_drain()
        return WindowInfo(handle, wm_class, title, process, pid)

    def _title(self, handle: int) -> str:
        window = self.conn.display.create_resource_object("window", handle)
        try:
            prop = window.get_full_property(self._atoms["_NET_WM_NAME"], self._atoms["UTF8_STRING"])
            if prop and prop.value:
                value = prop.value
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            name = window.get_wm_name()
            return name.decode("latin-1") if isinstance(name, bytes) else (name or "")
        except error.XError:
            return ""

    def activate(self, handle: int) -> bool:
        """Give the window the focus back: ask the window manager (_NET_ACTIVE_WINDOW on its
        top-level, as a pager would, which WMs honour), and set the input focus directly (enough
        without a WM, and harmless with one). False when the window is gone."""
        d = self.conn.display
        catcher = error.CatchError(error.BadWindow, error.BadMatch)
        top, _, _ = self._top_level(handle)
        if not top:
            return False
        message = xevent.ClientMessage(window=d.create_resource_object("window", top),
                                       client_type=self._atoms["_NET_ACTIVE_WINDOW"],
                                       data=(32, [2, X.CurrentTime, 0, 0, 0]))
        self.conn.root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask,
                                  onerror=catcher)
        d.create_resource_object("window", handle).set_input_focus(X.RevertToParent, X.CurrentTime,
                                                                    onerror=catcher)
        self.conn.sync()
        return catcher.get_error() is None

    def own_focused(self) -> bool:
        """Does one of OUR windows have the keyboard focus? Qt knows without asking the server
        (it handles the FocusIn/FocusOut of its windows), so the hotkey path need not wait."""
        return QGuiApplication.focusWindow() is not None

    def is_own(self, handle: int) -> bool:
        if not handle:
            return False
        cached = self._info_cache.get(handle)
        if cached is None:
            self.describe(handle)
            cached = self._info_cache.get(handle)
        return bool(cached) and cached[1] == self._own_pid

    def check_target(self, info: WindowInfo) -> tuple[str, str] | None:
        return None

    def close(self) -> None:
        pass


class X11ClipboardOwnership(ClipboardOwnership):
    """Asks the X server who owns CLIPBOARD. Qt's windows all carry its X connection's resource
    id base, so an owner window with that base is ours (Qt's hidden selection-owner window)."""

    def __init__(self, conn: X11Connection, qt_window: int) -> None:
        self.conn = conn
        self.qt_window = qt_window
        self.mask = conn.display.display.info.resource_id_mask
        self.base = qt_window & ~self.mask
        self.atom = conn.display.intern_atom("CLIPBOARD")
        self.time_atom = conn.display.intern_atom("_KEFU_TIMESTAMP")
        self._window = conn.display.create_resource_object("window", qt_window)

    def owned(self) -> bool:
        owner = self.conn.display.get_selection_owner(self.atom)
        self.conn.schedule_drain()
        owner_id = owner if isinstance(owner, int) else owner.id
        return bool(owner_id) and (owner_id & ~self.mask) == self.base

    def refresh(self, flush: bool = True) -> None:
        """A property change on one of Qt's windows: the PropertyNotify carries the server's
        current time, which Qt adopts as its event time when it processes it. flush=False leaves
        the request for the caller's next flush."""
        # The value does not matter: every ChangeProperty (Replace) makes a PropertyNotify.
        self._window.change_property(self.time_atom, Xatom.CARDINAL, 32, [1])
        if flush:
            self.conn.display.flush()


def create(display_name: str | None = None, reason: str = "") -> Backend:
    conn = X11Connection(display_name)
    hotkeys = X11Hotkeys(conn)
    hotkeys.setParent(conn)
    sender = X11KeySender(conn)
    windows = X11Windows(conn)
    selection = X11Selection(conn)
    caps = Capabilities(global_hotkeys=True, send_keys=conn.display.has_extension("XTEST"),
                        release_modifiers=True, name="x11")

    class _X11Backend(Backend):
        def close(self) -> None:
            with contextlib.suppress(Exception):
                sender.clear_typing_map()
            hotkeys.close()
            selection.close()
            conn.close()

    backend = _X11Backend("x11", reason, hotkeys, sender, windows, caps,
                          clipboard_ownership=lambda qt_window: X11ClipboardOwnership(conn, qt_window),
                          paste_clipboard=lambda inner: SelectionClipboard(inner, selection, inner.ownership))
    backend.connection = conn  # type: ignore[attr-defined]
    return backend
