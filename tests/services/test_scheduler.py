"""The reminder scheduler (services/scheduler.py; pytest-qt, offscreen): one timer armed for the next
due reminder, missed ones grouped once, catch-up after sleep (SystemWatch), re-armed after a change.
A FakeClock drives time, nothing sleeps minutes; the store worker gets the same FakeClock, so core
functions and the scheduler agree on "now"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assistant.core import reminders
from assistant.services.scheduler import MAX_TIMER_MS, ReminderScheduler
from assistant.services.systemwatch import SystemWatch
from tests.helpers import reminders as rf
from tests.helpers.reminders import armed, star

# The shared reminder fixtures (tests/helpers/reminders.py), found by pytest under these names.
clock, cstore, cworker, mono, scheduler = (rf.clock, rf.cstore, rf.cworker, rf.mono, rf.scheduler)


@pytest.fixture
def reminder_db(db):
    return db


def test_one_timer_armed_for_the_next_due_and_fires_once(qtbot, cstore, scheduler, clock):
    buyer = star(cstore, "小鱼")  # in_chat cadence: first chase 3 minutes after starring
    scheduler.start()
    qtbot.waitUntil(lambda: scheduler.next_due is not None, timeout=5000)
    due = reminders.next_due(cstore)
    assert scheduler.next_due == due and due > clock.now()
    assert scheduler.is_armed()
    assert abs(scheduler.remaining_ms() - (due - clock.now()).total_seconds() * 1000) < 2000
    assert scheduler.got == []

    clock.set(due)
    scheduler.fire()
    qtbot.waitUntil(lambda: len(scheduler.got) == 1, timeout=5000)
    items, missed = scheduler.got[0]
    assert [i.buyer_id for i in items] == [buyer.id] and not missed
    scheduler.fire()  # firing again at the same instant hands over nothing: never duplicated
    qtbot.wait(300)
    assert len(scheduler.got) == 1


def test_timer_is_clamped_below_qt_limit(qtbot, cstore, scheduler, clock):
    star(cstore, "远方", cadence="high_ticket")
    scheduler._started = True
    clock.advance(timedelta(days=-60))  # the next due is now ~60 days away: more than 2^31 ms
    assert armed(qtbot, scheduler) is not None
    assert 0 < scheduler.remaining_ms() <= MAX_TIMER_MS


def test_real_timer_fires_when_due(qtbot, cstore, cworker, clock):
    """Armed a second ahead (the fake clock stands 1 s before the due time): the real QTimer fires."""
    star(cstore, "准时")
    due = reminders.next_due(cstore)
    clock.set(due - timedelta(seconds=1))
    s = ReminderScheduler(cworker, clock)
    got = []
    s.due.connect(lambda items, missed: (got.append(items), clock.set(due + timedelta(milliseconds=5))))
    s.start()
    qtbot.waitUntil(lambda: s.is_armed(), timeout=5000)
    clock.set(due)  # the fire itself reads this
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert len(got[0]) == 1
    s.stop()


def test_missed_on_start_grouped_once(qtbot, cstore, scheduler, clock):
    a, b = star(cstore, "甲"), star(cstore, "乙")
    clock.advance(timedelta(hours=2))  # the app was closed: both first chases were missed
    scheduler.start()
    qtbot.waitUntil(lambda: len(scheduler.got) >= 1, timeout=5000)
    qtbot.wait(200)
    assert len(scheduler.got) == 1
    items, missed = scheduler.got[0]
    assert missed and sorted(i.buyer_id for i in items) == sorted([a.id, b.id])
    scheduler.catch_up()  # a second start/wake: nothing again
    qtbot.wait(300)
    assert len(scheduler.got) == 1


def test_watch_notices_sleep_and_the_scheduler_catches_up(qtbot, cstore, cworker, scheduler, clock, mono):
    watch = SystemWatch(cworker, clock, monotonic=mono, interval_ms=0)
    watch.woke.connect(scheduler.on_woke)  # as app.wire_reminders wires it
    buyer = star(cstore, "睡醒")
    scheduler.start()
    watch.start()
    qtbot.waitUntil(lambda: scheduler.next_due is not None, timeout=5000)
    mono.t += 30
    clock.advance(30)
    with qtbot.assertNotEmitted(watch.woke):
        watch.check()  # 30 s of both clocks: no gap
    # the machine sleeps for an hour: the wall clock jumps, the monotonic one does not
    clock.advance(timedelta(hours=1))
    mono.t += 30
    with qtbot.waitSignal(watch.woke, timeout=2000):
        watch.check()
    qtbot.waitUntil(lambda: len(scheduler.got) == 1, timeout=5000)
    items, missed = scheduler.got[0]
    assert missed and items[0].buyer_id == buyer.id


def test_rearms_after_data_change(qtbot, cstore, scheduler, cworker, clock):
    scheduler.start()
    qtbot.waitUntil(lambda: scheduler.armed is not None and not scheduler._arming, timeout=5000)
    assert scheduler.next_due is None and not scheduler.is_armed()
    star(cstore, "新来的")  # written by another connection (the CLI)
    with qtbot.waitSignal(scheduler.armed, timeout=5000):
        cworker.data_changed.emit()
    assert scheduler.next_due == reminders.next_due(cstore) and scheduler.is_armed()
