"""Opening the SQLite store: pragmas, migrations, transactions, clear errors.

Decisions (shared/design.md): WAL + synchronous=FULL so a saved chase survives a power cut;
busy_timeout so the CLI and the panel can share the file; every write is one BEGIN IMMEDIATE
transaction (a writer takes the lock up front instead of failing halfway through); a corrupt or
locked file is reported, never recreated or overwritten.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import StoreBusyError, StoreError
from . import holder, integrity, searchtext
from .clock import Clock, SystemClock
from .migrations import migrations

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000
# The WAL file is cut back to this size whenever it is reset (and after a big import, see
# checkpoint()). Without a limit it keeps the size of the largest transaction ever written (100 MB
# after a 30k import) for as long as any connection, such as the panel's, stays open. 8 MiB is
# twice what ordinary use reaches (wal_autocheckpoint: 1000 pages of 4 KiB), so everyday writes
# never pay for shrinking and growing the file again.
JOURNAL_SIZE_LIMIT = 8 * 1024 * 1024
# Folder names of sync clients: SQLite's locking breaks when such a client rewrites the file.
SYNC_FOLDER_HINTS = ("dropbox", "onedrive", "icloud", "google drive", "googledrive", "nutstore", "坚果云",
                     "百度网盘", "baiduyun", "seafile", "syncthing")
NETWORK_FS = {"nfs", "nfs4", "cifs", "smbfs", "smb3", "sshfs", "fuse.sshfs", "9p", "davfs", "fuse.rclone"}


def _corrupt(path: Path) -> StoreError:
    return StoreError(
        f"数据库文件已损坏或不是本软件的数据库：{path}。文件未被改动；可用 `kefu restore 备份文件` 从备份恢复。",
        f"The database file is corrupt or not a kefu database: {path}. It was left untouched; "
        "use `kefu restore BACKUP` to restore a backup.",
    )


def _locked(path: Path) -> StoreError:
    busy = holder.live_holder(path) if str(path) != ":memory:" else None
    if busy is not None:
        return StoreBusyError(
            f"kefu 正在导入回复（进程 {busy.pid}），数据库暂时被占用：{path}。导入完成后再试一次。",
            f"kefu is importing replies (process {busy.pid}) and holds the database: {path}. "
            "Try again when the import has finished.",
            holder_pid=busy.pid,
        )
    return StoreBusyError(
        f"数据库正被其他程序占用（已等待 {BUSY_TIMEOUT_MS // 1000} 秒）：{path}。请关闭占用它的程序后重试。",
        f"The database is locked by another program (waited {BUSY_TIMEOUT_MS // 1000} s): {path}. "
        "Close the other program and try again.",
    )


def _empty(path: Path) -> StoreError:
    return StoreError(
        f"数据库文件是空的（0 字节）：{path}。可能是同步软件或磁盘故障所致；为免覆盖，未新建数据库。"
        "请用 `kefu restore 备份文件` 从备份恢复，或把这个空文件移走后重新打开（将新建空白数据库）。",
        f"The database file is empty (0 bytes): {path}, likely from a sync client or a disk error. To keep "
        "anything recoverable, no new database was created over it. Restore a backup with `kefu restore BACKUP`, "
        "or move the empty file away to start a new, empty library.",
    )


def _foreign(path: Path) -> StoreError:
    return StoreError(
        f"{path} 是其他程序的 SQLite 数据库，不是客服助手的，未做任何改动。请把它移走或改名，"
        "或用 --data-dir 指定另一个数据目录。",
        f"{path} is another program's SQLite database, not kefu-assistant's; it was left untouched. "
        "Move or rename it, or choose another data folder with --data-dir.",
    )


# Primary SQLite result codes (https://sqlite.org/rescode.html). The message text is never read: it
# can quote stored text (a nickname containing "corrupt" once passed for a damaged file).
_PERM, _BUSY, _LOCKED, _NOMEM, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _AUTH, _NOTADB = \
    3, 5, 6, 7, 8, 10, 11, 13, 14, 23, 26


def read_only_error(path: Path) -> StoreError:
    folder = path.parent
    return StoreError(f"数据目录是只读的，无法保存任何更改：{folder}（查看和导出仍可使用）",
                      f"The data folder is read-only; nothing can be saved: {folder} (viewing and exporting still work)")


def _folder_writable(path: Path) -> bool:
    """Can SQLite write here? access() reports a read-only mount (EROFS) even to root, and missing
    permissions (EACCES) to everyone else. WAL needs the folder too, for the -wal and -shm files."""
    folder = path.parent
    if not folder.is_dir():
        return True  # a new data folder: created below, or the open reports why not
    if not os.access(folder, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def translate_sqlite_error(exc: sqlite3.Error, path: Path) -> StoreError:
    """A sqlite3 error as a one-line StoreError, classified by its result code (Python >= 3.11)."""
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_BUSY, _LOCKED):
        return _locked(path)
    if primary in (_CORRUPT, _NOTADB):
        return _corrupt(path)
    if primary == _READONLY:
        return StoreError(f"数据库文件只读，无法保存：{path}", f"The database file is read-only: {path}")
    if primary == _FULL:
        return StoreError("磁盘已满，未能保存。", "The disk is full; nothing was saved.")
    if primary in (_CANTOPEN, _PERM, _AUTH):
        return StoreError(f"无法打开数据库文件：{path}", f"Cannot open the database file: {path}")
    if primary == _IOERR:
        return StoreError(f"读写数据库文件时发生磁盘错误（{name}）：{path}。请运行 `kefu doctor` 检查。",
                          f"A disk error occurred reading or writing the database ({name}): {path}. "
                          "Run `kefu doctor` to check it.")
    if primary == _NOMEM:
        return StoreError("内存不足，未能完成数据库操作。", "Out of memory; the database operation did not finish.")
    if primary is None and isinstance(exc, sqlite3.OperationalError) \
            and str(exc).startswith("Could not decode to UTF-8"):  # raised by Python itself, no code
        return StoreError(f"数据库中有一段文字不是有效的 UTF-8 编码，无法读取：{path}。请运行 `kefu doctor` 检查。",
                          f"A text stored in the database is not valid UTF-8 and cannot be read: {path}. "
                          "Run `kefu doctor` to check it.")
    # Anything else: its name only (SQLITE_CONSTRAINT_UNIQUE, ProgrammingError...), never the message.
    label = name or type(exc).__name__
    log.warning("unclassified database error %s", label)
    return StoreError(f"数据库错误（{label}）。请运行 `kefu doctor` 检查。",
                      f"Database error ({label}). Run `kefu doctor` to check the database.")


def storage_warnings(path: Path) -> list[tuple[str, str]]:
    """(zh, en) warnings when the DB sits where SQLite's locking is unreliable."""
    warnings: list[tuple[str, str]] = []
    lowered = str(path).lower()
    if any(hint in lowered for hint in SYNC_FOLDER_HINTS):
        warnings.append((
            "数据目录位于同步盘文件夹中，同步软件可能损坏数据库，建议改用本地文件夹。",
            "The data folder is inside a sync folder; sync clients can corrupt the database. Use a local folder.",
        ))
    fstype = _filesystem_type(path)
    if fstype in NETWORK_FS:
        warnings.append((
            f"数据目录位于网络文件系统（{fstype}）上，SQLite 在其上无法可靠加锁，建议改用本地文件夹。",
            f"The data folder is on a network filesystem ({fstype}); SQLite cannot lock reliably there.",
        ))
    return warnings


