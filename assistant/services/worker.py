"""Store work off the GUI thread (the anki `operations` pattern).

One worker QThread owns its own Store (one connection per thread): EVERY store write of the running
app is a job here - the panel's edits, reminders, and the usage record of each paste (PasteFlow).
Widgets and services submit a job — a plain function of the store — and get the result back in the GUI
thread through a queued signal. A job may carry a `key`: a newer job with the same key supersedes
an older one, which is then skipped if it has not started and its result dropped if it has (search
as you type never shows stale results).

Errors: a KnownError (DB locked, bad file, validation) goes to the job's on_error, or to the
`known_error` signal; anything else is a bug and goes to sys.excepthook (the crash dialog).

The write lock taken (a `kefu replies import` in a terminal, another program): a job that fails
with StoreBusyError before it changed anything waits in a queue and is tried again with backoff,
for up to WRITE_RETRY_S, instead of failing. Later write jobs queue behind it, so writes keep
their order; reading jobs go on meanwhile (WAL readers need no lock), so the panel stays usable.
After WAIT_NOTICE_S the `write_waiting` signal lets the panel say why its change is not saved yet.
"""

from __future__ import annotations

import collections
import itertools
import logging
import queue
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.store import Store, open_store, translate_sqlite_error
from ..errors import KnownError, StoreBusyError

log = logging.getLogger(__name__)

_STOP = object()

# The worker's own busy timeout is short: waiting happens in its retry queue, where reading jobs
# can run meanwhile, not inside SQLite's busy handler, which would hold the thread.
BUSY_TIMEOUT_MS = 250
WRITE_RETRY_S = 60.0  # a write still locked out after this long is reported as failed
WAIT_NOTICE_S = 2.0  # then the panel tells why the change is not saved yet
RETRY_DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0)  # backoff; the last one repeats


@dataclass
class _Waiting:
    """A job that found the write lock taken, and when it first did."""

    job_id: int
    key: str | None
    fn: Callable[..., Any]
    with_progress: bool
    since: float
    attempts: int = 0


@dataclass
class _Job:
    id: int
    fn: Callable[..., Any]
    key: str | None
    write: bool
    on_done: Callable[[Any], None] | None
    on_error: Callable[[KnownError], None] | None
    on_progress: Callable[[int, int], None] | None = None
    done_event: threading.Event = field(default_factory=threading.Event)


class _Thread(QThread):
    def __init__(self, worker: StoreWorker) -> None:
        super().__init__()
        self.setObjectName("store-worker")
        self._worker = worker

    def run(self) -> None:  # worker thread
        self._worker._run()


