"""core/cadence.py: pure scheduling and chase rules. Examples first, then hypothesis properties:
due times never go backwards, quiet hours are never violated, no script repeats, a finished cadence
never fires again."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.core import cadence as cad
from assistant.core import replies
from assistant.errors import ValidationError
from assistant.paths import resource_path

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
UTC = timezone.utc


def shipped() -> dict[str, cad.Cadence]:
    return cad.cadences_from_document(json.loads(resource_path("cadences", "default.json").read_text("utf-8")))


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


HOURS = cad.Hours(SH, time(9), time(18), time(22), time(8))


# ---------------------------------------------------------------- definitions

def test_shipped_cadences_follow_the_playbook():
    c = shipped()
    assert [s.wait_minutes for s in c["in_chat"].steps] == [3, 5, 7, 9]
    assert [s.wait_minutes for s in c["revisit"].steps[:3]] == [10, 20, 30] and c["revisit"].steps[3].next_shift
    assert [s.day for s in c["high_ticket"].steps] == [0, 1, 3, 5]
    assert c["low_ticket"].in_visit and c["in_chat"].in_visit and not c["revisit"].in_visit
    promo = c["promo"].promotion
    assert promo and (promo.phone_lead_minutes, promo.wave_lead_minutes) == (180, 120)
    assert set(promo.phone_marks) == {"high_ticket", "intent"}


def test_definitions_round_trip_and_validate():
    for c in shipped().values():
        assert cad.cadence_from_dict(c.to_dict()) == c
    bad = [{"id": ""}, {"id": "x", "steps": [{"wait_minutes": 0}]}, {"id": "x", "steps": [{"day": 3}, {"day": 1}]},
           {"id": "x", "steps": [{"foo": 1}]}, {"id": "x", "visit_minutes": 30, "steps": [{"next_shift": True}]},
           {"id": "x", "steps": [{"day": 1, "at": "25:00"}]}, {"id": "x", "steps": [{"wait_minutes": True}]}]
    for item in bad:
        with pytest.raises(ValidationError) as info:
            cad.cadence_from_dict(item)
        assert info.value.zh and info.value.en
    with pytest.raises(ValidationError):
        cad.cadences_from_document({"format": "other"})


def test_angles_match_the_reply_angles():
    assert cad.ANGLES == replies.ANGLES


def test_daily_window_spanning_midnight():
    w = cad.DailyWindow(time(22), time(8), SH)
    assert w.contains(sh(2026, 11, 10, 23, 0)) and w.contains(sh(2026, 11, 10, 7, 59))
    assert not w.contains(sh(2026, 11, 10, 8, 0)) and not w.contains(sh(2026, 11, 10, 21, 59))
    assert w.next_end(sh(2026, 11, 10, 23, 0)) == sh(2026, 11, 11, 8, 0)
    assert w.next_start(sh(2026, 11, 10, 22, 0)) == sh(2026, 11, 11, 22, 0)  # strictly after


# ---------------------------------------------------------------- scheduling examples

def test_in_chat_waits_count_from_the_previous_chase():
    c = shipped()["in_chat"]
    start = sh(2026, 11, 10, 14, 0)
    first = cad.schedule_step(c, 0, now=start, started_at=start, anchor=start, hours=HOURS)
    assert first and first.at == sh(2026, 11, 10, 14, 3)
    chased = sh(2026, 11, 10, 14, 4)  # the agent was a minute late
    second = cad.schedule_step(c, 1, now=chased, started_at=start, anchor=chased, hours=HOURS)
    assert second and second.at == sh(2026, 11, 10, 14, 9)


def test_revisit_ends_next_day_at_the_start_of_the_shift():
    c = shipped()["revisit"]
    start = sh(2026, 11, 10, 14, 0)
    t, dues = start, []
    for i in range(4):
        s = cad.schedule_step(c, i, now=t, started_at=start, anchor=t, hours=HOURS)
        assert s is not None
        dues.append(s.at)
        t = s.at
    assert dues == [sh(2026, 11, 10, 14, 10), sh(2026, 11, 10, 14, 30), sh(2026, 11, 10, 15, 0), sh(2026, 11, 11, 9, 0)]
    assert cad.schedule_step(c, 4, now=t, started_at=start, anchor=t, hours=HOURS) is None


def test_step_after_the_shift_moves_to_the_next_shift():
    c = shipped()["revisit"]
    start = sh(2026, 11, 10, 17, 55)
    s = cad.schedule_step(c, 0, now=start, started_at=start, anchor=start, hours=HOURS)
    assert s and s.at == sh(2026, 11, 11, 9, 0) and s.planned == sh(2026, 11, 10, 18, 5)
    assert cad.MOVED_SHIFT in s.moved_for


def test_buyer_night_moves_to_the_buyer_morning():
    hours = cad.Hours(SH, time(9), time(23), time(22), time(8))
    c = shipped()["revisit"]
    start = sh(2026, 11, 10, 11, 0)  # 22:00 the day before in New York
    s = cad.schedule_step(c, 0, now=start, started_at=start, anchor=start, hours=hours, buyer_tz=NY)
    assert s is not None and cad.MOVED_QUIET in s.moved_for
    assert s.at.astimezone(NY) == datetime(2026, 11, 10, 8, 0, tzinfo=NY)
    assert s.at == sh(2026, 11, 10, 21, 0)  # inside the agent's shift too


def test_no_overlap_between_buyer_day_and_shift_keeps_the_buyer_night():
    hours = cad.Hours(SH, time(12), time(18), time(22), time(8))  # 23:00-05:00 in New York
    s = cad.place(sh(2026, 11, 10, 12, 30), hours=hours, buyer_tz=NY)
    local = s.at.astimezone(NY).time()
    assert time(8) <= local < time(22)
    assert cad.WARN_OUTSIDE_SHIFT in s.moved_for


def test_high_ticket_days_at_the_buyers_evening():
    hours = cad.Hours(SH, time(9), time(23), time(22), time(8))
    c = shipped()["high_ticket"]
    start = sh(2026, 11, 10, 10, 0)
    s0 = cad.schedule_step(c, 0, now=start, started_at=start, anchor=start, hours=hours)
    assert s0 and s0.at == sh(2026, 11, 10, 20, 0)
    s1 = cad.schedule_step(c, 1, now=s0.at, started_at=start, anchor=s0.at, hours=hours)
    assert s1 and s1.at == sh(2026, 11, 11, 20, 0)
    late = sh(2026, 11, 10, 21, 30)  # starred late: day 0 is past, min gap 3 h lands in the night
    s = cad.schedule_step(c, 0, now=late, started_at=late, anchor=late, hours=hours)
    assert s and s.at == sh(2026, 11, 11, 9, 0)


def test_low_ticket_has_no_tomorrow():
    c = shipped()["low_ticket"]
    start = sh(2026, 11, 10, 22, 30)  # in-visit: the buyer is chatting now, quiet hours do not apply
    s0 = cad.schedule_step(c, 0, now=start, started_at=start, anchor=start, hours=HOURS)
    assert s0 and s0.at == sh(2026, 11, 10, 22, 33) and not s0.moved_for
    late = sh(2026, 11, 10, 22, 56)
    assert cad.schedule_step(c, 1, now=late, started_at=start, anchor=late, hours=HOURS,
                             visit_start=start) is None  # 23:01 is after the 30-minute visit
    # a reply from the buyer starts a new visit
    assert cad.schedule_step(c, 1, now=late, started_at=start, anchor=late, hours=HOURS, visit_start=late)


def test_dst_change_in_the_buyer_zone():
    hours = cad.Hours(UTC, time(0), time(0), time(22), time(8))  # all-day shift
    before = datetime(2026, 10, 31, 23, 0, tzinfo=NY)  # DST ends on 1 November 2026
    s = cad.place(before, hours=hours, buyer_tz=NY)
    assert s.at.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 1, 8, 0)


def test_promotion_wave_is_spread_intent_first_and_respects_night():
    c = shipped()["promo"]
    hours = cad.Hours(SH, time(9), time(18), time(22), time(8))
    start = sh(2026, 11, 11, 0, 0)
    now = sh(2026, 11, 10, 12, 0)
    buyers = [cad.WaveBuyer(1, frozenset({"unpaid"})), cad.WaveBuyer(2, frozenset({"intent"})),
              cad.WaveBuyer(3, frozenset()), cad.WaveBuyer(4, frozenset({"high_ticket"})),
              cad.WaveBuyer(5, frozenset({"intent"}), ZoneInfo("America/Los_Angeles"))]
    plan = cad.plan_wave(buyers, promotion_start=start, now=now, cadence=c, hours=hours, per_minute=4)
    assert [b for b, _ in plan] == [2, 5, 4, 1, 3]
    slots = dict(plan)
    assert slots[2].at == sh(2026, 11, 10, 22, 0)  # ignores the agent's shift; promo quiet hours are 01-08
    assert slots[4].at == sh(2026, 11, 10, 22, 0, 30)
    assert slots[3].at == sh(2026, 11, 10, 22, 1)
    la = slots[5].at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert la.time() == time(8, 0) and cad.MOVED_QUIET in slots[5].moved_for
    assert cad.phone_list_at(start, now, c) == sh(2026, 11, 10, 21, 0)
    assert cad.phone_list_at(start, sh(2026, 11, 10, 23, 0), c) == sh(2026, 11, 10, 23, 0)


# ---------------------------------------------------------------- chase rules

def scripts_pool() -> list[cad.Script]:
    pool, rid = [], 1
    for angle in cad.ANGLES:
        for _ in range(2):
            pool.append(cad.Script(rid, angle))
            rid += 1
    pool.append(cad.Script(99, "price", "en"))
    pool.append(cad.Script(98, "gift", "zh", ("jd",)))
    return pool


def test_angles_rotate_and_scripts_never_repeat():
    t = sh(2026, 11, 10, 10, 0)
    history: list[cad.SentChase] = []
    angles, sent = [], []
    for _ in range(10):
        p = cad.propose(history, scripts_pool(), now=t, open_questions=False, platform="taobao")
        assert p.reply_id is not None
        angles.append(p.angle)
        sent.append(p.reply_id)
        history.append(cad.SentChase(t, p.reply_id, p.angle, buyer_replied=True))
        t += timedelta(hours=1)
    assert angles[:5] == list(cad.ANGLES) and angles[5:] == list(cad.ANGLES)
    assert len(set(sent)) == 10 and 99 not in sent and 98 not in sent
    p = cad.propose(history, scripts_pool(), now=t, open_questions=False, platform="taobao")
    assert p.reply_id is None and cad.WARN_NO_SCRIPT in p.warnings
    p = cad.propose(history, scripts_pool(), now=t, open_questions=False, platform="jd")
    assert p.reply_id == 98  # the JD-only gift script fits a JD buyer
    p = cad.propose([], scripts_pool(), now=t, open_questions=False, language="en")
    assert (p.angle, p.reply_id) == ("price", 99)


def test_next_angle_skips_an_angle_without_scripts():
    pool = [cad.Script(1, "price"), cad.Script(2, "ask")]
    assert cad.choose_script([], pool) == ("price", 1)
    t = sh(2026, 11, 10, 10, 0)
    assert cad.choose_script([cad.SentChase(t, 1, "price")], pool) == ("ask", 2)


def test_open_questions_block_unless_overridden():
    t = sh(2026, 11, 10, 10, 0)
    p = cad.propose([], scripts_pool(), now=t, open_questions=True)
    assert p.blocked == cad.BLOCK_OPEN_QUESTIONS and not p.allowed and p.reply_id is not None
    assert cad.propose([], scripts_pool(), now=t, open_questions=True, override=True).allowed
    assert "问题" in cad.describe(cad.BLOCK_OPEN_QUESTIONS) and "questions" in cad.describe(cad.BLOCK_OPEN_QUESTIONS, "en")


def test_warnings_too_soon_and_third_unanswered():
    t = sh(2026, 11, 10, 10, 0)
    one = [cad.SentChase(t, 1, "product")]
    assert cad.check_chase(one, now=t + timedelta(minutes=1), open_questions=False)[1] == (cad.WARN_TOO_SOON,)
    assert cad.check_chase(one, now=t + timedelta(minutes=5), open_questions=False)[1] == ()
    two = [*one, cad.SentChase(t + timedelta(minutes=5), 3, "price")]
    assert cad.WARN_THIRD_UNANSWERED in cad.check_chase(two, now=t + timedelta(hours=1), open_questions=False)[1]
    answered = [cad.SentChase(t, 1, "product"), cad.SentChase(t + timedelta(minutes=5), 3, "price", buyer_replied=True)]
    assert cad.check_chase(answered, now=t + timedelta(hours=1), open_questions=False)[1] == ()


# ---------------------------------------------------------------- properties

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/Moscow", "Europe/London", "America/Los_Angeles",
         "Australia/Sydney", "America/Santiago", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns",
         "Australia/Lord_Howe", "UTC"]
zones = st.sampled_from(ZONES).map(ZoneInfo)
clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                        timezones=st.just(UTC))
steps = st.one_of(
    st.builds(cad.Step, wait_minutes=st.integers(1, 3000)),
    st.just(cad.Step(next_shift=True)),
    st.builds(cad.Step, day=st.integers(0, 6), at=clock_times),
)


@st.composite
def cadences(draw) -> cad.Cadence:
    if draw(st.booleans()):
        return draw(st.sampled_from([c for c in shipped().values() if c.steps and not c.for_order]))
    visit = draw(st.one_of(st.none(), st.integers(5, 120)))
    if visit is not None:
        chosen = draw(st.lists(st.builds(cad.Step, wait_minutes=st.integers(1, 60)), min_size=1, max_size=6))
    else:
        chosen = draw(st.lists(steps, min_size=1, max_size=6))
        days = sorted(s.day for s in chosen if s.day is not None)
        it = iter(days)
        chosen = [cad.Step(day=next(it), at=s.at) if s.day is not None else s for s in chosen]
    quiet = draw(st.one_of(st.none(), st.tuples(clock_times, clock_times)))
    return cad.Cadence("gen", "生成", "generated", tuple(chosen), visit, draw(st.integers(0, 600)), quiet,
                       draw(st.booleans()))


@st.composite
def hours_(draw) -> cad.Hours:
    return cad.Hours(draw(zones), draw(clock_times), draw(clock_times), draw(clock_times), draw(clock_times))


def in_local_window(when: datetime, tz, start: time, end: time) -> bool:
    """An independent check of a daily window, not using DailyWindow."""
    t = when.astimezone(tz).time()
    if start == end:
        return False
    return start <= t < end if start < end else (t >= start or t < end)


def simulate(c: cad.Cadence, hours: cad.Hours, buyer_tz, start: datetime, delays: list[int]):
    """Run a cadence to its end; the agent acts `delay` minutes after each due time."""
    out = []
    anchor = now = start
    for i in range(len(c.steps) + 2):
        s = cad.schedule_step(c, i, now=now, started_at=start, anchor=anchor, hours=hours, buyer_tz=buyer_tz,
                              visit_start=start)
        out.append((i, now, anchor, s))
        if s is None:
            break
        now = anchor = s.at + timedelta(minutes=delays[i % len(delays)])
    return out


PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(cadences(), hours_(), zones, instants, st.lists(st.integers(0, 240), min_size=1, max_size=6))
def test_due_times_never_go_backwards(c, hours, buyer_tz, start, delays):
    previous = start
    for _, now, anchor, s in simulate(c, hours, buyer_tz, start, delays):
        if s is None:
            break
        assert s.at >= now and s.at >= anchor and s.at >= previous
        assert s.at >= s.planned or s.at == s.planned
        previous = s.at


@PROPS
@given(cadences(), hours_(), zones, instants, st.lists(st.integers(0, 240), min_size=1, max_size=6))
def test_quiet_hours_are_never_violated(c, hours, buyer_tz, start, delays):
    quiet = c.quiet_hours or (hours.quiet_start, hours.quiet_end)
    for _, _, _, s in simulate(c, hours, buyer_tz, start, delays):
        if s is None:
            break
        if c.in_visit:
            # the buyer is in the conversation: bounded by the visit instead
            assert s.at <= start + timedelta(minutes=c.visit_minutes or 0)
            continue
        assert not in_local_window(s.at, buyer_tz, *quiet), (s, buyer_tz)
        if not c.ignore_shift and cad.WARN_OUTSIDE_SHIFT not in s.moved_for and hours.shift_start != hours.shift_end:
            assert in_local_window(s.at, hours.agent_tz, hours.shift_start, hours.shift_end)


@PROPS
@given(instants, hours_(), zones, st.tuples(clock_times, clock_times), st.booleans())
def test_place_never_lands_in_the_night(when, hours, buyer_tz, quiet, ignore_shift):
    s = cad.place(when, hours=hours, buyer_tz=buyer_tz, quiet_override=quiet, ignore_shift=ignore_shift)
    assert s.at >= when and s.at - when <= timedelta(days=3)
    assert not in_local_window(s.at, buyer_tz, *quiet)


@PROPS
@given(cadences(), hours_(), zones, instants, st.integers(0, 30), st.integers(0, 10_000))
def test_a_finished_cadence_never_fires_again(c, hours, buyer_tz, start, extra, later_minutes):
    later = start + timedelta(minutes=later_minutes)
    assert cad.schedule_step(c, len(c.steps) + extra, now=later, started_at=start, anchor=later, hours=hours,
                             buyer_tz=buyer_tz) is None
    if c.in_visit:
        # a visit that is over stays over, however late the agent asks again
        for i in range(len(c.steps)):
            s = cad.schedule_step(c, i, now=later, started_at=start, anchor=later, hours=hours, visit_start=start)
            if s is None:
                assert cad.schedule_step(c, i, now=later + timedelta(minutes=5), started_at=start,
                                         anchor=later + timedelta(minutes=5), hours=hours, visit_start=start) is None


script_pools = st.lists(
    st.builds(cad.Script, reply_id=st.integers(1, 60), angle=st.sampled_from(cad.ANGLES),
              language=st.sampled_from(["zh", "en"]), platforms=st.sampled_from([(), ("taobao",), ("jd",)])),
    max_size=40, unique_by=lambda s: s.reply_id)


@PROPS
@given(script_pools, st.lists(st.booleans(), min_size=1, max_size=30), st.sampled_from(["zh", "en", None]),
       st.sampled_from(["taobao", "jd", None]))
def test_no_script_repeats(pool, replies_flags, language, platform):
    t = datetime(2026, 11, 10, tzinfo=UTC)
    history: list[cad.SentChase] = []
    for replied in replies_flags:
        angle, reply_id = cad.choose_script(history, pool, language=language, platform=platform)
        if reply_id is None:
            assert not [s for s in pool if s.reply_id not in {h.reply_id for h in history}
                        and (language is None or s.language == language)
                        and (not s.platforms or platform is None or platform in s.platforms)]
            break
        assert reply_id not in {h.reply_id for h in history}
        script = next(s for s in pool if s.reply_id == reply_id)
        assert script.angle == angle and (language is None or script.language == language)
        # the angle is the first unused one that still has a script
        used = {h.angle for h in history}
        available = {s.angle for s in pool if s.reply_id not in {h.reply_id for h in history}
                     and (language is None or s.language == language)
                     and (not s.platforms or platform is None or platform in s.platforms)}
        unused_available = [a for a in cad.ANGLES if a not in used and a in available]
        if unused_available:
            assert angle == unused_available[0]
        history.append(cad.SentChase(t, reply_id, angle, replied))
        t += timedelta(minutes=7)


@PROPS
@given(st.lists(st.tuples(st.integers(0, 600), st.booleans()), max_size=8), st.booleans(), st.booleans())
def test_open_questions_always_block_without_override(chases, open_q, override):
    t0 = datetime(2026, 11, 10, tzinfo=UTC)
    history = [cad.SentChase(t0 + timedelta(minutes=m), i, "price", r) for i, (m, r) in enumerate(chases)]
    blocked, warnings = cad.check_chase(history, now=t0 + timedelta(minutes=700), open_questions=open_q,
                                        override=override)
    assert (blocked is not None) == (open_q and not override)
    assume(history)
    ordered = sorted(history, key=lambda c: c.sent_at)
    tail_unanswered = len(ordered) >= 2 and not ordered[-1].buyer_replied and not ordered[-2].buyer_replied
    assert (cad.WARN_THIRD_UNANSWERED in warnings) == tail_unanswered
