"""After-sales cases (售后): one problem of one buyer, from the buyer's first complaint to its close.

A case records the order number (stored as given, shown masked like a phone), the product, the problem
in the buyer's words, a category (data: aftersales_categories, a shop adds its own), the severity
(轻度/中度/严重), what the buyer wants, their mood, and moves through

    新建 new → 安抚中 calming → 方案已提出 proposed → 待仓库 warehouse / 待主管 manager → 已解决 resolved / 已关闭 closed

only along TRANSITIONS (anything else is a ValidationError naming both states). Beside the status the
agent works through the four calming steps (倾听 → 道歉安抚 → 合理承诺 → 解决跟进), each with the library
scripts tagged for it in resources/aftersales/default.json.

The retention ladder (挽单): compensate before exchange before return before refund. proposal() gives
the rungs that fit the severity (light: calm + compensate; medium: compensate or exchange; severe:
exchange, not refund). Every offer is checked against the agent's limit (挽单权限: aftersales_limits,
per severity and optionally per product, set by the shop manager; the shipped defaults until then):
an offer above it is NOT recorded as made; it is recorded as blocked and becomes an escalation
(status 待主管) with a summary the agent copies to the supervisor (QQ/WeChat). The supervisor's
decision (decide()) is recorded with their name; an approved offer is then recorded as made by them.

While a buyer has an open case they get no sales chase and no promotion wave slot (core/caseguard.py,
asked by core/reminders.py); instead the case has its own follow-up cadence per status (data, same
format as resources/cadences) and promised call-backs, as reminders of kind 'aftersales'.

Amounts are whole fen (分) in the store; money() parses "12.5", "¥12", "12元". Buyer text (problem,
feelings, nicknames, order numbers) is never logged: ids only.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import unicodedata
import uuid as uuidlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..errors import NotFoundError, ValidationError
from ..paths import resource_path
from . import cadence as cad
from . import caseguard, caseteam, customers, masking, reminders, settings, zones
from .caseguard import OPEN_STATUSES
from .clock import from_db, to_db
from .store import Store

log = logging.getLogger(__name__)

FORMAT = "kefu-assistant.aftersales"

STATUSES: dict[str, tuple[str, str]] = {
    "new": ("新建", "new"),
    "calming": ("安抚中", "calming"),
    "proposed": ("方案已提出", "offer made"),
    "warehouse": ("待仓库", "waiting for the warehouse"),
    "manager": ("待主管", "waiting for the supervisor"),
    "resolved": ("已解决", "resolved"),
    "closed": ("已关闭", "closed"),
}
CLOSED_STATUSES = ("resolved", "closed")
# Valid moves only. A case starts by listening (new never jumps to resolved); a resolved or closed case
# can be reopened (the buyer comes back), which starts calming again.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"calming", "proposed", "warehouse", "manager", "closed"}),
    "calming": frozenset({"proposed", "warehouse", "manager", "resolved", "closed"}),
    "proposed": frozenset({"calming", "warehouse", "manager", "resolved", "closed"}),
    "warehouse": frozenset({"calming", "proposed", "manager", "resolved", "closed"}),
    "manager": frozenset({"calming", "proposed", "resolved", "closed"}),
    "resolved": frozenset({"closed", "calming"}),
    "closed": frozenset({"calming"}),
}
SEVERITIES: dict[str, tuple[str, str]] = {"light": ("轻度", "light"), "medium": ("中度", "medium"),
                                          "severe": ("严重", "severe")}
WANTED: dict[str, tuple[str, str]] = {"refund": ("退款", "refund"), "return": ("退货", "return"),
                                      "exchange": ("换货", "exchange"), "compensation": ("补偿", "compensation"),
                                      "explanation": ("解释", "explanation")}
MOODS: dict[str, tuple[str, str]] = {"calm": ("平静", "calm"), "upset": ("不满", "upset"), "angry": ("生气", "angry")}
BUYER_MOOD = caseguard.BUYER_MOOD  # one mood per buyer (core/caseguard.py)
# The ladder, cheapest rung first.
OFFERS: dict[str, tuple[str, str]] = {"compensate": ("补偿", "compensate"), "exchange": ("换货", "exchange"),
                                      "return": ("退货退款", "return"), "refund": ("退款", "refund")}
LADDER = tuple(OFFERS)
OUTCOMES: dict[str, tuple[str, str]] = {
    "compensated": ("已补偿", "compensated"), "exchanged": ("已换货", "exchanged"), "returned": ("已退货退款", "returned"),
    "refunded": ("已退款", "refunded"), "explained": ("已解释清楚", "explained"), "withdrawn": ("买家撤回", "withdrawn"),
}
OFFER_OF_OUTCOME = {"compensated": "compensate", "exchanged": "exchange", "returned": "return", "refunded": "refund"}
# Outcomes that count as a refund in the KPIs (退款 and 退货退款): their categories are the refund reasons.
REFUND_OUTCOMES = ("refunded", "returned")
STEP_COUNT = 4

_ALIASES: dict[str, str] = {
    # severity
    "轻": "light", "轻微": "light", "中": "medium", "重": "severe", "严重的": "severe",
    # wanted / offers
    "退": "refund", "仅退款": "refund", "退货退款": "return", "换": "exchange", "赔偿": "compensation",
    "补差价": "compensation", "说明": "explanation",
    # moods
    "冷静": "calm", "着急": "upset", "生气了": "angry", "愤怒": "angry", "unhappy": "upset", "不满意": "upset",
}
MAX_PROBLEM = 2000
MAX_TEXT = 2000
MAX_ORDER = 64
MAX_PRODUCT = 80
MAX_CATEGORY = 20
MAX_AMOUNT_FEN = 100_000_000  # ¥1,000,000: anything above is a typing error


# ---------------------------------------------------------------- names and values

def _pick(table: dict[str, tuple[str, str]], text: Any, zh_what: str, en_what: str, fieldname: str,
          extra: dict[str, str] | None = None) -> str:
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    low = raw.lower()
    if low in table:
        return low
    for code, (zh, en) in table.items():
        if raw == zh or low == en.lower():
            return code
    alias = (extra or _ALIASES).get(raw)
    if alias in table:
        return alias  # type: ignore[return-value]
    zh_choices = "、".join(f"{zh}（{code}）" for code, (zh, _) in table.items())
    raise ValidationError(f"{zh_what}“{raw}”无效，可选：{zh_choices}",
                          f"Unknown {en_what} '{raw}'; one of {', '.join(table)}", field=fieldname)


def normalize_severity(text: Any) -> str:
    return _pick(SEVERITIES, text, "严重程度", "severity", "severity")


def normalize_wanted(text: Any) -> str:
    return _pick(WANTED, text, "买家诉求", "wanted outcome", "wanted")


def normalize_mood(text: Any) -> str:
    return _pick(MOODS, text, "买家情绪", "mood", "mood")


def normalize_offer(text: Any) -> str:
    return _pick(OFFERS, text, "方案", "offer", "offer", {"赔偿": "compensate", "补差价": "compensate", "换": "exchange",
                                                       "退货": "return", "仅退款": "refund", "退": "refund"})


def normalize_outcome(text: Any) -> str:
    return _pick(OUTCOMES, text, "结果", "outcome", "outcome", {"补偿": "compensated", "换货": "exchanged",
                                                             "退货": "returned", "退款": "refunded", "撤回": "withdrawn",
                                                             "解释": "explained"})


def normalize_status(text: Any) -> str:
    return _pick(STATUSES, text, "状态", "status", "status")


def money(text: Any, fieldname: str = "amount") -> int:
    """'12', '12.5', '¥12.50', '12元' → fen. Negative, more than two decimals or absurd sums are refused."""
    if isinstance(text, bool):
        raise ValidationError("金额无效", "Invalid amount", field=fieldname)
    if isinstance(text, int):
        raw = str(text)
    else:
        raw = unicodedata.normalize("NFKC", str(text or "")).strip().replace(",", "")
        raw = re.sub(r"^[¥￥]|元$|块$|rmb$|cny$", "", raw, flags=re.IGNORECASE).strip()
    m = re.fullmatch(r"(\d{1,9})(?:\.(\d{1,2}))?", raw)
    if not m:
        raise ValidationError(f"金额“{str(text)[:20]}”无效，应写成 12 或 12.50", f"Invalid amount '{str(text)[:20]}'; "
                              "write 12 or 12.50", field=fieldname)
    fen = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
    if fen > MAX_AMOUNT_FEN:
        raise ValidationError("金额太大", "The amount is too large", field=fieldname)
    return fen


def yuan(fen: int | None) -> str:
    """fen → '12.50' (empty for None)."""
    if fen is None:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


mask_order = masking.mask_order  # one masking for every order number (unpaid orders use it too)


def _clean(text: Any, limit: int, zh: str, en: str, fieldname: str, required: bool = False) -> str:
    return customers.clean_text(text, limit, zh, en, fieldname, required)


def current_agent(store: Store) -> str:
    """Who acts on this PC: the team login role when connected, else the agent's name (may be '')."""
    return customers.team_role(store) or str(settings.get(store, "agent.name") or "")


# ---------------------------------------------------------------- data (resources/aftersales)

@dataclass(frozen=True)
class StepDef:
    step: int
    zh: str
    en: str
    hint_zh: str
    hint_en: str
    group: str
    scripts: tuple[str, ...]


@dataclass(frozen=True)
class Rung:
    severity: str
    zh: str
    en: str
    calm_first: bool
    offers: tuple[str, ...]
    group: str
    scripts: tuple[str, ...]


@dataclass(frozen=True)
class Data:
    steps: tuple[StepDef, ...]
    ladder: dict[str, Rung]
    limits: dict[str, dict[str, Any]]
    followup: dict[str, cad.Cadence]  # by status


