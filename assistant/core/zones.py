"""Time zones and wall-clock times of day: every helper in one place, below everything else in core.

Instants are aware datetimes, stored in UTC (clock.to_db); a zone turns them into the agent's or a
buyer's wall clock. Zones are IANA names ("Asia/Shanghai", "America/New_York"); this computer's own
zone comes from tzlocal, which names it on Linux, macOS and Windows (the registry's zone mapped to
its IANA name), so DST changes are followed everywhere. Only when no zone can be named at all do we
fall back to the current fixed UTC offset.
"""

from __future__ import annotations

import logging
import re
import time as _time
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ValidationError

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- zones

def local_zone() -> tzinfo:
    """This computer's time zone: an IANA zone when it can be named, else its current UTC offset.

    tzlocal honours $TZ and reads the system's setting once per process (it caches it)."""
    try:
        import tzlocal

        return tzlocal.get_localzone()
    except Exception as exc:  # a misconfigured system (or a tzlocal warning) must not stop reminders
        log.warning("cannot name this computer's time zone (%s); using its current UTC offset",
                    type(exc).__name__)
        return timezone(timedelta(seconds=_time.localtime().tm_gmtoff))


def check_tz(name: str | None) -> str | None:
    """An IANA time zone name ('Europe/Moscow'), or None for the agent's own zone."""
    value = str(name or "").strip()
    if not value:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"时区“{value}”无效，请用 IANA 名称，例如 America/New_York、Europe/Moscow",
                              f"Unknown time zone '{value}'; use an IANA name such as America/New_York",
                              field="tz") from None
    return value


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The zone named (a stored buyer's zone), or None when empty or unknown here (never raises:
    a zone this computer's tz database lacks falls back to the agent's zone)."""
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_or_local(name: str | None) -> tzinfo:
    """The zone named, or this computer's zone when the name is empty (the agent's zone setting)."""
    return ZoneInfo(name) if name else local_zone()


# ---------------------------------------------------------------- instants

def as_utc(when: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is a bug (whose wall clock would it be?)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given; pass an aware instant")
    return when.astimezone(timezone.utc)


def local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The instant of local date+time in tz (a time skipped by a DST change maps just past the gap)."""
    return datetime.combine(day, at, tzinfo=tz)


def day_window(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[local midnight, next local midnight) of a day in the agent's zone, as UTC instants."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


# ---------------------------------------------------------------- wall-clock times of day

def parse_hhmm(text: str | time, what: str = "时间") -> time:
    """'09:00' → time(9, 0); '24:00' means midnight (00:00)."""
    if isinstance(text, time):
        return text.replace(second=0, microsecond=0, tzinfo=None)
    raw = str(text or "").strip().replace("：", ":")
    parts = raw.split(":")
    if len(parts) == 2 and all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        hour, minute = int(parts[0]), int(parts[1])
        if hour == 24 and minute == 0:
            return time(0, 0)
        if 0 <= hour < 24 and 0 <= minute < 60:
            return time(hour, minute)
    raise ValidationError(f"{what}“{raw}”无效，应写成 时:分，例如 09:00",
                          f"Invalid time '{raw}'; write HH:MM, e.g. 09:00", field="time")


def format_hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def zone_name(tz: tzinfo) -> str:
    """A zone as a handover file names it: the IANA key, else a fixed offset like UTC+08:00."""
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = datetime.now(timezone.utc).astimezone(tz).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_from_name(name: str | None) -> tzinfo:
    """The zone zone_name() named (UTC when unknown: a file from a machine with other zone data)."""
    text = str(name or "")
    m = re.fullmatch(r"UTC([+-])(\d\d):(\d\d)", text)
    if m:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return timezone(delta if m.group(1) == "+" else -delta)
    try:
        return ZoneInfo(text) if text else timezone.utc
    except (ValueError, OSError, KeyError):
        return timezone.utc
