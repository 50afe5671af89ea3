"""The chase reminder scheduler: one timer for the next due reminder, no polling loop.

One single-shot QTimer (PreciseTimer: a coarse timer may be 5 % late, 30 s on a 10-minute wait)
armed for reminders.next_due(), never longer than MAX_TIMER_MS (below Qt's 2^31 ms limit; a clamped
timer just re-arms). After sleep/wake or a clock change (SystemWatch.woke, wired to on_woke in
app.py) the missed reminders show once and the timer is re-armed; after any data change
(StoreWorker.data_changed) it is re-armed. The store marks every reminder it hands over (fire_due /
missed), so none comes twice. Time comes from a clock object with now(): tests pass a FakeClock and
never wait real minutes. All store work goes through the StoreWorker.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from ..core import reminders
from ..core.clock import Clock, SystemClock
from ..errors import KnownError
from .worker import StoreWorker

log = logging.getLogger(__name__)

MAX_TIMER_MS = 2**31 - 1 - 1000  # QTimer takes an int of milliseconds


class ReminderScheduler(QObject):
    """Arms one timer for the next due reminder; emits `due` with reminders to show (each once)."""

    #: (list of reminders.DueReminder, missed: True when they fell due while closed or asleep)
    due = Signal(list, bool)
    #: the timer was (re)armed for this instant (None: nothing pending)
    armed = Signal(object)

    def __init__(self, worker: StoreWorker, clock: Clock | None = None, *, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.clock: Clock = clock or SystemClock()
        self.next_due: datetime | None = None
        self.fired_count = 0
        self._started = False
        self._arming = False
        self._rearm_again = False
        self._firing = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.fire)
        self._soon = QTimer(self, singleShot=True, interval=150)  # several changes: one re-arm
        self._soon.timeout.connect(self.arm)
        worker.data_changed.connect(self.arm_soon)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """On start: the missed reminders first (once, grouped), then the ones due now, then arm."""
        self._started = True
        self.catch_up()

    def stop(self) -> None:
        self._started = False
        self._timer.stop()
        self._soon.stop()

    def is_armed(self) -> bool:
        return self._timer.isActive()

    def remaining_ms(self) -> int:
        return self._timer.remainingTime()

    # ------------------------------------------------------------ arming

    def arm_soon(self) -> None:
        """After any data change (worker.data_changed, imports, the CLI): re-arm shortly."""
        if self._started:
            self._soon.start()

    def arm(self) -> None:
        if not self._started:
            return
        if self._arming:
            self._rearm_again = True
            return
        self._arming = True
        self.worker.submit(reminders.next_due, self._on_next_due, self._on_error, key="reminders.next_due")

    def _on_next_due(self, when: datetime | None) -> None:
        self._arming = False
        if self._rearm_again:
            self._rearm_again = False
            self.arm()
            return
        self.next_due = when
        if when is None:
            self._timer.stop()
        else:
            delay = (when - self.clock.now()).total_seconds() * 1000
            self._timer.start(int(max(0, min(MAX_TIMER_MS, delay + 1))))
        self.armed.emit(when)

    def _on_error(self, exc: KnownError) -> None:
        self._arming = False
        self._firing = False
        log.warning("reminder scheduling failed: %s", exc.en)
        self.worker.known_error.emit(exc)

    # ------------------------------------------------------------ firing

    def fire(self) -> None:
        """The timer went off (or a test says so): hand over what is due now, then re-arm."""
        if self._firing:
            return
        self._firing = True
        now = self.clock.now()
        self.worker.submit(lambda store: reminders.fire_due(store, now), self._on_fired, self._on_error, write=True)

    def _on_fired(self, items: list) -> None:
        self._firing = False
        self._emit(items, missed=all(getattr(i, "missed", False) for i in items))
        self.arm()

    def catch_up(self) -> None:
        """Start and wake: missed reminders (grouped, once), then those due now."""
        now = self.clock.now()

        def both(store: Any) -> tuple[list, list]:
            return reminders.missed(store, now), reminders.fire_due(store, now)

        def done(result: tuple[list, list]) -> None:
            missed, due_now = result
            self._emit(missed, missed=True)
            self._emit(due_now, missed=False)
            self.arm()

        self.worker.submit(both, done, self._on_error, write=True)

    def _emit(self, items: list, missed: bool) -> None:
        if not items:
            return
        self.fired_count += len(items)
        log.info("%d reminders due%s", len(items), " (missed)" if missed else "")
        self.due.emit(list(items), bool(missed))

    # ------------------------------------------------------------ clock gaps

    @Slot(float)
    def on_woke(self, gap: float) -> None:
        """SystemWatch saw the wall clock jump (sleep stops the monotonic clock and our timer, not
        the wall clock): forward - show what fell due meanwhile, once; backward - just re-arm."""
        if not self._started:
            return
        log.info("clock jumped %+.0f s: %s", gap, "catching up" if gap > 0 else "re-arming")
        if gap > 0:
            self.catch_up()
        else:
            self.arm()