class StoreWorker(QObject):
    """Runs store jobs on one background thread; results come back on the GUI thread."""

    # (job id, ok, value or exception info): emitted from the worker thread, delivered queued.
    _finished = Signal(int, bool, object)
    _progressed = Signal(int, int, int)
    #: a KnownError nobody handled (shown by the panel's message bar)
    known_error = Signal(object)
    #: the store changed: a write job of this worker, or another process (the CLI), which
    #: SystemWatch (services/systemwatch.py) notices and app.py relays into this signal
    data_changed = Signal()
    #: number of jobs waiting or running changed (a busy indicator)
    busy_changed = Signal(bool)
    #: the check run by check_then_release_writes() finished: (KnownError or None)
    checked = Signal(object)
    _check_done = Signal(object)
    #: (True, pid) a write has waited WAIT_NOTICE_S for the lock, pid = kefu's import holding it (0 =
    #: another program); then (False, 0) the waiting writes are saved, or (False, -1) some failed
    #: (their errors went to on_error / known_error as usual)
    write_waiting = Signal(bool, int)

    def __init__(self, db_path: Path | str, clock: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path) if str(db_path) != ":memory:" else db_path
        self._clock = clock
        self._queue: queue.Queue[Any] = queue.Queue()
        self._jobs: dict[int, _Job] = {}
        self._latest: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._thread = _Thread(self)
        self._store: Store | None = None
        self._open_error: KnownError | None = None
        self._finished.connect(self._deliver)
        self._progressed.connect(self._deliver_progress)
        self._held: list[Any] | None = None  # write jobs waiting for check_then_release_writes()
        self._check_done.connect(self._on_check_done)
        self._waiting: collections.deque[_Waiting] = collections.deque()  # worker thread only
        self._next_retry = 0.0
        self._notified = False
        self._wait_failed = False
        self.write_retry_s = WRITE_RETRY_S
        self.wait_notice_s = WAIT_NOTICE_S

    # ------------------------------------------------------------ lifecycle (GUI thread)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_ms: int = 5000) -> None:
        if self._thread.isRunning():
            self._queue.put(_STOP)
            if not self._thread.wait(timeout_ms):
                log.warning("store worker did not stop within %d ms", timeout_ms)

    @property
    def pending(self) -> int:
        return len(self._jobs)

    # ------------------------------------------------------------ writes held until a check passes

    def hold_writes(self) -> None:
        """Write jobs submitted from now on wait, in order, until check_then_release_writes() is done;
        reads keep running."""
        if self._held is None:
            self._held = []

    def check_then_release_writes(self, check: Callable[[Path], Any]) -> None:
        """Run check(db_path) on a one-shot thread of its own (its own connection: reads on the worker
        are not kept waiting), then release the held writes. A KnownError from the check is emitted by
        `checked`; the writes then run and meet the Store's own refusal."""
        def run() -> None:
            try:
                check(Path(self.db_path))
                outcome: Any = None
            except KnownError as exc:
                traceback.clear_frames(exc.__traceback__)
                outcome = exc
            except Exception:  # noqa: BLE001 - a bug in the check: report it, never keep writes held
                log.exception("start-up check failed")
                outcome = None
            self._check_done.emit(outcome)

        threading.Thread(target=run, name="store-check", daemon=True).start()

    @Slot(object)
    def _on_check_done(self, outcome: Any) -> None:
        held, self._held = self._held or [], None
        for item in held:
            self._queue.put(item)
        self.checked.emit(outcome)

    # ------------------------------------------------------------ submitting (GUI thread)

    def submit(self, fn: Callable[..., Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[KnownError], None] | None = None, *, key: str | None = None,
               write: bool = False, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Run fn(store) — or fn(store, progress) when on_progress is given — on the worker thread.

        write=True: a successful job emits data_changed. key: a newer job with the same key
        supersedes this one.
        """
        job = _Job(next(self._ids), fn, key, write, on_done, on_error, on_progress)
        self._jobs[job.id] = job
        if key is not None:
            self._latest[key] = job.id
        if len(self._jobs) == 1:
            self.busy_changed.emit(True)
        item = (job.id, key, fn, on_progress is not None, write)
        if write and self._held is not None:
            self._held.append(item)
        else:
            self._queue.put(item)
        return job.id

    def is_current(self, job_id: int, key: str) -> bool:
        return self._latest.get(key) == job_id

    # ------------------------------------------------------------ worker thread

    def _run(self) -> None:
        try:
            self._store = open_store(self.db_path, self._clock, busy_timeout_ms=BUSY_TIMEOUT_MS)
        except KnownError as exc:
            self._open_error = exc
            log.error("store worker could not open the store: %s", exc.en)
        except Exception:  # noqa: BLE001 - a bug: reported through the first job
            self._open_error = None
            self._store = None
            self._finished.emit(0, False, sys.exc_info())
        while True:
            timeout = max(0.0, self._next_retry - time.monotonic()) if self._waiting else None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                self._retry_waiting()
                continue
            if item is _STOP:
                break
            job_id, key, fn, with_progress, write = item
            del item
            if key is not None and self._latest.get(key) != job_id:
                del fn
                self._finished.emit(job_id, True, _Superseded)
                continue
            if write and self._waiting:  # behind the writes already waiting: order is kept
                self._waiting.append(_Waiting(job_id, key, fn, with_progress, time.monotonic()))
                del fn
                continue
            self._attempt(_Waiting(job_id, key, fn, with_progress, time.monotonic()), queued=False)
            del fn
        self._give_up_waiting()
        if self._store is not None:
            self._store.close()
            self._store = None

    def _attempt(self, job: _Waiting, queued: bool) -> bool:
        """Run one job; False when it found the lock taken and waits (again) in the retry queue."""
        job.attempts += 1
        changes: int | None = None
        try:
            if self._store is None:
                raise self._open_error or KnownError("数据库未能打开", "The database could not be opened")
            changes = self._store.conn.total_changes
            fn = job.fn
            value = fn(self._store, self._make_progress(job.job_id)) if job.with_progress else fn(self._store)
            del fn
            outcome: tuple[bool, Any] = (True, value)
            del value
        except StoreBusyError as exc:
            # Retried only when the job changed nothing yet (it failed at its first BEGIN): a job
            # that had committed a first transaction must not run that part twice.
            unchanged = changes is not None and self._store is not None and self._store.conn.total_changes == changes
            if unchanged and time.monotonic() - job.since < self.write_retry_s:
                traceback.clear_frames(exc.__traceback__)
                if not queued:
                    self._waiting.append(job)
                delay = RETRY_DELAYS_S[min(job.attempts, len(RETRY_DELAYS_S)) - 1]
                self._next_retry = time.monotonic() + delay
                if not self._notified and time.monotonic() - job.since >= self.wait_notice_s:
                    self._notified = True
                    self.write_waiting.emit(True, int(exc.holder_pid or 0))
                return False
            traceback.clear_frames(exc.__traceback__)
            self._wait_failed = self._wait_failed or queued
            outcome = (False, exc)
        except KnownError as exc:
            traceback.clear_frames(exc.__traceback__)
            outcome = (False, exc)
        except sqlite3.Error as exc:
            # A read that meets a damaged page, the disk full...: the environment's fault, told as
            # such (restore guidance), not a crash report.
            traceback.clear_frames(exc.__traceback__)
            outcome = (False, translate_sqlite_error(exc, Path(self.db_path)))
        except BaseException:  # noqa: BLE001 - delivered to the crash handler on the GUI thread
            info = sys.exc_info()
            traceback.clear_frames(info[2])  # frames' locals may hold widgets; reports never show them
            outcome = (False, info)
            del info
        # The job's function may hold widgets (bound methods, closures): the GUI thread keeps its
        # own reference until delivery, so the last one is never dropped here, off the GUI thread.
        job.fn = None  # type: ignore[assignment]
        self._finished.emit(job.job_id, *outcome)
        del outcome
        return True

    def _retry_waiting(self) -> None:
        """Try the waiting jobs in order until one still finds the lock taken."""
        while self._waiting:
            job = self._waiting[0]
            if job.key is not None and self._latest.get(job.key) != job.job_id:
                self._waiting.popleft()
                self._finished.emit(job.job_id, True, _Superseded)
                continue
            if not self._attempt(job, queued=True):
                return
            self._waiting.popleft()
        if self._notified:
            self.write_waiting.emit(False, -1 if self._wait_failed else 0)
        self._notified = self._wait_failed = False

    def _give_up_waiting(self) -> None:
        """Stopping (the app quits) with writes still waiting: one last try each, then they fail."""
        self.write_retry_s = 0.0
        while self._waiting:
            job = self._waiting.popleft()
            if self._store is not None:
                self._store.conn.execute(f"PRAGMA busy_timeout = {2 * BUSY_TIMEOUT_MS}")
            self._attempt(job, queued=True)

    def _make_progress(self, job_id: int) -> Callable[..., None]:
        def report(done: int = 0, total: int = 0, *_: Any) -> None:
            self._progressed.emit(job_id, int(done or 0), int(total or 0))
        return report

    # ------------------------------------------------------------ delivery (GUI thread)

    @Slot(int, bool, object)
    def _deliver(self, job_id: int, ok: bool, value: Any) -> None:
        job = self._jobs.pop(job_id, None)
        if not self._jobs:
            self.busy_changed.emit(False)
        if not ok and not isinstance(value, KnownError):
            sys.excepthook(*value)
            return
        if job is None:
            return
        if value is _Superseded or (job.key is not None and self._latest.get(job.key) != job.id):
            return  # stale: a newer job with the same key has been submitted
        if not ok:
            if job.on_error is not None:
                job.on_error(value)
            else:
                self.known_error.emit(value)
            return
        if job.write:
            self.data_changed.emit()
        if job.on_done is not None:
            job.on_done(value)

    @Slot(int, int, int)
    def _deliver_progress(self, job_id: int, done: int, total: int) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.on_progress is not None:
            job.on_progress(done, total)


class _SupersededType:
    def __repr__(self) -> str:
        return "<superseded>"


_Superseded = _SupersededType()
