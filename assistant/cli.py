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
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__, cliout, paths
from .errors import KnownError, StoreError, ValidationError

EPILOG = "数据目录 / data folder: --data-dir DIR, or the KEFU_HOME environment variable."


# Output helpers live in cliout (shared with cli_buyers and cli_handover).
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
            from .core import replies
            from .core.store import open_store

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
        from .core import shifts

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


def _reply_json(reply) -> dict:
    return reply.to_dict()


def _read_body(args: argparse.Namespace) -> str | None:
    if getattr(args, "body_file", None):
        name = "stdin" if args.body_file == "-" else args.body_file
        try:
            raw = sys.stdin.buffer.read() if args.body_file == "-" else Path(args.body_file).read_bytes()
        except OSError as exc:
            raise ValidationError(f"无法读取文件 {name}（{exc.strerror}）", f"Cannot read {name} ({exc.strerror})") from exc
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(f"{name} 不是 UTF-8 文本，请另存为 UTF-8 后再试",
                                  f"{name} is not UTF-8 text; save it as UTF-8 and try again") from None
    return args.body


# ---------------------------------------------------------------- replies

def cmd_replies_list(ctx: Ctx) -> int:
    from .core import replies

    items = replies.list_replies(ctx.store, ctx.args.group, order=ctx.args.order, limit=ctx.args.limit)
    if ctx.args.json:
        _json([_reply_json(r) for r in items])
        return 0
    _table([[str(r.id), r.code or "", r.hotkey or "", r.group_path, r.title, r.body] for r in items],
           ["ID", "短码", "快捷键", "分组", "标题", "内容"], [7, 10, 12, 18, 20, 40])
    _out(f"{len(items)} replies / 共 {len(items)} 条")
    return 0


def cmd_replies_search(ctx: Ctx) -> int:
    from .core import replies, search

    store = ctx.store
    loader = search.start_background_loading(paths.cache_dir(ctx.data))
    loader.join()  # the CLI answers once, so it may wait for jieba; the panel never does
    group_id = replies.get_group(store, ctx.args.group).id if ctx.args.group else None
    hits = search.search(store, ctx.args.query, limit=ctx.args.limit, group_id=group_id)
    found = [(h, replies.get_reply(store, h.reply_id)) for h in hits]
    if ctx.args.json:
        _json([{**_reply_json(r), "score": h.score, "how": getattr(h, "how", "")} for h, r in found])
        return 0
    if not found:
        _out("No match / 没有找到")
        return 0
    _table([[str(r.id), r.code or "", r.group_path, r.title, r.body] for _, r in found],
           ["ID", "短码", "分组", "标题", "内容"], [7, 10, 18, 20, 46])
    return 0


def cmd_replies_show(ctx: Ctx) -> int:
    from .core import replies, templates

    reply = replies.get_reply(ctx.store, ctx.args.ref)
    values = dict(_parse_pairs(ctx.args.set or []))
    rendered = templates.render(reply.body, values) if values else None
    if ctx.args.json:
        data = _reply_json(reply)
        if rendered:
            data["rendered"] = rendered.text
            data["missing"] = rendered.missing
        _json(data)
        return 0
    _out(f"ID:       {reply.id}  ({reply.uuid})")
    _out(f"标题 Title: {reply.title}")
    _out(f"分组 Group: {reply.group_path}")
    _out(f"短码 Code:  {reply.code or '-'}    快捷键 Hotkey: {reply.hotkey or '-'}    语言 Lang: {reply.language}")
    if reply.platforms:
        _out(f"平台 Platforms: {', '.join(reply.platforms)}")
    if reply.angle:
        _out(f"催单角度 Angle: {reply.angle}")
    if reply.fields:
        _out(f"填空 Fields: {' '.join('{' + f + '}' for f in reply.fields)}")
    _out(f"使用 Used: {reply.use_count}×, last {reply.last_used_at or '-'}")
    _out("")
    _out(rendered.text if rendered else reply.body)
    if rendered and rendered.missing:
        sys.stderr.write("Missing fields / 未填写：" + " ".join("{" + m + "}" for m in rendered.missing) + "\n")
    return 0


