"""core/reminders.py: starring, the timer side (next_due, fire_due, missed), chases, outcomes,
promotions. Time comes from the FakeClock (2026-11-10 06:00 UTC = 14:00 in Shanghai)."""

import json
import logging
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from assistant.core import cadence, customers, reminders, replies, settings
from assistant.core.clock import from_db
from assistant.errors import NotFoundError, ValidationError

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


@pytest.fixture
def st(store):
    replies.seed_defaults(store)
    settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    return store


def sh(*args):
    return datetime(*args, tzinfo=SH)


def pending(store, buyer_id):
    return reminders.buyer_reminders(store, buyer_id)


def test_star_picks_the_cadence_by_marks(st, clock):
    settings.set(st, "agent.name", "小美")
    plain = reminders.star(st, platform="千牛", nickname="甲", shop="旗舰店")
    high = reminders.star(st, platform="千牛", nickname="乙", marks=["高客单", "意向明显"])
    low = reminders.star(st, platform="拼多多", nickname="丙", marks=["低客单"])
    chosen = reminders.star(st, platform="京东", nickname="丁", cadence="revisit")
    assert (plain.cadence_id, high.cadence_id, low.cadence_id, chosen.cadence_id) == \
        ("in_chat", "high_ticket", "low_ticket", "revisit")
    assert plain.starred and plain.starred_by == "小美" and plain.state == "following"
    assert pending(st, plain.id)[0].due_at == clock.now() + timedelta(minutes=3)
    assert pending(st, high.id)[0].due_at == sh(2026, 11, 10, 20, 0)
    assert reminders.next_due(st) == clock.now() + timedelta(minutes=3)
    assert [e["kind"] for e in customers.events(st, plain.id)] == ["created", "starred"]
    with pytest.raises(ValidationError):
        reminders.star(st, platform="千牛", nickname="戊", cadence="promo")


def test_starring_again_adds_marks_without_restarting(st, clock):
    b = reminders.star(st, platform="千牛", nickname="甲")
    first = pending(st, b.id)[0]
    clock.advance(60)
    b = reminders.star(st, buyer_id=b.id, marks=["意向明显"], phone="13812345678")
    assert b.marks == ["意向明显"] and b.phone_masked == "138****5678"
    assert [r.id for r in pending(st, b.id)] == [first.id]
    b = reminders.star(st, buyer_id=b.id, cadence="revisit")
    assert b.cadence_id == "revisit" and pending(st, b.id)[0].cadence_id == "revisit"
    assert len(pending(st, b.id)) == 1


def test_next_due_uses_the_partial_index(st):
    plan = st.query("EXPLAIN QUERY PLAN " + reminders.NEXT_DUE_SQL)
    assert [r["detail"] for r in plan] == ["SCAN reminders USING INDEX reminders_next"], plan
    plan = st.query("EXPLAIN QUERY PLAN SELECT id FROM reminders r WHERE r.state = 'pending' AND r.due_at <= ?",
                    ("x",))
    assert any("reminders_pending" in r["detail"] or "reminders_next" in r["detail"] for r in plan), plan


def test_fire_due_hands_each_reminder_over_once(st, clock):
    a = reminders.star(st, platform="千牛", nickname="甲")
    clock.advance(60)
    b = reminders.star(st, platform="千牛", nickname="乙")
    assert reminders.fire_due(st) == []
    clock.advance(timedelta(minutes=2, seconds=10))  # 甲 is due 10 s ago, 乙 in 50 s
    fired = reminders.fire_due(st)
    assert [f.buyer_id for f in fired] == [a.id] and not fired[0].missed
    assert fired[0].nickname == "甲" and fired[0].cadence_name == "对话内" and fired[0].steps_total == 4
    assert reminders.fire_due(st) == []
    assert reminders.next_due(st) == pending(st, b.id)[0].due_at
    # still listed (pending, shown) until the agent acts
    assert [d.buyer_id for d in reminders.due(st)] == [a.id]
    assert [d.buyer_id for d in reminders.due(st, within=timedelta(hours=1))] == [a.id, b.id]
    assert [d.buyer_id for d in reminders.upcoming(st, within=timedelta(hours=1))] == [b.id]


