"""Is the database file sound? Page checks, schema completeness, foreign keys, and a record of the
last clean check.

When it runs (figures from tests/benchmarks/bench_integrity.py at 100,000 replies, a 312 MB file):
- PRAGMA quick_check reads every page: ~0.85 s; integrity_check also compares every index with its
  table: ~1.15 s. Either is far too slow for every `kefu` command that writes.
- So a Store checks before the first COMMIT that changes something, and runs quick_check only when
  the file changed outside kefu's control: every kefu connection that changes the main file (a
  commit's checkpoint, the last connection's close, a restore) records the file's fingerprint
  (device, inode, size, mtime) in `kefu.db.checked`; a file whose fingerprint differs from the
  record was written by something else (a sync client, a copy, a disk tool) and is checked again.
  The usual cost is two os.stat calls and reading a 100-byte file: ~0.02 ms. The check runs inside the
  write transaction, so nothing can change between it and the COMMIT; a read-only transaction never
  checks.
- The panel runs a full quick_check once per start, after the first frame and on its own thread
  (writes wait for it), which also catches a fault that changed no fingerprint (a bad sector).
- `kefu doctor` runs integrity_check, the schema check and foreign_key_check; so do `kefu backup`,
  automatic backups and `kefu restore` on the backup file. `kefu doctor` also runs FTS5's own
  'integrity-check' of the search index (fts_problems; `kefu doctor --reindex` rebuilds it).
Reads are never refused: a damaged library can still be searched and exported.

Never open() the live database file here (store.py explains why): os.stat and SQLite only.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ..errors import StoreError

log = logging.getLogger(__name__)

RECORD_SUFFIX = ".checked"
MAX_PROBLEMS = 20
MIGRATIONS_TABLE = "_sqlite_migrations"
MIGRATION_SET = "kefu"


def damaged(path: Path) -> StoreError:
    return StoreError(
        f"数据库已损坏（完整性检查未通过）：{path}。为免损坏扩散，本次修改未保存；仍可查看和导出。"
        "请用 `kefu backup --list` 找到最近的备份，再用 `kefu restore 备份文件` 恢复。",
        f"The database is damaged (integrity check failed): {path}. Nothing was saved, so the damage "
        "cannot spread; reading and exporting still work. Find a recent backup with `kefu backup --list` "
        "and restore it with `kefu restore BACKUP`.",
    )


# ---------------------------------------------------------------- page checks

def _page_check(conn: sqlite3.Connection, pragma: str) -> list[str]:
    try:
        rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [f"{pragma} failed: {getattr(exc, 'sqlite_errorname', None) or type(exc).__name__}"]
    return [] if rows == ["ok"] else rows


def quick_check(conn: sqlite3.Connection) -> list[str]:
    """[] when every page is sound, else SQLite's findings (page numbers, never row text)."""
    return _page_check(conn, "quick_check")


def integrity_check(conn: sqlite3.Connection) -> list[str]:
    """quick_check plus index contents against their tables (about twice as long)."""
    return _page_check(conn, "integrity_check")


# ---------------------------------------------------------------- full-text (FTS5) indexes

_FTS5_RE = re.compile(r"\busing\s+fts5\s*\(", re.IGNORECASE)
_CONTENT_RE = re.compile(r"\bcontent\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|(\w+))", re.IGNORECASE)


def fts5_tables(conn: sqlite3.Connection) -> list[tuple[str, str | None]]:
    """(name, content) of every FTS5 table: content is None for a table holding its own text, "" for a
    contentless one, else the external content table's name."""
    out: list[tuple[str, str | None]] = []
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL "
                                  "ORDER BY name"):
        if not _FTS5_RE.search(sql):
            continue
        found = _CONTENT_RE.search(sql)
        out.append((name, None if found is None else next(g for g in found.groups() if g is not None)))
    return out


def fts_problems(conn: sqlite3.Connection) -> list[str] | None:
    """FTS5's own 'integrity-check' of every full-text index (PRAGMA integrity_check of SQLite 3.40
    does not look inside them): [] when sound, else "<table>: <SQLite error name>". An external
    content table is also compared with its content table (rank 1); a contentless one only with
    itself. Reads the whole index: ~seconds at 100,000 replies, for `kefu doctor` only.

    The check is an INSERT, so it needs the write lock: None (not checked) when another connection
    holds it (an import), at once rather than after the busy timeout."""
    problems: list[str] = []
    outside = not conn.in_transaction
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        for name, content in fts5_tables(conn):
            quoted = '"' + name.replace('"', '""') + '"'
            sql = (f"INSERT INTO {quoted} ({quoted}, rank) VALUES ('integrity-check', 1)" if content
                   else f"INSERT INTO {quoted} ({quoted}) VALUES ('integrity-check')")
            try:
                conn.execute(sql)
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    return None
                problems.append(f"{name}: {getattr(exc, 'sqlite_errorname', None) or type(exc).__name__}")
            except sqlite3.DatabaseError as exc:
                problems.append(f"{name}: {getattr(exc, 'sqlite_errorname', None) or type(exc).__name__}")
            finally:
                # the sqlite3 module opened a transaction for the "INSERT" (it writes nothing): end it
                if outside and conn.in_transaction:
                    conn.execute("ROLLBACK")
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    return problems


# ---------------------------------------------------------------- "last checked clean" record

