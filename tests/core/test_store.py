import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.core import replies
from assistant.core.migrations import migrations
from assistant.core.store import open_store
from assistant.errors import StoreError

REPO = Path(__file__).resolve().parents[2]


def test_fresh_store_has_schema_and_pragmas(store):
    tables = {name for (name,) in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"groups", "replies", "settings", "reply_uses"} <= tables
    assert store.conn.execute("PRAGMA recursive_triggers").fetchone()[0] == 1  # as sqlite_utils set it
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert [m.name for m in migrations.applied(store.db)][0] == "0001_initial"


def test_store_opens_without_sqlite_utils(tmp_path):
    """Issue 17: an up-to-date database is opened, read and written without importing sqlite_utils
    (~12 MB); migrating imports it."""
    db = tmp_path / "kefu.db"
    open_store(db).close()
    code = ("import sys; from assistant.core.store import open_store; s = open_store(sys.argv[1]); "
            "s.conn.execute('SELECT 1'); "
            "exec('with s.write() as db: db.execute(\"INSERT INTO settings (key, value, updated_at) VALUES (1, 2, 3)\")'); "
            "print('sqlite_utils' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(db)], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_reopening_applies_nothing_again(tmp_path, clock):
    s = open_store(tmp_path / "kefu.db", clock)
    replies.create_reply(s, body="在的亲", code="zd")
    before = [m.name for m in migrations.applied(s.db)]
    s.close()
    s2 = open_store(tmp_path / "kefu.db", clock)
    assert [m.name for m in migrations.applied(s2.db)] == before
    assert migrations.pending(s2.db) == []
    assert replies.get_reply(s2, "zd").body == "在的亲"
    s2.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_database_is_private(tmp_path, clock):
    s = open_store(tmp_path / "kefu.db", clock)
    replies.create_reply(s, body="x")
    mode = stat.S_IMODE(os.stat(tmp_path / "kefu.db").st_mode)
    assert mode == 0o600
    s.close()


def test_garbage_file_is_reported_and_untouched(tmp_path):
    path = tmp_path / "kefu.db"
    payload = b"this is my shopping list, not a database" * 10
    path.write_bytes(payload)
    with pytest.raises(StoreError) as info:
        open_store(path)
    assert "损坏" in info.value.zh and "corrupt" in info.value.en
    assert path.read_bytes() == payload


def test_damaged_database_is_reported_and_untouched(tmp_path, clock):
    path = tmp_path / "kefu.db"
    s = open_store(path, clock)
    for i in range(200):
        replies.create_reply(s, body=f"回复 {i} " * 20)
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    data = bytearray(path.read_bytes())
    # Keep the header, wreck the schema page and beyond.
    data[100:4096 * 3] = b"\xff" * (4096 * 3 - 100)
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as info:
        open_store(path)
    assert "kefu restore" in info.value.zh
    assert path.read_bytes() == bytes(data)


def test_locked_database_gives_clear_error(tmp_path, clock, monkeypatch):
    import assistant.core.store as store_mod

    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "kefu.db"
    s = open_store(path, clock)
    other = sqlite3.connect(str(path))
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError) as info:
            replies.create_reply(s, body="会被锁住")
        assert "占用" in info.value.zh and "locked" in info.value.en
    finally:
        other.rollback()
        other.close()
    assert replies.count_replies(s) == 0
    s.close()


def test_failed_write_rolls_back_everything(store):
    replies.create_reply(store, body="第一条", code="a1")
    with pytest.raises(RuntimeError), store.write():
        replies.create_reply(store, body="第二条", code="a2")
        raise RuntimeError("crash in the middle")
    assert [r.code for r in replies.list_replies(store)] == ["a1"]


def test_sync_folder_warning(tmp_path):
    target = tmp_path / "OneDrive" / "kefu"
    s = open_store(target / "kefu.db")
    assert any("sync" in en for _, en in s.warnings)
    s.close()


def test_data_version_sees_other_connections(tmp_path, clock):
    a = open_store(tmp_path / "kefu.db", clock)
    b = open_store(tmp_path / "kefu.db", clock)
    v = a.data_version()
    replies.create_reply(b, body="另一个进程写入")
    assert a.data_version() != v
    a.close()
    b.close()


def test_a_second_store_does_not_drop_the_first_ones_locks(tmp_path, clock):
    """Regression: sniffing the header with open()/close() released this process's fcntl locks, so
    another process closing its connection deleted the WAL under the running app."""
    import subprocess
    import sys

    db = tmp_path / "kefu.db"
    app_store = open_store(db, clock)
    replies.create_reply(app_store, body="面板里的回复", code="p1")
    second = open_store(db, clock)  # several at once: the app's worker, the start-up read, the CLI
    code = ("import sys; from assistant.core.store import open_store; from assistant.core import replies; "
            "s = open_store(sys.argv[1]); replies.create_reply(s, body='命令行新增', code='c1'); s.close()")
    subprocess.run([sys.executable, "-c", code, str(db)], check=True, timeout=60)
    assert (tmp_path / "kefu.db-wal").exists() and (tmp_path / "kefu.db-shm").exists()
    assert replies.get_reply(app_store, "c1").body == "命令行新增"
    replies.create_reply(app_store, body="之后的写入", code="p2")
    second.close()
    app_store.close()
    check = open_store(db, clock)
    assert {r.code for r in replies.list_replies(check)} == {"p1", "c1", "p2"}
    assert check.integrity_check() == ["ok"]
    check.close()


def test_migrations_are_frozen_and_never_import_the_indexer(tmp_path):
    """A migration must not call live code that may change later (search's indexer above all):
    migrating a library with replies through 0002 imports neither search nor jieba."""
    import ast

    import assistant.core.migrations as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported <= {"__future__", "sqlite_utils", "sqlite3", "collections.abc", "typing"}, imported
    code = textwrap.dedent(f"""
        import sqlite3, sys
        from sqlite_utils import Database
        from assistant.core.migrations import migrations
        db = Database(sqlite3.connect({str(tmp_path / 'old.db')!r}))
        migrations.apply(db, stop_before="0002_search_index")
        db.execute("INSERT INTO groups (id, uuid, name, created_at, updated_at) VALUES (1, 'g', 'g', 'x', 'x')")
        db.execute("INSERT INTO replies (uuid, group_id, title, body, created_at, updated_at) "
                   "VALUES ('r', 1, '快递', '顺丰', 'x', 'x')")
        migrations.apply(db)
        assert [m.name for m in migrations.applied(db)][-16:] == ["0002_search_index", "0005_row_uuids",
                                                                 "0006_team_sync", "0007_team_buyers",
                                                                 "0008_team_reminders", "0009_aftersales",
                                                                 "0010_reply_compliance", "0011_buyer_mood",
                                                                 "0012_team_aftersales", "0013_products",
                                                       "0014_promotion_calls", "0015_unpaid_orders",
                                                       "0016_team_products_synonyms", "0017_team_orders",
                                                       "0018_lean_search_index", "0019_packed_search_docs"]
        print(sorted(m for m in sys.modules if m in ("assistant.core.search", "jieba", "pypinyin")))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
