"""Unpaid orders (催付): an order a buyer placed and has not paid, chased before the platform closes it.

Besides the mark 咨询未付款 (asked, did not order), an ORDER: its number (stored as given, shown masked
everywhere except on explicit request: reveal_order), amount, when it was placed, when the platform
closes it unpaid (the deadline: read from the order, else the platform's default from the settings
orders.deadline_hours_*), and its status: unpaid, paid, closed.

Three ways in: typed (add_order), pasted from the order text the chat client shows (parse_order_text
reads what it can: number, amount, placed time, deadline or a "剩余X小时Y分自动关闭" countdown), or
imported from the platform's order export (import_file; CSV/XLSX, Chinese or English headers, COLUMNS).
A number already stored for the platform updates that order rather than adding a second one.

Adding an unpaid order plans its 催付 cadence (resources/cadences/default.json "unpaid_order", steps
tied to the order: cadence.plan_order) as reminders of kind 'order', and the buyer's pre-order chase
(催单) gives way: their pending chase reminders end ('ordered'); the buyer is starred and followed.
Marking the order paid or closed ends its reminders at once with that outcome. Paid with no other
unpaid order: the buyer's outcome is 已付款 (a conversion). Closed with no other unpaid order: the
buyer goes back to the quiet-period revisit (空窗回访), as a buyer who did not order.

Every write is one transaction; order numbers and nicknames are never logged, only ids.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
import uuid as uuidlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from ..errors import ImportFileError, NotFoundError, ValidationError
from . import cadence as cad
from . import customers, masking, outbox, reminders, settings, teamstate, zones
from .clock import from_db, to_db
from .fileio import atomic, table
from .fileio.cells import csv_neutralise, neutralise
from .fileio.xlsx import XlsxWriter
from .store import Store

log = logging.getLogger(__name__)

ORDER_CADENCE = "unpaid_order"
STATUSES: dict[str, tuple[str, str]] = {"unpaid": ("未付款", "unpaid"), "paid": ("已付款", "paid"),
                                        "closed": ("已关闭", "closed")}
SOURCES = ("typed", "pasted", "imported", "handover")
MAX_ORDER_NO = 40
MAX_ITEM = 100
MAX_AMOUNT_FEN = 100_000_000 * 100  # a hundred million yuan: anything above is a typo
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
DEADLINE_SETTING = {"taobao": "orders.deadline_hours_taobao", "jd": "orders.deadline_hours_jd",
                    "pdd": "orders.deadline_hours_pdd"}
_STATUS_ALIASES = {
    "未付款": "unpaid", "待付款": "unpaid", "等待买家付款": "unpaid", "待支付": "unpaid", "未支付": "unpaid",
    "wait_buyer_pay": "unpaid", "pending": "unpaid",
    "已付款": "paid", "付款": "paid", "买家已付款": "paid", "已支付": "paid", "等待发货": "paid", "待发货": "paid",
    "卖家已发货": "paid", "已发货": "paid", "待收货": "paid", "交易成功": "paid", "已完成": "paid", "已签收": "paid",
    "已关闭": "closed", "关闭": "closed", "交易关闭": "closed", "已取消": "closed", "取消": "closed",
    "订单关闭": "closed", "cancelled": "closed", "canceled": "closed",
}


# ---------------------------------------------------------------- records

@dataclass(frozen=True)
class Order:
    id: int
    uuid: str
    buyer_id: int
    nickname: str
    platform: str
    shop: str
    order_masked: str
    amount: int | None  # fen
    ordered_at: datetime
    deadline_at: datetime
    deadline_given: bool
    status: str
    status_at: datetime | None
    item: str
    source: str
    created_at: datetime
    updated_at: datetime
    next_due: datetime | None = None  # the next 催付 reminder, while unpaid

    @property
    def amount_text(self) -> str:
        return reminders.format_amount(self.amount)

    @property
    def open(self) -> bool:
        return self.status == "unpaid"

    def overdue(self, now: datetime) -> bool:
        """Still unpaid here past its deadline: the platform has most likely closed it."""
        return self.open and now >= self.deadline_at

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        data["amount"] = self.amount_text or None
        return data


@dataclass
class Parsed:
    """What parse_order_text read from an order's text; None: not found."""

    order_no: str | None = None
    amount: int | None = None
    ordered_at: datetime | None = None
    deadline: datetime | None = None
    item: str | None = None
    platform: str | None = None
    found: list[str] = field(default_factory=list)  # which of the above were read


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    skipped: int = 0  # paid/closed rows of orders never tracked here
    ids: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- values

def _bad(zh: str, en: str, fieldname: str) -> ValidationError:
    return ValidationError(zh, en, field=fieldname)


def normalize_status(text: str | None) -> str:
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    key = raw.lower().replace(" ", "_")
    if key in STATUSES:
        return key
    if raw in _STATUS_ALIASES or key in _STATUS_ALIASES:
        return _STATUS_ALIASES.get(raw) or _STATUS_ALIASES[key]
    raise _bad(f"订单状态“{raw}”无效，可选：未付款、已付款、已关闭", f"Unknown order status '{raw}'; one of unpaid, "
               "paid, closed", "status")


def clean_order_no(text: Any) -> str:
    """An order number as platforms write it: digits, letters and dashes (PDD: 231110-123456789012345).
    Spreadsheet wrappers (="…", a leading ' or tab) come off; a number Excel turned into 1.23E+18 is
    refused: its last digits are gone."""
    raw = unicodedata.normalize("NFKC", "" if text is None else str(text)).strip()
    if raw.startswith('="') and raw.endswith('"'):
        raw = raw[2:-1]
    raw = raw.lstrip("'\t").strip().replace(" ", "")
    if not raw:
        raise _bad("订单号不能为空", "An order needs its number", "order")
    if "*" in raw:
        raise _bad("订单号被遮盖了（带 *），请用完整的订单号", "The order number is masked (has *); give the full number",
                   "order")
    if re.fullmatch(r"\d(?:\.\d+)?[eE]\+?\d+", raw):
        raise _bad("订单号被表格存成了科学计数法，末几位已丢失：请把这一列设成文本后重新导出",
                   "The order number was stored as a number in scientific notation and lost its last digits: "
                   "make the column text and export again", "order")
    if len(raw) > MAX_ORDER_NO or not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z\-_]*", raw):
        raise _bad(f"订单号“{masking.mask_order(raw)[:MAX_ORDER_NO]}”无效（只能有数字、字母和 -，最长 {MAX_ORDER_NO} 位）",
                   f"Invalid order number (digits, letters and dashes, at most {MAX_ORDER_NO})", "order")
    return raw


_AMOUNT = re.compile(r"^[¥￥]?\s*(\d{1,9}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?\s*(?:元|rmb|cny)?$", re.IGNORECASE)