def data_from_document(doc: Any) -> Data:
    """Validate the after-sales data file (resources/aftersales/default.json)."""
    def bad(zh: str, en: str) -> ValidationError:
        return ValidationError(f"售后数据文件：{zh}", f"After-sales data file: {en}", field="aftersales")

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad("格式不对", f"not a {FORMAT} document")
    steps = []
    for i, raw in enumerate(doc.get("steps") or [], 1):
        if not isinstance(raw, dict) or raw.get("step") != i:
            raise bad(f"第 {i} 步格式不对", f"step {i} is malformed")
        steps.append(StepDef(i, str(raw["zh"]), str(raw["en"]), str(raw.get("hint_zh", "")), str(raw.get("hint_en", "")),
                             str(raw.get("group", "")), tuple(str(c) for c in raw.get("scripts", []))))
    if len(steps) != STEP_COUNT:
        raise bad("应有 4 个安抚步骤", "there must be 4 calming steps")
    ladder = {}
    for sev in SEVERITIES:
        raw = (doc.get("ladder") or {}).get(sev)
        if not isinstance(raw, dict):
            raise bad(f"缺少 {sev} 的挽单方案", f"no ladder rung for {sev}")
        offers = tuple(normalize_offer(o) for o in raw.get("offers", []))
        if not offers or list(offers) != sorted(offers, key=LADDER.index):
            raise bad(f"{sev} 的方案应按“补偿→换货→退货→退款”排列", f"{sev}: offers must follow the ladder order")
        ladder[sev] = Rung(sev, str(raw.get("zh", "")), str(raw.get("en", "")), bool(raw.get("calm_first")), offers,
                           str(raw.get("group", "")), tuple(str(c) for c in raw.get("scripts", [])))
    limits = {}
    for sev in SEVERITIES:
        raw = (doc.get("limits") or {}).get(sev)
        if not isinstance(raw, dict):
            raise bad(f"缺少 {sev} 的默认权限", f"no default limit for {sev}")
        limits[sev] = {"max_compensation": money(raw.get("max_compensation", "0")),
                       **{k: bool(raw.get(k, False)) for k in ("exchange", "return", "refund")}}
    followup = {}
    for raw in doc.get("followup") or []:
        status = normalize_status(raw.get("status") if isinstance(raw, dict) else None)
        if status not in OPEN_STATUSES:
            raise bad(f"已结案的状态 {status} 不需要跟进节奏", f"closed status {status} has no follow-up")
        c = cad.cadence_from_dict({k: v for k, v in raw.items() if k != "status"})
        if not c.steps or c.in_visit or c.promotion is not None:
            raise bad(f"{status} 的跟进节奏需要至少一步", f"the {status} follow-up needs steps")
        followup[status] = c
    if set(followup) != set(OPEN_STATUSES):
        raise bad("每个未结状态都需要跟进节奏", "every open status needs a follow-up cadence")
    return Data(tuple(steps), ladder, limits, followup)


@functools.lru_cache(maxsize=1)
def shipped_data() -> Data:
    with open(resource_path("aftersales", "default.json"), encoding="utf-8") as fh:
        return data_from_document(json.load(fh))


CALLBACK_CADENCE = "as_callback"


def followup_names() -> dict[str, tuple[str, str]]:
    """cadence_id of an after-sales reminder → (zh, en), for listings."""
    out = {c.id: (c.zh, c.en) for c in shipped_data().followup.values()}
    out[CALLBACK_CADENCE] = ("售后：约好的回电/回复", "After-sales: promised call-back")
    return out


# ---------------------------------------------------------------- categories

@dataclass
class Category:
    id: int
    uuid: str
    code: str | None
    name: str
    shop: str
    position: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_CATEGORY_ALIASES = {"quality": "quality", "damage": "quality", "质量": "quality", "破损": "quality",
                     "wrong": "wrong_item", "错发": "wrong_item", "发错": "wrong_item", "尺码": "size",
                     "物流": "logistics", "快递": "logistics", "描述不符": "mismatch", "不符": "mismatch",
                     "changed": "changed_mind", "七天无理由": "changed_mind", "不要了": "changed_mind"}


def list_categories(store: Store, shop: str | None = None) -> list[Category]:
    sql = "SELECT id, uuid, code, name, shop, position FROM aftersales_categories"
    params: tuple = ()
    if shop is not None:
        sql += " WHERE shop IN ('', ?)"
        params = (shop,)
    return [Category(**r) for r in store.query(sql + " ORDER BY code IS NULL, position, id", params)]


def resolve_category(store: Store, ref: Any, shop: str = "") -> Category:
    text = unicodedata.normalize("NFKC", str(ref or "")).strip()
    cats = list_categories(store)
    code = _CATEGORY_ALIASES.get(text.lower(), _CATEGORY_ALIASES.get(text, text.lower()))
    for c in cats:
        if c.code and c.code == code:
            return c
    named = [c for c in cats if c.name == text or str(c.id) == text]
    own = [c for c in named if c.shop == shop] or [c for c in named if c.shop == ""] or named
    if len(own) == 1:
        return own[0]
    names = "、".join(c.name for c in cats if c.shop in ("", shop))
    raise NotFoundError(f"没有售后分类“{text}”（现有：{names}）", f"No after-sales category '{text}' (known: {names})")


def add_category(store: Store, name: str, shop: str = "") -> Category:
    """A shop's own category (shop '' = every shop)."""
    clean = _clean(name, MAX_CATEGORY, "分类名称", "category name", "category", True)
    shop = customers.clean_shop(shop)
    with store.write() as db:
        if store.query("SELECT 1 FROM aftersales_categories WHERE name = ? AND shop IN ('', ?)", (clean, shop)):
            raise ValidationError(f"已经有分类“{clean}”", f"The category '{clean}' already exists", field="category")
        pos = store.query("SELECT IFNULL(max(position), 0) + 1 AS p FROM aftersales_categories")[0]["p"]
        cur = db.execute("INSERT INTO aftersales_categories (uuid, code, name, shop, position, created_at) "
                         "VALUES (?, NULL, ?, ?, ?, ?)", (str(uuidlib.uuid4()), clean, shop, pos,
                                                          to_db(store.clock.now())))
    return next(c for c in list_categories(store) if c.id == cur.lastrowid)


# ---------------------------------------------------------------- records

@dataclass
class Case:
    id: int
    uuid: str
    buyer_id: int
    nickname: str
    platform: str
    shop: str
    order_masked: str
    product: str
    problem: str
    category: str
    category_code: str | None
    severity: str
    wanted: str
    mood: str
    feelings: str
    status: str
    step: int
    outcome: str | None
    outcome_amount: int | None
    warehouse_findings: str
    manager_decision: str
    decided_by: str | None
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    team_shop: str | None = None  # team mode: the server shop the case is shared in (its buyer's)

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def ref(self) -> str:
        return f"#{self.id}"

    def names(self, lang: str = "zh") -> dict[str, str]:
        i = 1 if lang == "en" else 0
        return {"status": STATUSES[self.status][i], "severity": SEVERITIES[self.severity][i],
                "wanted": WANTED[self.wanted][i], "mood": MOODS[self.mood][i],
                "outcome": OUTCOMES[self.outcome][i] if self.outcome else ""}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for k, v in data.items():
            if isinstance(v, datetime):
                data[k] = to_db(v)
        data["open"] = self.open
        data["outcome_yuan"] = yuan(self.outcome_amount)
        data["names"] = self.names("zh")
        data["names_en"] = self.names("en")
        return data


@dataclass
class Event:
    id: int
    uuid: str
    case_id: int
    at: datetime
    kind: str
    by_name: str
    by_role: str
    status_from: str | None
    status_to: str | None
    step: int | None
    offer: str | None
    amount: int | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = to_db(self.at)
        data["amount_yuan"] = yuan(self.amount)
        data["detail"], data["detail_en"] = detail_text(self.detail, "zh"), detail_text(self.detail, "en")
        return data

    def describe(self, lang: str = "zh") -> str:
        """One line of the history, in the agent's language."""
        i = 1 if lang == "en" else 0
        offer = f"{OFFERS[self.offer][i]}{(' ¥' + yuan(self.amount)) if self.amount is not None else ''}" \
            if self.offer else ""
        parts = [EVENT_NAMES.get(self.kind, (self.kind, self.kind))[i]]
        if self.step is not None and self.kind == "step":
            parts.append(f"→ {self.step}")
        if offer:
            parts.append(offer)
        if self.status_to and self.status_to != self.status_from:
            parts.append(f"[{STATUSES[self.status_to][i]}]")
        if self.detail:
            parts.append(detail_text(self.detail, lang))
        return " ".join(parts)


BOTH = "\x1f"  # separates the Chinese and English of a history line the app wrote


def _both(zh: str, en: str) -> str:
    return f"{zh}{BOTH}{en}"


def detail_text(detail: str, lang: str = "zh") -> str:
    """A history line's detail in one language: text the app wrote is stored in both (zh \x1f en);
    what an agent typed is shown as typed."""
    zh, sep, en = (detail or "").partition(BOTH)
    return en if sep and lang == "en" else zh


EVENT_NAMES: dict[str, tuple[str, str]] = {
    "opened": ("开单", "opened"), "step": ("安抚步骤", "calming step"), "updated": ("修改", "updated"),
    "offer": ("提出方案", "offer made"), "offer_blocked": ("方案超出权限，未提出", "offer above the limit, not made"),
    "escalated": ("升级主管", "escalated"), "decision": ("主管决定", "supervisor's decision"),
    "warehouse_check": ("联系仓库核实", "checking with the warehouse"),
    "warehouse_findings": ("仓库反馈", "warehouse findings"), "callback": ("约定回复时间", "call-back promised"),
    "followed_up": ("已跟进", "followed up"), "resolved": ("已解决", "resolved"), "closed": ("已关闭", "closed"),
    "reopened": ("重新打开", "reopened"), "note": ("备注", "note"),
}

_CASE_SELECT = (
    "SELECT c.id, c.uuid, c.buyer_id, b.nickname, b.platform, b.shop, c.order_no, c.product, c.problem, "
    "k.name AS category, k.code AS category_code, c.severity, c.wanted, c.mood, c.feelings, c.status, c.step, "
    "c.outcome, c.outcome_amount, c.warehouse_findings, c.manager_decision, c.decided_by, c.opened_by, "
    "c.opened_at, c.updated_at, c.closed_at, c.team_shop FROM aftersales_cases c JOIN buyers b ON b.id = c.buyer_id "
    "JOIN aftersales_categories k ON k.id = c.category_id "
)


def _case(r: dict) -> Case:
    d = dict(r)
    d["order_masked"] = mask_order(d.pop("order_no"))
    for k in ("opened_at", "updated_at", "closed_at"):
        d[k] = from_db(d[k])
    return Case(**d)


