"""`kefu replies …` and `kefu groups …`: list, search, show, add, edit, delete, import and export
quick replies; manage their groups. assistant/cli/main.py calls register(sub, add, common)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import paths
from ..errors import ValidationError
from . import out as cliout
from .out import parse_pairs

if TYPE_CHECKING:
    from .main import Ctx

_out = cliout.out
_json = cliout.json_out
_table = cliout.table


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
    from ..core import replies

    items = replies.list_replies(ctx.store, ctx.args.group, order=ctx.args.order, limit=ctx.args.limit)
    if ctx.args.json:
        _json([_reply_json(r) for r in items])
        return 0
    _table([[str(r.id), r.code or "", r.hotkey or "", r.group_path, r.title, r.body] for r in items],
           ["ID", "短码", "快捷键", "分组", "标题", "内容"], [7, 10, 12, 18, 20, 40])
    _out(f"{len(items)} replies / 共 {len(items)} 条")
    return 0


def cmd_replies_search(ctx: Ctx) -> int:
    from ..core import replies, search

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


def cmd_replies_suggest(ctx: Ctx) -> int:
    """The best replies for a buyer's message, as the panel's suggestion hotkey shows them."""
    from ..core import replies, search

    message = ctx.args.message
    if message == "-":
        raw = sys.stdin.buffer.read()
        try:
            message = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("输入不是 UTF-8 文本", "The message on stdin is not UTF-8 text",
                                  field="message") from None
    if not message.strip():
        raise ValidationError("请给出买家的消息", "Give the buyer's message", field="message")
    search.start_background_loading(paths.cache_dir(ctx.data)).join()
    found = replies.suggest(ctx.store, message, limit=ctx.args.limit)
    if ctx.args.json:
        _json([{"rank": n, **_reply_json(r), "how": h.how} for n, (h, r) in enumerate(found, 1)])
        return 0
    if not found:
        _out("No reply fits this message / 没有合适的回复")
        return 0
    _table([[str(n), str(r.id), r.code or "", r.title, r.body] for n, (_, r) in enumerate(found, 1)],
           ["#", "ID", "短码", "标题", "内容"], [3, 7, 10, 20, 56])
    return 0


def cmd_replies_synonyms(ctx: Ctx) -> int:
    """The synonym groups search uses: shipped, and the shop's own (add/rm)."""
    from ..core import replies

    action, words = ctx.args.action, ctx.args.words
    if action == "add":
        groups = replies.add_synonyms(ctx.store, words, shop=ctx.args.shop)
        _out(f"Added group {len(groups)}: {' / '.join(groups[-1])} / 已添加第 {len(groups)} 组")
        return 0
    if action == "rm":
        if len(words) != 1 or not words[0].isdigit():
            raise ValidationError("请给出要删除的组号（见 kefu replies synonyms）",
                                  "Give the number of the group to remove (see kefu replies synonyms)", field="synonyms")
        gone = replies.remove_synonyms(ctx.store, int(words[0]))
        _out(f"Removed: {' / '.join(gone)} / 已删除")
        return 0
    shop, shipped = replies.shop_synonyms(ctx.store), replies.shipped_synonyms()
    if ctx.args.json:
        _json({"shop": shop, "shipped": shipped})
        return 0
    _out("店铺同义词 / The shop's synonyms:" + ("" if shop else " (none / 无)"))
    for n, group in enumerate(replies.synonym_groups(ctx.store), 1):
        # team mode: a shop's group (its supervisor keeps it) says which shop
        where = f"  [店铺 shop: {group.shop_name or group.shop}]" if group.shop else ""
        _out(f"  {n}. {' / '.join(group.words)}{where}")
    _out("内置同义词 / Shipped:")
    for group in shipped:
        _out(f"     {' / '.join(group)}")
    return 0


def cmd_replies_show(ctx: Ctx) -> int:
    from ..core import replies, templates

    reply = replies.get_reply(ctx.store, ctx.args.ref)
    values = dict(parse_pairs(ctx.args.set or []))
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


# ---------------------------------------------------------------- compliance (assistant/core/compliance.py)

def _rules_problem(ctx: Ctx) -> None:
    """The shop's rules file is malformed: said once, on stderr (the shipped rules still apply)."""
    from ..core import compliance

    problem = compliance.rules_for(ctx.store).problem
    if problem is not None:
        sys.stderr.write(f"Warning: {problem[1]} / 警告：{problem[0]}\n")


def _finding_line(f: Any) -> str:
    text = " ".join(f.text.split())
    return (f"[{f.rule}] {f.category_en} \"{text}\": {f.message_en} Try: {f.suggestion_en} "
            f"/ {f.category_zh}“{text}”：{f.message_zh} 建议：{f.suggestion_zh}")


def _warn_findings(reply: Any) -> None:
    for f in reply.compliance:
        sys.stderr.write(f"Warning: compliance {_finding_line(f)}\n")


