"""The clock was a day ahead once: the shift started "tomorrow". After the clock is corrected that shift
is closed at its last event and a new one starts now; the log and KPIs show what happens now; the
agent is told once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from assistant import cli
from assistant.core import kpi, replies, shifts
from assistant.core.clock import FakeClock, to_db
from assistant.core.store import open_store


def _ahead_then_corrected(store, clock: FakeClock):
    """Returns (the future shift, the reply) after a day-ahead paste and log entry; clock corrected."""
    today = clock.now()
    reply = replies.create_reply(store, body="亲，在的")
    clock.set(today + timedelta(days=1))
    entry = shifts.add_entry(store, "note", "时钟快了一天时写的")
    clock.advance(timedelta(minutes=5))
    replies.record_use(store, reply.id)
    future = shifts.current_shift(store)
    assert future.started_at == entry.at
    clock.set(today + timedelta(minutes=30))
    return future, reply


def test_a_shift_from_the_future_is_closed_at_its_last_event_and_a_new_one_opens(store, clock):
    future, reply = _ahead_then_corrected(store, clock)
    fix = shifts.fix_future_shift(store)
    assert fix is not None
    closed = shifts.get_shift(store, future.id)
    assert closed.ended_how == "auto"
    assert closed.ended_at == future.started_at + timedelta(minutes=5), "closed at its last event (the paste)"
    assert fix.opened.started_at == clock.now() and fix.opened.open
    assert shifts.current_shift(store).id == fix.opened.id
    assert "clock" in fix.en and "时钟" in fix.zh
    assert shifts.fix_future_shift(store) is None, "told once: nothing left to fix"
    # what the agent did while the clock was ahead stays with that shift
    assert [e.text for e in shifts.shift_entries(store, closed)] == ["时钟快了一天时写的"]


def test_after_the_fix_the_log_and_kpis_show_what_happens_now(store, clock):
    _ahead_then_corrected(store, clock)
    shift = shifts.ensure_shift(store)  # what `kefu log add` and the panel's start do
    assert shift.started_at == clock.now(), "not the shift that starts tomorrow"
    clock.advance(60)
    reply = replies.create_reply(store, body="今天的回复")
    replies.record_use(store, reply.id)
    shifts.add_entry(store, "problem", "今天的问题")
    clock.advance(60)
    since, until = shifts.window(store)
    assert until > since
    kinds = [i.kind for i in shifts.activity(store, since, until)]
    assert "paste" in kinds and "problem" in kinds
    assert kpi.for_shift(store, shifts.current_shift(store)).pastes == 1


def test_start_shift_replaces_a_shift_from_the_future_too(store, clock):
    future, _ = _ahead_then_corrected(store, clock)
    shift, started = shifts.start_shift(store)
    assert started and shift.id != future.id and shift.started_at == clock.now()


def test_a_few_minutes_ahead_is_not_a_clock_fix(store, clock):
    shifts.start_shift(store, now=clock.now() + timedelta(minutes=3))
    assert shifts.fix_future_shift(store) is None
    assert shifts.ensure_shift(store).started_at == clock.now() + timedelta(minutes=3)


def test_the_cli_tells_once_and_logs_into_the_new_shift(tmp_path, capsys):
    data = tmp_path / "data"
    real_now = datetime.now(timezone.utc)
    ahead = FakeClock(real_now + timedelta(days=1))
    s = open_store(data / "kefu.db", ahead)  # a command run once while the clock was a day ahead
    shifts.add_entry(s, "note", "明天的记录")
    s.close()

    assert cli.main(["--data-dir", str(data), "log", "add", "今天的记录"]) == 0
    err = capsys.readouterr().err
    assert err.count("clock was ahead") == 1 and "时钟" in err
    assert cli.main(["--data-dir", str(data), "log", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "clock was ahead" not in err, "told once"
    assert "今天的记录" in [i["subject"] for i in json.loads(out)]
    assert cli.main(["--data-dir", str(data), "shift", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["open"] and status["started_at"] <= to_db(datetime.now(timezone.utc))
    assert status["started_at"] >= to_db(real_now)


def test_a_read_only_command_fixes_it_too(tmp_path, capsys):
    data = tmp_path / "data"
    ahead = FakeClock(datetime.now(timezone.utc) + timedelta(days=1))
    s = open_store(data / "kefu.db", ahead)
    shifts.start_shift(s)
    s.close()
    assert cli.main(["--data-dir", str(data), "kpi", "--json"]) == 0
    assert "clock was ahead" in capsys.readouterr().err
