"""Shifts (班次) and the work log (工作日志).

A shift has an agent name (setting agent.name), a start and an end. It starts on the first use of the
day (ensure_shift(), called by the panel on start/wake and by `kefu log add`) or explicitly
(start_shift()), and ends with 交班 (end_shift(), the handover export does it on request). An open
shift older than MAX_SHIFT_HOURS is a leftover (the agent forgot 交班): the next ensure_shift()
closes it at its last recorded activity and starts a new one.

The work log has two parts:
- what happened, derived from the tables that already record it (nothing is written twice):
  reply_uses (replies pasted), chases (chases sent), buyer_events (starred, paid, lost, replied,
  snoozed, ...), handovers (files exported and imported);
- what the agent writes: 今日问题 (problem), 顾客需求 (request), free notes (note) -- table work_log.
activity() merges both, newest first, for the 交接 tab.

Privacy: buyer nicknames, phones and note/log text are never logged, only ids and counts.
"""

from __future__ import annotations

import logging
import unicodedata
import uuid as uuidlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import NotFoundError, ValidationError
from . import settings, zones
from .clock import from_db, to_db
from .store import Store

log = logging.getLogger(__name__)

MAX_SHIFT_HOURS = 16
# A shift that starts later than this after now was started while the clock was ahead.
FUTURE_TOLERANCE_MINUTES = 5
MAX_ENTRY = 2000

# Entry kinds the agent writes: code -> (zh, en).
ENTRY_KINDS: dict[str, tuple[str, str]] = {
    "problem": ("今日问题", "problem met"),
    "request": ("顾客需求", "buyer request"),
    "note": ("备注", "note"),
}
_KIND_ALIASES = {"今日问题": "problem", "问题": "problem", "顾客需求": "request", "需求": "request",
                 "客户需求": "request", "备注": "note", "笔记": "note", "记录": "note"}

# Automatic entries: kind -> (zh, en).
AUTO_KINDS: dict[str, tuple[str, str]] = {
    "shift_start": ("上班", "shift started"),
    "shift_end": ("交班", "shift ended"),
    "paste": ("粘贴回复", "reply pasted"),
    "chase": ("催单", "chase sent"),
    "starred": ("标星", "buyer starred"),
    "unstarred": ("取消标星", "buyer unstarred"),
    "paid": ("已付款", "buyer paid"),
    "lost": ("已流失", "buyer lost"),
    "replied": ("顾客回复", "buyer replied"),
    "snoozed": ("暂缓提醒", "reminder snoozed"),
    "paused": ("暂停跟进", "follow-up paused"),
    "pause": ("暂停跟进", "follow-up paused"),
    "resumed": ("恢复跟进", "follow-up resumed"),
    "handover_out": ("导出交接", "handover exported"),
    "handover_in": ("导入交接", "handover imported"),
}
# buyer_events kinds shown in the log (created / cadence_finished are bookkeeping).
_EVENT_KINDS = ("starred", "unstarred", "paid", "lost", "replied", "snoozed", "pause", "paused", "resumed")


@dataclass
class Shift:
    id: int
    uuid: str
    agent: str
    started_at: datetime
    ended_at: datetime | None
    started_how: str
    ended_how: str | None

    @property
    def open(self) -> bool:
        return self.ended_at is None

    def until(self, now: datetime) -> datetime:
        """The end of the shift's window: its end, or now while it is open."""
        return self.ended_at or now

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = to_db(self.started_at)
        data["ended_at"] = to_db(self.ended_at) if self.ended_at else None
        data["open"] = self.open
        return data


@dataclass
class Entry:
    id: int
    uuid: str
    kind: str
    text: str
    agent: str
    at: datetime
    shift_id: int | None
    handover_id: int | None  # set when the entry came with the previous shift's handover

    @property
    def kind_name(self) -> str:
        return ENTRY_KINDS[self.kind][0]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = to_db(self.at)
        data["kind_name"] = self.kind_name
        return data


@dataclass
class LogItem:
    """One line of the work log: automatic (source 'auto') or the agent's (source 'agent')."""

    at: datetime
    source: str
    kind: str
    label: str  # zh label of the kind
    label_en: str
    subject: str  # buyer nickname, reply title or entry text
    detail: str = ""
    buyer_id: int | None = None
    reply_id: int | None = None
    entry_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = to_db(self.at)
        return data


# ---------------------------------------------------------------- shifts

