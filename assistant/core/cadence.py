"""Chase cadences (催单节奏) and chase rules, as pure functions.

No Qt, no database, no clock: every function takes the time it needs (aware datetimes) and plain
data, so the rules are tested exhaustively (tests/core/test_cadence.py, with hypothesis).

Cadences are data (resources/cadences/default.json, user-edited copies in the store). A cadence is
a list of steps; step i is due:
- {"wait_minutes": N}: N minutes after the previous chase (after starring, for the first step);
- {"next_shift": true}: at the start of the agent's next shift after the previous chase;
- {"day": D, "at": "HH:MM"}: on day D after the day the cadence started, at HH:MM in the buyer's
  local time (never earlier than min_gap_minutes after the previous chase).
An order cadence (催付: an unpaid order, core/orders.py) is tied to the order instead, and uses only:
- {"after_created_minutes": N}: N minutes after the order was placed;
- {"before_deadline_minutes": N}: N minutes before the platform closes the unpaid order.
Its steps are planned all at once when the order is added (plan_order): a step at or past the deadline
is dropped, one already past is skipped, and one that quiet or shift hours would push past the
deadline is moved EARLIER instead, to the last allowed moment before it (a chase at 21:55 beats no
chase before the order closes at midnight); when no allowed moment is left it is dropped.
An in-visit cadence ("visit_minutes") runs while the buyer is in the conversation: the buyer and the
agent are both there, so its steps are not moved for quiet or shift hours, and a step that would fall
after the visit ends is dropped (低客单: there is no tomorrow). Every other step that falls in the
buyer's quiet hours (default 22:00-08:00 buyer-local) or outside the agent's shift moves to the
earliest instant allowed by both. The promotion cadence carries its own quiet hours (01:00-08:00 by
default: on the eve of a midnight start, buyers wait up) and is not bounded by the shift.

Chase rules (shared/domain.md, "Chasing unpaid buyers"): each chase takes the next angle not yet used
with the buyer (product → price → logistics → gift → ask), never a script already sent to the buyer;
no chase while the buyer has open questions (误区一: too early) unless the agent overrides; a warning
when a chase follows the previous one too closely or would be the third in a row with no reply
(误区二: chasing by numbers). What is known of the buyer's product (Known: core/products.py) picks
the script within an angle: a selling point not yet sent for the product angle, the promotion
note or the active promotion for the price angle, the gift note for the gift angle; without it the
angle's generic script is proposed, marked generic (通用).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from ..errors import ValidationError
from .zones import format_hhmm, local_instant, parse_hhmm

ANGLES = ("product", "price", "logistics", "gift", "ask")
ANGLE_NAMES = {"product": ("商品卖点", "product"), "price": ("价格优惠", "price"),
               "logistics": ("物流时效", "logistics"), "gift": ("赠品福利", "gift"),
               "ask": ("询问顾虑", "ask what holds them back")}
FORMAT = "kefu-assistant.cadences"

# Reasons a step was moved, and why a chase is blocked or warned about: codes, described by describe().
MOVED_QUIET = "quiet_hours"
MOVED_SHIFT = "shift"
MOVED_BEFORE_DEADLINE = "before_deadline"
BLOCK_OPEN_QUESTIONS = "open_questions"
WARN_TOO_SOON = "too_soon"
WARN_THIRD_UNANSWERED = "third_unanswered"
WARN_NO_SCRIPT = "no_script"
WARN_OUTSIDE_SHIFT = "outside_shift"

MESSAGES: dict[str, tuple[str, str]] = {
    MOVED_QUIET: ("买家所在地正是夜间休息时间，已顺延到买家早上", "moved out of the buyer's night"),
    MOVED_SHIFT: ("不在你的上班时间，已顺延到下次上班", "moved into the agent's shift"),
    MOVED_BEFORE_DEADLINE: ("顺延会超过订单关闭时间，已提前到休息或下班之前",
                            "moved earlier: later would be past the order's closing time"),
    BLOCK_OPEN_QUESTIONS: ("买家还有问题没解答，先把问题答完再催（误区一：催得太早）",
                           "The buyer still has open questions: answer them before chasing (chasing too early)"),
    WARN_TOO_SOON: ("离上一次催单太近了，买家可能还在考虑", "Too soon after the previous chase"),
    WARN_THIRD_UNANSWERED: ("已连续催了两次买家都没回复，第三次请换个理由或先问问顾虑（误区二：只催不给理由）",
                            "This would be the third chase in a row with no reply: give a new reason or ask "
                            "what holds the buyer back (chasing by numbers)"),
    WARN_NO_SCRIPT: ("这位买家没有可用的新催单话术了（每条只发一次），请写一条新的",
                     "No unused chase script left for this buyer; write a new one"),
    WARN_OUTSIDE_SHIFT: ("买家的白天和你的上班时间没有重叠，已按买家时间安排",
                         "The buyer's daytime and the agent's shift never overlap; scheduled by the buyer's day"),
    "after_sales_open": ("这位买家有未结的售后，不发催单，请在售后里跟进",
                         "This buyer has an open after-sales case: no sales chase; follow up in the case"),
}


def describe(code: str, lang: str = "zh") -> str:
    zh, en = MESSAGES.get(code, (code, code))
    return en if lang == "en" else zh


def _bad(zh: str, en: str, field_name: str = "cadence") -> ValidationError:
    return ValidationError(zh, en, field=field_name)


# ---------------------------------------------------------------- daily windows

@dataclass(frozen=True)
class DailyWindow:
    """A window repeating every day in a time zone: [start, end) local; start > end spans midnight;
    start == end is the whole day."""

    start: time
    end: time
    tz: tzinfo

    @property
    def all_day(self) -> bool:
        return self.start == self.end

    def contains(self, when: datetime) -> bool:
        if self.all_day:
            return True
        local = when.astimezone(self.tz).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def _next_local(self, when: datetime, at: time) -> datetime:
        """The first instant strictly after `when` whose local time is `at`."""
        local_day = when.astimezone(self.tz).date()
        for offset in range(-1, 4):
            candidate = local_instant(local_day + timedelta(days=offset), at, self.tz)
            if candidate > when:
                return candidate
        return when + timedelta(days=1)  # pragma: no cover - unreachable with real time zones

    def next_start(self, when: datetime) -> datetime:
        return self._next_local(when, self.start)

    def next_end(self, when: datetime) -> datetime:
        return self._next_local(when, self.end)


@dataclass(frozen=True)
class Hours:
    """The agent's shift (agent time zone) and the quiet hours (buyer time zone, applied per buyer).
    quiet_start == quiet_end turns quiet hours off; shift_start == shift_end is an all-day shift."""

    agent_tz: tzinfo
    shift_start: time = time(9, 0)
    shift_end: time = time(23, 0)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)

    @property
    def shift(self) -> DailyWindow:
        return DailyWindow(self.shift_start, self.shift_end, self.agent_tz)

    def quiet(self, buyer_tz: tzinfo | None, override: tuple[time, time] | None = None) -> DailyWindow | None:
        start, end = override or (self.quiet_start, self.quiet_end)
        if start == end:
            return None
        return DailyWindow(start, end, buyer_tz or self.agent_tz)


def earliest_allowed(when: datetime, *, shift: DailyWindow | None, quiet: DailyWindow | None) -> datetime:
    """The earliest instant >= when that is inside the shift and outside the quiet hours. When the two
    never overlap (a buyer whose whole day falls outside the shift), the buyer's night wins: the
    earliest instant outside the quiet hours."""
    t = when
    horizon = when + timedelta(days=3)  # beyond that the windows do not meet (DST can open a sliver)
    while t <= horizon:
        in_shift = shift is None or shift.contains(t)
        in_quiet = quiet is not None and quiet.contains(t)
        if in_shift and not in_quiet:
            return t
        jumps = []
        if not in_shift:
            jumps.append(shift.next_start(t))  # type: ignore[union-attr]
        if in_quiet:
            jumps.append(quiet.next_end(t))  # type: ignore[union-attr]
        t = max(jumps)
    if shift is not None:
        return earliest_allowed(when, shift=None, quiet=quiet)
    raise AssertionError("quiet hours cover the whole day")  # pragma: no cover - quiet start == end is off


# ---------------------------------------------------------------- cadence definitions

@dataclass(frozen=True)
class Step:
    wait_minutes: int | None = None
    next_shift: bool = False
    day: int | None = None
    at: time | None = None
    after_created: int | None = None  # order cadences: minutes after the order was placed
    before_deadline: int | None = None  # order cadences: minutes before the order closes unpaid

    @property
    def for_order(self) -> bool:
        return self.after_created is not None or self.before_deadline is not None

    def to_dict(self) -> dict[str, Any]:
        if self.after_created is not None:
            return {"after_created_minutes": self.after_created}
        if self.before_deadline is not None:
            return {"before_deadline_minutes": self.before_deadline}
        if self.next_shift:
            return {"next_shift": True}
        if self.day is not None:
            return {"day": self.day, "at": format_hhmm(self.at or time(10, 0))}
        return {"wait_minutes": self.wait_minutes}


@dataclass(frozen=True)
class Promotion:
    phone_lead_minutes: int = 180
    phone_marks: tuple[str, ...] = ("high_ticket", "intent")
    wave_lead_minutes: int = 120
    wave_first: tuple[str, ...] = ("intent", "high_ticket", "unpaid")


@dataclass(frozen=True)
class Cadence:
    id: str
    zh: str
    en: str
    steps: tuple[Step, ...] = ()
    visit_minutes: int | None = None
    min_gap_minutes: int = 0
    quiet_hours: tuple[time, time] | None = None  # overrides the global quiet hours
    ignore_shift: bool = False
    promotion: Promotion | None = None
    then: str | None = None  # the cadence that follows when this one ends without an outcome

    @property
    def in_visit(self) -> bool:
        return self.visit_minutes is not None

    @property
    def for_order(self) -> bool:
        """An order cadence (催付): its steps count from the order, not from a chase."""
        return bool(self.steps) and all(s.for_order for s in self.steps)

    def name(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "zh": self.zh, "en": self.en}
        if self.visit_minutes is not None:
            data["visit_minutes"] = self.visit_minutes
        if self.min_gap_minutes:
            data["min_gap_minutes"] = self.min_gap_minutes
        if self.promotion is not None:
            p = self.promotion
            data["promotion"] = {"phone_lead_minutes": p.phone_lead_minutes, "phone_marks": list(p.phone_marks),
                                 "wave_lead_minutes": p.wave_lead_minutes, "wave_first": list(p.wave_first)}
        if self.ignore_shift:
            data["ignore_shift"] = True
        if self.then:
            data["then"] = self.then
        if self.quiet_hours is not None:
            data["quiet_hours"] = {"start": format_hhmm(self.quiet_hours[0]), "end": format_hhmm(self.quiet_hours[1])}
        data["steps"] = [s.to_dict() for s in self.steps]
        return data


def _int(value: Any, what_zh: str, what_en: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad(f"{what_zh}应为 {lo} 到 {hi} 之间的整数", f"{what_en} must be a whole number from {lo} to {hi}")
    return value


def cadence_from_dict(data: Any) -> Cadence:
    """Validate one cadence definition (as in resources/cadences/default.json)."""
    if not isinstance(data, dict):
        raise _bad("节奏定义格式错误", "A cadence definition must be an object")
    cid = str(data.get("id") or "").strip()
    if not cid or not cid.replace("_", "").replace("-", "").isalnum() or len(cid) > 32:
        raise _bad(f"节奏编号“{cid}”无效（字母、数字、_，最长 32 位）", f"Invalid cadence id '{cid}'")
    zh = str(data.get("zh") or cid).strip()[:20]
    en = str(data.get("en") or zh).strip()[:40]
    steps: list[Step] = []
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list) or len(raw_steps) > 20:
        raise _bad("节奏步骤应为列表，最多 20 步", "Cadence steps must be a list of at most 20 steps")
    for i, raw in enumerate(raw_steps, 1):
        if not isinstance(raw, dict):
            raise _bad(f"第 {i} 步格式错误", f"Step {i} must be an object")
        if raw.get("next_shift"):
            steps.append(Step(next_shift=True))
        elif "day" in raw:
            day = _int(raw["day"], f"第 {i} 步的天数", f"Step {i} day", 0, 30)
            steps.append(Step(day=day, at=parse_hhmm(raw.get("at", "10:00"))))
        elif "after_created_minutes" in raw:
            steps.append(Step(after_created=_int(raw["after_created_minutes"], f"第 {i} 步的下单后分钟数",
                                                 f"Step {i} after_created_minutes", 0, 30 * 24 * 60)))
        elif "before_deadline_minutes" in raw:
            steps.append(Step(before_deadline=_int(raw["before_deadline_minutes"], f"第 {i} 步的关闭前分钟数",
                                                   f"Step {i} before_deadline_minutes", 1, 30 * 24 * 60)))
        elif "wait_minutes" in raw:
            steps.append(Step(wait_minutes=_int(raw["wait_minutes"], f"第 {i} 步的等待分钟数", f"Step {i} wait_minutes",
                                                1, 7 * 24 * 60)))
        else:
            raise _bad(f"第 {i} 步需要 wait_minutes、day、next_shift、after_created_minutes 或 before_deadline_minutes",
                       f"Step {i} needs wait_minutes, day, next_shift, after_created_minutes or "
                       "before_deadline_minutes")
    days = [s.day for s in steps if s.day is not None]
    if days != sorted(days):
        raise _bad("按天安排的步骤应按天数从小到大排列", "Day steps must be in increasing day order")
    visit = data.get("visit_minutes")
    if visit is not None:
        visit = _int(visit, "到访时长", "visit_minutes", 1, 24 * 60)
        if any(s.wait_minutes is None for s in steps):
            raise _bad("对话内节奏只能用 wait_minutes 步骤", "An in-visit cadence uses wait_minutes steps only")
    min_gap = _int(data.get("min_gap_minutes", 0), "最小间隔", "min_gap_minutes", 0, 7 * 24 * 60)
    quiet = None
    if data.get("quiet_hours") is not None:
        q = data["quiet_hours"]
        if not isinstance(q, dict):
            raise _bad("quiet_hours 应包含 start 和 end", "quiet_hours needs start and end")
        quiet = (parse_hhmm(q.get("start", "")), parse_hhmm(q.get("end", "")))
    promotion = None
    if data.get("promotion") is not None:
        p = data["promotion"]
        if not isinstance(p, dict):
            raise _bad("promotion 格式错误", "promotion must be an object")
        phone = _int(p.get("phone_lead_minutes", 180), "电话提前分钟数", "phone_lead_minutes", 0, 7 * 24 * 60)
        wave = _int(p.get("wave_lead_minutes", 120), "催付提前分钟数", "wave_lead_minutes", 0, 7 * 24 * 60)
        promotion = Promotion(phone, tuple(str(m) for m in p.get("phone_marks", ("high_ticket", "intent"))), wave,
                              tuple(str(m) for m in p.get("wave_first", ("intent", "high_ticket", "unpaid"))))
    then = data.get("then")
    if then is not None:
        then = str(then).strip()
        if not then or then == cid or not then.replace("_", "").replace("-", "").isalnum() or len(then) > 32:
            raise _bad(f"“then”应为另一个节奏的编号（不能是 {cid} 自己）",
                       f"'then' must be the id of another cadence (not {cid} itself)")
    if any(s.for_order for s in steps):
        if not all(s.for_order for s in steps):
            raise _bad("订单催付节奏只能用 after_created_minutes 和 before_deadline_minutes 步骤",
                       "An order cadence uses after_created_minutes and before_deadline_minutes steps only")
        if visit is not None or promotion is not None or then:
            raise _bad("订单催付节奏不能有 visit_minutes、promotion 或 then",
                       "An order cadence cannot have visit_minutes, promotion or then")
        created = [s.after_created for s in steps if s.after_created is not None]
        before = [s.before_deadline for s in steps if s.before_deadline is not None]
        if created != sorted(created) or before != sorted(before, reverse=True):
            raise _bad("下单后的步骤应从早到晚，关闭前的步骤应从远到近",
                       "after_created_minutes steps must grow and before_deadline_minutes steps shrink")
    return Cadence(cid, zh, en, tuple(steps), visit, min_gap, quiet, bool(data.get("ignore_shift")), promotion,
                   then or None)


def cadences_from_document(doc: Any) -> dict[str, Cadence]:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _bad("不是节奏定义文件", f"Not a {FORMAT} document")
    out: dict[str, Cadence] = {}
    for item in doc.get("cadences", []):
        cadence = cadence_from_dict(item)
        out[cadence.id] = cadence
    return out


# ---------------------------------------------------------------- scheduling

@dataclass(frozen=True)
class Scheduled:
    """When a step is due, when it would have been without quiet/shift hours, and why it moved."""

    at: datetime
    planned: datetime
    moved_for: tuple[str, ...] = ()


def schedule_step(cadence: Cadence, index: int, *, now: datetime, started_at: datetime, anchor: datetime,
                  hours: Hours, buyer_tz: tzinfo | None = None,
                  visit_start: datetime | None = None) -> Scheduled | None:
    """When step `index` of the cadence is due, or None when the cadence is finished (no such step,
    or an in-visit step that falls after the visit ended).

    started_at: when the cadence started; anchor: the previous chase (or started_at); visit_start:
    the start of the buyer's current visit (starring or the buyer's last reply). The result is never
    before now or anchor."""
    for value in (now, started_at, anchor):
        if value.tzinfo is None:
            raise ValueError("aware datetimes only")
    if cadence.for_order:
        raise ValueError("an order cadence is planned with plan_order()")
    if index < 0 or index >= len(cadence.steps):
        return None
    step = cadence.steps[index]
    floor = max(now, anchor)
    btz = buyer_tz or hours.agent_tz
    if step.wait_minutes is not None:
        planned = anchor + timedelta(minutes=step.wait_minutes)
    elif step.next_shift:
        planned = hours.shift.next_start(anchor) if not hours.shift.all_day else anchor + timedelta(days=1)
    else:
        start_day = started_at.astimezone(btz).date()
        planned = local_instant(start_day + timedelta(days=step.day or 0), step.at or time(10, 0), btz)
    planned = max(planned, anchor + timedelta(minutes=cadence.min_gap_minutes), floor)
    if cadence.in_visit:
        visit_end = (visit_start or started_at) + timedelta(minutes=cadence.visit_minutes or 0)
        if planned > visit_end:
            return None
        return Scheduled(planned, planned)
    return place(planned, hours=hours, buyer_tz=btz, quiet_override=cadence.quiet_hours,
                 ignore_shift=cadence.ignore_shift)


def place(planned: datetime, *, hours: Hours, buyer_tz: tzinfo | None, quiet_override: tuple[time, time] | None = None,
          ignore_shift: bool = False) -> Scheduled:
    """Move an instant out of the buyer's quiet hours and into the agent's shift."""
    shift = None if ignore_shift else hours.shift
    quiet = hours.quiet(buyer_tz, quiet_override)
    at = earliest_allowed(planned, shift=shift, quiet=quiet)
    moved: list[str] = []
    if at != planned:
        if quiet is not None and quiet.contains(planned):
            moved.append(MOVED_QUIET)
        if shift is not None and not shift.contains(planned) and shift.contains(at):
            moved.append(MOVED_SHIFT)
    if shift is not None and not shift.contains(at):
        moved.append(WARN_OUTSIDE_SHIFT)
    return Scheduled(at, planned, tuple(moved))


def _allowed(when: datetime, shift: DailyWindow | None, quiet: DailyWindow | None) -> bool:
    return (shift is None or shift.contains(when)) and not (quiet is not None and quiet.contains(when))


def latest_allowed(when: datetime, *, not_before: datetime, shift: DailyWindow | None,
                   quiet: DailyWindow | None, step: timedelta = timedelta(minutes=5)) -> datetime | None:
    """The latest instant <= when, on a 5-minute grid back from it, that is inside the shift and
    outside the quiet hours, and not before not_before; None when there is none (a day back at most)."""
    t = when
    while t >= not_before and when - t <= timedelta(days=1):
        if _allowed(t, shift, quiet):
            return t
        t -= step
    return None


def plan_order(cadence: Cadence, *, created: datetime, deadline: datetime, now: datetime, hours: Hours,
               buyer_tz: tzinfo | None = None, after: datetime | None = None) -> list[tuple[int, Scheduled]]:
    """The reminders of an unpaid order's cadence still to come, earliest first: (step index, when).

    Each step is planned from the order: created + after_created_minutes, or deadline -
    before_deadline_minutes. A step at or past the deadline is dropped; one before now (or before
    `after`, the last chase for this order) is skipped. Quiet hours and the shift move a step as
    for any chase, except that a step moved to or past the deadline is moved earlier instead (the
    latest allowed moment before it, reason MOVED_BEFORE_DEADLINE), or dropped when there is none
    after now. Two steps landing on the same instant are one reminder."""
    for value in (created, deadline, now):
        if value.tzinfo is None:
            raise ValueError("aware datetimes only")
    if not cadence.for_order:
        raise ValueError("not an order cadence")
    floor = max(now, after) if after is not None else now
    shift = None if cadence.ignore_shift else hours.shift
    quiet = hours.quiet(buyer_tz or hours.agent_tz, cadence.quiet_hours)
    planned_steps = []
    for index, step in enumerate(cadence.steps):
        if step.after_created is not None:
            planned = created + timedelta(minutes=step.after_created)
        else:
            planned = deadline - timedelta(minutes=step.before_deadline or 0)
        if planned >= deadline or planned < floor:
            continue
        planned_steps.append((planned, index))
    out: list[tuple[int, Scheduled]] = []
    taken: set[datetime] = set()
    for planned, index in sorted(planned_steps):
        placed = place(planned, hours=hours, buyer_tz=buyer_tz or hours.agent_tz,
                       quiet_override=cadence.quiet_hours, ignore_shift=cadence.ignore_shift)
        if placed.at >= deadline:
            earlier = latest_allowed(planned, not_before=floor, shift=shift, quiet=quiet)
            if earlier is None:
                continue
            placed = Scheduled(earlier, planned, (MOVED_BEFORE_DEADLINE,))
        if placed.at in taken:
            continue
        taken.add(placed.at)
        out.append((index, placed))
    out.sort(key=lambda item: (item[1].at, item[0]))
    return out


@dataclass(frozen=True)
class WaveBuyer:
    buyer_id: int
    marks: frozenset[str] = frozenset()  # mark codes
    tz: tzinfo | None = None
    starred_at: datetime | None = None


def wave_order(buyers: Iterable[WaveBuyer], first: Sequence[str]) -> list[WaveBuyer]:
    """Buyers with the first-listed marks go first (意向明显 before 高客单 ...), then by starring time."""
    def key(b: WaveBuyer) -> tuple:
        rank = next((i for i, code in enumerate(first) if code in b.marks), len(first))
        starred = b.starred_at.timestamp() if b.starred_at else float("inf")
        return (rank, starred, b.buyer_id)

    return sorted(buyers, key=key)


def plan_wave(buyers: Iterable[WaveBuyer], *, promotion_start: datetime, now: datetime, cadence: Cadence,
              hours: Hours, per_minute: int, begin_after: datetime | None = None) -> list[tuple[int, Scheduled]]:
    """The promotion wave: from start − wave_lead (or now, when later) every starred buyer gets one
    chase slot, per_minute slots a minute so the agent can keep up. begin_after: append after an
    existing wave's last slot. A slot in the buyer's quiet hours moves out of them."""
    promo = cadence.promotion or Promotion()
    if per_minute < 1:
        raise ValueError("per_minute must be >= 1")
    begin = max(promotion_start - timedelta(minutes=promo.wave_lead_minutes), now)
    if begin_after is not None:
        begin = max(begin, begin_after + timedelta(seconds=60 / per_minute))
    out: list[tuple[int, Scheduled]] = []
    for i, buyer in enumerate(wave_order(buyers, promo.wave_first)):
        slot = begin + timedelta(seconds=60 * i / per_minute)
        out.append((buyer.buyer_id, place(slot, hours=hours, buyer_tz=buyer.tz, quiet_override=cadence.quiet_hours,
                                          ignore_shift=cadence.ignore_shift)))
    return out


def phone_list_at(promotion_start: datetime, now: datetime, cadence: Cadence) -> datetime:
    promo = cadence.promotion or Promotion()
    return max(promotion_start - timedelta(minutes=promo.phone_lead_minutes), now)


# ---------------------------------------------------------------- chase rules

@dataclass(frozen=True)
class SentChase:
    sent_at: datetime
    reply_id: int | None = None
    angle: str | None = None
    buyer_replied: bool = False


@dataclass(frozen=True)
class Script:
    reply_id: int
    angle: str
    language: str = "zh"
    platforms: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # the fill-in fields its body uses (canonical names)


# The fields that make an angle's script about THIS buyer's product: the product angle speaks of a
# selling point, the price angle of the product's promotion note or the active promotion, the gift
# angle of the product's gift note. A script of these angles that fills none of them is generic.
ANGLE_FIELDS: dict[str, tuple[str, ...]] = {"product": ("卖点",), "price": ("优惠", "活动"), "gift": ("赠品",)}
# A 催付 script names the unpaid order ({订单号}); {金额} and {截止时间} alone may mean a saving or a
# coupon's end in a pre-order chase, so they do not make a script an order's.
ORDER_FIELDS = frozenset(("订单号",))


@dataclass(frozen=True)
class Known:
    """What is known for this buyer (core/products.py): the fields that have a value, and the
    selling point not yet sent to them (None: no product, no selling points, or all sent)."""

    fields: frozenset[str] = frozenset()
    new_point: str | None = None


@dataclass(frozen=True)
class Proposal:
    angle: str | None
    reply_id: int | None
    blocked: str | None = None  # a code of MESSAGES; the agent may override
    warnings: tuple[str, ...] = field(default_factory=tuple)
    generic: bool = False  # 通用: the script says nothing known of this buyer's product; adapt it
    selling_point: str | None = None  # the selling point {卖点} fills with (never one already sent)

    @property
    def allowed(self) -> bool:
        return self.blocked is None


def angle_order(history: Sequence[SentChase]) -> list[str]:
    """Angles in the order to try next: unused ones first (product → price → logistics → gift → ask),
    then used ones, least recently used first."""
    last_used: dict[str, datetime] = {}
    for chase in history:
        if chase.angle in ANGLES and (chase.angle not in last_used or chase.sent_at > last_used[chase.angle]):
            last_used[chase.angle] = chase.sent_at
    unused = [a for a in ANGLES if a not in last_used]
    used = sorted(last_used, key=lambda a: (last_used[a], ANGLES.index(a)))
    return unused + used


def _specific(script: Script, known: Known) -> bool:
    """The script's angle fields are all known: it speaks of this buyer's product or promotion."""
    needs = set(script.fields) & set(ANGLE_FIELDS.get(script.angle, ()))
    return bool(needs) and needs <= known.fields


def choose(history: Sequence[SentChase], scripts: Sequence[Script], *, language: str | None = "zh",
           platform: str | None = None, known: Known | None = None) -> tuple[str | None, Script | None, bool]:
    """(angle, script, generic) for the next chase: the first angle in angle_order() that still has a
    script never sent to this buyer (in the buyer's language, for the buyer's platform), the one
    that speaks of what is known first (generic=False), else any of the angle's (generic=True for
    the product, price and gift angles). A selling-point script already sent may go again while a
    selling point not yet sent is known: with a new point its text is new. (angle, None, False)
    when every script was already sent: the angle to write a new one for."""
    known = known or Known()
    sent = {c.reply_id for c in history if c.reply_id is not None}

    def usable(s: Script) -> bool:
        if s.angle not in ANGLES or (language is not None and s.language != language):
            return False
        if s.platforms and platform is not None and platform not in s.platforms:
            return False
        if s.reply_id not in sent:
            return True
        return "卖点" in s.fields and known.new_point is not None and _specific(s, known)

    fits = [s for s in scripts if usable(s)]
    order = angle_order(history)
    for angle in order:
        candidates = [s for s in fits if s.angle == angle]
        if not candidates:
            continue
        best = next((s for s in candidates if _specific(s, known)), None)
        if best is not None:
            return angle, best, False
        angle_fields = set(ANGLE_FIELDS.get(angle, ()))
        # generic: the one leaving the fewest of the angle's fields for the agent to fill first
        fallback = min(candidates, key=lambda s: len((set(s.fields) & angle_fields) - known.fields))
        return angle, fallback, angle in ANGLE_FIELDS
    return (order[0] if order else None), None, False


def choose_script(history: Sequence[SentChase], scripts: Sequence[Script], *, language: str | None = "zh",
                  platform: str | None = None, known: Known | None = None) -> tuple[str | None, int | None]:
    """(angle, reply id) of choose()."""
    angle, script, _ = choose(history, scripts, language=language, platform=platform, known=known)
    return angle, (script.reply_id if script is not None else None)


def unanswered_in_a_row(history: Sequence[SentChase]) -> int:
    count = 0
    # chronological; on equal times the later entry in the history counts as later
    for chase in reversed(sorted(history, key=lambda c: c.sent_at)):
        if chase.buyer_replied:
            break
        count += 1
    return count


def check_chase(history: Sequence[SentChase], *, now: datetime, open_questions: bool, override: bool = False,
                min_gap_minutes: int = 2) -> tuple[str | None, tuple[str, ...]]:
    """(blocked, warnings) for a chase sent now."""
    blocked = BLOCK_OPEN_QUESTIONS if open_questions and not override else None
    warnings: list[str] = []
    if history:
        last = max(c.sent_at for c in history)
        if now - last < timedelta(minutes=min_gap_minutes):
            warnings.append(WARN_TOO_SOON)
    if unanswered_in_a_row(history) >= 2:
        warnings.append(WARN_THIRD_UNANSWERED)
    return blocked, tuple(warnings)


def propose(history: Sequence[SentChase], scripts: Sequence[Script], *, now: datetime, open_questions: bool,
            override: bool = False, min_gap_minutes: int = 2, language: str | None = "zh",
            platform: str | None = None, known: Known | None = None, order: bool = False) -> Proposal:
    """order=True (an unpaid order's 催付): a script naming the order ({订单号}) not yet sent comes
    first, by the same angle rotation; only when none is left the other chase scripts."""
    angle, script, generic = None, None, False
    if order:
        mine = [s for s in scripts if ORDER_FIELDS & set(s.fields)]
        have = known.fields if known is not None else frozenset()
        # an order script whose angle speaks of what is known (or of nothing product-specific) first:
        # "{商品}{卖点}" with no product linked would leave the agent to fill the order chase by hand
        fitting = [s for s in mine if set(s.fields) & set(ANGLE_FIELDS.get(s.angle, ())) <= have]
        for pool in (fitting, mine):
            angle, script, generic = choose(history, pool, language=language, platform=platform, known=known)
            if script is not None:
                generic = generic and pool is mine  # a fitting order script names this order: not 通用
                break
    if script is None:
        angle, script, generic = choose(history, scripts, language=language, platform=platform, known=known)
    blocked, warnings = check_chase(history, now=now, open_questions=open_questions, override=override,
                                    min_gap_minutes=min_gap_minutes)
    if script is None:
        return Proposal(angle, None, blocked, (*warnings, WARN_NO_SCRIPT))
    point = known.new_point if known is not None and "卖点" in script.fields else None
    return Proposal(angle, script.reply_id, blocked, warnings, generic, point)
