"""Starring buyers, chase reminders, outcomes and promotions: the store side of core/cadence.py.

The UI arms one timer for next_due(); when it fires, fire_due() hands over the reminders due (each
exactly once); on start and wake, missed() hands over those that fell due while the app was closed or
asleep (also once). due() lists without marking (the 提醒 tab, `kefu due`). The paste controller calls
record_chase() after pasting a chase script for a buyer; the popup's buttons call outcome()
(paid / lost / snooze / replied) and complete() (the promotion phone list).

Due times are UTC in the store. Every function takes `now` (defaulting to store.clock.now()), so tests
drive time with a FakeClock. Buyer names, phones and notes are never logged: only ids.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid as uuidlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from ..errors import NotFoundError, ValidationError
from ..paths import resource_path
from . import cadence as cad
from . import caseguard, checked, customers, masking, outbox, products, settings, templates, zones
from .clock import from_db, to_db
from .customers import Buyer
from .store import Store

log = logging.getLogger(__name__)

OUTCOMES: dict[str, tuple[str, str]] = {
    "paid": ("已付款", "paid"),
    "lost": ("已流失", "lost"),
    "snooze": ("暂缓", "snooze"),
    "replied": ("顾客回复了", "buyer replied"),
    "pause": ("暂停跟进", "pause"),
    "resume": ("恢复跟进", "resume"),
}
_OUTCOME_ALIASES = {"已付款": "paid", "付款": "paid", "已流失": "lost", "流失": "lost", "暂缓": "snooze",
                    "稍后": "snooze", "顾客回复了": "replied", "回复": "replied", "已回复": "replied",
                    "暂停": "pause", "恢复": "resume"}
KINDS = {"chase": ("催单", "chase"), "wave": ("大促催付", "promotion wave"), "phone": ("大促电话名单", "promotion phone list"),
         "aftersales": ("售后跟进", "after-sales follow-up"),  # aftersales: core/aftersales.py schedules them
         "order": ("催付", "unpaid order")}  # order: an unpaid order's 催付 cadence (core/orders.py plans them)
PROMO_CADENCE = "promo"


# ---------------------------------------------------------------- configuration
# The reminders.* settings are declared (and validated) once, in core/settings.py; Config is a
# read-only view of them with the agent's zone and hours made ready for core/cadence.py.

@dataclass(frozen=True)
class Config:
    values: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def agent_tz(self) -> tzinfo:
        return zones.zone_or_local(self.values["reminders.agent_tz"])

    @property
    def hours(self) -> cad.Hours:
        v = self.values
        return cad.Hours(self.agent_tz, zones.parse_hhmm(v["reminders.shift_start"]),
                         zones.parse_hhmm(v["reminders.shift_end"]), zones.parse_hhmm(v["reminders.quiet_start"]),
                         zones.parse_hhmm(v["reminders.quiet_end"]))


CONFIG_NAMES = tuple(s.name for s in settings.DECLARED if s.name.startswith("reminders."))


def get_config(store: Store) -> Config:
    """The reminders.* settings (a bad stored value reads as its default, like settings.get)."""
    return Config({name: settings.get(store, name) for name in CONFIG_NAMES})


# ---------------------------------------------------------------- cadences (data)

@functools.lru_cache(maxsize=1)
def shipped_cadences() -> dict[str, cad.Cadence]:
    with open(resource_path("cadences", "default.json"), encoding="utf-8") as fh:
        return cad.cadences_from_document(json.load(fh))


def cadences(store: Store) -> dict[str, cad.Cadence]:
    """The shipped cadences, each replaced by the user's edited copy when there is one."""
    out = dict(shipped_cadences())
    for row in store.query("SELECT id, definition FROM cadences ORDER BY id"):
        try:
            cadence = _checked(cad.cadence_from_dict(json.loads(row["definition"])))
            if cadence.id != row["id"]:
                raise ValueError("id mismatch")
            out[row["id"]] = cadence
        except (ValueError, ValidationError):
            log.warning("stored cadence %s is invalid; using the shipped one", row["id"])
    return out


def _checked(cadence: cad.Cadence) -> cad.Cadence:
    if cadence.id == PROMO_CADENCE and cadence.promotion is None:
        raise ValidationError("大促节奏需要 promotion 设置", "The promotion cadence needs a 'promotion' section",
                              field="cadence")
    if cadence.id != PROMO_CADENCE and not cadence.steps:
        raise ValidationError("节奏至少要有一步", "A cadence needs at least one step", field="cadence")
    return cadence


def get_cadence(store: Store, cadence_id: str) -> cad.Cadence:
    found = cadences(store).get(str(cadence_id))
    if found is None:
        names = "、".join(f"{c.id}（{c.zh}）" for c in cadences(store).values())
        raise NotFoundError(f"没有节奏“{cadence_id}”（现有：{names}）", f"No cadence '{cadence_id}' ({names})")
    return found


def save_cadence(store: Store, definition: dict) -> cad.Cadence:
    """Save an edited (or new) cadence; the next steps scheduled use it."""
    cadence = _checked(cad.cadence_from_dict(definition))
    with store.write() as db:
        db.execute("INSERT INTO cadences (id, definition, updated_at) VALUES (?,?,?) ON CONFLICT(id) DO UPDATE SET "
                   "definition = excluded.definition, updated_at = excluded.updated_at",
                   (cadence.id, json.dumps(cadence.to_dict(), ensure_ascii=False), to_db(store.clock.now())))
    return cadence


def reset_cadence(store: Store, cadence_id: str) -> cad.Cadence:
    with store.write() as db:
        db.execute("DELETE FROM cadences WHERE id = ?", (cadence_id,))
    return get_cadence(store, cadence_id)


def default_cadence_for(config: Config, mark_codes: Iterable[str], available: dict[str, cad.Cadence]) -> str:
    """auto: 高客单 → high_ticket, 低客单 → low_ticket, otherwise the in-conversation cadence."""
    chosen = config["reminders.default_cadence"]
    if chosen != "auto" and chosen in available and chosen != PROMO_CADENCE:
        return chosen
    codes = set(mark_codes)
    if "high_ticket" in codes and "high_ticket" in available:
        return "high_ticket"
    if "low_ticket" in codes and "low_ticket" in available:
        return "low_ticket"
    return "in_chat" if "in_chat" in available else next(i for i, c in available.items() if c.steps)


# ---------------------------------------------------------------- records

@dataclass
class DueReminder:
    """A reminder with what the popup shows: buyer (phone masked), marks, last chase."""

    id: int
    kind: str
    cadence_id: str
    cadence_name: str
    step: int
    steps_total: int
    due_at: datetime
    planned_at: datetime | None
    moved_for: list[str]
    state: str
    fired_at: datetime | None
    missed: bool
    buyer_id: int | None = None
    nickname: str | None = None
    platform: str | None = None
    shop: str | None = None
    buyer_state: str | None = None
    open_questions: bool = False
    phone_masked: str | None = None
    tz: str | None = None
    marks: list[str] = field(default_factory=list)
    mark_codes: list[str] = field(default_factory=list)
    promotion_id: int | None = None
    promotion_name: str | None = None
    promotion_start: datetime | None = None
    chase_count: int = 0
    last_chase_at: datetime | None = None
    last_chase_title: str | None = None
    cadence_name_en: str = ""
    # What the buyer's product gives the fill-in fields ({商品} {卖点} {材质}…, products.values_for)
    product_values: dict[str, str] = field(default_factory=dict)
    # An unpaid order's 催付 (kind 'order'): which order (its number masked), amount, closing time,
    # and what it gives {订单号} {金额} {截止时间} (order_values; the proposal's values carry them
    # when its script names the order)
    order_id: int | None = None
    order_masked: str | None = None
    order_amount: str | None = None
    order_deadline: datetime | None = None
    order_status: str | None = None
    order_values: dict[str, str] = field(default_factory=dict)

    def late_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.due_at).total_seconds())

    def fill_values(self, product_values: dict[str, str] | None = None) -> dict[str, str]:
        """What this reminder knows for the chase script's fill-in fields: {客户}, the buyer's product
        ({商品} {卖点} {材质} {尺码} {赠品} {优惠}, the active promotion's {活动}), and {活动} for a
        promotion wave. product_values: fresher ones than the reminder's (a proposal's, read after
        the agent linked a product)."""
        values = {**(self.product_values if product_values is None else product_values),
                  "客户": self.nickname or ""}
        if self.promotion_name:
            values["活动"] = self.promotion_name
        return values

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


@dataclass
class ChaseProposal:
    buyer_id: int
    angle: str | None
    reply_id: int | None
    reply_title: str | None
    reply_body: str | None
    blocked: str | None
    warnings: list[str]
    generic: bool = False  # 通用: the script says nothing known of the buyer's product; adapt it
    selling_point: str | None = None  # what {卖点} fills with: a selling point not yet sent to this buyer
    values: dict[str, str] = field(default_factory=dict)  # fill-in values from the buyer's product

    @property
    def allowed(self) -> bool:
        return self.blocked is None

    def messages(self, lang: str = "zh") -> list[str]:
        return [cad.describe(code, lang) for code in ([self.blocked] if self.blocked else []) + self.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "allowed": self.allowed, "messages": self.messages("zh"),
                "messages_en": self.messages("en")}


@dataclass
class ChaseRecorded:
    chase_id: int
    warnings: list[str]
    next_due: datetime | None