def _filesystem_type(path: Path) -> str | None:
    mounts = Path("/proc/mounts")
    if not mounts.exists():
        return None
    best, best_type = "", None
    target = str(path.resolve())
    try:
        for line in mounts.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and (target == fields[1] or target.startswith(fields[1].rstrip("/") + "/")) \
                    and len(fields[1]) > len(best):
                best, best_type = fields[1], fields[2]
    except OSError:
        return None
    return best_type


_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})


def _first_keyword(sql: str) -> str:
    """The statement's first keyword, upper case, past whitespace, comments, bare ';' and a BOM."""
    i, n = 0, len(sql)
    while i < n:
        if sql[i].isspace() or sql[i] in (";", "\ufeff"):
            i += 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            if newline == -1:
                return ""
            i = newline + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end == -1:
                return ""
            i = end + 2
        else:
            break
    j = i
    while j < n and (sql[j].isalpha() or sql[j] == "_"):
        j += 1
    return sql[i:j].upper()


class Db:
    """What the store's callers use of sqlite_utils.Database - conn and execute(), with its semantics
    (recursive triggers on; a statement outside a transaction that opens one implicitly is committed,
    or rolled back when it fails) - without importing sqlite_utils (~12 MB, ~40 ms at every start;
    migrations.py imports it only to migrate)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._full: object = None
        self.execute("PRAGMA recursive_triggers=on;")

    def _database(self):  # noqa: ANN202 - sqlite_utils.Database, imported here only
        """The real Database over the same connection, for anything else (db["table"].indexes, ...)."""
        if self._full is None:
            from sqlite_utils import Database

            self._full = Database(self.conn, execute_plugins=False)
        return self._full

    def __getitem__(self, table: str):  # noqa: ANN204
        return self._database()[table]

    def __getattr__(self, name: str):  # noqa: ANN204 - only for names Db does not define
        if name.startswith("__") or name == "_full":
            raise AttributeError(name)
        return getattr(self._database(), name)

    def execute(self, sql: str, parameters: object = None) -> sqlite3.Cursor:
        conn = self.conn
        was_in_transaction = conn.in_transaction
        try:
            cursor = conn.execute(sql) if parameters is None else conn.execute(sql, parameters)  # type: ignore[arg-type]
        except Exception:
            if not was_in_transaction and conn.in_transaction:
                conn.execute("ROLLBACK")  # the failed statement's implicit transaction would capture later writes
            raise
        if (not was_in_transaction and conn.in_transaction and cursor.description is None
                and _first_keyword(sql) not in _TRANSACTION_CONTROL):
            conn.execute("COMMIT")
        return cursor


class Store:
    """One connection to the store. Use one Store per thread; the app does all writes from one
    worker thread, the CLI is another process (the busy timeout covers that)."""

    def __init__(self, path: Path | str, clock: Clock | None = None, *, busy_timeout_ms: int | None = None) -> None:
        self.path = Path(path)
        self.clock: Clock = clock or SystemClock()
        self.warnings: list[tuple[str, str]] = []
        # Seconds a write waits for kefu's own import before failing "locked" (see _begin), and
        # what to tell the user when it starts waiting (called with the import's pid).
        self.import_wait_s = 0.0
        self.on_import_wait: Callable[[int], None] | None = None
        self._memory = memory = str(path) == ":memory:"
        self._damaged: StoreError | None = None  # set once a check failed: every later write is refused
        # A data folder we cannot write (a mounted backup, a locked-down PC): open for reading only;
        # every write then fails with read_only_error() instead of every command failing.
        self.read_only = not memory and not _folder_writable(self.path)
        if not memory:
            if self.read_only:
                self._exists()  # a 0-byte file is refused here too
            else:
                self._check_header()
                if not self._exists():
                    self._create()
        timeout_ms = self._busy_timeout_ms = BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
        try:
            conn = self._connect_read_only() if self.read_only else \
                sqlite3.connect(str(self.path), timeout=timeout_ms / 1000, check_same_thread=False)
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc
        self.conn = conn
        searchtext.register(conn)  # the search tables' view and triggers call them
        try:
            conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            if not memory:
                self._refuse_foreign()  # before anything below can write to another program's file
            if not memory and not self.read_only:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    log.warning("journal_mode is %s, not wal", mode)
            conn.execute("PRAGMA synchronous = FULL")
            self.db = Db(conn)  # sqlite_utils' Database.execute without importing it (issue 17)
            # pending() only reads: an up-to-date database is opened without taking the write lock,
            # so reading commands work while an import holds it.
            if migrations.pending(self.db):
                if self.read_only:
                    raise StoreError(
                        f"数据库需要升级，但数据目录是只读的：{self.path.parent}",
                        f"The database needs an upgrade but the data folder is read-only: {self.path.parent}")
                migrations.apply(self.db)
        except sqlite3.Error as exc:
            conn.close()
            raise translate_sqlite_error(exc, self.path) from exc
        except StoreError:
            conn.close()
            raise
        if not memory:
            if not self.read_only:
                self._restrict_permissions()
            self.warnings += storage_warnings(self.path)

    def _connect_read_only(self) -> sqlite3.Connection:
        """mode=ro reads a WAL database whose -wal/-shm exist or can be created. In a read-only folder
        with neither (the normal state after the last connection closed cleanly) SQLite cannot open
        it that way; immutable=1 then reads the main file without any locking or shared memory.
        Risk, accepted only because we cannot write the folder: SQLite trusts that nothing changes
        the file while we read it, so a process writing it through another, writable path could
        make us read a torn page or miss its commits, and a stray -wal without -shm is not read."""
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            log.info("read-only open failed (%s); opening the database as immutable", exc)
        wal = Path(f"{self.path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            self.warnings.append((f"只读数据目录中的 {wal.name} 无法读取，最近的更改可能看不到。",
                                  f"{wal.name} in the read-only folder cannot be read; recent changes may be missing."))
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn

    def _check_header(self) -> None:
        # Never open() the database file itself here: on POSIX, closing ANY descriptor of a file
        # drops every fcntl lock this process holds on it, including those of our other SQLite
        # connections. Another process would then think it is the last user and delete the WAL
        # under us. A file that is not a database is reported by SQLite's first read instead.
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _exists(self) -> bool:
        """False when there is no file (a new install). A 0-byte file is refused, never re-created over:
        SQLite would treat it as a new database, and a sync client or a disk error left it there."""
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"无法读取数据库文件：{self.path}（{exc.strerror}）",
                             f"Cannot read the database file: {self.path} ({exc.strerror})") from exc
        if size == 0:
            raise _empty(self.path)
        return True

    def _create(self) -> None:
        """A new database, built under a temporary name and linked into place complete: a crash during
        the first start never leaves a 0-byte or half-migrated kefu.db behind."""
        tmp = self.path.with_name(f".{self.path.name}.new-{os.getpid()}")
        leftovers = [Path(f"{tmp}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]
        for old in leftovers:
            with contextlib.suppress(OSError):
                old.unlink()
        try:
            conn = sqlite3.connect(str(tmp))
            searchtext.register(conn)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                migrations.apply(conn)
            finally:
                conn.close()
            try:
                os.link(tmp, self.path)  # never replaces a file another process created meanwhile
            except FileExistsError:
                return
            except OSError:  # no hard links on this filesystem
                if self.path.exists():
                    return
                os.replace(tmp, self.path)
            integrity.write_record(self.path, integrity.fingerprint(self.path), True)
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc
        finally:
            for old in leftovers:
                with contextlib.suppress(OSError):
                    old.unlink()

    def _refuse_foreign(self) -> None:
        """Another application's SQLite file named kefu.db: tables, but none of our migrations."""
        names = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not names - {integrity.MIGRATIONS_TABLE}:
            return  # empty: ours to set up
        if not integrity.applied_migrations(self.conn):
            raise _foreign(self.path)

    def _restrict_permissions(self) -> None:
        if os.name != "posix":
            return
        for suffix in ("", "-wal", "-shm"):
            candidate = Path(str(self.path) + suffix)
            if candidate.exists():
                with contextlib.suppress(OSError):
                    os.chmod(candidate, 0o600)

    def check_before_writes(self) -> None:
        """Raise StoreError unless the file may be written (integrity.py: when quick_check runs)."""
        if self._memory:
            return
        if self._damaged is not None:
            raise self._damaged
        try:
            integrity.check_before_write(self.conn, self.path)
        except StoreError as exc:
            self._damaged = exc
            raise

    @contextlib.contextmanager
    def write(self) -> Iterator[Db]:
        """One all-or-nothing write transaction. Nested calls join the outer transaction.

        Before the first COMMIT that changed anything, the file is checked (check_before_writes): a
        damaged database gets a rollback and a StoreError, never a write."""
        if self.conn.in_transaction:
            yield self.db
            return
        if self.read_only:
            raise read_only_error(self.path)
        try:
            self._begin()
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc
        changes = self.conn.total_changes
        try:
            yield self.db
            if self.conn.total_changes != changes:
                self.check_before_writes()
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            with integrity.own_change(self.path) if not self._memory else contextlib.nullcontext():
                self.conn.execute("COMMIT")  # may checkpoint into the main file
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise translate_sqlite_error(exc, self.path) from exc

    def _begin(self) -> None:
        """BEGIN IMMEDIATE. With import_wait_s set (the CLI, the hotkey usage writer), a lock held by
        kefu's own import (its marker is live) is waited for, up to that long, instead of failing
        after the busy timeout: the command runs when the import has finished."""
        deadline: float | None = None
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if self.import_wait_s <= 0 or (getattr(exc, "sqlite_errorcode", 0) & 0xFF) not in (_BUSY, _LOCKED):
                    raise  # not SQLITE_BUSY / SQLITE_LOCKED
                busy = holder.live_holder(self.path)
                now = time.monotonic()
                if busy is None or (deadline is not None and now >= deadline):
                    raise
                if deadline is None:
                    deadline = now + self.import_wait_s
                    if self.on_import_wait is not None:
                        self.on_import_wait(busy.pid)

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        try:
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row)) for row in cur.fetchall()]
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, self.path) from exc

    def data_version(self) -> int:
        """Changes when ANOTHER connection commits: how the panel notices `kefu` CLI edits."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def checkpoint(self, timeout_ms: int = 500) -> bool:
        """Copy the WAL into the database and cut the -wal file to 0 bytes (after a big import:
        journal_size_limit alone shrinks it only at the next write). It holds the writer lock while
        it waits for readers, so it waits briefly: False when a reader or writer was in the way (the
        file is then cut back at a later reset instead)."""
        if self.read_only or str(self.path) == ":memory:" or self.conn.in_transaction:
            return False
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
            busy, _, _ = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            log.info("checkpoint failed: %s", exc)
            return False
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        return not busy

    def integrity_check(self) -> list[str]:
        """["ok"] or SQLite's findings; the result is recorded (writes are refused while it stands)."""
        fp = None if self._memory else integrity.fingerprint(self.path)
        problems = integrity.integrity_check(self.conn)
        if not self._memory:
            integrity.write_record(self.path, fp, not problems)
        return problems or ["ok"]

    def close(self) -> None:
        # The last connection's close checkpoints the WAL into the main file: kefu's own change.
        with integrity.own_change(self.path) if not self._memory else contextlib.nullcontext(), \
                contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: Path | str, clock: Clock | None = None, *, busy_timeout_ms: int | None = None) -> Store:
    return Store(path, clock, busy_timeout_ms=busy_timeout_ms)