def get_case(store: Store, ref: Any) -> Case:
    """A case by number (12 or #12) or uuid (or a unique prefix of 6+ characters)."""
    text = str(ref or "").strip().lstrip("#＃")
    rows: list[dict] = []
    if text.isdigit():
        rows = store.query(_CASE_SELECT + "WHERE c.id = ?", (int(text),))
    # a uuid prefix may be all digits (about 1 in 40 of 8 characters): no such number, then a prefix
    if not rows and len(text) >= 6 and re.fullmatch(r"[0-9a-fA-F-]+", text):
        rows = store.query(_CASE_SELECT + "WHERE c.uuid LIKE ? ORDER BY c.id LIMIT 2", (text.lower() + "%",))
        if len(rows) > 1:
            raise ValidationError(f"有多个售后单以“{text}”开头", f"Several cases start with '{text}'", field="case")
    if not rows:
        raise NotFoundError(f"没有找到售后单“{text}”", f"No after-sales case '{text}'")
    return _case(rows[0])


def list_cases(store: Store, *, status: str = "open", buyer_id: int | None = None, limit: int | None = None
               ) -> list[Case]:
    """status: 'open', 'closed', 'all' or one status. Open cases oldest first; others newest first."""
    where, params = [], []
    if status == "open":
        where.append(f"c.status IN ({','.join('?' * len(OPEN_STATUSES))})")
        params += OPEN_STATUSES
    elif status == "closed":
        where.append("c.status IN ('resolved', 'closed')")
    elif status != "all":
        where.append("c.status = ?")
        params.append(normalize_status(status))
    if buyer_id is not None:
        where.append("c.buyer_id = ?")
        params.append(int(buyer_id))
    sql = _CASE_SELECT + (("WHERE " + " AND ".join(where)) if where else "")
    sql += " ORDER BY c.opened_at, c.id" if status == "open" else " ORDER BY c.updated_at DESC, c.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [_case(r) for r in store.query(sql, tuple(params))]


def history(store: Store, ref: Any) -> list[Event]:
    case = get_case(store, ref)
    rows = store.query("SELECT id, uuid, case_id, at, kind, by_name, by_role, status_from, status_to, step, offer, "
                       "amount, detail FROM aftersales_events WHERE case_id = ? ORDER BY at, id", (case.id,))
    return [Event(**{**r, "at": from_db(r["at"])}) for r in rows]


def reveal_order(store: Store, ref: Any) -> str:
    """The order number as stored (only on explicit request, like a phone)."""
    case = get_case(store, ref)
    return store.query("SELECT order_no FROM aftersales_cases WHERE id = ?", (case.id,))[0]["order_no"]


# ---------------------------------------------------------------- writing helpers (inside store.write())

def _event(store: Store, case_id: int, kind: str, now: datetime, *, by: str = "", role: str = "agent",
           status_from: str | None = None, status_to: str | None = None, step: int | None = None,
           offer: str | None = None, amount: int | None = None, detail: str = "") -> None:
    store.conn.execute(
        "INSERT INTO aftersales_events (uuid, case_id, at, kind, by_name, by_role, status_from, status_to, step, offer, "
        "amount, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (str(uuidlib.uuid4()), case_id, to_db(now), kind, by, role, status_from, status_to, step, offer, amount, detail))


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS[current]:
        allowed_zh = "、".join(STATUSES[s][0] for s in sorted(TRANSITIONS[current], key=list(STATUSES).index))
        allowed_en = ", ".join(STATUSES[s][1] for s in sorted(TRANSITIONS[current], key=list(STATUSES).index))
        raise ValidationError(
            f"售后单不能从“{STATUSES[current][0]}”变为“{STATUSES[target][0]}”（可以：{allowed_zh}）",
            f"A case cannot go from '{STATUSES[current][1]}' to '{STATUSES[target][1]}' (allowed: {allowed_en})",
            field="status")


def _move(store: Store, case: Case, target: str, now: datetime) -> None:
    """Change the status (checked) and keep the follow-up reminders in step with it."""
    if target == case.status:
        return
    check_transition(case.status, target)
    closing = target in CLOSED_STATUSES
    store.conn.execute("UPDATE aftersales_cases SET status = ?, updated_at = ?, closed_at = ? WHERE id = ?",
                       (target, to_db(now), to_db(now) if closing else None, case.id))
    case.status = target
    if closing:
        _end_followups(store, case, now, "closed", callbacks=True)
        _unmark_if_done(store, case.buyer_id)
    else:
        _schedule_followup(store, case, 0, now)


def _require_open(case: Case, zh_action: str, en_action: str) -> None:
    if not case.open:
        raise ValidationError(f"售后单 {case.ref} 已{STATUSES[case.status][0]}，不能{zh_action}",
                              f"Case {case.ref} is {STATUSES[case.status][1]}: cannot {en_action}", field="case")


def _begin(store: Store, case: Case) -> tuple[str, int]:
    """The start of a change (inside its write): in team mode the case must be this agent's to work
    on; returns the status it starts from and the history mark (core/caseteam.py queues the rest)."""
    caseteam.require_writable(store, case.buyer_id)
    return case.status, caseteam.event_mark(store)


def _touch(store: Store, case_id: int, now: datetime) -> None:
    store.conn.execute("UPDATE aftersales_cases SET updated_at = ? WHERE id = ?", (to_db(now), case_id))


def _mark(store: Store, buyer_id: int) -> None:
    try:
        customers.set_marks(store, buyer_id, add=["after_sales"])
    except NotFoundError:  # the built-in 售后中 mark was removed by hand: the case itself is what counts
        log.info("no after_sales mark to set on buyer %s", buyer_id)


def _unmark_if_done(store: Store, buyer_id: int) -> None:
    if store.query(f"SELECT 1 FROM aftersales_cases WHERE buyer_id = ? AND status IN "
                   f"({','.join('?' * len(OPEN_STATUSES))}) LIMIT 1", (buyer_id, *OPEN_STATUSES)):
        return
    with contextlib.suppress(NotFoundError):  # the built-in mark was removed by hand
        customers.set_marks(store, buyer_id, remove=["after_sales"])


# ---------------------------------------------------------------- follow-up cadence (reminders of kind 'aftersales')

def _case_reminders_sql(only_callbacks: bool | None) -> str:
    sql = "SELECT id, due_at, fired_at, cadence_id, step FROM reminders WHERE kind = 'aftersales' AND state = 'pending' " \
          "AND case_id = ?"
    if only_callbacks is True:
        sql += f" AND cadence_id = '{CALLBACK_CADENCE}'"
    elif only_callbacks is False:
        sql += f" AND cadence_id != '{CALLBACK_CADENCE}'"
    return sql + " ORDER BY due_at, id"


def _end_followups(store: Store, case: Case, now: datetime, outcome: str, *, callbacks: bool) -> None:
    """Pending follow-ups of the case: those shown or due are done now, the rest cancelled.
    callbacks=False keeps the promised call-backs (a status change does not cancel a promise)."""
    stamp = to_db(now)
    for r in store.query(_case_reminders_sql(None if callbacks else False), (case.id,)):
        if r["fired_at"] is not None or r["due_at"] <= stamp:
            store.conn.execute("UPDATE reminders SET state = 'done', outcome = ?, acted_at = ? WHERE id = ?",
                               (outcome, stamp, r["id"]))
        else:
            store.conn.execute("UPDATE reminders SET state = 'cancelled', outcome = ? WHERE id = ?", (outcome, r["id"]))


def _insert_reminder(store: Store, case: Case, cadence_id: str, step: int, scheduled: cad.Scheduled,
                     now: datetime) -> int:
    cur = store.conn.execute(
        "INSERT INTO reminders (uuid, buyer_id, kind, cadence_id, step, due_at, planned_at, moved_for, state, "
        "created_at, case_id) VALUES (?,?, 'aftersales', ?,?,?,?,?, 'pending', ?, ?)",
        (str(uuidlib.uuid4()), case.buyer_id, cadence_id, step, to_db(scheduled.at), to_db(scheduled.planned),
         ",".join(scheduled.moved_for), to_db(now), case.id))
    return int(cur.lastrowid)


def _schedule_followup(store: Store, case: Case, index: int, now: datetime) -> int | None:
    """The status's follow-up step `index` (the last step repeats until the case closes); replaces the
    pending status follow-up. None for a closed case."""
    _end_followups(store, case, now, "rescheduled", callbacks=False)
    if case.status not in OPEN_STATUSES:
        return None
    cadence = shipped_data().followup[case.status]
    index = min(max(index, 0), len(cadence.steps) - 1)
    config = reminders.get_config(store)
    tz = zones.zone_or_none(store.query("SELECT tz FROM buyers WHERE id = ?", (case.buyer_id,))[0]["tz"])
    scheduled = cad.schedule_step(cadence, index, now=now, started_at=now, anchor=now, hours=config.hours, buyer_tz=tz)
    if scheduled is None:  # pragma: no cover - a non-visit cadence always has the step
        return None
    return _insert_reminder(store, case, cadence.id, index, scheduled, now)


def promise_callback(store: Store, ref: Any, at: datetime, *, note: str = "", now: datetime | None = None) -> int:
    """The agent promised to call or write back at `at` ("我两点前给您回复"): a reminder then, exactly
    (a promise is kept even in the buyer's evening). Returns the reminder id."""
    now = _now(store, now)
    if at.tzinfo is None:
        raise ValueError("aware datetime needed")
    if at <= now or at > now + timedelta(days=30):
        raise ValidationError("回复时间应在现在之后 30 天内", "The call-back time must be within the next 30 days",
                              field="at")
    note = _clean(note, 200, "备注", "note", "note")
    with store.write():
        case = get_case(store, ref)
        _require_open(case, "约定回复", "promise a call-back")
        before, mark = _begin(store, case)
        rid = _insert_reminder(store, case, CALLBACK_CADENCE, 0, cad.Scheduled(at, at), now)
        _event(store, case.id, "callback", now, by=current_agent(store), detail=(to_db(at) + (" " + note if note else "")))
        _touch(store, case.id, now)
        caseteam.queue_case(store, case.id, before, mark)
    log.info("case %s: call-back promised", case.id)
    return rid


def followed_up(store: Store, ref: Any, *, note: str = "", now: datetime | None = None) -> Case:
    """The agent followed the case up (the reminder's 已跟进): due follow-ups are done, the next step of
    the status's cadence is scheduled."""
    now = _now(store, now)
    note = _clean(note, MAX_TEXT, "备注", "note", "note")
    with store.write():
        case = get_case(store, ref)
        _require_open(case, "跟进", "follow it up")
        before, mark = _begin(store, case)
        stamp = to_db(now)
        due = store.query("SELECT id, cadence_id, step FROM reminders WHERE kind = 'aftersales' AND state = 'pending' "
                          "AND case_id = ? AND (fired_at IS NOT NULL OR due_at <= ?) ORDER BY due_at", (case.id, stamp))
        steps = [r["step"] for r in due if r["cadence_id"] != CALLBACK_CADENCE]
        current = store.query(_case_reminders_sql(False), (case.id,))
        index = (max(steps) if steps else (current[0]["step"] if current else -1)) + 1
        for r in due:
            store.conn.execute("UPDATE reminders SET state = 'done', outcome = 'followed_up', acted_at = ? WHERE id = ?",
                               (stamp, r["id"]))
        _event(store, case.id, "followed_up", now, by=current_agent(store), detail=note)
        _touch(store, case.id, now)
        _schedule_followup(store, case, index, now)
        caseteam.queue_case(store, case.id, before, mark)
    return get_case(store, case.id)


def followups(store: Store, ref: Any) -> list[reminders.DueReminder]:
    case = get_case(store, ref)
    ids = [r["id"] for r in store.query(_case_reminders_sql(None), (case.id,))]
    return [r for r in reminders.buyer_reminders(store, case.buyer_id) if r.id in ids]


# ---------------------------------------------------------------- opening and editing

def _now(store: Store, now: datetime | None) -> datetime:
    return zones.as_utc(now or store.clock.now())


def open_case(store: Store, *, problem: str, category: Any, severity: Any, wanted: Any, mood: Any = "calm",
              buyer_id: int | None = None, platform: str | None = None, nickname: str | None = None, shop: str = "",
              order_no: str = "", product: str = "", feelings: str = "", now: datetime | None = None) -> Case:
    """Open a case for a buyer (an existing one by id, or by platform + shop + nickname, created if new).
    The buyer gets the 售后中 mark; their pending sales chases and promotion wave slots end here, and the
    case's own follow-up starts."""
    now = _now(store, now)
    problem = _clean(problem, MAX_PROBLEM, "问题描述", "problem", "problem", True)
    sev, want, md = normalize_severity(severity), normalize_wanted(wanted), normalize_mood(mood)
    order_no = _clean(order_no, MAX_ORDER, "订单号", "order number", "order")
    product = _clean(product, MAX_PRODUCT, "商品", "product", "product")
    feelings = _clean(feelings, MAX_TEXT, "买家感受", "feelings", "feelings")
    with store.write() as db:
        if buyer_id is None:
            if not platform or not nickname:
                raise ValidationError("开售后单需要平台和买家昵称", "Opening a case needs a platform and a nickname",
                                      field="nickname")
            buyer, _ = customers.get_or_create_buyer(store, platform, nickname, shop)
        else:
            buyer = customers.get_buyer(store, buyer_id)
        cat = resolve_category(store, category, buyer.shop)
        caseteam.engage(store, buyer.id, now)  # team mode: the buyer is shared and followed
        agent = current_agent(store)
        stamp = to_db(now)
        cur = db.execute(
            "INSERT INTO aftersales_cases (uuid, buyer_id, order_no, product, problem, category_id, severity, wanted, "
            "mood, feelings, status, step, opened_by, opened_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?, 'new', 1, ?,?,?)",
            (str(uuidlib.uuid4()), buyer.id, order_no, product, problem, cat.id, sev, want, md, feelings, agent, stamp,
             stamp))
        case_id = int(cur.lastrowid)
        _event(store, case_id, "opened", now, by=agent, status_to="new", step=1)
        _mark(store, buyer.id)
        customers.write_mood(store, buyer.id, BUYER_MOOD[md], now)
        reminders.pause_for_after_sales(store, buyer.id, now)
        customers.log_event(store, buyer.id, "aftersales_opened", now, detail=str(case_id))
        _schedule_followup(store, get_case(store, case_id), 0, now)
        caseteam.queue_case(store, case_id, None, 0)
    log.info("case %s opened for buyer %s", case_id, buyer.id)
    return get_case(store, case_id)


def update_case(store: Store, ref: Any, *, mood: Any = None, severity: Any = None, wanted: Any = None,
                product: str | None = None, order_no: str | None = None, category: Any = None,
                feelings: str | None = None, note: str | None = None, now: datetime | None = None) -> Case:
    """Change what the agent learned (mood, severity, wanted outcome ...) of an open case; a note adds a
    line to the history. The history names the fields changed."""
    now = _now(store, now)
    with store.write() as db:
        case = get_case(store, ref)
        _require_open(case, "修改", "change it")
        before, mark = _begin(store, case)
        changes: dict[str, Any] = {}
        if mood is not None:
            changes["mood"] = normalize_mood(mood)
        if severity is not None:
            changes["severity"] = normalize_severity(severity)
        if wanted is not None:
            changes["wanted"] = normalize_wanted(wanted)
        if product is not None:
            changes["product"] = _clean(product, MAX_PRODUCT, "商品", "product", "product")
        if order_no is not None:
            changes["order_no"] = _clean(order_no, MAX_ORDER, "订单号", "order number", "order")
        if feelings is not None:
            changes["feelings"] = _clean(feelings, MAX_TEXT, "买家感受", "feelings", "feelings")
        if category is not None:
            changes["category_id"] = resolve_category(store, category, case.shop).id
        text = _clean(note, MAX_TEXT, "备注", "note", "note") if note is not None else ""
        if not changes and not text:
            raise ValidationError("没有要修改的内容", "Nothing to change", field="case")
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            db.execute(f"UPDATE aftersales_cases SET {sets}, updated_at = ? WHERE id = ?",
                       (*changes.values(), to_db(now), case.id))
            shown = {k: v for k, v in changes.items() if k in ("mood", "severity", "wanted")}
            detail = ", ".join(f"{k}={v}" for k, v in shown.items())
            others = [k for k in changes if k not in shown]
            detail = "; ".join(x for x in (detail, ",".join(others)) if x)
            _event(store, case.id, "updated", now, by=current_agent(store), detail=detail)
            if "mood" in changes:
                customers.write_mood(store, case.buyer_id, BUYER_MOOD[changes["mood"]], now)
                others = caseteam.event_mark(store)
                caseguard.follow_mood(store, case.buyer_id, changes["mood"], to_db(now), current_agent(store),
                                      but=case.id)
                caseteam.queue_buyer_cases(store, case.buyer_id, others, but=case.id)
        if text:
            _event(store, case.id, "note", now, by=current_agent(store), detail=text)
            _touch(store, case.id, now)
        caseteam.queue_case(store, case.id, before, mark)
    return get_case(store, case.id)


# ---------------------------------------------------------------- the four steps

@dataclass
class ScriptRef:
    reply_id: int
    code: str | None
    title: str
    body: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StepItem:
    step: int
    zh: str
    en: str
    hint_zh: str
    hint_en: str
    done: bool
    current: bool
    scripts: list[ScriptRef] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "scripts": [s.to_dict() for s in self.scripts]}