@dataclass
class PromotionInfo:
    id: int
    name: str
    start_at: datetime
    phone_at: datetime | None
    wave_start: datetime | None
    wave_end: datetime | None
    wave_total: int
    wave_pending: int

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items()}


@dataclass
class PhoneEntry:
    buyer_id: int
    nickname: str
    platform: str
    shop: str
    marks: list[str]
    phone: str | None  # unmasked: this list exists to be phoned
    tz: str | None
    notes: str
    # how the calls of this promotion went: to_call, retry (未接, due again at retry_at), later (改约,
    # at retry_at), done (接通 or 不需要); night: it is night where the buyer is - do not call now
    status: str = "to_call"
    last_outcome: str | None = None
    retry_at: datetime | None = None
    local_time: datetime | None = None
    night: bool = False
    calls: int = 0


# ---------------------------------------------------------------- helpers

def _now(store: Store, now: datetime | None) -> datetime:
    return zones.as_utc(now or store.clock.now())


def format_amount(fen: int | None) -> str:
    """199.00 from 19900 fen ('' when not known)."""
    return "" if fen is None else f"{fen // 100}.{fen % 100:02d}"


def order_values(order_no: str, amount_fen: int | None, deadline: datetime | None, tz: tzinfo,
                 language: str | None = "zh") -> dict[str, str]:
    """What an unpaid order gives a 催付 script: {订单号} as agents name an order in a chat, by its
    last four characters (尾号5678: the full number never sits in a card or on the clipboard),
    {金额} (199元, 199.50元) and {截止时间} (the closing time in the agent's zone: 11月11日 21:30).
    Empty values are left out, for the agent to fill."""
    zh = (language or "zh") == "zh"
    values: dict[str, str] = {}
    tail = (order_no or "").strip()[-4:]
    if tail:
        values["订单号"] = f"尾号{tail}" if zh else f"…{tail}"
    if amount_fen is not None:
        yuan = str(amount_fen // 100) if amount_fen % 100 == 0 else format_amount(amount_fen)
        values["金额"] = f"{yuan}元" if zh else f"¥{yuan}"
    if deadline is not None:
        local = deadline.astimezone(tz)
        values["截止时间"] = (f"{local.month}月{local.day}日 {local:%H:%M}" if zh
                            else f"{local:%m-%d %H:%M}")
    return values


def _insert(store: Store, *, buyer_id: int | None, kind: str, cadence_id: str, step: int, scheduled: cad.Scheduled,
            now: datetime, promotion_id: int | None = None, snoozed_from: int | None = None, queue: bool = True) -> int:
    cur = store.conn.execute(
        "INSERT INTO reminders (uuid, buyer_id, promotion_id, kind, cadence_id, step, due_at, planned_at, moved_for, "
        "state, created_at, snoozed_from) VALUES (?,?,?,?,?,?,?,?,?, 'pending', ?, ?)",
        (str(uuidlib.uuid4()), buyer_id, promotion_id, kind, cadence_id, step, to_db(scheduled.at), to_db(scheduled.planned),
         ",".join(scheduled.moved_for), to_db(now), snoozed_from))
    rid = int(cur.lastrowid)
    if queue and buyer_id is not None:
        customers.queue_reminders(store, buyer_id, [rid])  # team mode: the server keeps the one owner
    return rid


def _pending(store: Store, buyer_id: int) -> list[dict]:
    return store.query("SELECT id, kind, cadence_id, step, due_at, fired_at, promotion_id FROM reminders "
                       "WHERE buyer_id = ? AND state = 'pending' ORDER BY due_at, id", (buyer_id,))


def _close_pending(store: Store, buyer_id: int, now: datetime, outcome: str, kinds: Sequence[str] = ("chase", "wave"),
                   only_due: bool = False, queue: bool = True) -> None:
    """Pending reminders of a buyer: those shown or due become 'done' (acted now); the rest are
    cancelled (only_due: the rest stay). queue=False: the reminders left this panel for another
    owner (team mode), so the server is not told to close them."""
    stamp = to_db(now)
    changed = []
    for r in _pending(store, buyer_id):
        if r["kind"] not in kinds:
            continue
        due = r["fired_at"] is not None or r["due_at"] <= stamp
        if due:
            store.conn.execute("UPDATE reminders SET state = 'done', outcome = ?, acted_at = ? WHERE id = ?",
                               (outcome, stamp, r["id"]))
            changed.append(r["id"])
        elif not only_due:
            store.conn.execute("UPDATE reminders SET state = 'cancelled', outcome = ? WHERE id = ?", (outcome, r["id"]))
            changed.append(r["id"])
    if queue:
        customers.queue_reminders(store, buyer_id, changed)


def _history(store: Store, buyer_id: int) -> list[cad.SentChase]:
    return [cad.SentChase(from_db(r["sent_at"]), r["reply_id"], r["angle"], bool(r["buyer_replied"]))  # type: ignore[arg-type]
            for r in store.query("SELECT reply_id, angle, sent_at, buyer_replied FROM chases WHERE buyer_id = ? "
                                 "ORDER BY sent_at, id", (buyer_id,))]


def _schedule(store: Store, buyer: Buyer, index: int, now: datetime, anchor: datetime,
              config: Config | None = None) -> int | None:
    """Insert the reminder for step `index` of the buyer's cadence; None when the cadence is finished."""
    if not buyer.cadence_id:
        return None
    if caseguard.in_after_sales(store, buyer.id):  # after-sales (open case or 售后中): no sales chase
        return None
    config = config or get_config(store)
    try:
        cadence = get_cadence(store, buyer.cadence_id)
    except NotFoundError:
        log.warning("buyer %s follows a cadence that no longer exists", buyer.id)
        return None
    started = from_db(buyer.cadence_started_at) or now
    visit = from_db(buyer.visit_started_at) or started
    scheduled = cad.schedule_step(cadence, index, now=now, started_at=started, anchor=anchor, hours=config.hours,
                                  buyer_tz=buyer.zone(), visit_start=visit)
    if scheduled is None:
        customers.log_event(store, buyer.id, "cadence_finished", now, detail=cadence.id)
        return _chain(store, buyer, cadence, now, config)
    return _insert(store, buyer_id=buyer.id, kind="chase", cadence_id=cadence.id, step=index, scheduled=scheduled,
                   now=now)


def _chain(store: Store, buyer: Buyer, cadence: cad.Cadence, now: datetime, config: Config) -> int | None:
    """An in-conversation cadence ended without an outcome (no 已付款, no 流失): the buyer moves on to the
    cadence it names as `then` (the quiet-period revisit), from now. The setting
    reminders.after_in_chat = "stop" keeps the old behaviour: the chase ends here."""
    if not cadence.then or config["reminders.after_in_chat"] != "revisit" or not buyer.starred \
            or buyer.state != "following":
        return None
    try:
        following = get_cadence(store, cadence.then)
    except NotFoundError:
        log.warning("cadence %s names a next cadence that does not exist", cadence.id)
        return None
    if following.promotion is not None or not following.steps or following.for_order or following.then == cadence.id:
        return None  # never a loop, never a promotion
    stamp = to_db(now)
    store.conn.execute("UPDATE buyers SET cadence_id = ?, cadence_started_at = ?, visit_started_at = ?, updated_at = ? "
                       "WHERE id = ?", (following.id, stamp, stamp, stamp, buyer.id))
    customers.log_event(store, buyer.id, "cadence_chained", now, detail=following.id)
    customers.queue_fields(store, buyer.id)  # team mode: the buyer's cadence is shared
    moved = customers.get_buyer(store, buyer.id)
    started = now
    scheduled = cad.schedule_step(following, 0, now=now, started_at=started, anchor=now, hours=config.hours,
                                  buyer_tz=moved.zone(), visit_start=started)
    if scheduled is None:
        return None
    return _insert(store, buyer_id=buyer.id, kind="chase", cadence_id=following.id, step=0, scheduled=scheduled,
                   now=now)


def _start_cadence(store: Store, buyer_id: int, cadence_id: str, now: datetime, config: Config) -> int | None:
    cadence = get_cadence(store, cadence_id)
    if cadence.promotion is not None or not cadence.steps or cadence.for_order:
        raise ValidationError(f"“{cadence.zh}”不能用于单个买家", f"'{cadence.en}' cannot be started for one buyer",
                              field="cadence")
    _close_pending(store, buyer_id, now, "restarted", kinds=("chase",))
    stamp = to_db(now)
    store.conn.execute("UPDATE buyers SET cadence_id = ?, cadence_started_at = ?, visit_started_at = ?, updated_at = ? "
                       "WHERE id = ?", (cadence.id, stamp, stamp, stamp, buyer_id))
    return _schedule(store, customers.get_buyer(store, buyer_id), 0, now, now, config)


# ---------------------------------------------------------------- starring

def star(store: Store, *, buyer_id: int | None = None, platform: str | None = None, nickname: str | None = None,
         shop: str = "", marks: Iterable[str] = (), notes: str | None = None, phone: str | None = None,
         tz: str | None = None, language: str | None = None, open_questions: bool | None = None,
         cadence: str | None = None, now: datetime | None = None) -> Buyer:
    """Star a buyer (an existing one by id, or by platform + shop + nickname, created if new), add the
    marks, and start a cadence: `cadence`, or the default for the buyer's marks. Starring a buyer who
    is already followed only adds marks and fields (give cadence to restart). Starring again a paid,
    lost or paused buyer follows them again (a new inquiry)."""
    now = _now(store, now)
    config = get_config(store)
    with store.write() as db:
        if buyer_id is None:
            if not platform or not nickname:
                raise ValidationError("标星需要平台和买家昵称", "Starring needs a platform and a nickname", field="platform")
            buyer, _ = customers.get_or_create_buyer(store, platform, nickname, shop)
        else:
            buyer = customers.get_buyer(store, buyer_id)
        customers.require_free(store, buyer, "标星跟进", "star them", now)
        changes = {k: v for k, v in {"notes": notes, "phone": phone, "tz": tz, "language": language,
                                     "open_questions": open_questions}.items() if v is not None}
        if changes:
            customers.update_buyer(store, buyer.id, **changes)
        mark_list = list(marks)
        if mark_list:
            customers.set_marks(store, buyer.id, add=mark_list)
        buyer = customers.get_buyer(store, buyer.id)
        followed = buyer.starred and buyer.state == "following"
        has_chase = any(r["kind"] == "chase" for r in _pending(store, buyer.id))
        stamp = to_db(now)
        if not followed:
            agent = settings.get(store, "agent.name") or None
            db.execute("UPDATE buyers SET starred = 1, starred_by = ?, starred_at = ?, state = 'following', "
                       "updated_at = ? WHERE id = ?", (agent, stamp, stamp, buyer.id))
            customers.log_event(store, buyer.id, "starred", now)
        if cadence is not None or not followed or not has_chase:
            available = cadences(store)
            chosen = cadence or default_cadence_for(config, buyer.mark_codes, available)
            _start_cadence(store, buyer.id, chosen, now, config)
        customers.claim(store, buyer.id, now)  # team mode: who stars a buyer follows them
        customers.queue_fields(store, buyer.id)
        _join_waves(store, buyer.id, now, config)
    log.info("buyer %s starred", buyer.id)
    return customers.get_buyer(store, buyer.id)


def start_cadence(store: Store, buyer_id: int, cadence_id: str, now: datetime | None = None) -> Buyer:
    """Switch a followed buyer to another cadence, from its first step (e.g. 空窗回访 after 对话内)."""
    now = _now(store, now)
    with store.write():
        buyer = customers.get_buyer(store, buyer_id)
        if not buyer.starred or buyer.state != "following":
            raise ValidationError("只能给跟进中的标星买家安排节奏", "Only a starred buyer being followed can get a cadence",
                                  field="cadence")
        _start_cadence(store, buyer.id, cadence_id, now, get_config(store))
    return customers.get_buyer(store, buyer_id)


def unstar(store: Store, buyer_id: int, now: datetime | None = None) -> Buyer:
    now = _now(store, now)
    with store.write() as db:
        buyer = customers.get_buyer(store, buyer_id)
        _close_pending(store, buyer.id, now, "unstarred")
        stamp = to_db(now)
        db.execute("UPDATE buyers SET starred = 0, updated_at = ? WHERE id = ?", (stamp, buyer.id))
        customers.log_event(store, buyer.id, "unstarred", now)
        if buyer.team_shop is not None:
            customers.queue_fields(store, buyer.id)
    return customers.get_buyer(store, buyer_id)


def set_marks(store: Store, buyer_id: int, add: Iterable[str | int] = (), remove: Iterable[str | int] = (),
              now: datetime | None = None) -> Buyer:
    """customers.set_marks, and what a mark means for the reminders: a buyer marked 售后中 by hand gets
    no more sales chases or wave slots (its pending ones end now, as when a case opens)."""
    with store.write():
        buyer = customers.set_marks(store, buyer_id, add=add, remove=remove)
        if "after_sales" in buyer.mark_codes:
            pause_for_after_sales(store, buyer.id, now)
    return customers.get_buyer(store, buyer_id)


def pause_for_after_sales(store: Store, buyer_id: int, now: datetime | None = None) -> None:
    """An after-sales case was opened (core/aftersales.py, inside its transaction): the buyer's pending
    sales chases and promotion wave slots end here; the case follows its own cadence until closed."""
    _close_pending(store, buyer_id, _now(store, now), "after_sales")


def yield_to_holders(store: Store, now: datetime | None = None) -> int:
    """Team mode: a buyer another agent now follows (the server gave them the lease, by a claim
    that came first, a take-over or a reassignment) is theirs to chase, so this panel's pending
    chase and wave reminders for that buyer are cancelled: a reminder fires on exactly one panel.
    Returns how many. A sync calls it after every pull."""
    now = _now(store, now)
    me = customers.team_role(store)
    if not me:
        return 0
    stamp = to_db(now)
    with store.write():
        held = store.query("SELECT DISTINCT b.id FROM buyers b JOIN reminders r ON r.buyer_id = b.id "
                           "WHERE r.state = 'pending' AND r.kind IN ('chase', 'wave') AND b.holder IS NOT NULL "
                           "AND b.holder != ? AND b.held_until > ?", (me, stamp))
        for row in held:
            _close_pending(store, row["id"], now, "held_by_other", queue=False)
    return len(held)


def adopt_held(store: Store, now: datetime | None = None) -> int:
    """Team mode: a buyer this agent now holds (a handover, a reassignment, a take-over) that is
    followed but has no pending chase reminder here gets the next step of its cadence, counted from
    the chases the team already sent since it started: the receiver of a 交班 is reminded, on their
    panel only. Returns how many got one. A sync calls it after every pull."""
    now = _now(store, now)
    me = customers.team_role(store)
    if not me or store.query("SELECT 1 FROM team_outbox WHERE kind = 'team.handover' LIMIT 1"):
        return 0  # nothing to adopt while my own 交班 is still on its way
    config = get_config(store)
    added = 0
    with store.write():
        rows = store.query(
            "SELECT b.id FROM buyers b WHERE b.holder = ? AND b.held_until > ? AND b.starred = 1 "
            "AND b.state = 'following' AND b.cadence_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reminders r "
            "WHERE r.buyer_id = b.id AND r.kind = 'chase' AND r.state = 'pending') "
            # a buyer with an unpaid order is chased by its 催付 (the reminders that came with it), never
            # by the pre-order 咨询未付款 chase again
            "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.buyer_id = b.id AND o.status = 'unpaid')",
            (me, to_db(now)))
        for row in rows:
            buyer = customers.get_buyer(store, row["id"])
            sent = store.query("SELECT count(*) AS n, max(sent_at) AS last FROM chases WHERE buyer_id = ? "
                               "AND sent_at >= ?", (buyer.id, buyer.cadence_started_at or ""))[0]
            anchor = from_db(sent["last"]) if sent["last"] else now
            if _schedule(store, buyer, int(sent["n"]), now, anchor, config) is not None:
                added += 1
    return added


def hand_over_team(store: Store, to_role: str | None, to_name: str | None = None,
                   now: datetime | None = None) -> int:
    """交班 in team mode: every buyer this agent follows goes to `to_role` (another agent of the
    team; the server moves only the buyers of shops the receiver serves, the rest go to the pool)
    or, with None, to the shop's pool. Queued like any change; this panel's reminders for those
    buyers end here (they fire on the receiver's panel). Returns how many buyers were held."""
    now = _now(store, now)
    me = customers.team_role(store)
    if not me:
        raise ValidationError("没有连接团队服务器：交班请导出交接文件", "not connected to a team server: "
                              "export a handover file instead", field="to")
    if to_role == me:
        raise ValidationError("不能交班给自己", "you cannot hand over to yourself", field="to")
    with store.write() as db:
        held = store.query("SELECT id FROM buyers WHERE holder = ? AND held_until > ?", (me, to_db(now)))
        outbox.add(store, "team.handover", f"handover:{uuidlib.uuid4()}", {"to": to_role})
        for row in held:
            db.execute("UPDATE buyers SET holder = ?, holder_name = ? WHERE id = ?", (to_role, to_name, row["id"]))
            if to_role is None:
                db.execute("UPDATE buyers SET held_until = NULL WHERE id = ?", (row["id"],))
            _close_pending(store, row["id"], now, "handed_over", queue=False)
    return len(held)


# What a team pull brings (assistant/team/sync.py), inside its write transaction; ctx as in
# customers' apply_* functions. The server gives each reminder one owner: this panel keeps pending
# only the reminders it owns, so a reminder fires on exactly one panel.

def apply_promotion_row(store: Store, row: dict, ctx: dict) -> str:
    """A shop's promotion (added by a supervisor): every agent's panel lists it and gets its phone
    list reminder; the wave slots arrive as reminders of the buyers each agent holds."""
    pid = str(row["id"])
    local = store.query("SELECT id FROM promotions WHERE uuid = ?", (pid,))
    if row["deleted"]:
        if local:  # its reminders go with it (ON DELETE CASCADE)
            store.conn.execute("DELETE FROM promotions WHERE id = ?", (local[0]["id"],))
            return "deleted"
        return "skipped"
    start, shop = to_db(row["start_at"]), str(row["shop"])
    if local:
        store.conn.execute("UPDATE promotions SET name = ?, start_at = ?, team_shop = ? WHERE id = ?",
                           (row["name"], start, shop, local[0]["id"]))
        return "updated"
    same = store.query("SELECT id FROM promotions WHERE name = ? AND start_at = ?", (row["name"], start))
    if same:  # this PC had added the same promotion itself: one promotion, the shop's
        store.conn.execute("UPDATE promotions SET uuid = ?, team_shop = ? WHERE id = ?", (pid, shop, same[0]["id"]))
        return "adopted"
    now = store.clock.now()
    cur = store.conn.execute("INSERT INTO promotions (uuid, name, start_at, created_at, team_shop) VALUES (?,?,?,?,?)",
                             (pid, row["name"], start, to_db(now), shop))
    if from_db(start) > now:  # type: ignore[operator]
        phone_at = cad.phone_list_at(from_db(start), now, get_cadence(store, PROMO_CADENCE))  # type: ignore[arg-type]
        _insert(store, buyer_id=None, kind="phone", cadence_id=PROMO_CADENCE, step=0,
                scheduled=cad.Scheduled(phone_at, phone_at), now=now, promotion_id=int(cur.lastrowid))
    return "added"


def apply_reminder_row(store: Store, row: dict, ctx: dict) -> str:
    """A reminder this agent owns (created here, handed over by a colleague, reassigned, picked up
    from the pool) is kept pending here with the server's due time; one that moved to someone else
    ends here. A reminder with a change of this PC still unsent keeps the local state."""
    rid = str(row["id"])
    local = store.query("SELECT id, state, due_at FROM reminders WHERE uuid = ?", (rid,))
    if row["owner"] != ctx["me"]:
        if local and local[0]["state"] == "pending":
            store.conn.execute("UPDATE reminders SET state = 'cancelled', outcome = ? WHERE id = ?",
                               ("handed_over" if row["state"] == "pending" else row["outcome"] or "cancelled",
                                local[0]["id"]))
            return "left"
        return "skipped"
    buyer = store.query("SELECT id, uuid FROM buyers WHERE uuid = ?", (str(row["buyer"]),))
    if not buyer:
        return "skipped"
    if store.query("SELECT 1 FROM team_outbox WHERE target = ? AND kind = 'reminder.put' AND instr(body, ?) > 0 "
                   "LIMIT 1", (buyer[0]["uuid"], rid)):
        return "skipped"  # the push goes first; the server's answer comes back with the next pull
    promo = None
    if row["promotion"] is not None:
        found = store.query("SELECT id FROM promotions WHERE uuid = ?", (str(row["promotion"]),))
        promo = found[0]["id"] if found else None
    due, planned = to_db(row["due_at"]), to_db(row["planned_at"]) if row["planned_at"] is not None else None
    order = None
    if row.get("order") is not None:
        found = store.query("SELECT id FROM orders WHERE uuid = ?", (str(row["order"]),))
        order = found[0]["id"] if found else None
    if local:
        if row["state"] == "pending":
            # a new due time is a new reminder to show; the same one keeps whether it was shown
            store.conn.execute(
                "UPDATE reminders SET state = 'pending', outcome = NULL, due_at = ?, planned_at = ?, step = ?, "
                "cadence_id = ?, fired_at = CASE WHEN due_at = ? AND state = 'pending' THEN fired_at END "
                "WHERE id = ?", (due, planned, row["step"], row["cadence_id"], due, local[0]["id"]))
        elif local[0]["state"] == "pending":
            store.conn.execute("UPDATE reminders SET state = ?, outcome = ? WHERE id = ?",
                               (row["state"], row["outcome"], local[0]["id"]))
        return "updated"
    if row["state"] != "pending":
        return "skipped"
    store.conn.execute(
        "INSERT INTO reminders (uuid, buyer_id, promotion_id, order_id, kind, cadence_id, step, due_at, planned_at, "
        "moved_for, state, created_at) VALUES (?,?,?,?,?,?,?,?,?, '', 'pending', ?)",
        (rid, buyer[0]["id"], promo, order, row["kind"], row["cadence_id"], row["step"], due, planned,
         to_db(store.clock.now())))
    return "added"


# ---------------------------------------------------------------- chases

def _fields_of(body: str) -> tuple[str, ...]:
    try:
        return tuple(templates.fields_in(body))
    except ValidationError:  # a body saved before a field was removed: it fills nothing
        return ()


def _scripts(store: Store) -> list[cad.Script]:
    rows = store.query("SELECT r.id, r.angle, r.language, r.platforms, r.body FROM replies r "
                       "JOIN groups g ON g.id = r.group_id WHERE r.angle IS NOT NULL ORDER BY g.position, r.position, r.id")
    return [cad.Script(r["id"], r["angle"], r["language"], tuple(checked.text_list(r["platforms"], table="replies",
                                                                            column="platforms", row_id=r["id"])),
                       _fields_of(r["body"])) for r in rows]


def propose(store: Store, buyer_id: int, now: datetime | None = None, override: bool = False, *,
            order_id: int | None = None) -> ChaseProposal:
    """The script to chase this buyer with now: next unused angle, never a script already sent, in
    the buyer's language; blocked while the buyer has open questions (unless override); warnings
    for a chase too soon or a third in a row without reply. order_id: the 催付 of that unpaid order
    (core/orders.py): a script over {订单号} {金额} {截止时间} first, and those fields filled in."""
    now = _now(store, now)
    buyer = customers.get_buyer(store, buyer_id)
    if caseguard.in_after_sales(store, buyer.id):  # after-sales: never a sales script, override or not
        return ChaseProposal(buyer.id, None, None, None, None, caseguard.BLOCK_AFTER_SALES, [])
    config = get_config(store)
    # The buyer's product: the product angle speaks of a selling point not yet sent, the price angle
    # of its promotion note and the active promotion, the gift angle of its gift note.
    product = products.current(store, buyer.id)
    sent = products.sent_points(store, buyer.id)
    values = products.values_for(product, sent, products.active_promotion(store, now))
    mine: dict[str, str] = {}
    if order_id is not None:
        rows = store.query("SELECT order_no, amount, deadline_at FROM orders WHERE id = ? AND buyer_id = ?",
                           (int(order_id), buyer.id))
        if not rows:
            raise NotFoundError(f"这位买家没有订单 {order_id}", f"This buyer has no order {order_id}")
        mine = order_values(rows[0]["order_no"], rows[0]["amount"], from_db(rows[0]["deadline_at"]),
                            config.agent_tz, buyer.language)
    known = cad.Known(frozenset(values), products.next_point(product, sent))
    proposal = cad.propose(_history(store, buyer.id), _scripts(store), now=now, open_questions=buyer.open_questions,
                           override=override, min_gap_minutes=config["reminders.min_gap_minutes"],
                           language=buyer.language or "zh", platform=buyer.platform, known=known,
                           order=order_id is not None)
    title = body = None
    if proposal.reply_id is not None:
        row = store.query("SELECT title, body FROM replies WHERE id = ?", (proposal.reply_id,))[0]
        title, body = row["title"], row["body"]
        if mine and cad.ORDER_FIELDS & set(_fields_of(body)):
            values.update(mine)  # {金额} {截止时间} are the order's only in a script naming the order
    return ChaseProposal(buyer.id, proposal.angle, proposal.reply_id, title, body, proposal.blocked,
                         list(proposal.warnings), proposal.generic, proposal.selling_point, values)


def record_chase(store: Store, buyer_id: int, reply_id: int | None, now: datetime | None = None, *,
                 angle: str | None = None, selling_point: str | None = None) -> ChaseRecorded:
    """A chase was sent to the buyer (the paste controller calls this after pasting a chase script).
    Records it in the history, closes the buyer's current cadence step (early or late, the chase
    counts) and any wave reminder already due, and schedules the next step from now.

    The selling point sent is recorded with it (never proposed to this buyer again): `selling_point`
    when given, else, for a script over {卖点}, the one its fill-in had (the buyer's product's first
    point not yet sent: what propose() and the reminder's fill values offered)."""
    now = _now(store, now)
    config = get_config(store)
    with store.write() as db:
        buyer = customers.get_buyer(store, buyer_id)
        customers.require_free(store, buyer, "催单", "chase them", now)
        title = None
        product = products.current(store, buyer.id)
        point = products.clean_points([selling_point])[0] if selling_point and selling_point.strip() else None
        if reply_id is not None:
            rows = store.query("SELECT id, title, angle, body FROM replies WHERE id = ?", (int(reply_id),))
            if rows:
                title, angle = rows[0]["title"], angle or rows[0]["angle"]
                if "卖点" not in _fields_of(rows[0]["body"]):
                    point = None  # the script says no selling point, whatever the caller had at hand
                elif point is None:
                    point = products.next_point(product, products.sent_points(store, buyer.id))
            else:
                reply_id = None
        if angle is not None and angle not in cad.ANGLES:
            raise ValidationError(f"催单角度“{angle}”无效", f"Invalid chase angle '{angle}'", field="angle")
        _, warnings = cad.check_chase(_history(store, buyer.id), now=now, open_questions=buyer.open_questions,
                                      override=True, min_gap_minutes=config["reminders.min_gap_minutes"])
        noted = list(warnings) + ([cad.BLOCK_OPEN_QUESTIONS] if buyer.open_questions else [])
        pending = _pending(store, buyer.id)
        step_row = next((r for r in pending if r["kind"] == "chase"), None)
        cur = db.execute("INSERT INTO chases (uuid, buyer_id, reply_id, reply_title, angle, reminder_id, sent_at, "
                         "warnings, product_id, selling_point) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (str(uuidlib.uuid4()), buyer.id, reply_id, title, angle, step_row["id"] if step_row else None,
                          to_db(now), json.dumps(noted), product.id if product is not None and point else None, point))
        chase_id = int(cur.lastrowid)
        stamp = to_db(now)
        if customers.share(store, buyer.id) is not None:  # team mode: the chase is the team's to see
            customers.claim(store, buyer.id, now)
            chase_uuid = store.query("SELECT uuid FROM chases WHERE id = ?", (chase_id,))[0]["uuid"]
            # the selling point sent goes with it: no other agent's panel proposes it to this buyer again
            outbox.add(store, "buyer.chase", buyer.uuid, {
                "id": chase_uuid, "client_sent_at": stamp, "angle": angle, "reply_title": title,
                "selling_point": point,
                "product": product.uuid if product is not None and point and product.team_shop else None})
        if step_row is not None:
            db.execute("UPDATE reminders SET state = 'done', outcome = 'chased', acted_at = ? WHERE id = ?",
                       (stamp, step_row["id"]))
            customers.queue_reminders(store, buyer.id, [step_row["id"]])
        _close_pending(store, buyer.id, now, "chased", kinds=("wave",), only_due=True)
        next_id = None
        if step_row is not None and buyer.starred and buyer.state == "following" and buyer.cadence_id == step_row[
                "cadence_id"]:
            next_id = _schedule(store, buyer, step_row["step"] + 1, now, now, config)
        db.execute("UPDATE buyers SET updated_at = ? WHERE id = ?", (stamp, buyer.id))
    next_due = None
    if next_id is not None:
        next_due = from_db(store.query("SELECT due_at FROM reminders WHERE id = ?", (next_id,))[0]["due_at"])
    log.info("chase recorded for buyer %s", buyer_id)
    return ChaseRecorded(chase_id, noted, next_due)