def _now(store: Store, now: datetime | None) -> datetime:
    return zones.as_utc(now or store.clock.now())


def _row_to_shift(r: dict) -> Shift:
    return Shift(r["id"], r["uuid"], r["agent"], from_db(r["started_at"]), from_db(r["ended_at"]),  # type: ignore[arg-type]
                 r["started_how"], r["ended_how"])


_SHIFT_COLS = "id, uuid, agent, started_at, ended_at, started_how, ended_how"


def agent_name(store: Store) -> str:
    return str(settings.get(store, "agent.name") or "").strip()


def get_shift(store: Store, shift_id: int) -> Shift:
    rows = store.query(f"SELECT {_SHIFT_COLS} FROM shifts WHERE id = ?", (int(shift_id),))
    if not rows:
        raise NotFoundError(f"没有找到班次 {shift_id}", f"No shift {shift_id}")
    return _row_to_shift(rows[0])


def current_shift(store: Store) -> Shift | None:
    """The open shift, if any (it may be a stale leftover; ensure_shift() deals with those)."""
    rows = store.query(f"SELECT {_SHIFT_COLS} FROM shifts WHERE ended_at IS NULL LIMIT 1")
    return _row_to_shift(rows[0]) if rows else None


def last_shift(store: Store) -> Shift | None:
    """The open shift, else the one that ended last."""
    rows = store.query(f"SELECT {_SHIFT_COLS} FROM shifts ORDER BY ended_at IS NULL DESC, started_at DESC, id DESC "
                       "LIMIT 1")
    return _row_to_shift(rows[0]) if rows else None


def list_shifts(store: Store, limit: int = 30) -> list[Shift]:
    return [_row_to_shift(r) for r in store.query(
        f"SELECT {_SHIFT_COLS} FROM shifts ORDER BY started_at DESC, id DESC LIMIT ?", (int(limit),))]


def _last_activity(store: Store, since: str, until: str | None) -> str | None:
    until = until or "9999"  # no upper bound (a shift that started in the future)
    rows = store.query(
        "SELECT max(m) AS m FROM ("
        " SELECT max(used_at) AS m FROM reply_uses WHERE used_at >= ? AND used_at < ?"
        " UNION ALL SELECT max(sent_at) FROM chases WHERE sent_at >= ? AND sent_at < ?"
        " UNION ALL SELECT max(at) FROM buyer_events WHERE at >= ? AND at < ?"
        " UNION ALL SELECT max(at) FROM work_log WHERE at >= ? AND at < ? AND handover_id IS NULL"
        " UNION ALL SELECT max(at) FROM handovers WHERE at >= ? AND at < ?)",
        (since, until) * 5)
    return rows[0]["m"] if rows else None


def _insert_shift(store: Store, now: datetime, how: str) -> Shift:
    cur = store.conn.execute(
        "INSERT INTO shifts (uuid, agent, started_at, started_how) VALUES (?,?,?,?)",
        (str(uuidlib.uuid4()), agent_name(store), to_db(now), how))
    return get_shift(store, int(cur.lastrowid))


def _in_future(shift: Shift, now: datetime) -> bool:
    return shift.started_at - now > timedelta(minutes=FUTURE_TOLERANCE_MINUTES)


def _is_stale(shift: Shift, now: datetime) -> bool:
    return now - shift.started_at > timedelta(hours=MAX_SHIFT_HOURS) or _in_future(shift, now)


def _close_stale(store: Store, shift: Shift, now: datetime) -> None:
    # A shift from the future (the clock was ahead when it started) ends at its own last event, which
    # is in the future too; a leftover from an earlier day at its last activity before now.
    last = _last_activity(store, to_db(shift.started_at), None if _in_future(shift, now) else to_db(now))
    ended = last or to_db(shift.started_at)
    store.conn.execute("UPDATE shifts SET ended_at = ?, ended_how = 'auto' WHERE id = ?", (ended, shift.id))
    log.info("shift %s was left open; closed at its last activity", shift.id)


@dataclass
class ClockFix:
    """A shift found to start in the future was closed and a new one opened now."""

    closed: Shift
    opened: Shift

    @property
    def zh(self) -> str:
        return (f"电脑时钟曾经走快：上一个班次记在 {self.closed.started_at.astimezone():%m-%d %H:%M} 开始（晚于现在），"
                "已把它结束并从现在起开始新的班次。那段时间的日志仍保留在上一个班次中。")

    @property
    def en(self) -> str:
        return (f"The computer's clock was ahead: the last shift was recorded as starting at "
                f"{self.closed.started_at.astimezone():%m-%d %H:%M}, later than now. It was ended and a new shift "
                "starts now; what was logged then stays in that shift.")


