"""The one watcher of the running app: changes by other processes and clock gaps, on one timer.

Every INTERVAL_MS:
- the wall clock (clock.now()) against the monotonic clock: sleep stops the monotonic clock (and
  every timer) but not the wall clock, so a jump of GAP_S or more means the machine slept or the
  clock was changed -> `woke(gap seconds)`. The reminder scheduler catches up, the hotkey map
  re-hooks, the day's shift is checked.
- PRAGMA data_version, read on the StoreWorker's connection (a job like any other, never on the
  GUI thread): it changes when ANOTHER connection commits (`kefu replies edit` in a terminal)
  -> `data_changed`. app.py relays it into StoreWorker.data_changed, which also fires after the
  worker's own write jobs: views listen to that one signal.
- `heartbeat` afterwards, for cheap periodic work that is neither store nor clock (remember the
  chat window the agent types in, retry a hotkey another program held).
Nothing else in the app polls the store or the clock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..core.clock import Clock, SystemClock
from ..errors import KnownError

log = logging.getLogger(__name__)

INTERVAL_MS = 500  # a CLI change of a hotkey takes effect within a second
GAP_S = 5.0  # the wall clock ran this much ahead of (or behind) the monotonic one


def _data_version(store: Any) -> int:
    return int(store.data_version())


class SystemWatch(QObject):
    #: another process committed to the store (its data_version moved)
    data_changed = Signal()
    #: the wall clock jumped against the monotonic one by this many seconds (sleep/wake, clock set)
    woke = Signal(float)
    #: every interval, after the checks
    heartbeat = Signal()

    def __init__(self, worker: Any, clock: Clock | None = None, *, monotonic: Callable[[], float] = time.monotonic,
                 interval_ms: int = INTERVAL_MS, gap_s: float = GAP_S, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.clock: Clock = clock or SystemClock()
        self.monotonic = monotonic
        self.gap_s = gap_s
        self._version: int | None = None
        self._reading = False
        self._wall0, self._mono0 = self.clock.now(), self.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.setTimerType(Qt.TimerType.CoarseTimer)
        self._timer.timeout.connect(self.check)

    def interval_ms(self) -> int:
        return self._timer.interval()

    def start(self) -> None:
        """Take the clocks and the store's version as they are now; then check every interval."""
        self._wall0, self._mono0 = self.clock.now(), self.monotonic()
        self._read_version()
        if self._timer.interval() > 0:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def check(self) -> None:
        """One round (the timer's, or a test's)."""
        wall, mono = self.clock.now(), self.monotonic()
        gap = (wall - self._wall0).total_seconds() - (mono - self._mono0)
        self._wall0, self._mono0 = wall, mono
        if abs(gap) >= self.gap_s:
            log.info("clock jumped %+.0f s (sleep/wake or clock change)", gap)
            self.woke.emit(gap)
        self._read_version()
        self.heartbeat.emit()

    def _read_version(self) -> None:
        if self._reading:
            return  # the worker is busy with a long job: one read waiting is enough
        self._reading = True
        self.worker.submit(_data_version, self._on_version, self._on_version_error)

    def _on_version(self, version: int) -> None:
        self._reading = False
        changed = self._version is not None and version != self._version
        self._version = version
        if changed:
            log.info("store changed by another process; refreshing")
            self.data_changed.emit()

    def _on_version_error(self, exc: KnownError) -> None:
        self._reading = False
        log.warning("data_version failed: %s", exc.en)