# ---------------------------------------------------------------- outcomes

def normalize_outcome(text: str) -> str:
    raw = str(text or "").strip()
    if raw.lower() in OUTCOMES:
        return raw.lower()
    if raw in _OUTCOME_ALIASES:
        return _OUTCOME_ALIASES[raw]
    raise ValidationError(f"结果“{raw}”无效，可选：{'、'.join(zh for zh, _ in OUTCOMES.values())}",
                          f"Unknown outcome '{raw}'; one of {', '.join(OUTCOMES)}", field="outcome")


def outcome(store: Store, buyer_id: int, what: str, now: datetime | None = None, *, minutes: int | None = None,
            reminder_id: int | None = None) -> Buyer:
    """The popup's buttons: paid (stops the cadence, counts as a conversion), lost, snooze N minutes,
    replied (restart the cadence or keep it: setting reminders.on_reply), pause, resume."""
    kind = normalize_outcome(what)
    now = _now(store, now)
    config = get_config(store)
    if kind == "snooze":
        with store.write():
            buyer = customers.get_buyer(store, buyer_id)
            target = reminder_id
            if target is None:
                rows = _pending(store, buyer.id)
                if not rows:
                    raise ValidationError("这位买家没有待处理的提醒", "This buyer has no pending reminder", field="outcome")
                target = rows[0]["id"]
            elif not store.query("SELECT 1 FROM reminders WHERE id = ? AND buyer_id = ?", (target, buyer.id)):
                raise NotFoundError(f"没有找到提醒 {target}", f"No reminder {target} for this buyer")
            snooze(store, target, minutes or 10, now)
        return customers.get_buyer(store, buyer_id)
    with store.write() as db:
        buyer = customers.get_buyer(store, buyer_id)
        # team mode: a shared buyer's state and cadence are its holder's (the server refuses the rest)
        _require_holder(store, buyer, "记录跟进结果", "record how the chase went", now)
        stamp = to_db(now)
        if kind in ("paid", "lost", "pause"):
            state = {"paid": "paid", "lost": "lost", "pause": "paused"}[kind]
            _close_pending(store, buyer.id, now, kind)
            db.execute("UPDATE buyers SET state = ?, updated_at = ? WHERE id = ?", (state, stamp, buyer.id))
            customers.log_event(store, buyer.id, kind, now)
        elif kind == "resume":
            db.execute("UPDATE buyers SET state = 'following', updated_at = ? WHERE id = ?", (stamp, buyer.id))
            customers.log_event(store, buyer.id, "resumed", now)
            if buyer.starred:
                available = cadences(store)
                chosen = buyer.cadence_id if buyer.cadence_id in available else default_cadence_for(
                    config, buyer.mark_codes, available)
                _start_cadence(store, buyer.id, chosen, now, config)
                _join_waves(store, buyer.id, now, config)
        elif kind == "replied":
            last = store.query("SELECT id FROM chases WHERE buyer_id = ? ORDER BY sent_at DESC, id DESC LIMIT 1",
                               (buyer.id,))
            if last:
                db.execute("UPDATE chases SET buyer_replied = 1, replied_at = IFNULL(replied_at, ?) WHERE id = ?",
                           (stamp, last[0]["id"]))
            db.execute("UPDATE buyers SET visit_started_at = ?, updated_at = ? WHERE id = ?", (stamp, stamp, buyer.id))
            customers.log_event(store, buyer.id, "replied", now)
            # restart: the conversation is alive again, the cadence starts over from its first step;
            # keep: the schedule stays exactly as it was (only the visit window moves).
            followed = buyer.starred and buyer.state == "following" and buyer.cadence_id
            if followed and config["reminders.on_reply"] == "restart":
                _start_cadence(store, buyer.id, buyer.cadence_id, now, config)  # type: ignore[arg-type]
        if kind in ("paid", "lost", "pause", "resume"):
            customers.queue_fields(store, buyer.id)  # team mode: the buyer's new state reaches the server
    log.info("buyer %s outcome %s", buyer_id, kind)
    return customers.get_buyer(store, buyer_id)


