"""Handover export of 10,000 open buyers (target: under 2 s for HTML + XLSX + JSON), and the import
of that file into a fresh store.

Run: pytest -s tests/benchmarks/bench_handover.py   (KEFU_BENCH_BUYERS changes the count)

The buyers are inserted with plain SQL in one transaction (the API would take minutes for 10k
stars and is not what is measured): each has one to three marks, notes with a phone and an order
number, zero to four chases and one pending reminder; 5 % carry 售后中. The figures are printed;
correctness is asserted (counts, masking), the time is not (CI machines vary).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid as uuidlib
from datetime import datetime, timedelta, timezone

import pytest

from assistant.core import handover, replies, settings, shifts
from assistant.core.clock import FakeClock, to_db
from assistant.core.store import open_store

N_BUYERS = int(os.environ.get("KEFU_BENCH_BUYERS", "10000"))
ANGLES = ("product", "price", "logistics", "gift", "ask")
NOTES = ["想要黑色M码，等发工资再买", "问了两次赠品，价格敏感", "电话 13812345678，晚上联系", "订单号 2611101234567890 少发一件",
         "=cmd|' /C calc'!A0", "<b>不要</b> 周末打电话", "对比了另一家，嫌物流慢", ""]


def populate(store, n: int, now: datetime) -> None:
    rnd = random.Random(7)
    marks = [r["id"] for r in store.query("SELECT id FROM buyer_marks ORDER BY id")]
    after_sales = store.query("SELECT id FROM buyer_marks WHERE code = 'after_sales'")[0]["id"]
    chase_replies = [(r["id"], r["title"], r["angle"]) for r in store.query(
        "SELECT id, title, angle FROM replies WHERE angle IS NOT NULL")]
    with store.write() as db:
        for i in range(n):
            created = now - timedelta(hours=rnd.randint(1, 72))
            stamp = to_db(created)
            cur = db.execute(
                "INSERT INTO buyers (uuid, platform, shop, nickname, notes, phone, state, starred, starred_by, starred_at, "
                "cadence_id, cadence_started_at, visit_started_at, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,1,?,?,?,?,?,?,?)",
                (str(uuidlib.uuid4()), rnd.choice(["taobao", "jd", "pdd"]), f"店铺{i % 7}", f"买家{i:05d}",
                 rnd.choice(NOTES), f"139{i:08d}" if i % 3 == 0 else None,
                 "paused" if i % 20 == 0 else "following", "小美", stamp, "in_chat", stamp, stamp, stamp, stamp))
            bid = cur.lastrowid
            chosen = set(rnd.sample(marks, rnd.randint(1, 3)))
            if i % 20 == 1:
                chosen.add(after_sales)
            for m in chosen:
                db.execute("INSERT OR IGNORE INTO buyer_mark_links (buyer_id, mark_id) VALUES (?,?)", (bid, m))
            for k in range(rnd.randint(0, 4)):
                rid, title, angle = rnd.choice(chase_replies)
                db.execute("INSERT INTO chases (buyer_id, reply_id, reply_title, angle, sent_at) VALUES (?,?,?,?,?)",
                           (bid, rid, title, angle, to_db(created + timedelta(minutes=3 * (k + 1)))))
            due = now + timedelta(minutes=rnd.randint(-30, 600))
            db.execute("INSERT INTO reminders (buyer_id, kind, cadence_id, step, due_at, planned_at, state, created_at) "
                       "VALUES (?, 'chase', 'in_chat', ?, ?, ?, 'pending', ?)",
                       (bid, rnd.randint(0, 3), to_db(due), to_db(due), stamp))


@pytest.mark.benchmark
def test_export_and_import_10k_buyers(tmp_path):
    now = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
    clock = FakeClock(now)
    store = open_store(tmp_path / "a.db", clock)
    replies.seed_defaults(store)
    settings.set(store, "agent.name", "小美")
    settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    shifts.start_shift(store, now - timedelta(hours=8))
    t0 = time.perf_counter()
    populate(store, N_BUYERS, now)
    fill = time.perf_counter() - t0

    calls = []
    cpu0 = time.process_time()
    result = handover.export_handover(store, tmp_path / "out", progress=lambda d, t: calls.append((d, t)))
    export_cpu = time.process_time() - cpu0
    doc = result.doc
    names = handover._cadence_names(store)
    phases = {}
    for label, fn in (("build", lambda: handover.build(store)), ("json", lambda: handover.render_json(doc)),
                      ("html", lambda: handover.render_html(doc, names)),
                      ("xlsx", lambda: handover.render_xlsx(doc, tmp_path / "again.xlsx", names))):
        t = time.process_time()
        fn()
        phases[label] = time.process_time() - t

    assert result.counts["buyers"] == N_BUYERS
    assert calls and calls[-1][0] == calls[-1][1]
    assert [d for d, _ in calls] == sorted(d for d, _ in calls), "progress never goes back"
    text = result.files["json"].read_text(encoding="utf-8")
    assert "13812345678" not in text and "2611101234567890" not in text

    fresh = open_store(tmp_path / "b.db", FakeClock(now + timedelta(hours=1)))
    t = time.perf_counter()
    plan = handover.preview_import(fresh, result.files["json"])
    preview_s = time.perf_counter() - t
    t = time.perf_counter()
    done = handover.apply_import(fresh, plan)
    import_s = time.perf_counter() - t
    assert done.buyers_added == N_BUYERS
    assert fresh.query("SELECT count(*) AS n FROM reminders WHERE state = 'pending'")[0]["n"] == N_BUYERS
    t = time.perf_counter()
    again = handover.import_handover(fresh, result.files["json"])
    again_s = time.perf_counter() - t
    assert not again.has_changes

    sizes = {fmt: p.stat().st_size / 1024 / 1024 for fmt, p in result.files.items()}
    ref = _reference_loop()
    print(f"\nhandover, {N_BUYERS} open buyers ({fill:.1f} s to insert them):")
    print(f"  export html+xlsx+json: wall {result.seconds:.2f} s, cpu {export_cpu:.2f} s  (target < 2 s)  "
          f"progress calls: {len(calls)}")
    print("  cpu by phase: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    print("  sizes: " + ", ".join(f"{fmt} {mb:.1f} MB" for fmt, mb in sizes.items()))
    print(f"  import into a fresh store: preview {preview_s:.2f} s, apply {import_s:.2f} s; "
          f"importing again (no change): {again_s:.2f} s")
    print(f"  machine: a 10^7-step Python loop takes {ref:.2f} s cpu here (a 2020s desktop: ~0.4 s); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    print("  counts: " + json.dumps(result.counts))
    fresh.close()
    store.close()


def _reference_loop() -> float:
    """A fixed amount of pure-Python work, so the figures above can be compared across machines."""
    t = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    assert total
    return time.process_time() - t