def parse_amount(text: Any) -> int | None:
    """Fen from '199', '199.5', '¥1,299.00', '199元' (None for an empty value)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = f"{text:.2f}"
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    m = _AMOUNT.match(raw)
    if m is None:
        raise _bad(f"金额“{raw[:20]}”无效，应写成 199 或 199.00", f"Invalid amount '{raw[:20]}'; write 199 or 199.00",
                   "amount")
    fen = int(m.group(1).replace(",", "")) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if fen > MAX_AMOUNT_FEN:
        raise _bad("金额太大", "The amount is too large", "amount")
    return fen


_DATETIME = re.compile(
    r"(?:(?P<y>\d{4})\s*[-/.年]\s*)?(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?\s*[T ]?\s*"
    r"(?P<h>\d{1,2})[:：](?P<mi>\d{2})(?:[:：](?P<s>\d{2}))?")


def parse_time(text: Any, tz: tzinfo, now: datetime) -> datetime:
    """'2026-11-10 14:32[:05]', '2026/11/10 14:32', '11月10日 14:32', '11-10 14:32' (this year, or
    last year when that would be more than a day ahead), in the agent's zone; an aware datetime
    (from a workbook cell) as it is."""
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=tz)
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    m = _DATETIME.fullmatch(raw) or _DATETIME.fullmatch(raw.rstrip("前"))
    if m is None:
        raise _bad(f"时间“{raw[:30]}”无效，应写成 2026-11-10 14:32", f"Invalid time '{raw[:30]}'; write 2026-11-10 14:32",
                   "time")
    return _from_match(m, tz, now)


def _from_match(m: re.Match[str], tz: tzinfo, now: datetime) -> datetime:
    local_now = now.astimezone(tz)
    year = int(m.group("y")) if m.group("y") else local_now.year
    try:
        when = datetime(year, int(m.group("mo")), int(m.group("d")), int(m.group("h")), int(m.group("mi")),
                        int(m.group("s") or 0), tzinfo=tz)
    except ValueError as exc:
        raise _bad(f"时间“{m.group(0)}”不存在", f"The time '{m.group(0)}' does not exist", "time") from exc
    if not m.group("y") and when > now + timedelta(days=1):
        when = when.replace(year=year - 1)
    return when


# ---------------------------------------------------------------- the order text a chat client shows

_NO_LABEL = r"(?:订单号|订单编号|订单号码|订单ID|订单id|主订单号|order\s*(?:no\.?|id|number|#))"
_ORDER_NO = re.compile(_NO_LABEL + r"\s*[:：#]?\s*([0-9A-Za-z][0-9A-Za-z\-]{5,39})", re.IGNORECASE)
_LONE_NUMBER = re.compile(r"(?<![\d\-])(\d{6}-\d{12,18}|\d{12,22})(?![\d\-])")
_MONEY = r"[¥￥]?\s*(\d{1,9}(?:,\d{3})*(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)\s*(?:元)?"
_AMOUNT_LABELLED = re.compile(
    r"(?:实付款|实付金额|实付|应付金额|应付款|应付|需付款|待付款金额|待付金额|待支付|订单金额|订单总额|合计|总计|总价|"
    r"应付总额|amount|total)\s*[:：]?\s*" + _MONEY, re.IGNORECASE)
_AMOUNT_ANY = re.compile(r"[¥￥]\s*(\d{1,9}(?:,\d{3})*(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)|(\d+(?:\.\d{1,2})?)\s*元")
_CREATED_LABEL = re.compile(r"(?:下单时间|创建时间|订单创建时间|提交时间|拍下时间|成交时间|订单时间|created(?:\s*at)?|"
                            r"order\s*time)\s*[:：]?\s*", re.IGNORECASE)
_DEADLINE_LABEL = re.compile(r"(?:付款截止(?:时间)?|支付截止(?:时间)?|截止时间|自动关闭时间|关闭时间|请于|请在|pay\s*by|"
                             r"deadline)\s*[:：]?\s*", re.IGNORECASE)
_REMAINING = re.compile(
    r"(?:剩余|还剩|剩|倒计时|将在)?\s*[:：]?\s*"
    r"(?:(?P<d>\d+)\s*天)?\s*(?:(?P<h>\d+)\s*(?:小时|时|h))?\s*(?:(?P<m>\d+)\s*(?:分钟|分|min))?\s*"
    r"(?:(?P<s>\d+)\s*秒)?\s*(?:后|内)?\s*(?:未付款)?\s*(?:将|会)?\s*(?:自动)?\s*(?:关闭|取消)")
_EN_REMAINING = re.compile(r"(?:closes?|will\s+close|cancel(?:led)?)\s+in\s+(?:(?P<d>\d+)\s*d(?:ays?)?\s*)?"
                           r"(?:(?P<h>\d+)\s*h(?:ours?)?\s*)?(?:(?P<m>\d+)\s*m(?:in(?:utes?)?)?)?", re.IGNORECASE)
_CLOCK_REMAINING = re.compile(r"(?:剩余|还剩|倒计时)\s*[:：]?\s*(?P<h>\d{1,3}):(?P<m>\d{2}):(?P<s>\d{2})")
_ITEM = re.compile(r"(?:商品|宝贝|商品名称|宝贝名称|item)\s*[:：]\s*(.+)", re.IGNORECASE)
_PLATFORM_WORDS = (("taobao", ("淘宝", "天猫", "千牛", "tmall", "taobao")), ("jd", ("京东", "京麦", "咚咚", "jd.com")),
                   ("pdd", ("拼多多", "拼单", "多多", "pinduoduo")))


def parse_order_text(text: str, *, tz: tzinfo, now: datetime) -> Parsed:
    """Read what can be read from an order as a chat client shows it (copied with the mouse):
    the number (after 订单号/订单编号/Order ID, else a lone run of 12-22 digits or PDD's
    yymmdd-…), the amount (实付/应付/合计/待付款…, else the last ¥ or 元 amount), the placed time
    (下单/创建/提交时间, else the first date-time), the deadline (付款截止/请于…前 as a time, or a
    countdown: 剩余23小时59分自动关闭, 还剩 1天2小时, 剩余 00:29:59), the item and a platform hint.
    Times are in the agent's zone; a countdown counts from now."""
    raw = unicodedata.normalize("NFKC", str(text or "")).replace("\r", "\n")
    p = Parsed()
    m = _ORDER_NO.search(raw)
    number = m.group(1) if m else None
    if number is None:
        lone = _LONE_NUMBER.findall(_DATETIME.sub(" ", raw))
        number = lone[0] if lone else None
    if number is not None:
        try:
            p.order_no = clean_order_no(number)
            p.found.append("order_no")
        except ValidationError:
            pass
    m = _AMOUNT_LABELLED.search(raw)
    amount_text = m.group(1) if m else None
    if amount_text is None:
        amounts = [a or b for a, b in _AMOUNT_ANY.findall(_DATETIME.sub(" ", raw))]
        amount_text = amounts[-1] if amounts else None
    if amount_text is not None:
        try:
            p.amount = parse_amount(amount_text)
            p.found.append("amount")
        except ValidationError:
            pass
    for line in raw.split("\n"):
        label = _CREATED_LABEL.search(line)
        if label and p.ordered_at is None:
            dt = _DATETIME.search(line, label.end())
            if dt is not None:
                p.ordered_at = _safe_time(dt, tz, now)
        label = _DEADLINE_LABEL.search(line)
        if label and p.deadline is None:
            dt = _DATETIME.search(line, label.end())
            if dt is not None:
                p.deadline = _safe_time(dt, tz, now)
        item = _ITEM.search(line)
        if item and p.item is None:
            p.item = " ".join(item.group(1).split())[:MAX_ITEM] or None
    if p.ordered_at is None:
        first = _DATETIME.search(raw)
        if first is not None and (p.deadline is None or _safe_time(first, tz, now) != p.deadline):
            p.ordered_at = _safe_time(first, tz, now)
    if p.deadline is None:
        left = _remaining(raw)
        if left is not None:
            p.deadline = now + left
    if p.ordered_at is not None:
        p.found.append("ordered_at")
    if p.deadline is not None:
        p.found.append("deadline")
    if p.item:
        p.found.append("item")
    lower = raw.lower()
    p.platform = next((code for code, words in _PLATFORM_WORDS if any(w in lower for w in words)), None)
    return p


