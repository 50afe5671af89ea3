"""The compliance check's figures: precision and recall on the corpus (tests/core/data) and false
positives on the default library; the time to check one reply (paid when it is saved or imported,
never when it is pasted); the one-time recheck of a big library after the rules change.

Run: pytest tests/benchmarks/bench_compliance.py   (KEFU_BENCH_COMPLIANCE_ROWS=20000 by default)
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

from assistant.core import compliance, replies
from assistant.core.store import open_store
from assistant.paths import resource_path

ROWS = int(os.environ.get("KEFU_BENCH_COMPLIANCE_ROWS", "20000"))
CORPUS = json.loads((Path(__file__).parents[1] / "core" / "data" / "compliance_corpus.json")
                    .read_text(encoding="utf-8"))["scripts"]


def _verdicts(rules, scripts):
    tp = fp = fn = tn = 0
    for s in scripts:
        flagged = bool(compliance.check(s["text"], rules, group_path=s["group"], angle=s.get("angle"),
                                        language=s.get("language", "zh")))
        bad = bool(s["expect"])
        tp, fp, fn, tn = tp + (flagged and bad), fp + (flagged and not bad), fn + (bad and not flagged), \
            tn + (not flagged and not bad)
    return tp, fp, fn, tn


def test_bench_compliance_precision_recall_and_speed(tmp_path):
    rules = compliance.load_rules()
    print()
    for name in ("dev", "holdout"):
        tp, fp, fn, tn = _verdicts(rules, [s for s in CORPUS if s["set"] == name])
        print(f"corpus {name:8s}: {tp + fp + fn + tn:3d} scripts  precision {tp / max(1, tp + fp):6.1%}  "
              f"recall {tp / max(1, tp + fn):6.1%}  (tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    library = replies.load_library_file(resource_path("library", "default.json"))
    items = [(it["body"], "/".join(p), it.get("angle"), it.get("language", "zh")) for p, it in library]
    flagged = sum(1 for found in compliance.check_all(items, rules) if found)
    print(f"default library: {len(items)} replies, {flagged} flagged")
    assert flagged == 0

    rounds = 50
    start = time.perf_counter()
    for _ in range(rounds):
        compliance.check_all(items, rules)
    per_reply = (time.perf_counter() - start) / rounds / len(items)
    bad = [(s["text"], s["group"], s.get("angle"), s.get("language", "zh")) for s in CORPUS if s["expect"]]
    start = time.perf_counter()
    for _ in range(rounds):
        compliance.check_all(bad, rules)
    per_bad = (time.perf_counter() - start) / rounds / len(bad)
    print(f"check: {per_reply * 1e6:.0f} µs per library reply, {per_bad * 1e6:.0f} µs per non-compliant script "
          f"(load average {os.getloadavg()[0]:.1f})")

    store = open_store(tmp_path / "kefu.db")
    rng = random.Random(14)
    texts = [b for b, *_ in items] + [s["text"] for s in CORPUS]
    with store.write() as db:
        group = replies.ensure_group_path(store, "售后安抚")
        db.conn.executemany("INSERT INTO replies (uuid, group_id, title, body, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, 'x', 'x')",
                       [(f"u{n}", group, f"t{n}", f"{rng.choice(texts)} #{n}") for n in range(ROWS)])
    start = time.perf_counter()
    changed = replies.ensure_compliance(store)
    took = time.perf_counter() - start
    flagged = store.query("SELECT count(*) AS n FROM replies WHERE compliance != '[]'")[0]["n"]
    print(f"one-time recheck of {ROWS:,} replies (after the migration or a rules change): {took:.2f} s, "
          f"{flagged:,} flagged")
    assert changed == ROWS and flagged > 0 and replies.ensure_compliance(store) == 0
    store.close()
