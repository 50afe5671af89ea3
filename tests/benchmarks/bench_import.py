"""A 30,000-row Qianniu CSV import: how long it holds the write lock, what it leaves in the WAL, and
how many other `kefu` commands fail while it runs.

Run: pytest -s tests/benchmarks/bench_import.py   (KEFU_BENCH_IMPORT_ROWS=30000 by default)

test_bench_import_lock_hold: the write-lock hold time (BEGIN IMMEDIATE acquired -> COMMIT done) and
the -wal size afterwards, with a second connection open (the panel's), for
  before: the previous write path, reproduced here: plan + replies.create_reply per row inside one
          transaction (jieba, pypinyin and a per-row FTS5 delete+insert under the lock), no WAL limit
  after:  transfer.import_file (indexing before the transaction, bulk FTS inserts inside it, journal
          size limit + checkpoint)
test_bench_commands_during_import: a real `kefu replies import` process, and meanwhile a loop of
read and write `kefu` commands in other processes; failures are counted. KEFU_BENCH_CODE=/path/to/
a checkout runs the same loop against that code (e.g. the previous main) for the "before" figure.
Figures are printed with the load average; only correctness is asserted.
"""

from __future__ import annotations

import contextlib
import csv
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.core import replies, search, transfer
from assistant.core.store import open_store

N_ROWS = int(os.environ.get("KEFU_BENCH_IMPORT_ROWS", "30000"))
BASELINE = os.environ.get("KEFU_BENCH_IMPORT_BASELINE", "1") != "0"

PRODUCTS = ["连衣裙", "羽绒服", "运动鞋", "保温杯", "蓝牙耳机", "电饭煲", "面霜", "行李箱", "双肩包", "牛仔裤",
            "卫衣", "衬衫", "四件套", "空气炸锅", "扫地机器人", "积木", "猫粮", "手机壳", "充电宝", "电动牙刷"]
COLOURS = ["黑色", "白色", "燕麦色", "浅蓝色", "酒红色", "卡其色", "墨绿色", "雾霾蓝", "米白色", "藏青色"]
SIZES = ["S", "M", "L", "XL", "均码", "36码", "38码", "40码", "110cm"]
EXTRAS = ["已经帮您催单了，仓库今天会优先发出", "我这边马上帮您催一下快递", "现在下单送运费险，收到不合适可以换",
          "满199减20的优惠券可以叠加使用", "这款是现货，48小时内发货", "亲，七天无理由退换，放心购买"]


def make_file(path: Path, n: int, seed: int = 30000) -> Path:
    """Qianniu CSV: the shipped library's texts with products, colours and sizes filled in."""
    rng = random.Random(seed)
    library = replies.load_library_file(Path(__file__).resolve().parents[2] / "resources" / "library" / "default.json")
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["快捷短语编码", "快捷短语", "快捷短语分组"])
        for i in range(n):
            group, item = library[rng.randrange(len(library))]
            product = rng.choice(COLOURS) + rng.choice(PRODUCTS)
            body = item["body"].replace("{商品}", product) + f"【{product} {rng.choice(SIZES)} #{i}】{rng.choice(EXTRAS)}"
            w.writerow([f"b{i}" if rng.random() < 0.3 else "", body, "-".join(group)])
    return path


def _old_import(store, path: Path) -> None:
    """The write path import_file had before: everything, indexing included, inside the transaction."""
    data = transfer._parse(path, None)
    with store.write() as db:
        plan, targets, needed = transfer._make_plan(store, data, path, False)
        transfer._create_groups(store, db, data, targets, needed)
        for item in plan.to_add:
            replies.create_reply(store, body=item.body, title="", group=targets[item.group_key].uuid, code=item.code)


@contextlib.contextmanager
def _timed_writes(store, holds: list[float]):
    """Measure each top-level write transaction from BEGIN IMMEDIATE acquired to COMMIT done."""
    real = store.write

    @contextlib.contextmanager
    def write():
        if store.conn.in_transaction:
            with real() as db:
                yield db
            return
        started = None
        try:
            with real() as db:
                started = time.perf_counter()
                yield db
        finally:
            if started is not None:
                holds.append(time.perf_counter() - started)

    store.write = write
    try:
        yield
    finally:
        store.write = real


def _wal_mb(db: Path) -> float:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size / 1e6 if wal.exists() else 0.0