def _parse_pairs(pairs: Sequence[str]) -> list[tuple[str, str]]:
    out = []
    for pair in pairs:
        if "=" not in pair:
            raise ValidationError(f"“{pair}”应写成 字段=值，例如 客户=小王", f"'{pair}' must be FIELD=VALUE, e.g. 客户=Li")
        key, value = pair.split("=", 1)
        from .core import templates

        if templates.canonical(key) is None:
            raise ValidationError(f"未知的填空字段“{key}”", f"Unknown fill-in field '{key}'")
        out.append((key, value))
    return out


def _reply_changes(args: argparse.Namespace) -> dict:
    changes: dict[str, Any] = {}
    body = _read_body(args)
    if body is not None:
        changes["body"] = body
    for name in ("title", "code", "hotkey", "angle", "group"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if args.lang is not None:
        changes["language"] = args.lang
    if args.platform is not None:
        changes["platforms"] = [p for item in args.platform for p in item.split(",") if p]
    return changes


def cmd_replies_add(ctx: Ctx) -> int:
    from .core import replies

    changes = _reply_changes(ctx.args)
    if "body" not in changes:
        raise ValidationError("请用 --body 或 --body-file 给出回复内容", "Give the reply text with --body or --body-file")
    reply = replies.create_reply(ctx.store, **{("language" if k == "language" else k): v for k, v in changes.items()})
    if ctx.args.json:
        _json(_reply_json(reply))
    else:
        _out(f"Added reply {reply.id} ({reply.code or reply.uuid}) / 已添加：{reply.title}")
    return 0


def cmd_replies_edit(ctx: Ctx) -> int:
    from .core import replies

    changes = _reply_changes(ctx.args)
    if ctx.args.clear_code:
        changes["code"] = None
    if ctx.args.clear_hotkey:
        changes["hotkey"] = None
    if not changes:
        raise ValidationError("没有要修改的内容（见 --help）", "Nothing to change (see --help)")
    reply = replies.update_reply(ctx.store, ctx.args.ref, **changes)
    if ctx.args.json:
        _json(_reply_json(reply))
    else:
        _out(f"Updated reply {reply.id} / 已修改：{reply.title}")
    return 0


def cmd_replies_rm(ctx: Ctx) -> int:
    from .core import replies

    reply = replies.delete_reply(ctx.store, ctx.args.ref)
    _out(f"Deleted reply {reply.id} ({reply.uuid}) / 已删除：{reply.title}")
    return 0


def cmd_replies_import(ctx: Ctx) -> int:
    from .core import transfer
    from .errors import ImportBracesError

    path = Path(ctx.args.file)
    keep = ctx.args.keep_braces
    try:
        if ctx.args.dry_run:
            plan = transfer.plan_import(ctx.store, path, replace=ctx.args.replace, format=ctx.args.format,
                                        keep_braces=keep)
            summary = {"add": len(plan.to_add), "replace": len(plan.to_replace), "skip": len(plan.skipped),
                       "braces_kept": plan.braces_escaped}
            if ctx.args.json:
                _json({**summary, "skipped": [_item(s) for s in plan.skipped]})
            else:
                _out(f"Would add {summary['add']}, replace {summary['replace']}, skip {summary['skip']} "
                     f"/ 将新增 {summary['add']} 条，替换 {summary['replace']} 条，跳过 {summary['skip']} 条（未写入）")
                _print_braces(plan.braces_escaped)
                _print_skipped(plan.skipped)
            return 0
        shown = None if ctx.args.json else _ImportProgress(sys.stderr)
        try:
            result = transfer.import_file(ctx.store, path, replace=ctx.args.replace, format=ctx.args.format,
                                          keep_braces=keep, phases=shown)
        finally:
            if shown is not None:
                shown.close()
    except ImportBracesError as exc:
        sys.stderr.write(f"Error: {exc.bilingual()}\n"
                         "Hint: if these braces are plain text, import again with --keep-braces "
                         "/ 提示：如果这些花括号只是普通文字，请加 --keep-braces 重新导入（原样保留）\n")
        return exc.exit_code
    if ctx.args.json:
        _json({"added": result.added, "replaced": result.replaced, "braces_kept": result.braces_escaped,
               "skipped": [_item(s) for s in result.skipped_items]})
    else:
        _out(f"Imported: {result.added} added, {result.replaced} replaced, {len(result.skipped_items)} skipped "
             f"/ 导入完成：新增 {result.added} 条，替换 {result.replaced} 条，跳过 {len(result.skipped_items)} 条")
        _print_braces(result.braces_escaped)
        _print_skipped(result.skipped_items)
    return 0


def _print_braces(count: int) -> None:
    if count:
        _out(f"  {count} brace(s) that are no fill-in field kept as literal text "
             f"/ {count} 处不是填空字段的花括号已原样保留")


class _ImportProgress:
    """An import's phases on stderr: one line rewritten in place on a terminal (at most 10 times a
    second), otherwise a line as each phase starts and ends, and only for a big file."""

    PHASES = {"reading": ("reading the file", "读取文件"), "indexing": ("indexing", "建立搜索索引"),
              "writing": ("writing", "写入数据库")}
    BIG = 1000  # rows: below this a script's log gets no progress lines

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.phase: str | None = None
        self.drawn = 0.0
        self.big = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        en, zh = self.PHASES.get(phase, (phase, phase))
        self.big = self.big or total >= self.BIG
        new = phase != self.phase
        self.phase = phase
        if self.tty:
            now = time.monotonic()
            if not new and done != total and now - self.drawn < 0.1:
                return
            self.drawn = now
            count = f" {done:,}/{total:,}" if total else ""
            self.stream.write(f"\r{en} / {zh}{count}…\x1b[K")
        elif self.big and (new or done == total):
            state = "done / 完成" if done == total and total else f"{total:,}" if total else ""
            self.stream.write(f"{en} / {zh}: {state}\n" if state else f"{en} / {zh}…\n")
        else:
            return
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.phase is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _item(item: Any) -> dict:
    if hasattr(item, "__dataclass_fields__"):
        from dataclasses import asdict

        return {k: v for k, v in asdict(item).items() if not isinstance(v, (bytes,))}
    return dict(item) if isinstance(item, dict) else {"item": str(item)}


def _print_skipped(items: Sequence[Any]) -> None:
    for item in items[:50]:
        data = _item(item)
        row = data.get("row", "?")
        reason = data.get("reason_en") or data.get("reason") or ""
        reason_zh = data.get("reason_zh") or ""
        _out(f"  skipped row {row}: {reason}{' / ' + reason_zh if reason_zh else ''}")
    if len(items) > 50:
        _out(f"  … {len(items) - 50} more")


def cmd_replies_export(ctx: Ctx) -> int:
    from .core import transfer

    count = transfer.export_file(ctx.store, Path(ctx.args.file), format=ctx.args.format, group=ctx.args.group)
    _out(f"Exported {count} replies to {ctx.args.file} / 已导出 {count} 条")
    return 0


# ---------------------------------------------------------------- groups

def cmd_groups_list(ctx: Ctx) -> int:
    from .core import replies

    groups = replies.list_groups(ctx.store)
    if ctx.args.json:
        _json([g.__dict__ for g in groups])
        return 0
    for g in groups:
        indent = "  " if g.parent_id else ""
        _out(f"{indent}{g.name}  ({g.reply_count})  [id {g.id}]")
    return 0


def cmd_groups_add(ctx: Ctx) -> int:
    from .core import replies

    group = replies.create_group(ctx.store, ctx.args.name, ctx.args.parent)
    _out(f"Added group {group.path} [id {group.id}] / 已添加分组")
    return 0


def cmd_groups_rename(ctx: Ctx) -> int:
    from .core import replies

    group = replies.rename_group(ctx.store, ctx.args.ref, ctx.args.new_name)
    _out(f"Renamed to {group.path} / 已重命名")
    return 0


def cmd_groups_rm(ctx: Ctx) -> int:
    from .core import replies

    group = replies.delete_group(ctx.store, ctx.args.ref, move_to=ctx.args.move_to)
    _out(f"Deleted group {group.path} / 已删除分组")
    return 0


# ---------------------------------------------------------------- backup / restore / doctor

def _backup_folder(ctx: Ctx) -> Path:
    from .core import backup

    if getattr(ctx.args, "dir", None):
        return Path(ctx.args.dir).expanduser().resolve()
    return backup.backup_folder(ctx.store, paths.backup_dir(ctx.data))


def cmd_backup(ctx: Ctx) -> int:
    from .core import backup, settings

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
    from .core import backup, settings

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
        from .platform.detect import describe_backend
    except ImportError:
        return {"backend": "unknown", "reason": "platform layer not installed"}
    return describe_backend()


def cmd_doctor(ctx: Ctx) -> int:
    from .core import backup, integrity, replies, search, settings

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
            report["reindexed"] = search.rebuild_index(store)
    except (KnownError, sqlite3.Error) as exc:
        from .core.store import translate_sqlite_error

        known = translate_sqlite_error(exc, db) if isinstance(exc, sqlite3.Error) else exc
        report["database_error"] = known.en
        problems.append(known.bilingual())
    if paths.data_dir_too_open(ctx.data):
        report.setdefault("warnings", []).append(
            "other users can read or write the data folder (chmod 700 it) / 其他用户可以读写数据目录（请改为 700）")
    report["hotkey_backend"] = _backend_description()
    from .platform.inputmethod import describe as describe_input_method

    report["input_method"] = describe_input_method()  # what is running, what the panel sets at start
    report["problems"] = problems
    if ctx.args.json:
        _json(report)
    else:
        for key, value in report.items():
            _out(f"{key:18} {value}")
    return 1 if problems else 0


def cmd_paste(ctx: Ctx) -> int:
    from .platform.cli_paste import paste_from_cli

    values = dict(_parse_pairs(ctx.args.set or []))
    message = paste_from_cli(ctx.store, ctx.args.ref, values)
    _out(message)
    return 0


def cmd_settings(ctx: Ctx) -> int:
    from .core import settings

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
        settings.reset(ctx.store, [ctx.args.name] if ctx.args.name else None)
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
    covers every option of every command (cli_buyers and cli_handover share this parser)."""
    from .core.checked import is_text

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

    replies_p = sub.add_parser("replies", help="quick replies / 快捷回复", parents=[common])
    rsub = replies_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    p = add(rsub, "list", cmd_replies_list, "list replies / 列出回复", True)
    p.add_argument("--group", help="group id, name or path (售前/问候)")
    p.add_argument("--order", choices=("position", "used", "recent"), default="position")
    p.add_argument("--limit", type=cliout.whole_number())
    p = add(rsub, "search", cmd_replies_search, "search by words, pinyin, initials or code / 搜索", True)
    p.add_argument("query")
    p.add_argument("--group")
    p.add_argument("--limit", type=cliout.whole_number(), default=20)
    p = add(rsub, "show", cmd_replies_show, "show one reply / 查看回复", True)
    p.add_argument("ref", metavar="ID", help="id, uuid or short code")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="fill a field, e.g. 客户=小王 (repeatable)")

    def reply_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--body", help="reply text / 内容")
        p.add_argument("--body-file", metavar="FILE", help="read the text from FILE ('-' = stdin)")
        p.add_argument("--title")
        p.add_argument("--group", help="group path, created if missing (售前/问候)")
        p.add_argument("--code", help="short code / 短码")
        p.add_argument("--lang", help="language code (zh, en, ru, es)")
        p.add_argument("--platform", action="append", help="platform tag (repeatable or comma-separated)")
        p.add_argument("--hotkey", help='e.g. "Ctrl+Alt+1"')
        p.add_argument("--angle", help="chase angle: product, price, logistics, gift, ask")

    p = add(rsub, "add", cmd_replies_add, "add a reply / 新增回复", True)
    reply_options(p)
    p = add(rsub, "edit", cmd_replies_edit, "edit a reply / 修改回复", True)
    p.add_argument("ref", metavar="ID")
    reply_options(p)
    p.add_argument("--clear-code", action="store_true")
    p.add_argument("--clear-hotkey", action="store_true")
    p = add(rsub, "rm", cmd_replies_rm, "delete a reply / 删除回复")
    p.add_argument("ref", metavar="ID")
    p = add(rsub, "import", cmd_replies_import, "import Qianniu CSV/XLSX or kefu JSON / 导入", True)
    p.add_argument("file")
    p.add_argument("--replace", action="store_true", help="replace duplicates instead of skipping them")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    p.add_argument("--format", choices=("qianniu-csv", "qianniu-xlsx", "json"))
    p.add_argument("--keep-braces", action="store_true",
                   help="keep braces that are no fill-in field ({x}) as literal text instead of failing")
    p = add(rsub, "export", cmd_replies_export, "export to Qianniu CSV/XLSX or kefu JSON (by extension) / 导出")
    p.add_argument("file")
    p.add_argument("--group")
    p.add_argument("--format", choices=("qianniu-csv", "qianniu-xlsx", "json"))

    groups_p = sub.add_parser("groups", help="reply groups / 分组", parents=[common])
    gsub = groups_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)
    add(gsub, "list", cmd_groups_list, "list groups / 列出分组", True)
    p = add(gsub, "add", cmd_groups_add, "add a group / 新增分组")
    p.add_argument("name")
    p.add_argument("--parent")
    p = add(gsub, "rename", cmd_groups_rename, "rename a group / 重命名分组")
    p.add_argument("ref")
    p.add_argument("new_name")
    p = add(gsub, "rm", cmd_groups_rm, "delete a group / 删除分组")
    p.add_argument("ref")
    p.add_argument("--move-to", help="move its replies into this group first")

    p = add(sub, "backup", cmd_backup, "back up the database (rotating) / 备份", True)
    p.add_argument("--dir", help="backup folder")
    p.add_argument("--keep", type=cliout.whole_number(1), help="backups to keep")
    p.add_argument("--list", action="store_true", help="list existing backups")
    p = add(sub, "restore", cmd_restore, "restore a backup (verified; the current DB is kept) / 从备份恢复")
    p.add_argument("file")
    p = add(sub, "doctor", cmd_doctor, "paths, versions, integrity, hotkey backend / 诊断", True)
    p.add_argument("--reindex", action="store_true", help="rebuild the search index")
    p = add(sub, "paste", cmd_paste, "copy a reply for pasting (for desktop shortcuts) / 复制回复以粘贴")
    p.add_argument("ref", metavar="CODE")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE")
    p = add(sub, "settings", cmd_settings, "show or change settings / 设置", True)
    p.add_argument("action", nargs="?", choices=("list", "set", "reset"), default="list")
    p.add_argument("name", nargs="?")
    p.add_argument("value", nargs="?")
    from .cli_buyers import register as register_buyers  # buyers, due, promo, cadences

    register_buyers(sub, add, common)
    from .cli_handover import register as register_handover  # shift, log, handover, kpi, calc

    register_handover(sub, add, common)
    from .desktop import register as register_desktop  # desktop-install (Linux menu, autostart)

    register_desktop(sub, add)
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
            from .app import run
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
        from .core.store import translate_sqlite_error

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