def _scripts(store: Store, codes: tuple[str, ...], group: str) -> list[ScriptRef]:
    """The library's replies with these short codes, in that order; when none is left (renamed, deleted),
    every reply of `group` (the 售后安抚 / 挽单 group), so the agent always has something to start from."""
    out = []
    for code in codes:
        rows = store.query("SELECT id, code, title, body FROM replies WHERE code = ? COLLATE NOCASE", (code,))
        if rows:
            r = rows[0]
            out.append(ScriptRef(r["id"], r["code"], r["title"], r["body"]))
    if out or not group:
        return out
    rows = store.query("SELECT r.id, r.code, r.title, r.body FROM replies r JOIN groups g ON g.id = r.group_id "
                       "WHERE g.name = ? ORDER BY r.position, r.id", (group,))
    return [ScriptRef(r["id"], r["code"], r["title"], r["body"]) for r in rows]


def scripts_for_step(store: Store, step: int) -> list[ScriptRef]:
    if not 1 <= int(step) <= STEP_COUNT:
        raise ValidationError("安抚步骤应为 1 到 4", "The calming step must be 1 to 4", field="step")
    d = shipped_data().steps[int(step) - 1]
    return _scripts(store, d.scripts, d.group)


def checklist(store: Store, ref: Any) -> list[StepItem]:
    """The four steps: done, current (with its scripts), to do."""
    case = get_case(store, ref)
    out = []
    for d in shipped_data().steps:
        done = d.step < case.step or (not case.open and case.status == "resolved")
        current = case.open and d.step == case.step
        out.append(StepItem(d.step, d.zh, d.en, d.hint_zh, d.hint_en, done, current,
                            scripts_for_step(store, d.step) if current else []))
    return out


def advance_step(store: Store, ref: Any, *, to: int | None = None, note: str = "", now: datetime | None = None
                 ) -> Case:
    """The agent finished the current step (or jumps forward to `to`). Leaving step 1 (listening) starts
    calming: a new case becomes 安抚中. Steps never go back; step 4 ends with resolve()."""
    now = _now(store, now)
    note = _clean(note, MAX_TEXT, "备注", "note", "note")
    with store.write() as db:
        case = get_case(store, ref)
        _require_open(case, "推进步骤", "advance its step")
        before_status, mark = _begin(store, case)
        target = case.step + 1 if to is None else int(to)
        if not 1 <= target <= STEP_COUNT:
            raise ValidationError("已经是第 4 步：解决后请用“已解决”结案" if case.step == STEP_COUNT else
                                  "安抚步骤应为 1 到 4", "Already at step 4: resolve the case to finish"
                                  if case.step == STEP_COUNT else "The calming step must be 1 to 4", field="step")
        if target <= case.step:
            raise ValidationError(f"已经在第 {case.step} 步，步骤不能后退", f"Already at step {case.step}; steps do not "
                                  "go back", field="step")
        before = case.status
        db.execute("UPDATE aftersales_cases SET step = ?, updated_at = ? WHERE id = ?", (target, to_db(now), case.id))
        if case.status == "new":
            _move(store, case, "calming", now)
        _event(store, case.id, "step", now, by=current_agent(store), status_from=before, status_to=case.status,
               step=target, detail=note)
        caseteam.queue_case(store, case.id, before_status, mark)
    return get_case(store, case.id)


# ---------------------------------------------------------------- the ladder and the limits

