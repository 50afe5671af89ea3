"""`kefu` command line. No Qt import unless the panel is started.

Every command takes --data-dir; listing commands take --json. Errors: one line on stderr in
English and Chinese, non-zero exit code, never a traceback for a known failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import __version__, paths
from ..errors import KnownError, StoreError, ValidationError
from . import out as cliout

EPILOG = "数据目录 / data folder: --data-dir DIR, or the KEFU_HOME environment variable."


# Output helpers live in cli/out.py (shared by every command module).
_out = cliout.out
_json = cliout.json_out
_table = cliout.table


# ---------------------------------------------------------------- context

class Ctx:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data = paths.data_dir(getattr(args, "data_dir", None))
        self._store = None

    @property
    def store(self):
        if self._store is None:
            from ..core import replies
            from ..core.store import open_store

            self._store = open_store(paths.db_path(self.data))
            logging.getLogger(__name__).debug("database %s opened", paths.db_path(self.data))
            for zh, en in self._store.warnings:
                sys.stderr.write(f"Warning: {en} / 警告：{zh}\n")
            # A write started during kefu's own import waits for it instead of failing "locked".
            self._store.import_wait_s = IMPORT_WAIT_S
            self._store.on_import_wait = _waiting_for_import
            replies.seed_defaults(self._store)
            self._fix_clock()
        return self._store

    def _fix_clock(self) -> None:
        """A shift that starts in the future (the clock was ahead) is replaced, once, and said so."""
        from ..core import shifts

        try:
            fix = shifts.fix_future_shift(self._store)
        except KnownError:
            return  # locked or damaged: the command itself reports what matters
        if fix is not None:
            sys.stderr.write(f"Note: {fix.en} / 提示：{fix.zh}\n")

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


IMPORT_WAIT_S = 600.0


def _waiting_for_import(pid: int) -> None:
    sys.stderr.write(f"Waiting for kefu's import of replies (process {pid}) to finish… "
                     f"/ 正在等待 kefu 导入回复（进程 {pid}）完成…\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- backup / restore / doctor

def _backup_folder(ctx: Ctx) -> Path:
    from ..core import backup

    if getattr(ctx.args, "dir", None):
        return Path(ctx.args.dir).expanduser().resolve()
    return backup.backup_folder(ctx.store, paths.backup_dir(ctx.data))


def cmd_backup(ctx: Ctx) -> int:
    from ..core import backup, settings

    keep = ctx.args.keep or settings.get(ctx.store, "backup.keep")
    folder = _backup_folder(ctx)
    if ctx.args.list:
        items = backup.list_backups(folder)
        if ctx.args.json:
            _json([{"path": str(b.path), "size": b.size, "created": b.created.isoformat()} for b in items])
        else:
            for b in items:
                _out(f"{b.created:%Y-%m-%d %H:%M:%S}  {b.size // 1024:>7} KiB  {b.path}")
        return 0
    path = backup.create_backup(paths.db_path(ctx.data), folder, keep=keep)
    _out(f"Backup written: {path} / 备份完成")
    return 0


def cmd_restore(ctx: Ctx) -> int:
    from ..core import backup, settings

    db = paths.db_path(ctx.data)
    folder = paths.backup_dir(ctx.data)
    keep = 10
    try:
        store = ctx.store
        keep = settings.get(store, "backup.keep")
        folder = backup.backup_folder(store, folder)
        store.close()
        ctx._store = None
    except StoreError:
        pass  # the current DB is damaged: restore is exactly what the user needs
    saved = backup.restore(db, Path(ctx.args.file), folder, keep=keep)
    _out(f"Restored from {ctx.args.file} / 已恢复")
    if saved:
        _out(f"The previous database was kept at {saved} / 原数据库已保留")
    return 0


def _backend_description() -> dict:
    try:
        from ..platform.detect import describe_backend
    except ImportError:
        return {"backend": "unknown", "reason": "platform layer not installed"}
    return describe_backend()


def cmd_doctor(ctx: Ctx) -> int:
    from ..core import backup, integrity, replies, search, settings

    db = paths.db_path(ctx.data)
    report: dict[str, Any] = {
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "data_dir": str(ctx.data),
        "database": str(db),
        "cache_dir": str(paths.cache_dir(ctx.data)),
        "log": str(ctx.data / "logs" / "kefu.log"),
    }
    for module in ("PySide6", "sqlite_utils", "jieba", "pypinyin", "opencc", "openpyxl", "pyperclip"):
        try:
            mod = __import__(module)
            report[f"{module}_version"] = getattr(mod, "__version__", None) or _dist_version(module)
        except ImportError:
            report[f"{module}_version"] = "MISSING"
    problems: list[str] = []
    try:
        store = ctx.store
        report["integrity"] = store.integrity_check()
        if report["integrity"] != ["ok"]:
            problems.append("integrity_check failed: restore a backup with `kefu restore BACKUP` "
                            "/ 完整性检查失败：请用 `kefu restore 备份文件` 从备份恢复")
        report["schema"] = integrity.schema_problems(store.conn) or "ok"
        if report["schema"] != "ok":
            problems.append(f"schema incomplete: {'; '.join(report['schema'][:3])} / 数据库结构不完整，请从备份恢复")
        # Pointless (and it may trip over the bad pages) on a file that failed the page check.
        report["foreign_keys"] = "not checked" if report["integrity"] != ["ok"] else \
            integrity.foreign_key_problems(store.conn) or "ok"
        if isinstance(report["foreign_keys"], dict):
            problems.append(f"rows pointing at missing records: {integrity.describe_foreign_keys(report['foreign_keys'])}"
                            " / 有指向不存在记录的数据，请从备份恢复")
        report["stale_partial_backups_removed"] = len(backup.clean_stale_partials(_backup_folder(ctx)))
        report["replies"] = replies.count_replies(store)
        report["groups"] = len(replies.list_groups(store))
        report["journal_mode"] = store.conn.execute("PRAGMA journal_mode").fetchone()[0]
        report["read_only"] = store.read_only
        report["migrations"] = [m.name for m in __import__("assistant.core.migrations", fromlist=["x"])
                                .migrations.applied(store.db)]
        report["warnings"] = [en for _, en in store.warnings]
        report["last_backup"] = str(backup.last_backup_time(db) or "never")
        report["hotkeys_enabled"] = settings.get(store, "hotkeys.enabled")
        if ctx.args.reindex:
            report["reindexed"] = search.repair_index(store)
        fts = None if store.read_only else integrity.fts_problems(store.conn)
        report["search_index"] = "not checked (read-only)" if store.read_only else \
            "not checked (another connection is writing)" if fts is None else fts or "ok"
        if fts:
            problems.append("the search index is damaged (search falls back to a slow scan): run "
                            "`kefu doctor --reindex` / 搜索索引已损坏（搜索暂用慢速扫描）：请运行 `kefu doctor --reindex` 重建")
    except (KnownError, sqlite3.Error) as exc:
        from ..core.store import translate_sqlite_error

        known = translate_sqlite_error(exc, db) if isinstance(exc, sqlite3.Error) else exc
        report["database_error"] = known.en
        problems.append(known.bilingual())
    if paths.data_dir_too_open(ctx.data):
        report.setdefault("warnings", []).append(
            "other users can read or write the data folder (chmod 700 it) / 其他用户可以读写数据目录（请改为 700）")
    report["hotkey_backend"] = _backend_description()
    from ..platform.inputmethod import describe as describe_input_method

    report["input_method"] = describe_input_method()  # what is running, what the panel sets at start
    report["problems"] = problems
    if ctx.args.json:
        _json(report)
    else:
        for key, value in report.items():
            _out(f"{key:18} {value}")
    return 1 if problems else 0


def cmd_settings(ctx: Ctx) -> int:
    from ..core import settings

    if ctx.args.action == "set":
        if not ctx.args.name or ctx.args.value is None:
            raise ValidationError("用法：kefu settings set 名称 值", "Usage: kefu settings set NAME VALUE")
        raw = ctx.args.value
        declared = settings.BY_NAME.get(ctx.args.name)
        value: Any = raw
        if declared and declared.type == "json":
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"值不是有效的 JSON：{exc}", f"Value is not valid JSON: {exc}") from exc
        settings.set(ctx.store, ctx.args.name, value)
        _out(f"{ctx.args.name} = {json.dumps(settings.get(ctx.store, ctx.args.name), ensure_ascii=False)}")
        return 0
    if ctx.args.action == "reset":
        # team.* go with a password in the OS keyring: only `kefu team disconnect` removes both together.
        if ctx.args.name and ctx.args.name.startswith("team."):
            raise ValidationError("团队连接请用 kefu team disconnect 断开（同时删除钥匙串中的密码）",
                                  "Use `kefu team disconnect` for the team connection (it also removes the password "
                                  "from the keyring)")
        names = [ctx.args.name] if ctx.args.name else [s.name for s in settings.DECLARED
                                                         if not s.name.startswith("team.")]
        settings.reset(ctx.store, names)
        _out("Restored defaults / 已恢复默认值")
        return 0
    values = settings.get_all(ctx.store)
    if ctx.args.json:
        _json(values)
        return 0
    for s in settings.DECLARED:
        _out(f"{s.name:26} {json.dumps(values[s.name], ensure_ascii=False):30} {s.zh} / {s.en}")
    return 0


# ---------------------------------------------------------------- parser

def _dist_version(module: str) -> str:
    """The installed version of the distribution providing `module` (sqlite_utils has no
    __version__; its distribution sqlite-utils has one)."""
    from importlib import metadata

    for dist in metadata.packages_distributions().get(module, []):
        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version(dist)
    return "installed"


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors as kefu's one bilingual line (sub-parsers inherit the class)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        cliout.error(f"{message} (see {self.prog} --help) / 命令行参数不正确（见 {self.prog} --help）")
        self.exit(2)


def _check_argv(argv: Sequence[str]) -> None:
    """Every argument must be text: a byte sequence that is not UTF-8 reaches Python as a lone
    surrogate (surrogateescape) that SQLite, files and the terminal cannot take. One check here
    covers every option of every command (every command module shares this parser)."""
    from ..core.checked import is_text

    for i, arg in enumerate(argv):
        if not is_text(arg):
            before = argv[i - 1] if i and argv[i - 1].startswith("-") and is_text(argv[i - 1]) else None
            where_en = f"the value of {before}" if before else f"argument {i + 1}"
            where_zh = f"{before} 的值" if before else f"第 {i + 1} 个参数"
            raise ValidationError(f"命令行中{where_zh}不是有效的 UTF-8 文字（请检查终端或脚本的编码）",
                                  f"{where_en} is not valid UTF-8 text (check the terminal's or script's encoding)")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                        help="data folder (default: the user data dir, or KEFU_HOME) / 数据目录")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log to stderr")

    parser = _Parser(
        prog="kefu", parents=[common], epilog=EPILOG,
        description="客服助手 kefu-assistant: quick replies, paste hotkeys, starred buyers. "
                    "Without a command, opens the panel / 不带命令时打开面板。")
    parser.add_argument("--version", action="version", version=f"kefu-assistant {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(parent, name: str, func: Callable[[Ctx], int], help_text: str, json_flag: bool = False):
        p = parent.add_parser(name, parents=[common], help=help_text, description=help_text, epilog=EPILOG)
        p.set_defaults(func=func)
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    from .replies import register as register_replies  # replies, groups

    register_replies(sub, add, common)
    p = add(sub, "backup", cmd_backup, "back up the database (rotating) / 备份", True)
    p.add_argument("--dir", help="backup folder")
    p.add_argument("--keep", type=cliout.whole_number(1), help="backups to keep")
    p.add_argument("--list", action="store_true", help="list existing backups")
    p = add(sub, "restore", cmd_restore, "restore a backup (verified; the current DB is kept) / 从备份恢复")
    p.add_argument("file")
    p = add(sub, "doctor", cmd_doctor, "paths, versions, integrity, hotkey backend / 诊断", True)
    p.add_argument("--reindex", action="store_true",
                   help="rebuild the search index in one transaction (repairs a damaged one) / 重建搜索索引")
    p = add(sub, "settings", cmd_settings, "show or change settings / 设置", True)
    p.add_argument("action", nargs="?", choices=("list", "set", "reset"), default="list")
    p.add_argument("name", nargs="?")
    p.add_argument("value", nargs="?")
    from .paste import register as register_paste  # paste (desktop shortcuts)

    register_paste(sub, add)
    from .buyers import register as register_buyers  # buyers, due, promo, cadences

    register_buyers(sub, add, common)
    from .products import register as register_products  # products (商品资料)

    register_products(sub, add, common)
    from .orders import register as register_orders  # unpaid orders (催付)

    register_orders(sub, add, common)
    from .aftersales import register as register_aftersales  # aftersales cases

    register_aftersales(sub, add, common)
    from .handover import register as register_handover  # shift, log, handover, kpi, calc

    register_handover(sub, add, common)
    from .desktop import register as register_desktop  # desktop-install (Linux menu, autostart)

    register_desktop(sub, add)
    from .team import register as register_team  # team connect / status / disconnect

    register_team(sub, add, common)
    return parser


def _utf8_stdio() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    _utf8_stdio()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        _check_argv(argv)
    except ValidationError as exc:
        cliout.error(exc.bilingual())
        return exc.exit_code
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "data_dir"):
        args.data_dir = None
    if not hasattr(args, "verbose"):
        args.verbose = False
    if args.command is None:
        try:
            from ..app import run
        except ImportError as exc:  # Qt missing in a CLI-only install
            sys.stderr.write(f"Error: cannot start the panel ({exc}) / 错误：无法启动面板\n")
            return 1
        try:
            return run(data_dir=args.data_dir, verbose=args.verbose)
        except KnownError as exc:
            cliout.error(exc.bilingual())
            return exc.exit_code
    ctx = None
    root_level = logging.getLogger().level
    verbose_log = _log_to_stderr() if args.verbose else None
    try:
        ctx = Ctx(args)
        return args.func(ctx)
    except KnownError as exc:
        cliout.error(exc.bilingual())
        return exc.exit_code
    except sqlite3.Error as exc:
        from ..core.store import translate_sqlite_error

        err = translate_sqlite_error(exc, paths.db_path(ctx.data) if ctx else Path("?"))
        cliout.error(err.bilingual())
        return err.exit_code
    except OverflowError:
        # A number typed far beyond any id, count or duration (SQLite and timedelta stop at 64 bits);
        # a write under way was rolled back by Store.write().
        cliout.error("A number given is too large / 给出的数字太大")
        return 2
    except BrokenPipeError:
        # `kefu ... | head`: the reader left; not an error worth a message.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces the closed pipe until exit
        return 0
    except OSError as exc:
        cliout.error(f"{exc.strerror or exc} ({getattr(exc, 'filename', '') or ''}) / 文件操作失败")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if ctx is not None:
            ctx.close()
        if verbose_log is not None:  # main() may run again in the same process (tests)
            logging.getLogger().removeHandler(verbose_log)
            logging.getLogger().setLevel(root_level)


def _log_to_stderr() -> logging.Handler:
    """-v: the command's log on stderr (ids and counts only, as in the panel's log file)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    return handler


if __name__ == "__main__":
    sys.exit(main())
