"""Shift handover (交接班): build the report, render it as HTML / XLSX / JSON, and import the JSON.

Export (the 交班 button, `kefu handover export`)::

    result = export_handover(store, folder, formats=("html", "xlsx", "json"), include_phones=False,
                             end_shift=False, progress=callback)   # callback(done, total), any thread

writes into `folder`: a self-contained HTML report (inline CSS and SVG charts, A4 print layout), an
XLSX workbook (one sheet per section, frozen headers, real dates) and the JSON file the next shift
imports (format "kefu-assistant.handover", version 1). build() returns the document alone and
render_html / render_xlsx / render_json render it, so the UI can preview without writing files.

What goes in: the shift (agent, start, end) and its KPIs (core/kpi.py); every buyer still open --
starred and followed or paused, carrying the 售后中 mark, or with a pending reminder -- with marks,
notes, chase history and pending reminders; the promotions those reminders belong to; the agent's
own log entries of the shift (core/shifts.py).

Privacy: phone numbers and order numbers (core/masking.py: in every text field -- nicknames, shops,
notes, log entries, titles) are masked unless include_phones=True; spreadsheet cells that begin with = + - @ (or tab / CR / LF) get a
leading apostrophe; every text in the HTML is escaped. Nothing about a buyer is logged.

Import (`kefu handover import FILE [--dry-run]`, the 交接 tab)::

    plan = preview_import(store, path)      # reads and checks the file, writes nothing
    plan.summary() / plan.items             # what would be added / updated
    plan = apply_import(store, plan)        # all or nothing, in one transaction

Merging: a buyer is matched by uuid, then by platform + shop + nickname. A new buyer is added with
marks, chases and pending reminders (never shown yet on this computer, so they fire in this panel).
For a known buyer the newer record (updated_at) wins; when the notes differ, the older note is kept
below the newer one under a marker line. Chase history is merged (union); pending reminders follow
the newer record. Importing the same file twice changes nothing. A malformed or foreign file
(truncated, another format or version, wrong types, over 50 MB) raises ImportFileError with a zh +
en reason before anything is written.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import tempfile
import unicodedata
import uuid as uuidlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .. import __version__
from ..errors import ImportFileError, KnownError
from ..paths import resource_path
from . import checked, customers, kpi, masking, private, reminders, shifts
from .cadence import ANGLE_NAMES, ANGLES
from .clock import from_db, to_db
from .store import Store, read_only_error

log = logging.getLogger(__name__)

FORMAT = "kefu-assistant.handover"
VERSION = 1
FORMATS = ("html", "xlsx", "json")
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_BUYERS = 200_000
MAX_CHASES_PER_BUYER = 2_000
MAX_REMINDERS_PER_BUYER = 200
MAX_LOG_ENTRIES = 20_000
MAX_PROMOTIONS = 1_000
NOTE_MARKER = "【较早的备注 · {who} · {when}】"

Progress = Callable[[int, int], None]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ---------------------------------------------------------------- masking and cell safety

# One masking function for every export and listing (core/masking.py); the name stays for callers.
mask_text = masking.mask_text


def _number_char(ch: str) -> bool:
    return ch.isdigit() or ch in "+-.*()（） \u00a0"


def restore_masked(text: str, source: str) -> str:
    """`text` with the masked numbers that stand for numbers in `source` given their digits back.

    A masked export of a note (edited or not) then loses nothing against the unmasked note it came
    from: masked text never replaces unmasked text. The pairs come from aligning `source` with
    mask_text(source), so this follows whatever mask_text masks; a mask that two different numbers
    share is left masked."""
    if not text or not source:
        return text
    masked = mask_text(source)
    if masked == source:
        return text
    regions: list[list[int]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, source, masked, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # Widen over the rest of the number: inside equal blocks both strings move together.
        while i1 > 0 and j1 > 0 and source[i1 - 1] == masked[j1 - 1] and _number_char(source[i1 - 1]):
            i1, j1 = i1 - 1, j1 - 1
        while i2 < len(source) and j2 < len(masked) and source[i2] == masked[j2] and _number_char(source[i2]):
            i2, j2 = i2 + 1, j2 + 1
        if regions and i1 <= regions[-1][1]:  # the same number as the previous region
            regions[-1][1], regions[-1][3] = max(regions[-1][1], i2), max(regions[-1][3], j2)
        else:
            regions.append([i1, i2, j1, j2])
    pairs: dict[str, set[str]] = {}
    for i1, i2, j1, j2 in regions:
        original, hidden = source[i1:i2].strip(), masked[j1:j2].strip()
        if hidden and hidden != original and "*" in hidden:
            pairs.setdefault(hidden, set()).add(original)
    for hidden in sorted(pairs, key=len, reverse=True):
        if len(pairs[hidden]) == 1 and hidden in text:
            text = text.replace(hidden, next(iter(pairs[hidden])))
    return text


def neutralise(text: str) -> str:
    """A text cell safe to open in a spreadsheet: a leading apostrophe stops formula injection."""
    return "'" + text if text.lstrip("'")[:1] in _FORMULA_START and text.lstrip("'") else text


def _clean(text: str | None) -> str:
    return _CONTROL.sub("", text or "")


# ---------------------------------------------------------------- progress

class _Budget:
    """A share of the steps for one phase that reports as it goes and never overshoots."""

    def __init__(self, steps: _Steps, size: int) -> None:
        self.steps, self.size, self.used = steps, size, 0

    def add(self, n: int) -> None:
        take = min(n, self.size - 1 - self.used)
        if take > 0:
            self.used += take
            self.steps.add(take)

    def close(self) -> None:
        self.steps.add(self.size - self.used)
        self.used = self.size


class _Steps:
    def __init__(self, total: int, callback: Progress | None) -> None:
        self.total, self.done, self.callback = max(1, total), 0, callback

    def add(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + max(0, n))
        if self.callback is not None:
            self.callback(self.done, self.total)

    def finish(self) -> None:
        self.done = self.total
        if self.callback is not None:
            self.callback(self.total, self.total)


# ---------------------------------------------------------------- building the document

def _zone_name(tz: tzinfo) -> str:
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = datetime.now(timezone.utc).astimezone(tz).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_from_name(name: str | None) -> tzinfo:
    text = str(name or "")
    m = re.fullmatch(r"UTC([+-])(\d\d):(\d\d)", text)
    if m:
        delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return timezone(delta if m.group(1) == "+" else -delta)
    try:
        return ZoneInfo(text) if text else timezone.utc
    except (ValueError, OSError, KeyError):
        return timezone.utc


_OPEN_BUYERS = (
    "SELECT b.id FROM buyers b WHERE (b.starred = 1 AND b.state IN ('following', 'paused')) "
    "OR EXISTS (SELECT 1 FROM buyer_mark_links l JOIN buyer_marks m ON m.id = l.mark_id "
    "           WHERE l.buyer_id = b.id AND m.code = 'after_sales') "
    "OR EXISTS (SELECT 1 FROM reminders r WHERE r.buyer_id = b.id AND r.state = 'pending')"
)


def build(store: Store, *, now: datetime | None = None, shift: shifts.Shift | None = None,
          include_phones: bool = False, progress: Progress | None = None, _steps: _Steps | None = None
          ) -> dict[str, Any]:
    """The handover document (the JSON file's content) for a shift: the open one, else the last one;
    with no shift at all, today so far. Reads only."""
    now = (now or store.clock.now()).astimezone(timezone.utc)
    tz = reminders.get_config(store).agent_tz
    text = (lambda s: s) if include_phones else mask_text  # noqa: E731 - every text field of the document
    shift = shift or shifts.current_shift(store) or shifts.last_shift(store)
    if shift is not None:
        since, until = shift.started_at, max(shift.until(now), shift.started_at)
        shift_doc = {"uuid": shift.uuid, "agent": text(shift.agent or ""), "started_at": to_db(shift.started_at),
                     "ended_at": to_db(shift.ended_at) if shift.ended_at else None, "open": shift.open}
        agent = shift.agent or shifts.agent_name(store)
    else:
        since, until = shifts.day_window(now.astimezone(tz).date(), tz)[0], now
        shift_doc = None
        agent = shifts.agent_name(store)
    ids = [r["id"] for r in store.query(_OPEN_BUYERS + " ORDER BY b.id")]
    steps = _steps or _Steps(len(ids) + 2, progress)
    k = kpi.compute(store, since, until, tz)
    steps.add()

    buyers = _buyer_docs(store, ids, include_phones, text, steps)
    if not include_phones:
        _distinct_identities(buyers)
    promo_ids = sorted({pid for b in buyers for pid in b.pop("_promotion_ids")})
    promos = store.query("SELECT p.id, p.name, p.start_at, (SELECT min(due_at) FROM reminders r WHERE r.promotion_id = p.id "
                         "AND r.kind = 'phone' AND r.state = 'pending') AS phone_due_at FROM promotions p "
                         "WHERE p.start_at > ? OR p.id IN (SELECT value FROM json_each(?)) ORDER BY p.start_at, p.id",
                         (to_db(now - timedelta(hours=24)), json.dumps(promo_ids)))
    entries = shifts.shift_entries(store, shift, now) if shift else shifts.entries(store, since, until)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "app_version": __version__,
        "generated_at": to_db(now),
        "agent": text(agent or ""),
        "timezone": _zone_name(tz),
        "phones_included": bool(include_phones),
        "window": {"since": to_db(since), "until": to_db(until)},
        "shift": shift_doc,
        "kpis": k.to_dict(),
        "promotions": [{"name": text(p["name"]), "start_at": p["start_at"], "phone_due_at": p["phone_due_at"]}
                       for p in promos],
        "buyers": buyers,
        "log": [{"uuid": e.uuid, "kind": e.kind, "text": text(e.text), "agent": text(e.agent or ""), "at": to_db(e.at)}
                for e in entries],
    }
    doc["counts"] = _counts(doc)
    steps.add()
    return doc


def _distinct_identities(buyers: list[dict]) -> None:
    """Two buyers whose nicknames differ only in masked digits (tb_13812345673, tb_13899995673) would
    share platform + shop + nickname in a masked file, which the importer refuses: number them."""
    seen: set[tuple[str, str, str]] = set()
    for b in buyers:
        nickname, n = b["nickname"], 1
        while (b["platform"], b["shop"], nickname) in seen:
            n += 1
            nickname = f"{b['nickname'][:customers.MAX_NICKNAME - 6]}（{n}）"
        b["nickname"] = nickname
        seen.add((b["platform"], b["shop"], nickname))


def _counts(doc: dict) -> dict[str, int]:
    buyers = doc["buyers"]
    return {
        "buyers": len(buyers),
        "starred_open": sum(1 for b in buyers if _is_starred_open(b)),
        "after_sales": sum(1 for b in buyers if _is_after_sales(b)),
        "pending_reminders": sum(len(b["reminders"]) for b in buyers),
        "chases": sum(len(b["chases"]) for b in buyers),
        "log": len(doc["log"]),
    }


def _is_starred_open(b: dict) -> bool:
    return bool(b["starred"]) and b["state"] in ("following", "paused")


def _is_after_sales(b: dict) -> bool:
    return any(m.get("code") == "after_sales" for m in b["marks"])


def _rows(store: Store, sql: str, params: tuple) -> list[tuple]:
    """Plain tuples (no per-row dict: 10k-buyer exports read ~60k rows)."""
    try:
        return store.conn.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        from .store import translate_sqlite_error

        raise translate_sqlite_error(exc, store.path) from exc


def _warnings(raw: str | None) -> list[str]:
    if not raw or raw == "[]":
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [w for w in value if isinstance(w, str)] if isinstance(value, list) else []


def _buyer_docs(store: Store, ids: list[int], include_phones: bool, text: Callable[[str], str],
                steps: _Steps) -> list[dict]:
    out: list[dict] = []
    chunk_size = 2000
    mask_phone = customers.mask_phone
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start:start + chunk_size]
        ref = (json.dumps(chunk),)
        sel = "(SELECT value FROM json_each(?))"
        marks: dict[int, list[dict]] = {}
        for bid, name, code, shop in _rows(
                store, "SELECT l.buyer_id, m.name, m.code, m.shop FROM buyer_mark_links l JOIN buyer_marks m "
                f"ON m.id = l.mark_id WHERE l.buyer_id IN {sel} ORDER BY m.position, m.id", ref):
            marks.setdefault(bid, []).append({"name": text(name), "code": code, "shop": text(shop or "")})
        chases: dict[int, list[dict]] = {}
        for bid, sent, angle, title, reply_uuid, replied, replied_at, warnings in _rows(
                store, "SELECT c.buyer_id, c.sent_at, c.angle, IFNULL(c.reply_title, rp.title), rp.uuid, "
                "c.buyer_replied, c.replied_at, c.warnings FROM chases c LEFT JOIN replies rp "
                f"ON rp.id = c.reply_id WHERE c.buyer_id IN {sel} ORDER BY c.sent_at, c.id", ref):
            chases.setdefault(bid, []).append({
                "sent_at": sent, "angle": angle, "reply_title": text(title) if title else title, "reply_uuid": reply_uuid,
                "buyer_replied": bool(replied), "replied_at": replied_at, "warnings": _warnings(warnings)})
        pending: dict[int, list[dict]] = {}
        promo_ids: dict[int, list[int]] = {}
        for bid, kind, cadence_id, step, due, planned, moved, created, promo_id, pname, pstart in _rows(
                store, "SELECT r.buyer_id, r.kind, r.cadence_id, r.step, r.due_at, r.planned_at, r.moved_for, "
                "r.created_at, r.promotion_id, p.name, p.start_at FROM reminders r LEFT JOIN promotions p "
                f"ON p.id = r.promotion_id WHERE r.state = 'pending' AND r.buyer_id IN {sel} ORDER BY r.due_at, r.id",
                ref):
            pending.setdefault(bid, []).append({
                "kind": kind, "cadence_id": cadence_id, "step": step, "due_at": due, "planned_at": planned,
                "moved_for": [m for m in moved.split(",") if m] if moved else [], "created_at": created,
                "promotion": {"name": text(pname), "start_at": pstart} if promo_id else None})
            if promo_id:
                promo_ids.setdefault(bid, []).append(promo_id)
        for (bid, uuid, platform, shop, nickname, notes, phone, tz, language, open_q, state, starred, starred_by,
             starred_at, cadence_id, cadence_started, visit_started, created, updated) in _rows(
                store, "SELECT id, uuid, platform, shop, nickname, notes, phone, tz, language, open_questions, state, "
                "starred, starred_by, starred_at, cadence_id, cadence_started_at, visit_started_at, created_at, "
                f"updated_at FROM buyers WHERE id IN {sel} ORDER BY id", ref):
            out.append({
                "uuid": uuid, "platform": platform, "shop": text(shop or ""), "nickname": text(nickname),
                "notes": text(notes) if notes else "",
                "phone": phone if include_phones else None, "phone_masked": mask_phone(phone) if phone else None,
                "tz": tz, "language": language, "open_questions": bool(open_q), "state": state,
                "starred": bool(starred), "starred_by": text(starred_by) if starred_by else starred_by,
                "starred_at": starred_at,
                "cadence_id": cadence_id, "cadence_started_at": cadence_started, "visit_started_at": visit_started,
                "created_at": created, "updated_at": updated,
                "marks": marks.get(bid, []), "chases": chases.get(bid, []), "reminders": pending.get(bid, []),
                "_promotion_ids": promo_ids.get(bid, []),
            })
        steps.add(len(chunk))
    return out


# ---------------------------------------------------------------- derived rows (HTML and XLSX)

def _local(text: str | None, tz: tzinfo) -> datetime | None:
    when = from_db(text)
    return when.astimezone(tz) if when else None


def _fmt(text: str | None, tz: tzinfo, pattern: str = "%m-%d %H:%M") -> str:
    when = _local(text, tz)
    if when is None:
        return ""
    if pattern == "%m-%d %H:%M":  # the common case, without strftime's cost (10k-row reports)
        return f"{when.month:02d}-{when.day:02d} {when.hour:02d}:{when.minute:02d}"
    return when.strftime(pattern)


def _platform(code: str) -> str:
    return customers.PLATFORMS.get(code, (code, code))[0]


def _state(code: str) -> str:
    return customers.STATES.get(code, (code, code))[0]


def _angle(code: str | None) -> str:
    return ANGLE_NAMES[code][0] if code in ANGLE_NAMES else ""


_REMINDER_KINDS = {k: v[0] for k, v in reminders.KINDS.items()}


def _cadence_names(store: Store | None) -> dict[str, str]:
    try:
        known = reminders.cadences(store) if store is not None else reminders.shipped_cadences()
    except (OSError, ValueError, KnownError):
        return {}
    return {cid: c.zh for cid, c in known.items()}


@dataclass
class Sections:
    """The report's sections as rows, shared by the HTML and the XLSX renderers."""

    tz: tzinfo
    starred: list[dict]
    pending: list[dict]
    after_sales: list[dict]
    log: list[dict]


def sections(doc: dict, cadence_names: dict[str, str] | None = None) -> Sections:
    tz = zone_from_name(doc.get("timezone"))
    names = cadence_names or {}
    starred, pending, after = [], [], []
    now = doc["generated_at"]
    for b in doc["buyers"]:
        last = b["chases"][-1] if b["chases"] else None
        nxt = b["reminders"][0] if b["reminders"] else None
        base = {"buyer": b, "marks": [m["name"] for m in b["marks"]], "last": last, "next": nxt}
        if _is_starred_open(b):
            starred.append(base)
        if _is_after_sales(b):
            after.append(base)
        for r in b["reminders"]:
            pending.append({"buyer": b, "reminder": r, "cadence": names.get(r["cadence_id"], r["cadence_id"]),
                            "overdue": r["due_at"] <= now, "last": last})
    starred.sort(key=lambda x: (x["next"]["due_at"] if x["next"] else "9", x["buyer"]["nickname"]))
    pending.sort(key=lambda x: (x["reminder"]["due_at"], x["buyer"]["nickname"]))
    after.sort(key=lambda x: x["buyer"]["updated_at"], reverse=True)
    return Sections(tz, starred, pending, after, list(doc["log"]))


# ---------------------------------------------------------------- JSON

def render_json(doc: dict) -> bytes:
    """Compact UTF-8 JSON (json's C encoder only runs without indent: 10k buyers in ~0.2 s)."""
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


# ---------------------------------------------------------------- HTML

_HTML_TABLE = {**{c: None for c in range(32) if chr(c) not in "\t\n\r"}, 0x7F: None, ord("&"): "&amp;",
               ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;", ord("'"): "&#x27;"}


def _e(value: Any) -> str:
    """HTML-escaped text (quotes too), control characters dropped: one C-level pass."""
    return ("" if value is None else str(value)).translate(_HTML_TABLE)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} 秒"
    if seconds < 3600:
        return f"{seconds / 60:.1f} 分钟"
    return f"{seconds / 3600:.1f} 小时"


def _svg_angles(counts: dict[str, int]) -> str:
    keys = [*ANGLES, "none"] if counts.get("none") else list(ANGLES)
    width, row, left, right = 520, 26, 96, 44
    height = row * len(keys) + 12
    top = max(1, max((counts.get(k, 0) for k in keys), default=0))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="催单角度分布" class="chart chart-angles">']
    parts.append(f'<line class="axis" x1="{left}" y1="4" x2="{left}" y2="{height - 6}"/>')
    for i, key in enumerate(keys):
        n = counts.get(key, 0)
        y = 6 + i * row
        w = (width - left - right) * n / top
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{_e(kpi.angle_label(key))}</text>')
        parts.append(f'<rect class="bar" x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" rx="2">'
                     f'<title>{_e(kpi.angle_label(key))}: {n}</title></rect>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}" class="muted">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_hours(hours: list[dict], tz: tzinfo) -> str:
    width, height, left, bottom, top_pad = 520, 190, 34, 26, 14
    n = max(1, len(hours))
    slot = min(44.0, (width - left - 8) / n)  # a short shift keeps slim bars, left-aligned
    peak = max([h["count"] for h in hours] + [1])
    scale = (height - bottom - top_pad) / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="每小时粘贴次数" class="chart chart-hours">']
    base = height - bottom
    parts.append(f'<line class="axis" x1="{left}" y1="{base}" x2="{width - 4}" y2="{base}"/>')
    for tick in sorted({0, peak // 2, peak}):
        y = base - tick * scale
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="muted">{tick}</text>')
    label_every = max(1, math.ceil(n / 16))
    for i, h in enumerate(hours):
        x = left + i * slot
        hgt = h["count"] * scale
        when = datetime.fromisoformat(h["hour"]).astimezone(tz)
        label = when.strftime("%H") if not when.minute else when.strftime("%H:%M")
        parts.append(f'<rect class="bar" x="{x + slot * 0.15:.1f}" y="{base - hgt:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{hgt:.1f}"><title>{_e(when.strftime("%m-%d %H:%M"))}: {h["count"]}</title></rect>')
        if h["count"]:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{base - hgt - 3:.1f}" text-anchor="middle" '
                         f'class="muted">{h["count"]}</text>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{base + 15}" text-anchor="middle">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _marks_html(names: Sequence[str]) -> str:
    return "".join(f'<span class="mark">{_e(n)}</span>' for n in names)


def _table(section_id: str, title: str, headers: Sequence[tuple[str, str]], rows: Iterable[str], count: int,
           empty: str) -> str:
    head = "".join(f'<th class="{cls}">{_e(h)}</th>' if cls else f"<th>{_e(h)}</th>" for h, cls in headers)
    body = "".join(rows)
    out = [f'<section id="{section_id}"><h2>{_e(title)}<span class="count">{count}</span></h2>']
    if count:
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    else:
        out.append(f'<p class="empty">{_e(empty)}</p>')
    out.append("</section>")
    return "".join(out)


def render_html(doc: dict, cadence_names: dict[str, str] | None = None, sec: Sections | None = None) -> str:
    """The self-contained report: inline CSS and SVG, no script, no external resource."""
    sec = sec or sections(doc, cadence_names)
    tz = sec.tz
    k = doc["kpis"]
    memo: dict[str, str] = {}

    def t(text: str | None) -> str:
        """A stored time as 'MM-DD HH:MM' local, memoised (due times repeat across rows)."""
        if not text:
            return ""
        found = memo.get(text)
        if found is None:
            found = memo[text] = _fmt(text, tz)
        return found

    css = resource_path("handover", "report.css").read_text(encoding="utf-8")
    shift = doc.get("shift") or {}
    agent = doc.get("agent") or "（未设置客服昵称）"
    started = _fmt(shift.get("started_at") or doc["window"]["since"], tz, "%Y-%m-%d %H:%M")
    ended = _fmt(shift["ended_at"], tz, "%Y-%m-%d %H:%M") if shift.get("ended_at") else "进行中"
    conv = "—" if k["conversion"] is None else f"{k['conversion'] * 100:.1f}%"
    out: list[str] = [
        "<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>交接班报告 · {_e(agent)} · {_e(started)}</title>",
        '<meta name="generator" content="kefu-assistant">',
        f"<style>{css}</style></head><body>",
        '<header class="report" id="summary"><h1>交接班报告 <small>Shift handover</small></h1>',
        f'<p class="meta">客服 <b>{_e(agent)}</b> · 班次 <b>{_e(started)}</b> — <b>{_e(ended)}</b> · '
        f'生成于 {_e(_fmt(doc["generated_at"], tz, "%Y-%m-%d %H:%M"))}（{_e(doc.get("timezone"))}）</p>',
    ]
    if doc.get("phones_included"):
        out.append('<p class="notice">本报告包含完整的电话号码和订单号，请妥善保管，勿外传。</p>')
    out.append("</header>")
    cards = [
        ("粘贴回复", str(k["pastes"]), "次"), ("标星买家", str(k["starred"]), "位"), ("催单", str(k["chases"]), "次"),
        ("催单后付款", str(k["paid_after_chase"]), f"/ {k['chased_buyers']} 位（转化 {conv}）"),
        ("已付款", str(k["paid"]), "位"), ("流失", str(k["lost"]), "位"),
        ("提醒平均响应", _duration(k["avg_delay_seconds"]), f"中位 {_duration(k['median_delay_seconds'])}"),
        ("错过的提醒", str(k["missed"]), f"逾期未处理 {k['overdue_open']}"),
    ]
    out.append('<section id="kpis"><h2>本班数据</h2><dl class="kpis">')
    for label, value, unit in cards:
        out.append(f'<div class="kpi"><dt>{_e(label)}</dt><dd>{_e(value)} <small>{_e(unit)}</small></dd></div>')
    out.append("</dl></section>")
    out.append('<section id="charts" class="charts">')
    out.append(f'<figure id="chart-angles"><figcaption>催单角度</figcaption>{_svg_angles(k["chases_by_angle"])}</figure>')
    out.append(f'<figure id="chart-hours"><figcaption>每小时粘贴回复</figcaption>{_svg_hours(k["pastes_by_hour"], tz)}'
               "</figure></section>")

    def starred_row(x: dict) -> str:
        b, last, nxt = x["buyer"], x["last"], x["next"]
        last_text = f"{t(last['sent_at'])} {_angle(last['angle'])} {last['reply_title'] or ''}".strip() if last else ""
        cls = ' class="state-paused"' if b["state"] == "paused" else ""
        return (f"<tr{cls}><td>{_e(b['nickname'])}</td><td>{_e(_platform(b['platform']))}</td><td>{_e(b['shop'])}</td>"
                f"<td>{_e(_state(b['state']))}{' · 有疑问' if b['open_questions'] else ''}</td>"
                f"<td>{_marks_html(x['marks'])}</td><td>{_e(b['phone'] or b['phone_masked'] or '')}</td>"
                f'<td class="notes">{_e(b["notes"])}</td><td class="num">{len(b["chases"])}</td>'
                f'<td>{_e(last_text)}</td><td class="time">{_e(t(nxt["due_at"]) if nxt else "")}</td></tr>')

    out.append(_table("starred", "标星未结买家", [("买家", ""), ("平台", ""), ("店铺", ""), ("状态", ""), ("标记", ""),
                                                ("电话", ""), ("备注", ""), ("催单", "num"), ("上次催单", ""),
                                                ("下次提醒", "")],
                      (starred_row(x) for x in sec.starred), len(sec.starred), "没有未结的标星买家"))

    def pending_row(x: dict) -> str:
        b, r, last = x["buyer"], x["reminder"], x["last"]
        due = _e(t(r["due_at"]))
        due_cell = f'<td class="time overdue">{due}</td>' if x["overdue"] else f'<td class="time">{due}</td>'
        promo = f" · {r['promotion']['name']}" if r.get("promotion") else ""
        return (f"<tr>{due_cell}<td>{_e(b['nickname'])}</td><td>{_e(_platform(b['platform']))} {_e(b['shop'])}</td>"
                f"<td>{_e(_REMINDER_KINDS.get(r['kind'], r['kind']) + promo)}</td><td>{_e(x['cadence'])}</td>"
                f'<td class="num">{r["step"] + 1}</td><td>{_marks_html([m["name"] for m in b["marks"]])}</td>'
                f"<td>{_e(t(last['sent_at']) if last else '')}</td></tr>")

    out.append(_table("pending", "待催单（按到期时间）", [("到期", ""), ("买家", ""), ("平台 / 店铺", ""), ("类型", ""),
                                                    ("节奏", ""), ("步骤", "num"), ("标记", ""), ("上次催单", "")],
                      (pending_row(x) for x in sec.pending), len(sec.pending), "没有待处理的催单提醒"))

    def after_row(x: dict) -> str:
        b = x["buyer"]
        return (f"<tr><td>{_e(b['nickname'])}</td><td>{_e(_platform(b['platform']))} {_e(b['shop'])}</td>"
                f"<td>{_e(_state(b['state']))}</td><td>{_marks_html(x['marks'])}</td>"
                f"<td>{_e(b['phone'] or b['phone_masked'] or '')}</td><td class=\"notes\">{_e(b['notes'])}</td>"
                f'<td class="time">{_e(t(b["updated_at"]))}</td></tr>')

    out.append(_table("after-sales", "售后未结", [("买家", ""), ("平台 / 店铺", ""), ("状态", ""), ("标记", ""),
                                              ("电话", ""), ("备注", ""), ("更新", "")],
                      (after_row(x) for x in sec.after_sales), len(sec.after_sales), "没有未结的售后"))

    def log_row(e: dict) -> str:
        kind = shifts.ENTRY_KINDS.get(e["kind"], (e["kind"],))[0]
        return (f'<tr><td class="time">{_e(t(e["at"]))}</td><td>{_e(kind)}</td>'
                f'<td class="notes">{_e(e["text"])}</td></tr>')

    out.append(_table("log", "工作日志（今日问题 · 顾客需求 · 备注）", [("时间", ""), ("类型", ""), ("内容", "")],
                      (log_row(e) for e in sec.log), len(sec.log), "本班没有写日志"))
    top = k["top_replies"]
    out.append(_table("top-replies", "常用回复 Top 10", [("#", "num"), ("回复", ""), ("次数", "num")],
                      (f'<tr><td class="num">{i}</td><td>{_e(t["title"])}</td><td class="num">{t["count"]}</td></tr>'
                       for i, t in enumerate(top, 1)), len(top), "本班没有粘贴回复"))
    out.append(f'<footer>kefu-assistant {_e(doc.get("app_version"))} · {_e(FORMAT)} v{VERSION} · '
               f'买家 {doc["counts"]["buyers"]} 位 · 待催 {doc["counts"]["pending_reminders"]} 条</footer>')
    out.append("</body></html>\n")
    return "".join(out)


# ---------------------------------------------------------------- XLSX

def _display_width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render_xlsx(doc: dict, path: Path | str, cadence_names: dict[str, str] | None = None,
                tick: Callable[[int], None] | None = None, sec: Sections | None = None) -> None:
    """One sheet per section; frozen header row, auto filter, column widths from the content, times
    as real Excel dates in the agent's zone; text cells neutralised. Written by _XlsxWriter (see
    there why not openpyxl); openpyxl reads it back in the tests."""
    sec = sec or sections(doc, cadence_names)
    tz = sec.tz
    cache: dict[str | None, datetime | None] = {}

    def when(text: str | None) -> datetime | None:
        if text not in cache:
            local = _local(text, tz)
            cache[text] = local.replace(tzinfo=None, microsecond=0) if local else None
        return cache[text]

    k = doc["kpis"]
    shift = doc.get("shift") or {}
    avg, median = k["avg_delay_seconds"], k["median_delay_seconds"]
    summary: list[tuple[str, Any, str]] = [
        ("客服", doc.get("agent") or "", "text"),
        ("班次开始", when(shift.get("started_at") or doc["window"]["since"]), "date"),
        ("班次结束", when(shift.get("ended_at")), "date"),
        ("生成时间", when(doc["generated_at"]), "date"),
        ("时区", doc.get("timezone") or "", "text"),
        ("粘贴回复（次）", k["pastes"], "int"), ("标星买家（位）", k["starred"], "int"),
        ("催单（次）", k["chases"], "int"), ("被催单买家（位）", k["chased_buyers"], "int"),
        ("催单后付款（位）", k["paid_after_chase"], "int"), ("催单转化率", k["conversion"], "percent"),
        ("已付款（位）", k["paid"], "int"), ("流失（位）", k["lost"], "int"),
        ("已处理提醒（条）", k["reminders_acted"], "int"),
        ("提醒平均响应（分钟）", None if avg is None else round(avg / 60, 1), "num"),
        ("提醒响应中位数（分钟）", None if median is None else round(median / 60, 1), "num"),
        ("错过的提醒（条）", k["missed"], "int"), ("逾期未处理（条）", k["overdue_open"], "int"),
        ("未结标星买家（位）", len(sec.starred), "int"), ("待催单（条）", len(sec.pending), "int"),
        ("售后未结（位）", len(sec.after_sales), "int"),
    ]
    xw = _XlsxWriter(tick)
    xw.sheet("概况", [("项目", "text"), ("数值", "mixed")], ([label, (value, kind)] for label, value, kind in summary),
             widths=[26, 22])
    xw.sheet("标星买家", [("买家", "text"), ("平台", "text"), ("店铺", "text"), ("状态", "text"), ("有疑问", "text"),
                      ("标记", "text"), ("电话", "text"), ("备注", "wrap"), ("催单次数", "int"), ("上次催单", "date"),
                      ("上次催单角度", "text"), ("上次催单话术", "text"), ("下次提醒", "date"), ("标星人", "text"),
                      ("标星时间", "date"), ("更新时间", "date")],
             ([x["buyer"]["nickname"], _platform(x["buyer"]["platform"]), x["buyer"]["shop"],
               _state(x["buyer"]["state"]), "是" if x["buyer"]["open_questions"] else "", "、".join(x["marks"]),
               x["buyer"]["phone"] or x["buyer"]["phone_masked"] or "", x["buyer"]["notes"], len(x["buyer"]["chases"]),
               when(x["last"]["sent_at"]) if x["last"] else None, _angle(x["last"]["angle"]) if x["last"] else "",
               (x["last"]["reply_title"] or "") if x["last"] else "", when(x["next"]["due_at"]) if x["next"] else None,
               x["buyer"]["starred_by"] or "", when(x["buyer"]["starred_at"]), when(x["buyer"]["updated_at"])]
              for x in sec.starred))
    xw.sheet("待催单", [("到期时间", "date"), ("已逾期", "text"), ("买家", "text"), ("平台", "text"), ("店铺", "text"),
                     ("类型", "text"), ("活动", "text"), ("节奏", "text"), ("步骤", "int"), ("标记", "text"),
                     ("上次催单", "date")],
             ([when(x["reminder"]["due_at"]), "是" if x["overdue"] else "", x["buyer"]["nickname"],
               _platform(x["buyer"]["platform"]), x["buyer"]["shop"],
               _REMINDER_KINDS.get(x["reminder"]["kind"], x["reminder"]["kind"]),
               (x["reminder"].get("promotion") or {}).get("name", ""), x["cadence"], x["reminder"]["step"] + 1,
               "、".join(m["name"] for m in x["buyer"]["marks"]), when(x["last"]["sent_at"]) if x["last"] else None]
              for x in sec.pending))
    xw.sheet("售后未结", [("买家", "text"), ("平台", "text"), ("店铺", "text"), ("状态", "text"), ("标记", "text"),
                      ("电话", "text"), ("备注", "wrap"), ("更新时间", "date")],
             ([x["buyer"]["nickname"], _platform(x["buyer"]["platform"]), x["buyer"]["shop"],
               _state(x["buyer"]["state"]), "、".join(x["marks"]), x["buyer"]["phone"] or x["buyer"]["phone_masked"] or "",
               x["buyer"]["notes"], when(x["buyer"]["updated_at"])] for x in sec.after_sales))
    xw.sheet("工作日志", [("时间", "date"), ("类型", "text"), ("内容", "wrap"), ("客服", "text")],
             ([when(e["at"]), shifts.ENTRY_KINDS.get(e["kind"], (e["kind"],))[0], e["text"], e["agent"]]
              for e in sec.log))
    xw.sheet("常用回复", [("排名", "int"), ("回复", "text"), ("次数", "int")],
             ([i, t["title"], t["count"]] for i, t in enumerate(k["top_replies"], 1)))
    xw.sheet("催单角度", [("角度", "text"), ("次数", "int")],
             ([kpi.angle_label(a), n] for a, n in k["chases_by_angle"].items()))
    xw.sheet("每小时粘贴", [("时段", "date"), ("次数", "int")],
             ([datetime.fromisoformat(h["hour"]).astimezone(tz).replace(tzinfo=None), h["count"]]
              for h in k["pastes_by_hour"]))
    xw.save(path)


def _col(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    name, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


_XML_TABLE = {**{c: None for c in range(32) if chr(c) not in "\t\n\r"}, 0x7F: None, 0xFFFE: None, 0xFFFF: None,
              ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_EXCEL_EPOCH = datetime(1899, 12, 30)
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
# cellXfs indexes in _STYLES.
_S_HEADER, _S_DATE, _S_WRAP, _S_PERCENT = 1, 2, 3, 4
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_NS_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="165" formatCode="0.0%"/>'
    "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFF3F5F7"/><bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


class _XlsxWriter:
    """A minimal SpreadsheetML (XLSX) writer: inline strings, numbers, dates, four styles, frozen
    header, auto filter, column widths.

    Why not openpyxl: its writer costs 30-50 µs per cell here (pure-Python XML serialisation; about
    as slow with lxml), and 10,000 buyers make ~300,000 cells: 10-16 s against the 2 s target. This
    writer formats the XML directly (~1 µs per cell). openpyxl (with defusedxml) stays the reader
    for user-supplied files and reads these workbooks back in the tests."""

    def __init__(self, tick: Callable[[int], None] | None = None) -> None:
        self.tick = tick
        self.sheets: list[tuple[str, str, str | None]] = []  # (name, xml, filter ref)

    @staticmethod
    def _text(value: str) -> str:
        return neutralise(value).translate(_XML_TABLE)

    @classmethod
    def _formatter(cls, kind: str) -> Callable[[Any], str]:
        """The function writing one cell of a column of this kind, chosen once per column: per cell
        it is one call, and a memo for the values that repeat (platform, shop, state, marks, times)."""
        plain = cls._text_cell
        memo: dict[Any, str] = {}

        def cell(value: Any, kind: str = kind) -> str:
            if value is None or value == "":
                return "<c/>"
            if isinstance(value, str):
                return plain(value, kind == "wrap")
            if isinstance(value, datetime):
                return f'<c s="{_S_DATE}"><v>{(value - _EXCEL_EPOCH).total_seconds() / 86400:.8f}</v></c>'
            if isinstance(value, bool):
                return f'<c t="b"><v>{int(value)}</v></c>'
            if isinstance(value, (int, float)):
                return f'<c s="{_S_PERCENT}"><v>{value!r}</v></c>' if kind == "percent" else f"<c><v>{value!r}</v></c>"
            return plain(str(value), False)

        if kind == "mixed":
            return lambda pair: cell(pair[0], pair[1])

        def memoised(value: Any) -> str:
            if value is None:
                return "<c/>"
            key = value if value.__class__ is str else (value.__class__, value)  # 1, 1.0 and True differ
            found = memo.get(key)
            if found is None:
                found = memo[key] = cell(value)
            return found

        return memoised

    @staticmethod
    def _text_cell(value: str, wrap: bool) -> str:
        if value[0] in _FORMULA_START or value[0] == "'":
            value = neutralise(value)
        text = value.translate(_XML_TABLE)
        style = f' s="{_S_WRAP}"' if wrap and "\n" in text else ""
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        return f'<c t="inlineStr"{style}><is><t{space}>{text}</t></is></c>'

    def sheet(self, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]],
              widths: Sequence[float] | None = None) -> None:
        """columns: (header, kind), kind text | wrap | date | int | percent | num | mixed (a
        (value, kind) pair per cell)."""
        data = [list(r) for r in rows]
        ncols = len(columns)
        letters = [_col(i) for i in range(ncols)]
        if widths is None:
            widths = []
            for i, (head, kind) in enumerate(columns):
                if kind == "date":
                    widths.append(17)
                    continue
                if kind in ("int", "percent", "num"):
                    widths.append(max(8, _display_width(head) + 2))
                    continue
                sample = [_display_width(r[i]) for r in data[:1000] if isinstance(r[i], str) and r[i]]
                longest = max([_display_width(head)] + [min(w, 200) for w in sample])
                widths.append(max(6, min(60 if kind == "wrap" else 40, longest + 2)))
        last_ref = f"{letters[-1]}{len(data) + 1}"
        out = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
            f'<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><dimension ref="A1:{last_ref}"/>',
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
            '<sheetFormatPr defaultRowHeight="15"/><cols>',
            *(f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"/>' for i, w in enumerate(widths)),
            '</cols><sheetData><row r="1">',
            *(f'<c r="{letters[i]}1" t="inlineStr" s="{_S_HEADER}"><is><t>{self._text(h)}</t></is></c>'
              for i, (h, _) in enumerate(columns)),
            "</row>",
        ]
        cell = [self._formatter(kind) for _, kind in columns]
        append = out.append
        tick = self.tick
        # Cells carry no "r" reference (optional in SpreadsheetML): an empty cell is written as <c/>.
        for n, row in enumerate(data, 2):
            append("<row>" + "".join([f(v) for f, v in zip(cell, row)]) + "</row>")
            if tick is not None and n % 2000 == 0:
                tick(2000)
        out.append("</sheetData>")
        ref = f"A1:{last_ref}" if data else None
        if ref:
            out.append(f'<autoFilter ref="{ref}"/>')
        out.append('<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
                   '<pageSetup paperSize="9" orientation="landscape"/></worksheet>')
        self.sheets.append((name, "".join(out), ref))

    def save(self, path: Path | str) -> None:
        import zipfile

        n = len(self.sheets)
        content_types = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
                      for i in range(1, n + 1))
            + '<Override PartName="/docProps/core.xml" '
              'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            "</Types>")
        root_rels = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_NS_PKG}">'
            f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_NS_PKG}/metadata/core-properties" Target="docProps/core.xml"/>'
            "</Relationships>")
        core = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>交接班报告</dc:title>'
            "<dc:creator>kefu-assistant</dc:creator></cp:coreProperties>")
        names = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                        f"'{name}'!{_abs_ref(ref)}</definedName>"
                        for i, (name, _, ref) in enumerate(self.sheets) if ref)
        workbook = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><bookViews><workbookView activeTab="0"/></bookViews>'
            "<sheets>" + "".join(f'<sheet name="{self._text(name)}" sheetId="{i}" r:id="rId{i}"/>'
                                 for i, (name, _, _) in enumerate(self.sheets, 1)) + "</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>")
        workbook_rels = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_NS_PKG}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{_NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, n + 1))
            + f'<Relationship Id="rId{n + 1}" Type="{_NS_REL}/styles" Target="styles.xml"/></Relationships>')
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr("[Content_Types].xml", content_types)
            zf.writestr("_rels/.rels", root_rels)
            zf.writestr("docProps/core.xml", core)
            zf.writestr("xl/workbook.xml", workbook)
            zf.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
            zf.writestr("xl/styles.xml", _STYLES)
            for i, (_, xml, _) in enumerate(self.sheets, 1):
                zf.writestr(f"xl/worksheets/sheet{i}.xml", xml)