@dataclass
class Limit:
    severity: str
    max_compensation: int
    may_exchange: bool
    may_return: bool
    may_refund: bool
    agent: str = ""
    product: str = ""
    source: str = "default"  # default | shop | shop+product | agent | agent+product
    set_by: str = ""

    def allows(self, offer: str, amount: int | None) -> bool:
        if offer == "compensate":
            return (amount or 0) <= self.max_compensation
        return {"exchange": self.may_exchange, "return": self.may_return, "refund": self.may_refund}[offer]

    def describe(self, lang: str = "zh") -> str:
        i = 1 if lang == "en" else 0
        may = [OFFERS[o][i] for o, ok in (("exchange", self.may_exchange), ("return", self.may_return),
                                           ("refund", self.may_refund)) if ok]
        if lang == "en":
            return f"compensate up to ¥{yuan(self.max_compensation)}" + (f"; {', '.join(may)}" if may else "")
        return f"补偿最多 ¥{yuan(self.max_compensation)}" + (f"；可{'、'.join(may)}" if may else "")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "max_compensation_yuan": yuan(self.max_compensation), "describe": self.describe("zh"),
                "describe_en": self.describe("en")}


def _product_key(product: str) -> str:
    return unicodedata.normalize("NFKC", product or "").strip().casefold()


def get_limit(store: Store, severity: Any, *, agent: str | None = None, product: str = "",
              team_shop: str | None = None) -> Limit:
    """The agent's limit for this severity (and product): the most specific row set by the shop manager
    (agent + product, agent, every agent + product, every agent), else the shipped default. team_shop:
    the limits the supervisor of that team shop set (a shared case's); None: this PC's own."""
    sev = normalize_severity(severity)
    agent = current_agent(store) if agent is None else agent
    key = _product_key(product)
    rows = store.query("SELECT agent, product, max_compensation, may_exchange, may_return, may_refund, set_by "
                       "FROM aftersales_limits WHERE severity = ? AND agent IN ('', ?) AND IFNULL(team_shop, '') = ?",
                       (sev, agent, team_shop or ""))
    ranked = []
    for r in rows:
        if r["product"] and _product_key(r["product"]) != key:
            continue
        rank = (2 if r["agent"] else 0) + (1 if r["product"] else 0)
        ranked.append((rank, r))
    if not ranked:
        d = shipped_data().limits[sev]
        return Limit(sev, d["max_compensation"], d["exchange"], d["return"], d["refund"], agent, "", "default")
    rank, r = max(ranked, key=lambda x: x[0])
    source = {0: "shop", 1: "shop+product", 2: "agent", 3: "agent+product"}[rank]
    return Limit(sev, r["max_compensation"], bool(r["may_exchange"]), bool(r["may_return"]), bool(r["may_refund"]),
                 r["agent"], r["product"], source, r["set_by"])


def _require_manager(store: Store) -> None:
    """Limits are the shop manager's: in team mode only a supervisor sets them."""
    if customers.team_role(store) and settings.get(store, "team.kind") != "supervisor":
        raise ValidationError("只有主管可以设置挽单权限", "Only a supervisor may set retention limits", field="limits")


