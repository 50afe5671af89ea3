"""Reminders at scale: 10,000 pending reminders. Prints figures; asserts correctness only.

Measured here: time to find the next due reminder (what the one timer is armed with), time to list
what falls due within an hour (the 提醒 tab), and a few writes (star, fire, chase) for scale.
Idle CPU of the running app and lateness of fired reminders need the running app (ui/reminders/):
they belong to the UI benchmark.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from assistant.core import reminders, settings
from assistant.core.clock import FakeClock, from_db, to_db
from assistant.core.store import open_store

pytestmark = pytest.mark.benchmark

N = 10_000
NOW = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(fn, repeat: int) -> tuple[float, float, object]:
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    p50, p99 = percentiles(samples)
    return p50, p99, result


@pytest.fixture
def big_store(tmp_path):
    clock = FakeClock(NOW)
    store = open_store(tmp_path / "kefu.db", clock)
    settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    rng = random.Random(5)
    marks = [r["id"] for r in store.query("SELECT id FROM buyer_marks")]
    stamp = to_db(NOW)
    buyers, links, rows = [], [], []
    for i in range(1, N + 1):
        buyers.append((i, str(uuid.uuid4()), rng.choice(["taobao", "jd", "pdd"]), f"shop{i % 7}", f"buyer{i}",
                       stamp, stamp, stamp))
        links.append((i, rng.choice(marks)))
        due = NOW + timedelta(seconds=rng.randint(-3600, 7 * 24 * 3600))  # an hour ago .. a week ahead
        fired = to_db(due) if due < NOW and rng.random() < 0.5 else None  # shown, not yet acted on
        rows.append((i, "chase", "revisit", 0, to_db(due), to_db(due), "pending", stamp, fired))
    with store.write():
        db = store.conn
        db.executemany("INSERT INTO buyers (id, uuid, platform, shop, nickname, starred, starred_at, created_at, "
                       "updated_at, cadence_id) VALUES (?,?,?,?,?,1,?,?,?, 'revisit')", buyers)
        db.executemany("INSERT INTO buyer_mark_links (buyer_id, mark_id) VALUES (?,?)", links)
        db.executemany("INSERT INTO reminders (buyer_id, kind, cadence_id, step, due_at, planned_at, state, "
                       "created_at, fired_at) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    store.conn.execute("ANALYZE")
    yield store, clock, rows
    store.close()


def test_reminders_at_10k(big_store, capsys):
    # capsys.disabled() here, in the test body: figures reach the terminal without -s (a fixture
    # that disables capture around `yield` does not survive into the call phase).
    with capsys.disabled():
        measure(*big_store)


def measure(store, clock, rows) -> None:
    pending_unfired = sorted(r[4] for r in rows if r[8] is None)
    expected_next = from_db(pending_unfired[0])

    p50, p99, got = timed(lambda: reminders.next_due(store), 2000)
    assert got == expected_next
    print(f"\n[reminders] {N} pending: next_due p50 {p50:.3f} ms, p99 {p99:.3f} ms")

    horizon = to_db(NOW + timedelta(hours=1))
    expected_hour = sorted(r[4] for r in rows if r[4] <= horizon)
    p50, p99, listed = timed(lambda: reminders.due(store, within=timedelta(hours=1)), 200)
    assert [to_db(d.due_at) for d in listed] == expected_hour  # type: ignore[union-attr]
    print(f"[reminders] due within 1 h ({len(expected_hour)} rows, with buyer, marks, last chase): "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")

    day = [r for r in rows if r[4] <= to_db(NOW + timedelta(hours=24))]
    p50, p99, listed = timed(lambda: reminders.due(store, within=timedelta(hours=24)), 50)
    assert len(listed) == len(day)  # type: ignore[arg-type]
    print(f"[reminders] due within 24 h ({len(day)} rows, with details): p50 {p50:.2f} ms, p99 {p99:.2f} ms")

    p50, p99, _ = timed(lambda: store.query("SELECT id FROM reminders WHERE state = 'pending' AND due_at <= ?",
                                            (horizon,)), 500)
    print(f"[reminders] due within 1 h, ids only: p50 {p50:.3f} ms, p99 {p99:.3f} ms")

    # the timer fires: hand over what is due, once
    start = time.perf_counter()
    fired = reminders.fire_due(store)
    fire_ms = (time.perf_counter() - start) * 1000
    assert len(fired) == len([r for r in rows if r[8] is None and r[4] <= to_db(NOW)])
    assert reminders.fire_due(store) == []
    assert reminders.next_due(store) > NOW  # type: ignore[operator]
    print(f"[reminders] fire_due handed over {len(fired)} reminders in {fire_ms:.1f} ms")

    # writes, each its own durable transaction (WAL, synchronous=FULL)
    samples = []
    for i in range(50):
        t0 = time.perf_counter()
        reminders.star(store, platform="千牛", nickname=f"new{i}", marks=["咨询未付款"])
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p99 = percentiles(samples)
    print(f"[reminders] star (write + schedule + wave check): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    samples = []
    for i in range(50):
        t0 = time.perf_counter()
        reminders.record_chase(store, N + i + 1, None, angle="price")
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p99 = percentiles(samples)
    print(f"[reminders] record_chase (history + next step): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    assert store.query("SELECT count(*) AS n FROM reminders WHERE state = 'pending'")[0]["n"] == N + 50