def snooze(store: Store, reminder_id: int, minutes: int, now: datetime | None = None) -> int:
    """暂缓: the reminder is put off by `minutes` (a new pending reminder for the same step; the old one
    is kept as 'snoozed' with acted_at, for the KPIs). Returns the new reminder's id."""
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 7 * 24 * 60:
        raise ValidationError("暂缓分钟数应在 1 到 10080 之间", "Snooze minutes must be from 1 to 10080", field="minutes")
    now = _now(store, now)
    with store.write() as db:
        rows = store.query("SELECT id, buyer_id, promotion_id, kind, cadence_id, step, due_at, state FROM reminders "
                           "WHERE id = ?", (int(reminder_id),))
        if not rows or rows[0]["state"] != "pending":
            raise NotFoundError(f"没有待处理的提醒 {reminder_id}", f"No pending reminder {reminder_id}")
        r = rows[0]
        stamp = to_db(now)
        db.execute("UPDATE reminders SET state = 'snoozed', outcome = 'snoozed', acted_at = ? WHERE id = ?",
                   (stamp, r["id"]))
        if r["buyer_id"] is not None:
            customers.queue_reminders(store, r["buyer_id"], [r["id"]])
        at = max(now + timedelta(minutes=minutes), from_db(r["due_at"]))  # type: ignore[type-var]
        new_id = _insert(store, buyer_id=r["buyer_id"], kind=r["kind"], cadence_id=r["cadence_id"], step=r["step"],
                         scheduled=cad.Scheduled(at, at), now=now, promotion_id=r["promotion_id"], snoozed_from=r["id"])
        if r["buyer_id"] is not None:
            customers.log_event(store, r["buyer_id"], "snoozed", now, reminder_id=r["id"], detail=str(minutes))
    return new_id