def set_limit(store: Store, severity: Any, *, agent: str = "", product: str = "", max_compensation: Any = None,
              may_exchange: bool | None = None, may_return: bool | None = None, may_refund: bool | None = None,
              set_by: str | None = None, now: datetime | None = None, shop: str | None = None) -> Limit:
    """Set (or change) one limit row; what is not given keeps its current value (or the shipped default).
    Team mode (a supervisor): the row of the served shop named `shop` (a shop name), or of every shop
    served, queued for the server; the limit returned is the first shop's."""
    _require_manager(store)
    now = _now(store, now)
    sev = normalize_severity(severity)
    agent = _clean(agent, 64, "客服", "agent", "agent")
    product = _clean(product, MAX_PRODUCT, "商品", "product", "product")
    with store.write() as db:
        shops = caseteam.limit_shops(store, shop)
        for team_shop in shops:
            rows = store.query("SELECT id, uuid, max_compensation, may_exchange, may_return, may_refund "
                               "FROM aftersales_limits WHERE agent = ? AND severity = ? AND product = ? "
                               "AND IFNULL(team_shop, '') = ?", (agent, sev, product, team_shop or ""))
            base = get_limit(store, sev, agent=agent, product=product, team_shop=team_shop)
            cur = rows[0] if rows else {"max_compensation": base.max_compensation, "may_exchange": base.may_exchange,
                                        "may_return": base.may_return, "may_refund": base.may_refund}
            values = (money(max_compensation, "max_compensation") if max_compensation is not None
                      else cur["max_compensation"],
                      int(may_exchange if may_exchange is not None else bool(cur["may_exchange"])),
                      int(may_return if may_return is not None else bool(cur["may_return"])),
                      int(may_refund if may_refund is not None else bool(cur["may_refund"])))
            who = current_agent(store) if set_by is None else _clean(set_by, 64, "设置人", "set by", "set_by")
            if rows:
                uid = rows[0]["uuid"]
                db.execute("UPDATE aftersales_limits SET max_compensation = ?, may_exchange = ?, may_return = ?, "
                           "may_refund = ?, set_by = ?, updated_at = ? WHERE id = ?",
                           (*values, who, to_db(now), rows[0]["id"]))
            else:
                uid = str(uuidlib.uuid4())
                db.execute("INSERT INTO aftersales_limits (uuid, agent, severity, product, max_compensation, "
                           "may_exchange, may_return, may_refund, set_by, updated_at, team_shop) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           (uid, agent, sev, product, *values, who, to_db(now), team_shop))
            caseteam.queue_limit(store, uid)  # team mode: the server keeps it (supervisors only)
    return get_limit(store, sev, agent=agent, product=product, team_shop=shops[0])


def delete_limit(store: Store, severity: Any, *, agent: str = "", product: str = "", shop: str | None = None) -> None:
    _require_manager(store)
    sev = normalize_severity(severity)
    with store.write() as db:
        shops = caseteam.limit_shops(store, shop)
        found = 0
        for team_shop in shops:
            rows = store.query("SELECT id, uuid, team_shop, agent, severity, product FROM aftersales_limits "
                               "WHERE agent = ? AND severity = ? AND product = ? AND IFNULL(team_shop, '') = ?",
                               (agent.strip(), sev, product.strip(), team_shop or ""))
            for r in rows:
                db.execute("DELETE FROM aftersales_limits WHERE id = ?", (r["id"],))
                caseteam.queue_limit_deleted(store, dict(r))  # a tombstone on the server
                found += 1
        if found == 0:
            raise NotFoundError("没有这条挽单权限", "No such limit")


def list_limits(store: Store) -> list[Limit]:
    """The rows the shop manager set, then the shipped defaults for reference."""
    out = []
    for r in store.query("SELECT agent, severity, product, max_compensation, may_exchange, may_return, may_refund, "
                         "set_by FROM aftersales_limits ORDER BY agent, severity, product"):
        rank = (2 if r["agent"] else 0) + (1 if r["product"] else 0)
        out.append(Limit(r["severity"], r["max_compensation"], bool(r["may_exchange"]), bool(r["may_return"]),
                         bool(r["may_refund"]), r["agent"], r["product"],
                         {0: "shop", 1: "shop+product", 2: "agent", 3: "agent+product"}[rank], r["set_by"]))
    return out


@dataclass
class Proposal:
    severity: str
    zh: str
    en: str
    calm_first: bool
    offers: list[str]
    allowed: list[str]  # of offers, those within the agent's limit
    limit: Limit
    scripts: list[ScriptRef]
    notes: list[tuple[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "limit": self.limit.to_dict(), "scripts": [s.to_dict() for s in self.scripts],
                "notes": [zh for zh, _ in self.notes], "notes_en": [en for _, en in self.notes]}


def proposal(store: Store, ref: Any) -> Proposal:
    """The rung(s) of the ladder that fit the case's severity, with scripts, and what the agent's limit allows."""
    case = get_case(store, ref)
    rung = shipped_data().ladder[case.severity]
    limit = get_limit(store, case.severity, product=case.product, team_shop=case.team_shop)
    notes: list[tuple[str, str]] = []
    if case.wanted in ("refund", "return"):
        notes.append(("买家想退，先试着用补偿或换货挽回：退款要寄回、审核、重新下单，换货更省心",
                      "The buyer asks for a refund: try compensation or an exchange first"))
    if case.mood == "angry":
        notes.append(("买家很生气：先让他说完、道歉，再谈方案；需要时打电话或升级主管",
                      "The buyer is angry: let them vent and apologise before any offer; phone or escalate if needed"))
    if rung.calm_first and case.step < 3:
        notes.append(("轻度问题：先安抚，再给小额补偿", "A light problem: calm the buyer first, then compensate"))
    allowed = [o for o in rung.offers if o != "compensate" and limit.allows(o, None)]
    if "compensate" in rung.offers and limit.max_compensation > 0:
        allowed.insert(0, "compensate")
    return Proposal(case.severity, rung.zh, rung.en, rung.calm_first, list(rung.offers), allowed, limit,
                    _scripts(store, rung.scripts, rung.group), notes)


@dataclass
class OfferCheck:
    offer: str
    amount: int | None
    allowed: bool
    limit: Limit
    warnings: list[tuple[str, str]]

    def reason(self, lang: str = "zh") -> str:
        if self.allowed:
            return ""
        i = 1 if lang == "en" else 0
        what = f"{OFFERS[self.offer][i]}{(' ¥' + yuan(self.amount)) if self.amount is not None else ''}"
        if lang == "en":
            return f"{what} is above your limit ({self.limit.describe('en')})"
        return f"{what}超出你的挽单权限（{self.limit.describe('zh')}）"


def check_offer(store: Store, ref: Any, offer: Any, amount: Any = None, *, agent: str | None = None) -> OfferCheck:
    """Whether the agent may make this offer alone, and ladder warnings (a refund when a cheaper rung fits)."""
    case = get_case(store, ref)
    kind = normalize_offer(offer)
    fen = money(amount) if amount is not None and amount != "" else None
    if kind == "compensate" and fen is None:
        raise ValidationError("补偿需要写金额，例如 --amount 10", "A compensation needs an amount, e.g. --amount 10",
                              field="amount")
    limit = get_limit(store, case.severity, agent=agent, product=case.product, team_shop=case.team_shop)
    warnings: list[tuple[str, str]] = []
    rung = shipped_data().ladder[case.severity]
    if LADDER.index(kind) > LADDER.index(rung.offers[-1]):
        cheaper = "、".join(OFFERS[o][0] for o in rung.offers)
        warnings.append((f"挽单顺序：补偿优先于换货，换货优先于退款；{SEVERITIES[case.severity][0]}问题建议{cheaper}",
                         f"Ladder: compensate before exchange before refund; for a {case.severity} problem offer "
                         f"{', '.join(rung.offers)}"))
    return OfferCheck(kind, fen, limit.allows(kind, fen), limit, warnings)


@dataclass
class OfferResult:
    case: Case
    made: bool
    check: OfferCheck
    summary: str | None = None  # the escalation text to copy to the supervisor, when blocked

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case.to_dict(), "made": self.made, "offer": self.check.offer,
                "amount_yuan": yuan(self.check.amount), "allowed": self.check.allowed,
                "reason": self.check.reason("zh"), "reason_en": self.check.reason("en"),
                "limit": self.check.limit.to_dict(), "warnings": [zh for zh, _ in self.check.warnings],
                "warnings_en": [en for _, en in self.check.warnings], "summary": self.summary}


def make_offer(store: Store, ref: Any, offer: Any, amount: Any = None, *, note: str = "",
               now: datetime | None = None) -> OfferResult:
    """The agent offers a rung of the ladder. Within the limit it is recorded as made (by the agent; the
    case becomes 方案已提出, step 3 at least). Above it, it is NOT made: recorded as blocked, and the case
    is escalated to the supervisor (待主管) with the summary to copy."""
    now = _now(store, now)
    note = _clean(note, MAX_TEXT, "备注", "note", "note")
    with store.write() as db:
        case = get_case(store, ref)
        _require_open(case, "提出方案", "make an offer")
        start, mark = _begin(store, case)
        check = check_offer(store, case.id, offer, amount)
        agent = current_agent(store)
        if check.allowed:
            if case.status != "proposed":
                check_transition(case.status, "proposed")
            before = case.status
            db.execute("UPDATE aftersales_cases SET step = max(step, 3), updated_at = ? WHERE id = ?",
                       (to_db(now), case.id))
            _move(store, case, "proposed", now)
            if before == "proposed":
                _schedule_followup(store, case, 0, now)
            _event(store, case.id, "offer", now, by=agent, status_from=before, status_to="proposed", offer=check.offer,
                   amount=check.amount, detail=note)
            caseteam.queue_case(store, case.id, start, mark)
            log.info("case %s: offer %s made", case.id, check.offer)
            return OfferResult(get_case(store, case.id), True, check)
        if case.status == "manager":
            raise ValidationError("已经在等主管决定，请等主管答复", "Already waiting for the supervisor's decision",
                                  field="offer")
        _event(store, case.id, "offer_blocked", now, by=agent, status_from=case.status, status_to=case.status,
               offer=check.offer, amount=check.amount, detail=_both(check.reason("zh"), check.reason("en")))
        summary = _escalate(store, case, now, reason=note, requested=check)
        caseteam.queue_case(store, case.id, start, mark)
    log.info("case %s: offer %s above the limit, escalated", case.id, check.offer)
    return OfferResult(get_case(store, case.id), False, check, summary)


def _escalate(store: Store, case: Case, now: datetime, *, reason: str, requested: OfferCheck | None) -> str:
    before = case.status
    _move(store, case, "manager", now)
    summary = summary_text(store, case, requested=requested, reason=reason, now=now)
    _event(store, case.id, "escalated", now, by=current_agent(store), status_from=before, status_to="manager",
           offer=requested.offer if requested else None, amount=requested.amount if requested else None,
           detail=reason or (_both(requested.reason("zh"), requested.reason("en")) if requested else ""))
    return summary


def escalate(store: Store, ref: Any, *, reason: str = "", offer: Any = None, amount: Any = None,
             now: datetime | None = None) -> OfferResult:
    """Send the case to the supervisor (待主管) by choice: the buyer is very angry, asks for a manager, or
    the agent wants a decision (offer/amount: what to ask for). Returns the summary to copy."""
    now = _now(store, now)
    reason = _clean(reason, MAX_TEXT, "原因", "reason", "reason")
    with store.write():
        case = get_case(store, ref)
        _require_open(case, "升级", "escalate it")
        start, mark = _begin(store, case)
        if case.status == "manager":
            raise ValidationError("已经在等主管决定", "Already waiting for the supervisor", field="case")
        check_transition(case.status, "manager")
        requested = check_offer(store, case.id, offer, amount) if offer is not None else None
        summary = _escalate(store, case, now, reason=reason, requested=requested)
        caseteam.queue_case(store, case.id, start, mark)
    check = requested or OfferCheck("compensate", None, False, get_limit(store, case.severity, product=case.product, team_shop=case.team_shop), [])
    return OfferResult(get_case(store, case.id), False, check, summary)


def summary_text(store: Store, case: Case, *, requested: OfferCheck | None = None, reason: str = "",
                 now: datetime | None = None) -> str:
    """The escalation as the agent pastes it into the supervisor's QQ/WeChat group: who, what, what was
    done, what is asked. The order number stays masked."""
    now = _now(store, now)
    tz = reminders.get_config(store).agent_tz
    steps = shipped_data().steps
    agent = current_agent(store) or "客服"
    lines = [f"【售后升级】{case.ref} {customers.PLATFORMS.get(case.platform, (case.platform,))[0]}"
             f"{('·' + case.shop) if case.shop else ''} 买家：{case.nickname}"]
    if case.order_masked or case.product:
        lines.append("订单：" + (case.order_masked or "—") + (f"  商品：{case.product}" if case.product else ""))
    lines.append(f"问题（买家原话）：{case.problem}")
    lines.append(f"分类：{case.category} · 程度：{SEVERITIES[case.severity][0]} · 情绪：{MOODS[case.mood][0]} · "
                 f"诉求：{WANTED[case.wanted][0]}")
    lines.append(f"进度：第 {case.step} 步（{steps[case.step - 1].zh}）")
    if case.warehouse_findings:
        lines.append(f"仓库反馈：{case.warehouse_findings}")
    made = store.query("SELECT offer, amount, by_role FROM aftersales_events WHERE case_id = ? AND kind = 'offer' "
                       "ORDER BY at, id", (case.id,))
    if made:
        lines.append("已提出：" + "；".join(f"{OFFERS[m['offer']][0]}{(' ¥' + yuan(m['amount'])) if m['amount'] is not None else ''}"
                                        for m in made))
    if requested is not None:
        ask = f"{OFFERS[requested.offer][0]}{(' ¥' + yuan(requested.amount)) if requested.amount is not None else ''}"
        lines.append(f"申请：{ask}（我的权限：{requested.limit.describe('zh')}）")
    if reason:
        lines.append(f"说明：{reason}")
    lines.append(f"请主管决定，谢谢！—— {agent} {now.astimezone(tz):%m-%d %H:%M}")
    return "\n".join(lines)


def _last_request(store: Store, case_id: int) -> dict | None:
    rows = store.query("SELECT offer, amount FROM aftersales_events WHERE case_id = ? AND kind = 'escalated' "
                       "ORDER BY at DESC, id DESC LIMIT 1", (case_id,))
    return rows[0] if rows and rows[0]["offer"] else None


def decide(store: Store, ref: Any, *, approve: bool, by: str, offer: Any = None, amount: Any = None, note: str = "",
           now: datetime | None = None) -> Case:
    """The supervisor's decision on an escalated case (待主管), recorded with their name. Approved: the
    offer asked for (or the one given here) is recorded as made by the supervisor, the case becomes
    方案已提出. Declined: back to 安抚中, the agent tries something else."""
    now = _now(store, now)
    who = _clean(by, 64, "主管姓名", "supervisor's name", "by", True)
    note = _clean(note, MAX_TEXT, "说明", "note", "note")
    if customers.team_role(store) and not caseteam.is_supervisor(store):
        # the server refuses it too (42501): a decision is the supervisor role's
        raise ValidationError("团队模式下只有主管可以决定升级的售后单", "In team mode only a supervisor decides an "
                              "escalated case", field="by")
    with store.write() as db:
        case = get_case(store, ref)
        mark = caseteam.event_mark(store)
        if case.status != "manager":
            raise ValidationError(f"售后单 {case.ref} 没有在等主管决定（现在：{STATUSES[case.status][0]}）",
                                  f"Case {case.ref} is not waiting for a supervisor (it is {STATUSES[case.status][1]})",
                                  field="case")
        asked = _last_request(store, case.id)
        kind = normalize_offer(offer) if offer is not None else (asked["offer"] if asked else None)
        fen = money(amount) if amount is not None and amount != "" else (asked["amount"] if asked and offer is None
                                                                         else None)
        if approve and kind is None:
            raise ValidationError("批准需要写明方案（--offer），升级时没有申请具体方案",
                                  "Approving needs an offer (--offer): the escalation asked for none", field="offer")
        if approve and kind == "compensate" and fen is None:
            raise ValidationError("补偿需要写金额", "A compensation needs an amount", field="amount")
        target = "proposed" if approve else "calming"
        decision = ("批准" if approve else "不批准") + (f"：{OFFERS[kind][0]}" if kind else "") + \
            (f" ¥{yuan(fen)}" if fen is not None and kind else "") + (f"（{note}）" if note else "")
        db.execute("UPDATE aftersales_cases SET manager_decision = ?, decided_by = ?, updated_at = ? WHERE id = ?",
                   (decision, who, to_db(now), case.id))
        _event(store, case.id, "decision", now, by=who, role="supervisor", status_from="manager", status_to=target,
               offer=kind, amount=fen if kind else None, detail=decision)
        _move(store, case, target, now)
        if approve:
            db.execute("UPDATE aftersales_cases SET step = max(step, 3) WHERE id = ?", (case.id,))
            _event(store, case.id, "offer", now, by=who, role="supervisor", status_from="manager", status_to="proposed",
                   offer=kind, amount=fen, detail=_both(f"主管{who}批准", f"approved by supervisor {who}"))
        caseteam.queue_case(store, case.id, "manager", mark)
    log.info("case %s decided (%s)", case.id, "approved" if approve else "declined")
    return get_case(store, case.id)


def warehouse(store: Store, ref: Any, *, findings: str | None = None, by: str = "", now: datetime | None = None
              ) -> Case:
    """Without findings: the agent is checking with the warehouse (待仓库, its own follow-up). With
    findings: the warehouse's answer is recorded (by `by`, or the agent) and the case goes back to the
    agent: 方案已提出 if an offer was made, else 安抚中."""
    now = _now(store, now)
    with store.write() as db:
        case = get_case(store, ref)
        _require_open(case, "联系仓库", "involve the warehouse")
        before, mark = _begin(store, case)
        if findings is None:
            if case.status == "warehouse":
                raise ValidationError("已经在等仓库反馈", "Already waiting for the warehouse", field="case")
            _move(store, case, "warehouse", now)
            _event(store, case.id, "warehouse_check", now, by=current_agent(store), status_from=before,
                   status_to="warehouse")
        else:
            text = _clean(findings, MAX_TEXT, "仓库反馈", "warehouse findings", "findings", True)
            who = _clean(by, 64, "反馈人", "reported by", "by") or current_agent(store)
            merged = (case.warehouse_findings + "\n" + text).strip() if case.warehouse_findings else text
            db.execute("UPDATE aftersales_cases SET warehouse_findings = ?, updated_at = ? WHERE id = ?",
                       (merged[:MAX_TEXT * 2], to_db(now), case.id))
            made = store.query("SELECT 1 FROM aftersales_events WHERE case_id = ? AND kind = 'offer' LIMIT 1", (case.id,))
            if case.status in ("warehouse", "new"):
                _move(store, case, "proposed" if made else "calming", now)
            _event(store, case.id, "warehouse_findings", now, by=who, role="warehouse", status_from=before,
                   status_to=case.status, detail=text)
        caseteam.queue_case(store, case.id, before, mark)
    return get_case(store, case.id)


def _covered(store: Store, case: Case, offer: str, amount: int | None) -> bool:
    """An outcome is within what was allowed: the agent's limit, or an offer the supervisor approved."""
    if get_limit(store, case.severity, product=case.product, team_shop=case.team_shop).allows(offer, amount):
        return True
    for r in store.query("SELECT amount FROM aftersales_events WHERE case_id = ? AND kind = 'offer' "
                         "AND by_role = 'supervisor' AND offer = ?", (case.id, offer)):
        if offer != "compensate" or (amount or 0) <= (r["amount"] or 0):
            return True
    return False


def resolve(store: Store, ref: Any, outcome: Any, *, amount: Any = None, note: str = "",
            now: datetime | None = None) -> Case:
    """已解决: the problem is solved (compensated ¥x, exchanged, returned, refunded, explained). An outcome
    beyond the agent's limit needs the supervisor's approval first (escalate)."""
    now = _now(store, now)
    kind = normalize_outcome(outcome)
    if kind == "withdrawn":
        raise ValidationError("买家撤回请用“关闭”", "A withdrawn case is closed, not resolved: use close", field="outcome")
    fen = money(amount) if amount is not None and amount != "" else None
    if kind == "compensated" and fen is None:
        raise ValidationError("已补偿需要写金额，例如 --amount 10", "Compensated needs an amount, e.g. --amount 10",
                              field="amount")
    note = _clean(note, MAX_TEXT, "备注", "note", "note")
    with store.write() as db:
        case = get_case(store, ref)
        _require_open(case, "结案", "resolve it")
        start, mark = _begin(store, case)
        check_transition(case.status, "resolved")
        offer = OFFER_OF_OUTCOME.get(kind)
        if offer is not None and not _covered(store, case, offer, fen):
            limit = get_limit(store, case.severity, product=case.product, team_shop=case.team_shop)
            raise ValidationError(
                f"{OUTCOMES[kind][0]}{(' ¥' + yuan(fen)) if fen is not None else ''}超出你的挽单权限"
                f"（{limit.describe('zh')}），请先升级主管", f"{OUTCOMES[kind][1]}"
                f"{(' ¥' + yuan(fen)) if fen is not None else ''} is above your limit ({limit.describe('en')}): "
                "escalate to the supervisor first", field="outcome")
        before = case.status
        db.execute("UPDATE aftersales_cases SET outcome = ?, outcome_amount = ?, step = 4 WHERE id = ?",
                   (kind, fen, case.id))
        _move(store, case, "resolved", now)
        _event(store, case.id, "resolved", now, by=current_agent(store), status_from=before, status_to="resolved",
               offer=offer, amount=fen, detail=_both(OUTCOMES[kind][0] + (f"：{note}" if note else ""),
                                                     OUTCOMES[kind][1] + (f": {note}" if note else "")))
        caseteam.queue_case(store, case.id, start, mark)
    log.info("case %s resolved (%s)", case.id, kind)
    return get_case(store, case.id)


def close(store: Store, ref: Any, *, note: str = "", now: datetime | None = None) -> Case:
    """已关闭: a resolved case after the follow-through, or an open one the buyer withdrew (outcome withdrawn)."""
    now = _now(store, now)
    note = _clean(note, MAX_TEXT, "备注", "note", "note")
    with store.write() as db:
        case = get_case(store, ref)
        before, mark = _begin(store, case)
        check_transition(case.status, "closed")
        if case.open:
            db.execute("UPDATE aftersales_cases SET outcome = 'withdrawn', outcome_amount = NULL WHERE id = ?",
                       (case.id,))
        _move(store, case, "closed", now)
        _event(store, case.id, "closed", now, by=current_agent(store), status_from=before, status_to="closed",
               detail=note)
        caseteam.queue_case(store, case.id, before, mark)
    return get_case(store, case.id)


def reopen(store: Store, ref: Any, *, note: str = "", now: datetime | None = None) -> Case:
    """The buyer came back about the same problem: the case is calming again (outcome cleared); sales
    chases stop again."""
    now = _now(store, now)
    note = _clean(note, MAX_TEXT, "备注", "note", "note")
    with store.write() as db:
        case = get_case(store, ref)
        check_transition(case.status, "calming")
        if case.open:
            raise ValidationError(f"售后单 {case.ref} 还没有结案", f"Case {case.ref} is still open", field="case")
        before, mark = _begin(store, case)
        db.execute("UPDATE aftersales_cases SET outcome = NULL, outcome_amount = NULL, step = 2 WHERE id = ?",
                   (case.id,))
        _move(store, case, "calming", now)
        _event(store, case.id, "reopened", now, by=current_agent(store), status_from=before, status_to="calming",
               detail=note)
        _mark(store, case.buyer_id)
        reminders.pause_for_after_sales(store, case.buyer_id, now)
        caseteam.queue_case(store, case.id, before, mark)
    return get_case(store, case.id)


# ---------------------------------------------------------------- KPIs

@dataclass
class Kpis:
    since: datetime
    until: datetime
    open_now: int = 0
    opened: int = 0
    closed: int = 0
    avg_hours_to_close: float | None = None
    median_hours_to_close: float | None = None
    compensation_total: int = 0  # fen
    refunds: int = 0
    refund_reasons: list[tuple[str, int]] = field(default_factory=list)  # top categories, most first
    escalations: int = 0
    blocked_offers: int = 0
    previous: Kpis | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "previous"}
        data["since"], data["until"] = to_db(self.since), to_db(self.until)
        data["compensation_total_yuan"] = yuan(self.compensation_total)
        data["refund_reasons"] = [{"category": c, "count": n} for c, n in self.refund_reasons]
        if self.previous is not None:
            data["previous"] = self.previous.to_dict()
        return data


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def kpis(store: Store, since: datetime, until: datetime, *, compare: bool = True) -> Kpis:
    """After-sales measures for [since, until): cases opened and closed, time to close, compensation paid,
    refunds (退款 and 退货退款) and their top reasons (categories), escalations; with the same measures
    for the period just before (compare) so the top refund reasons can be seen to fall."""
    a, b = to_db(since), to_db(until)
    k = Kpis(since, until)
    k.open_now = store.query(f"SELECT count(*) AS n FROM aftersales_cases WHERE status IN "
                             f"({','.join('?' * len(OPEN_STATUSES))})", OPEN_STATUSES)[0]["n"]
    k.opened = store.query("SELECT count(*) AS n FROM aftersales_cases WHERE opened_at >= ? AND opened_at < ?",
                           (a, b))[0]["n"]
    closed = store.query("SELECT c.opened_at, c.closed_at, c.outcome, c.outcome_amount, k.name FROM aftersales_cases c "
                         "JOIN aftersales_categories k ON k.id = c.category_id "
                         "WHERE c.closed_at >= ? AND c.closed_at < ?", (a, b))
    k.closed = len(closed)
    hours = [(from_db(r["closed_at"]) - from_db(r["opened_at"])).total_seconds() / 3600 for r in closed]  # type: ignore[operator]
    if hours:
        k.avg_hours_to_close = round(sum(hours) / len(hours), 2)
        k.median_hours_to_close = round(_median(hours), 2)  # type: ignore[arg-type]
    k.compensation_total = sum(r["outcome_amount"] or 0 for r in closed if r["outcome"] == "compensated")
    refunds = [r["name"] for r in closed if r["outcome"] in REFUND_OUTCOMES]
    k.refunds = len(refunds)
    k.refund_reasons = Counter(refunds).most_common(5)
    ev = {r["kind"]: r["n"] for r in store.query(
        "SELECT kind, count(*) AS n FROM aftersales_events WHERE at >= ? AND at < ? AND kind IN "
        "('escalated', 'offer_blocked') GROUP BY kind", (a, b))}
    k.escalations, k.blocked_offers = ev.get("escalated", 0), ev.get("offer_blocked", 0)
    if compare:
        k.previous = kpis(store, since - (until - since), since, compare=False)
    return k


