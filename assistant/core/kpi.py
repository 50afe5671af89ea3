"""KPIs of a shift or a day, and the domain's two calculators.

Everything is read from the tables that already record it: reply_uses (pastes), chases (chases sent,
by angle), buyer_events (starred, paid, lost) and reminders (due_at, acted_at, missed).

Definitions (over a window [since, until)):
- pastes: reply_uses rows; top replies: the 10 most pasted (a deleted reply counts as one line);
- chases: chases sent; chases_by_angle: per angle (product, price, logistics, gift, ask, none);
- chased_buyers: distinct buyers chased in the window; paid_after_chase: those of them with a 'paid'
  event after their first chase in the window (and before until); conversion = paid_after_chase /
  chased_buyers (None when nobody was chased). paid / lost: all such events in the window;
- reminder delay: for reminders acted on in the window (chased, snoozed, paid, lost, ...) that had
  fallen due when the agent acted (due_at <= acted_at), acted_at - due_at; average and median;
- missed: reminders due in the window that were shown late (the app was closed or asleep: the
  'missed' flag of reminders.fire_due/missed); overdue_open: reminders due in the window and still
  not acted on at until.

The calculators are pure functions: sales() = inquiries × conversion × average order value
(询单人数 × 转化率 × 客单价); staffing() plans a promotion from daily inquiries (shared/domain.md).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from ..errors import ValidationError
from . import zones
from .cadence import ANGLE_NAMES, ANGLES
from .clock import from_db, to_db
from .store import Store

TOP_REPLIES = 10
ANGLE_KEYS = (*ANGLES, "none")
MAX_HOUR_BUCKETS = 48


@dataclass
class TopReply:
    reply_id: int | None
    title: str
    count: int


@dataclass
class HourCount:
    hour: datetime  # start of the hour, in the agent's zone
    count: int

    @property
    def label(self) -> str:
        return self.hour.strftime("%H:%M") if self.hour.minute else self.hour.strftime("%H")


@dataclass
class Kpis:
    since: datetime
    until: datetime
    pastes: int = 0
    top_replies: list[TopReply] = field(default_factory=list)
    pastes_by_hour: list[HourCount] = field(default_factory=list)
    starred: int = 0
    chases: int = 0
    chases_by_angle: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ANGLE_KEYS, 0))
    chased_buyers: int = 0
    paid_after_chase: int = 0
    paid: int = 0
    lost: int = 0
    reminders_acted: int = 0
    avg_delay_seconds: float | None = None
    median_delay_seconds: float | None = None
    missed: int = 0
    overdue_open: int = 0

    @property
    def conversion(self) -> float | None:
        return self.paid_after_chase / self.chased_buyers if self.chased_buyers else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = to_db(self.since)
        data["until"] = to_db(self.until)
        data["pastes_by_hour"] = [{"hour": h.hour.isoformat(), "count": h.count} for h in self.pastes_by_hour]
        data["conversion"] = None if self.conversion is None else round(self.conversion, 4)
        for key in ("avg_delay_seconds", "median_delay_seconds"):
            if data[key] is not None:
                data[key] = round(data[key], 1)
        return data


def angle_label(angle: str) -> str:
    return ANGLE_NAMES[angle][0] if angle in ANGLE_NAMES else "未标角度"


def compute(store: Store, since: datetime, until: datetime, tz: tzinfo | None = None, *,
            top: int = TOP_REPLIES) -> Kpis:
    """The KPIs over [since, until). tz (the agent's zone, default UTC) only labels pastes_by_hour."""
    since, until = zones.as_utc(since), zones.as_utc(until)
    tz = tz or timezone.utc
    a, b = to_db(since), to_db(until)
    k = Kpis(since, until)

    k.pastes = store.query("SELECT count(*) AS n FROM reply_uses WHERE used_at >= ? AND used_at < ?", (a, b))[0]["n"]
    k.top_replies = [TopReply(r["reply_id"], r["title"] or "（已删除的回复）", r["n"]) for r in store.query(
        "SELECT u.reply_id, r.title, count(*) AS n FROM reply_uses u LEFT JOIN replies r ON r.id = u.reply_id "
        "WHERE u.used_at >= ? AND u.used_at < ? GROUP BY u.reply_id ORDER BY n DESC, max(u.used_at) DESC LIMIT ?",
        (a, b, int(top)))]
    per_hour = {r["h"]: r["n"] for r in store.query(
        "SELECT substr(used_at, 1, 13) AS h, count(*) AS n FROM reply_uses WHERE used_at >= ? AND used_at < ? "
        "GROUP BY h", (a, b))}
    k.pastes_by_hour = _hour_buckets(since, until, per_hour, tz)

    events = {r["kind"]: r["n"] for r in store.query(
        "SELECT kind, count(*) AS n FROM buyer_events WHERE at >= ? AND at < ? AND kind IN ('starred', 'paid', 'lost') "
        "GROUP BY kind", (a, b))}
    k.starred, k.paid, k.lost = events.get("starred", 0), events.get("paid", 0), events.get("lost", 0)

    for r in store.query("SELECT IFNULL(angle, 'none') AS angle, count(*) AS n FROM chases "
                         "WHERE sent_at >= ? AND sent_at < ? GROUP BY 1", (a, b)):
        k.chases_by_angle[r["angle"] if r["angle"] in k.chases_by_angle else "none"] += r["n"]
    k.chases = sum(k.chases_by_angle.values())
    conv = store.query(
        "SELECT count(*) AS chased, sum(EXISTS (SELECT 1 FROM buyer_events e WHERE e.buyer_id = f.buyer_id "
        " AND e.kind = 'paid' AND e.at >= f.first AND e.at < ?)) AS paid "
        "FROM (SELECT buyer_id, min(sent_at) AS first FROM chases WHERE sent_at >= ? AND sent_at < ? "
        "GROUP BY buyer_id) f", (b, a, b))[0]
    k.chased_buyers, k.paid_after_chase = conv["chased"] or 0, conv["paid"] or 0

    delays = sorted(
        (from_db(r["acted_at"]) - from_db(r["due_at"])).total_seconds()  # type: ignore[operator]
        for r in store.query("SELECT due_at, acted_at FROM reminders WHERE acted_at >= ? AND acted_at < ? "
                             "AND due_at <= acted_at AND state IN ('done', 'snoozed')", (a, b)))
    k.reminders_acted = len(delays)
    if delays:
        k.avg_delay_seconds = sum(delays) / len(delays)
        mid = len(delays) // 2
        k.median_delay_seconds = delays[mid] if len(delays) % 2 else (delays[mid - 1] + delays[mid]) / 2
    k.missed = store.query("SELECT count(*) AS n FROM reminders WHERE missed = 1 AND due_at >= ? AND due_at < ?",
                           (a, b))[0]["n"]
    k.overdue_open = store.query(
        "SELECT count(*) AS n FROM reminders WHERE due_at >= ? AND due_at < ? AND "
        "(state = 'pending' OR (acted_at IS NOT NULL AND acted_at >= ?))", (a, b, b))[0]["n"]
    return k


def _hour_buckets(since: datetime, until: datetime, counts: dict[str, int], tz: tzinfo) -> list[HourCount]:
    """One bucket per UTC hour of the window (labelled in tz), at most MAX_HOUR_BUCKETS (the last ones)."""
    start = since.replace(minute=0, second=0, microsecond=0)
    hours = max(1, math.ceil((until - start).total_seconds() / 3600))
    if hours > MAX_HOUR_BUCKETS:
        start += timedelta(hours=hours - MAX_HOUR_BUCKETS)
        hours = MAX_HOUR_BUCKETS
    out = []
    for i in range(hours):
        h = start + timedelta(hours=i)
        out.append(HourCount(h.astimezone(tz), counts.get(h.strftime("%Y-%m-%dT%H"), 0)))
    return out


def for_shift(store: Store, shift, now: datetime | None = None, tz: tzinfo | None = None) -> Kpis:
    """KPIs of a shift (core.shifts.Shift); an open shift counts up to now."""
    now = zones.as_utc(now or store.clock.now())
    return compute(store, shift.started_at, max(shift.until(now), shift.started_at), tz)


def for_day(store: Store, day, tz: tzinfo) -> Kpis:
    """KPIs of a calendar day (a datetime.date) in the agent's zone."""
    since, until = zones.day_window(day, tz)
    return compute(store, since, until, tz)


# ---------------------------------------------------------------- calculators (pure)

@dataclass(frozen=True)
class SalesEstimate:
    inquiries: float
    conversion: float
    average_order_value: float
    orders: float
    sales: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(value: Any, zh: str, en: str, field_name: str, *, lo: float = 0.0, hi: float | None = None) -> float:
    if isinstance(value, bool):
        raise ValidationError(f"{zh}应为数字", f"{en} must be a number", field=field_name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{zh}应为数字", f"{en} must be a number", field=field_name) from None
    if not math.isfinite(number) or number < lo or (hi is not None and number > hi):
        rng = f"{lo:g} 到 {hi:g}" if hi is not None else f"不小于 {lo:g}"
        rng_en = f"from {lo:g} to {hi:g}" if hi is not None else f"at least {lo:g}"
        raise ValidationError(f"{zh}应{'在 ' if hi is not None else ''}{rng}", f"{en} must be {rng_en}", field=field_name)
    return number


def parse_rate(text: str | float) -> float:
    """'0.12', '12%' or 12 (a number above 1 is read as percent) → 0.12."""
    raw = str(text).strip().replace("％", "%")
    percent = raw.endswith("%")
    value = _number(raw.rstrip("%").strip(), "转化率", "The conversion rate", "conversion", hi=100.0)
    return value / 100 if percent or value > 1 else value


def sales(inquiries: float, conversion: float, average_order_value: float) -> SalesEstimate:
    """Sales = inquiries × conversion rate × average order value (询单人数 × 转化率 × 客单价)."""
    n = _number(inquiries, "询单人数", "Inquiries", "inquiries")
    rate = _number(conversion, "转化率", "The conversion rate", "conversion", hi=1.0)
    aov = _number(average_order_value, "客单价", "The average order value", "aov")
    orders = n * rate
    return SalesEstimate(n, rate, aov, orders, orders * aov)


# Promotion-day inquiries as a multiple of a normal day (shared/domain.md).
SHOP_TYPES: dict[str, tuple[str, str, int]] = {
    "ka": ("KA 重点店铺", "key-account shop", 45),
    "established": ("成熟店铺", "established shop", 22),
    "ordinary": ("普通店铺", "ordinary shop", 15),
}
_SHOP_ALIASES = {"KA": "ka", "重点": "ka", "大店": "ka", "成熟": "established", "成熟店铺": "established",
                 "普通": "ordinary", "普通店铺": "ordinary", "小店": "ordinary"}
EXTRA_HELP_ABOVE = 25  # plan temporary help when promotion inquiries exceed 25× a normal day
SHOPS_PER_AGENT = 5  # normally one agent covers about five shops
KA_PROMO_AGENTS = 2  # a KA shop in a promotion may need two agents


@dataclass(frozen=True)
class StaffingPlan:
    shop_type: str
    shops: int
    daily_inquiries: float  # a normal day, per shop
    multiplier: float
    promo_inquiries_per_shop: float
    promo_inquiries: float  # all shops
    normal_agents: int
    promo_agents: int
    extra_help: bool
    agent_capacity: float | None
    notes: tuple[tuple[str, str], ...]  # (zh, en)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = [{"zh": zh, "en": en} for zh, en in self.notes]
        return data


def normalize_shop_type(text: str) -> str:
    raw = str(text or "").strip()
    if raw.lower() in SHOP_TYPES:
        return raw.lower()
    if raw in _SHOP_ALIASES or raw.upper() in _SHOP_ALIASES:
        return _SHOP_ALIASES.get(raw) or _SHOP_ALIASES[raw.upper()]
    raise ValidationError(f"店铺类型“{raw}”无效，可选：ka（重点）、established（成熟）、ordinary（普通）",
                          f"Unknown shop type '{raw}'; one of ka, established, ordinary", field="shop_type")


def staffing(daily_inquiries: float, shop_type: str, shops: int = 1, *, multiplier: float | None = None,
             agent_capacity: float | None = None) -> StaffingPlan:
    """Promotion staffing. daily_inquiries: a normal day's inquiries per shop. The promotion day brings
    about 45× (KA), 22× (established) or 15× (ordinary) of it (multiplier overrides); above 25× plan
    extra help. Normally one agent covers about five shops; a KA shop in a promotion may need two
    agents. agent_capacity (inquiries one agent handles in a promotion day, optional) adds a
    load-based count: the plan takes the larger of the two."""
    kind = normalize_shop_type(shop_type)
    daily = _number(daily_inquiries, "日均询单量", "Daily inquiries", "daily_inquiries")
    if isinstance(shops, bool) or not isinstance(shops, int) or shops < 1 or shops > 10_000:
        raise ValidationError("店铺数应为 1 到 10000 的整数", "Shops must be a whole number from 1 to 10000", field="shops")
    mult = SHOP_TYPES[kind][2] if multiplier is None else _number(multiplier, "倍数", "The multiplier", "multiplier",
                                                                   lo=1.0, hi=1000.0)
    capacity = None if agent_capacity is None else _number(agent_capacity, "每人承接量", "Agent capacity",
                                                           "agent_capacity", lo=1.0)
    per_shop = daily * mult
    total = per_shop * shops
    normal = math.ceil(shops / SHOPS_PER_AGENT)
    notes: list[tuple[str, str]] = [(
        f"平日每位客服约管 {SHOPS_PER_AGENT} 家店：{shops} 家店需 {normal} 人",
        f"Normally one agent covers about {SHOPS_PER_AGENT} shops: {shops} shop(s) need {normal}")]
    promo = normal
    if kind == "ka":
        promo = max(promo, KA_PROMO_AGENTS * shops)
        notes.append((f"KA 店铺大促期间每店可能需要 {KA_PROMO_AGENTS} 位客服：至少 {KA_PROMO_AGENTS * shops} 人",
                      f"A KA shop in a promotion may need {KA_PROMO_AGENTS} agents: at least {KA_PROMO_AGENTS * shops}"))
    if capacity:
        by_load = math.ceil(total / capacity)
        notes.append((f"按每人每天承接 {capacity:g} 个询单：需 {by_load} 人",
                      f"At {capacity:g} inquiries per agent per day: {by_load} agents"))
        promo = max(promo, by_load)
    extra = mult > EXTRA_HELP_ABOVE
    if extra:
        notes.append((f"询单量约为平日的 {mult:g} 倍（超过 {EXTRA_HELP_ABOVE} 倍）：请提前安排临时客服或支援",
                      f"Inquiries reach about {mult:g}× a normal day (above {EXTRA_HELP_ABOVE}×): plan extra help"))
    return StaffingPlan(kind, shops, daily, mult, per_shop, total, normal, promo, extra, capacity, tuple(notes))