def _run(tmp_path: Path, name: str, csv_path: Path, old: bool) -> dict:
    db = tmp_path / name / "kefu.db"
    db.parent.mkdir()
    panel = open_store(db)
    importer = open_store(db)
    if old:  # the previous connections had no WAL limit
        for s in (panel, importer):
            s.conn.execute("PRAGMA journal_size_limit = -1")
    panel.query("SELECT count(*) FROM replies")  # the panel's connection: open, idle
    holds: list[float] = []
    cpu0, t0 = time.process_time(), time.perf_counter()
    try:
        with _timed_writes(importer, holds):
            if old:
                _old_import(importer, csv_path)
            else:
                transfer.import_file(importer, csv_path)
        total = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
        replies.create_reply(panel, body="导入后面板里保存的一条")  # the panel's next write
        count = replies.count_replies(panel)
    finally:
        importer.close()
        wal = _wal_mb(db)
        panel.close()
    return {"hold": max(holds), "total": total, "cpu": cpu, "wal": wal, "count": count}


@pytest.mark.benchmark
def test_bench_import_lock_hold(tmp_path):
    search.start_background_loading(tmp_path / "cache").join()
    csv_path = make_file(tmp_path / "replies.csv", N_ROWS)
    results = {}
    if BASELINE:
        results["before"] = _run(tmp_path, "before", csv_path, old=True)
    results["after"] = _run(tmp_path, "after", csv_path, old=False)
    print()
    print(f"import of {N_ROWS:,} rows (Qianniu CSV); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':8} {'write lock held':>16} {'whole import':>13} {'CPU':>8} {'-wal after, panel open':>24}")
    for label, r in results.items():
        print(f"{label:8} {r['hold']:>14.1f} s {r['total']:>11.1f} s {r['cpu']:>6.1f} s {r['wal']:>21.1f} MB")
        assert r["count"] == N_ROWS + 1
    if "before" in results:
        print(f"write lock held {results['before']['hold'] / results['after']['hold']:.1f}x shorter")


# ---------------------------------------------------------------- other commands during a real import

COMMANDS = [
    ("read", ["replies", "list", "--limit", "5"]),
    ("read", ["replies", "search", "快递", "--limit", "5"]),
    ("read", ["buyers", "list"]),
    ("read", ["due"]),
    ("read", ["kpi"]),
    ("write", ["replies", "add", "--body", "导入期间添加的回复 {n}"]),
    ("write", ["buyers", "star", "--platform", "taobao", "买家{n}"]),
    ("write", ["log", "add", "导入期间的日志 {n}"]),
]


@pytest.mark.benchmark
def test_bench_commands_during_import(tmp_path):
    code = Path(os.environ.get("KEFU_BENCH_CODE", Path(__file__).resolve().parents[2]))
    env = {**os.environ, "PYTHONPATH": str(code)}
    data = tmp_path / "data"
    csv_path = make_file(tmp_path / "replies.csv", N_ROWS)

    def kefu(*args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data), *args], env=env,
                              cwd=tmp_path, capture_output=True, text=True, **kw)

    first = kefu("-v", "replies", "list", "--limit", "1")  # seeds; jieba's cache written
    assert first.returncode == 0, first.stderr
    started = time.perf_counter()
    importer = subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(data), "replies", "import",
                                 str(csv_path)], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    runs = {"read": 0, "write": 0}
    failed: dict[str, list[str]] = {"read": [], "write": []}
    n = 0
    while importer.poll() is None:
        kind, args = COMMANDS[n % len(COMMANDS)]
        n += 1
        result = kefu(*(a.format(n=n) for a in args), timeout=900)
        runs[kind] += 1
        if result.returncode != 0:
            failed[kind].append(result.stderr.strip().splitlines()[-1][:140] if result.stderr.strip() else "?")
    out, err = importer.communicate()
    seconds = time.perf_counter() - started
    assert importer.returncode == 0, err
    print()
    print(f"commands during a {N_ROWS:,}-row `kefu replies import` ({seconds:.0f} s), code from {code}; "
          f"load average {os.getloadavg()[0]:.1f}")
    for kind in ("read", "write"):
        print(f"  {kind:5}: {runs[kind]:3} run, {len(failed[kind]):3} locked out")
    for message in sorted(set(failed["read"] + failed["write"]))[:5]:
        print(f"    e.g. {message}")