def period(kind: str, now: datetime, tz: Any) -> tuple[datetime, datetime]:
    """'day' | 'week' | 'month' containing now, in the agent's zone, as UTC bounds."""
    local = now.astimezone(tz)
    day = local.date()
    if kind == "day":
        start = day
        end = day + timedelta(days=1)
    elif kind == "week":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif kind == "month":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ValidationError(f"统计周期“{kind}”无效，可选 day、week、month", f"Unknown period '{kind}'; day, week or "
                              "month", field="period")
    return zones.day_window(start, tz)[0], zones.day_window(end, tz)[0]


# ---------------------------------------------------------------- team mode: what a pull brings
# (assistant/team/sync.py, inside its write transaction; core/caseteam.py queues the other way.)
# `ctx` holds "me" (this agent's role), "agents" (role -> display name) and "shops" (server shop ->
# name). A case with a change of this PC still unsent keeps its local state: the push goes first.

CASE_FEED_COLUMNS = (
    "id, shop, buyer, order_no, product, problem, category, "
    "(SELECT k.code FROM aftersales_categories k WHERE k.id = aftersales_cases.category) AS category_code, "
    "(SELECT k.name FROM aftersales_categories k WHERE k.id = aftersales_cases.category) AS category_name, "
    "severity, wanted, mood, feelings, status, step, outcome, outcome_amount, warehouse_findings, manager_decision, "
    "decided_by, opened_by, opened_at, updated_at, closed_at")