def _abs_ref(ref: str) -> str:
    """A1:P10 -> $A$1:$P$10."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))


# ---------------------------------------------------------------- export

@dataclass
class ExportResult:
    folder: Path
    files: dict[str, Path]
    counts: dict[str, int]
    seconds: float
    shift: shifts.Shift | None
    doc: dict[str, Any] = field(repr=False, default_factory=dict)


def _safe_name(text: str) -> str:
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", unicodedata.normalize("NFC", text)).strip(" ._")
    return cleaned[:24]


def _write_atomic(path: Path, writer: Callable[[Path], None]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".kefu-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_error(folder: Path, exc: OSError) -> KnownError:
    return KnownError(f"无法写入交接文件到 {folder}：{exc.strerror or exc}",
                      f"Cannot write the handover files to {folder}: {exc.strerror or exc}")


def export_handover(store: Store, folder: Path | str, *, formats: Iterable[str] = FORMATS, include_phones: bool = False,
                    end_shift: bool = False, now: datetime | None = None, shift: shifts.Shift | None = None,
                    progress: Progress | None = None) -> ExportResult:
    """Write the handover files into `folder` (created if missing). end_shift=True is 交班: the open
    shift ends now and the report covers it up to now. progress(done, total) is called from the
    calling thread as the work advances. Returns the paths written."""
    import time as _time

    started = _time.perf_counter()
    wanted = []
    for f in formats:
        name = str(f).strip().lower()
        if name not in FORMATS:
            raise KnownError(f"未知的导出格式“{name}”，可选：html、xlsx、json",
                             f"Unknown export format '{name}'; one of html, xlsx, json")
        if name not in wanted:
            wanted.append(name)
    if not wanted:
        raise KnownError("请至少选择一种导出格式", "Choose at least one export format")
    if end_shift and store.read_only:
        raise read_only_error(store.path)
    if not store.read_only:
        store.check_before_writes()  # it records the export: a damaged file gets no files and no row
    now = (now or store.clock.now()).astimezone(timezone.utc)
    target = Path(folder).expanduser()
    try:
        private.make_dirs(target)  # a folder created here is 0700; an existing one keeps its mode
    except OSError as exc:
        raise _write_error(target, exc) from exc
    shift = shift or shifts.current_shift(store) or shifts.last_shift(store)
    if end_shift and shift is not None and shift.open:
        shift = shifts.Shift(shift.id, shift.uuid, shift.agent, shift.started_at, max(now, shift.started_at),
                             shift.started_how, "handover")
    n_buyers = store.query(f"SELECT count(*) AS n FROM ({_OPEN_BUYERS})")[0]["n"]
    steps = _Steps(n_buyers * (1 + len(wanted)) + 2 + len(wanted), progress)
    doc = build(store, now=now, shift=shift, include_phones=include_phones, _steps=steps)
    names = _cadence_names(store)
    sec = sections(doc, names) if {"html", "xlsx"} & set(wanted) else None
    tz = zone_from_name(doc["timezone"])
    stem = "交接班_" + "_".join(x for x in (_safe_name(doc["agent"] or ""), now.astimezone(tz).strftime("%Y%m%d-%H%M")) if x)
    stem = _unique_stem(target, stem, wanted)
    files: dict[str, Path] = {}
    sha = None
    try:
        for fmt in wanted:
            path = target / f"{stem}.{fmt}"
            if fmt == "json":
                data = render_json(doc)
                sha = hashlib.sha256(data).hexdigest()
                _write_atomic(path, lambda p, d=data: p.write_bytes(d))
                steps.add(n_buyers + 1)
            elif fmt == "html":
                page = render_html(doc, names, sec)
                _write_atomic(path, lambda p, t=page: p.write_text(t, encoding="utf-8"))
                steps.add(n_buyers + 1)
            else:
                budget = _Budget(steps, n_buyers + 1)
                _write_atomic(path, lambda p, b=budget: render_xlsx(doc, p, names, b.add, sec))
                budget.close()
            files[fmt] = path
    except OSError as exc:
        raise _write_error(target, exc) from exc
    if store.read_only:  # a mounted backup: the files are all that was asked for; the export is not recorded
        log.info("handover export not recorded: the data folder is read-only")
    else:
        with store.write() as db:
            if end_shift and shift is not None and shift.ended_how == "handover":
                current = shifts.current_shift(store)
                if current is not None and current.id == shift.id:
                    shifts.end_shift(store, now)
            db.execute("INSERT INTO handovers (direction, at, shift_id, file_name, sha256, source_agent, "
                       "source_shift_uuid, exported_at, counts) VALUES ('out', ?, ?, ?, ?, ?, ?, ?, ?)",
                       (to_db(now), shift.id if shift else None, f"{stem}.*", sha, doc["agent"],
                        shift.uuid if shift else None, doc["generated_at"], json.dumps(doc["counts"])))
    if shift is not None:
        shift = shifts.get_shift(store, shift.id)
    steps.finish()
    seconds = _time.perf_counter() - started
    log.info("handover exported: %s buyers, formats %s, %.2f s", doc["counts"]["buyers"], ",".join(wanted), seconds)
    return ExportResult(target, files, doc["counts"], seconds, shift, doc)


def _unique_stem(folder: Path, stem: str, formats: Sequence[str]) -> str:
    candidate, n = stem, 1
    while any((folder / f"{candidate}.{fmt}").exists() for fmt in formats):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


# ---------------------------------------------------------------- import: reading and checking

def _bad(zh: str, en: str) -> ImportFileError:
    return ImportFileError(f"交接文件无法导入：{zh}。未做任何改动。", f"The handover file cannot be imported: {en}. "
                           "Nothing was changed.")


def read_file(path: Path | str) -> tuple[dict, str]:
    """(document, sha256) of a handover file, fully checked. Raises ImportFileError."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise _bad(f"无法读取文件 {p.name}（{exc.strerror}）", f"cannot read {p.name} ({exc.strerror})") from exc
    if not p.is_file():
        raise _bad(f"{p.name} 不是文件", f"{p.name} is not a file")
    if size > MAX_FILE_BYTES:
        raise _bad(f"文件太大（{size / 1024 / 1024:.1f} MB，最多 {MAX_FILE_BYTES // 1024 // 1024} MB）",
                   f"the file is too large ({size / 1024 / 1024:.1f} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB)")
    if size == 0:
        raise _bad("文件是空的", "the file is empty")
    try:
        with open(p, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _bad(f"无法读取文件 {p.name}（{exc.strerror}）", f"cannot read {p.name} ({exc.strerror})") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise _bad(f"文件太大（最多 {MAX_FILE_BYTES // 1024 // 1024} MB）",
                   f"the file is too large (the limit is {MAX_FILE_BYTES // 1024 // 1024} MB)")
    return parse(raw), hashlib.sha256(raw).hexdigest()


def parse(raw: bytes) -> dict:
    if raw.startswith(b"PK\x03\x04"):
        raise _bad("这是 Excel 表格，请导入交接班导出的 .json 文件", "this is a spreadsheet; import the handover .json file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad("文件不是 UTF-8 文本，不是本软件导出的交接文件", "the file is not UTF-8 text, not a kefu handover file") from None
    if not text.lstrip().startswith("{"):
        raise _bad("文件不是本软件导出的交接文件（不是 JSON 对象）", "not a kefu handover file (not a JSON object)")
    try:
        doc = json.loads(text)
    except RecursionError:
        raise _bad("文件嵌套层级过深", "the file is nested too deeply") from None
    except ValueError as exc:
        if not text.rstrip().endswith("}"):
            raise _bad("文件不完整（可能只复制了一部分或被截断）", "the file is incomplete (truncated)") from None
        raise _bad(f"JSON 格式错误（第 {getattr(exc, 'lineno', '?')} 行）",
                   f"invalid JSON (line {getattr(exc, 'lineno', '?')})") from None
    bad = checked.unstorable(doc, text)
    if bad is not None:
        raise _bad(f"{bad.path}：{bad.zh}", f"{bad.path}: {bad.en}")
    if not isinstance(doc, dict):
        raise _bad("文件不是本软件导出的交接文件", "not a kefu handover file")
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise _bad(f"文件格式是“{str(fmt)[:40]}”，不是交接班文件（{FORMAT}）",
                   f"the format is '{str(fmt)[:40]}', not a handover file ({FORMAT})")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _bad("文件缺少版本号", "the file has no valid version number")
    if version != VERSION:
        newer = version > VERSION
        raise _bad(f"文件版本 {version} 不受支持（本程序支持版本 {VERSION}）" + ("，请升级客服助手" if newer else ""),
                   f"file version {version} is not supported (this program reads version {VERSION})"
                   + ("; please upgrade kefu-assistant" if newer else ""))
    return _check(doc)


_CANONICAL_TIME = re.compile(r"(?!0000)\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{6}Z")


class _Checker:
    """Type checks with a readable path (buyers[3].chases[0].sent_at) in every error. `at` is the
    current record's path; field paths starting with "." are relative to it (no string is built
    for a field unless it fails: 10k buyers have ~400k fields)."""

    def __init__(self) -> None:
        self.at = ""
        self.memo: dict[tuple[Any, Any], Any] = {}

    def fail(self, path: str, zh: str, en: str) -> ImportFileError:
        where = self.at + path if not path or path[:1] in (".", "[") else path
        return _bad(f"{where}：{zh}", f"{where}: {en}")

    def obj(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, "应为对象", "must be an object")
        return value

    def lst(self, value: Any, path: str, limit: int) -> list:
        if not isinstance(value, list):
            raise self.fail(path, "应为列表", "must be a list")
        if len(value) > limit:
            raise self.fail(path, f"条目过多（最多 {limit}）", f"too many items (max {limit})")
        return value

    def text(self, value: Any, path: str, limit: int, *, optional: bool = False, required: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(path, "应为文字", "must be a string")
        if len(value) > limit:
            raise self.fail(path, f"过长（最多 {limit} 字）", f"too long (max {limit} characters)")
        if required and not value.strip():
            raise self.fail(path, "不能为空", "cannot be empty")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, "应为 true/false", "must be true or false")
        return value

    def integer(self, value: Any, path: str, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(path, f"应为 {lo} 到 {hi} 的整数", f"must be a whole number from {lo} to {hi}")
        return value

    def time(self, value: Any, path: str, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if value.__class__ is str and _CANONICAL_TIME.fullmatch(value):
            return value  # already as stored (the day <= 28: always a valid date)
        if not isinstance(value, str) or len(value) > 40:
            raise self.fail(path, "应为时间（ISO 8601）", "must be a time (ISO 8601)")
        try:
            return to_db(checked.parse_time(value))
        except ValueError as exc:
            if str(exc) == "no time zone":
                raise self.fail(path, "时间缺少时区", "the time has no time zone") from None
            raise self.fail(path, "时间格式不对或超出范围（年份 1–9999）", "invalid or out-of-range time (years 1-9999)") from None

    def known(self, value: Any, path: str, choices: Iterable[str], *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        options = tuple(choices)
        if value not in options:
            raise self.fail(path, f"应为 {'、'.join(options)} 之一", f"must be one of {', '.join(options)}")
        return value

    def validated(self, fn: Callable[[Any], Any], value: Any, path: str) -> Any:
        key = (fn, value)
        if key in self.memo:
            return self.memo[key]
        try:
            result = fn(value)
        except KnownError as exc:
            raise self.fail(path, exc.zh, exc.en) from None
        if value.__class__ is str and len(value) <= 64:
            self.memo[key] = result  # shops, platforms, marks repeat on every buyer
        return result


def _check(doc: dict) -> dict:
    """The document with every field checked and normalised (times as stored UTC text)."""
    c = _Checker()
    out: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    out["generated_at"] = c.time(doc.get("generated_at"), "generated_at")
    out["agent"] = c.text(doc.get("agent", ""), "agent", 64) or ""
    out["timezone"] = c.text(doc.get("timezone", "UTC"), "timezone", 64) or "UTC"
    out["phones_included"] = c.boolean(doc.get("phones_included", False), "phones_included")
    shift = doc.get("shift")
    if shift is not None:
        c.obj(shift, "shift")
        out["shift"] = {"uuid": c.text(shift.get("uuid"), "shift.uuid", 64, required=True),
                        "agent": c.text(shift.get("agent", ""), "shift.agent", 64) or "",
                        "started_at": c.time(shift.get("started_at"), "shift.started_at"),
                        "ended_at": c.time(shift.get("ended_at"), "shift.ended_at", optional=True)}
    else:
        out["shift"] = None
    promos: dict[tuple[str, str], dict] = {}
    for i, p in enumerate(c.lst(doc.get("promotions", []), "promotions", MAX_PROMOTIONS)):
        path = c.at = f"promotions[{i}]"
        c.obj(p, path)
        item = {"name": c.text(p.get("name"), ".name", 40, required=True),
                "start_at": c.time(p.get("start_at"), ".start_at"),
                "phone_due_at": c.time(p.get("phone_due_at"), ".phone_due_at", optional=True)}
        promos[(item["name"], item["start_at"])] = item  # type: ignore[index]
    out["promotions"] = list(promos.values())
    buyers = []
    seen_uuid: set[str] = set()
    seen_identity: set[tuple[str, str, str]] = set()
    for i, b in enumerate(c.lst(doc.get("buyers"), "buyers", MAX_BUYERS)):
        path = c.at = f"buyers[{i}]"
        c.obj(b, path)
        item: dict[str, Any] = {}
        item["uuid"] = c.text(b.get("uuid"), ".uuid", 64, required=True)
        item["platform"] = c.validated(customers.normalize_platform, c.text(b.get("platform"), ".platform", 40),
                                       ".platform")
        item["shop"] = c.validated(customers.clean_shop, c.text(b.get("shop", ""), ".shop", 200), ".shop")
        item["nickname"] = c.validated(customers.clean_nickname, c.text(b.get("nickname"), ".nickname", 200),
                                       ".nickname")
        item["notes"] = (c.text(b.get("notes", ""), ".notes", customers.MAX_NOTES) or "").replace("\x00", "")
        phone = c.text(b.get("phone"), ".phone", 40, optional=True)
        item["phone"] = c.validated(customers.clean_phone, phone, ".phone") if phone else None
        item["tz"] = c.validated(customers.check_tz, c.text(b.get("tz"), ".tz", 64, optional=True), ".tz")
        item["language"] = c.validated(customers.check_language, c.text(b.get("language"), ".language", 16,
                                                                         optional=True), ".language")
        item["open_questions"] = c.boolean(b.get("open_questions", False), ".open_questions")
        item["state"] = c.known(b.get("state"), ".state", customers.STATES)
        item["starred"] = c.boolean(b.get("starred"), ".starred")
        item["starred_by"] = c.text(b.get("starred_by"), ".starred_by", 64, optional=True)
        item["starred_at"] = c.time(b.get("starred_at"), ".starred_at", optional=True)
        item["cadence_id"] = c.text(b.get("cadence_id"), ".cadence_id", 64, optional=True)
        item["cadence_started_at"] = c.time(b.get("cadence_started_at"), ".cadence_started_at", optional=True)
        item["visit_started_at"] = c.time(b.get("visit_started_at"), ".visit_started_at", optional=True)
        item["created_at"] = c.time(b.get("created_at"), ".created_at")
        item["updated_at"] = c.time(b.get("updated_at"), ".updated_at")
        marks = []
        for j, m in enumerate(c.lst(b.get("marks", []), ".marks", 100)):
            c.at = f"{path}.marks[{j}]"
            c.obj(m, "")
            name = c.text(m.get("name"), ".name", customers.MAX_MARK, required=True)
            marks.append({"name": name.strip(), "code": c.text(m.get("code"), ".code", 40, optional=True),  # type: ignore[union-attr]
                          "shop": c.validated(customers.clean_shop, c.text(m.get("shop", ""), ".shop", 200),
                                              ".shop")})
        item["marks"] = marks
        chases = []
        for j, ch in enumerate(c.lst(b.get("chases", []), ".chases", MAX_CHASES_PER_BUYER)):
            c.at = f"{path}.chases[{j}]"
            c.obj(ch, "")
            warnings = c.lst(ch.get("warnings", []), ".warnings", 20)
            chases.append({
                "sent_at": c.time(ch.get("sent_at"), ".sent_at"),
                "angle": c.known(ch.get("angle"), ".angle", ANGLES, optional=True),
                "reply_title": c.text(ch.get("reply_title"), ".reply_title", 200, optional=True),
                "reply_uuid": c.text(ch.get("reply_uuid"), ".reply_uuid", 64, optional=True),
                "buyer_replied": c.boolean(ch.get("buyer_replied", False), ".buyer_replied"),
                "replied_at": c.time(ch.get("replied_at"), ".replied_at", optional=True),
                "warnings": [c.text(w, f".warnings[{k}]", 40) for k, w in enumerate(warnings)]})
        item["chases"] = chases
        rems = []
        for j, r in enumerate(c.lst(b.get("reminders", []), ".reminders", MAX_REMINDERS_PER_BUYER)):
            c.at = f"{path}.reminders[{j}]"
            c.obj(r, "")
            kind = c.known(r.get("kind"), ".kind", ("chase", "wave"))
            promo = r.get("promotion")
            key = None
            if promo is not None:
                c.obj(promo, ".promotion")
                key = (c.text(promo.get("name"), ".promotion.name", 40, required=True),
                       c.time(promo.get("start_at"), ".promotion.start_at"))
                if key not in promos:
                    raise c.fail(".promotion", "引用的活动不在文件的 promotions 列表中",
                                 "refers to a promotion missing from the file's promotions list")
            if kind == "wave" and key is None:
                raise c.fail(".promotion", "大促催付提醒需要活动", "a promotion wave reminder needs its promotion")
            moved = c.lst(r.get("moved_for", []), ".moved_for", 10)
            rems.append({
                "kind": kind, "cadence_id": c.text(r.get("cadence_id"), ".cadence_id", 64, required=True),
                "step": c.integer(r.get("step", 0), ".step", 0, 1000),
                "due_at": c.time(r.get("due_at"), ".due_at"),
                "planned_at": c.time(r.get("planned_at"), ".planned_at", optional=True),
                "moved_for": [c.text(x, f".moved_for[{k}]", 40) for k, x in enumerate(moved)],
                "created_at": c.time(r.get("created_at"), ".created_at", optional=True),
                "promotion": {"name": key[0], "start_at": key[1]} if key else None})
        item["reminders"] = rems
        c.at = path
        if item["uuid"] in seen_uuid:
            raise c.fail(".uuid", "与前面的买家重复", "duplicates an earlier buyer")
        identity = (item["platform"], item["shop"], item["nickname"])
        if identity in seen_identity:
            raise c.fail(path, "同一平台和店铺下的买家昵称重复", "the same platform, shop and nickname appear twice")
        seen_uuid.add(item["uuid"])
        seen_identity.add(identity)
        buyers.append(item)
    out["buyers"] = buyers
    entries = []
    seen_entries: set[str] = set()
    for i, e in enumerate(c.lst(doc.get("log", []), "log", MAX_LOG_ENTRIES)):
        path = c.at = f"log[{i}]"
        c.obj(e, path)
        entry = {"uuid": c.text(e.get("uuid"), ".uuid", 64, required=True),
                 "kind": c.known(e.get("kind"), ".kind", shifts.ENTRY_KINDS),
                 "text": c.validated(shifts.clean_entry_text, c.text(e.get("text"), ".text", shifts.MAX_ENTRY * 2),
                                     ".text"),
                 "agent": c.text(e.get("agent", ""), ".agent", 64) or "",
                 "at": c.time(e.get("at"), ".at")}
        if entry["uuid"] not in seen_entries:
            seen_entries.add(entry["uuid"])
            entries.append(entry)
    out["log"] = entries
    return out


# ---------------------------------------------------------------- import: plan and merge

@dataclass
class PlanItem:
    """What happens to one buyer of the file."""

    uuid: str
    nickname: str
    platform: str
    shop: str
    action: str  # add | update | unchanged
    fields: list[str] = field(default_factory=list)  # fields taken from the file
    notes_merged: bool = False  # the older note was kept below the newer one
    newer: str = ""  # file | local | same | new
    chases_added: int = 0
    chases_updated: int = 0
    reminders_added: int = 0
    reminders_cancelled: int = 0
    marks_added: list[str] = field(default_factory=list)
    marks_removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


@dataclass
class ImportPlan:
    path: str
    sha256: str
    source_agent: str
    source_shift: str | None
    exported_at: str
    phones_included: bool
    items: list[PlanItem] = field(default_factory=list)
    marks_created: list[str] = field(default_factory=list)
    promotions_added: list[str] = field(default_factory=list)
    log_added: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)
    applied: bool = False
    doc: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def buyers_added(self) -> int:
        return sum(1 for i in self.items if i.action == "add")

    @property
    def buyers_updated(self) -> int:
        return sum(1 for i in self.items if i.action == "update")

    @property
    def buyers_unchanged(self) -> int:
        return sum(1 for i in self.items if i.action == "unchanged")

    @property
    def notes_merged(self) -> int:
        return sum(1 for i in self.items if i.notes_merged)

    @property
    def chases_added(self) -> int:
        return sum(i.chases_added for i in self.items)

    @property
    def reminders_added(self) -> int:
        return sum(i.reminders_added for i in self.items)

    @property
    def reminders_cancelled(self) -> int:
        return sum(i.reminders_cancelled for i in self.items)

    @property
    def has_changes(self) -> bool:
        return bool(self.buyers_added or self.buyers_updated or self.marks_created or self.promotions_added
                    or self.log_added)

    def counts(self) -> dict[str, int]:
        return {"buyers_added": self.buyers_added, "buyers_updated": self.buyers_updated,
                "buyers_unchanged": self.buyers_unchanged, "notes_merged": self.notes_merged,
                "chases_added": self.chases_added, "reminders_added": self.reminders_added,
                "reminders_cancelled": self.reminders_cancelled, "marks_created": len(self.marks_created),
                "promotions_added": len(self.promotions_added), "log_added": self.log_added}

    def summary(self, lang: str = "zh") -> str:
        c = self.counts()
        if lang == "en":
            head = "Imported" if self.applied else "Would import"
            if not self.has_changes:
                return "Nothing to import: everything in this file is already here."
            return (f"{head}: {c['buyers_added']} new buyers, {c['buyers_updated']} updated "
                    f"({c['notes_merged']} notes merged), {c['buyers_unchanged']} unchanged; {c['chases_added']} chases, "
                    f"{c['reminders_added']} reminders added, {c['reminders_cancelled']} replaced; "
                    f"{c['marks_created']} marks, {c['promotions_added']} promotions, {c['log_added']} log entries.")
        head = "已导入" if self.applied else "将导入"
        if not self.has_changes:
            return "没有需要导入的内容：文件中的信息本机都已经有了。"
        return (f"{head}：新增买家 {c['buyers_added']} 位，更新 {c['buyers_updated']} 位（合并备注 {c['notes_merged']} 条），"
                f"无变化 {c['buyers_unchanged']} 位；催单记录 {c['chases_added']} 条，提醒新增 {c['reminders_added']} 条、"
                f"替换 {c['reminders_cancelled']} 条；新标记 {c['marks_created']} 个，活动 {c['promotions_added']} 个，"
                f"交接日志 {c['log_added']} 条。")

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "source_agent": self.source_agent,
                "source_shift": self.source_shift, "exported_at": self.exported_at,
                "phones_included": self.phones_included, "applied": self.applied, "counts": self.counts(),
                "marks_created": self.marks_created, "promotions_added": self.promotions_added,
                "warnings": [{"zh": zh, "en": en} for zh, en in self.warnings],
                "items": [{k: getattr(i, k) for k in ("uuid", "nickname", "platform", "shop", "action", "fields",
                                                      "notes_merged", "newer", "chases_added", "chases_updated",
                                                      "reminders_added", "reminders_cancelled", "marks_added",
                                                      "marks_removed")} for i in self.items if i.changed]}


_SCALARS = ("platform", "shop", "nickname", "tz", "language", "open_questions", "state", "starred", "starred_by",
            "starred_at", "cadence_id", "cadence_started_at", "visit_started_at")


class _Merge:
    """One pass over the file against the store; writes only when `write` is True (inside the
    caller's transaction). The preview and the import run the same code, so they agree."""

    def __init__(self, store: Store, doc: dict, plan: ImportPlan, now: datetime, write: bool) -> None:
        self.store, self.doc, self.plan, self.now, self.write = store, doc, plan, now, write
        self.stamp = to_db(now)
        self.tz = reminders.get_config(store).agent_tz
        self.marks = {(m.code or "", m.name, m.shop): m for m in customers.list_marks(store)}
        self.new_marks: dict[tuple[str, str], int | None] = {}
        self.promo_ids: dict[tuple[str, str], int | None] = {}
        self.reply_by_uuid: dict[str, int] = {}
        self.reply_by_title: dict[tuple[str, str | None], int | None] = {}
        for r in store.query("SELECT id, uuid, title, angle FROM replies"):
            self.reply_by_uuid[r["uuid"]] = r["id"]
            key = (r["title"], r["angle"])
            self.reply_by_title[key] = None if key in self.reply_by_title else r["id"]  # ambiguous titles map to none
        self.known_cadences = set(reminders.cadences(store))

    def x(self, sql: str, params: tuple = ()) -> Any:
        return self.store.conn.execute(sql, params)

    # -- shared things

    def promotion(self, key: tuple[str, str]) -> int | None:
        if key in self.promo_ids:
            return self.promo_ids[key]
        rows = self.store.query("SELECT id FROM promotions WHERE name = ? AND start_at = ?", key)
        if rows:
            self.promo_ids[key] = rows[0]["id"]
            return rows[0]["id"]
        self.plan.promotions_added.append(key[0])
        promo_id = None
        if self.write:
            promo_id = int(self.x("INSERT INTO promotions (name, start_at, created_at) VALUES (?,?,?)",
                                  (*key, self.stamp)).lastrowid)
            phone_due = next((p["phone_due_at"] for p in self.doc["promotions"]
                              if (p["name"], p["start_at"]) == key), None)
            if phone_due:
                self.x("INSERT INTO reminders (promotion_id, kind, cadence_id, step, due_at, planned_at, state, created_at)"
                       " VALUES (?, 'phone', ?, 0, ?, ?, 'pending', ?)",
                       (promo_id, reminders.PROMO_CADENCE, phone_due, phone_due, self.stamp))
        self.promo_ids[key] = promo_id
        return promo_id

    def mark_id(self, mark: dict, buyer_shop: str) -> tuple[int | None, str]:
        """(local mark id, name); a mark missing here is created (for the buyer's shop when it was a
        shop's own mark)."""
        code = mark.get("code")
        if code:
            for (c, _name, _shop), m in self.marks.items():
                if c == code:
                    return m.id, m.name
        shop = mark["shop"] if mark["shop"] in ("", buyer_shop) else buyer_shop
        own = [m for (_, name, s), m in self.marks.items() if name == mark["name"] and s == shop]
        shared = [m for (_, name, s), m in self.marks.items() if name == mark["name"] and s == ""]
        found = own or shared
        if found:
            return found[0].id, found[0].name
        key = (mark["name"], shop)
        if key not in self.new_marks:
            self.plan.marks_created.append(mark["name"] + (f"（{shop}）" if shop else ""))
            new_id = None
            if self.write:
                position = self.store.query("SELECT IFNULL(max(position), -1) + 1 AS p FROM buyer_marks")[0]["p"]
                new_id = int(self.x("INSERT INTO buyer_marks (name, shop, position, created_at) VALUES (?,?,?,?)",
                                    (mark["name"], shop, position, self.stamp)).lastrowid)
            self.new_marks[key] = new_id
        return self.new_marks[key], mark["name"]

    def reply_id(self, chase: dict) -> int | None:
        if chase["reply_uuid"] and chase["reply_uuid"] in self.reply_by_uuid:
            return self.reply_by_uuid[chase["reply_uuid"]]
        if chase["reply_title"]:
            return self.reply_by_title.get((chase["reply_title"], chase["angle"]))
        return None

    def note_marker(self, who: str, when: str) -> str:
        return NOTE_MARKER.format(who=who or "—", when=_fmt(when, self.tz, "%Y-%m-%d %H:%M"))

    # -- buyers

    def run(self) -> None:
        self.prefetch()
        for b in self.doc["buyers"]:
            self.buyer(b)
        self.log_entries()

    def prefetch(self) -> None:
        """Everything the merge compares, read in a few queries (not four per buyer). Each buyer's
        rows are changed only while that buyer is merged, so the snapshot stays right."""
        buyers = self.doc["buyers"]
        cols = "id, uuid, " + ", ".join(_SCALARS) + ", notes, phone, created_at, updated_at"
        rows = self.store.query(
            f"SELECT {cols} FROM buyers WHERE uuid IN (SELECT value FROM json_each(?)) "
            "OR nickname IN (SELECT value FROM json_each(?))",
            (json.dumps([b["uuid"] for b in buyers]), json.dumps(sorted({b["nickname"] for b in buyers}))))
        self.by_uuid = {r["uuid"]: r for r in rows}
        self.by_identity = {(r["platform"], r["shop"], r["nickname"]): r for r in rows}
        ref = (json.dumps([r["id"] for r in rows]),)
        sel = "(SELECT value FROM json_each(?))"
        self.local_marks: dict[int, dict[int, str]] = {}
        for bid, mid, name in _rows(self.store, "SELECT l.buyer_id, l.mark_id, m.name FROM buyer_mark_links l JOIN "
                                    f"buyer_marks m ON m.id = l.mark_id WHERE l.buyer_id IN {sel}", ref):
            self.local_marks.setdefault(bid, {})[mid] = name
        self.local_chases: dict[int, dict[tuple[str, str], dict]] = {}
        for cid, bid, sent, angle, replied in _rows(
                self.store, f"SELECT id, buyer_id, sent_at, angle, buyer_replied FROM chases WHERE buyer_id IN {sel}",
                ref):
            self.local_chases.setdefault(bid, {})[(sent, angle or "")] = {"id": cid, "buyer_replied": replied}
        self.local_pending: dict[int, list[dict]] = {}
        for r in self.store.query(
                "SELECT r.id, r.buyer_id, r.kind, r.cadence_id, r.step, r.due_at, p.name AS pname, p.start_at AS pstart "
                "FROM reminders r LEFT JOIN promotions p ON p.id = r.promotion_id "
                f"WHERE r.state = 'pending' AND r.buyer_id IN {sel}", ref):
            self.local_pending.setdefault(r["buyer_id"], []).append(r)

    def local_buyer(self, b: dict) -> dict | None:
        return self.by_uuid.get(b["uuid"]) or self.by_identity.get((b["platform"], b["shop"], b["nickname"]))

    def buyer(self, b: dict) -> None:
        item = PlanItem(b["uuid"], b["nickname"], b["platform"], b["shop"], "unchanged")
        self.plan.items.append(item)
        local = self.local_buyer(b)
        if local is None:
            self.add_buyer(b, item)
            return
        incoming, mine = b["updated_at"], local["updated_at"]
        item.newer = "file" if incoming > mine else ("local" if incoming < mine else "same")
        buyer_id = local["id"]
        updates: dict[str, Any] = {}
        notes = local["notes"] or ""
        # Masked text never replaces unmasked text: a number masked on one side gets its digits back
        # from the other side before the notes are compared.
        file_notes = restore_masked(b["notes"], notes)
        local_notes = restore_masked(notes, b["notes"])
        if item.newer == "file":
            for key in _SCALARS:
                value = b[key]
                if key in ("open_questions", "starred"):
                    value = 1 if value else 0
                if value != local[key] and not (isinstance(value, str) and masking.masks(local[key] or "", value)):
                    updates[key] = value  # a masked copy of the local text (tb_138****5673) is no change
            if b["phone"] and b["phone"] != local["phone"]:
                updates["phone"] = b["phone"]
            merged = self.merge_notes(newer=file_notes, older=local_notes, older_who="本机", older_when=mine)
            if merged != notes:
                updates["notes"] = merged
                item.notes_merged = merged != file_notes
        else:  # the local record is newer or the same: it keeps its fields, and gains what the file knows
            if not local["phone"] and b["phone"]:
                updates["phone"] = b["phone"]  # a later --include-phones export of an unchanged buyer
            for key in ("nickname", "shop"):  # ... and the real text of what a masked import left masked
                if b[key] != local[key] and masking.masks(b[key] or "", local[key] or ""):
                    updates[key] = b[key]
            merged = local_notes
            if item.newer == "local":
                merged = self.merge_notes(newer=local_notes, older=file_notes,
                                          older_who=self.doc["agent"] or "上一班", older_when=incoming)
            if merged != notes:
                updates["notes"] = merged
                item.notes_merged = merged != local_notes
        if {"platform", "shop", "nickname"} & set(updates):
            identity = tuple(updates.get(k, local[k]) for k in ("platform", "shop", "nickname"))
            clash = self.store.query("SELECT id FROM buyers WHERE platform = ? AND shop = ? AND nickname = ? "
                                     "AND id != ?", (*identity, buyer_id))
            if clash:
                for key in ("platform", "shop", "nickname"):
                    updates.pop(key, None)
                self.plan.warnings.append(("有一位买家改过名，但本机已有同名买家，保留了本机的名字",
                                           "A buyer was renamed, but the new name is taken here; kept the local name"))
        if b["created_at"] < local["created_at"]:
            updates["created_at"] = b["created_at"]
        marks_changed = self.replace_marks(buyer_id, b, item) if item.newer == "file" else False
        chases_changed = self.merge_chases(buyer_id, b, item)
        reminders_changed = self.merge_reminders(buyer_id, b, item) if item.newer == "file" else False
        if updates or marks_changed or chases_changed or reminders_changed:
            item.action = "update"
            item.fields = sorted(k for k in updates if k != "created_at")
            if item.newer == "file":
                updates["updated_at"] = incoming
            if self.write and updates:
                self.x(f"UPDATE buyers SET {', '.join(f'{k} = ?' for k in updates)} WHERE id = ?",
                       (*updates.values(), buyer_id))

    def merge_notes(self, *, newer: str, older: str, older_who: str, older_when: str) -> str:
        newer, older = newer or "", older or ""
        if not older.strip() or older.strip() in newer:
            return newer
        # A masked older note already contained in the newer one; never the other way round (a masked
        # newer note does not contain the digits of an unmasked older one).
        if mask_text(older) == older and older.strip() in mask_text(newer):
            return newer
        marker = self.note_marker(older_who, older_when)
        merged = f"{newer.rstrip()}\n\n{marker}\n{older.strip()}" if newer.strip() else f"{marker}\n{older.strip()}"
        if len(merged) > customers.MAX_NOTES:
            merged = merged[:customers.MAX_NOTES - 1] + "…"
            self.plan.warnings.append(("合并后的备注超过长度上限，较早备注的末尾被截断",
                                       "A merged note exceeded the length limit; the end of the older note was cut"))
        return merged

    def add_buyer(self, b: dict, item: PlanItem) -> None:
        item.action, item.newer = "add", "new"
        item.fields = ["*"]
        buyer_id = None
        if self.write:
            cur = self.x(
                "INSERT INTO buyers (uuid, platform, shop, nickname, notes, phone, tz, language, open_questions, state, "
                "starred, starred_by, starred_at, cadence_id, cadence_started_at, visit_started_at, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (b["uuid"], b["platform"], b["shop"], b["nickname"], b["notes"][:customers.MAX_NOTES], b["phone"],
                 b["tz"], b["language"], 1 if b["open_questions"] else 0, b["state"], 1 if b["starred"] else 0,
                 b["starred_by"], b["starred_at"], b["cadence_id"], b["cadence_started_at"], b["visit_started_at"],
                 b["created_at"], b["updated_at"]))
            buyer_id = int(cur.lastrowid)
        for m in b["marks"]:
            mark_id, name = self.mark_id(m, b["shop"])
            item.marks_added.append(name)
            if self.write:
                self.x("INSERT OR IGNORE INTO buyer_mark_links (buyer_id, mark_id) VALUES (?,?)", (buyer_id, mark_id))
        self.merge_chases(buyer_id, b, item)
        self.merge_reminders(buyer_id, b, item)

    def replace_marks(self, buyer_id: int, b: dict, item: PlanItem) -> bool:
        local = self.local_marks.get(buyer_id, {})
        wanted: dict[int | None, str] = {}
        for m in b["marks"]:
            mark_id, name = self.mark_id(m, b["shop"])
            wanted[mark_id] = name
        added = [(i, n) for i, n in wanted.items() if i is None or i not in local]
        removed = [(i, n) for i, n in local.items() if i not in wanted]
        item.marks_added += [n for _, n in added]
        item.marks_removed += [n for _, n in removed]
        if self.write:
            for mark_id, _ in removed:
                self.x("DELETE FROM buyer_mark_links WHERE buyer_id = ? AND mark_id = ?", (buyer_id, mark_id))
            for mark_id, _ in added:
                self.x("INSERT OR IGNORE INTO buyer_mark_links (buyer_id, mark_id) VALUES (?,?)", (buyer_id, mark_id))
        return bool(added or removed)

    def merge_chases(self, buyer_id: int | None, b: dict, item: PlanItem) -> bool:
        local = dict(self.local_chases.get(buyer_id, {})) if buyer_id is not None else {}
        changed = False
        for ch in b["chases"]:
            key = (ch["sent_at"], ch["angle"] or "")
            have = local.get(key)
            if have is None:
                item.chases_added += 1
                changed = True
                local[key] = {"id": None, "buyer_replied": int(ch["buyer_replied"])}
                if self.write:
                    self.x("INSERT INTO chases (buyer_id, reply_id, reply_title, angle, reminder_id, sent_at, buyer_replied, "
                           "replied_at, warnings) VALUES (?,?,?,?,NULL,?,?,?,?)",
                           (buyer_id, self.reply_id(ch), ch["reply_title"], ch["angle"], ch["sent_at"],
                            1 if ch["buyer_replied"] else 0, ch["replied_at"], json.dumps(ch["warnings"])))
            elif ch["buyer_replied"] and not have["buyer_replied"]:
                item.chases_updated += 1
                changed = True
                if self.write and have["id"] is not None:
                    self.x("UPDATE chases SET buyer_replied = 1, replied_at = IFNULL(replied_at, ?) WHERE id = ?",
                           (ch["replied_at"], have["id"]))
        return changed

    def merge_reminders(self, buyer_id: int | None, b: dict, item: PlanItem) -> bool:
        """The file's pending reminders become the buyer's (the file's record is the newer one):
        local pending ones not in the file are cancelled, missing ones are added unshown."""
        local = self.local_pending.get(buyer_id, []) if buyer_id is not None else []

        def key(kind: str, cadence_id: str, step: int, due_at: str, promo: tuple | None) -> tuple:
            # One wave slot per buyer and promotion, whatever its time.
            return ("wave", promo) if kind == "wave" else (kind, cadence_id, step, due_at)

        have = {key(r["kind"], r["cadence_id"], r["step"], r["due_at"],
                    (r["pname"], r["pstart"]) if r["pname"] else None): r for r in local}
        wanted = {}
        for r in b["reminders"]:
            promo = (r["promotion"]["name"], r["promotion"]["start_at"]) if r["promotion"] else None
            wanted[key(r["kind"], r["cadence_id"], r["step"], r["due_at"], promo)] = (r, promo)
        changed = False
        for k, r in have.items():
            if k not in wanted:
                item.reminders_cancelled += 1
                changed = True
                if self.write:
                    self.x("UPDATE reminders SET state = 'cancelled', outcome = 'handover' WHERE id = ?", (r["id"],))
        for k, (r, promo) in wanted.items():
            if k in have:
                continue
            if r["cadence_id"] not in self.known_cadences:
                self.plan.warnings.append((f"节奏“{r['cadence_id']}”在本机不存在，提醒仍会按时弹出",
                                           f"Cadence '{r['cadence_id']}' does not exist here; the reminder still fires"))
            promo_id = self.promotion(promo) if promo else None
            item.reminders_added += 1
            changed = True
            if self.write:
                self.x("INSERT INTO reminders (buyer_id, promotion_id, kind, cadence_id, step, due_at, planned_at, "
                       "moved_for, state, created_at) VALUES (?,?,?,?,?,?,?,?, 'pending', ?)",
                       (buyer_id, promo_id, r["kind"], r["cadence_id"], r["step"], r["due_at"],
                        r["planned_at"] or r["due_at"], ",".join(r["moved_for"]), r["created_at"] or self.stamp))
        return changed

    # -- the previous shift's log entries

    def log_entries(self) -> None:
        if not self.doc["log"]:
            return
        uuids = [e["uuid"] for e in self.doc["log"]]
        have = {r["uuid"] for r in self.store.query(
            "SELECT uuid FROM work_log WHERE uuid IN (SELECT value FROM json_each(?))", (json.dumps(uuids),))}
        self.pending_log = [e for e in self.doc["log"] if e["uuid"] not in have]
        self.plan.log_added = len(self.pending_log)

    def write_log(self, handover_id: int) -> None:
        for e in getattr(self, "pending_log", []):
            self.x("INSERT INTO work_log (uuid, shift_id, handover_id, kind, text, agent, at, updated_at) "
                   "VALUES (?, NULL, ?, ?, ?, ?, ?, ?)", (e["uuid"], handover_id, e["kind"], e["text"], e["agent"],
                                                           e["at"], self.stamp))


def _new_plan(path: Path | str, doc: dict, sha: str) -> ImportPlan:
    shift = doc.get("shift") or {}
    return ImportPlan(str(path), sha, doc["agent"], shift.get("uuid"), doc["generated_at"], doc["phones_included"],
                      doc=doc)


def preview_import(store: Store, path: Path | str, now: datetime | None = None) -> ImportPlan:
    """Read and check the file and work out what importing it would do. Writes nothing."""
    doc, sha = read_file(path)
    plan = _new_plan(path, doc, sha)
    _Merge(store, doc, plan, (now or store.clock.now()).astimezone(timezone.utc), write=False).run()
    _dedupe_warnings(plan)
    return plan


def apply_import(store: Store, plan: ImportPlan, now: datetime | None = None) -> ImportPlan:
    """Import a previewed file: the merge is worked out again inside one write transaction (the
    store may have changed since the preview) and written all or nothing. Returns what was done."""
    now = (now or store.clock.now()).astimezone(timezone.utc)
    done = _new_plan(plan.path, plan.doc, plan.sha256)
    with store.write():
        probe = _new_plan(plan.path, plan.doc, plan.sha256)
        _Merge(store, plan.doc, probe, now, write=False).run()
        if not probe.has_changes:
            _dedupe_warnings(probe)
            log.info("handover import: nothing to change")
            return probe
        merge = _Merge(store, plan.doc, done, now, write=True)
        try:
            merge.run()
        except sqlite3.IntegrityError as exc:  # rolled back by store.write()
            log.warning("handover import refused by a constraint: %s", type(exc).__name__)
            raise _bad("文件中的买家与本机的数据冲突（例如同一买家在两处改了不同的名字）",
                       "the buyers in the file conflict with this computer's data (e.g. one buyer renamed "
                       "differently in both places)") from None
        counts = done.counts()
        cur = store.conn.execute(
            "INSERT INTO handovers (direction, at, shift_id, file_name, sha256, source_agent, source_shift_uuid, "
            "exported_at, counts) VALUES ('in', ?, ?, ?, ?, ?, ?, ?, ?)",
            (to_db(now), (shifts.current_shift(store).id if shifts.current_shift(store) else None),  # type: ignore[union-attr]
             Path(plan.path).name, plan.sha256, plan.source_agent, plan.source_shift, plan.exported_at,
             json.dumps(counts)))
        merge.write_log(int(cur.lastrowid))
    done.applied = True
    _dedupe_warnings(done)
    log.info("handover imported: %s", json.dumps(done.counts()))
    return done


def import_handover(store: Store, path: Path | str, *, dry_run: bool = False, now: datetime | None = None) -> ImportPlan:
    plan = preview_import(store, path, now)
    return plan if dry_run else apply_import(store, plan, now)


def _dedupe_warnings(plan: ImportPlan) -> None:
    seen: list[tuple[str, str]] = []
    for w in plan.warnings:
        if w not in seen:
            seen.append(w)
    plan.warnings = seen


def new_uuid() -> str:
    return str(uuidlib.uuid4())