def test_missed_reminders_surface_once_after_the_app_was_closed(st, clock):
    a = reminders.star(st, platform="千牛", nickname="甲", cadence="revisit")
    reminders.star(st, platform="千牛", nickname="乙", cadence="revisit")
    clock.advance(timedelta(hours=2))  # the app was closed
    missed = reminders.missed(st)
    assert len(missed) == 2 and all(m.missed for m in missed)
    assert missed[0].late_seconds(clock.now()) == pytest.approx(110 * 60)
    assert reminders.missed(st) == [] and reminders.fire_due(st) == []
    assert reminders.next_due(st) is None
    # a KPI can read how late the agent acted
    reminders.record_chase(st, a.id, None, angle="price")
    row = st.query("SELECT missed, due_at, acted_at FROM reminders WHERE buyer_id = ? AND state = 'done'", (a.id,))[0]
    assert row["missed"] == 1 and row["acted_at"] > row["due_at"]


def test_missed_and_fire_due_share_the_grace(st, clock):
    settings.set(st, "reminders.missed_grace_seconds", 30)
    reminders.star(st, platform="千牛", nickname="甲")
    clock.advance(timedelta(minutes=3, seconds=20))
    assert reminders.missed(st) == []  # only 20 s late: the timer's business
    fired = reminders.fire_due(st)
    assert len(fired) == 1 and not fired[0].missed


def test_chases_follow_the_cadence_and_never_repeat_a_script(st, clock):
    settings.set(st, "reminders.after_in_chat", "stop")  # the chase ends with the cadence (revisit: below)
    b = reminders.star(st, platform="千牛", nickname="甲")
    sent, angles = [], []
    for _ in range(4):
        clock.set(pending(st, b.id)[0].due_at)
        reminders.fire_due(st)
        proposal = reminders.propose(st, b.id)
        assert proposal.allowed and proposal.reply_id not in sent and proposal.reply_body
        result = reminders.record_chase(st, b.id, proposal.reply_id)
        sent.append(proposal.reply_id)
        angles.append(proposal.angle)
        if len(sent) < 4:
            assert result.next_due is not None
    assert angles == ["product", "price", "logistics", "gift"]
    assert result.next_due is None and reminders.next_due(st) is None  # 3-5-7-9 done: finished
    history = customers.chase_history(st, b.id)
    assert [c.reply_id for c in reversed(history)] == sent
    assert cadence.WARN_THIRD_UNANSWERED in history[0].warnings  # the 3rd and 4th chases went unanswered
    # a finished cadence never fires again, whatever the agent does next
    reminders.record_chase(st, b.id, reminders.propose(st, b.id).reply_id)
    clock.advance(timedelta(days=3))
    assert reminders.next_due(st) is None and reminders.fire_due(st) == [] and reminders.missed(st) == []
    assert "cadence_finished" in [e["kind"] for e in customers.events(st, b.id)]


def test_waits_count_from_the_actual_chase(st, clock):
    b = reminders.star(st, platform="千牛", nickname="甲")
    clock.advance(60)  # chased early, before the 3-minute reminder: it counts
    r = reminders.record_chase(st, b.id, None, angle="product")
    assert r.next_due == clock.now() + timedelta(minutes=5)
    assert [p.step for p in pending(st, b.id)] == [1]
    done = st.query("SELECT outcome, acted_at, due_at FROM reminders WHERE state = 'done'")[0]
    assert done["outcome"] == "chased" and done["acted_at"] < done["due_at"]


