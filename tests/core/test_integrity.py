"""Silent damage: corrupt pages refuse writes, a 0-byte or foreign kefu.db is refused, damaged backups
are refused (schema, foreign keys), errors are classified by SQLite's codes, stale partial backups go."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import cli
from assistant.core import backup, integrity, replies
from assistant.core.store import open_store, translate_sqlite_error


def _kefu(data: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--data-dir", str(data), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("replies", "buyers", "work_log", "handovers", "shifts")}
    finally:
        conn.close()


# ---------------------------------------------------------------- corrupt pages

@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """A data folder with the default library, a starred buyer, a shift with a log entry, and 20,000
    old reply uses (a table and an index many pages deep), checkpointed into the main file."""
    data = tmp_path_factory.mktemp("library") / "data"
    assert cli.main(["--data-dir", str(data), "buyers", "star", "小王", "--platform", "taobao"]) == 0
    assert cli.main(["--data-dir", str(data), "log", "add", "上午很忙"]) == 0
    conn = sqlite3.connect(data / "kefu.db")
    with conn:
        conn.executemany("INSERT INTO reply_uses (reply_id, used_at, via) VALUES (NULL, ?, 'panel')",
                         [(f"2020-01-{1 + i % 28:02d}T08:{i % 60:02d}:00.{i:06d}Z",) for i in range(20000)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return data


def corrupt_pages(db: Path, name: str) -> int:
    """What a disk fault looks like: 512 bytes of garbage in the middle of a leaf page of a table or
    index (the file header and the page header stay valid). Returns the page number."""
    conn = sqlite3.connect(db)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        leaves = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' "
                                             "ORDER BY pageno", (name,))]
    finally:
        conn.close()
    assert len(leaves) > 10, f"{name} should span many pages"
    page = leaves[len(leaves) // 2]
    with open(db, "r+b") as fh:  # no connection is open on it here
        fh.seek((page - 1) * page_size + page_size // 2 - 256)
        fh.write(random.Random(page).randbytes(512))
    return page


@pytest.fixture(params=["reply_uses", "reply_uses_time"])
def damaged(request, library, tmp_path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(library, data)
    corrupt_pages(data / "kefu.db", request.param)
    conn = sqlite3.connect(f"file:{data / 'kefu.db'}?mode=ro", uri=True)
    assert integrity.quick_check(conn), "the fixture must be damage quick_check sees"
    conn.close()
    return data


def test_reads_still_work_on_a_damaged_database(damaged, capsys):
    code, out, err = _kefu(damaged, capsys, "replies", "search", "快递", "--json")
    assert code == 0 and json.loads(out)
    code, out, _ = _kefu(damaged, capsys, "buyers", "list", "--json")
    assert code == 0 and [b["nickname"] for b in json.loads(out)] == ["小王"]


@pytest.mark.parametrize("command", [
    ("replies", "add", "--body", "新回复"),
    ("buyers", "star", "小李", "--platform", "taobao"),
    ("log", "add", "下午的记录"),
    ("handover", "export", "--dir", "{out}"),
])
def test_every_write_is_refused_with_restore_guidance(damaged, capsys, tmp_path, command):
    out_dir = tmp_path / "exported"
    before = _counts(damaged / "kefu.db")
    code, _, err = _kefu(damaged, capsys, *[a.replace("{out}", str(out_dir)) for a in command])
    assert code == 3, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "damaged" in err and "kefu restore" in err and "损坏" in err
    assert _counts(damaged / "kefu.db") == before
    assert not out_dir.exists() or not list(out_dir.iterdir()), "no handover files from a damaged database"


def test_doctor_reports_the_damage(damaged, capsys):
    code, out, _ = _kefu(damaged, capsys, "doctor", "--json")
    report = json.loads(out)
    assert code == 1 and report["integrity"] != ["ok"]
    assert any("integrity" in p for p in report["problems"])


# ---------------------------------------------------------------- when the check runs

def test_quick_check_runs_only_when_the_file_changed_outside_kefu(tmp_path, monkeypatch):
    calls = []
    real = integrity.quick_check
    monkeypatch.setattr(integrity, "quick_check", lambda conn: calls.append(1) or real(conn))
    db = tmp_path / "kefu.db"
    for n in range(3):  # a new database is recorded clean; kefu's commits, checkpoints, closes keep it so
        s = open_store(db)
        replies.create_reply(s, body=f"回复 {n}")
        replies.create_reply(s, body=f"又一条 {n}")
        s.close()
    assert calls == []
    other = sqlite3.connect(db)  # another program writes the file
    other.execute("INSERT INTO settings (key, value, updated_at) VALUES ('x', '1', 'y')")
    other.commit()
    other.close()
    s = open_store(db)
    replies.create_reply(s, body="之后")
    replies.create_reply(s, body="再之后")
    s.close()
    assert calls == [1], "checked once after the outside change, not before every write"
    stat = os.stat(db)
    os.utime(db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a sync client rewrote it
    s = open_store(db)
    assert s.query("SELECT count(*) AS n FROM replies")[0]["n"] == 8, "reads never wait for a check"
    assert calls == [1]
    replies.create_reply(s, body="最后")
    s.close()
    assert calls == [1, 1]


def test_a_read_only_transaction_does_not_check(tmp_path, monkeypatch):
    db = tmp_path / "kefu.db"
    open_store(db).close()
    os.utime(db, ns=(1, 1))
    calls = []
    monkeypatch.setattr(integrity, "quick_check", lambda conn: calls.append(1) or [])
    s = open_store(db)
    with s.write():
        s.query("SELECT count(*) FROM replies")
    s.close()
    assert calls == []


# ---------------------------------------------------------------- 0-byte and foreign files

def test_a_zero_byte_database_is_refused_not_recreated(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "kefu.db").write_bytes(b"")
    code, _, err = _kefu(data, capsys, "replies", "list")
    assert code == 3 and err.count("\n") == 1
    assert "empty (0 bytes)" in err and "kefu restore" in err and "0 字节" in err
    assert (data / "kefu.db").stat().st_size == 0
    assert not (data / "kefu.db-wal").exists()


def test_a_new_install_still_creates_the_database(tmp_path, capsys):
    data = tmp_path / "fresh"
    (data).mkdir()
    (data / ".kefu.db.new-999999").write_bytes(b"half a database from a killed first start")
    code, out, _ = _kefu(data, capsys, "replies", "list", "--json")
    assert code == 0 and len(json.loads(out)) >= 100
    assert sorted(p.name for p in data.iterdir() if p.name.startswith(".kefu.db.new")) == \
        [".kefu.db.new-999999"], "our own temporary file is gone; another process's is not ours to delete"
    assert integrity.read_record(data / "kefu.db") is not None


def test_the_first_start_never_leaves_a_half_made_database(tmp_path, monkeypatch):
    from assistant.core import migrations as migrations_mod

    def boom(db):  # the process dies during the first migration
        raise KeyboardInterrupt

    monkeypatch.setattr(migrations_mod.migrations, "apply", boom)
    with pytest.raises(KeyboardInterrupt):
        open_store(tmp_path / "kefu.db")
    assert not (tmp_path / "kefu.db").exists()
    monkeypatch.undo()
    open_store(tmp_path / "kefu.db").close()
    assert (tmp_path / "kefu.db").stat().st_size > 0


@pytest.mark.parametrize("kind", ["plain", "sqlite-utils app"])
def test_another_programs_sqlite_file_is_refused_and_untouched(tmp_path, capsys, kind):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "kefu.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('买菜')")
    if kind != "plain":
        conn.execute("CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT, "
                     "applied_at TEXT)")
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('notes', '0001', 'x')")
    conn.commit()
    conn.close()
    payload = db.read_bytes()
    code, _, err = _kefu(data, capsys, "replies", "list")
    assert code == 3 and err.count("\n") == 1
    assert "another program's SQLite database" in err and "其他程序" in err and "--data-dir" in err
    assert db.read_bytes() == payload, "not migrated, not even switched to WAL"


# ---------------------------------------------------------------- error classification

def test_row_text_never_classifies_or_reaches_the_message(tmp_path, capsys):
    data = tmp_path / "data"
    assert cli.main(["--data-dir", str(data), "buyers", "star", "小王", "--platform", "taobao"]) == 0
    capsys.readouterr()
    conn = sqlite3.connect(data / "kefu.db")
    nickname = "database disk image is malformed corrupt locked full \xff".encode("latin-1")
    conn.execute("UPDATE buyers SET nickname = CAST(? AS TEXT)", (nickname,))  # not valid UTF-8
    conn.commit()
    conn.close()
    code, _, err = _kefu(data, capsys, "buyers", "list")
    assert code == 3 and err.count("\n") == 1
    assert "corrupt" not in err and "损坏" not in err and "locked" not in err and "malformed" not in err
    assert "not valid UTF-8" in err and "kefu doctor" in err


@pytest.mark.parametrize("text", ["database is locked", "file is not a database", "database or disk is full",
                                  "attempt to write a readonly database"])
def test_a_message_without_a_code_is_never_guessed_from_its_text(tmp_path, text):
    err = translate_sqlite_error(sqlite3.OperationalError(text), tmp_path / "kefu.db")
    assert text not in err.en and "OperationalError" in err.en
    assert "locked" not in err.en and "corrupt" not in err.en and "full" not in err.en


def test_codes_classify_real_errors(tmp_path):
    db = tmp_path / "kefu.db"
    s = open_store(db)
    other = sqlite3.connect(db, timeout=0.05)
    other.execute("BEGIN IMMEDIATE")
    try:
        blocked = sqlite3.connect(db, timeout=0.05)
        with pytest.raises(sqlite3.OperationalError) as info:
            blocked.execute("BEGIN IMMEDIATE")
        assert "locked by another program" in translate_sqlite_error(info.value, db).en
        blocked.close()
    finally:
        other.rollback()
        other.close()
    with pytest.raises(sqlite3.IntegrityError) as info:
        s.conn.execute("INSERT INTO settings (key, value, updated_at) VALUES ('k', NULL, 'y')")
    assert "SQLITE_CONSTRAINT_NOTNULL" in translate_sqlite_error(info.value, db).en
    s.close()
    db2 = tmp_path / "garbage.db"
    db2.write_bytes(b"not a database at all" * 100)
    with pytest.raises(sqlite3.DatabaseError) as info:
        sqlite3.connect(db2).execute("SELECT * FROM sqlite_master")
    assert "corrupt" in translate_sqlite_error(info.value, db2).en


# ---------------------------------------------------------------- backups: schema and foreign keys

def _backup_of(tmp_path: Path, damage: str) -> Path:
    data = tmp_path / "src"
    assert cli.main(["--data-dir", str(data), "log", "add", "记录"]) == 0
    made = backup.create_backup(data / "kefu.db", tmp_path / "made")
    conn = sqlite3.connect(made)
    if damage == "dropped table":
        conn.execute("DROP TABLE work_log")
    elif damage == "dropped index":
        conn.execute("DROP INDEX replies_group")
    else:  # a reply in a group that does not exist (foreign keys are off on a plain connection)
        conn.execute("UPDATE replies SET group_id = 999999 WHERE id = (SELECT min(id) FROM replies)")
    conn.commit()
    conn.close()
    return made


@pytest.mark.parametrize("damage,expected", [("dropped table", "incomplete"), ("dropped index", "incomplete"),
                                             ("broken foreign key", "pointing at missing records")])
def test_restore_refuses_a_damaged_backup(tmp_path, capsys, damage, expected):
    bad = _backup_of(tmp_path, damage)
    live = tmp_path / "live"
    assert _kefu(live, capsys, "replies", "add", "--body", "本机的新回复", "--code", "mine")[0] == 0
    before = _counts(live / "kefu.db")
    code, _, err = _kefu(live, capsys, "restore", str(bad))
    assert code == 3 and err.count("\n") == 1 and expected in err
    assert _counts(live / "kefu.db") == before
    # and the library still works as before
    assert _kefu(live, capsys, "kpi")[0] == 0
    code, _, _ = _kefu(live, capsys, "replies", "export", str(tmp_path / "out.json"))
    assert code == 0


def test_doctor_reports_an_incomplete_schema_and_broken_foreign_keys(tmp_path, capsys):
    data = tmp_path / "data"
    assert _kefu(data, capsys, "log", "add", "记录")[0] == 0
    conn = sqlite3.connect(data / "kefu.db")
    conn.execute("DROP TABLE handovers")
    conn.execute("UPDATE replies SET group_id = 999999 WHERE id IN (SELECT id FROM replies LIMIT 2)")
    conn.commit()
    conn.close()
    code, out, _ = _kefu(data, capsys, "doctor", "--json")
    report = json.loads(out)
    assert code == 1
    assert "missing table handovers" in report["schema"]
    assert report["foreign_keys"] == {"replies": 2}
    assert any("schema incomplete" in p for p in report["problems"])
    assert any("missing records: replies: 2" in p for p in report["problems"])


def test_doctor_is_clean_on_a_good_database(tmp_path, capsys):
    data = tmp_path / "data"
    code, out, _ = _kefu(data, capsys, "doctor", "--json")
    report = json.loads(out)
    assert report["schema"] == "ok" and report["foreign_keys"] == "ok" and report["integrity"] == ["ok"]
    assert not [p for p in report["problems"] if "schema" in p or "records" in p]


def test_backup_of_a_database_with_broken_references_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    assert _kefu(data, capsys, "replies", "list")[0] == 0
    conn = sqlite3.connect(data / "kefu.db")
    conn.execute("UPDATE replies SET group_id = 999999 WHERE id = (SELECT min(id) FROM replies)")
    conn.commit()
    conn.close()
    code, _, err = _kefu(data, capsys, "backup", "--dir", str(tmp_path / "b"))
    assert code == 3 and "pointing at missing records" in err
    assert list((tmp_path / "b").iterdir()) == [], "no backup kept, no partial left"


def test_a_backup_from_an_older_version_is_accepted(tmp_path):
    """Restore expects what the backup's own migrations create; the rest is migrated on open."""
    from sqlite_utils import Database

    from assistant.core.migrations import migrations

    old = tmp_path / "old.db"
    db = Database(old)
    migrations.apply(db, stop_before="0004_handover")
    db.close()
    backup.verify(old)
    live = tmp_path / "live" / "kefu.db"
    open_store(live).close()
    backup.restore(live, old, tmp_path / "b")
    s = open_store(live)
    assert integrity.schema_problems(s.conn) == []
    s.close()