def _safe_time(m: re.Match[str], tz: tzinfo, now: datetime) -> datetime | None:
    try:
        return _from_match(m, tz, now)
    except ValidationError:
        return None


def _remaining(raw: str) -> timedelta | None:
    m = _CLOCK_REMAINING.search(raw)
    if m is not None:
        return timedelta(hours=int(m.group("h")), minutes=int(m.group("m")), seconds=int(m.group("s")))
    for m in (*_REMAINING.finditer(raw), *_EN_REMAINING.finditer(raw)):
        parts = {k: int(v) for k, v in m.groupdict().items() if v}
        if parts:
            return timedelta(days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0),
                             seconds=parts.get("s", 0))
    return None


# ---------------------------------------------------------------- reading

_SELECT = ("SELECT o.id, o.uuid, o.buyer_id, b.nickname, b.platform AS buyer_platform, b.shop, o.platform, o.order_no, "
           "o.amount, o.ordered_at, o.deadline_at, o.deadline_given, o.status, o.status_at, o.item, o.source, "
           "o.created_at, o.updated_at, (SELECT min(r.due_at) FROM reminders r WHERE r.order_id = o.id "
           "AND r.state = 'pending') AS next_due FROM orders o JOIN buyers b ON b.id = o.buyer_id")


def _order(row: dict) -> Order:
    return Order(row["id"], row["uuid"], row["buyer_id"], row["nickname"], row["platform"], row["shop"],
                 masking.mask_order(row["order_no"]), row["amount"], from_db(row["ordered_at"]),  # type: ignore[arg-type]
                 from_db(row["deadline_at"]), bool(row["deadline_given"]), row["status"],  # type: ignore[arg-type]
                 from_db(row["status_at"]), row["item"], row["source"], from_db(row["created_at"]),  # type: ignore[arg-type]
                 from_db(row["updated_at"]), from_db(row["next_due"]) if row["status"] == "unpaid" else None)  # type: ignore[arg-type]


def get_order(store: Store, ref: int | str) -> Order:
    """An order by '#12' (its id), its full number, or the end of its number (4 or more characters:
    尾号5678, as the cards show it) when only one order ends so - an unpaid one first; a bare small
    number that is none of these is taken as the id."""
    text = str(ref).strip().lstrip("尾号").strip()
    if isinstance(ref, int) or text.startswith("#"):
        rows = store.query(_SELECT + " WHERE o.id = ?", (int(text.lstrip("#") or 0) if text.lstrip("#").isdigit()
                                                       else -1,))
        if rows:
            return _order(rows[0])
        raise NotFoundError(f"没有订单 {text}", f"No order {text}")
    rows = store.query(_SELECT + " WHERE o.order_no = ?", (text,))
    if len(rows) == 1:
        return _order(rows[0])
    if not rows and len(text) >= 4:
        rows = store.query(_SELECT + " WHERE substr(o.order_no, -?) = ? ORDER BY o.status != 'unpaid', o.id",
                           (len(text), text))
        unpaid = [r for r in rows if r["status"] == "unpaid"]
        if len(unpaid) == 1 or len(rows) == 1:
            return _order((unpaid or rows)[0])
    if not rows and text.isdigit() and len(text) <= 9:
        found = store.query(_SELECT + " WHERE o.id = ?", (int(text),))
        if found:
            return _order(found[0])
    if len(rows) > 1:
        raise _bad(f"有 {len(rows)} 个订单对得上“{text}”，请用完整订单号或 #编号",
                   f"{len(rows)} orders match '{text}'; give the full number or #id", "order")
    raise NotFoundError(f"没有找到订单“{masking.mask_order(text)}”", f"No order '{masking.mask_order(text)}'")


def reveal_order(store: Store, ref: int | str) -> str:
    """The order number as stored: only on explicit request (kefu orders show --reveal, the panel's
    显示完整订单号), like a phone."""
    order = get_order(store, ref)
    return store.query("SELECT order_no FROM orders WHERE id = ?", (order.id,))[0]["order_no"]


def list_orders(store: Store, *, buyer_id: int | None = None, status: str | None = "unpaid",
                since: datetime | None = None, limit: int | None = None) -> list[Order]:
    """Orders, unpaid ones by default (status None or 'all': every status), closing soonest first;
    since: only those added, or paid/closed, at or after that instant."""
    where, params = [], []
    if buyer_id is not None:
        where.append("o.buyer_id = ?")
        params.append(int(buyer_id))
    if status not in (None, "all"):
        where.append("o.status = ?")
        params.append(normalize_status(status))
    if since is not None:
        where.append("(o.created_at >= ? OR o.status_at >= ? OR o.status = 'unpaid')")
        params += [to_db(since)] * 2
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "") + \
        " ORDER BY o.status != 'unpaid', o.deadline_at, o.id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_order(r) for r in store.query(sql, tuple(params))]


def default_deadline(store: Store, platform: str, ordered_at: datetime) -> datetime:
    hours = settings.get(store, DEADLINE_SETTING.get(platform, "orders.deadline_hours_other"))
    return ordered_at + timedelta(hours=int(hours))


# ---------------------------------------------------------------- writing

def _now(store: Store, now: datetime | None) -> datetime:
    return zones.as_utc(now or store.clock.now())


def _buyer(store: Store, buyer_id: int | None, platform: str | None, nickname: str | None,
           shop: str) -> customers.Buyer:
    if buyer_id is not None:
        return customers.get_buyer(store, buyer_id)
    if not platform or not nickname:
        raise _bad("订单需要买家：平台和买家昵称", "An order needs its buyer: platform and nickname", "buyer")
    return customers.get_or_create_buyer(store, platform, nickname, shop)[0]


