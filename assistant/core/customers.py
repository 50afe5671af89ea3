"""Buyers (买家): identity, marks, notes, phone, time zone, state, and their chase history.

Starring and everything that touches reminders lives in core/reminders.py; this module is the plain
buyer record. Privacy: buyer names, phone numbers and notes are never logged; phone numbers leave this
module masked (138****5678) except through reveal_phone(), which the UI calls on an explicit request.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import uuid as uuidlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import NotFoundError, ValidationError
from . import checked, outbox, zones
from .clock import from_db, to_db
from .store import Store
from .teamstate import other_holder, team_role, team_shop_for  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

# Store code: (zh label, en label). Platform codes match the reply platform tags (taobao, jd, pdd).
PLATFORMS: dict[str, tuple[str, str]] = {
    "taobao": ("千牛", "Qianniu (Taobao/Tmall)"),
    "jd": ("京东", "JD"),
    "pdd": ("拼多多", "Pinduoduo"),
    "aliexpress": ("AliExpress", "AliExpress"),
    "amazon": ("Amazon", "Amazon"),
    "other": ("其他", "Other"),
}
_PLATFORM_ALIASES = {
    "千牛": "taobao", "淘宝": "taobao", "天猫": "taobao", "tmall": "taobao", "qianniu": "taobao", "tb": "taobao",
    "京东": "jd", "咚咚": "jd", "京麦": "jd", "jingdong": "jd",
    "拼多多": "pdd", "pinduoduo": "pdd",
    "速卖通": "aliexpress", "ae": "aliexpress", "ali": "aliexpress",
    "亚马逊": "amazon", "amz": "amazon",
    "其他": "other", "其它": "other",
}
STATES: dict[str, tuple[str, str]] = {
    "following": ("跟进中", "following"),
    "paid": ("已付款", "paid"),
    "lost": ("已流失", "lost"),
    "paused": ("已暂停", "paused"),
}
_STATE_ALIASES = {"跟进中": "following", "跟进": "following", "已付款": "paid", "付款": "paid",
                  "已流失": "lost", "流失": "lost", "已暂停": "paused", "暂停": "paused"}

MAX_NICKNAME = 64
MAX_SHOP = 40
MAX_NOTES = 5000
MAX_MARK = 12
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-.]{5,30}$")
_UNSET: Any = object()


# ---------------------------------------------------------------- normalising user input

def normalize_platform(text: str | None) -> str:
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    key = raw.lower()
    if key in PLATFORMS:
        return key
    if raw in _PLATFORM_ALIASES or key in _PLATFORM_ALIASES:
        return _PLATFORM_ALIASES.get(raw) or _PLATFORM_ALIASES[key]
    choices = "、".join(zh for zh, _ in PLATFORMS.values())
    raise ValidationError(f"平台“{raw}”无效，可选：{choices}",
                          f"Unknown platform '{raw}'; one of {', '.join(PLATFORMS)}", field="platform")


def normalize_state(text: str | None) -> str:
    raw = str(text or "").strip()
    if raw.lower() in STATES:
        return raw.lower()
    if raw in _STATE_ALIASES:
        return _STATE_ALIASES[raw]
    raise ValidationError(f"状态“{raw}”无效，可选：{'、'.join(zh for zh, _ in STATES.values())}",
                          f"Unknown state '{raw}'; one of {', '.join(STATES)}", field="state")


def clean_text(text: str | None, limit: int, zh: str, en: str, fieldname: str, required: bool) -> str:
    """A user-typed name or note: NFC, trimmed, control characters dropped, at most ``limit``
    characters; ValidationError (naming zh/en and fieldname) when empty but required or too long."""
    value = unicodedata.normalize("NFC", str(text or "")).strip()
    value = "".join(ch for ch in value if ch == " " or unicodedata.category(ch)[0] != "C")
    if required and not value:
        raise ValidationError(f"{zh}不能为空", f"The {en} cannot be empty", field=fieldname)
    if len(value) > limit:
        raise ValidationError(f"{zh}最多 {limit} 个字", f"The {en} has at most {limit} characters", field=fieldname)
    return value


def clean_nickname(text: str | None) -> str:
    return clean_text(text, MAX_NICKNAME, "买家昵称", "buyer nickname", "nickname", True)


def clean_shop(text: str | None) -> str:
    return clean_text(text, MAX_SHOP, "店铺名", "shop name", "shop", False)


def clean_phone(text: str | None) -> str | None:
    value = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if not _PHONE_CHARS.match(value) or not 5 <= len(digits) <= 20:
        # The number itself is never echoed: error messages may end up in logs.
        raise ValidationError("电话号码格式不对（只能包含数字、空格、+ - ( )）",
                              "Invalid phone number (digits, spaces, + - ( ) only)", field="phone")
    return ("+" if value.startswith("+") else "") + digits


def mask_phone(phone: str | None) -> str | None:
    """138****5678: the first three and last four digits stay; short numbers keep the last two."""
    if not phone:
        return None
    plus = "+" if phone.startswith("+") else ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 9:
        return f"{plus}{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
    return plus + "*" * max(len(digits) - 2, 3) + digits[-2:]


def check_language(code: str | None) -> str | None:
    value = str(code or "").strip()
    if not value:
        return None
    if not LANG_RE.match(value):
        raise ValidationError(f"语言代码“{value}”无效（例如 zh、en、ru、es）",
                              f"Invalid language code '{value}' (e.g. zh, en, ru, es)", field="language")
    return value


# ---------------------------------------------------------------- records

@dataclass
class Mark:
    id: int
    code: str | None  # built-in marks carry a code the cadence rules use (high_ticket, intent, ...)
    name: str
    shop: str  # '' = every shop
    position: int
    buyer_count: int = 0

    @property
    def builtin(self) -> bool:
        return self.code is not None


@dataclass
class Buyer:
    id: int
    uuid: str
    platform: str
    shop: str
    nickname: str
    notes: str
    phone_masked: str | None
    tz: str | None
    language: str | None
    open_questions: bool
    state: str
    starred: bool
    starred_by: str | None
    starred_at: str | None
    cadence_id: str | None
    cadence_started_at: str | None
    visit_started_at: str | None
    created_at: str
    updated_at: str
    marks: list[str] = field(default_factory=list)
    mark_codes: list[str] = field(default_factory=list)
    chase_count: int = 0
    last_chase_at: str | None = None
    team_shop: str | None = None  # team mode: the server shop it is shared in
    holder: str | None = None  # team mode: the login role following the buyer (the lease holder)
    holder_name: str | None = None
    held_until: str | None = None
    mood: str | None = None  # pleased | calm | unhappy | angry | confused (MOODS), as last marked
    mood_at: str | None = None

    @property
    def has_phone(self) -> bool:
        return self.phone_masked is not None

    @property
    def platform_name(self) -> str:
        return PLATFORMS.get(self.platform, (self.platform, self.platform))[0]

    @property
    def state_name(self) -> str:
        return STATES[self.state][0]

    def zone(self) -> ZoneInfo | None:
        return zones.zone_or_none(self.tz)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["platform_name"] = self.platform_name
        data["state_name"] = self.state_name
        return data


@dataclass
class Chase:
    id: int
    buyer_id: int
    reply_id: int | None
    reply_title: str | None
    angle: str | None
    reminder_id: int | None
    sent_at: str
    buyer_replied: bool
    replied_at: str | None
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_BUYER_COLS = ("b.id, b.uuid, b.platform, b.shop, b.nickname, b.notes, b.phone, b.tz, b.language, "
               "b.open_questions, b.state, b.starred, b.starred_by, b.starred_at, b.cadence_id, "
               "b.cadence_started_at, b.visit_started_at, b.created_at, b.updated_at, "
               "b.team_shop, b.holder, b.holder_name, b.held_until, b.mood, b.mood_at, "
               "(SELECT count(*) FROM chases c WHERE c.buyer_id = b.id) AS chase_count, "
               "(SELECT max(sent_at) FROM chases c WHERE c.buyer_id = b.id) AS last_chase_at")


def marks_of(store: Store, buyer_ids: Sequence[int]) -> dict[int, list[tuple[str, str | None]]]:
    """The marks of many buyers at once: {buyer id: [(mark name, code or None)]}."""
    out: dict[int, list[tuple[str, str | None]]] = {}
    ids = list(buyer_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = store.query(
            "SELECT l.buyer_id, m.name, m.code FROM buyer_mark_links l JOIN buyer_marks m ON m.id = l.mark_id "
            f"WHERE l.buyer_id IN ({','.join('?' * len(chunk))}) ORDER BY m.position, m.id", tuple(chunk))
        for r in rows:
            out.setdefault(r["buyer_id"], []).append((r["name"], r["code"]))
    return out


def _rows_to_buyers(store: Store, rows: list[dict]) -> list[Buyer]:
    marks = marks_of(store, [r["id"] for r in rows])
    buyers = []
    for r in rows:
        data = dict(r)
        data["phone_masked"] = mask_phone(data.pop("phone"))
        data["open_questions"] = bool(data["open_questions"])
        data["starred"] = bool(data["starred"])
        buyer = Buyer(**data)
        buyer.marks = [name for name, _ in marks.get(buyer.id, [])]
        buyer.mark_codes = [code for _, code in marks.get(buyer.id, []) if code]
        buyers.append(buyer)
    return buyers


# ---------------------------------------------------------------- buyers

def get_buyer(store: Store, buyer_id: int) -> Buyer:
    rows = store.query(f"SELECT {_BUYER_COLS} FROM buyers b WHERE b.id = ?", (int(buyer_id),))
    if not rows:
        raise NotFoundError(f"没有找到买家（编号 {buyer_id}）", f"No buyer with id {buyer_id}")
    return _rows_to_buyers(store, rows)[0]


def find_buyer(store: Store, nickname: str, platform: str | None = None, shop: str | None = None) -> Buyer:
    """A buyer by nickname, narrowed by platform/shop when several shops have one of that name.
    A number that is no buyer's nickname is taken as a buyer id."""
    nick = clean_nickname(nickname)
    where, params = ["b.nickname = ?"], [nick]
    if platform:
        where.append("b.platform = ?")
        params.append(normalize_platform(platform))
    if shop is not None:
        where.append("b.shop = ?")
        params.append(clean_shop(shop))
    rows = store.query(f"SELECT {_BUYER_COLS} FROM buyers b WHERE {' AND '.join(where)} ORDER BY b.id",
                       tuple(params))
    if not rows and nick.isdigit() and not platform and shop is None:
        return get_buyer(store, int(nick))
    if not rows:
        raise NotFoundError("没有找到这个买家（可用 --platform / --shop 指定平台和店铺）",
                            "No such buyer (narrow it with --platform / --shop)")
    if len(rows) > 1:
        places = ", ".join(f"{r['platform']}/{r['shop'] or '-'}" for r in rows[:5])
        raise ValidationError(f"有多个同名买家（{places}），请用 --platform / --shop 指定",
                              f"Several buyers have this nickname ({places}); give --platform / --shop",
                              field="nickname")
    return _rows_to_buyers(store, rows)[0]


