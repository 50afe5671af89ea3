"""The pasted reply as the X CLIPBOARD, served from our own X connection (python-xlib).

Why not QClipboard for the paste itself (it still snapshots and restores, with every format):
- Ownership and chord travel on ONE connection: SetSelectionOwner goes out in the same flush as
  the XTest chord and the server handles them in order, so the chat client's Ctrl+V always finds
  our text - without the round trip Qt makes to check it became the owner.
- CurrentTime ownership is never refused (the server's time is never earlier than the last
  change), so the "Qt used a stale timestamp" failure cannot happen on the hotkey path.
- A short TARGETS list (UTF8_STRING, instead of Qt's ~10 atoms): a Qt chat client asks the
  server the name of every atom it is offered, one round trip each, before it asks for the text.

The requests are answered on the GUI thread through X11Connection's notifier, like hotkeys. Qt
must never READ the clipboard while we own it here: it would wait for an answer that only our own
(blocked) event loop could give. SelectionClipboard therefore answers snapshot()/text() itself
while it owns the text, and hands a failed paste's text over to Qt (hand_over()).

Requests go through python-xlib's public API (here and in backend.py), not bytes packed by hand
on its private request queue (the former raw.py, which tied us to python-xlib 0.33). Measured on
Xvfb, 2 cores, interleaved, 6 runs each of tests/benchmarks/bench_hotkey.py: the app's share
(KeyPress -> chord sent) went from 0.40 to 0.60 ms median, hotkey -> text stayed within noise
(ratio to the KeyPress floor, median 1.21x before, 1.23x after; runs spread 1.12-1.38x). Per
request python-xlib packs fields each time (~15 us for an XTest key, ~45 us more per clipboard
answer): ~1 % of a ~20 ms paste, not worth private internals.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QTimer
from Xlib import X, Xatom
from Xlib.protocol import event as xevent
from Xlib.protocol import request

from ..base import ClipboardAccess, ClipboardOwnership

log = logging.getLogger(__name__)

# Text targets we convert to (all UTF-8). STRING/TEXT/COMPOUND_TEXT are left out: every toolkit
# of the last 20 years (Qt, GTK, Chromium/Electron, Wine, Java, xterm) asks for UTF8_STRING.
TEXT_TARGETS = ("UTF8_STRING", "text/plain;charset=utf-8")
# KDE Klipper and managers following its convention (CopyQ) do not record content carrying this.
PASSWORD_HINT = "x-kde-passwordManagerHint"
# ChangeProperty without BIG-REQUESTS holds at most 256 KiB; longer text goes through Qt (INCR).
MAX_DIRECT_BYTES = 200_000
HAND_OVER_RETRY_MS = 20
_ATOMS = ("CLIPBOARD", "TARGETS", "TIMESTAMP", *TEXT_TARGETS, PASSWORD_HINT)


class X11Selection:
    """CLIPBOARD owner for one text at a time, on the X11Connection's display."""

    def __init__(self, conn: Any, password_hint: bool = False) -> None:
        self.conn = conn
        d = conn.display
        self.atoms = {name: d.intern_atom(name) for name in _ATOMS}
        self.window = conn.root.create_window(-10, -10, 1, 1, 0, X.CopyFromParent, X.InputOnly,
                                              X.CopyFromParent)
        self._text_atoms = {self.atoms[name] for name in TEXT_TARGETS}
        self.set_password_hint(password_hint)
        self.data = b""
        self.owned = False
        self.fetches = 0  # reads of the text (not TARGETS) since take()
        self.first_fetch = 0.0
        self.taken_at = 0  # server time of the first request we served (answer to TIMESTAMP)
        self.on_first_fetch: Any = None  # called when a program first reads the text, before we answer
        conn.add_handler(self._on_event)

    def set_password_hint(self, on: bool) -> None:
        """TARGETS lists only what a client needs to choose: UTF8_STRING, the text format every
        toolkit asks for (and the one a Qt client recognises without asking the server its
        name). TARGETS, TIMESTAMP and text/plain;charset=utf-8 are still converted when asked.
        Each further atom listed costs a Qt client one GetAtomName round trip during the paste
        (measured ~0.25 ms each with a Qt chat client on this machine), so the KDE password hint
        (clipboard managers then skip our text) is listed only when the setting
        paste.hide_from_history asks for it."""
        self._hint = bool(on)
        self._targets = [self.atoms["UTF8_STRING"]] + ([self.atoms[PASSWORD_HINT]] if self._hint else [])


    def fits(self, text: str) -> bool:
        return len(text.encode("utf-8")) <= MAX_DIRECT_BYTES

    def take(self, text: str) -> None:
        """Own CLIPBOARD with `text`. Queued, not flushed: the caller's next flush (the chord's)
        carries it, ahead of the keys."""
        self.data = text.encode("utf-8")
        self.fetches = 0
        self.first_fetch = 0.0
        self.taken_at = 0
        self.owned = True
        self.window.set_selection_owner(self.atoms["CLIPBOARD"], X.CurrentTime)

    def holds(self, text: str) -> bool:
        return self.owned and self.data == text.encode("utf-8")

    def text(self) -> str:
        return self.data.decode("utf-8")

    def owner_is_us(self) -> bool:
        """Ask the server (one round trip): tests and diagnostics."""
        reply = request.GetSelectionOwner(display=self.conn.display.display, selection=self.atoms["CLIPBOARD"])
        self.conn.schedule_drain()
        owner = reply.owner
        return (owner if isinstance(owner, int) else owner.id) == self.window.id

    def release(self) -> None:
        if self.owned:
            self.owned = False
            request.SetSelectionOwner(display=self.conn.display.display, window=X.NONE,
                                      selection=self.atoms["CLIPBOARD"], time=X.CurrentTime)
            self.conn.display.flush()

    def close(self) -> None:
        self.owned = False
        try:
            self.window.destroy()
            self.conn.display.flush()
        except Exception:  # noqa: BLE001 - the connection may be gone already
            pass

    # ------------------------------------------------------------ events

    def _on_event(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        if kind == X.SelectionRequest:
            if event.owner.id == self.window.id and event.selection == self.atoms["CLIPBOARD"]:
                self._answer(event)
        elif kind == X.SelectionClear and event.window.id == self.window.id \
                and event.atom == self.atoms["CLIPBOARD"]:
            self.owned = False

    def _answer(self, ev: Any) -> None:
        """Convert and notify."""
        requestor = ev.requestor
        prop = ev.property or ev.target  # obsolete clients send None: ICCCM says use the target
        target = ev.target
        if not self.taken_at and ev.time:
            self.taken_at = ev.time
        data: bytes | list[int] | None = None
        if not self.owned:
            pass
        elif target == self.atoms["TARGETS"]:
            data, kind, fmt = self._targets, Xatom.ATOM, 32
        elif target in self._text_atoms:
            if not self.fetches:
                self.first_fetch = time.monotonic()
                if self.on_first_fetch is not None:
                    self.on_first_fetch()  # queued requests leave with this answer
            self.fetches += 1
            data, kind, fmt = self.data, target, 8
        elif target == self.atoms["TIMESTAMP"]:
            data, kind, fmt = [self.taken_at or ev.time], Xatom.INTEGER, 32
        elif target == self.atoms[PASSWORD_HINT] and self._hint:
            data, kind, fmt = b"secret", target, 8
        # The requestor window may be gone by now: its BadWindow is expected, not worth a warning.
        if data is not None:
            requestor.change_property(prop, kind, fmt, data, onerror=_ignore_error)
        notify = xevent.SelectionNotify(time=ev.time, requestor=requestor, selection=ev.selection, target=target,
                                        property=prop if data is not None else X.NONE)
        requestor.send_event(notify, onerror=_ignore_error)
        self.conn.display.flush()


def _ignore_error(err: object, request: object) -> None:
    """python-xlib's onerror: an expected X error, not passed to the display's handler."""


class SelectionClipboard(ClipboardAccess):
    """ClipboardAccess for PasteService on X11: our text through X11Selection, snapshot/restore
    (every format) through the Qt clipboard `inner`. Text too long for one X request goes
    through `inner` as before."""

    def __init__(self, inner: ClipboardAccess, selection: X11Selection,
                 ownership: ClipboardOwnership | None = None) -> None:
        self.inner = inner
        self.selection = selection
        self.ownership = ownership  # refresh() brings Qt's timestamp forward
        self._via_inner = False
        self._qt_time_stale = False
        selection.on_first_fetch = self._refresh_qt_time

    # -- reading: never through Qt while the selection is ours (see the module docstring)

    def snapshot(self) -> Any:
        if self.selection.owned:
            from ..qtclipboard import Snapshot

            return Snapshot([("text/plain", self.selection.data)], owned_by_us=True)
        return self.inner.snapshot()

    def text(self) -> str:
        return self.selection.text() if self.selection.owned else self.inner.text()

    # -- our text

    def set_text(self, text: str) -> bool:
        if not self.selection.fits(text):
            self._via_inner = True
            return self.inner.set_text(text)
        self._via_inner = False
        self.selection.take(text)
        self._qt_time_stale = self.ownership is not None
        return True

    def holds_text(self, text: str) -> bool:
        if self._via_inner:
            return self.inner.holds_text(text)
        return self.selection.holds(text)

    def fetch_state(self) -> tuple[int, float] | None:
        if self._via_inner:
            return self.inner.fetch_state()
        return self.selection.fetches, self.selection.first_fetch

    def refresh(self) -> None:
        self.inner.refresh()

    def restore(self, snapshot: Any) -> bool | None:
        # `inner` is a QtClipboard: its snapshots (and ours) say whether the clipboard was empty.
        if snapshot.empty and self.selection.owned and not self._via_inner:
            # The clipboard was empty: give it up (Qt's clear() is a no-op when Qt holds nothing).
            self.selection.release()
            return True
        if self._qt_time_stale:
            self._refresh_qt_time(flush=True)
            return False  # PasteService retries shortly, once Qt has seen the new time
        result = self.inner.restore(snapshot)
        if result is not False:
            # Qt owns it now (the server sends us SelectionClear too; no need to wait for it).
            self.selection.owned = False
        return result

    def _refresh_qt_time(self, flush: bool = False) -> None:
        """Qt's clipboard timestamp predates our ownership, so the X server would refuse Qt's
        restore. A property change on Qt's window brings it forward (Qt adopts the time of the
        PropertyNotify). Sent when the chat client reads our text, not with the chord: Qt then
        has nothing to handle while the chat client is still asking for it."""
        if self._qt_time_stale and self.ownership is not None:
            self._qt_time_stale = False
            self.ownership.refresh(flush=flush)

    def set_password_hint(self, on: bool) -> None:
        self.selection.set_password_hint(on)

    def hand_over(self, attempts: int = 3) -> None:
        """Our text stays on the clipboard for the agent (a failed paste): let Qt hold it, so
        nothing depends on our event loop answering for it."""
        if not self.selection.owned or self._via_inner:
            return
        self._refresh_qt_time(flush=True)
        if self.inner.set_text(self.selection.text()) is not False:
            self.selection.owned = False
        elif attempts > 0:
            # Refused: Qt has not seen the new time yet (it arrives with the PropertyNotify).
            QTimer.singleShot(HAND_OVER_RETRY_MS, lambda: self.hand_over(attempts - 1))
