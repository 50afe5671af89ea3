"""Who can read and write when: reading commands while another connection holds the write lock,
a read-only data folder, the lock message naming kefu's own import, and the WAL's size."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import cli
from assistant.core import holder, replies
from assistant.core import store as store_mod
from assistant.core.store import JOURNAL_SIZE_LIMIT, open_store
from assistant.errors import StoreBusyError, StoreError


def _run(data: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["--data-dir", str(data), *args])
    return code, out.getvalue(), err.getvalue()


def _populate(data: Path) -> None:
    for args in (("replies", "add", "--body", "亲，已经帮您催快递了", "--code", "zz1"),
                 ("buyers", "star", "--platform", "taobao", "小王", "--phone", "13812345678"),
                 ("log", "add", "交接：小王的退款"),
                 ("handover", "export", "--dir", str(data.parent / "first-export"))):
        code, _, err = _run(data, *args)
        assert code == 0, err


# Every command that only reads (exports write files, never the database).
READING = [
    ("replies", "list"), ("replies", "search", "快递"), ("replies", "show", "zz1"), ("groups", "list"),
    ("replies", "export", "{out}/replies.csv"), ("replies", "export", "{out}/replies.json"),
    ("backup", "--list"), ("doctor",), ("settings",), ("buyers", "list"), ("buyers", "show", "小王"),
    ("buyers", "marks"), ("due",), ("promo", "list"), ("cadences",), ("shift", "status"), ("log", "list"),
    ("kpi",),
]


@pytest.fixture
def short_busy_timeout(monkeypatch):
    # A command that still asks for the write lock fails in 0.2 s instead of 5 s.
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_MS", 200)


def test_reading_commands_work_while_another_connection_holds_the_write_lock(tmp_path, short_busy_timeout):
    data = tmp_path / "data"
    _populate(data)
    out = tmp_path / "out"
    out.mkdir()
    other = sqlite3.connect(data / "kefu.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # what an import's transaction does
    try:
        failed = []
        for args in READING:
            code, _, err = _run(data, *(a.format(out=out) for a in args))
            if code != 0:
                failed.append((" ".join(args), err.strip()))
        assert failed == []
        code, _, err = _run(data, "replies", "add", "--body", "写不进去")
        assert code == 3 and err.count("\n") == 1 and "locked" in err
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (out / "replies.csv").read_text(encoding="utf-8-sig").count("催快递") == 1


def test_seeding_reads_first_and_writes_only_once(tmp_path):
    s = open_store(tmp_path / "kefu.db")
    try:
        assert replies.seed_defaults(s) > 100
        before = s.conn.total_changes
        other = sqlite3.connect(tmp_path / "kefu.db", isolation_level=None, timeout=0.1)
        other.execute("BEGIN IMMEDIATE")
        try:
            s.conn.execute("PRAGMA busy_timeout = 100")
            assert replies.seed_defaults(s) == 0  # would fail "locked" if it asked for the lock
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert s.conn.total_changes == before
    finally:
        s.close()


def test_an_up_to_date_database_opens_without_the_write_lock(tmp_path, short_busy_timeout):
    open_store(tmp_path / "kefu.db").close()
    other = sqlite3.connect(tmp_path / "kefu.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        s = open_store(tmp_path / "kefu.db")
        assert s.query("SELECT count(*) AS n FROM replies")[0]["n"] == 0
        s.close()
    finally:
        other.execute("ROLLBACK")
        other.close()


# ---------------------------------------------------------------- the lock message


def test_busy_message_names_kefus_import_when_its_marker_is_live(tmp_path, short_busy_timeout):
    db = tmp_path / "kefu.db"
    open_store(db).close()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    s = open_store(db)
    try:
        with pytest.raises(StoreBusyError) as plain:
            replies.create_reply(s, body="x")
        assert "another program" in plain.value.en and plain.value.holder_pid is None
        with holder.marked(db):
            assert holder.marker_path(db).exists()
            with pytest.raises(StoreBusyError) as ours:
                replies.create_reply(s, body="x")
        assert ours.value.holder_pid == os.getpid()
        assert f"kefu is importing replies (process {os.getpid()})" in ours.value.en
        assert f"kefu 正在导入回复（进程 {os.getpid()}）" in ours.value.zh
        assert not holder.marker_path(db).exists()  # removed in the finally
    finally:
        s.close()
        other.execute("ROLLBACK")
        other.close()


def test_a_stale_marker_is_ignored(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    holder.marker_path(tmp_path / "kefu.db").write_text(json.dumps({"pid": pid, "started": time.time()}))
    assert holder.live_holder(tmp_path / "kefu.db") is None
    holder.marker_path(tmp_path / "kefu.db").write_text(json.dumps({"pid": os.getpid(), "started": time.time()}))
    assert holder.live_holder(tmp_path / "kefu.db").pid == os.getpid()
    holder.marker_path(tmp_path / "kefu.db").write_text("{half")
    assert holder.live_holder(tmp_path / "kefu.db") is None


# ---------------------------------------------------------------- WAL size


def _wal(db: Path) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


def _big_write(s, n: int = 3000) -> None:
    with s.write() as db:
        db.execute("CREATE TABLE IF NOT EXISTS ballast (x BLOB)")
        db.conn.executemany("INSERT INTO ballast VALUES (randomblob(8000))", [()] * n)
        db.execute("DELETE FROM ballast")


def test_wal_shrinks_after_a_big_write_while_the_panel_keeps_its_connection(tmp_path):
    db = tmp_path / "kefu.db"
    panel = open_store(db)
    panel.query("SELECT count(*) FROM replies")  # an open, used, idle connection
    cli_store = open_store(db)
    try:
        _big_write(cli_store)  # ~24 MB through the WAL
        assert _wal(db) > JOURNAL_SIZE_LIMIT  # it did grow
        assert cli_store.checkpoint()  # what import_file does after a big import
        assert _wal(db) < JOURNAL_SIZE_LIMIT
        cli_store.close()
        # Without the explicit checkpoint, the limit still cuts the file at the next write.
        _big_write(panel)
        assert _wal(db) > JOURNAL_SIZE_LIMIT
        replies.create_group(panel, "小写入")  # the checkpoint after the big write reset the WAL
        replies.create_group(panel, "再一次")
        assert _wal(db) <= JOURNAL_SIZE_LIMIT
    finally:
        panel.close()
        cli_store.close()


def test_every_connection_sets_the_journal_size_limit(tmp_path):
    s = open_store(tmp_path / "kefu.db")
    try:
        assert s.conn.execute("PRAGMA journal_size_limit").fetchone()[0] == JOURNAL_SIZE_LIMIT
    finally:
        s.close()


# ---------------------------------------------------------------- a read-only data folder


@contextlib.contextmanager
def read_only_view(folder: Path, view: Path):
    """`folder` as the kernel refuses to write it: a read-only bind mount at `view` when we are root
    (root ignores permission bits: EROFS still bites), else the folder itself with the write bits
    removed (EACCES)."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield folder
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    view.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(folder), str(view)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"a read-only bind mount is needed for this test (root without CAP_SYS_ADMIN?): {mounted.stderr}")
    try:
        remount = subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], capture_output=True, text=True)
        assert remount.returncode == 0, remount.stderr
        probe = view / "probe"
        with pytest.raises(OSError):
            probe.write_text("x")
        yield view
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_reading_and_exporting_work_in_a_read_only_data_folder(tmp_path):
    data = tmp_path / "data"
    _populate(data)
    out = tmp_path / "out"
    out.mkdir()
    with read_only_view(data, tmp_path / "ro") as ro:
        assert not Path(f"{ro / 'kefu.db'}-shm").exists()  # closed cleanly: immutable is the only way in
        for args in (("replies", "list", "--json"), ("replies", "search", "快递", "--json"), ("replies", "show", "zz1"),
                     ("doctor", "--json"), ("buyers", "list"), ("due",), ("kpi",)):
            code, stdout, err = _run(ro, *args)
            assert code == 0 and err == "", (args, err)
            if args[0] == "doctor":
                assert json.loads(stdout)["read_only"] is True
        code, stdout, _ = _run(ro, "replies", "search", "快递", "--json")
        assert any(r["code"] == "zz1" for r in json.loads(stdout))
        assert _run(ro, "replies", "export", str(out / "replies.json"))[0] == 0
        assert _run(ro, "handover", "export", "--dir", str(out / "handover"))[0] == 0
        assert len(list((out / "handover").glob("交接班_*"))) == 3
        for args in (("replies", "add", "--body", "新的"), ("buyers", "star", "--platform", "jd", "小李"), ("handover", "export", "--end-shift")):
            code, _, err = _run(ro, *args)
            assert code == 3 and err.count("\n") == 1, (args, err)
            assert f"The data folder is read-only; nothing can be saved: {ro}" in err and "数据目录是只读的" in err
    doc = json.loads((out / "replies.json").read_text(encoding="utf-8"))
    assert any(r["code"] == "zz1" for r in doc["replies"])
    assert _run(data, "replies", "list", "--json")[0] == 0  # the original folder is untouched and writable


def test_read_only_store_refuses_writes_before_touching_anything(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    s = open_store(data / "kefu.db")
    replies.create_reply(s, body="旧的", code="old")
    s.close()
    with read_only_view(data, tmp_path / "ro") as ro:
        s = open_store(ro / "kefu.db")
        try:
            assert s.read_only
            assert replies.get_reply(s, "old").body == "旧的"
            with pytest.raises(StoreError, match="read-only"):
                replies.create_reply(s, body="新的")
            assert replies.seed_defaults(s) == 0
        finally:
            s.close()