def _buyer_id_by_identity(store: Store, platform: str, shop: str, nickname: str) -> int | None:
    rows = store.query("SELECT id FROM buyers WHERE platform = ? AND shop = ? AND nickname = ?",
                       (platform, shop, nickname))
    return rows[0]["id"] if rows else None


def get_or_create_buyer(store: Store, platform: str, nickname: str, shop: str = "") -> tuple[Buyer, bool]:
    """(buyer, created). platform accepts labels (千牛, 京东, ...) and codes (taobao, jd, ...)."""
    platform_code = normalize_platform(platform)
    nick = clean_nickname(nickname)
    shop_name = clean_shop(shop)
    with store.write() as db:
        existing = _buyer_id_by_identity(store, platform_code, shop_name, nick)
        if existing is None and not shop_name and team_role(store):
            # team mode with one shop served: a buyer named without a shop is that shop's (the
            # same rule as a pulled buyer's), not a second row beside the team's copy
            served = store.query("SELECT name FROM team_shops")
            if len(served) == 1:
                existing = _buyer_id_by_identity(store, platform_code, served[0]["name"], nick)
        if existing is not None:
            return get_buyer(store, existing), False
        now = to_db(store.clock.now())
        cur = db.execute(
            "INSERT INTO buyers (uuid, platform, shop, nickname, created_at, updated_at) VALUES (?,?,?,?,?,?)",
            (str(uuidlib.uuid4()), platform_code, shop_name, nick, now, now))
        buyer_id = int(cur.lastrowid)
        log_event(store, buyer_id, "created", now)
    log.info("buyer %s created", buyer_id)
    return get_buyer(store, buyer_id), True