def complete(store: Store, reminder_id: int, now: datetime | None = None) -> None:
    """The agent dealt with a reminder that needs no chase record (the promotion phone list)."""
    now = _now(store, now)
    with store.write() as db:
        cur = db.execute("UPDATE reminders SET state = 'done', outcome = 'done', acted_at = ? "
                         "WHERE id = ? AND state = 'pending'", (to_db(now), int(reminder_id)))
        if cur.rowcount == 0:
            raise NotFoundError(f"没有待处理的提醒 {reminder_id}", f"No pending reminder {reminder_id}")
        buyer = store.query("SELECT buyer_id FROM reminders WHERE id = ?", (int(reminder_id),))[0]["buyer_id"]
        if buyer is not None:
            customers.queue_reminders(store, buyer, [int(reminder_id)])


# ---------------------------------------------------------------- timer side

# INDEXED BY: the planner could otherwise walk reminders_pending past shown-but-unanswered rows.
NEXT_DUE_SQL = ("SELECT due_at FROM reminders INDEXED BY reminders_next WHERE state = 'pending' AND fired_at IS NULL "
                "ORDER BY due_at LIMIT 1")


def next_due(store: Store) -> datetime | None:
    """When the next reminder not yet shown falls due (arm the one timer for this). Index-only."""
    rows = store.query(NEXT_DUE_SQL)
    return from_db(rows[0]["due_at"]) if rows else None


_DUE_SELECT = (
    "SELECT r.id, r.kind, r.cadence_id, r.step, r.due_at, r.planned_at, r.moved_for, r.state, r.fired_at, r.missed, "
    "r.buyer_id, r.promotion_id, b.nickname, b.platform, b.shop, b.state AS buyer_state, b.open_questions, b.phone, "
    "b.tz, b.language, p.name AS promotion_name, p.start_at AS promotion_start, "
    "r.order_id, o.order_no, o.amount AS order_amount, o.deadline_at AS order_deadline, o.status AS order_status, "
    "(SELECT count(*) FROM chases c WHERE c.buyer_id = r.buyer_id) AS chase_count, "
    "(SELECT c.sent_at || char(31) || IFNULL(c.reply_title, '') FROM chases c WHERE c.buyer_id = r.buyer_id "
    " ORDER BY c.sent_at DESC, c.id DESC LIMIT 1) AS last_chase "
    "FROM reminders r LEFT JOIN buyers b ON b.id = r.buyer_id LEFT JOIN promotions p ON p.id = r.promotion_id "
    "LEFT JOIN orders o ON o.id = r.order_id "
)


