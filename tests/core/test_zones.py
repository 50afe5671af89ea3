"""core/zones.py: every time-zone and time-of-day helper."""

from __future__ import annotations

import os
import subprocess
import sys
import time as _time
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.core import zones
from assistant.errors import ValidationError

REPO = Path(__file__).resolve().parents[2]


def test_parse_hhmm():
    assert zones.parse_hhmm("9:05") == time(9, 5)
    assert zones.parse_hhmm("24:00") == time(0, 0)
    assert zones.parse_hhmm("08：30") == time(8, 30)
    for bad in ("8", "8:60", "ab:cd", "", "-1:00"):
        with pytest.raises(ValidationError):
            zones.parse_hhmm(bad)
    assert zones.format_hhmm(zones.parse_hhmm("9:5")) == "09:05"


def test_day_window_in_the_agents_zone():
    since, until = zones.day_window(date(2026, 11, 11), ZoneInfo("Asia/Shanghai"))
    assert since == datetime(2026, 11, 10, 16, 0, tzinfo=timezone.utc)
    assert until - since == timedelta(hours=24)


def test_check_tz_and_zone_lookups():
    assert zones.check_tz(" Europe/Moscow ") == "Europe/Moscow"
    assert zones.check_tz("") is None and zones.check_tz(None) is None
    with pytest.raises(ValidationError) as bad:
        zones.check_tz("Mars/Olympus")
    assert bad.value.field == "tz"
    assert zones.zone_or_none("Mars/Olympus") is None and zones.zone_or_none("") is None
    assert zones.zone_or_none("Asia/Shanghai") == ZoneInfo("Asia/Shanghai")
    assert zones.zone_or_local("America/New_York") == ZoneInfo("America/New_York")


def test_as_utc_refuses_naive_datetimes():
    assert zones.as_utc(datetime(2026, 1, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai"))) == \
        datetime(2026, 1, 1, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        zones.as_utc(datetime(2026, 1, 1))


@pytest.mark.parametrize(("tz", "expected"), [("Asia/Shanghai", "Asia/Shanghai"), (":America/New_York", "America/New_York")])
def test_local_zone_is_named_by_tzlocal(tz, expected):
    """$TZ (as the system sets it) gives a named zone, so DST changes are followed."""
    code = "from assistant.core import zones; print(zones.local_zone())"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={**os.environ, "TZ": tz})
    assert out.stdout.strip() == expected


def test_local_zone_falls_back_to_a_fixed_offset(monkeypatch):
    import tzlocal

    def broken():
        raise LookupError("no zone configured")

    monkeypatch.setattr(tzlocal, "get_localzone", broken)
    zone = zones.local_zone()
    assert isinstance(zone, timezone)
    assert zone.utcoffset(None) == timedelta(seconds=_time.localtime().tm_gmtoff)

