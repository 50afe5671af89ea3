"""Shifts and the work log (core/shifts.py): start/end rules, the agent's entries, and the automatic
part derived from the tables that already record pastes, chases and buyer outcomes."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest

from assistant.core import reminders, replies, settings, shifts
from assistant.errors import ValidationError


@pytest.fixture
def agent(store):
    settings.set(store, "agent.name", "小美")
    return store


def test_first_use_starts_a_shift_and_reuses_it(agent, clock):
    first = shifts.ensure_shift(agent)
    assert first.agent == "小美" and first.open and first.started_how == "auto"
    assert first.started_at == clock.now()
    clock.advance(timedelta(hours=3))
    assert shifts.ensure_shift(agent).id == first.id
    assert shifts.current_shift(agent).id == first.id


def test_explicit_start_is_idempotent_and_end_closes(agent, clock):
    shift, started = shifts.start_shift(agent)
    assert started and shift.started_how == "explicit"
    again, started_again = shifts.start_shift(agent)
    assert again.id == shift.id and not started_again
    clock.advance(timedelta(hours=8))
    ended = shifts.end_shift(agent)
    assert ended.ended_at == clock.now() and ended.ended_how == "handover" and not ended.open
    assert shifts.current_shift(agent) is None
    assert shifts.last_shift(agent).id == shift.id
    with pytest.raises(ValidationError):
        shifts.end_shift(agent)
    # the next use starts a new shift
    clock.advance(timedelta(minutes=5))
    assert shifts.ensure_shift(agent).id != shift.id


def test_leftover_shift_is_closed_at_its_last_activity(agent, clock):
    old = shifts.ensure_shift(agent)
    clock.advance(timedelta(hours=2))
    reply = replies.create_reply(agent, body="亲，在的", title="问候", group="售前")
    replies.record_use(agent, reply.id)
    last_activity = clock.now()
    clock.advance(timedelta(hours=20))  # forgot 交班; next morning
    new = shifts.ensure_shift(agent)
    assert new.id != old.id
    closed = shifts.get_shift(agent, old.id)
    assert closed.ended_how == "auto" and closed.ended_at == last_activity


def test_only_one_open_shift_in_the_database(agent):
    shifts.ensure_shift(agent)
    with pytest.raises(sqlite3.IntegrityError):
        agent.conn.execute("INSERT INTO shifts (uuid, started_at) VALUES ('x', '2026-01-01T00:00:00.000000Z')")


def test_entries_kinds_and_validation(agent, clock):
    problem = shifts.add_entry(agent, "今日问题", "  满减和优惠券能不能叠加？ ")
    request = shifts.add_entry(agent, "顾客需求", "黑色M码什么时候补货")
    note = shifts.add_entry(agent, "note", "下午三点仓库盘点")
    assert (problem.kind, request.kind, note.kind) == ("problem", "request", "note")
    assert problem.text == "满减和优惠券能不能叠加？" and problem.kind_name == "今日问题"
    assert problem.shift_id == shifts.current_shift(agent).id  # the first entry started the shift
    assert [e.id for e in shifts.entries(agent)] == [problem.id, request.id, note.id]
    assert shifts.edit_entry(agent, note.id, "盘点改到四点", kind="备注").text == "盘点改到四点"
    shifts.delete_entry(agent, note.id)
    assert len(shifts.entries(agent)) == 2
    for bad_kind in ("", "bogus"):
        with pytest.raises(ValidationError):
            shifts.add_entry(agent, bad_kind, "x")
    for bad_text in ("", "   ", "\x00\x01", "字" * (shifts.MAX_ENTRY + 1)):
        with pytest.raises(ValidationError):
            shifts.add_entry(agent, "note", bad_text)


def test_shift_entries_follow_the_shift(agent, clock):
    s1 = shifts.ensure_shift(agent)
    shifts.add_entry(agent, "note", "第一班")
    clock.advance(timedelta(hours=1))
    shifts.end_shift(agent)
    clock.advance(timedelta(hours=1))
    shifts.add_entry(agent, "note", "第二班")
    s2 = shifts.current_shift(agent)
    assert [e.text for e in shifts.shift_entries(agent, s1)] == ["第一班"]
    assert [e.text for e in shifts.shift_entries(agent, s2)] == ["第二班"]


def _chase_script(store, angle="product"):
    return replies.create_reply(store, body=f"{angle} 话术正文", title=f"{angle}话术", group="催单", angle=angle)


def test_activity_is_derived_from_existing_tables(agent, clock, caplog):
    caplog.set_level(logging.DEBUG)
    shift = shifts.ensure_shift(agent)
    greet = replies.create_reply(agent, body="亲，在的", title="问候", group="售前")
    script = _chase_script(agent)
    clock.advance(60)
    replies.record_use(agent, greet.id)
    clock.advance(60)
    buyer = reminders.star(agent, platform="千牛", nickname="机密买家", marks=["意向明显"], notes="机密备注 13812345678")
    clock.advance(60)
    reminders.record_chase(agent, buyer.id, script.id)
    clock.advance(60)
    reminders.outcome(agent, buyer.id, "paid")
    clock.advance(60)
    shifts.add_entry(agent, "顾客需求", "想要发票")
    clock.advance(60)
    items = shifts.activity(agent, shift.started_at, clock.now() + timedelta(seconds=1))
    kinds = [i.kind for i in items]
    assert kinds == ["request", "paid", "chase", "starred", "paste", "shift_start"]  # newest first
    by_kind = {i.kind: i for i in items}
    assert by_kind["paste"].subject == "问候" and by_kind["paste"].source == "auto"
    assert by_kind["chase"].subject == "机密买家" and "商品卖点" in by_kind["chase"].detail
    assert by_kind["request"].source == "agent" and by_kind["request"].subject == "想要发票"
    assert by_kind["paid"].label == "已付款"
    # nothing was duplicated into a table of ours
    assert agent.query("SELECT count(*) AS n FROM work_log")[0]["n"] == 1
    # buyer names, phones and notes never reach the log
    for secret in ("机密买家", "机密备注", "13812345678", "想要发票"):
        assert secret not in caplog.text