def _strict_refused(exc: Any) -> int:
    for f in exc.findings:
        sys.stderr.write(f"Flagged: {_finding_line(f)}\n")
    cliout.error(exc.bilingual())
    return exc.exit_code


def cmd_replies_add(ctx: Ctx) -> int:
    from ..core import compliance, replies

    changes = _reply_changes(ctx.args)
    if "body" not in changes:
        raise ValidationError("请用 --body 或 --body-file 给出回复内容", "Give the reply text with --body or --body-file")
    _rules_problem(ctx)
    try:
        reply = replies.create_reply(ctx.store, strict=ctx.args.strict, **changes)
    except compliance.FlaggedError as exc:
        return _strict_refused(exc)
    if ctx.args.json:
        _json(_reply_json(reply))
    else:
        _out(f"Added reply {reply.id} ({reply.code or reply.uuid}) / 已添加：{reply.title}")
    _warn_findings(reply)
    return 0


def cmd_replies_edit(ctx: Ctx) -> int:
    from ..core import compliance, replies

    changes = _reply_changes(ctx.args)
    if ctx.args.clear_code:
        changes["code"] = None
    if ctx.args.clear_hotkey:
        changes["hotkey"] = None
    if not changes:
        raise ValidationError("没有要修改的内容（见 --help）", "Nothing to change (see --help)")
    _rules_problem(ctx)
    try:
        reply = replies.update_reply(ctx.store, ctx.args.ref, strict=ctx.args.strict, **changes)
    except compliance.FlaggedError as exc:
        return _strict_refused(exc)
    if ctx.args.json:
        _json(_reply_json(reply))
    else:
        _out(f"Updated reply {reply.id} / 已修改：{reply.title}")
    _warn_findings(reply)
    return 0


def cmd_replies_check(ctx: Ctx) -> int:
    """Check a text without saving it (--body/--body-file), or list the library's flagged replies."""
    from ..core import compliance, replies

    _rules_problem(ctx)
    body = _read_body(ctx.args)
    if body is not None:
        found = compliance.check(body, compliance.rules_for(ctx.store), group_path=ctx.args.group or "",
                                 angle=ctx.args.angle, language=ctx.args.lang or "zh")
        if ctx.args.json:
            _json([f.to_dict() for f in found])
        elif found:
            for f in found:
                _out(_finding_line(f))
        else:
            _out("No compliance findings / 未发现合规问题")
        return compliance.FlaggedError.exit_code if found and ctx.args.strict else 0
    flagged = replies.flagged_replies(ctx.store)
    if ctx.args.json:
        _json([_reply_json(r) for r in flagged])
    else:
        for r in flagged:
            _out(f"{r.id}  {r.group_path}  {r.title}")
            for f in r.compliance:
                _out(f"    {_finding_line(f)}")
        _out(f"{len(flagged)} flagged replies / 共 {len(flagged)} 条有合规提示")
    return compliance.FlaggedError.exit_code if flagged and ctx.args.strict else 0


def cmd_replies_rm(ctx: Ctx) -> int:
    from ..core import replies

    reply = replies.delete_reply(ctx.store, ctx.args.ref)
    _out(f"Deleted reply {reply.id} ({reply.uuid}) / 已删除：{reply.title}")
    return 0


def cmd_replies_import(ctx: Ctx) -> int:
    from ..core import transfer
    from ..errors import ImportBracesError

    path = Path(ctx.args.file)
    keep = ctx.args.keep_braces
    try:
        if ctx.args.dry_run:
            plan = transfer.plan_import(ctx.store, path, replace=ctx.args.replace, format=ctx.args.format,
                                        keep_braces=keep)
            summary = {"add": len(plan.to_add), "replace": len(plan.to_replace), "skip": len(plan.skipped),
                       "braces_kept": plan.braces_escaped, "flagged": len(plan.flagged)}
            if ctx.args.json:
                _json({**summary, "skipped": [_item(s) for s in plan.skipped],
                       "flagged_items": [_flagged_json(i) for i in plan.flagged]})
            else:
                _out(f"Would add {summary['add']}, replace {summary['replace']}, skip {summary['skip']} "
                     f"/ 将新增 {summary['add']} 条，替换 {summary['replace']} 条，跳过 {summary['skip']} 条（未写入）")
                _print_braces(plan.braces_escaped)
                _print_skipped(plan.skipped)
                _print_flagged(plan.flagged, "would be flagged", "条将带合规提示导入")
            return 0
        shown = None if ctx.args.json else ImportProgress(sys.stderr)
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
               "skipped": [_item(s) for s in result.skipped_items], "flagged": len(result.flagged),
               "flagged_items": [_flagged_json(i) for i in result.flagged]})
    else:
        _out(f"Imported: {result.added} added, {result.replaced} replaced, {len(result.skipped_items)} skipped "
             f"/ 导入完成：新增 {result.added} 条，替换 {result.replaced} 条，跳过 {len(result.skipped_items)} 条")
        _print_braces(result.braces_escaped)
        _print_skipped(result.skipped_items)
        _print_flagged(result.flagged, "imported with compliance findings", "条已导入，但有合规提示")
    return 0