def add_order(store: Store, order_no: str, *, buyer_id: int | None = None, platform: str | None = None,
              nickname: str | None = None, shop: str = "", amount: Any = None, ordered_at: datetime | None = None,
              deadline: datetime | None = None, item: str = "", status: str = "unpaid", source: str = "typed",
              update: bool = False, now: datetime | None = None) -> tuple[Order, bool]:
    """Add an unpaid order for a buyer (by id, or platform + nickname + shop: created when new), or
    with update=True change the one already stored under this number (values given replace the
    stored ones). Returns (order, added). ordered_at: now when not given; deadline: the platform's
    default after ordered_at when not given. An unpaid order gets its 催付 reminders (planned again
    when its times change); a status given as paid/closed ends them."""
    now = _now(store, now)
    number = clean_order_no(order_no)
    fen = amount if isinstance(amount, int) and not isinstance(amount, bool) else parse_amount(amount)
    if fen is not None and not 0 <= fen <= MAX_AMOUNT_FEN:
        raise _bad("金额无效", "Invalid amount", "amount")
    item_text = customers.clean_text(item, MAX_ITEM, "商品", "item", "item", False)
    state = normalize_status(status)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source}")
    for value in (ordered_at, deadline):
        if value is not None and value.tzinfo is None:
            raise ValueError("aware datetimes only")
    with store.write() as db:
        buyer = _buyer(store, buyer_id, platform, nickname, shop)
        _fill_masked(store, buyer.platform, number)
        existing = store.query("SELECT id, buyer_id, ordered_at, deadline_at, deadline_given, status FROM orders "
                               "WHERE platform = ? AND order_no = ?", (buyer.platform, number))
        if existing and not update:
            raise _bad("这个订单已经添加过了（粘贴或导入会更新它）",
                       "This order was already added (pasting or importing it again updates it)", "order")
        if existing and existing[0]["buyer_id"] != buyer.id:
            raise _bad("这个订单号已经记在另一位买家名下", "This order number belongs to another buyer", "order")
        stamp = to_db(now)
        if existing:
            old = existing[0]
            placed = ordered_at or from_db(old["ordered_at"])
            if deadline is not None:
                closes, given = deadline, True
            elif old["deadline_given"]:
                closes, given = from_db(old["deadline_at"]), True
            else:
                closes, given = default_deadline(store, buyer.platform, placed), False  # type: ignore[arg-type]
            _check_times(placed, closes)  # type: ignore[arg-type]
            sets = {"ordered_at": to_db(placed), "deadline_at": to_db(closes), "deadline_given": int(given),  # type: ignore[arg-type]
                    "updated_at": stamp}
            if fen is not None:
                sets["amount"] = fen
            if item_text:
                sets["item"] = item_text
            db.execute(f"UPDATE orders SET {', '.join(k + ' = ?' for k in sets)} WHERE id = ?",
                       (*sets.values(), old["id"]))
            order_id = int(old["id"])
            retimed = (sets["ordered_at"], sets["deadline_at"]) != (old["ordered_at"], old["deadline_at"])
            if old["status"] == "unpaid" and state != "unpaid":
                _finish(store, order_id, state, now)
            elif old["status"] == "unpaid" and retimed:
                _replan(store, order_id, now)
            added = False
        else:
            placed = ordered_at or now
            closes = deadline or default_deadline(store, buyer.platform, placed)
            _check_times(placed, closes)
            customers.require_free(store, buyer, "记录订单", "add their order", now)
            cur = db.execute(
                "INSERT INTO orders (uuid, buyer_id, platform, order_no, amount, ordered_at, deadline_at, deadline_given, "
                "status, status_at, item, source, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (str(uuidlib.uuid4()), buyer.id, buyer.platform, number, fen, to_db(placed), to_db(closes),
                 int(deadline is not None), state, None if state == "unpaid" else stamp, item_text, source, stamp, stamp))
            order_id = int(cur.lastrowid)
            customers.log_event(store, buyer.id, "order_added", now, detail=f"order {order_id} {state}")
            if state == "unpaid":
                _follow(store, buyer, now)
                _plan(store, order_id, now)
            added = True
        queue_order(store, order_id)
    log.info("order %s %s for buyer %s", order_id, "added" if added else "updated", buyer.id)
    return get_order(store, f"#{order_id}"), added


def _check_times(placed: datetime, closes: datetime) -> None:
    if closes <= placed:
        raise _bad("订单关闭时间应在下单时间之后", "The order's closing time must be after the time it was placed",
                   "deadline")
    if closes - placed > timedelta(days=60):
        raise _bad("订单关闭时间离下单超过 60 天，请检查", "The closing time is more than 60 days after the order; check it",
                   "deadline")


def _follow(store: Store, buyer: customers.Buyer, now: datetime) -> None:
    """The buyer ordered: starred and followed (so the 客户 tab shows them with the order), and their
    pre-order chase (催单) gives way to the order's 催付: pending chase reminders end as 'ordered'."""
    stamp = to_db(now)
    if not buyer.starred or buyer.state != "following":
        agent = settings.get(store, "agent.name") or None
        store.conn.execute("UPDATE buyers SET starred = 1, starred_by = IFNULL(starred_by, ?), "
                           "starred_at = IFNULL(starred_at, ?), state = 'following', updated_at = ? WHERE id = ?",
                           (agent, stamp, stamp, buyer.id))
        if not buyer.starred:
            customers.log_event(store, buyer.id, "starred", now)
    changed = [r["id"] for r in store.query("SELECT id FROM reminders WHERE buyer_id = ? AND kind = 'chase' "
                                            "AND state = 'pending'", (buyer.id,))]
    for rid in changed:
        store.conn.execute("UPDATE reminders SET state = 'cancelled', outcome = 'ordered' WHERE id = ?", (rid,))
    customers.queue_reminders(store, buyer.id, changed)
    customers.claim(store, buyer.id, now)
    customers.queue_fields(store, buyer.id)


def _plan(store: Store, order_id: int, now: datetime, after: datetime | None = None) -> int:
    """Insert the order's 催付 reminders still to come (cadence.plan_order). Returns how many."""
    row = store.query("SELECT o.buyer_id, o.ordered_at, o.deadline_at, b.tz FROM orders o JOIN buyers b "
                      "ON b.id = o.buyer_id WHERE o.id = ?", (order_id,))[0]
    try:
        cadence = reminders.get_cadence(store, ORDER_CADENCE)
    except NotFoundError:
        log.warning("the order cadence is missing; order %s gets no reminders", order_id)
        return 0
    if not cadence.for_order:
        log.warning("cadence %s has no order steps; order %s gets no reminders", ORDER_CADENCE, order_id)
        return 0
    config = reminders.get_config(store)
    plan = cad.plan_order(cadence, created=from_db(row["ordered_at"]), deadline=from_db(row["deadline_at"]),  # type: ignore[arg-type]
                          now=now, hours=config.hours, buyer_tz=zones.zone_or_none(row["tz"]), after=after)
    for index, scheduled in plan:
        store.conn.execute(
            "INSERT INTO reminders (uuid, buyer_id, order_id, kind, cadence_id, step, due_at, planned_at, moved_for, "
            "state, created_at) VALUES (?,?,?, 'order', ?,?,?,?,?, 'pending', ?)",
            (str(uuidlib.uuid4()), row["buyer_id"], order_id, cadence.id, index, to_db(scheduled.at),
             to_db(scheduled.planned), ",".join(scheduled.moved_for), to_db(now)))
    return len(plan)