# An after-sales follow-up's cadence lives in the after-sales data, not among the chase cadences: the
# card and lists name it by its kind rather than by an id such as as_manager.
_FOLLOWUP_NAMES = {"aftersales": ("售后跟进", "After-sales follow-up")}


def _load(store: Store, where: str, params: tuple, limit: int | None = None) -> list[DueReminder]:
    sql = _DUE_SELECT + "WHERE " + where + " ORDER BY r.due_at, r.id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = store.query(sql, params)
    buyer_ids = sorted({r["buyer_id"] for r in rows if r["buyer_id"] is not None})
    marks = customers.marks_of(store, buyer_ids)
    linked = products.current_of(store, buyer_ids)
    points_sent = products.sent_points_of(store, [b for b in buyer_ids if b in linked])
    promotion = products.active_promotion(store) if rows else None
    known = cadences(store)
    agent_tz = get_config(store).agent_tz if any(r["order_id"] for r in rows) else None
    out = []
    for r in rows:
        c = known.get(r["cadence_id"])
        last_at, last_title = None, None
        if r["last_chase"]:
            sent, _, title = r["last_chase"].partition("\x1f")
            last_at, last_title = from_db(sent), title or None
        buyer_marks = marks.get(r["buyer_id"], [])
        out.append(DueReminder(
            id=r["id"], kind=r["kind"], cadence_id=r["cadence_id"], cadence_name=c.zh if c else _FOLLOWUP_NAMES.get(r["kind"], (r["cadence_id"],) * 2)[0],
            step=r["step"], steps_total=len(c.steps) if c else 0, due_at=from_db(r["due_at"]),  # type: ignore[arg-type]
            planned_at=from_db(r["planned_at"]), moved_for=[m for m in (r["moved_for"] or "").split(",") if m],
            state=r["state"], fired_at=from_db(r["fired_at"]), missed=bool(r["missed"]), buyer_id=r["buyer_id"],
            nickname=r["nickname"], platform=r["platform"], shop=r["shop"], buyer_state=r["buyer_state"],
            open_questions=bool(r["open_questions"]), phone_masked=customers.mask_phone(r["phone"]), tz=r["tz"],
            marks=[n for n, _ in buyer_marks], mark_codes=[code for _, code in buyer_marks if code],
            promotion_id=r["promotion_id"], promotion_name=r["promotion_name"],
            promotion_start=from_db(r["promotion_start"]), chase_count=r["chase_count"] or 0,
            last_chase_at=last_at, last_chase_title=last_title, cadence_name_en=c.en if c else _FOLLOWUP_NAMES.get(r["kind"], (r["cadence_id"],) * 2)[1],
            product_values=products.values_for(linked.get(r["buyer_id"]), points_sent.get(r["buyer_id"], ()), promotion)
            if r["buyer_id"] is not None else {}))
        if r["order_id"] is not None and r["order_no"] is not None:
            deadline = from_db(r["order_deadline"])
            out[-1].order_id, out[-1].order_status = r["order_id"], r["order_status"]
            out[-1].order_masked = masking.mask_order(r["order_no"])
            out[-1].order_amount = format_amount(r["order_amount"]) or None
            out[-1].order_deadline = deadline
            out[-1].order_values = order_values(r["order_no"], r["order_amount"], deadline,
                                                agent_tz or zones.zone_or_local(""), r["language"])
    return out


def due(store: Store, now: datetime | None = None, within: timedelta = timedelta(0), *,
        limit: int | None = None) -> list[DueReminder]:
    """Pending reminders due by now + within (shown or not), earliest first. Marks nothing."""
    now = _now(store, now)
    return _load(store, "r.state = 'pending' AND r.due_at <= ?", (to_db(now + within),), limit)


def upcoming(store: Store, now: datetime | None = None, within: timedelta = timedelta(hours=24), *,
             limit: int | None = None) -> list[DueReminder]:
    """Pending reminders due after now, up to now + within (the 'next hour' / 'today' lists)."""
    now = _now(store, now)
    return _load(store, "r.state = 'pending' AND r.due_at > ? AND r.due_at <= ?", (to_db(now), to_db(now + within)),
                 limit)


def _take(store: Store, where: str, params: tuple, now: datetime, grace: int) -> list[DueReminder]:
    stamp = to_db(now)
    cutoff = to_db(now - timedelta(seconds=grace))
    with store.write() as db:
        ids = [r["id"] for r in store.query(f"SELECT id FROM reminders WHERE {where}", params)]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            db.execute(f"UPDATE reminders SET fired_at = ?, missed = (due_at < ?) "
                       f"WHERE id IN ({','.join('?' * len(chunk))})", (stamp, cutoff, *chunk))
    out: list[DueReminder] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out += _load(store, f"r.id IN ({','.join('?' * len(chunk))})", tuple(chunk))
    out.sort(key=lambda d: (d.due_at, d.id))
    return out


def fire_due(store: Store, now: datetime | None = None) -> list[DueReminder]:
    """Reminders due by now and not yet shown, marked shown: each is returned once. Those later than
    the grace (reminders.missed_grace_seconds) come flagged missed."""
    now = _now(store, now)
    grace = get_config(store)["reminders.missed_grace_seconds"]
    return _take(store, "state = 'pending' AND fired_at IS NULL AND due_at <= ?", (to_db(now),), now, grace)


def missed(store: Store, now: datetime | None = None) -> list[DueReminder]:
    """On start and on wake: reminders that fell due more than the grace ago and were never shown
    (the app was closed or asleep). Returned once, grouped by the caller; never duplicated."""
    now = _now(store, now)
    grace = get_config(store)["reminders.missed_grace_seconds"]
    cutoff = to_db(now - timedelta(seconds=grace))
    return _take(store, "state = 'pending' AND fired_at IS NULL AND due_at < ?", (cutoff,), now, grace)


def still_pending(store: Store, ids: Iterable[int]) -> set[int]:
    """Which of these reminders are still pending here (by primary key): the popup drops a card whose
    reminder was closed elsewhere - handed over to another agent, held by one, done from the CLI."""
    wanted = sorted({int(i) for i in ids})
    out: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        out |= {r["id"] for r in store.query(
            f"SELECT id FROM reminders WHERE state = 'pending' AND id IN ({','.join('?' * len(chunk))})",
            tuple(chunk))}
    return out


def buyer_reminders(store: Store, buyer_id: int, include_closed: bool = False) -> list[DueReminder]:
    where = "r.buyer_id = ?" + ("" if include_closed else " AND r.state = 'pending'")
    return _load(store, where, (int(buyer_id),))


# ---------------------------------------------------------------- promotions

def parse_local(text: str, tz: tzinfo) -> datetime:
    """'2026-11-11 00:00' (agent's local time) → an aware instant."""
    raw = str(text or "").strip().replace("T", " ").replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            naive = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=tz)
    raise ValidationError(f"时间“{raw}”无效，应写成 2026-11-11 00:00", f"Invalid time '{raw}'; write 2026-11-11 00:00",
                          field="start")


def _eligible_wave_buyers(store: Store, buyer_ids: Sequence[int] | None = None, *,
                          team_shop: str | None = None) -> list[cad.WaveBuyer]:
    if team_shop is not None:  # a shop's promotion: every followed buyer of the shop, whoever holds them
        sql = "SELECT id, tz, starred_at FROM buyers WHERE starred = 1 AND state = 'following' AND team_shop = ?"
        params: tuple = (team_shop,)
    else:  # team mode: another agent's buyer (an unexpired lease) is theirs to chase, never in my wave
        sql = ("SELECT id, tz, starred_at FROM buyers WHERE starred = 1 AND state = 'following' "
               "AND (holder IS NULL OR holder = ? OR held_until <= ?)")
        params = (customers.team_role(store), to_db(store.clock.now()))
    sql += " AND do_not_call = 0"  # 勿扰: never in a promotion wave
    if buyer_ids is not None:
        sql += f" AND id IN ({','.join('?' * len(buyer_ids))})"
        params += tuple(buyer_ids)
    rows = store.query(sql, params)
    rows = caseguard.without_after_sales(store, rows)  # after-sales: never in a promotion wave
    marks = customers.marks_of(store, [r["id"] for r in rows])
    return [cad.WaveBuyer(r["id"], frozenset(c for _, c in marks.get(r["id"], []) if c), zones.zone_or_none(r["tz"]),
                          from_db(r["starred_at"])) for r in rows]