def fix_future_shift(store: Store, now: datetime | None = None) -> ClockFix | None:
    """After the clock was corrected backwards: an open shift that starts in the future is closed at its
    last event and a new one starts now, so the log and KPIs of the shift are not empty. Returns what
    was done (tell the agent once), or None; takes the write lock only when there is something to fix."""
    now = _now(store, now)
    shift = current_shift(store)
    if shift is None or not _in_future(shift, now):
        return None
    with store.write():
        shift = current_shift(store)
        if shift is None or not _in_future(shift, now):
            return None
        _close_stale(store, shift, now)
        opened = _insert_shift(store, now, "auto")
    log.warning("shift %s started in the future (clock corrected?); closed, shift %s started", shift.id, opened.id)
    return ClockFix(get_shift(store, shift.id), opened)


def open_day(store: Store, now: datetime | None = None) -> ClockFix | None:
    """The panel's start/wake step: a shift from the future is replaced (returned, to tell the agent),
    then ensure_shift()."""
    fix = fix_future_shift(store, now)
    ensure_shift(store, now)
    return fix


def ensure_shift(store: Store, now: datetime | None = None) -> Shift:
    """The current shift, started now if there is none (first use of the day). A leftover open shift
    older than MAX_SHIFT_HOURS, or one that starts in the future, is closed at its last activity first."""
    now = _now(store, now)
    with store.write():
        shift = current_shift(store)
        if shift is not None and not _is_stale(shift, now):
            return shift
        if shift is not None:
            _close_stale(store, shift, now)
        shift = _insert_shift(store, now, "auto")
    log.info("shift %s started automatically", shift.id)
    return shift


def start_shift(store: Store, now: datetime | None = None) -> tuple[Shift, bool]:
    """Start a shift explicitly: (shift, started). A shift already open (and not stale) is returned
    as it is (started = False): one agent, one shift at a time."""
    now = _now(store, now)
    with store.write():
        shift = current_shift(store)
        if shift is not None and not _is_stale(shift, now):
            return shift, False
        if shift is not None:
            _close_stale(store, shift, now)
        shift = _insert_shift(store, now, "explicit")
    log.info("shift %s started", shift.id)
    return shift, True


def end_shift(store: Store, now: datetime | None = None, how: str = "handover") -> Shift:
    """交班: end the open shift now."""
    if how not in ("handover", "explicit"):
        raise ValueError(how)
    now = _now(store, now)
    with store.write():
        shift = current_shift(store)
        if shift is None:
            raise ValidationError("当前没有进行中的班次", "No shift is open", field="shift")
        ended = max(now, shift.started_at)
        store.conn.execute("UPDATE shifts SET ended_at = ?, ended_how = ? WHERE id = ?", (to_db(ended), how, shift.id))
    log.info("shift %s ended (%s)", shift.id, how)
    return get_shift(store, shift.id)