def update_buyer(store: Store, buyer_id: int, *, notes: str | None = _UNSET, phone: str | None = _UNSET,
                 tz: str | None = _UNSET, language: str | None = _UNSET, open_questions: bool = _UNSET,
                 nickname: str = _UNSET, shop: str = _UNSET, platform: str = _UNSET) -> Buyer:
    """Change the given fields (leave the others out). phone=None or '' removes the number."""
    values: dict[str, Any] = {}
    if notes is not _UNSET:
        text = str(notes or "").replace("\r\n", "\n").replace("\x00", "")
        if len(text) > MAX_NOTES:
            raise ValidationError(f"备注最多 {MAX_NOTES} 字", f"Notes have at most {MAX_NOTES} characters", field="notes")
        values["notes"] = text
    if phone is not _UNSET:
        values["phone"] = clean_phone(phone)
    if tz is not _UNSET:
        values["tz"] = zones.check_tz(tz)
    if language is not _UNSET:
        values["language"] = check_language(language)
    if open_questions is not _UNSET:
        values["open_questions"] = 1 if open_questions else 0
    if nickname is not _UNSET:
        values["nickname"] = clean_nickname(nickname)
    if shop is not _UNSET:
        values["shop"] = clean_shop(shop)
    if platform is not _UNSET:
        values["platform"] = normalize_platform(platform)
    with store.write() as db:
        buyer = get_buyer(store, buyer_id)
        if not values:
            return buyer
        if {"nickname", "shop", "platform"} & set(values):
            identity = (values.get("platform", buyer.platform), values.get("shop", buyer.shop),
                        values.get("nickname", buyer.nickname))
            other = _buyer_id_by_identity(store, *identity)
            if other is not None and other != buyer.id:
                raise ValidationError("该平台和店铺下已有同名买家", "Another buyer of that platform and shop has this nickname",
                                      field="nickname")
        values["updated_at"] = to_db(store.clock.now())
        db.execute(f"UPDATE buyers SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                   (*values.values(), buyer.id))
        if buyer.team_shop is not None:  # team mode: what the team shares of this buyer
            if {"tz", "language"} & set(values):
                queue_fields(store, buyer.id)
            if "notes" in values and values["notes"] != buyer.notes:
                # notes are append-only on the server: each saved version is a row, none overwritten
                outbox.add(store, "buyer.note", buyer.uuid, {"id": str(uuidlib.uuid4()), "body": values["notes"]})
            if "phone" in values:
                outbox.add(store, "buyer.phone", buyer.uuid, {"phone": values["phone"]})
    return get_buyer(store, buyer_id)


def append_note(store: Store, buyer_id: int, text: str) -> Buyer:
    with store.write():
        buyer = get_buyer(store, buyer_id)
        addition = str(text or "").strip()
        if not addition:
            return buyer
        notes = f"{buyer.notes}\n{addition}" if buyer.notes else addition
        return update_buyer(store, buyer_id, notes=notes)


def reveal_phone(store: Store, buyer_id: int) -> str | None:
    """The full phone number, for an explicit request only (a 'show number' click, the promotion
    phone list). Never log or cache the result."""
    rows = store.query("SELECT phone FROM buyers WHERE id = ?", (int(buyer_id),))
    if not rows:
        raise NotFoundError(f"没有找到买家（编号 {buyer_id}）", f"No buyer with id {buyer_id}")
    return rows[0]["phone"]


def list_buyers(store: Store, *, starred: bool | None = True, state: str | None = None, platform: str | None = None,
                shop: str | None = None, mark: str | None = None, text: str | None = None,
                limit: int | None = None, offset: int = 0) -> list[Buyer]:
    """Buyers for the 客户 tab: filters by star, state, platform, shop, mark (name or code) and a
    text that matches nickname or notes. Newest activity first."""
    where, params = _filters(store, starred=starred, state=state, platform=platform, shop=shop, mark=mark, text=text)
    sql = (f"SELECT {_BUYER_COLS} FROM buyers b {where} "
           "ORDER BY IFNULL(b.starred_at, b.created_at) DESC, b.id DESC")
    if limit:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return _rows_to_buyers(store, store.query(sql, tuple(params)))


def count_buyers(store: Store, **filters: Any) -> int:
    where, params = _filters(store, **filters)
    return store.query(f"SELECT count(*) AS n FROM buyers b {where}", tuple(params))[0]["n"]


def _filters(store: Store, *, starred: bool | None = True, state: str | None = None, platform: str | None = None,
             shop: str | None = None, mark: str | None = None, text: str | None = None) -> tuple[str, list]:
    where: list[str] = []
    params: list[Any] = []
    if starred is not None:
        where.append("b.starred = ?")
        params.append(1 if starred else 0)
    if state:
        where.append("b.state = ?")
        params.append(normalize_state(state))
    if platform:
        where.append("b.platform = ?")
        params.append(normalize_platform(platform))
    if shop is not None and shop != "":
        where.append("b.shop = ?")
        params.append(clean_shop(shop))
    if mark:
        m = resolve_mark(store, mark, shop or "")
        where.append("EXISTS (SELECT 1 FROM buyer_mark_links l WHERE l.buyer_id = b.id AND l.mark_id = ?)")
        params.append(m.id)
    if text:
        like = "%" + str(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(b.nickname LIKE ? ESCAPE '\\' OR b.notes LIKE ? ESCAPE '\\')")
        params += [like, like]
    return ("WHERE " + " AND ".join(where)) if where else "", params


def shops(store: Store) -> list[str]:
    """Shop names in use (for the filter box)."""
    return [r["shop"] for r in store.query("SELECT DISTINCT shop FROM buyers WHERE shop != '' ORDER BY shop")]


def delete_buyer(store: Store, buyer_id: int) -> None:
    """Remove a buyer and everything about them (history, reminders, events): on the buyer's request."""
    with store.write() as db:
        get_buyer(store, buyer_id)
        db.execute("DELETE FROM buyers WHERE id = ?", (int(buyer_id),))
    log.info("buyer %s deleted", buyer_id)


# ---------------------------------------------------------------- marks

def list_marks(store: Store, shop: str | None = None) -> list[Mark]:
    """Marks every shop sees plus, with shop, that shop's own (all marks when shop is None)."""
    sql = ("SELECT m.id, m.code, m.name, m.shop, m.position, "
           "(SELECT count(*) FROM buyer_mark_links l WHERE l.mark_id = m.id) AS buyer_count FROM buyer_marks m")
    params: tuple = ()
    if shop is not None:
        sql += " WHERE m.shop IN ('', ?)"
        params = (clean_shop(shop),)
    return [Mark(**r) for r in store.query(sql + " ORDER BY m.shop != '', m.position, m.id", params)]


def resolve_mark(store: Store, ref: str | int, shop: str = "") -> Mark:
    """A mark by id, code (high_ticket) or name (高客单); a shop's own mark wins over a shared one."""
    text = str(ref).strip()
    marks = list_marks(store)
    for m in marks:
        if str(m.id) == text or (m.code and m.code == text.lower()):
            return m
    named = [m for m in marks if m.name == text]
    own = [m for m in named if m.shop == shop] or [m for m in named if m.shop == ""] or named
    if len(own) == 1:
        return own[0]
    if len(own) > 1:
        raise ValidationError(f"多个店铺都有标记“{text}”，请用 --shop 指定", f"Several shops have a mark '{text}'; give --shop",
                              field="mark")
    names = "、".join(m.name for m in marks if m.shop in ("", shop))
    raise NotFoundError(f"没有标记“{text}”（现有：{names}）", f"No mark '{text}' (marks: {names})")


def create_mark(store: Store, name: str, shop: str = "") -> Mark:
    mark_name = clean_text(name, MAX_MARK, "标记名", "mark name", "mark", True)
    shop_name = clean_shop(shop)
    with store.write() as db:
        clash = store.query("SELECT 1 FROM buyer_marks WHERE name = ? AND shop IN ('', ?)", (mark_name, shop_name))
        if clash:
            raise ValidationError(f"标记“{mark_name}”已存在", f"Mark '{mark_name}' already exists", field="mark")
        position = store.query("SELECT IFNULL(max(position), -1) + 1 AS p FROM buyer_marks")[0]["p"]
        cur = db.execute("INSERT INTO buyer_marks (uuid, name, shop, position, created_at) VALUES (?,?,?,?,?)",
                         (str(uuidlib.uuid4()), mark_name, shop_name, position, to_db(store.clock.now())))
        mark_id = cur.lastrowid
    return next(m for m in list_marks(store) if m.id == mark_id)


def rename_mark(store: Store, ref: str | int, new_name: str) -> Mark:
    name = clean_text(new_name, MAX_MARK, "标记名", "mark name", "mark", True)
    with store.write() as db:
        mark = resolve_mark(store, ref)
        clash = store.query("SELECT 1 FROM buyer_marks WHERE name = ? AND shop IN ('', ?) AND id != ?",
                            (name, mark.shop, mark.id))
        if clash:
            raise ValidationError(f"标记“{name}”已存在", f"Mark '{name}' already exists", field="mark")
        db.execute("UPDATE buyer_marks SET name = ? WHERE id = ?", (name, mark.id))
    return resolve_mark(store, mark.id)


def delete_mark(store: Store, ref: str | int, shop: str = "") -> Mark:
    """Delete a shop's own mark (built-in marks drive the cadence rules and stay; rename them instead)."""
    with store.write() as db:
        mark = resolve_mark(store, ref, shop)
        if mark.builtin:
            raise ValidationError(f"内置标记“{mark.name}”不能删除，可以改名", f"Built-in mark '{mark.name}' cannot be "
                                  "deleted; rename it instead", field="mark")
        db.execute("DELETE FROM buyer_marks WHERE id = ?", (mark.id,))
    return mark


def set_marks(store: Store, buyer_id: int, add: Iterable[str | int] = (), remove: Iterable[str | int] = (),
              replace: bool = False) -> Buyer:
    """Add and remove marks (by name, code or id); replace=True first clears the buyer's marks."""
    with store.write() as db:
        buyer = get_buyer(store, buyer_id)
        to_add = [resolve_mark(store, ref, buyer.shop) for ref in add]
        to_remove = [resolve_mark(store, ref, buyer.shop) for ref in remove]
        for m in to_add:
            if m.shop not in ("", buyer.shop):
                raise ValidationError(f"标记“{m.name}”属于其他店铺", f"Mark '{m.name}' belongs to another shop", field="mark")
        before = set(_mark_uuids(store, buyer.id)) if buyer.team_shop is not None else set()
        if replace:
            db.execute("DELETE FROM buyer_mark_links WHERE buyer_id = ?", (buyer.id,))
        for m in to_remove:
            db.execute("DELETE FROM buyer_mark_links WHERE buyer_id = ? AND mark_id = ?", (buyer.id, m.id))
        for m in to_add:
            db.execute("INSERT OR IGNORE INTO buyer_mark_links (buyer_id, mark_id) VALUES (?,?)", (buyer.id, m.id))
        db.execute("UPDATE buyers SET updated_at = ? WHERE id = ?", (to_db(store.clock.now()), buyer.id))
        if buyer.team_shop is not None:  # marks merge as sets on the server: one add/remove each
            after = set(_mark_uuids(store, buyer.id))
            for mark in sorted(after - before):
                outbox.add(store, "buyer.mark", buyer.uuid, {"mark": mark, "present": True})
            for mark in sorted(before - after):
                outbox.add(store, "buyer.mark", buyer.uuid, {"mark": mark, "present": False})
    return get_buyer(store, buyer_id)


# ---------------------------------------------------------------- history and events

def chase_history(store: Store, buyer_id: int, limit: int | None = None) -> list[Chase]:
    """The buyer's chases, newest first: which script, which angle, when, and whether they replied."""
    sql = ("SELECT c.id, c.buyer_id, c.reply_id, IFNULL(r.title, c.reply_title) AS reply_title, c.angle, "
           "c.reminder_id, c.sent_at, c.buyer_replied, c.replied_at, c.warnings "
           "FROM chases c LEFT JOIN replies r ON r.id = c.reply_id WHERE c.buyer_id = ? ORDER BY c.sent_at DESC, c.id DESC")
    if limit:
        sql += f" LIMIT {int(limit)}"
    out = []
    for r in store.query(sql, (int(buyer_id),)):
        data = dict(r)
        data["buyer_replied"] = bool(data["buyer_replied"])
        data["warnings"] = checked.text_list(data["warnings"], table="chases", column="warnings", row_id=data.get("id"))
        out.append(Chase(**data))
    return out


def log_event(store: Store, buyer_id: int, kind: str, at: str | datetime, reminder_id: int | None = None,
              detail: str = "") -> None:
    """One line of what happened to a buyer (conversions, order loss). Call inside store.write()."""
    when = at if isinstance(at, str) else to_db(at)
    store.conn.execute("INSERT INTO buyer_events (uuid, buyer_id, kind, at, reminder_id, detail) VALUES (?,?,?,?,?,?)",
                       (str(uuidlib.uuid4()), buyer_id, kind, when, reminder_id, detail))


def events(store: Store, buyer_id: int | None = None, kind: str | None = None) -> list[dict]:
    where, params = [], []
    if buyer_id is not None:
        where.append("buyer_id = ?")
        params.append(int(buyer_id))
    if kind:
        where.append("kind = ?")
        params.append(kind)
    sql = "SELECT id, buyer_id, kind, at, reminder_id, detail FROM buyer_events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return store.query(sql + " ORDER BY at, id", tuple(params))


def when(text: str | None) -> datetime | None:
    """A stored UTC timestamp as an aware datetime (re-exported for the UI)."""
    return from_db(text)


# ---------------------------------------------------------------- team mode: shared buyers
# With a team server, a buyer of a shop the agent serves is shared: the change is queued in the
# outbox in the same transaction (assistant/team/sync.py sends it). The server grants one agent a
# lease on a buyer (who stars or first chases them); the others see "王五 跟进中" and may not star
# or chase that buyer without a logged take-over. An offline panel decides from the holder it last
# heard of; a chase the server then finds on someone else's buyer is flagged as a collision to both.

LEASE_GRACE = timedelta(hours=2)  # a lease outlives the last renewal (every sync round) by this much


def held_by_other(store: Store, buyer: Buyer, now: datetime | None = None) -> tuple[str, str] | None:
    """(role, display name) of another agent whose lease on the buyer has not run out, else None."""
    return other_holder(store, buyer.holder, buyer.holder_name, buyer.held_until, now)


def require_free(store: Store, buyer: Buyer, zh_action: str, en_action: str, now: datetime | None = None) -> None:
    """Refuse to chase/star a buyer another agent follows (a take-over comes first)."""
    other = held_by_other(store, buyer, now)
    if other is not None:
        raise ValidationError(f"{other[1]} 跟进中：先“接手”才能{zh_action}",
                              f"{other[1]} is following this buyer: take over before you {en_action}",
                              field="holder")


def share(store: Store, buyer_id: int) -> str | None:
    """Queue the buyer for the team (first time: its identity and fields), inside the caller's
    write. Returns the server shop, or None when the buyer is not shared."""
    if not team_role(store):
        return None
    buyer = get_buyer(store, buyer_id)
    if buyer.team_shop is not None:
        return buyer.team_shop
    shop = team_shop_for(store, buyer.shop)
    if shop is None:
        return None
    store.conn.execute("UPDATE buyers SET team_shop = ? WHERE id = ?", (shop, buyer.id))
    outbox.add(store, "buyer.upsert", buyer.uuid, {"shop": shop, "platform": buyer.platform,
                                                    "nickname": buyer.nickname, "fields": _shared_fields(buyer)})
    for mark in _mark_uuids(store, buyer.id):
        outbox.add(store, "buyer.mark", buyer.uuid, {"mark": mark, "present": True})
    if buyer.notes:
        outbox.add(store, "buyer.note", buyer.uuid, {"id": str(uuidlib.uuid4()), "body": buyer.notes})
    if store.query("SELECT 1 FROM buyers WHERE id = ? AND do_not_call = 1", (buyer.id,)):
        queue_do_not_call(store, buyer.uuid, True)
    # links to the shop's products (team schema step 8); a product of this PC only stays off the server
    for r in store.query("SELECT l.uuid, l.chosen, p.uuid AS product FROM buyer_products l JOIN products p "
                         "ON p.id = l.product_id WHERE l.buyer_id = ? AND p.team_shop = ? ORDER BY l.id",
                         (buyer.id, shop)):
        outbox.add(store, "product.link", r["uuid"], {"buyer": buyer.uuid, "product": r["product"],
                                                      "chosen": bool(r["chosen"]), "present": True})
    queue_reminders(store, buyer.id)  # planned before the buyer was shared: the server keeps them too
    return shop


def dnc_target(buyer_uuid: str) -> str:
    """The outbox target of a buyer's 勿扰 change: its own, so that a refused one withdraws nothing else
    queued for the buyer (a chase, a note)."""
    return f"dnc:{buyer_uuid}"


def queue_do_not_call(store: Store, buyer_uuid: str, on: bool) -> None:
    outbox.add(store, "buyer.dnc", dnc_target(buyer_uuid), {"buyer": buyer_uuid, "on": bool(on)})


def queue_reminders(store: Store, buyer_id: int, ids: Sequence[int] | None = None) -> int:
    """Queue the buyer's chase and wave reminders for the team server (inside the caller's write):
    `ids`, whatever their state (a change this panel just made), or every pending one. The server
    stores them under their uuid with this agent as owner, or answers that someone else owns them.
    Nothing for a buyer that is not shared. Returns how many were queued."""
    if ids is not None and not ids:
        return 0
    rows = store.query("SELECT uuid, team_shop FROM buyers WHERE id = ?", (buyer_id,))
    if not rows or rows[0]["team_shop"] is None or not team_role(store):
        return 0
    where = (f"r.id IN ({','.join('?' * len(ids))})" if ids is not None else "r.state = 'pending'")
    reminders = store.query(
        "SELECT r.uuid, r.kind, r.cadence_id, r.step, r.due_at, r.planned_at, r.state, r.outcome, "
        "p.uuid AS promotion, p.team_shop AS promotion_shop, o.uuid AS order_uuid, o.team_shop AS order_shop "
        "FROM reminders r LEFT JOIN promotions p ON p.id = r.promotion_id LEFT JOIN orders o ON o.id = r.order_id "
        f"WHERE r.buyer_id = ? AND r.kind IN ('chase', 'wave', 'order') AND r.uuid IS NOT NULL AND {where} "
        "ORDER BY r.id",
        (buyer_id, *(ids or ())))
    for r in reminders:
        outbox.add(store, "reminder.put", rows[0]["uuid"], {
            "id": r["uuid"], "kind": r["kind"], "cadence_id": r["cadence_id"], "step": r["step"],
            "due_at": r["due_at"], "planned_at": r["planned_at"], "state": r["state"], "outcome": r["outcome"],
            # only a shop's promotion is known to the server; this PC's own stays out of the row
            "promotion": r["promotion"] if r["promotion_shop"] else None,
            # a 催付 reminder names its order (team schema step 9), once the order is shared
            "order": r["order_uuid"] if r["order_shop"] else None})
    return len(reminders)


def _shared_fields(buyer: Buyer) -> dict[str, Any]:
    return {"tz": buyer.tz, "language": buyer.language, "state": buyer.state, "starred": buyer.starred,
            "cadence_id": buyer.cadence_id, "mood": buyer.mood}


def _mark_uuids(store: Store, buyer_id: int) -> list[str]:
    return [r["uuid"] for r in store.query(
        "SELECT m.uuid FROM buyer_mark_links l JOIN buyer_marks m ON m.id = l.mark_id WHERE l.buyer_id = ? "
        "AND m.uuid IS NOT NULL ORDER BY m.id", (buyer_id,))]


def share_followed(store: Store, now: datetime | None = None) -> int:
    """Every starred, followed buyer of a served shop not shared yet (starred before joining the
    team, or before the shop was granted) is shared and claimed: in team mode the team sees them.
    Returns how many. `kefu team upload` and every sync call it."""
    if not team_role(store):
        return 0
    done = 0
    with store.write():
        for row in store.query("SELECT id, shop FROM buyers WHERE team_shop IS NULL AND starred = 1 "
                               "AND state = 'following'"):
            if team_shop_for(store, row["shop"]) is not None and share(store, row["id"]) is not None:
                claim(store, row["id"], now)
                done += 1
    return done


def write_mood(store: Store, buyer_id: int, code: str | None, now: datetime) -> None:
    """The buyer's one mood (assistant/core/invites.py's codes), inside the caller's write: set by a
    click on a mood chip and by an after-sales case's mood alike, logged, and shared with the team."""
    stamp = to_db(now)
    store.conn.execute("UPDATE buyers SET mood = ?, mood_at = ?, updated_at = ? WHERE id = ?",
                       (code, stamp if code else None, stamp, int(buyer_id)))
    log_event(store, int(buyer_id), "mood", stamp, detail=code or "")
    queue_fields(store, int(buyer_id))  # team mode: the team sees the mood too


def queue_fields(store: Store, buyer_id: int) -> None:
    """The buyer's shared fields changed (inside the caller's write): the newer write wins on the server."""
    if share(store, buyer_id) is None:
        return
    buyer = get_buyer(store, buyer_id)
    outbox.add(store, "buyer.update", buyer.uuid, {"fields": _shared_fields(buyer)})


def claim(store: Store, buyer_id: int, now: datetime | None = None) -> None:
    """Ask for (or renew) the lease on a shared buyer, inside the caller's write. This panel counts
    itself the holder until the server says otherwise."""
    if share(store, buyer_id) is None:
        return
    buyer = get_buyer(store, buyer_id)
    until = to_db((now or store.clock.now()) + LEASE_GRACE)
    if buyer.holder != team_role(store):
        outbox.add(store, "buyer.claim", buyer.uuid, {"until": until})
    store.conn.execute("UPDATE buyers SET holder = ?, holder_name = NULL, held_until = ? WHERE id = ?",
                       (team_role(store), until, buyer.id))


def take_over(store: Store, buyer_id: int, reason: str = "", now: datetime | None = None) -> Buyer:
    """Follow a buyer another agent holds: logged on the server with both names and the reason."""
    with store.write():
        buyer = get_buyer(store, buyer_id)
        if share(store, buyer.id) is None:
            raise ValidationError("只有团队共享的买家需要接手", "Only a buyer shared with the team can be taken over",
                                  field="holder")
        stamp = now or store.clock.now()
        until = to_db(stamp + LEASE_GRACE)
        outbox.add(store, "buyer.takeover", buyer.uuid, {"until": until, "reason": str(reason or "")[:200]})
        store.conn.execute("UPDATE buyers SET holder = ?, holder_name = NULL, held_until = ? WHERE id = ?",
                           (team_role(store), until, buyer.id))
        log_event(store, buyer.id, "takeover", stamp, detail=buyer.holder or "")
    return get_buyer(store, buyer_id)


# What a pull brings (assistant/team/sync.py), applied inside its write transaction. `ctx` holds
# "me" (this agent's role), "agents" (role -> display name) and "shops" (server shop -> name).
# A row another change of this PC still waits to overwrite keeps the local value: the push goes
# first and the server's answer comes back with the next pull.

def _pending_kinds(store: Store, target: str) -> set[str]:
    return {r["kind"] for r in store.query("SELECT DISTINCT kind FROM team_outbox WHERE target = ?", (target,))}


def _local_buyer(store: Store, uuid: str) -> dict | None:
    rows = store.query("SELECT id, uuid, notes FROM buyers WHERE uuid = ?", (uuid,))
    return dict(rows[0]) if rows else None


def apply_buyer_row(store: Store, row: dict, ctx: dict) -> str:
    bid = str(row["id"])
    shop_name = ctx["shops"].get(str(row["shop"]))
    if shop_name is None:
        return "skipped"
    local = _local_buyer(store, bid)
    outcome = "updated"
    if local is None:
        same = store.query("SELECT id, uuid FROM buyers WHERE platform = ? AND shop = ? AND nickname = ?",
                           (row["platform"], shop_name, row["nickname"]))
        if not same and len(ctx["shops"]) == 1:  # a buyer saved without a shop name, in the one shop served
            same = store.query("SELECT id, uuid FROM buyers WHERE platform = ? AND shop = '' AND nickname = ?",
                               (row["platform"], row["nickname"]))
        if same:
            if _pending_kinds(store, same[0]["uuid"]):
                return "skipped"  # this PC's own first share of the same buyer is on its way: it re-keys then
            store.conn.execute("UPDATE buyers SET uuid = ? WHERE id = ?", (bid, same[0]["id"]))
            local, outcome = {"id": same[0]["id"], "uuid": bid}, "adopted"
    held_until = to_db(row["held_until"]) if row["held_until"] is not None else None
    holder_name = ctx["agents"].get(row["holder"]) if row["holder"] else None
    now = to_db(store.clock.now())
    if local is None:
        cur = store.conn.execute(
            "INSERT INTO buyers (uuid, platform, shop, nickname, tz, language, state, starred, starred_by, "
            "starred_at, cadence_id, created_at, updated_at, team_shop, holder, holder_name, held_until, mood, mood_at, "
            "do_not_call) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (bid, row["platform"], shop_name, row["nickname"], row["tz"], row["language"], row["state"],
             1 if row["starred"] else 0, holder_name, now if row["starred"] else None, row["cadence_id"], now, now,
             str(row["shop"]), row["holder"], holder_name, held_until, row["mood"], now if row["mood"] else None,
             1 if row.get("do_not_call") else 0))
        log_event(store, int(cur.lastrowid), "created", now, detail="team")
        return "added"
    pending = _pending_kinds(store, bid)
    # a 交班 not yet sent: the server still names me for the buyers I just handed over
    handing_over = row["holder"] == ctx["me"] and bool(
        store.query("SELECT 1 FROM team_outbox WHERE kind = 'team.handover' LIMIT 1"))
    if not pending & {"buyer.claim", "buyer.takeover"} and not handing_over:
        store.conn.execute("UPDATE buyers SET holder = ?, holder_name = ?, held_until = ?, team_shop = ? WHERE id = ?",
                           (row["holder"], holder_name, held_until, str(row["shop"]), local["id"]))
    if not pending & {"buyer.upsert", "buyer.update"}:
        store.conn.execute("UPDATE buyers SET tz = ?, language = ?, state = ?, starred = ?, cadence_id = ?, "
                           "team_shop = ?, updated_at = ?, mood = ?, "
                           "mood_at = CASE WHEN mood IS ? THEN mood_at WHEN ? IS NULL THEN NULL ELSE ? END WHERE id = ?",
                           (row["tz"], row["language"], row["state"], 1 if row["starred"] else 0, row["cadence_id"],
                            str(row["shop"]), now, row["mood"], row["mood"], row["mood"], now, local["id"]))
    if not store.query("SELECT 1 FROM team_outbox WHERE target = ?", (dnc_target(bid),)):
        store.conn.execute("UPDATE buyers SET do_not_call = ? WHERE id = ? AND do_not_call != ?",
                           (1 if row.get("do_not_call") else 0, local["id"], 1 if row.get("do_not_call") else 0))
    return outcome


def apply_mark_row(store: Store, row: dict, ctx: dict) -> str:
    local = _local_buyer(store, str(row["buyer"]))
    mark = store.query("SELECT id FROM buyer_marks WHERE uuid = ?", (str(row["mark"]),))
    if local is None or not mark or "buyer.mark" in _pending_kinds(store, local["uuid"]):
        return "skipped"
    if row["present"]:
        store.conn.execute("INSERT OR IGNORE INTO buyer_mark_links (buyer_id, mark_id) VALUES (?,?)",
                           (local["id"], mark[0]["id"]))
    else:
        store.conn.execute("DELETE FROM buyer_mark_links WHERE buyer_id = ? AND mark_id = ?", (local["id"], mark[0]["id"]))
    return "updated"


def apply_note_row(store: Store, row: dict, ctx: dict) -> str:
    """Notes are append-only rows on the server; the panel shows the newest."""
    local = _local_buyer(store, str(row["buyer"]))
    if local is None or "buyer.note" in _pending_kinds(store, local["uuid"]):
        return "skipped"
    if local["notes"] != row["body"]:
        store.conn.execute("UPDATE buyers SET notes = ? WHERE id = ?", (row["body"], local["id"]))
    return "updated"


def apply_chase_row(store: Store, row: dict, ctx: dict) -> str:
    """Another agent's chase joins the buyer's history (so nobody sends the same script twice);
    this PC's own chase only learns whether the server flagged it as a collision."""
    cid = str(row["id"])
    if store.query("SELECT 1 FROM chases WHERE uuid = ?", (cid,)):
        store.conn.execute("UPDATE chases SET collision = ? WHERE uuid = ?", (1 if row["collision"] else 0, cid))
        return "updated"
    local = _local_buyer(store, str(row["buyer"]))
    if local is None:
        return "skipped"
    angle = row["angle"] if row["angle"] in ("product", "price", "logistics", "gift", "ask") else None
    # the selling point it sent (team schema step 8): never proposed to this buyer again, on any panel
    point = row.get("selling_point") or None
    product = store.query("SELECT id FROM products WHERE uuid = ?", (str(row["product"]),)) if row.get("product") else []
    store.conn.execute(
        "INSERT INTO chases (uuid, buyer_id, reply_id, reply_title, angle, sent_at, author, author_name, collision, "
        "product_id, selling_point) VALUES (?,?,NULL,?,?,?,?,?,?,?,?)",
        (cid, local["id"], row["reply_title"], angle, to_db(row["sent_at"]), row["author"],
         ctx["agents"].get(row["author"], row["author"]), 1 if row["collision"] else 0,
         product[0]["id"] if product else None, point))
    return "added"


def apply_collision_row(store: Store, row: dict, ctx: dict) -> str:
    """A chase of a buyer someone else held: shown to both agents (the holder and the chaser)."""
    target = str(row["chase"])
    if store.query("SELECT 1 FROM team_conflicts WHERE kind = 'collision' AND target = ?", (target,)):
        return "skipped"
    local = _local_buyer(store, str(row["buyer"]))
    store.conn.execute(
        "INSERT INTO team_conflicts (kind, target, mine, theirs, created_at) VALUES ('collision', ?, NULL, ?, ?)",
        (target, json.dumps({"buyer_id": local["id"] if local else None,
                             "holder": ctx["agents"].get(row["holder"], row["holder"]),
                             "chaser": ctx["agents"].get(row["chaser"], row["chaser"]),
                             "mine": ctx["me"] in (row["holder"], row["chaser"]),
                             "at": to_db(row["at"])}, ensure_ascii=False), to_db(store.clock.now())))
    return "added"
