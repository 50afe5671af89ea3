"""SystemWatch: the one poller - another process's commit -> data_changed, a clock gap -> woke."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from assistant.core import replies
from assistant.core.clock import FakeClock
from assistant.services.systemwatch import GAP_S, INTERVAL_MS, SystemWatch
from assistant.services.worker import StoreWorker


class Monotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_another_process_commit_is_told_once_and_the_workers_own_writes_are_not(qtbot, db, other):
    worker = StoreWorker(db)
    worker.start()
    watch = SystemWatch(worker, interval_ms=0)
    changes: list[int] = []
    watch.data_changed.connect(lambda: changes.append(1))
    try:
        assert INTERVAL_MS <= 500  # a CLI change of a hotkey takes effect within a second
        watch.start()
        qtbot.waitUntil(lambda: worker.pending == 0, timeout=5000)
        watch.check()
        qtbot.waitUntil(lambda: worker.pending == 0, timeout=5000)
        assert changes == []  # nothing changed
        with qtbot.waitSignal(worker.data_changed, timeout=5000):  # the worker's own write says so itself
            worker.submit(lambda store: replies.record_use(store, "wh1"), write=True)
        watch.check()
        qtbot.waitUntil(lambda: worker.pending == 0, timeout=5000)
        assert changes == []  # ... and is not announced a second time by the watcher
        replies.record_use(other, "wh1")  # `kefu` in a terminal
        with qtbot.waitSignal(watch.data_changed, timeout=5000):
            watch.check()
        watch.check()
        qtbot.waitUntil(lambda: worker.pending == 0, timeout=5000)
        assert changes == [1]
    finally:
        watch.stop()
        worker.stop()


def test_clock_gap_is_woke_and_every_round_is_a_heartbeat(qtbot, db):
    worker = StoreWorker(db)
    worker.start()
    clock, mono = FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)), Monotonic()
    watch = SystemWatch(worker, clock, monotonic=mono, interval_ms=0)
    gaps: list[float] = []
    beats: list[int] = []
    watch.woke.connect(gaps.append)
    watch.heartbeat.connect(lambda: beats.append(1))
    try:
        watch.start()
        clock.advance(timedelta(seconds=30))
        mono.t += 30
        watch.check()  # both clocks ran alike: no gap
        assert gaps == [] and beats == [1]
        clock.advance(timedelta(hours=1))  # asleep: the wall clock ran, the monotonic one did not
        mono.t += 0.5
        watch.check()
        assert len(gaps) == 1 and abs(gaps[0] - 3600) < 1 and beats == [1, 1]
        clock.advance(timedelta(seconds=-2 * GAP_S))  # the clock set back
        watch.check()
        assert len(gaps) == 2 and gaps[1] < -GAP_S
    finally:
        watch.stop()
        qtbot.waitUntil(lambda: worker.pending == 0, timeout=5000)
        worker.stop()