def _flagged_json(item: Any) -> dict:
    return {"row": item.row, "where": item.where_en, "title": item.title, "group": item.group_path,
            "findings": [f.to_dict() for f in item.findings]}


def _print_flagged(items: Sequence[Any], en: str, zh: str) -> None:
    """An import's flagged replies: the count, then one line each (the import itself went through)."""
    if not items:
        return
    _out(f"  {len(items)} {en} / {len(items)} {zh}:")
    for item in items[:50]:
        found = "; ".join(f"{f.category_en} \"{' '.join(f.text.split())}\"" for f in item.findings)
        found_zh = "；".join(f"{f.category_zh}“{' '.join(f.text.split())}”" for f in item.findings)
        _out(f"  flagged {item.where_en} {item.title}: {found} / {found_zh}")
    if len(items) > 50:
        _out(f"  … {len(items) - 50} more")


def _print_braces(count: int) -> None:
    if count:
        _out(f"  {count} brace(s) that are no fill-in field kept as literal text "
             f"/ {count} 处不是填空字段的花括号已原样保留")


class ImportProgress:
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
    from ..core import transfer

    count = transfer.export_file(ctx.store, Path(ctx.args.file), format=ctx.args.format, group=ctx.args.group)
    _out(f"Exported {count} replies to {ctx.args.file} / 已导出 {count} 条")
    return 0


# ---------------------------------------------------------------- groups

def cmd_groups_list(ctx: Ctx) -> int:
    from ..core import replies

    groups = replies.list_groups(ctx.store)
    if ctx.args.json:
        _json([g.__dict__ for g in groups])
        return 0
    for g in groups:
        indent = "  " if g.parent_id else ""
        _out(f"{indent}{g.name}  ({g.reply_count})  [id {g.id}]")
    return 0


def cmd_groups_add(ctx: Ctx) -> int:
    from ..core import replies

    group = replies.create_group(ctx.store, ctx.args.name, ctx.args.parent)
    _out(f"Added group {group.path} [id {group.id}] / 已添加分组")
    return 0


def cmd_groups_rename(ctx: Ctx) -> int:
    from ..core import replies

    group = replies.rename_group(ctx.store, ctx.args.ref, ctx.args.new_name)
    _out(f"Renamed to {group.path} / 已重命名")
    return 0


def cmd_groups_rm(ctx: Ctx) -> int:
    from ..core import replies

    group = replies.delete_group(ctx.store, ctx.args.ref, move_to=ctx.args.move_to)
    _out(f"Deleted group {group.path} / 已删除分组")
    return 0


def register(sub: Any, add: Any, common: argparse.ArgumentParser) -> None:
    """Called by assistant/cli/main.py build_parser: adds replies and groups."""
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
    p = add(rsub, "suggest", cmd_replies_suggest, "the best replies for a buyer's message / 按买家消息推荐回复",
            True)
    p.add_argument("message", help="the buyer's message as they wrote it ('-' = read it from stdin)")
    p.add_argument("--limit", type=cliout.whole_number(), default=3)
    p = add(rsub, "synonyms", cmd_replies_synonyms,
            "the words search treats as the same: list, add WORD WORD…, rm N / 搜索同义词", True)
    p.add_argument("action", nargs="?", choices=("list", "add", "rm"), default="list")
    p.add_argument("words", nargs="*", help="add: the words of one group; rm: the group's number")
    p.add_argument("--shop", help="team mode, add: the shop whose group it is (default: every shop you serve)")
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

    strict_help = ("refuse to save a text the compliance check flags (exit 7, nothing saved) "
                   "/ 有合规提示时不保存")
    p = add(rsub, "add", cmd_replies_add, "add a reply / 新增回复", True)
    reply_options(p)
    p.add_argument("--strict", action="store_true", help=strict_help)
    p = add(rsub, "edit", cmd_replies_edit, "edit a reply / 修改回复", True)
    p.add_argument("ref", metavar="ID")
    reply_options(p)
    p.add_argument("--strict", action="store_true", help=strict_help)
    p.add_argument("--clear-code", action="store_true")
    p.add_argument("--clear-hotkey", action="store_true")
    p = add(rsub, "check", cmd_replies_check,
            "compliance check: a text (--body) or the library's flagged replies / 合规检查", True)
    p.add_argument("--body", help="text to check without saving it / 要检查的文字（不保存）")
    p.add_argument("--body-file", metavar="FILE", help="read the text from FILE ('-' = stdin)")
    p.add_argument("--group", help="the group it would be in (售后… groups get the after-sales rules)")
    p.add_argument("--angle", help="chase angle")
    p.add_argument("--lang", help="language code")
    p.add_argument("--strict", action="store_true", help="exit 7 when anything is flagged / 有提示时返回 7")
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