def test_open_questions_block_the_proposal_and_are_noted(st, clock):
    b = reminders.star(st, platform="千牛", nickname="甲", open_questions=True)
    p = reminders.propose(st, b.id)
    assert not p.allowed and p.blocked == cadence.BLOCK_OPEN_QUESTIONS and "问题" in p.messages()[0]
    assert reminders.propose(st, b.id, override=True).allowed
    r = reminders.record_chase(st, b.id, p.reply_id)
    assert cadence.BLOCK_OPEN_QUESTIONS in r.warnings
    clock.advance(30)
    r = reminders.record_chase(st, b.id, None, angle="price")
    assert cadence.WARN_TOO_SOON in r.warnings


def test_language_and_platform_pick_the_script(st):
    ru = reminders.star(st, platform="AliExpress", nickname="Ivan", language="ru", tz="Europe/Moscow")
    p = reminders.propose(st, ru.id)
    body = replies.get_reply(st, p.reply_id).body
    assert replies.get_reply(st, p.reply_id).language == "ru" and p.angle == "price" and body


def test_paid_stops_and_counts_as_a_conversion(st, clock):
    b = reminders.star(st, platform="千牛", nickname="甲")
    pending_due = pending(st, b.id)[0].due_at
    clock.advance(200)
    reminders.fire_due(st)
    b = reminders.outcome(st, b.id, "已付款")
    assert b.state == "paid" and pending(st, b.id) == [] and reminders.next_due(st) is None
    row = st.query("SELECT state, outcome, acted_at FROM reminders WHERE buyer_id = ?", (b.id,))[0]
    assert (row["state"], row["outcome"]) == ("done", "paid") and row["acted_at"]
    assert [e["kind"] for e in customers.events(st, b.id)] == ["created", "starred", "paid"]
    assert (from_db(row["acted_at"]) - pending_due).total_seconds() == 20  # KPI: delay between due and acting


def test_lost_pause_resume(st, clock):
    b = reminders.star(st, platform="千牛", nickname="甲")
    assert reminders.outcome(st, b.id, "lost").state == "lost" and pending(st, b.id) == []
    assert st.query("SELECT state FROM reminders")[0]["state"] == "cancelled"
    c = reminders.star(st, platform="千牛", nickname="乙", cadence="revisit")
    assert reminders.outcome(st, c.id, "pause").state == "paused" and pending(st, c.id) == []
    clock.advance(3600)
    c = reminders.outcome(st, c.id, "resume")
    assert c.state == "following" and pending(st, c.id)[0].cadence_id == "revisit"
    assert pending(st, c.id)[0].due_at == clock.now() + timedelta(minutes=10)
    with pytest.raises(ValidationError):
        reminders.outcome(st, c.id, "maybe")


def test_snooze_keeps_the_old_reminder_for_kpis(st, clock):
    b = reminders.star(st, platform="千牛", nickname="甲")
    clock.advance(180)
    first = reminders.fire_due(st)[0]
    reminders.outcome(st, b.id, "snooze", minutes=10)
    again = pending(st, b.id)
    assert len(again) == 1 and again[0].due_at == clock.now() + timedelta(minutes=10) and again[0].step == 0
    old = st.query("SELECT state, acted_at FROM reminders WHERE id = ?", (first.id,))[0]
    assert old["state"] == "snoozed" and old["acted_at"]
    assert reminders.next_due(st) == again[0].due_at
    with pytest.raises(ValidationError):
        reminders.snooze(st, again[0].id, 0)
    with pytest.raises(NotFoundError):
        reminders.snooze(st, first.id, 5)  # no longer pending


@pytest.mark.parametrize("mode", ["restart", "keep"])
def test_buyer_replied_restarts_or_keeps(st, clock, mode):
    settings.set(st, "reminders.on_reply", mode)
    b = reminders.star(st, platform="千牛", nickname="甲")
    clock.advance(180)
    reminders.record_chase(st, b.id, None, angle="product")  # step 0 done, step 1 due in 5 min
    clock.advance(60)
    reminders.outcome(st, b.id, "顾客回复了")
    assert customers.chase_history(st, b.id)[0].buyer_replied
    step = pending(st, b.id)[0]
    if mode == "restart":
        assert step.step == 0 and step.due_at == clock.now() + timedelta(minutes=3)
    else:
        assert step.step == 1 and step.due_at == clock.now() + timedelta(minutes=4)
    assert customers.get_buyer(st, b.id).visit_started_at == st.query(
        "SELECT max(at) AS m FROM buyer_events WHERE kind = 'replied'")[0]["m"]