EVENT_FEED_COLUMNS = "id, \"case\", author, at, kind, by_name, by_role, status_from, status_to, step, offer, amount, detail"
LIMIT_FEED_COLUMNS = ("id, shop, agent, severity, product, max_compensation, may_exchange, may_return, may_refund, "
                      "deleted, updated_by")


def _local_category(store: Store, row: dict, shop_name: str) -> int:
    """The local category of a server case: by uuid, by built-in code, by name in the shop; a shop's
    own category another agent added arrives with the case (under the server's uuid)."""
    cid = str(row["category"])
    found = store.query("SELECT id FROM aftersales_categories WHERE uuid = ?", (cid,))
    if not found and row["category_code"]:
        found = store.query("SELECT id FROM aftersales_categories WHERE code = ?", (row["category_code"],))
    name = row["category_name"] or "其他"
    if not found:
        found = store.query("SELECT id FROM aftersales_categories WHERE name = ? AND shop IN ('', ?) "
                            "ORDER BY shop = '' LIMIT 1", (name, shop_name))
    if found:
        return int(found[0]["id"])
    pos = store.query("SELECT IFNULL(max(position), 0) + 1 AS p FROM aftersales_categories")[0]["p"]
    cur = store.conn.execute("INSERT INTO aftersales_categories (uuid, code, name, shop, position, created_at) "
                             "VALUES (?, NULL, ?, ?, ?, ?)", (cid, name[:MAX_CATEGORY], shop_name, pos,
                                                              to_db(store.clock.now())))
    return int(cur.lastrowid)


def apply_case_row(store: Store, row: dict, ctx: dict) -> str:
    cid = str(row["id"])
    shop_name = ctx["shops"].get(str(row["shop"]))
    buyer = store.query("SELECT id FROM buyers WHERE uuid = ?", (str(row["buyer"]),))
    if shop_name is None or not buyer:
        return "skipped"
    if store.query("SELECT 1 FROM team_outbox WHERE target = ? LIMIT 1", (cid,)):
        return "skipped"  # this PC's change goes first; the server's answer comes with the next pull
    values = (buyer[0]["id"], row["order_no"], row["product"], row["problem"], _local_category(store, row, shop_name),
              row["severity"], row["wanted"], row["mood"], row["feelings"], row["status"], row["step"], row["outcome"],
              row["outcome_amount"], row["warehouse_findings"], row["manager_decision"], row["decided_by"],
              row["opened_by"], to_db(row["opened_at"]), to_db(row["updated_at"]),
              to_db(row["closed_at"]) if row["closed_at"] is not None else None, str(row["shop"]))
    local = store.query("SELECT id, status FROM aftersales_cases WHERE uuid = ?", (cid,))
    if not local:
        store.conn.execute(
            "INSERT INTO aftersales_cases (buyer_id, order_no, product, problem, category_id, severity, wanted, mood, "
            "feelings, status, step, outcome, outcome_amount, warehouse_findings, manager_decision, decided_by, "
            "opened_by, opened_at, updated_at, closed_at, team_shop, uuid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*values, cid))
        return "added"
    store.conn.execute(
        "UPDATE aftersales_cases SET buyer_id = ?, order_no = ?, product = ?, problem = ?, category_id = ?, "
        "severity = ?, wanted = ?, mood = ?, feelings = ?, status = ?, step = ?, outcome = ?, outcome_amount = ?, "
        "warehouse_findings = ?, manager_decision = ?, decided_by = ?, opened_by = ?, opened_at = ?, updated_at = ?, "
        "closed_at = ?, team_shop = ? WHERE uuid = ?", (*values, cid))
    if local[0]["status"] != row["status"]:
        case = get_case(store, local[0]["id"])
        now = store.clock.now()
        if not case.open:
            _end_followups(store, case, now, "closed", callbacks=True)
        elif _mine(store, case):
            _schedule_followup(store, case, 0, now)  # the new status's own follow-up
    return "updated"


def apply_event_row(store: Store, row: dict, ctx: dict) -> str:
    """History lines are append-only and keyed by uuid: one this PC already has is never added twice."""
    eid = str(row["id"])
    if store.query("SELECT 1 FROM aftersales_events WHERE uuid = ?", (eid,)):
        return "skipped"
    case = store.query("SELECT id FROM aftersales_cases WHERE uuid = ?", (str(row["case"]),))
    if not case:
        return "skipped"
    store.conn.execute(
        "INSERT INTO aftersales_events (uuid, case_id, at, kind, by_name, by_role, status_from, status_to, step, offer, "
        "amount, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (eid, case[0]["id"], to_db(row["at"]), row["kind"], row["by_name"] or ctx["agents"].get(row["author"], ""),
         row["by_role"], row["status_from"], row["status_to"], row["step"], row["offer"], row["amount"], row["detail"]))
    return "added"


def apply_limit_row(store: Store, row: dict, ctx: dict) -> str:
    """The server's limits replace this PC's in team mode (a shop's supervisor sets them)."""
    lid, shop = str(row["id"]), str(row["shop"])
    if shop not in ctx["shops"] or store.query("SELECT 1 FROM team_outbox WHERE target = ? LIMIT 1", (lid,)):
        return "skipped"
    key = (shop, row["agent"], row["severity"], row["product"])
    same = store.query("SELECT id FROM aftersales_limits WHERE uuid = ? OR (team_shop = ? AND agent = ? "
                       "AND severity = ? AND product = ?) ORDER BY uuid = ? DESC", (lid, *key, lid))
    if row["deleted"]:
        for r in same:
            store.conn.execute("DELETE FROM aftersales_limits WHERE id = ?", (r["id"],))
        return "deleted" if same else "skipped"
    values = (row["max_compensation"], int(row["may_exchange"]), int(row["may_return"]), int(row["may_refund"]),
              ctx["agents"].get(row["updated_by"], row["updated_by"]), to_db(store.clock.now()))
    if same:
        store.conn.execute("UPDATE aftersales_limits SET uuid = ?, max_compensation = ?, may_exchange = ?, "
                           "may_return = ?, may_refund = ?, set_by = ?, updated_at = ? WHERE id = ?",
                           (lid, *values, same[0]["id"]))
        return "updated"
    store.conn.execute("INSERT INTO aftersales_limits (uuid, team_shop, agent, severity, product, max_compensation, "
                       "may_exchange, may_return, may_refund, set_by, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       (lid, *key, *values))
    return "added"


def _mine(store: Store, case: Case) -> bool:
    """This panel follows the case: it holds the buyer's lease, or nobody does (or it ran out) and
    this agent opened the case. One panel, so a follow-up fires once."""
    me = customers.team_role(store)
    b = customers.get_buyer(store, case.buyer_id)
    if not me:
        return True
    if b.holder and b.held_until and from_db(b.held_until) > store.clock.now():
        return b.holder == me
    return case.opened_by == me


def follow_holders(store: Store, now: datetime | None = None) -> int:
    """After a pull: the follow-up reminders of shared open cases are on the panel of the agent who
    follows the buyer, on one panel only (a 交班 moves the case with the buyer): a case that came here
    gets its status's follow-up, one whose buyer went to someone else ends its follow-ups here
    (promised call-backs included: the receiver has the case's history). Returns how many changed."""
    now = _now(store, now)
    changed = 0
    rows = store.query(f"SELECT id FROM aftersales_cases WHERE team_shop IS NOT NULL AND status IN "
                       f"({','.join('?' * len(OPEN_STATUSES))})", OPEN_STATUSES)
    for r in rows:
        case = get_case(store, r["id"])
        pending = store.query(_case_reminders_sql(None), (case.id,))
        if _mine(store, case):
            if not [p for p in pending if p["cadence_id"] != CALLBACK_CADENCE]:
                _schedule_followup(store, case, 0, now)
                changed += 1
        elif pending:
            _end_followups(store, case, now, "handed_over", callbacks=True)
            changed += 1
    return changed


def apply_refused_case(store: Store, case_uuid: str, server: dict | None, event_uuids: list[str], ctx: dict) -> None:
    """The server refused a change of this case (a stale status, not this agent's buyer ...): the
    history lines of the refused change leave the case (they are kept in the conflict record with
    the change), and the server's case replaces this PC's. Inside the caller's write."""
    if event_uuids:
        marks = ",".join("?" * len(event_uuids))
        store.conn.execute(f"DELETE FROM aftersales_events WHERE uuid IN ({marks})", tuple(event_uuids))
    if server is None:  # the server never had it: the case stays this PC's own
        store.conn.execute("UPDATE aftersales_cases SET team_shop = NULL WHERE uuid = ?", (case_uuid,))
        return
    apply_case_row(store, server, ctx)


def forget_team_limits(store: Store) -> None:
    """Every feed starts over (joining a team, another shop served): the limits this PC held are
    replaced by the server's as the pull brings them back; a supervisor's change still unsent stays."""
    store.conn.execute("DELETE FROM aftersales_limits WHERE uuid NOT IN (SELECT target FROM team_outbox)")


# ---------------------------------------------------------------- read-only helpers for the panel

def may_decide(store: Store) -> bool:
    """Whether this PC records a supervisor's decision: without a team server the agent records what the
    supervisor answered (QQ/WeChat); in team mode only a supervisor's login does."""
    return not customers.team_role(store) or settings.get(store, "team.kind") == "supervisor"


def case_of_reminder(store: Store, reminder_id: int) -> Case | None:
    """The case an after-sales follow-up reminder belongs to (None: not an after-sales reminder, or gone)."""
    rows = store.query("SELECT case_id FROM reminders WHERE id = ? AND kind = 'aftersales'", (int(reminder_id),))
    if not rows or rows[0]["case_id"] is None:
        return None
    try:
        return get_case(store, rows[0]["case_id"])
    except NotFoundError:
        return None