def fingerprint(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def _record_path(path: Path) -> Path:
    return Path(str(path) + RECORD_SUFFIX)


def read_record(path: Path) -> tuple[list[int], bool] | None:
    """(fingerprint, clean) of the last check, or None."""
    try:
        data = json.loads(_record_path(path).read_text(encoding="utf-8"))
        return [int(x) for x in data["fingerprint"]], bool(data["clean"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_record(path: Path, fp: list[int] | None, clean: bool) -> None:
    if fp is None:
        return
    target = _record_path(path)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(OSError):  # a read-only folder: the next writer just checks again
        tmp.write_text(json.dumps({"fingerprint": fp, "clean": clean}), encoding="utf-8")
        os.replace(tmp, target)
    with contextlib.suppress(OSError):
        tmp.unlink()


def advance_record(path: Path, before: list[int] | None, after: list[int] | None) -> None:
    """kefu itself changed the file from `before` to `after`: carry a clean record along."""
    if before is None or after is None or before == after:
        return
    record = read_record(path)
    if record is not None and record[1] and record[0] == before:
        write_record(path, after, True)


@contextlib.contextmanager
def own_change(path: Path) -> Iterator[None]:
    """Wrap a change kefu makes to the file (a commit that may checkpoint, a close)."""
    before = fingerprint(path)
    try:
        yield
    finally:
        advance_record(path, before, fingerprint(path))


def check_before_write(conn: sqlite3.Connection, path: Path) -> None:
    """Raise StoreError (damaged) unless the file is recorded clean as it is now, or passes quick_check."""
    fp = fingerprint(path)
    record = read_record(path)
    if record is not None and record[0] == fp:
        if record[1]:
            return
        raise damaged(path)
    problems = quick_check(conn)
    write_record(path, fp, not problems)
    if problems:
        log.error("quick_check found %d problems; writes refused", len(problems))
        raise damaged(path)
    log.info("quick_check passed (the file had changed since the last check)")


def check_file(path: Path) -> list[str]:
    """The panel's start-up check: quick_check on a connection of its own, result recorded. An error that
    is not about damage (locked, unreadable) finds nothing: the writes themselves will report it."""
    fp = fingerprint(path)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            problems = quick_check(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF not in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
            return []
        problems = [getattr(exc, "sqlite_errorname", "SQLITE_CORRUPT")]
    write_record(path, fp, not problems)
    if problems:
        log.error("start-up quick_check found %d problems; writes refused", len(problems))
    return problems


def raise_if_damaged(path: Path) -> None:
    if check_file(path):
        raise damaged(path)


# ---------------------------------------------------------------- schema and foreign keys

def _schema(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    """Every table, index, trigger and view by name, and every column as ("column", "table.name")."""
    objects: set[tuple[str, str]] = set()
    rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    for kind, name in rows:
        objects.add((kind, name))
        if kind == "table":
            quoted = '"' + name.replace('"', '""') + '"'
            for col in conn.execute(f"PRAGMA table_xinfo({quoted})").fetchall():
                objects.add(("column", f"{name}.{col[1]}"))
    return objects


def registered_migrations() -> list[str]:
    from .migrations import migrations

    return migrations.names()


SCHEMA_SNAPSHOT = "schema.json"  # resources/schema/: made by packaging/make_schema_snapshot.py


@functools.lru_cache(maxsize=1)
def _snapshot() -> tuple[tuple[str, ...], frozenset[tuple[str, str]]] | None:
    """The shipped schema of a fully migrated database; None when absent or unreadable."""
    from ..paths import resource_path

    try:
        data = json.loads(resource_path("schema", SCHEMA_SNAPSHOT).read_text(encoding="utf-8"))
        return tuple(data["migrations"]), frozenset((str(k), str(n)) for k, n in data["objects"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def expected_schema(applied: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    """What a database with these migrations applied must contain. A fully migrated one (every backup
    the panel makes) is compared with the shipped snapshot, which a test keeps equal to
    computed_schema(); any other set of migrations is computed."""
    snapshot = _snapshot()
    if snapshot is not None and snapshot[0] == applied and list(applied) == registered_migrations():
        return snapshot[1]
    return computed_schema(applied)


@functools.lru_cache(maxsize=8)
def computed_schema(applied: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    """A fresh in-memory database migrated as far (sqlite_utils), never a hand-written list."""
    from sqlite_utils import Database

    from .migrations import migrations

    registered = registered_migrations()
    stop = next((name for name in registered if name not in applied), None)
    db = Database(memory=True)
    try:
        migrations.apply(db, stop_before=stop) if stop else migrations.apply(db)
        return frozenset(_schema(db.conn))
    finally:
        db.close()


def applied_migrations(conn: sqlite3.Connection) -> list[str] | None:
    """Our migrations recorded in the file, in order; None when it has no migrations table."""
    has = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)).fetchone()
    if not has:
        return None
    return [r[0] for r in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
                                       (MIGRATION_SET,))]


def schema_problems(conn: sqlite3.Connection) -> list[str]:
    """What is missing against the migrations the file says it has (names only)."""
    applied = applied_migrations(conn)
    if not applied:
        return ["not a kefu-assistant database (no kefu migrations recorded)"]
    registered = registered_migrations()
    unknown = [name for name in applied if name not in registered]
    if unknown:
        return [f"made by a newer kefu-assistant (migration {unknown[0]})"]
    if applied != registered[:len(applied)]:
        return ["migrations recorded out of order: " + ", ".join(applied)]
    missing = expected_schema(tuple(applied)) - _schema(conn)
    return [f"missing {kind} {name}" for kind, name in sorted(missing)][:MAX_PROBLEMS]


def foreign_key_problems(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows pointing at a missing parent, counted per table ({} when none)."""
    counts: dict[str, int] = {}
    for row in conn.execute("PRAGMA foreign_key_check").fetchall():
        counts[row[0]] = counts.get(row[0], 0) + 1
    return counts


def describe_foreign_keys(counts: dict[str, int]) -> str:
    return ", ".join(f"{table}: {n}" for table, n in sorted(counts.items()))