def test_unstar_cancels(st, clock):
    b = reminders.star(st, platform="千牛", nickname="甲")
    b = reminders.unstar(st, b.id)
    assert not b.starred and pending(st, b.id) == [] and reminders.next_due(st) is None
    assert [c.id for c in customers.list_buyers(st)] == []


def test_quiet_hours_of_a_cross_border_buyer(st, clock):
    clock.set(sh(2026, 11, 10, 11, 0))  # 22:00 the evening before in New York
    b = reminders.star(st, platform="Amazon", nickname="Amy", tz="America/New_York", language="en", cadence="revisit")
    due = pending(st, b.id)[0]
    assert due.due_at.astimezone(NY).replace(tzinfo=None) == datetime(2026, 11, 10, 8, 0)
    assert due.moved_for == [cadence.MOVED_QUIET]


def test_shift_and_quiet_hours_come_from_settings(st, clock):
    assert settings.set(st, "reminders.shift_start", "9:30") == "09:30"
    settings.set(st, "reminders.shift_end", "14:05")
    b = reminders.star(st, platform="千牛", nickname="甲", cadence="revisit")  # 14:10 is after the shift
    assert pending(st, b.id)[0].due_at == sh(2026, 11, 11, 9, 30)
    with pytest.raises(ValidationError) as bad_time:
        settings.set(st, "reminders.shift_start", "25:00")
    assert bad_time.value.field == "reminders.shift_start" and "HH:MM" in bad_time.value.en
    with pytest.raises(ValidationError):
        settings.set(st, "reminders.wave_per_minute", 0)
    with pytest.raises(ValidationError) as bad_zone:
        settings.set(st, "reminders.agent_tz", "Mars/Olympus")
    assert bad_zone.value.field == "reminders.agent_tz"
    assert settings.set(st, "reminders.agent_tz", "  ") == ""  # empty = this computer's zone
    assert reminders.get_config(st).agent_tz is not None
    with pytest.raises(ValidationError):
        settings.set(st, "reminders.snooze_minutes", [0, 5])
    assert settings.set(st, "reminders.snooze_minutes", [30, 5, 5]) == [5, 30]
    # a hand-edited bad value falls back to the default instead of stopping the app
    st.conn.execute("UPDATE settings SET value = '\"nonsense\"' WHERE key = 'reminders.shift_start'")
    assert reminders.get_config(st)["reminders.shift_start"] == "09:00"
    # one declaration: what settings stores is what the reminders read
    settings.set(st, "reminders.on_reply", "keep")
    assert settings.get(st, "reminders.on_reply") == "keep" == reminders.get_config(st)["reminders.on_reply"]
    assert set(reminders.get_config(st).values) == {s.name for s in settings.DECLARED
                                                     if s.name.startswith("reminders.")}


def test_edited_cadences_are_used_and_can_be_reset(st, clock):
    edited = reminders.get_cadence(st, "in_chat").to_dict()
    edited["steps"] = [{"wait_minutes": 2}, {"wait_minutes": 4}]
    reminders.save_cadence(st, edited)
    b = reminders.star(st, platform="千牛", nickname="甲")
    assert pending(st, b.id)[0].due_at == clock.now() + timedelta(minutes=2)
    assert pending(st, b.id)[0].steps_total == 2
    assert [s.wait_minutes for s in reminders.reset_cadence(st, "in_chat").steps] == [3, 5, 7, 9]
    with pytest.raises(ValidationError):
        reminders.save_cadence(st, {"id": "promo", "steps": []})
    with pytest.raises(ValidationError):
        reminders.save_cadence(st, {"id": "empty", "steps": []})
    st.conn.execute("INSERT INTO cadences VALUES ('revisit', '{\"id\": 1}', 'x')")
    assert reminders.get_cadence(st, "revisit") == reminders.shipped_cadences()["revisit"]
    with pytest.raises(NotFoundError):
        reminders.get_cadence(st, "nope")


