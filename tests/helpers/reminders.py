"""Shared by the reminder scheduler's tests (tests/services/test_scheduler.py) and the reminder
popup's (tests/ui/reminders/test_reminders_ui.py): the start instant, a monotonic clock to move by
hand, starring a buyer, waiting for the scheduler to arm."""

from __future__ import annotations

from datetime import datetime, timezone

from assistant.core import reminders

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
