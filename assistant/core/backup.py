"""Backups with SQLite's online backup API, rotation, and a verified restore.

A backup is a consistent snapshot even while the panel is writing (the backup API copies pages
under SQLite's own locking). Restore verifies the file first and writes into the live database
through the same API, in one step, after saving the current state as another backup: nothing is
lost if the chosen file turns out to be the wrong one.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import StoreError
from . import integrity, private
from .clock import Clock, SystemClock, from_db, to_db
from .store import BUSY_TIMEOUT_MS, SQLITE_HEADER, translate_sqlite_error

PREFIX = "kefu-"
SUFFIX = ".db"
PARTIAL = ".partial"
STALE_PARTIAL_S = 3600  # no backup of a local database takes an hour; a copy left that long was abandoned
LAST_BACKUP_KEY = "backup.last"


@dataclass
class BackupInfo:
    path: Path
    size: int
    created: datetime


def _stamp(clock: Clock) -> str:
    return clock.now().astimezone().strftime("%Y%m%d-%H%M%S-%f")


def _private(path: Path) -> None:
    if os.name == "posix":
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def verify(path: Path) -> None:
    """Raise StoreError unless path is an intact kefu database: every page (integrity_check), every
    table, column, index and trigger its migrations create (integrity.schema_problems), and every
    foreign key (foreign_key_check). A backup missing a table or holding a dangling reference would
    restore into a library that fails later (`kpi`, `handover export`, `replies export`)."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"找不到备份文件：{path}", f"Backup file not found: {path}")
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_HEADER:
            raise StoreError(f"不是有效的数据库备份：{path}", f"Not a valid database backup: {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = integrity.integrity_check(conn)
            applied = None if result else integrity.applied_migrations(conn)
            schema = integrity.schema_problems(conn) if applied else []
            foreign = integrity.foreign_key_problems(conn) if applied and not schema else {}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        label = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
        raise StoreError(f"备份文件已损坏：{path}（{label}）", f"The backup file is damaged: {path} ({label})") from exc
    if result:
        raise StoreError(f"备份文件完整性检查失败：{path}", f"The backup failed its integrity check: {path}")
    if not applied:
        raise StoreError(f"这不是客服助手的数据库备份：{path}", f"Not a kefu-assistant backup: {path}")
    if schema:
        raise StoreError(f"备份文件不完整（{'；'.join(schema[:3])}）：{path}",
                         f"The backup is incomplete ({'; '.join(schema[:3])}): {path}")
    if foreign:
        text = integrity.describe_foreign_keys(foreign)
        raise StoreError(f"备份文件中有指向不存在记录的数据（{text}）：{path}",
                         f"The backup has rows pointing at missing records ({text}): {path}")


def _copy_db(source: sqlite3.Connection, target_path: Path) -> None:
    target = sqlite3.connect(str(target_path))
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")  # a backup is one self-contained file
    finally:
        target.close()


def create_backup(db_path: Path, folder: Path, keep: int = 10, clock: Clock | None = None) -> Path:
    """Snapshot db_path into folder/kefu-<stamp>.db, verify it, and keep only the newest `keep`."""
    clock = clock or SystemClock()
    private.make_dirs(folder)
    clean_stale_partials(folder)
    final = folder / f"{PREFIX}{_stamp(clock)}{SUFFIX}"
    partial = final.with_suffix(f".{os.getpid()}{PARTIAL}")  # the pid tells a live copy from a killed one
    try:
        source = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            _copy_db(source, partial)
        finally:
            source.close()
        _private(partial)
        verify(partial)
        os.replace(partial, final)
        _fsync_dir(folder)
    except sqlite3.Error as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise translate_sqlite_error(exc, db_path) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    _record_last_backup(db_path, clock)
    rotate(folder, keep)
    return final


def _record_last_backup(db_path: Path, clock: Clock) -> None:
    with contextlib.suppress(sqlite3.Error), integrity.own_change(db_path):
        conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) "
                         "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                         (LAST_BACKUP_KEY, f'"{to_db(clock.now())}"', to_db(clock.now())))
            conn.execute("COMMIT")
        finally:
            conn.close()