def _close_reminders(store: Store, order_id: int, now: datetime, outcome: str, only_due: bool = False) -> int:
    """The order's pending reminders: those shown or due become 'done' (acted on now), the rest are
    cancelled (only_due: the rest stay). Returns how many changed."""
    stamp = to_db(now)
    n = store.conn.execute("UPDATE reminders SET state = 'done', outcome = ?, acted_at = ? WHERE order_id = ? "
                           "AND state = 'pending' AND (fired_at IS NOT NULL OR due_at <= ?)",
                           (outcome, stamp, order_id, stamp)).rowcount
    if not only_due:
        n += store.conn.execute("UPDATE reminders SET state = 'cancelled', outcome = ? WHERE order_id = ? "
                                "AND state = 'pending'", (outcome, order_id)).rowcount
    return n


def _replan(store: Store, order_id: int, now: datetime) -> None:
    """The order's times changed: the reminders not yet due are planned again (from the last chase
    for this order, so a step already acted on is not repeated)."""
    store.conn.execute("UPDATE reminders SET state = 'cancelled', outcome = 'rescheduled' WHERE order_id = ? "
                       "AND state = 'pending' AND fired_at IS NULL AND due_at > ?", (order_id, to_db(now)))
    last = store.query("SELECT max(acted_at) AS t FROM reminders WHERE order_id = ? AND outcome = 'chased'",
                       (order_id,))[0]["t"]
    _plan(store, order_id, now, after=from_db(last))


def _finish(store: Store, order_id: int, status: str, now: datetime) -> None:
    stamp = to_db(now)
    row = store.query("SELECT buyer_id FROM orders WHERE id = ?", (order_id,))[0]
    store.conn.execute("UPDATE orders SET status = ?, status_at = ?, updated_at = ? WHERE id = ?",
                       (status, stamp, stamp, order_id))
    _close_reminders(store, order_id, now, status)
    buyer = customers.get_buyer(store, row["buyer_id"])
    customers.log_event(store, buyer.id, f"order_{status}", now, detail=f"order {order_id}")
    others = store.query("SELECT 1 FROM orders WHERE buyer_id = ? AND status = 'unpaid' AND id != ? LIMIT 1",
                         (buyer.id, order_id))
    if others or not buyer.starred or buyer.state != "following":
        return
    if status == "paid":
        reminders.outcome(store, buyer.id, "paid", now)  # a conversion, and the buyer's other chases end
    elif "revisit" in reminders.cadences(store):
        reminders.start_cadence(store, buyer.id, "revisit", now)  # did not pay: back to the revisit


def set_status(store: Store, ref: int | str, status: str, now: datetime | None = None) -> Order:
    """Mark an unpaid order paid or closed: its reminders end now with that outcome (see the module)."""
    now = _now(store, now)
    state = normalize_status(status)
    if state == "unpaid":
        raise _bad("只能把订单标记为已付款或已关闭", "An order can be marked paid or closed", "status")
    with store.write():
        order = get_order(store, ref)
        if order.status != "unpaid":
            raise _bad(f"这个订单已经是“{STATUSES[order.status][0]}”了", f"This order is already {order.status}", "status")
        # team mode: the buyer's holder (or a supervisor) changes its orders; the server refuses others too
        if teamstate.team_kind(store) != "supervisor":
            customers.require_free(store, customers.get_buyer(store, order.buyer_id),
                                   f"标记订单{STATUSES[state][0]}", f"mark the order {state}", now)
        _finish(store, order.id, state, now)
        queue_order(store, order.id)
    log.info("order %s marked %s", order.id, state)
    return get_order(store, f"#{order.id}")


def mark_paid(store: Store, ref: int | str, now: datetime | None = None) -> Order:
    return set_status(store, ref, "paid", now)


def mark_closed(store: Store, ref: int | str, now: datetime | None = None) -> Order:
    return set_status(store, ref, "closed", now)


def paste_order(store: Store, text: str, *, buyer_id: int | None = None, platform: str | None = None,
                nickname: str | None = None, shop: str = "", now: datetime | None = None) -> tuple[Order, bool, Parsed]:
    """An order pasted from the chat client: parsed, then added (or the stored one updated). Needs at
    least the order number; what was not found takes the defaults (placed now, the platform's
    deadline). Returns (order, added, parsed)."""
    now = _now(store, now)
    tz = reminders.get_config(store).agent_tz
    parsed = parse_order_text(text, tz=tz, now=now)
    if parsed.order_no is None:
        raise _bad("没有在粘贴的文字里找到订单号（应有“订单号：…”或一串 12 位以上的数字）",
                   "No order number found in the pasted text (expected '订单号: …' or a run of 12+ digits)", "text")
    if buyer_id is None and platform is None:
        platform = parsed.platform
    order, added = add_order(store, parsed.order_no, buyer_id=buyer_id, platform=platform, nickname=nickname, shop=shop,
                             amount=parsed.amount, ordered_at=parsed.ordered_at, deadline=parsed.deadline,
                             item=parsed.item or "", source="pasted", update=True, now=now)
    return order, added, parsed


# ---------------------------------------------------------------- chasing

def propose(store: Store, ref: int | str, now: datetime | None = None, override: bool = False) -> reminders.ChaseProposal:
    """The 催付 script for this order now: one over {订单号} {金额} {截止时间} not yet sent to the
    buyer first, those fields filled in (reminders.propose with the order)."""
    order = get_order(store, ref)
    return reminders.propose(store, order.buyer_id, now, override, order_id=order.id)


def record_chase(store: Store, ref: int | str, reply_id: int | None, now: datetime | None = None) -> reminders.ChaseRecorded:
    """A 催付 was sent for this order: the chase is recorded in the buyer's history (as any chase:
    its script is never proposed to them again), and the order's reminders already shown or due end
    as 'chased'. The later steps stay as planned."""
    now = _now(store, now)
    with store.write() as db:
        order = get_order(store, ref)
        if order.status != "unpaid":
            raise _bad("这个订单已经不是未付款了", "This order is no longer unpaid", "order")
        due = store.query("SELECT id FROM reminders WHERE order_id = ? AND state = 'pending' AND (fired_at IS NOT NULL "
                          "OR due_at <= ?) ORDER BY due_at DESC LIMIT 1", (order.id, to_db(now)))
        recorded = reminders.record_chase(store, order.buyer_id, reply_id, now)
        if due:
            db.execute("UPDATE chases SET reminder_id = IFNULL(reminder_id, ?) WHERE id = ?",
                       (due[0]["id"], recorded.chase_id))
        _close_reminders(store, order.id, now, "chased", only_due=True)
        following = store.query("SELECT min(due_at) AS t FROM reminders WHERE order_id = ? AND state = 'pending'",
                                (order.id,))[0]["t"]
    return reminders.ChaseRecorded(recorded.chase_id, recorded.warnings, from_db(following))


# ---------------------------------------------------------------- import / export

@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


