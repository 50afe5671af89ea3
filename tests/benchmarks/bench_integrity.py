"""What checking the database before writes costs at 100,000 replies: the options weighed for
core/integrity.py, side by side.

Run: pytest -s tests/benchmarks/bench_integrity.py   (KEFU_BENCH_REPLIES to change the size)

The library is bench_search's generator (the default replies multiplied out, indexed for search).
Printed per option: the median and worst of a few runs, each on a fresh connection (as a `kefu`
command would have), with the file in the OS page cache. Only correctness is asserted.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import time
from datetime import datetime, timezone

import pytest

from assistant.core import integrity, search
from assistant.core.clock import FakeClock
from assistant.core.store import open_store
from tests.benchmarks.bench_search import N_REPLIES, _build

RUNS = 5


def _timed(fn, runs: int = RUNS) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), max(samples)


def _on_fresh_connection(db, sql: str):
    def run() -> None:
        conn = sqlite3.connect(db)
        try:
            rows = conn.execute(sql).fetchall()
        finally:
            conn.close()
        assert rows in ([("ok",)], [])
    return run


@pytest.mark.benchmark
def test_bench_integrity_checks_100k(tmp_path):
    loader = search.start_background_loading(tmp_path / "cache")
    loader.join()
    db = tmp_path / "kefu.db"
    store = open_store(db, FakeClock(datetime(2026, 11, 11, 2, 0, tzinfo=timezone.utc)))
    _build(store, N_REPLIES, random.Random(20261111))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size_mb = db.stat().st_size / 1e6

    results = [
        ("PRAGMA integrity_check", *_timed(_on_fresh_connection(db, "PRAGMA integrity_check"))),
        ("PRAGMA quick_check", *_timed(_on_fresh_connection(db, "PRAGMA quick_check"))),
        ("quick_check(replies) only", *_timed(_on_fresh_connection(db, "PRAGMA quick_check(replies)"))),
        ("PRAGMA foreign_key_check", *_timed(_on_fresh_connection(db, "PRAGMA foreign_key_check"))),
    ]

    # The chosen gate: fingerprint + record, as Store.write() runs it before a first COMMIT.
    integrity.write_record(db, integrity.fingerprint(db), True)
    conn = sqlite3.connect(db)
    results.append(("recorded fingerprint (chosen)",
                    *_timed(lambda: integrity.check_before_write(conn, db), runs=200)))
    conn.close()

    # A whole `kefu replies add`-like write on a fresh Store: record matches vs file changed outside.
    def write_once() -> None:
        s = open_store(db)
        try:
            with s.write():
                s.conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('bench', '1', 'x') "
                               "ON CONFLICT(key) DO UPDATE SET value = value + 1")
        finally:
            s.close()

    results.append(("open+write+close, clean record", *_timed(write_once)))

    def write_after_outside_change() -> None:
        st = os.stat(db)
        os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
        write_once()

    results.append(("open+write+close, file changed", *_timed(write_after_outside_change)))
    store = open_store(db)
    schema_ms = _timed(lambda: integrity.schema_problems(store.conn))
    assert integrity.schema_problems(store.conn) == []
    store.close()
    results.append(("schema check (sqlite_master)", *schema_ms))

    print()
    print(f"integrity benchmark: {N_REPLIES:,} replies, database {size_mb:.0f} MB, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'option':<34} {'median ms':>10} {'max ms':>10}")
    for label, median, worst in results:
        print(f"{label:<34} {median:>10.2f} {worst:>10.2f}")