def test_promotion_phone_list_and_wave(st, clock):
    settings.set(st, "reminders.wave_per_minute", 2)
    clock.set(sh(2026, 11, 10, 12, 0))
    hi = reminders.star(st, platform="千牛", nickname="大单", marks=["高客单", "意向明显"], phone="13812345678")
    no_phone = reminders.star(st, platform="千牛", nickname="大单2", marks=["高客单", "意向明显"])
    plain = reminders.star(st, platform="千牛", nickname="普通", marks=["咨询未付款"], phone="13900001111")
    clock.advance(60)
    intent = reminders.star(st, platform="京东", nickname="意向", marks=["意向明显"])
    paid = reminders.star(st, platform="千牛", nickname="已付", marks=["意向明显"])
    reminders.outcome(st, paid.id, "paid")
    promo = reminders.add_promotion(st, "双十一", sh(2026, 11, 11, 0, 0))
    assert promo.phone_at == sh(2026, 11, 10, 21, 0) and promo.wave_start == sh(2026, 11, 10, 22, 0)
    assert promo.wave_total == 4 and promo.wave_end == sh(2026, 11, 10, 22, 1, 30)
    wave = st.query("SELECT buyer_id, due_at FROM reminders WHERE kind = 'wave' ORDER BY due_at")
    assert [w["buyer_id"] for w in wave] == [hi.id, no_phone.id, intent.id, plain.id]
    phones = reminders.phone_list(st, "双十一")
    assert [(p.buyer_id, p.phone) for p in phones] == [(hi.id, "13812345678"), (no_phone.id, None)]
    # a buyer starred later joins the end of the wave
    late = reminders.star(st, platform="千牛", nickname="晚到")
    last = st.query("SELECT due_at FROM reminders WHERE kind = 'wave' AND buyer_id = ?", (late.id,))[0]["due_at"]
    assert from_db(last) == sh(2026, 11, 10, 22, 2)
    # the phone list fires at T-3h, the wave from T-2h
    clock.set(sh(2026, 11, 10, 21, 0, 1))
    fired = [f for f in reminders.fire_due(st) if f.kind == "phone"]
    assert len(fired) == 1 and fired[0].promotion_name == "双十一" and fired[0].buyer_id is None
    reminders.complete(st, fired[0].id)
    clock.set(sh(2026, 11, 10, 22, 0, 1))
    wave_fired = [f for f in reminders.fire_due(st) if f.kind == "wave"]
    assert [f.buyer_id for f in wave_fired] == [hi.id]
    reminders.record_chase(st, hi.id, None, angle="price")
    assert st.query("SELECT state FROM reminders WHERE kind = 'wave' AND buyer_id = ?", (hi.id,))[0]["state"] == "done"
    reminders.outcome(st, intent.id, "paid")
    info = reminders.get_promotion(st, promo.id)
    assert (info.wave_pending, info.wave_total) == (3, 4)  # 大单2, 普通, 晚到 pending; 意向 paid: cancelled
    assert [p.name for p in reminders.list_promotions(st)] == ["双十一"]
    reminders.outcome(st, intent.id, "resume")  # followed again: back at the end of the wave
    assert st.query("SELECT count(*) AS n FROM reminders WHERE kind = 'wave' AND buyer_id = ? AND state = 'pending'",
                    (intent.id,))[0]["n"] == 1
    with pytest.raises(ValidationError):
        reminders.add_promotion(st, "双十一", sh(2026, 11, 11, 0, 0))
    with pytest.raises(ValidationError):
        reminders.add_promotion(st, "过去", sh(2026, 11, 1, 0, 0))
    reminders.delete_promotion(st, "双十一")
    assert st.query("SELECT count(*) AS n FROM reminders WHERE promotion_id IS NOT NULL")[0]["n"] == 0


