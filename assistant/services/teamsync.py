"""The panel's live team sync: a thread of its own talks to the server, the store worker writes.

Nothing here runs on the GUI thread but signal delivery. The sync thread owns two server
connections (psycopg: one for push/pull, one LISTENing on the wake-up channel) and a read-only
view of the local store; it sleeps in select() on the LISTEN socket and a local wake-up socket:
- a NOTIFY from the server (a team member's change) -> pull;
- a local change (the worker's data_changed, relayed by wake()) -> push, if the outbox holds anything;
- every POLL_S seconds -> a whole round (the fallback if a notification was missed);
- the connection failing -> "offline": the panel keeps working on SQLite, the outbox keeps every
  change, and the thread retries with a growing pause until the server is back.
Every local write (pulled rows, acknowledgements, conflicts) is handed to the StoreWorker, the one
writer of the running app, and waited for: the sync thread never writes SQLite itself.

Nothing is logged but counts, SQLSTATEs and exception class names: no reply text, no names.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

POLL_S = 30.0
RETRY_S = (2.0, 5.0, 10.0, 30.0, 60.0)
WRITE_TIMEOUT_S = 120.0


class _Stopping(Exception):
    pass


class TeamSync(QObject):
    """state_changed(state, detail): "online" | "syncing" | "offline" (detail: a short reason or
    the last sync time); synced(result) after each round that moved something."""

    state_changed = Signal(str, str)
    synced = Signal(object)
    problem = Signal(object)  # a KnownError worth telling the agent (once per kind): e.g. no password
    picked_up = Signal(int)  # signing in took this many buyers (with their reminders) from the shop's pool
    _write_requested = Signal(object)
    _call_finished = Signal(object)

    def __init__(self, worker: Any, db_path: Any, open_client: Callable[[Any], Any],
                 parent: QObject | None = None, *, poll_s: float = POLL_S,
                 retry_s: tuple[float, ...] = RETRY_S) -> None:
        super().__init__(parent)
        self._worker = worker
        self._db_path = db_path
        self._open_client = open_client  # (read-only Store) -> SyncClient; e.g. team.connection.open_client
        self._poll_s = poll_s
        self._retry_s = retry_s
        self._wake_r, self._wake_w = socket.socketpair()  # select()-able on Windows too
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._local = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = ""
        self._write_requested.connect(self._submit_write)
        self._calls: queue.Queue = queue.Queue()
        self._call_finished.connect(self._deliver_call)

    # ------------------------------------------------------------ GUI thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kefu-team-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._poke()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._wake_r.close()
        self._wake_w.close()

    @Slot()
    def wake(self) -> None:
        """A local change: push soon (cheap when the outbox is empty)."""
        self._local.set()
        self._poke()

    def call(self, fn: Callable[[Any], Any], on_done: Callable[[Any], None],
             on_error: Callable[[Any], None]) -> None:
        """Run fn(connection) on the sync thread, with the agent's server connection (a supervisor's
        queries and changes, assistant/team/supervisor.py), and hand the result or the error back
        on the GUI thread. Offline, on_error gets a one-line TeamError at once."""
        self._calls.put((fn, on_done, on_error))
        self._poke()

    @Slot(object)
    def _deliver_call(self, outcome: tuple) -> None:
        callback, value = outcome
        callback(value)

    def _run_calls(self, client: Any) -> None:
        while True:
            try:
                fn, on_done, on_error = self._calls.get_nowait()
            except queue.Empty:
                return
            try:
                value = fn(client.conn)
            except Exception as exc:  # noqa: BLE001 - the caller shows it; a broken line goes offline
                self._call_finished.emit((on_error, exc))
                if client.conn.closed or type(exc).__name__ == "OperationalError":
                    raise
                continue
            self._call_finished.emit((on_done, value))

    def _fail_calls(self) -> None:
        from ..team.connection import TeamError

        while True:
            try:
                _fn, _on_done, on_error = self._calls.get_nowait()
            except queue.Empty:
                return
            self._call_finished.emit((on_error, TeamError("离线：团队服务器暂时连不上，请稍后再试",
                                                          "offline: the team server cannot be reached now; "
                                                          "try again later")))

    def _poke(self) -> None:
        with contextlib.suppress(OSError):  # the buffer is full (already woken) or closed (stopping)
            self._wake_w.send(b"x")

    @Slot(object)
    def _submit_write(self, request: list) -> None:
        fn, done = request[0], request[1]

        def job(store: Any) -> tuple[bool, Any]:
            try:
                return True, fn(store)
            except BaseException as exc:  # noqa: BLE001 - handed back to the sync thread as it is
                return False, exc

        def finish(outcome: tuple[bool, Any]) -> None:
            request.append(outcome)
            done.set()

        def failed(exc: Any) -> None:
            request.append((False, exc))
            done.set()

        self._worker.submit(job, finish, on_error=failed, write=True)

    # ------------------------------------------------------------ sync thread
    def _run_write(self, fn: Callable[[Any], Any]) -> Any:
        done = threading.Event()
        request: list = [fn, done]
        self._write_requested.emit(request)
        deadline = time.monotonic() + WRITE_TIMEOUT_S
        while not done.wait(0.2):
            if self._stop.is_set() or time.monotonic() > deadline:
                raise _Stopping()
        ok, value = request[2]
        if not ok:
            raise value
        return value

    def _set_state(self, state: str, detail: str = "") -> None:
        if state != self.state or detail:
            self.state = state
            self.state_changed.emit(state, detail)

    def _run(self) -> None:
        from ..core import outbox
        from ..core.store import Store

        failures = 0
        signed_in = False  # the shop's pool is picked up once per panel start, at the first connect
        told: set[str] = set()
        store = None
        client = None
        listener = None
        try:
            store = Store(self._db_path)
            while not self._stop.is_set():
                try:
                    if client is None:
                        self._set_state("syncing")
                        client = self._open_client(store)
                        client.run_write = self._run_write
                        listener = client.open_listener()
                        client.refresh_identity()
                        if not signed_in:  # the first round online since the panel started: signing in
                            picked = client.pick_up_pool()
                            signed_in = True
                            if picked:
                                log.info("team sync: %d buyers picked up from the shop's pool", picked)
                                self.picked_up.emit(picked)
                        self._round(client, full=True)
                        failures = 0
                    woke = self._sleep(listener)
                    if self._stop.is_set():
                        break
                    self._run_calls(client)
                    if woke == "poll":
                        client.refresh_identity()
                        self._round(client, full=True)
                    elif woke == "remote":
                        self._round(client, full=True)
                    elif self._local.is_set():
                        self._local.clear()
                        if outbox.size(store):
                            self._round(client, full=False)
                except _Stopping:
                    break
                except Exception as exc:  # noqa: BLE001 - any failure: offline, retry later
                    failures += 1
                    log.warning("team sync offline (%s)", type(exc).__name__)
                    known = getattr(exc, "zh", None)  # a KnownError: a one-line reason in both languages
                    self._set_state("offline", known or type(exc).__name__)
                    if known and type(exc).__name__ not in told:
                        told.add(type(exc).__name__)
                        self.problem.emit(exc)
                    for conn in (client, listener):
                        try:
                            if conn is not None:
                                conn.close()
                        except Exception:  # noqa: BLE001, S110 - already broken
                            pass
                    client = listener = None
                    pause = self._retry_s[min(failures - 1, len(self._retry_s) - 1)]
                    self._wait(pause)
        finally:
            for conn in (client, listener):
                try:
                    if conn is not None:
                        conn.close()
                except Exception:  # noqa: BLE001, S110 - closing at exit
                    pass
            if store is not None:
                store.close()

    def _round(self, client: Any, full: bool) -> None:
        from ..core import outbox

        self._set_state("syncing")
        result = client.sync() if full else client.push()
        moved = result.pushed + result.duplicates + result.conflicts + result.pulled
        if moved:
            log.info("team sync: pushed %d, resent %d, conflicts %d, pulled %d in %.3f s", result.pushed,
                     result.duplicates, result.conflicts, result.pulled, result.seconds)
            self.synced.emit(result)
        self._set_state("online", outbox.last_sync(client.store) or "")

    def _sleep(self, listener: Any) -> str:
        """Block until something happens: "remote" (a NOTIFY), "local" (wake/stop) or "poll"."""
        watched = [self._wake_r]
        if listener is not None:
            watched.append(listener.pgconn.socket)
        ready, _, _ = select.select(watched, [], [], self._poll_s)
        if not ready:
            return "poll"
        if self._wake_r in ready:
            self._drain_wake()
        if listener is not None and listener.pgconn.socket in ready:
            from ..team import sync as teamsync

            if teamsync.drain(listener):
                return "remote"
        return "local"

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):  # BlockingIOError: emptied
            while self._wake_r.recv(4096):
                pass

    def _wait(self, seconds: float) -> None:
        """The pause before retrying a lost server; a stop ends it at once, local changes do not
        (they wait in the outbox)."""
        end = time.monotonic() + seconds
        while not self._stop.is_set() and (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self._wake_r], [], [], min(0.5, left))
            if ready:
                self._drain_wake()
            self._fail_calls()