def add_promotion(store: Store, name: str, start: datetime, now: datetime | None = None, *,
                  team_shop: str | None = None) -> PromotionInfo:
    """A promotion starting at `start`: the phone list reminder at start − 3 h and, from start − 2 h, a
    wave with one chase slot for every starred buyer followed, spread (reminders.wave_per_minute) so
    the agent can keep up. Buyers starred later join the end of the wave.

    team_shop (team mode, a supervisor; a served shop's name or uuid): the shop's promotion. The wave
    is planned for every followed buyer of the shop, whoever holds them, and sent as ONE operation:
    the server stores it with each reminder owned by the buyer's holder, and every agent's panel
    receives the promotion and its own part of the wave. This panel keeps the slots of the buyers it
    may chase (its own and those nobody holds)."""
    now = _now(store, now)
    clean = customers.clean_text(name, 40, "活动名称", "promotion name", "name", True)
    if start.tzinfo is None:
        raise ValueError("aware datetime needed")
    if start <= now:
        raise ValidationError("活动开始时间已经过去", "The promotion start time has already passed", field="start")
    shop = _team_promotion_shop(store, team_shop) if team_shop is not None else None
    config = get_config(store)
    promo_cadence = get_cadence(store, PROMO_CADENCE)
    with store.write() as db:
        if store.query("SELECT 1 FROM promotions WHERE name = ? AND start_at = ?", (clean, to_db(start))):
            raise ValidationError("这个活动已经添加过了", "This promotion was already added", field="name")
        promo_uuid = str(uuidlib.uuid4())
        cur = db.execute("INSERT INTO promotions (uuid, name, start_at, created_at, team_shop) VALUES (?,?,?,?,?)",
                         (promo_uuid, clean, to_db(start), to_db(now), shop))
        promo_id = int(cur.lastrowid)
        phone_at = cad.phone_list_at(start, now, promo_cadence)
        _insert(store, buyer_id=None, kind="phone", cadence_id=PROMO_CADENCE, step=0,
                scheduled=cad.Scheduled(phone_at, phone_at), now=now, promotion_id=promo_id)
        if shop is None:
            plan = cad.plan_wave(_eligible_wave_buyers(store), promotion_start=start, now=now, cadence=promo_cadence,
                                 hours=config.hours, per_minute=config["reminders.wave_per_minute"])
            for buyer_id, scheduled in plan:
                _insert(store, buyer_id=buyer_id, kind="wave", cadence_id=PROMO_CADENCE, step=0, scheduled=scheduled,
                        now=now, promotion_id=promo_id)
        else:
            plan = cad.plan_wave(_eligible_wave_buyers(store, team_shop=shop), promotion_start=start, now=now,
                                 cadence=promo_cadence, hours=config.hours,
                                 per_minute=config["reminders.wave_per_minute"])
            mine = {w.buyer_id for w in _eligible_wave_buyers(store)}
            uuids = {r["id"]: r["uuid"] for r in store.query(
                "SELECT id, uuid FROM buyers WHERE team_shop = ? AND starred = 1 AND state = 'following'", (shop,))}
            waves = []
            for buyer_id, scheduled in plan:
                if buyer_id in mine:
                    rid = _insert(store, buyer_id=buyer_id, kind="wave", cadence_id=PROMO_CADENCE, step=0,
                                  scheduled=scheduled, now=now, promotion_id=promo_id, queue=False)
                    reminder_uuid = store.query("SELECT uuid FROM reminders WHERE id = ?", (rid,))[0]["uuid"]
                else:  # another agent's buyer: its slot lives on the server and on that agent's panel only
                    reminder_uuid = str(uuidlib.uuid4())
                waves.append([reminder_uuid, uuids[buyer_id], to_db(scheduled.at), to_db(scheduled.planned)])
            outbox.add(store, "promotion.add", promo_uuid, {"shop": shop, "name": clean, "start": to_db(start),
                                                            "cadence": PROMO_CADENCE, "waves": waves})
    log.info("promotion %s added with %s wave reminders", promo_id, len(plan))
    return get_promotion(store, promo_id)


def _team_promotion_shop(store: Store, ref: str) -> str:
    """The served shop (uuid) a supervisor's promotion is for; refused for an agent or offline setup."""
    if not customers.team_role(store):
        raise ValidationError("没有连接团队服务器：店铺活动需要团队模式", "not connected to a team server: a shop's "
                              "promotion needs team mode", field="shop")
    if settings.get(store, "team.kind") != "supervisor":
        raise ValidationError("只有主管可以给店铺添加活动", "only a supervisor may add a shop's promotion", field="shop")
    rows = store.query("SELECT uuid FROM team_shops WHERE uuid = ? OR name = ?", (ref, ref))
    if not rows:
        served = "、".join(r["name"] for r in store.query("SELECT name FROM team_shops ORDER BY name")) or "无"
        raise ValidationError(f"没有这个团队店铺“{ref}”（可选：{served}）", f"no team shop '{ref}' (served: {served})",
                              field="shop")
    return str(rows[0]["uuid"])


def _join_waves(store: Store, buyer_id: int, now: datetime, config: Config) -> None:
    """A buyer starred after a promotion was added joins the end of its wave."""
    if not _eligible_wave_buyers(store, [buyer_id]):
        return
    promo_cadence = get_cadence(store, PROMO_CADENCE)
    for promo in store.query("SELECT id, start_at FROM promotions WHERE start_at > ?", (to_db(now),)):
        if store.query("SELECT 1 FROM reminders WHERE promotion_id = ? AND buyer_id = ? AND state != 'cancelled'",
                       (promo["id"], buyer_id)):
            continue
        # The end of the wave is its last slot as planned: a slot moved out of a buyer's night (or
        # snoozed) is due much later and must not drag every buyer starred afterwards with it.
        last = store.query("SELECT max(planned_at) AS m FROM reminders WHERE promotion_id = ? AND kind = 'wave' "
                           "AND snoozed_from IS NULL", (promo["id"],))[0]["m"]
        plan = cad.plan_wave(_eligible_wave_buyers(store, [buyer_id]), promotion_start=from_db(promo["start_at"]),  # type: ignore[arg-type]
                             now=now, cadence=promo_cadence, hours=config.hours,
                             per_minute=config["reminders.wave_per_minute"], begin_after=from_db(last))
        for bid, scheduled in plan:
            _insert(store, buyer_id=bid, kind="wave", cadence_id=PROMO_CADENCE, step=0, scheduled=scheduled, now=now,
                    promotion_id=promo["id"])


def get_promotion(store: Store, ref: int | str) -> PromotionInfo:
    text = str(ref).strip()
    rows = store.query("SELECT id, name, start_at FROM promotions WHERE id = ? OR name = ? ORDER BY start_at DESC",
                       (int(text) if text.isdigit() else -1, text))
    if not rows:
        raise NotFoundError(f"没有找到活动“{text}”", f"No promotion '{text}'")
    p = rows[0]
    phone = store.query("SELECT due_at FROM reminders WHERE promotion_id = ? AND kind = 'phone' ORDER BY id LIMIT 1",
                        (p["id"],))
    wave = store.query("SELECT min(due_at) AS first, max(due_at) AS last, count(*) AS n, "
                       "sum(state = 'pending') AS pending FROM reminders WHERE promotion_id = ? AND kind = 'wave' "
                       "AND state != 'cancelled'", (p["id"],))[0]
    return PromotionInfo(p["id"], p["name"], from_db(p["start_at"]), from_db(phone[0]["due_at"]) if phone else None,  # type: ignore[arg-type]
                         from_db(wave["first"]), from_db(wave["last"]), wave["n"] or 0, wave["pending"] or 0)


def list_promotions(store: Store, now: datetime | None = None, include_past: bool = False) -> list[PromotionInfo]:
    now = _now(store, now)
    sql = "SELECT id FROM promotions"
    params: tuple = ()
    if not include_past:
        sql += " WHERE start_at > ?"
        params = (to_db(now - timedelta(hours=24)),)
    return [get_promotion(store, r["id"]) for r in store.query(sql + " ORDER BY start_at", params)]


def delete_promotion(store: Store, ref: int | str) -> PromotionInfo:
    promo = get_promotion(store, ref)
    with store.write() as db:
        row = store.query("SELECT uuid, team_shop FROM promotions WHERE id = ?", (promo.id,))[0]
        if row["team_shop"] is not None:  # a shop's promotion: withdrawn for the whole team
            if settings.get(store, "team.kind") != "supervisor" or not customers.team_role(store):
                raise ValidationError("店铺活动只能由主管删除", "only a supervisor may delete a shop's promotion",
                                      field="promotion")
            outbox.add(store, "promotion.delete", row["uuid"], {})
        db.execute("DELETE FROM promotions WHERE id = ?", (promo.id,))
    return promo


def update_promotion(store: Store, ref: int | str, *, name: str | None = None, start: datetime | None = None,
                     now: datetime | None = None) -> PromotionInfo:
    """Rename a promotion or move its start: in one transaction the old one goes (with its pending
    phone-list and wave reminders) and it is planned again from now, the wave over the buyers followed
    now. A shop's promotion stays the shop's (a supervisor's edit, withdrawn and resent for the team).
    Reminders already acted on are history and are not moved."""
    now = _now(store, now)
    old = get_promotion(store, ref)
    if name is None and start is None:
        raise ValidationError("没有要修改的内容", "Nothing to change", field="promotion")
    with store.write():
        shop = store.query("SELECT team_shop FROM promotions WHERE id = ?", (old.id,))[0]["team_shop"]
        delete_promotion(store, old.id)
        new = add_promotion(store, old.name if name is None else name, old.start_at if start is None else start,
                            now, team_shop=shop)
    log.info("promotion %s replanned as %s", old.id, new.id)
    return new


CALL_OUTCOMES: dict[str, tuple[str, str]] = {"answered": ("接通", "answered"), "no_answer": ("未接", "no answer"),
                                             "rescheduled": ("改约", "call back later"),
                                             "not_needed": ("不需要", "not needed")}