def test_expected_schema_comes_from_the_migrations(tmp_path):
    everything = integrity.expected_schema(tuple(integrity.registered_migrations()))
    assert ("table", "work_log") in everything and ("column", "buyers.phone") in everything
    assert ("index", "replies_code") in everything and ("trigger", "search_used_add") in everything
    s = open_store(tmp_path / "kefu.db")
    assert integrity.schema_problems(s.conn) == []
    s.close()


def test_the_shipped_schema_snapshot_is_what_the_migrations_make():
    """Fails when a migration was added without regenerating resources/schema/schema.json."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "packaging/make_schema_snapshot.py", "--check"], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    names = tuple(integrity.registered_migrations())
    assert integrity.expected_schema(names) == integrity.computed_schema(names)


def test_verifying_a_fully_migrated_backup_needs_no_sqlite_utils(tmp_path):
    """The daily backup's check compares with the snapshot: the panel does not import sqlite_utils (and
    the OpenSSL it pulls in through secrets/hmac) for the rest of the day (issue 17)."""
    open_store(tmp_path / "kefu.db").close()  # migrated here, in the test's process
    code = (f"import sys; from pathlib import Path; from assistant.core import backup;"
            f"print(backup.verify(Path({str(tmp_path / 'kefu.db')!r})),"
            f" sorted(m for m in sys.modules if m.startswith('sqlite_utils') or m == '_hashlib'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None []", proc.stdout


def test_a_partly_migrated_database_is_still_compared_with_its_own_migrations(tmp_path):
    names = tuple(integrity.registered_migrations())
    older = integrity.expected_schema(names[:-1])
    assert older == integrity.computed_schema(names[:-1]) and older != integrity.expected_schema(names)


# ---------------------------------------------------------------- stale partial backups

def test_stale_partials_are_cleaned_but_not_a_running_one(tmp_path, capsys):
    data = tmp_path / "data"
    folder = data / "backups"
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = folder / "kefu-20260101-080000-000000.partial"  # an older version's name: no pid
    orphan = folder / f"kefu-20260102-080000-000000.{dead.pid}.partial"
    orphan_journal = folder / f"kefu-20260102-080000-000000.{dead.pid}.partial-journal"
    running = folder / f"kefu-20260103-080000-000000.{os.getppid()}.partial"  # a live process
    mine = folder / f"kefu-20260104-080000-000000.{os.getpid()}.partial"  # this process: a live one
    for path in (old, orphan, orphan_journal, running, mine):
        path.write_bytes(b"x" * 4096)
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    code, out, _ = _kefu(data, capsys, "doctor", "--json")
    assert json.loads(out)["stale_partial_backups_removed"] == 3
    assert sorted(p.name for p in folder.iterdir()) == sorted([running.name, mine.name])
    os.utime(running, (two_hours_ago, two_hours_ago))
    assert _kefu(data, capsys, "backup")[0] == 0
    assert not running.exists(), "an hour-old partial is abandoned whoever wrote it"
    assert mine.exists()
    assert len(backup.list_backups(folder)) == 1


def test_a_killed_restore_leaves_a_partial_that_the_next_backup_removes(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    s = open_store(data / "kefu.db")
    replies.create_reply(s, body="一条")
    s.close()
    good = backup.create_backup(data / "kefu.db", tmp_path / "elsewhere")
    code = ("import sys, os, signal; from pathlib import Path; from assistant.core import backup\n"
            "real = backup.verify\n"
            "def verify(path):\n"
            "    if str(path).endswith('.partial'): os.kill(os.getpid(), signal.SIGKILL)\n"
            "    return real(path)\n"
            "backup.verify = verify\n"
            "backup.restore(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", code, str(data / "kefu.db"), str(good), str(data / "backups")],
                          env=env, timeout=60)
    assert proc.returncode == -9
    assert [p.suffix for p in (data / "backups").iterdir()] == [".partial"]
    backup.create_backup(data / "kefu.db", data / "backups")
    assert [p.suffix for p in (data / "backups").iterdir()] == [".db"]


@pytest.mark.parametrize("content", ["empty", "foreign"])
def test_restore_is_the_way_out_of_a_refused_file(tmp_path, capsys, content):
    src = tmp_path / "src"
    assert _kefu(src, capsys, "replies", "add", "--body", "备份里的回复", "--code", "bk")[0] == 0
    good = backup.create_backup(src / "kefu.db", tmp_path / "b")
    data = tmp_path / "data"
    data.mkdir()
    if content == "empty":
        (data / "kefu.db").write_bytes(b"")
    else:
        conn = sqlite3.connect(data / "kefu.db")
        conn.execute("CREATE TABLE notes (text TEXT)")
        conn.commit()
        conn.close()
    code, out, err = _kefu(data, capsys, "restore", str(good))
    assert code == 0, err
    assert list(data.glob("kefu.db.corrupt-*")), "the refused file is kept aside, not deleted"
    code, out, _ = _kefu(data, capsys, "replies", "show", "bk")
    assert code == 0 and "备份里的回复" in out