# The order sheet's columns, in the order the template and the export write them.
COLUMNS: tuple[Column, ...] = (
    Column("order_no", "订单号", "Order number", ("订单编号", "订单号码", "订单ID", "订单id", "主订单编号", "主订单号",
                                                  "order no", "order id", "order_no", "order number")),
    Column("nickname", "买家", "Buyer", ("买家昵称", "买家会员名", "买家账号", "买家ID", "买家id", "用户昵称", "客户",
                                       "buyer nick", "buyer nickname", "nickname")),
    Column("platform", "平台", "Platform", ("渠道", "来源平台")),
    Column("shop", "店铺", "Shop", ("店铺名称", "shop name")),
    Column("amount", "金额", "Amount", ("实付款", "实付金额", "应付金额", "订单金额", "买家应付货款", "总金额", "支付金额",
                                      "应付款", "amount", "total")),
    Column("ordered_at", "下单时间", "Created", ("订单创建时间", "创建时间", "拍下时间", "提交时间", "订单提交时间",
                                           "created at", "order time")),
    Column("deadline", "关闭时间", "Deadline", ("付款截止时间", "支付截止时间", "截止时间", "自动关闭时间", "pay by")),
    Column("status", "状态", "Status", ("订单状态",)),
    Column("item", "商品", "Item", ("商品名称", "宝贝标题", "商品标题", "宝贝名称", "title")),
)
_HEADERS: dict[str, Column] = {}
for _c in COLUMNS:
    for _h in (_c.zh, _c.en, *_c.aliases):
        _HEADERS[_h.strip().lower()] = _c
_COLUMN_NAMES = {c.key: (c.zh, c.en) for c in COLUMNS}


def _err(zh: str, en: str, row: int | None = None) -> ImportFileError:
    if row is not None:
        zh, en = f"第 {row} 行：{zh}", f"row {row}: {en}"
    return ImportFileError(f"订单文件无法导入：{zh}", f"Cannot import the order file: {en}", row=row)


def _fail(zh: str, en: str) -> ImportFileError:
    return _err(zh, en)


def read_rows(path: Path | str, *, tz: tzinfo, now: datetime, platform: str | None = None,
              shop: str | None = None) -> list[dict[str, Any]]:
    """The orders of a CSV or XLSX export, validated: [{key: value}] with the row number under "_row".
    platform/shop: for rows without that column. Raises ImportFileError naming the first bad row."""
    rows = table.rows(Path(path), _fail, limit=MAX_FILE_BYTES, max_rows=MAX_ROWS, max_cols=len(COLUMNS) + 40)
    header: list[Column | None] | None = None
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    default_platform = customers.normalize_platform(platform) if platform else None
    for number, cells in enumerate(rows, 1):
        if not any(str(c).strip() for c in cells):
            continue
        if header is None:
            header = [_HEADERS.get(unicodedata.normalize("NFKC", str(c)).strip().lower()) for c in cells]
            keys = [c.key for c in header if c is not None]
            dup = next((k for k in keys if keys.count(k) > 1), None)
            if dup:
                raise _err(f"表头里“{_COLUMN_NAMES[dup][0]}”出现了两次", f"the header has '{_COLUMN_NAMES[dup][1]}' twice",
                           number)
            if "order_no" not in keys or "nickname" not in keys:
                raise _err("第一行应是表头，且要有“订单号”和“买家”列（可先导出模板：kefu orders template）",
                           "the first row must be the header, with 'Order number' (订单号) and 'Buyer' (买家) columns "
                           "(export the template: kefu orders template)", number)
            if "platform" not in keys and default_platform is None:
                raise _err("文件没有“平台”列：请用 --platform 指明平台", "the file has no 'Platform' column: give --platform",
                           number)
            continue
        if len(out) >= MAX_ROWS:
            raise _err(f"订单太多（最多 {MAX_ROWS} 行）", f"too many orders (at most {MAX_ROWS} rows)")
        raw = {c.key: v for c, v in zip(header, cells) if c is not None and str(v).strip()}
        try:
            values: dict[str, Any] = {
                "order_no": clean_order_no(raw.get("order_no")),
                "nickname": customers.clean_nickname(raw.get("nickname")),
                "platform": customers.normalize_platform(raw["platform"]) if "platform" in raw else default_platform,
                "shop": customers.clean_shop(raw.get("shop", shop or "")),
                "amount": parse_amount(raw.get("amount")),
                "ordered_at": parse_time(raw["ordered_at"], tz, now) if "ordered_at" in raw else None,
                "deadline": parse_time(raw["deadline"], tz, now) if "deadline" in raw else None,
                "status": normalize_status(raw.get("status") or "unpaid"),
                "item": customers.clean_text(raw.get("item"), MAX_ITEM, "商品", "item", "item", False),
            }
            if values["ordered_at"] and values["deadline"]:
                _check_times(values["ordered_at"], values["deadline"])
        except ValidationError as exc:
            raise _err(exc.zh.rstrip("。"), exc.en, number) from exc
        key = (values["platform"], values["order_no"])
        if key in seen:
            raise _err(f"这个订单在第 {seen[key]} 行已经出现过", f"the same order is already on row {seen[key]}", number)
        seen[key] = number
        values["_row"] = number
        out.append(values)
    if header is None:
        raise _err("文件是空的", "the file is empty")
    return out


def import_file(store: Store, path: Path | str, *, platform: str | None = None, shop: str | None = None,
                now: datetime | None = None) -> ImportResult:
    """Import a platform's order export, all or nothing. An order already stored (same platform and
    number) is updated - its status too (an order now paid or closed ends its reminders); a new
    unpaid one is added with its 催付 reminders; a paid or closed order never tracked here is skipped."""
    now = _now(store, now)
    rows = read_rows(path, tz=reminders.get_config(store).agent_tz, now=now, platform=platform, shop=shop)
    result = ImportResult()
    with store.write():
        for values in rows:
            number = values.pop("_row")
            present = store.query("SELECT id FROM orders WHERE platform = ? AND order_no = ?",
                                  (values["platform"], values["order_no"]))
            if not present and values["status"] != "unpaid":
                result.skipped += 1
                continue
            try:
                order, added = add_order(store, values["order_no"], platform=values["platform"],
                                         nickname=values["nickname"], shop=values["shop"], amount=values["amount"],
                                         ordered_at=values["ordered_at"], deadline=values["deadline"],
                                         item=values["item"], status=values["status"], source="imported", update=True,
                                         now=now)
            except (ValidationError, NotFoundError) as exc:
                raise _err(exc.zh.rstrip("。"), exc.en, number) from exc
            result.added += added
            result.updated += not added
            result.ids.append(order.id)
    log.info("orders imported: %s added, %s updated, %s skipped", result.added, result.updated, result.skipped)
    return result


