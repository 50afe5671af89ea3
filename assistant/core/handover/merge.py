"""Importing a handover file: the plan (what would be added / updated) and the merge, all or nothing."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import customers, masking, orders, reminders, shifts
from ..aftersales import mask_order as _masked_order
from ..clock import to_db
from ..store import Store
from .checking import read_file
from .common import NOTE_MARKER, _bad, mask_text, restore_masked
from .document import _fmt, _rows

log = logging.getLogger(__name__)


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
    calls_added: int = 0  # calls of a promotion's phone list the file brought
    orders_added: int = 0  # unpaid orders new here (their 催付 reminders are planned here)
    orders_updated: int = 0  # orders the file has as paid or closed, or with the full number
    log_added: int = 0
    cases_added: int = 0  # open after-sales cases new here
    cases_updated: int = 0
    case_events_added: int = 0
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
                    or self.log_added or self.cases_added or self.cases_updated or self.case_events_added
                    or self.calls_added or self.orders_added or self.orders_updated)

    def counts(self) -> dict[str, int]:
        return {"buyers_added": self.buyers_added, "buyers_updated": self.buyers_updated,
                "buyers_unchanged": self.buyers_unchanged, "notes_merged": self.notes_merged,
                "chases_added": self.chases_added, "reminders_added": self.reminders_added,
                "reminders_cancelled": self.reminders_cancelled, "marks_created": len(self.marks_created),
                "promotions_added": len(self.promotions_added), "log_added": self.log_added,
                "cases_added": self.cases_added, "cases_updated": self.cases_updated,
                "case_events_added": self.case_events_added, "calls_added": self.calls_added,
                "orders_added": self.orders_added, "orders_updated": self.orders_updated}

    def summary(self, lang: str = "zh") -> str:
        c = self.counts()
        if lang == "en":
            head = "Imported" if self.applied else "Would import"
            if not self.has_changes:
                return "Nothing to import: everything in this file is already here."
            cases = (f" After-sales: {c['cases_added']} new cases, {c['cases_updated']} updated."
                     if c["cases_added"] or c["cases_updated"] else "")
            return (f"{head}: {c['buyers_added']} new buyers, {c['buyers_updated']} updated "
                    f"({c['notes_merged']} notes merged), {c['buyers_unchanged']} unchanged; {c['chases_added']} chases, "
                    f"{c['reminders_added']} reminders added, {c['reminders_cancelled']} replaced; "
                    f"{c['marks_created']} marks, {c['promotions_added']} promotions, {c['log_added']} log entries."
                    + cases + (f" Unpaid orders: {c['orders_added']} new, {c['orders_updated']} updated."
                               if c["orders_added"] or c["orders_updated"] else ""))
        head = "已导入" if self.applied else "将导入"
        if not self.has_changes:
            return "没有需要导入的内容：文件中的信息本机都已经有了。"
        return (f"{head}：新增买家 {c['buyers_added']} 位，更新 {c['buyers_updated']} 位（合并备注 {c['notes_merged']} 条），"
                f"无变化 {c['buyers_unchanged']} 位；催单记录 {c['chases_added']} 条，提醒新增 {c['reminders_added']} 条、"
                f"替换 {c['reminders_cancelled']} 条；新标记 {c['marks_created']} 个，活动 {c['promotions_added']} 个，"
                f"交接日志 {c['log_added']} 条。" + (f"售后单：新增 {c['cases_added']} 单，更新 {c['cases_updated']} 单。"
                                                   if c["cases_added"] or c["cases_updated"] else "")
                + (f"未付款订单：新增 {c['orders_added']} 单，更新 {c['orders_updated']} 单。"
                   if c["orders_added"] or c["orders_updated"] else ""))

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
            "starred_at", "cadence_id", "cadence_started_at", "visit_started_at", "do_not_call")


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
            promo_id = int(self.x("INSERT INTO promotions (uuid, name, start_at, created_at) VALUES (?,?,?,?)",
                                  (str(uuidlib.uuid4()), *key, self.stamp)).lastrowid)
            phone_due = next((p["phone_due_at"] for p in self.doc["promotions"]
                              if (p["name"], p["start_at"]) == key), None)
            if phone_due:
                self.x("INSERT INTO reminders (uuid, promotion_id, kind, cadence_id, step, due_at, planned_at, state, "
                       "created_at) VALUES (?, ?, 'phone', ?, 0, ?, ?, 'pending', ?)",
                       (str(uuidlib.uuid4()), promo_id, reminders.PROMO_CADENCE, phone_due, phone_due, self.stamp))
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
                new_id = int(self.x("INSERT INTO buyer_marks (uuid, name, shop, position, created_at) "
                                    "VALUES (?,?,?,?,?)",
                                    (str(uuidlib.uuid4()), mark["name"], shop, position, self.stamp)).lastrowid)
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
        for k in self.doc.get("cases", []):
            self.case(k)
        self.calls()
        self.orders()
        self.log_entries()

    def orders(self) -> None:
        """Unpaid orders (core/orders.py), each once by its uuid: a new unpaid one is chased here from
        now on; one the file has as paid or closed ends its reminders here."""
        for o in self.doc.get("orders", []):
            if self.write:
                buyer_id = self.case_buyer_id(o["buyer"])
                change = orders.apply_handover(self.store, o, buyer_id, self.now) if buyer_id is not None else "unchanged"
            else:
                change = orders.handover_change(self.store, o)
            self.plan.orders_added += change == "added"
            self.plan.orders_updated += change == "updated"

    def calls(self) -> None:
        """The promotion phone list as the last shift worked it: each call once (by its uuid), so the next
        shift calls a 未接 again and a 改约 at its time, and leaves the done alone."""
        for p in self.doc.get("promotions", []):
            if not p.get("calls"):
                continue
            promo_id = self.promotion((p["name"], p["start_at"]))
            have = {r["uuid"] for r in self.store.query("SELECT uuid FROM promotion_calls WHERE uuid IN "
                                                        "(SELECT value FROM json_each(?))",
                                                        (json.dumps([c["uuid"] for c in p["calls"]]),))}
            for call in p["calls"]:
                if call["uuid"] in have:
                    continue
                self.plan.calls_added += 1
                buyer_id = self.case_buyer_id(call["buyer"]) if self.write else None
                if self.write and promo_id is not None and buyer_id is not None:
                    self.x("INSERT INTO promotion_calls (uuid, promotion_id, buyer_id, outcome, at, retry_at, agent) "
                           "VALUES (?,?,?,?,?,?,?)", (call["uuid"], promo_id, buyer_id, call["outcome"], call["at"],
                                                      call["retry_at"], self.doc["agent"] or ""))

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
                f"WHERE r.state = 'pending' AND r.kind NOT IN ('aftersales', 'order') AND r.buyer_id IN {sel}", ref):
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
                if key in ("open_questions", "starred", "do_not_call"):
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
                "updated_at, do_not_call) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (b["uuid"], b["platform"], b["shop"], b["nickname"], b["notes"][:customers.MAX_NOTES], b["phone"],
                 b["tz"], b["language"], 1 if b["open_questions"] else 0, b["state"], 1 if b["starred"] else 0,
                 b["starred_by"], b["starred_at"], b["cadence_id"], b["cadence_started_at"], b["visit_started_at"],
                 b["created_at"], b["updated_at"], 1 if b.get("do_not_call") else 0))
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
            # Matched on time + angle: handover files carry no chase uuid yet (team sync will match on
            # the uuid once the file format carries it).
            key = (ch["sent_at"], ch["angle"] or "")
            have = local.get(key)
            if have is None:
                item.chases_added += 1
                changed = True
                local[key] = {"id": None, "buyer_replied": int(ch["buyer_replied"])}
                if self.write:
                    self.x("INSERT INTO chases (uuid, buyer_id, reply_id, reply_title, angle, reminder_id, sent_at, "
                           "buyer_replied, replied_at, warnings) VALUES (?,?,?,?,?,NULL,?,?,?,?)",
                           (str(uuidlib.uuid4()), buyer_id, self.reply_id(ch), ch["reply_title"], ch["angle"], ch["sent_at"],
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
                self.x("INSERT INTO reminders (uuid, buyer_id, promotion_id, kind, cadence_id, step, due_at, "
                       "planned_at, moved_for, state, created_at) VALUES (?,?,?,?,?,?,?,?,?, 'pending', ?)",
                       (str(uuidlib.uuid4()), buyer_id, promo_id, r["kind"], r["cadence_id"], r["step"], r["due_at"],
                        r["planned_at"] or r["due_at"], ",".join(r["moved_for"]), r["created_at"] or self.stamp))
        return changed

    # -- after-sales cases (open ones travel with their step, history and follow-ups)

    def case_buyer_id(self, buyer_uuid: str) -> int | None:
        b = next(x for x in self.doc["buyers"] if x["uuid"] == buyer_uuid)  # checked: it is in the file
        rows = self.store.query("SELECT id FROM buyers WHERE uuid = ? UNION ALL SELECT id FROM buyers WHERE "
                                "platform = ? AND shop = ? AND nickname = ?",
                                (buyer_uuid, b["platform"], b["shop"], b["nickname"]))
        return rows[0]["id"] if rows else None

    def category_id(self, cat: dict) -> int | None:
        if cat["code"]:
            rows = self.store.query("SELECT id FROM aftersales_categories WHERE code = ?", (cat["code"],))
            if rows:
                return rows[0]["id"]
        rows = self.store.query("SELECT id FROM aftersales_categories WHERE name = ? ORDER BY shop != ?, id",
                                (cat["name"], cat["shop"]))
        if rows or not self.write:
            return rows[0]["id"] if rows else None
        position = self.store.query("SELECT IFNULL(max(position), 0) + 1 AS p FROM aftersales_categories")[0]["p"]
        return int(self.x("INSERT INTO aftersales_categories (uuid, code, name, shop, position, created_at) "
                          "VALUES (?, NULL, ?, ?, ?, ?)", (str(uuidlib.uuid4()), cat["name"], cat["shop"], position,
                                                           self.stamp)).lastrowid)

    def case(self, k: dict) -> None:
        local = self.store.query("SELECT id, updated_at, order_no FROM aftersales_cases WHERE uuid = ?", (k["uuid"],))
        fields = ("product", "problem", "severity", "wanted", "mood", "feelings", "status", "step", "outcome",
                  "outcome_amount", "warehouse_findings", "manager_decision", "decided_by", "opened_by", "opened_at",
                  "updated_at", "closed_at")
        if not local:
            self.plan.cases_added += 1
            self.plan.case_events_added += len(k["events"])
            if not self.write:
                return
            buyer_id = self.case_buyer_id(k["buyer_uuid"])
            case_id = int(self.x(
                f"INSERT INTO aftersales_cases (uuid, buyer_id, order_no, category_id, {', '.join(fields)}) "
                f"VALUES (?,?,?,?,{','.join('?' * len(fields))})",
                (k["uuid"], buyer_id, k["order_no"], self.category_id(k["category"]), *(k[f] for f in fields))).lastrowid)
            self.case_events(case_id, k["events"], set())
            self.case_followups(case_id, buyer_id, k["followups"])
            reminders.pause_for_after_sales(self.store, buyer_id, self.now)  # type: ignore[arg-type]
            return
        case_id = local[0]["id"]
        have = {r["uuid"] for r in self.store.query("SELECT uuid FROM aftersales_events WHERE case_id = ?", (case_id,))}
        missing = [e for e in k["events"] if e["uuid"] not in have]
        self.plan.case_events_added += len(missing)
        newer = k["updated_at"] > local[0]["updated_at"]
        if newer:
            self.plan.cases_updated += 1
        if not self.write:
            return
        self.case_events(case_id, missing, have)
        if newer:
            order = local[0]["order_no"] if masking.masks(local[0]["order_no"], k["order_no"]) or \
                k["order_no"] == _masked_order(local[0]["order_no"]) else k["order_no"]
            self.x(f"UPDATE aftersales_cases SET order_no = ?, category_id = IFNULL(?, category_id), "
                   f"{', '.join(f'{f} = ?' for f in fields)} WHERE id = ?",
                   (order, self.category_id(k["category"]), *(k[f] for f in fields), case_id))
            self.x("UPDATE reminders SET state = 'cancelled', outcome = 'handover' WHERE case_id = ? "
                   "AND state = 'pending'", (case_id,))
            buyer_id = self.store.query("SELECT buyer_id FROM aftersales_cases WHERE id = ?", (case_id,))[0]["buyer_id"]
            self.case_followups(case_id, buyer_id, k["followups"])

    def case_events(self, case_id: int, events: list[dict], have: set[str]) -> None:
        for e in events:
            if e["uuid"] in have:
                continue
            self.x("INSERT INTO aftersales_events (uuid, case_id, at, kind, by_name, by_role, status_from, status_to, "
                   "step, offer, amount, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   (e["uuid"], case_id, e["at"], e["kind"], e["by_name"], e["by_role"], e["status_from"],
                    e["status_to"], e["step"], e["offer"], e["amount"], e["detail"]))

    def case_followups(self, case_id: int, buyer_id: int | None, follow: list[dict]) -> None:
        for f in follow:  # never shown on this computer: they fire in this panel
            self.x("INSERT INTO reminders (uuid, buyer_id, kind, cadence_id, step, due_at, planned_at, state, "
                   "created_at, case_id) VALUES (?,?, 'aftersales', ?,?,?,?, 'pending', ?, ?)",
                   (str(uuidlib.uuid4()), buyer_id, f["cadence_id"], f["step"], f["due_at"], f["planned_at"] or f["due_at"],
                    self.stamp, case_id))

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
            "INSERT INTO handovers (uuid, direction, at, shift_id, file_name, sha256, source_agent, source_shift_uuid, "
            "exported_at, counts) VALUES (?, 'in', ?, ?, ?, ?, ?, ?, ?, ?)",
            (str(uuidlib.uuid4()), to_db(now), (shifts.current_shift(store).id if shifts.current_shift(store) else None),  # type: ignore[union-attr]
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