def test_parse_local():
    assert reminders.parse_local("2026-11-11 00:00", SH) == sh(2026, 11, 11)
    assert reminders.parse_local("2026/11/11", SH) == sh(2026, 11, 11)
    with pytest.raises(ValidationError):
        reminders.parse_local("11-11 midnight", SH)


def test_deleted_reply_keeps_the_history_readable(st):
    b = reminders.star(st, platform="千牛", nickname="甲")
    reply = replies.create_reply(st, body="再送一个收纳袋", title="加送收纳袋", angle="gift")
    reminders.record_chase(st, b.id, reply.id)
    replies.delete_reply(st, reply.id)
    chase = customers.chase_history(st, b.id)[0]
    assert (chase.reply_id, chase.reply_title, chase.angle) == (None, "加送收纳袋", "gift")


def test_buyer_details_never_reach_the_log(st, clock, caplog):
    caplog.set_level(logging.DEBUG)
    b = reminders.star(st, platform="千牛", nickname="秘密昵称", phone="13812345678", notes="住在某某小区")
    clock.advance(200)
    reminders.fire_due(st)
    reminders.record_chase(st, b.id, reminders.propose(st, b.id).reply_id)
    reminders.add_promotion(st, "双十一", clock.now() + timedelta(days=1))
    reminders.phone_list(st, "双十一")
    reminders.outcome(st, b.id, "paid")
    customers.delete_buyer(st, b.id)
    text = caplog.text + json.dumps([r.args for r in caplog.records], default=str, ensure_ascii=False)
    assert caplog.records
    for secret in ("秘密昵称", "13812345678", "5678", "某某小区"):
        assert secret not in text


def test_clock_is_never_read_behind_our_back(st, clock):
    """Everything runs on the store's clock: a frozen FakeClock gives identical due times."""
    b = reminders.star(st, platform="千牛", nickname="甲")
    assert pending(st, b.id)[0].due_at == datetime(2026, 11, 10, 6, 3, tzinfo=timezone.utc)


def test_a_wave_slot_moved_out_of_a_buyers_night_does_not_push_later_buyers(st, clock):
    settings.set(st, "reminders.wave_per_minute", 2)
    clock.set(sh(2026, 11, 10, 12, 0))
    # 22:00 in Shanghai is 03:00 in Auckland: this buyer's slot moves to their 08:00 (03:00 Shanghai).
    far = reminders.star(st, platform="速卖通", nickname="kiwi", tz="Pacific/Auckland")
    near = reminders.star(st, platform="千牛", nickname="本地")
    reminders.add_promotion(st, "双十一", sh(2026, 11, 11, 0, 0))
    slots = {r["buyer_id"]: from_db(r["due_at"]) for r in st.query("SELECT buyer_id, due_at FROM reminders "
                                                                    "WHERE kind = 'wave'")}
    assert slots[far.id] == sh(2026, 11, 11, 3, 0) and slots[near.id] == sh(2026, 11, 10, 22, 0, 30)
    late = reminders.star(st, platform="千牛", nickname="晚到")  # joins the end of the wave, not after 03:00
    due = from_db(st.query("SELECT due_at FROM reminders WHERE kind = 'wave' AND buyer_id = ?", (late.id,))[0]["due_at"])
    assert due == sh(2026, 11, 10, 22, 1)
    # a snoozed slot does not stretch the wave either
    wave_near = next(r for r in pending(st, near.id) if r.kind == "wave")
    reminders.snooze(st, wave_near.id, 120)
    later = reminders.star(st, platform="千牛", nickname="更晚")
    due = from_db(st.query("SELECT due_at FROM reminders WHERE kind = 'wave' AND buyer_id = ?", (later.id,))[0]["due_at"])
    assert due == sh(2026, 11, 10, 22, 1, 30)