def _alive(pid: int) -> bool:
    if os.name != "posix":
        return True  # no safe probe without extra APIs: the age decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def clean_stale_partials(folder: Path, now: float | None = None) -> list[Path]:
    """Delete the half-written copies a killed backup or restore left (kefu-….partial, up to the
    database's size each): those whose writer process is gone, or older than STALE_PARTIAL_S. A copy
    a running backup is writing right now is kept."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time() if now is None else now
    for path in folder.glob(f"{PREFIX}*{PARTIAL}*"):
        name = path.name.split(PARTIAL)[0]
        pid_text = name.rsplit(".", 1)[-1] if "." in name else ""
        try:
            old = now - path.stat().st_mtime > STALE_PARTIAL_S
        except OSError:
            continue
        orphan = pid_text.isdigit() and int(pid_text) != os.getpid() and not _alive(int(pid_text))
        if old or orphan:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def list_backups(folder: Path) -> list[BackupInfo]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        stat = path.stat()
        found.append(BackupInfo(path, stat.st_size, datetime.fromtimestamp(stat.st_mtime).astimezone()))
    # Names carry the timestamp, so name order is creation order even when mtimes tie.
    return sorted(found, key=lambda b: b.path.name, reverse=True)


def rotate(folder: Path, keep: int) -> list[Path]:
    removed = []
    for info in list_backups(folder)[max(1, keep):]:
        with contextlib.suppress(OSError):
            info.path.unlink()
            removed.append(info.path)
    return removed


def restore(db_path: Path, backup_file: Path, folder: Path, keep: int = 10, clock: Clock | None = None) -> Path | None:
    """Replace the live database's content with backup_file after verifying it.

    The current database is first saved as a backup (returned), unless it is unreadable, in which
    case its files are moved aside as kefu.db.corrupt-<stamp> (never deleted)."""
    clock = clock or SystemClock()
    backup_file = Path(backup_file).resolve()
    clean_stale_partials(folder)
    verify(backup_file)
    saved: Path | None = None
    healthy = db_path.exists()
    if healthy:
        try:
            saved = create_backup(db_path, folder, keep=max(keep, 2), clock=clock)
        except StoreError:
            healthy = False
    if db_path.exists() and not healthy:
        stamp = _stamp(clock)
        for suffix in ("", "-wal", "-shm"):
            old = Path(str(db_path) + suffix)
            if old.exists():
                os.replace(old, Path(f"{db_path}{suffix}.corrupt-{stamp}"))
        saved = Path(f"{db_path}.corrupt-{stamp}")
    try:
        source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        target = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            source.backup(target)  # one locked step: readers see the old or the new, never a mix
            target.execute("PRAGMA journal_mode = WAL")
        finally:
            target.close()
            source.close()
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, db_path) from exc
    # The content was just verified page by page: record the file clean as it is now.
    integrity.write_record(db_path, integrity.fingerprint(db_path), True)
    _private(db_path)
    return saved


def last_backup_time(db_path: Path) -> datetime | None:
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (LAST_BACKUP_KEY,)).fetchone()
        finally:
            conn.close()
        if row:
            return from_db(row[0].strip('"'))
    return None


def backup_due(db_path: Path, interval_hours: int, clock: Clock) -> bool:
    if interval_hours <= 0:
        return False
    last = last_backup_time(db_path)
    return last is None or (clock.now() - last).total_seconds() >= interval_hours * 3600


def backup_folder(store, default: Path) -> Path:
    """The configured backup folder (setting backup.dir), or default."""
    from . import settings

    configured = settings.get(store, "backup.dir")
    return Path(configured).expanduser() if configured else default


def auto_backup(store, default_folder: Path) -> Path | None:
    """The app's periodic backup: one snapshot when backup.interval_hours have passed since the
    last one (any backup counts, manual ones too). Returns the new file, or None when not due."""
    from . import settings

    if not backup_due(store.path, settings.get(store, "backup.interval_hours"), store.clock):
        return None
    return create_backup(store.path, backup_folder(store, default_folder), keep=settings.get(store, "backup.keep"),
                         clock=store.clock)
