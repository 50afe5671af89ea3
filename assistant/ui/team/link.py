"""Joining and leaving a team server while the panel runs (the settings dialog's 团队 page).

TeamLink owns the panel's live sync (services/teamsync.py) from app start to quit, so that
connecting from the settings dialog starts it and disconnecting stops it without a restart:
- connect: the login and the schema check (network) run on a thread of their own, never on the
  GUI thread nor on the store worker; then connection.save() (keyring + settings, one
  transaction) runs on the worker; then the sync starts. Any failure leaves nothing stored.
- disconnect: the outbox is checked first (unsent changes refuse unless forced), the sync thread is
  stopped (off the GUI thread: it may be inside a network call), then connection.disconnect() runs
  on the worker. A refusal found only then restarts the sync: the PC is still connected.
`attached(sync_or_None)` tells the panel (app.py connects it to Panel.attach_team); it is emitted
after the old sync thread has ended, so no late state of it reaches the panel afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from ...core import outbox
from ...team import connection

log = logging.getLogger(__name__)


class TeamLink(QObject):
    attached = Signal(object)  # the running TeamSync, or None after leaving the team
    state_changed = Signal(str, str)  # the running sync's state ("" when none runs), relayed
    _finished = Signal(object)  # (callback, value) from a helper thread, delivered on the GUI thread

    def __init__(self, worker: Any, start_sync: Callable[[], Any], parent: QObject | None = None) -> None:
        """start_sync() builds a wired, not yet started TeamSync (app.wire_team)."""
        super().__init__(parent)
        self.worker = worker
        self._start_sync = start_sync
        self.sync: Any = None
        self.state = ""
        self.detail = ""
        self.busy = False
        self._problems: dict[str, BaseException] = {}  # the sync's KnownErrors by their Chinese line
        self._finished.connect(self._deliver)

    # ------------------------------------------------------------ the live sync
    def start(self) -> None:
        """Start the live sync (the app at start with a server configured, or after a connect)."""
        if self.sync is not None:
            return
        sync = self._start_sync()
        sync.state_changed.connect(lambda state, detail, src=sync: self._on_state(src, state, detail))
        sync.problem.connect(lambda exc, src=sync: self._on_problem(src, exc))
        self.sync = sync
        self.attached.emit(sync)
        sync.start()

    def shutdown(self) -> None:
        """The app quits: stop the sync here and now (before the store worker stops)."""
        sync, self.sync = self.sync, None
        if sync is not None:
            sync.stop()

    def _on_state(self, source: Any, state: str, detail: str) -> None:
        if source is not self.sync:
            return  # a sync being stopped
        self.state, self.detail = state, detail
        self.state_changed.emit(state, detail)

    def _on_problem(self, source: Any, exc: BaseException) -> None:
        if source is self.sync:
            self._problems[str(getattr(exc, "zh", ""))] = exc
            self.state_changed.emit(self.state, self.detail)  # now told in the UI's language

    def problem_text(self, detail: str) -> str:
        """The offline reason in the UI's language: the sync's detail is a KnownError's Chinese
        line (told in English once its problem signal has come) or an exception class name."""
        exc = self._problems.get(detail)
        if exc is None:
            return detail
        from ..widgets import i18n

        return exc.message("en" if i18n.is_english() else "zh")  # type: ignore[attr-defined]

    def _stop_then(self, then: Callable[[], None]) -> None:
        """Stop the running sync off the GUI thread, then then() on it (at once when none runs)."""
        sync, self.sync = self.sync, None
        if sync is None:
            then()
            return
        with contextlib.suppress(RuntimeError, TypeError):  # never connected (a test's stand-in)
            self.worker.data_changed.disconnect(sync.wake)

        def stopped(_: Any) -> None:
            sync.deleteLater()
            self.state, self.detail = "", ""
            self.state_changed.emit("", "")
            then()

        self.run_off_gui(sync.stop, stopped, lambda exc: stopped(None))

    # ------------------------------------------------------------ helper threads
    def run_off_gui(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
                    on_error: Callable[[BaseException], None]) -> None:
        """fn() on a one-shot thread; its result or exception back on the GUI thread."""

        def run() -> None:
            try:
                outcome = (on_done, fn())
            except Exception as exc:  # noqa: BLE001 - handed to on_error, which shows one line
                traceback.clear_frames(exc.__traceback__)
                outcome = (on_error, exc)
            self._finished.emit(outcome)

        threading.Thread(target=run, name="kefu-team-link", daemon=True).start()

    @Slot(object)
    def _deliver(self, outcome: tuple) -> None:
        callback, value = outcome
        callback(value)

    # ------------------------------------------------------------ joining and leaving
    def connect_server(self, url: str, password: str, on_done: Callable[[connection.Status], None],
                       on_error: Callable[[BaseException], None]) -> None:
        """Log in and check (helper thread), store (worker), start the sync; on_done(Status) or
        on_error(exc) with nothing stored. The password goes to the keyring only."""
        self.busy = True

        def failed(exc: BaseException) -> None:
            self.busy = False
            log.info("team connect refused (%s)", type(exc).__name__)
            on_error(exc)

        def saved(status: connection.Status) -> None:
            self.busy = False
            log.info("team connect: joined as %s", status.kind)
            self.start()
            on_done(status)

        def checked(result: tuple[connection.Target, connection.Status]) -> None:
            target, status = result
            self.worker.submit(lambda store: connection.save(store, target, status, password),
                               lambda _none: saved(status), failed, write=True)

        self.run_off_gui(lambda: connection.check(url, password), checked, failed)

    def disconnect_server(self, force: bool, on_done: Callable[[Any], None],
                          on_error: Callable[[BaseException], None]) -> None:
        """Leave the team: on_done(Target or None), or on_error(PendingChanges) with nothing changed
        when changes wait to be sent and force is False."""
        self.busy = True
        was_running = self.sync is not None

        def failed(exc: BaseException) -> None:
            self.busy = False
            on_error(exc)

        def left(target: Any) -> None:
            self.busy = False
            log.info("team disconnect%s", " (forced)" if force else "")
            self.attached.emit(None)
            on_done(target)

        def refused(exc: BaseException) -> None:
            if was_running:
                self.start()  # still connected: keep syncing
            failed(exc)

        def leave() -> None:
            self.worker.submit(lambda store: connection.disconnect(store, force), left, refused, write=True)

        def checked(pending: int) -> None:
            if pending and not force:
                failed(connection.PendingChanges(pending))
                return
            self._stop_then(leave)

        self.worker.submit(outbox.size, checked, failed)