def test_a_promotion_moved_or_renamed_is_planned_again(st, clock):
    """update_promotion: one transaction; the phone list and the wave follow the new start, over the
    buyers followed now; a past start or nothing to change is refused and leaves it as it was."""
    clock.set(sh(2026, 11, 10, 12, 0))
    first = reminders.star(st, platform="千牛", nickname="甲", marks=["意向明显"])
    promo = reminders.add_promotion(st, "双十一", sh(2026, 11, 11, 0, 0))
    second = reminders.star(st, platform="千牛", nickname="乙", marks=["意向明显"])
    moved = reminders.update_promotion(st, "双十一", start=sh(2026, 11, 12, 20, 0), name="双十二预热")
    assert (moved.name, moved.start_at, moved.phone_at) == ("双十二预热", sh(2026, 11, 12, 20, 0), sh(2026, 11, 12, 17, 0))
    assert moved.wave_start == sh(2026, 11, 12, 18, 0) and moved.wave_total == 2
    waves = st.query("SELECT buyer_id, promotion_id FROM reminders WHERE kind = 'wave' AND state = 'pending'")
    assert sorted(w["buyer_id"] for w in waves) == sorted([first.id, second.id])
    assert {w["promotion_id"] for w in waves} == {moved.id}
    assert [p.name for p in reminders.list_promotions(st)] == ["双十二预热"]
    assert st.query("SELECT count(*) AS n FROM promotions")[0]["n"] == 1 and promo.name == "双十一"
    for bad in ({"start": sh(2026, 11, 1, 0, 0)}, {}):
        with pytest.raises(ValidationError):
            reminders.update_promotion(st, "双十二预热", **bad)
    assert [(p.name, p.start_at) for p in reminders.list_promotions(st)] == [("双十二预热", sh(2026, 11, 12, 20, 0))]


@pytest.mark.parametrize("after", ["revisit", "stop"])
def test_an_in_conversation_cadence_ending_without_an_outcome_moves_on_to_the_revisit(st, clock, after):
    """3-5-7-9 minutes chased, no 已付款, no 流失: the buyer goes on to 空窗回访 (10, 20, 30 minutes, then
    the next shift) from the last chase - unless the setting keeps the old end."""
    settings.set(st, "reminders.after_in_chat", after)
    clock.set(sh(2026, 11, 10, 14, 0))
    b = reminders.star(st, platform="千牛", nickname="犹豫", cadence="in_chat")
    for _ in range(4):
        (due,) = reminders.buyer_reminders(st, b.id)
        assert due.cadence_id == "in_chat"
        clock.set(due.due_at)
        recorded = reminders.record_chase(st, b.id, None, angle="price")
    buyer = customers.get_buyer(st, b.id)
    pending = reminders.buyer_reminders(st, b.id)
    if after == "stop":
        assert pending == [] and recorded.next_due is None and buyer.cadence_id == "in_chat"
        return
    (revisit,) = pending
    assert (revisit.cadence_id, revisit.step) == ("revisit", 0) and buyer.cadence_id == "revisit"
    assert recorded.next_due == revisit.due_at == clock.now() + timedelta(minutes=10)
    assert [e["kind"] for e in st.query("SELECT kind FROM buyer_events WHERE buyer_id = ? ORDER BY id", (b.id,))
            ][-2:] == ["cadence_finished", "cadence_chained"]
    # an outcome still ends it: paid stops the revisit too
    reminders.outcome(st, b.id, "paid")
    assert reminders.buyer_reminders(st, b.id) == []


def test_a_cadence_naming_itself_or_nothing_known_next_is_refused_or_ends(st):
    with pytest.raises(ValidationError):
        reminders.save_cadence(st, {"id": "loop", "steps": [{"wait_minutes": 3}], "then": "loop"})
    saved = reminders.save_cadence(st, {"id": "short", "steps": [{"wait_minutes": 3}], "then": "gone"})
    assert saved.then == "gone" and saved.to_dict()["then"] == "gone"