_CALL_ALIASES = {"接通": "answered", "未接": "no_answer", "没接": "no_answer", "改约": "rescheduled",
                 "不需要": "not_needed", "no-answer": "no_answer", "reschedule": "rescheduled",
                 "not-needed": "not_needed", "later": "rescheduled"}
_STATUS_ORDER = {"to_call": 0, "retry": 0, "later": 1, "done": 3}


def phone_list(store: Store, promotion_ref: int | str, now: datetime | None = None, *,
               reveal: bool = False) -> list[PhoneEntry]:
    """The buyers to phone before the promotion: starred, followed, carrying every phone mark (高客单
    and 意向明显 by default), not 勿扰. Each with how its calls went (a 未接 is due again after
    reminders.call_retry_minutes, a 改约 at the time asked) and its local time: a buyer in their night
    comes after the others, not to be called now. Due first, then later, then night, then done.
    Phone numbers are UNMASKED here: show them only in this list. reveal=True (the list shown to
    the agent) records in the work log that the numbers were shown - never the numbers."""
    now = _now(store, now)
    promo = get_promotion(store, promotion_ref)
    needed = set(get_cadence(store, PROMO_CADENCE).promotion.phone_marks)  # type: ignore[union-attr]
    config = get_config(store)
    rows = store.query("SELECT id, nickname, platform, shop, phone, tz, notes, starred_at FROM buyers "
                       "WHERE starred = 1 AND state = 'following' AND do_not_call = 0 "
                       "AND (holder IS NULL OR holder = ? OR held_until <= ?) "
                       "ORDER BY phone IS NULL, starred_at, id", (customers.team_role(store), to_db(now)))
    marks = customers.marks_of(store, [r["id"] for r in rows])
    calls: dict[int, list[dict]] = {}
    for c in store.query("SELECT buyer_id, outcome, retry_at FROM promotion_calls WHERE promotion_id = ? "
                         "ORDER BY at, id", (promo.id,)):
        calls.setdefault(c["buyer_id"], []).append(c)
    out = []
    for r in rows:
        codes = {c for _, c in marks.get(r["id"], []) if c}
        if not needed <= codes:
            continue
        made = calls.get(r["id"], [])
        last = made[-1] if made else None
        retry_at = from_db(last["retry_at"]) if last and last["retry_at"] else None
        status = "to_call"
        if last is not None:
            status = {"answered": "done", "not_needed": "done", "no_answer": "retry", "rescheduled": "later"}[
                last["outcome"]]
            if status in ("retry", "later") and retry_at is not None and retry_at > now:
                status = "later"
            elif status == "later":
                status = "retry"  # the time asked has come
        tz = zones.zone_or_none(r["tz"]) or config.agent_tz
        local = now.astimezone(tz)
        quiet = config.hours.quiet(tz)  # the buyer's night, as the chases use it (22:00-08:00 by default)
        night = quiet is not None and quiet.contains(now)
        out.append(PhoneEntry(r["id"], r["nickname"], r["platform"], r["shop"],
                              [n for n, _ in marks.get(r["id"], [])], r["phone"], r["tz"], r["notes"], status,
                              last["outcome"] if last else None, retry_at, local, night, len(made)))
    out.sort(key=lambda e: (_STATUS_ORDER[e.status] + (2 if e.night and e.status != "done" else 0),
                            e.retry_at or now, e.phone is None))
    if reveal:
        with store.write():
            for e in out:
                if e.phone:
                    customers.log_event(store, e.buyer_id, "phone_revealed", now, detail=f"promotion {promo.id}")
    log.info("phone list for promotion %s: %s buyers", promo.id, len(out))
    return out


def record_call(store: Store, promotion_ref: int | str, buyer_id: int, outcome: str, *, at: datetime | None = None,
                now: datetime | None = None) -> PhoneEntry | None:
    """One call of the promotion's list: 接通 / 不需要 end it; 未接 brings the buyer back after
    reminders.call_retry_minutes; 改约 at `at` (the time the buyer asked, in the future). Logged in the
    work log (the outcome only). Returns the buyer's entry as the list now shows it."""
    now = _now(store, now)
    raw = str(outcome or "").strip()
    kind = _CALL_ALIASES.get(raw, raw.lower().replace("-", "_"))
    if kind not in CALL_OUTCOMES:
        raise ValidationError(f"通话结果“{raw}”无效，可选：接通、未接、改约、不需要",
                              f"Unknown call outcome '{raw}'; one of answered, no-answer, reschedule, not-needed",
                              field="outcome")
    promo = get_promotion(store, promotion_ref)
    retry_at = None
    if kind == "no_answer":
        retry_at = now + timedelta(minutes=get_config(store)["reminders.call_retry_minutes"])
    elif kind == "rescheduled":
        if at is None or at <= now:
            raise ValidationError("改约需要一个以后的时间", "A call back needs a time in the future", field="at")
        retry_at = zones.as_utc(at)
    with store.write() as db:
        buyer = customers.get_buyer(store, buyer_id)
        _require_holder(store, buyer, "记录通话", "record a call", now)
        call_uuid = str(uuidlib.uuid4())
        db.execute("INSERT INTO promotion_calls (uuid, promotion_id, buyer_id, outcome, at, retry_at, agent) "
                   "VALUES (?,?,?,?,?,?,?)", (call_uuid, promo.id, buyer.id, kind, to_db(now),
                                              to_db(retry_at) if retry_at else None,
                                              customers.team_role(store) or str(settings.get(store, "agent.name") or "")))
        customers.log_event(store, buyer.id, "call", now, detail=kind)
        promo_row = store.query("SELECT uuid, team_shop FROM promotions WHERE id = ?", (promo.id,))[0]
        if buyer.team_shop is not None and promo_row["team_shop"] == buyer.team_shop:
            # team mode: a shop promotion's call of a shared buyer; everyone in the shop sees how it went
            outbox.add(store, "promotion.call", call_uuid, {
                "buyer": buyer.uuid, "promotion": promo_row["uuid"], "outcome": kind, "client_at": to_db(now),
                "retry_at": to_db(retry_at) if retry_at else None})
    log.info("promotion %s: call to buyer %s: %s", promo.id, buyer_id, kind)
    return next((e for e in phone_list(store, promo.id, now) if e.buyer_id == buyer_id), None)


def set_do_not_call(store: Store, buyer_id: int, on: bool = True, now: datetime | None = None) -> Buyer:
    """勿扰: the buyer asked not to be phoned or chased for promotions. Kept off every later phone
    list and promotion wave; their pending wave slots end now."""
    now = _now(store, now)
    with store.write() as db:
        buyer = customers.get_buyer(store, buyer_id)
        _require_holder(store, buyer, "设置勿扰", "change 勿扰", now)
        db.execute("UPDATE buyers SET do_not_call = ?, updated_at = ? WHERE id = ?", (1 if on else 0, to_db(now),
                                                                                       buyer.id))
        if on:
            _close_pending(store, buyer.id, now, "do_not_call", kinds=("wave",))
        customers.log_event(store, buyer.id, "do_not_call" if on else "do_not_call_off", now)
        if buyer.team_shop is not None:  # team mode: the holder writes it, everyone in the shop sees it
            customers.queue_do_not_call(store, buyer.uuid, on)
    return customers.get_buyer(store, buyer_id)


def _require_holder(store: Store, buyer: Buyer, zh_action: str, en_action: str, now: datetime) -> None:
    """Team mode: a call or 勿扰 of a shared buyer is its holder's (or, while nobody holds it, anyone's)
    to record; a supervisor may always. The server refuses the rest too (KF423)."""
    if buyer.team_shop is not None and settings.get(store, "team.kind") != "supervisor":
        customers.require_free(store, buyer, zh_action, en_action, now)


def apply_call_row(store: Store, row: dict, ctx: dict) -> str:
    """A call of a shop promotion's phone list another panel recorded (a pull, inside its write):
    the phone list then shows how it went. Each once, by its uuid."""
    cid = str(row["id"])
    if store.query("SELECT 1 FROM promotion_calls WHERE uuid = ?", (cid,)):
        return "skipped"
    buyer = store.query("SELECT id FROM buyers WHERE uuid = ?", (str(row["buyer"]),))
    promo = store.query("SELECT id FROM promotions WHERE uuid = ?", (str(row["promotion"]),))
    if not buyer or not promo:
        return "skipped"
    store.conn.execute("INSERT INTO promotion_calls (uuid, promotion_id, buyer_id, outcome, at, retry_at, agent) "
                       "VALUES (?,?,?,?,?,?,?)",
                       (cid, promo[0]["id"], buyer[0]["id"], row["outcome"], to_db(row["at"]),
                        to_db(row["retry_at"]) if row["retry_at"] else None, str(row["author"])))
    return "added"


def end_do_not_call_waves(store: Store, now: datetime | None = None) -> int:
    """勿扰 set on another panel (a pull): this panel's pending wave slots of such buyers end, as on the
    panel that set it. Inside the caller's write; returns how many buyers."""
    now = _now(store, now)
    rows = store.query("SELECT DISTINCT r.buyer_id FROM reminders r JOIN buyers b ON b.id = r.buyer_id "
                       "WHERE b.do_not_call = 1 AND r.kind = 'wave' AND r.state = 'pending'")
    for r in rows:
        _close_pending(store, r["buyer_id"], now, "do_not_call", kinds=("wave",))
    return len(rows)