def _local(when: datetime | None, tz: tzinfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if when else ""


def export_file(store: Store, path: Path | str, *, status: str | None = "all", full_numbers: bool = False,
                template: bool = False) -> int:
    """Write the orders (template=True: one example row) as CSV (UTF-8 with BOM) or XLSX by the file's
    extension, in the columns import reads back. Order numbers are masked unless full_numbers (a
    masked file cannot be imported again: import refuses masked numbers). Returns the rows written."""
    path = Path(path)
    tz = reminders.get_config(store).agent_tz
    if template:
        placed = datetime(2026, 11, 10, 20, 15, tzinfo=tz)
        rows = [["3391204857162093345", "小鹿爱喝茶", "taobao", "", "128.00", _local(placed, tz),
                 _local(placed + timedelta(hours=72), tz), "等待买家付款", "不锈钢保温杯 500ml"]]
    else:
        orders = list_orders(store, status=status)
        numbers = {r["id"]: r["order_no"] for r in store.query("SELECT id, order_no FROM orders")}
        rows = [[numbers[o.id] if full_numbers else o.order_masked, o.nickname, o.platform, o.shop, o.amount_text,
                 _local(o.ordered_at, tz), _local(o.deadline_at, tz), STATUSES[o.status][0], o.item] for o in orders]
    headers = [c.zh for c in COLUMNS]
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        def write(tmp: Path) -> None:
            writer = XlsxWriter(title="未付款订单")
            writer.sheet("订单", [(h, "text") for h in headers], rows)
            writer.save(tmp)
    elif suffix == ".csv":
        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(headers)
                for row in rows:
                    out.writerow([csv_neutralise(neutralise(c)) for c in row])
    else:
        raise _bad(f"不支持的文件类型“{suffix or '无扩展名'}”（请用 .csv 或 .xlsx）",
                   f"Unsupported file type '{suffix or 'no extension'}' (use .csv or .xlsx)", "path")
    atomic.write_atomic(path, write)
    return len(rows)


def countdown(deadline: datetime, now: datetime, lang: str = "zh") -> str:
    """'还剩 3小时20分' / 'closes in 3h 20m'; '已超时' / 'past the deadline' once it has passed."""
    left = deadline - now
    if left <= timedelta(0):
        return "已过关闭时间" if lang != "en" else "past the deadline"
    minutes = int(left.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "en":
        text = (f"{days}d " if days else "") + (f"{hours}h " if hours or days else "") + f"{mins}m"
        return "closes in " + text.strip()
    text = (f"{days}天" if days else "") + (f"{hours}小时" if hours or days else "") + f"{mins}分"
    return "还剩 " + text



# ---------------------------------------------------------------- handover (core/handover)

def handover_buyer_ids(store: Store, since: datetime) -> list[int]:
    """The buyers of the orders a handover file carries (see handover_docs)."""
    return [r["buyer_id"] for r in store.query("SELECT DISTINCT buyer_id FROM orders WHERE status = 'unpaid' "
                                               "OR status_at >= ?", (to_db(since),))]


def handover_docs(store: Store, since: datetime, buyer_uuids: set[str], *, full_numbers: bool = False) -> list[dict]:
    """The orders a handover file carries, for the buyers in it: every unpaid one, and those paid or
    closed since the shift began (so the next shift knows they are done). Numbers masked unless
    full_numbers (a file with phones included)."""
    rows = store.query(
        "SELECT o.uuid, b.uuid AS buyer, o.platform, o.order_no, o.amount, o.ordered_at, o.deadline_at, "
        "o.deadline_given, o.status, o.status_at, o.item, o.source, o.created_at, o.updated_at FROM orders o "
        "JOIN buyers b ON b.id = o.buyer_id WHERE o.status = 'unpaid' OR o.status_at >= ? "
        "ORDER BY o.status != 'unpaid', o.deadline_at, o.id", (to_db(since),))
    return [{**r, "order_no": r["order_no"] if full_numbers else masking.mask_order(r["order_no"]),
             "item": r["item"] if full_numbers else masking.mask_text(r["item"]),
             "deadline_given": bool(r["deadline_given"])} for r in rows if r["buyer"] in buyer_uuids]


def _local_for(store: Store, doc: dict) -> dict | None:
    rows = store.query("SELECT id, uuid, order_no, status, updated_at FROM orders WHERE uuid = ?", (doc["uuid"],)) or \
        store.query("SELECT id, uuid, order_no, status, updated_at FROM orders WHERE platform = ? AND order_no = ?",
                    (doc["platform"], doc["order_no"]))
    if not rows and "*" in doc["order_no"]:  # a masked copy of a number stored here in full
        rows = [r for r in store.query("SELECT id, uuid, order_no, status, updated_at FROM orders WHERE platform = ? "
                                       "AND substr(order_no, -4) = ?", (doc["platform"], doc["order_no"][-4:]))
                if masking.mask_order(r["order_no"]) == doc["order_no"]]
    return rows[0] if rows else None


def handover_change(store: Store, doc: dict) -> str:
    """What importing this order of a handover file would do: 'added', 'updated' or 'unchanged'."""
    local = _local_for(store, doc)
    if local is None:
        return "added"
    newer = doc["updated_at"] > local["updated_at"] and doc["status"] != local["status"]
    fuller = "*" in local["order_no"] and "*" not in doc["order_no"] and masking.mask_order(doc["order_no"]) == \
        local["order_no"]
    return "updated" if newer or fuller else "unchanged"


def apply_handover(store: Store, doc: dict, buyer_id: int, now: datetime) -> str:
    """Import one order of a handover file (inside the import's transaction), once: by its uuid (or
    its number). A new unpaid order gets its 催付 reminders planned here from now; an order the file
    has as paid or closed (a newer record) ends its reminders here. A masked number never replaces
    the full one stored here; a full one fills in a masked copy."""
    change = handover_change(store, doc)
    local = _local_for(store, doc)
    stamp = to_db(now)
    if local is None:
        cur = store.conn.execute(
            "INSERT INTO orders (uuid, buyer_id, platform, order_no, amount, ordered_at, deadline_at, deadline_given, "
            "status, status_at, item, source, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?, 'handover', ?,?)",
            (doc["uuid"], buyer_id, doc["platform"], doc["order_no"], doc["amount"], doc["ordered_at"],
             doc["deadline_at"], int(doc["deadline_given"]), doc["status"], doc["status_at"], doc["item"],
             doc["created_at"], doc["updated_at"]))
        if doc["status"] == "unpaid":
            _plan(store, int(cur.lastrowid), now)
        queue_order(store, int(cur.lastrowid))  # team mode: the team hears of it too
        return change
    if change == "unchanged":
        return change
    if "*" in local["order_no"] and "*" not in doc["order_no"]:
        store.conn.execute("UPDATE orders SET order_no = ? WHERE id = ?", (doc["order_no"], local["id"]))
    if doc["updated_at"] > local["updated_at"] and doc["status"] != local["status"]:
        store.conn.execute("UPDATE orders SET status = ?, status_at = ?, updated_at = ? WHERE id = ?",
                           (doc["status"], doc["status_at"], doc["updated_at"], local["id"]))
        if doc["status"] == "unpaid":
            _plan(store, local["id"], now)
        else:
            _close_reminders(store, local["id"], now, doc["status"])
    queue_order(store, local["id"])
    log.info("order %s updated from a handover at %s", local["id"], stamp)
    return change


# ---------------------------------------------------------------- team mode (team schema step 9)

def _is_full(number: str) -> bool:
    return "*" not in number


def _fill_masked(store: Store, platform: str, number: str) -> None:
    """A full number typed, pasted or imported for an order this PC holds only masked (pulled from the
    team server, or from a handover file): that order gets the number, rather than a twin being added."""
    if not _is_full(number) or len(number) <= 4:
        return
    rows = [r for r in store.query("SELECT id, order_no FROM orders WHERE platform = ? AND substr(order_no, -4) = ? "
                                   "AND instr(order_no, '*') > 0", (platform, number[-4:]))
            if r["order_no"] == masking.mask_order(number)]
    if len(rows) == 1:
        store.conn.execute("UPDATE orders SET order_no = ? WHERE id = ?", (number, rows[0]["id"]))


def queue_order(store: Store, order_id: int) -> bool:
    """Queue the order (and its 催付 reminders) for the team server, inside the caller's write, when its
    buyer is shared. The server gets the masked number on the row every agent reads, and the full one
    (when this PC has it) for the table only kefu_reveal_order_number reads. Returns whether queued."""
    row = store.query("SELECT o.*, b.uuid AS buyer_uuid, b.team_shop AS buyer_shop FROM orders o "
                      "JOIN buyers b ON b.id = o.buyer_id WHERE o.id = ?", (order_id,))
    if not row or row[0]["buyer_shop"] is None or not customers.team_role(store):
        return False
    o = row[0]
    if o["team_shop"] == "":
        return False  # refused by the server once: this PC's own (restore_refused)
    if o["team_shop"] != o["buyer_shop"]:
        store.conn.execute("UPDATE orders SET team_shop = ? WHERE id = ?", (o["buyer_shop"], order_id))
    outbox.add(store, "order.put", o["uuid"], {
        "buyer": o["buyer_uuid"], "number": o["order_no"] if _is_full(o["order_no"]) else None,
        "order": {"platform": o["platform"], "masked": masking.mask_order(o["order_no"]), "amount": o["amount"],
                  "ordered_at": o["ordered_at"], "deadline_at": o["deadline_at"],
                  "deadline_given": bool(o["deadline_given"]), "status": o["status"], "item": o["item"],
                  "source": o["source"]}})
    ids = [r["id"] for r in store.query("SELECT id FROM reminders WHERE order_id = ?", (order_id,))]
    customers.queue_reminders(store, o["buyer_id"], ids)
    return True


def share_all(store: Store) -> int:
    """Every order of a shared buyer not on the team server yet (made before joining, or imported from a
    handover before the buyer was shared) is queued, inside the caller's write; each sync's identity
    refresh calls it, after the followed buyers were shared. Returns how many."""
    if not customers.team_role(store):
        return 0
    rows = store.query("SELECT o.id FROM orders o JOIN buyers b ON b.id = o.buyer_id WHERE o.team_shop IS NULL "
                       "AND b.team_shop IS NOT NULL ORDER BY o.id")
    return sum(queue_order(store, r["id"]) for r in rows)


ORDER_FEED_COLUMNS = ("id, buyer, platform, order_masked, amount, ordered_at, deadline_at, deadline_given, status, "
                      "status_at, item, source, updated_at")


def apply_order_row(store: Store, row: dict, ctx: dict) -> str:
    """An order of a shared buyer as the server has it (the pull, inside its write). New here: kept with
    the masked number (the full one stays on the server: revealed on request, audited). Known here: its
    amount and times follow the server; paid or closed there ends its 催付 here at once. A local change
    still unsent wins until the push brings the server's answer."""
    oid = str(row["id"])
    buyer = store.query("SELECT id, team_shop FROM buyers WHERE uuid = ?", (str(row["buyer"]),))
    if not buyer:
        return "skipped"
    if outbox.has_pending(store, oid):
        return "skipped"
    local = store.query("SELECT id, status, order_no FROM orders WHERE uuid = ?", (oid,))
    stamp = to_db(store.clock.now())
    status_at = to_db(row["status_at"]) if row["status_at"] is not None else None
    common = (row["amount"], to_db(row["ordered_at"]), to_db(row["deadline_at"]), int(bool(row["deadline_given"])),
              row["item"] or "")
    if not local:
        store.conn.execute(
            "INSERT INTO orders (uuid, buyer_id, platform, order_no, amount, ordered_at, deadline_at, deadline_given, "
            "item, status, status_at, source, created_at, updated_at, team_shop) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (oid, buyer[0]["id"], row["platform"], row["order_masked"], *common, row["status"], status_at,
             row["source"] if row["source"] in SOURCES else "typed", stamp, to_db(row["updated_at"]),
             buyer[0]["team_shop"]))
        return "added"
    old = local[0]
    store.conn.execute("UPDATE orders SET amount = ?, ordered_at = ?, deadline_at = ?, deadline_given = ?, item = ?, "
                       "team_shop = ? WHERE id = ?", (*common, buyer[0]["team_shop"], old["id"]))
    if old["status"] == "unpaid" and row["status"] != "unpaid":
        store.conn.execute("UPDATE orders SET status = ?, status_at = ?, updated_at = ? WHERE id = ?",
                           (row["status"], status_at or stamp, stamp, old["id"]))
        _close_reminders(store, old["id"], store.clock.now(), row["status"])
    return "updated"


def restore_refused(store: Store, target: str, server: dict | None) -> None:
    """The server refused this PC's change of an order (inside the push's settle write): the local row
    goes back to the server's (an order it never had stays this PC's own), so nothing stays
    half-written here; the change itself is kept in the conflict record."""
    local = store.query("SELECT id, status FROM orders WHERE uuid = ?", (target,))
    if not local:
        return
    if server is None:
        # '' = the server refused it (its number is another order's, the buyer was someone else's): it
        # stays this PC's own and is not offered again at every sync (the conflict says why)
        store.conn.execute("UPDATE orders SET team_shop = '' WHERE id = ?", (local[0]["id"],))
        return
    if local[0]["status"] != "unpaid" and server["status"] == "unpaid":
        # the paid/closed this PC recorded did not happen on the server: the order is open again here
        store.conn.execute("UPDATE orders SET status = 'unpaid', status_at = NULL WHERE id = ?", (local[0]["id"],))
        if not store.query("SELECT 1 FROM reminders WHERE order_id = ? AND state = 'pending'", (local[0]["id"],)):
            _plan(store, local[0]["id"], store.clock.now())
    apply_order_row(store, server, {})


def reveal_order_text(store: Store, ref: int | str, reveal_remote: Any = None) -> str:
    """The full order number: this PC's copy, or for a shared order whose full number only the team
    server holds, reveal_remote(order uuid) (the sync client's audited reveal)."""
    order = get_order(store, ref)
    number = store.query("SELECT order_no FROM orders WHERE id = ?", (order.id,))[0]["order_no"]
    if _is_full(number) or reveal_remote is None:
        return number
    return reveal_remote(order.uuid) or number