def test_the_phone_list_is_worked_call_by_call(st, clock):
    """接通 and 不需要 end a buyer's calls, 未接 brings them back after reminders.call_retry_minutes,
    改约 at the time asked; a buyer in their night comes after the others; 勿扰 keeps a buyer off the
    list and the wave for good; showing the list is logged without the numbers."""
    clock.set(sh(2026, 11, 10, 12, 0))
    marks = ["高客单", "意向明显"]
    a = reminders.star(st, platform="千牛", nickname="甲", marks=marks, phone="13800000001")
    b = reminders.star(st, platform="千牛", nickname="乙", marks=marks, phone="13800000002")
    c = reminders.star(st, platform="千牛", nickname="丙", marks=marks, phone="13800000003")
    far = reminders.star(st, platform="AliExpress", nickname="Night owl", marks=marks, tz="America/Los_Angeles")
    quiet = reminders.star(st, platform="千牛", nickname="勿扰的", marks=marks, phone="13800000005")
    reminders.add_promotion(st, "双十一", sh(2026, 11, 11, 0, 0))
    reminders.set_do_not_call(st, quiet.id)
    clock.set(sh(2026, 11, 10, 21, 0))  # the T-3h list: 13:00 UTC, 05:00 in Los Angeles
    listed = reminders.phone_list(st, "双十一", reveal=True)
    assert [e.buyer_id for e in listed] == [a.id, b.id, c.id, far.id]  # the one in their night last
    assert listed[-1].night and not listed[0].night and listed[-1].local_time.hour == 5
    assert all(e.status == "to_call" for e in listed)
    shown = st.query("SELECT detail FROM buyer_events WHERE kind = 'phone_revealed'")
    assert len(shown) == 3 and not any("138" in r["detail"] for r in shown)  # never the numbers
    reminders.record_call(st, "双十一", a.id, "接通")
    retry = reminders.record_call(st, "双十一", b.id, "no-answer")
    assert retry.status == "later" and retry.retry_at == clock.now() + timedelta(minutes=30)
    later = reminders.record_call(st, "双十一", c.id, "改约", at=sh(2026, 11, 10, 23, 0))
    assert later.status == "later" and later.retry_at == sh(2026, 11, 10, 23, 0)
    with pytest.raises(ValidationError):
        reminders.record_call(st, "双十一", c.id, "改约", at=sh(2026, 11, 10, 20, 0))  # the past
    with pytest.raises(ValidationError):
        reminders.record_call(st, "双十一", c.id, "挂了")
    order = [(e.buyer_id, e.status) for e in reminders.phone_list(st, "双十一")]
    assert order == [(b.id, "later"), (c.id, "later"), (far.id, "to_call"), (a.id, "done")]
    clock.advance(timedelta(minutes=31))  # 未接: due again
    assert reminders.phone_list(st, "双十一")[0].buyer_id == b.id and reminders.phone_list(st, "双十一")[0].status == "retry"
    # 勿扰 for good: no wave slot, not on a later list either
    assert st.query("SELECT count(*) AS n FROM reminders WHERE buyer_id = ? AND kind = 'wave' AND state = 'pending'",
                    (quiet.id,))[0]["n"] == 0
    later_promo = reminders.add_promotion(st, "双十二", sh(2026, 12, 12, 0, 0))
    assert quiet.id not in [e.buyer_id for e in reminders.phone_list(st, "双十二")]
    assert st.query("SELECT count(*) AS n FROM reminders WHERE buyer_id = ? AND promotion_id = ?",
                    (quiet.id, later_promo.id))[0]["n"] == 0
    reminders.set_do_not_call(st, quiet.id, False)
    assert quiet.id in [e.buyer_id for e in reminders.phone_list(st, "双十二")]
