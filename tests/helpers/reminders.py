"""Shared by the reminder scheduler's tests (tests/services/test_scheduler.py) and the reminder
popup's (tests/ui/reminders/test_reminders_ui.py): the start instant, a monotonic clock to move by
hand, starring a buyer, waiting for the scheduler to arm."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from assistant.core import reminders, settings
from assistant.core.clock import FakeClock
from assistant.core.store import open_store

START = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai: inside the shift


class Monotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def star(store, nick, **kw):
    kw.setdefault("platform", "taobao")
    kw.setdefault("shop", "旗舰店")
    return reminders.star(store, nickname=nick, **kw)


def armed(qtbot, scheduler):
    with qtbot.waitSignal(scheduler.armed, timeout=5000) as blocker:
        scheduler.arm()
    return blocker.args[0]


# ------------------------------------------------------------------ fixtures
# A test module imports these by name (pytest finds fixtures in its namespace); `reminder_db` is the
# database path fixture of the folder it runs in (tests/ui: db_path, tests/services: db).

@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def cstore(reminder_db, clock):
    s = open_store(reminder_db, clock)
    settings.set(s, "reminders.agent_tz", "Asia/Shanghai")
    yield s
    s.close()


@pytest.fixture
def cworker(reminder_db, clock, qtbot):
    from assistant.services.worker import StoreWorker

    w = StoreWorker(reminder_db, clock=clock)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def mono():
    return Monotonic()


@pytest.fixture
def scheduler(cworker, clock, mono, qtbot):
    from assistant.services.scheduler import ReminderScheduler

    s = ReminderScheduler(cworker, clock)
    got: list[tuple[list, bool]] = []
    s.due.connect(lambda items, missed: got.append((items, missed)))
    s.got = got
    yield s
    s.stop()
