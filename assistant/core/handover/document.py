"""The handover document: every open buyer with marks, notes, chases and reminders; the report's sections; JSON."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from ... import __version__
from ...errors import KnownError
from .. import aftersales, customers, kpi, orders, reminders, shifts, zones
from ..cadence import ANGLE_NAMES
from ..clock import from_db, to_db
from ..fileio.progress import Progress, Steps
from ..store import Store
from ..zones import zone_from_name, zone_name
from .common import FORMAT, VERSION, mask_text

_OPEN_BUYERS = (
    "SELECT b.id FROM buyers b WHERE (b.starred = 1 AND b.state IN ('following', 'paused')) "
    "OR EXISTS (SELECT 1 FROM buyer_mark_links l JOIN buyer_marks m ON m.id = l.mark_id "
    "           WHERE l.buyer_id = b.id AND m.code = 'after_sales') "
    "OR EXISTS (SELECT 1 FROM reminders r WHERE r.buyer_id = b.id AND r.state = 'pending') "
    "OR EXISTS (SELECT 1 FROM aftersales_cases c WHERE c.buyer_id = b.id "
    "           AND c.status IN ('new', 'calming', 'proposed', 'warehouse', 'manager'))"
)


def build(store: Store, *, now: datetime | None = None, shift: shifts.Shift | None = None,
          include_phones: bool = False, progress: Progress | None = None, _steps: Steps | None = None
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
        since, until = zones.day_window(now.astimezone(tz).date(), tz)[0], now
        shift_doc = None
        agent = shifts.agent_name(store)
    ids = [r["id"] for r in store.query(_OPEN_BUYERS + " ORDER BY b.id")]
    # the buyers of the orders the file carries (an order paid this shift: its buyer is no longer open)
    ids = sorted(set(ids) | set(orders.handover_buyer_ids(store, since)))
    steps = _steps or Steps(len(ids) + 2, progress)
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
        "timezone": zone_name(tz),
        "phones_included": bool(include_phones),
        "window": {"since": to_db(since), "until": to_db(until)},
        "shift": shift_doc,
        "kpis": k.to_dict(),
        "promotions": [{"name": text(p["name"]), "start_at": p["start_at"], "phone_due_at": p["phone_due_at"],
                        "calls": _call_docs(store, p["id"], {b["uuid"] for b in buyers})} for p in promos],
        "buyers": buyers,
        "log": [{"uuid": e.uuid, "kind": e.kind, "text": text(e.text), "agent": text(e.agent or ""), "at": to_db(e.at)}
                for e in entries],
        # After-sales: every open case travels with its step, history and follow-ups (core/aftersales.py).
        "cases": _case_docs(store, text, include_phones),
        # Unpaid orders (core/orders.py): the open ones, and those paid or closed during the shift.
        "orders": orders.handover_docs(store, since, {b["uuid"] for b in buyers}, full_numbers=include_phones),
        "aftersales_kpis": aftersales.kpis(store, since, until, compare=False).to_dict(),
    }
    doc["counts"] = _counts(doc)
    steps.add()
    return doc


def _call_docs(store: Store, promotion_id: int, buyer_uuids: set[str]) -> list[dict]:
    """How the promotion's phone list was worked (core/reminders.record_call), for the buyers in the file:
    the next shift goes on from there (a 未接 to call again, a 改约 at its time)."""
    return [{"uuid": r["uuid"], "buyer": r["buyer"], "outcome": r["outcome"], "at": r["at"], "retry_at": r["retry_at"]}
            for r in store.query("SELECT c.uuid, b.uuid AS buyer, c.outcome, c.at, c.retry_at FROM promotion_calls c "
                                 "JOIN buyers b ON b.id = c.buyer_id WHERE c.promotion_id = ? ORDER BY c.at, c.id",
                                 (promotion_id,))
            if r["buyer"] in buyer_uuids]


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
        "cases_open": len(doc.get("cases", [])),
        "orders_unpaid": sum(1 for o in doc.get("orders", []) if o["status"] == "unpaid"),
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
        from ..store import translate_sqlite_error

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
                steps: Steps) -> list[dict]:
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
                f"ON p.id = r.promotion_id WHERE r.state = 'pending' AND r.kind NOT IN ('aftersales', 'order') "
                f"AND r.buyer_id IN {sel} "
                "ORDER BY r.due_at, r.id",
                ref):
            pending.setdefault(bid, []).append({
                "kind": kind, "cadence_id": cadence_id, "step": step, "due_at": due, "planned_at": planned,
                "moved_for": [m for m in moved.split(",") if m] if moved else [], "created_at": created,
                "promotion": {"name": text(pname), "start_at": pstart} if promo_id else None})
            if promo_id:
                promo_ids.setdefault(bid, []).append(promo_id)
        for (bid, uuid, platform, shop, nickname, notes, phone, tz, language, open_q, state, starred, starred_by,
             starred_at, cadence_id, cadence_started, visit_started, created, updated, dnc) in _rows(
                store, "SELECT id, uuid, platform, shop, nickname, notes, phone, tz, language, open_questions, state, "
                "starred, starred_by, starred_at, cadence_id, cadence_started_at, visit_started_at, created_at, "
                f"updated_at, do_not_call FROM buyers WHERE id IN {sel} ORDER BY id", ref):
            out.append({
                "uuid": uuid, "platform": platform, "shop": text(shop or ""), "nickname": text(nickname),
                "notes": text(notes) if notes else "",
                "phone": phone if include_phones else None, "phone_masked": mask_phone(phone) if phone else None,
                "tz": tz, "language": language, "open_questions": bool(open_q), "state": state,
                "starred": bool(starred), "starred_by": text(starred_by) if starred_by else starred_by,
                "starred_at": starred_at,
                "cadence_id": cadence_id, "cadence_started_at": cadence_started, "visit_started_at": visit_started,
                "created_at": created, "updated_at": updated, "do_not_call": bool(dnc),
                "marks": marks.get(bid, []), "chases": chases.get(bid, []), "reminders": pending.get(bid, []),
                "_promotion_ids": promo_ids.get(bid, []),
            })
        steps.add(len(chunk))
    return out


def _case_docs(store: Store, text: Callable[[str], str], include_phones: bool) -> list[dict]:
    """The open after-sales cases: fields, history and pending follow-ups. The order number is masked
    (core/aftersales.mask_order) unless include_phones; buyer text goes through `text` like notes."""
    out = []
    rows = store.query(
        "SELECT c.*, b.uuid AS buyer_uuid, k.code AS cat_code, k.name AS cat_name, k.shop AS cat_shop "
        "FROM aftersales_cases c JOIN buyers b ON b.id = c.buyer_id JOIN aftersales_categories k ON k.id = c.category_id "
        "WHERE c.status IN ('new', 'calming', 'proposed', 'warehouse', 'manager') ORDER BY c.opened_at, c.id")
    for r in rows:
        events = [{"uuid": e["uuid"], "at": e["at"], "kind": e["kind"], "by_name": text(e["by_name"]),
                   "by_role": e["by_role"], "status_from": e["status_from"], "status_to": e["status_to"],
                   "step": e["step"], "offer": e["offer"], "amount": e["amount"], "detail": text(e["detail"])}
                  for e in store.query("SELECT * FROM aftersales_events WHERE case_id = ? ORDER BY at, id", (r["id"],))]
        follow = [{"cadence_id": f["cadence_id"], "step": f["step"], "due_at": f["due_at"], "planned_at": f["planned_at"]}
                  for f in store.query("SELECT cadence_id, step, due_at, planned_at FROM reminders WHERE case_id = ? "
                                       "AND state = 'pending' AND kind = 'aftersales' ORDER BY due_at, id", (r["id"],))]
        out.append({
            "uuid": r["uuid"], "buyer_uuid": r["buyer_uuid"],
            "order_no": r["order_no"] if include_phones else aftersales.mask_order(r["order_no"]),
            "product": text(r["product"]), "problem": text(r["problem"]),
            "category": {"code": r["cat_code"], "name": r["cat_name"], "shop": text(r["cat_shop"])},
            "severity": r["severity"], "wanted": r["wanted"], "mood": r["mood"], "feelings": text(r["feelings"]),
            "status": r["status"], "step": r["step"], "outcome": r["outcome"], "outcome_amount": r["outcome_amount"],
            "warehouse_findings": text(r["warehouse_findings"]), "manager_decision": text(r["manager_decision"]),
            "decided_by": text(r["decided_by"]) if r["decided_by"] else None, "opened_by": text(r["opened_by"]),
            "opened_at": r["opened_at"], "updated_at": r["updated_at"], "closed_at": r["closed_at"],
            "events": events, "followups": follow,
        })
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
    cases: list[dict] = field(default_factory=list)  # open after-sales cases, with their buyer


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
    by_uuid = {b["uuid"]: b for b in doc["buyers"]}
    cases = [{"case": c, "buyer": by_uuid.get(c["buyer_uuid"]),
              "last": c["events"][-1] if c["events"] else None,
              "next": c["followups"][0] if c["followups"] else None} for c in doc.get("cases", [])]
    return Sections(tz, starred, pending, after, list(doc["log"]), cases)


# ---------------------------------------------------------------- JSON

def render_json(doc: dict) -> bytes:
    """Compact UTF-8 JSON (json's C encoder only runs without indent: 10k buyers in ~0.2 s)."""
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
