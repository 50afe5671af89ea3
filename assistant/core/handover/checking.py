"""Reading a handover file and checking every field before anything is written."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ...errors import ImportFileError, KnownError
from .. import checked, customers, digest, reminders, shifts, zones
from ..cadence import ANGLES
from ..clock import to_db
from ..fileio import reading
from .common import (
    FORMAT,
    MAX_BUYERS,
    MAX_CALLS,
    MAX_CHASES_PER_BUYER,
    MAX_FILE_BYTES,
    MAX_LOG_ENTRIES,
    MAX_PROMOTIONS,
    MAX_REMINDERS_PER_BUYER,
    VERSION,
    _bad,
)


def read_file(path: Path | str) -> tuple[dict, str]:
    """(document, sha256) of a handover file, fully checked. Raises ImportFileError."""
    p = Path(path)
    if reading.check_file(p, MAX_FILE_BYTES, _bad) == 0:
        raise _bad("文件是空的", "the file is empty")
    raw = reading.read_bytes(p, MAX_FILE_BYTES, _bad)
    return parse(raw), digest.sha256(raw).hexdigest()


def parse(raw: bytes) -> dict:
    if raw.startswith(b"PK\x03\x04"):
        raise _bad("这是 Excel 表格，请导入交接班导出的 .json 文件", "this is a spreadsheet; import the handover .json file")
    text = reading.utf8_text(raw, _bad)
    if not text.lstrip().startswith("{"):
        raise _bad("文件不是本软件导出的交接文件（不是 JSON 对象）", "not a kefu handover file (not a JSON object)")
    doc = reading.parse_json(text, _bad)
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
                "phone_due_at": c.time(p.get("phone_due_at"), ".phone_due_at", optional=True),
                "calls": []}
        for j, call in enumerate(c.lst(p.get("calls", []), f"{path}.calls", MAX_CALLS)):
            c.at = f"{path}.calls[{j}]"
            c.obj(call, c.at)
            item["calls"].append({"uuid": c.text(call.get("uuid"), ".uuid", 64, required=True),
                                  "buyer": c.text(call.get("buyer"), ".buyer", 64, required=True),
                                  "outcome": c.known(call.get("outcome"), ".outcome", tuple(reminders.CALL_OUTCOMES)),
                                  "at": c.time(call.get("at"), ".at"),
                                  "retry_at": c.time(call.get("retry_at"), ".retry_at", optional=True)})
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
        item["tz"] = c.validated(zones.check_tz, c.text(b.get("tz"), ".tz", 64, optional=True), ".tz")
        item["language"] = c.validated(customers.check_language, c.text(b.get("language"), ".language", 16,
                                                                         optional=True), ".language")
        item["open_questions"] = c.boolean(b.get("open_questions", False), ".open_questions")
        item["do_not_call"] = c.boolean(b.get("do_not_call", False), ".do_not_call")
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
    for p in out["promotions"]:  # a call of a buyer the file does not carry cannot be placed
        for call in p["calls"]:
            if call["buyer"] not in seen_uuid:
                c.at = "promotions"
                raise c.fail(".calls", "电话记录引用的买家不在文件中", "a call refers to a buyer missing from the file")
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
    out["cases"] = _check_cases(c, doc.get("cases", []), seen_uuid)
    out["orders"] = _check_orders(c, doc.get("orders", []), seen_uuid)
    return out


MAX_ORDERS = 20_000


def _check_orders(c: _Checker, raw: Any, buyer_uuids: set[str]) -> list[dict]:
    """Unpaid orders (files from before them have none): open ones and those done in the shift, each
    of a buyer of the file. The number may be masked (a file without phones)."""
    from .. import orders

    out: list[dict] = []
    seen: set[str] = set()
    for i, o in enumerate(c.lst(raw, "orders", MAX_ORDERS)):
        path = c.at = f"orders[{i}]"
        c.obj(o, path)
        item: dict[str, Any] = {"uuid": c.text(o.get("uuid"), ".uuid", 64, required=True),
                                "buyer": c.text(o.get("buyer"), ".buyer", 64, required=True)}
        if item["buyer"] not in buyer_uuids:
            raise c.fail(".buyer", "引用的买家不在文件的 buyers 列表中", "refers to a buyer missing from the file")
        if item["uuid"] in seen:
            raise c.fail(".uuid", "与前面的订单重复", "duplicates an earlier order")
        seen.add(item["uuid"])
        item["platform"] = c.known(o.get("platform"), ".platform", customers.PLATFORMS)
        item["order_no"] = c.text(o.get("order_no"), ".order_no", orders.MAX_ORDER_NO, required=True)
        amount = o.get("amount")
        item["amount"] = None if amount is None else c.integer(amount, ".amount", 0, orders.MAX_AMOUNT_FEN)
        item["ordered_at"] = c.time(o.get("ordered_at"), ".ordered_at")
        item["deadline_at"] = c.time(o.get("deadline_at"), ".deadline_at")
        if item["deadline_at"] <= item["ordered_at"]:
            raise c.fail(".deadline_at", "关闭时间应在下单时间之后", "must be after ordered_at")
        item["deadline_given"] = c.boolean(o.get("deadline_given", False), ".deadline_given")
        item["status"] = c.known(o.get("status"), ".status", orders.STATUSES)
        item["status_at"] = c.time(o.get("status_at"), ".status_at", optional=item["status"] == "unpaid")
        if item["status"] == "unpaid":
            item["status_at"] = None
        item["item"] = c.text(o.get("item", ""), ".item", orders.MAX_ITEM) or ""
        item["created_at"] = c.time(o.get("created_at"), ".created_at")
        item["updated_at"] = c.time(o.get("updated_at"), ".updated_at")
        out.append(item)
    return out


MAX_CASES = 10_000
MAX_CASE_EVENTS = 1000
_OPEN = ("new", "calming", "proposed", "warehouse", "manager")


def _check_cases(c: _Checker, raw: Any, buyer_uuids: set[str]) -> list[dict]:
    """The open after-sales cases (files from before them have none). Each belongs to a buyer of the file."""
    from .. import aftersales as af

    cases = []
    seen: set[str] = set()
    for i, k in enumerate(c.lst(raw, "cases", MAX_CASES)):
        path = c.at = f"cases[{i}]"
        c.obj(k, path)
        item: dict[str, Any] = {"uuid": c.text(k.get("uuid"), ".uuid", 64, required=True),
                                "buyer_uuid": c.text(k.get("buyer_uuid"), ".buyer_uuid", 64, required=True)}
        if item["buyer_uuid"] not in buyer_uuids:
            raise c.fail(".buyer_uuid", "引用的买家不在文件的 buyers 列表中", "refers to a buyer missing from the file")
        if item["uuid"] in seen:
            raise c.fail(".uuid", "与前面的售后单重复", "duplicates an earlier case")
        seen.add(item["uuid"])
        item["order_no"] = c.text(k.get("order_no", ""), ".order_no", af.MAX_ORDER) or ""
        item["product"] = c.text(k.get("product", ""), ".product", af.MAX_PRODUCT) or ""
        item["problem"] = c.text(k.get("problem"), ".problem", af.MAX_PROBLEM, required=True)
        cat = c.obj(k.get("category"), ".category")
        item["category"] = {"code": c.text(cat.get("code"), ".category.code", 40, optional=True),
                            "name": c.text(cat.get("name"), ".category.name", af.MAX_CATEGORY, required=True),
                            "shop": c.text(cat.get("shop", ""), ".category.shop", 200) or ""}
        item["severity"] = c.known(k.get("severity"), ".severity", af.SEVERITIES)
        item["wanted"] = c.known(k.get("wanted"), ".wanted", af.WANTED)
        item["mood"] = c.known(k.get("mood"), ".mood", af.MOODS)
        item["feelings"] = c.text(k.get("feelings", ""), ".feelings", af.MAX_TEXT) or ""
        item["status"] = c.known(k.get("status"), ".status", _OPEN)
        item["step"] = c.integer(k.get("step"), ".step", 1, af.STEP_COUNT)
        item["outcome"] = c.known(k.get("outcome"), ".outcome", af.OUTCOMES, optional=True)
        amount = k.get("outcome_amount")
        item["outcome_amount"] = None if amount is None else c.integer(amount, ".outcome_amount", 0, af.MAX_AMOUNT_FEN)
        item["warehouse_findings"] = c.text(k.get("warehouse_findings", ""), ".warehouse_findings", af.MAX_TEXT * 2) or ""
        item["manager_decision"] = c.text(k.get("manager_decision", ""), ".manager_decision", af.MAX_TEXT * 2) or ""
        item["decided_by"] = c.text(k.get("decided_by"), ".decided_by", 64, optional=True)
        item["opened_by"] = c.text(k.get("opened_by", ""), ".opened_by", 64) or ""
        item["opened_at"] = c.time(k.get("opened_at"), ".opened_at")
        item["updated_at"] = c.time(k.get("updated_at"), ".updated_at")
        item["closed_at"] = None  # only open cases travel
        events = []
        for j, e in enumerate(c.lst(k.get("events", []), ".events", MAX_CASE_EVENTS)):
            c.at = f"{path}.events[{j}]"
            c.obj(e, "")
            amount = e.get("amount")
            events.append({
                "uuid": c.text(e.get("uuid"), ".uuid", 64, required=True), "at": c.time(e.get("at"), ".at"),
                "kind": c.text(e.get("kind"), ".kind", 40, required=True),
                "by_name": c.text(e.get("by_name", ""), ".by_name", 64) or "",
                "by_role": c.known(e.get("by_role", "agent"), ".by_role", ("agent", "supervisor", "warehouse")),
                "status_from": c.known(e.get("status_from"), ".status_from", af.STATUSES, optional=True),
                "status_to": c.known(e.get("status_to"), ".status_to", af.STATUSES, optional=True),
                "step": None if e.get("step") is None else c.integer(e.get("step"), ".step", 1, af.STEP_COUNT),
                "offer": c.known(e.get("offer"), ".offer", af.OFFERS, optional=True),
                "amount": None if amount is None else c.integer(amount, ".amount", 0, af.MAX_AMOUNT_FEN),
                "detail": c.text(e.get("detail", ""), ".detail", af.MAX_TEXT * 2) or ""})
        item["events"] = events
        follow = []
        for j, f in enumerate(c.lst(k.get("followups", []), f"{path}.followups", 50)):
            c.at = f"{path}.followups[{j}]"
            c.obj(f, "")
            follow.append({"cadence_id": c.text(f.get("cadence_id"), ".cadence_id", 64, required=True),
                           "step": c.integer(f.get("step", 0), ".step", 0, 1000), "due_at": c.time(f.get("due_at"), ".due_at"),
                           "planned_at": c.time(f.get("planned_at"), ".planned_at", optional=True)})
        item["followups"] = follow
        cases.append(item)
    return cases
