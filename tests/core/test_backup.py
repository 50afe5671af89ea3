import os

import pytest

from assistant.core import backup, replies
from assistant.core.store import open_store
from assistant.errors import StoreError


def test_backup_rotates_and_is_verified(tmp_path, store, clock):
    replies.create_reply(store, body="备份里的内容", code="bk")
    folder = tmp_path / "backups"
    made = []
    for _ in range(5):
        clock.advance(1)
        made.append(backup.create_backup(store.path, folder, keep=3, clock=clock))
    kept = backup.list_backups(folder)
    assert [b.path for b in kept] == list(reversed(made[-3:]))
    backup.verify(kept[0].path)
    if os.name == "posix":
        assert oct(os.stat(kept[0].path).st_mode & 0o777) == "0o600"
    assert backup.last_backup_time(store.path) == clock.now()


def test_backup_while_another_connection_writes(tmp_path, store, clock):
    other = open_store(store.path, clock)
    with other.write():
        replies.create_reply(other, body="未提交的内容")
        path = backup.create_backup(store.path, tmp_path / "b", clock=clock)  # must not block on the writer
    other.close()
    snap = open_store(path)
    assert replies.count_replies(snap) == 0  # a consistent snapshot: the open transaction is not in it
    snap.close()


def test_restore_verifies_and_keeps_the_current_db(tmp_path, store, clock):
    replies.create_reply(store, body="旧版本", code="v1")
    folder = tmp_path / "backups"
    snapshot = backup.create_backup(store.path, folder, clock=clock)
    replies.create_reply(store, body="后来新增", code="v2")
    clock.advance(10)
    saved = backup.restore(store.path, snapshot, folder, clock=clock)
    assert {r.code for r in replies.list_replies(store)} == {"v1"}  # the open connection sees it
    old = open_store(saved)
    assert {r.code for r in replies.list_replies(old)} == {"v1", "v2"}
    old.close()


@pytest.mark.parametrize("content", [b"", b"not sqlite at all", b"SQLite format 3\x00" + b"\x00" * 50])
def test_restore_refuses_bad_files_and_changes_nothing(tmp_path, store, clock, content):
    replies.create_reply(store, body="必须保留", code="keep")
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    before = store.path.read_bytes()
    with pytest.raises(StoreError):
        backup.restore(store.path, bad, tmp_path / "backups", clock=clock)
    assert replies.get_reply(store, "keep").body == "必须保留"
    assert store.path.read_bytes() == before


def test_restore_refuses_a_foreign_sqlite_file(tmp_path, store, clock):
    import sqlite3

    foreign = tmp_path / "other.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as info:
        backup.restore(store.path, foreign, tmp_path / "b", clock=clock)
    assert "不是客服助手" in info.value.zh


def test_restore_over_a_corrupt_db_moves_it_aside(tmp_path, clock):
    db = tmp_path / "kefu.db"
    s = open_store(db, clock)
    replies.create_reply(s, body="好的备份", code="ok")
    snapshot = backup.create_backup(db, tmp_path / "b", clock=clock)
    s.close()
    db.write_bytes(b"garbage" * 1000)
    for extra in ("-wal", "-shm"):
        p = tmp_path / f"kefu.db{extra}"
        if p.exists():
            p.unlink()
    saved = backup.restore(db, snapshot, tmp_path / "b", clock=clock)
    assert saved is not None and saved.read_bytes() == b"garbage" * 1000
    s = open_store(db, clock)
    assert replies.get_reply(s, "ok").body == "好的备份"
    s.close()


def test_backup_due(store, clock):
    assert backup.backup_due(store.path, 24, clock)
    backup.create_backup(store.path, store.path.parent / "b", clock=clock)
    assert not backup.backup_due(store.path, 24, clock)
    clock.advance(25 * 3600)
    assert backup.backup_due(store.path, 24, clock)
    assert not backup.backup_due(store.path, 0, clock)


def test_auto_backup_follows_the_settings(tmp_path, store, clock):
    from assistant.core import settings

    default = tmp_path / "auto"
    first = backup.auto_backup(store, default)
    assert first is not None and first.parent == default
    assert backup.auto_backup(store, default) is None  # not due again yet
    clock.advance(23 * 3600)
    assert backup.auto_backup(store, default) is None
    clock.advance(2 * 3600)
    settings.set(store, "backup.dir", str(tmp_path / "elsewhere"))
    second = backup.auto_backup(store, default)
    assert second is not None and second.parent == tmp_path / "elsewhere"
    settings.set(store, "backup.interval_hours", 0)
    clock.advance(100 * 3600)
    assert backup.auto_backup(store, default) is None