def window(store: Store, shift: Shift | None = None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[since, until) of a shift (the open one by default; until = now while it is open)."""
    now = _now(store, now)
    shift = shift or current_shift(store) or last_shift(store)
    if shift is None:
        raise NotFoundError("还没有任何班次记录", "No shift has been recorded yet")
    return shift.started_at, max(shift.until(now), shift.started_at)


# ---------------------------------------------------------------- the agent's entries

def normalize_kind(text: str) -> str:
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    if raw.lower() in ENTRY_KINDS:
        return raw.lower()
    if raw in _KIND_ALIASES:
        return _KIND_ALIASES[raw]
    raise ValidationError(f"日志类型“{raw}”无效，可选：今日问题、顾客需求、备注",
                          f"Unknown log kind '{raw}'; one of problem (今日问题), request (顾客需求), note",
                          field="kind")


def clean_entry_text(text: str) -> str:
    value = unicodedata.normalize("NFC", str(text or "")).replace("\r\n", "\n").strip()
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    if not value:
        raise ValidationError("日志内容不能为空", "The log entry cannot be empty", field="text")
    if len(value) > MAX_ENTRY:
        raise ValidationError(f"日志内容最多 {MAX_ENTRY} 字", f"A log entry has at most {MAX_ENTRY} characters",
                              field="text")
    return value


def _row_to_entry(r: dict) -> Entry:
    return Entry(r["id"], r["uuid"], r["kind"], r["text"], r["agent"], from_db(r["at"]), r["shift_id"],  # type: ignore[arg-type]
                 r["handover_id"])


_ENTRY_COLS = "id, uuid, kind, text, agent, at, shift_id, handover_id"


def add_entry(store: Store, kind: str, text: str, now: datetime | None = None) -> Entry:
    """A 今日问题 / 顾客需求 / note in the current shift (started now if none is open)."""
    code = normalize_kind(kind)
    body = clean_entry_text(text)
    now = _now(store, now)
    with store.write() as db:
        shift = ensure_shift(store, now)
        stamp = to_db(now)
        cur = db.execute("INSERT INTO work_log (uuid, shift_id, kind, text, agent, at, updated_at) VALUES (?,?,?,?,?,?,?)",
                         (str(uuidlib.uuid4()), shift.id, code, body, shift.agent or agent_name(store), stamp, stamp))
        entry_id = int(cur.lastrowid)
    log.info("work log entry %s (%s) added to shift %s", entry_id, code, shift.id)
    return get_entry(store, entry_id)


def get_entry(store: Store, entry_id: int) -> Entry:
    rows = store.query(f"SELECT {_ENTRY_COLS} FROM work_log WHERE id = ?", (int(entry_id),))
    if not rows:
        raise NotFoundError(f"没有找到日志 {entry_id}", f"No log entry {entry_id}")
    return _row_to_entry(rows[0])


def edit_entry(store: Store, entry_id: int, text: str, kind: str | None = None, now: datetime | None = None) -> Entry:
    body = clean_entry_text(text)
    code = normalize_kind(kind) if kind else None
    now = _now(store, now)
    with store.write() as db:
        entry = get_entry(store, entry_id)
        db.execute("UPDATE work_log SET text = ?, kind = ?, updated_at = ? WHERE id = ?",
                   (body, code or entry.kind, to_db(now), entry.id))
    return get_entry(store, entry_id)


def delete_entry(store: Store, entry_id: int) -> Entry:
    with store.write() as db:
        entry = get_entry(store, entry_id)
        db.execute("DELETE FROM work_log WHERE id = ?", (entry.id,))
    return entry


def entries(store: Store, since: datetime | None = None, until: datetime | None = None, *,
            shift_id: int | None = None, imported: bool = False, limit: int | None = None) -> list[Entry]:
    """The agent's entries, oldest first: of a shift, or in [since, until). imported=True lists the
    entries that came with handover files instead (the previous shift's problems and requests)."""
    where = ["handover_id IS NOT NULL" if imported else "handover_id IS NULL"]
    params: list[Any] = []
    if shift_id is not None:
        where.append("shift_id = ?")
        params.append(int(shift_id))
    if since is not None:
        where.append("at >= ?")
        params.append(to_db(since))
    if until is not None:
        where.append("at < ?")
        params.append(to_db(until))
    sql = f"SELECT {_ENTRY_COLS} FROM work_log WHERE {' AND '.join(where)} ORDER BY at, id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_row_to_entry(r) for r in store.query(sql, tuple(params))]


def shift_entries(store: Store, shift: Shift, now: datetime | None = None) -> list[Entry]:
    """The agent's entries of a shift: written in it, or (written with no shift) inside its window."""
    since, until = shift.started_at, shift.until(_now(store, now))
    rows = store.query(f"SELECT {_ENTRY_COLS} FROM work_log WHERE handover_id IS NULL AND "
                       "(shift_id = ? OR (shift_id IS NULL AND at >= ? AND at <= ?)) ORDER BY at, id",
                       (shift.id, to_db(since), to_db(until)))
    return [_row_to_entry(r) for r in rows]


def last_imported_entries(store: Store) -> list[Entry]:
    """The entries that came with the most recent handover import (上一班留言)."""
    rows = store.query("SELECT max(handover_id) AS h FROM work_log WHERE handover_id IS NOT NULL")
    if not rows or rows[0]["h"] is None:
        return []
    return [_row_to_entry(r) for r in store.query(
        f"SELECT {_ENTRY_COLS} FROM work_log WHERE handover_id = ? ORDER BY at, id", (rows[0]["h"],))]


# ---------------------------------------------------------------- the merged log

def activity(store: Store, since: datetime, until: datetime, *, limit: int | None = 500) -> list[LogItem]:
    """What happened in [since, until), newest first: pastes, chases, buyer outcomes, handovers,
    shift start/end and the agent's own entries. Derived from the tables that record each of them."""
    a, b = to_db(since), to_db(until)
    cap = f" LIMIT {int(limit)}" if limit else ""
    items: list[LogItem] = []
    for r in store.query("SELECT u.used_at, u.reply_id, u.via, r.title FROM reply_uses u LEFT JOIN replies r "
                         f"ON r.id = u.reply_id WHERE u.used_at >= ? AND u.used_at < ? ORDER BY u.used_at DESC{cap}",
                         (a, b)):
        zh, en = AUTO_KINDS["paste"]
        items.append(LogItem(from_db(r["used_at"]), "auto", "paste", zh, en, r["title"] or "（已删除的回复）",  # type: ignore[arg-type]
                             r["via"] or "", reply_id=r["reply_id"]))
    for r in store.query("SELECT c.sent_at, c.buyer_id, c.angle, c.reply_id, IFNULL(rp.title, c.reply_title) AS title, "
                         "b.nickname FROM chases c JOIN buyers b ON b.id = c.buyer_id LEFT JOIN replies rp "
                         f"ON rp.id = c.reply_id WHERE c.sent_at >= ? AND c.sent_at < ? ORDER BY c.sent_at DESC{cap}",
                         (a, b)):
        zh, en = AUTO_KINDS["chase"]
        detail = " · ".join(x for x in (_angle_name(r["angle"]), r["title"] or "") if x)
        items.append(LogItem(from_db(r["sent_at"]), "auto", "chase", zh, en, r["nickname"], detail,  # type: ignore[arg-type]
                             buyer_id=r["buyer_id"], reply_id=r["reply_id"]))
    marks = ",".join("?" * len(_EVENT_KINDS))
    for r in store.query(f"SELECT e.at, e.kind, e.buyer_id, e.detail, b.nickname FROM buyer_events e JOIN buyers b "
                         f"ON b.id = e.buyer_id WHERE e.kind IN ({marks}) AND e.at >= ? AND e.at < ? "
                         f"ORDER BY e.at DESC{cap}", (*_EVENT_KINDS, a, b)):
        zh, en = AUTO_KINDS[r["kind"]]
        detail = f"{r['detail']} 分钟" if r["kind"] == "snoozed" and r["detail"] else ""
        items.append(LogItem(from_db(r["at"]), "auto", r["kind"], zh, en, r["nickname"], detail,  # type: ignore[arg-type]
                             buyer_id=r["buyer_id"]))
    for r in store.query("SELECT direction, at, file_name, source_agent FROM handovers WHERE at >= ? AND at < ? "
                         f"ORDER BY at DESC{cap}", (a, b)):
        kind = "handover_out" if r["direction"] == "out" else "handover_in"
        zh, en = AUTO_KINDS[kind]
        items.append(LogItem(from_db(r["at"]), "auto", kind, zh, en, r["file_name"],  # type: ignore[arg-type]
                             r["source_agent"] or ""))
    for r in store.query(f"SELECT {_SHIFT_COLS} FROM shifts WHERE (started_at >= ? AND started_at < ?) "
                         "OR (ended_at >= ? AND ended_at < ?)", (a, b, a, b)):
        s = _row_to_shift(r)
        if since <= s.started_at < until:
            items.append(LogItem(s.started_at, "auto", "shift_start", *AUTO_KINDS["shift_start"], s.agent))
        if s.ended_at and since <= s.ended_at < until:
            items.append(LogItem(s.ended_at, "auto", "shift_end", *AUTO_KINDS["shift_end"], s.agent))
    for e in entries(store, since, until):
        items.append(LogItem(e.at, "agent", e.kind, ENTRY_KINDS[e.kind][0], ENTRY_KINDS[e.kind][1], e.text,
                             entry_id=e.id))
    items.sort(key=lambda i: (i.at, i.source == "agent"), reverse=True)
    return items[:limit] if limit else items


def _angle_name(angle: str | None) -> str:
    from .cadence import ANGLE_NAMES

    return ANGLE_NAMES[angle][0] if angle in ANGLE_NAMES else ""
