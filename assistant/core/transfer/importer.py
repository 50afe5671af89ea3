"""The import: parse, plan, index, then one write transaction (all or nothing)."""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import (
    ImportFileError,
    KnownError,
    NotFoundError,
    ValidationError,
)
from .. import compliance, holder, replies, search
from ..clock import to_db
from ..fileio.progress import Ticker
from ..store import Store
from .common import (
    QIANNU_CSV,
    QIANNU_XLSX,
    ImportItem,
    ImportPlan,
    ImportResult,
    Phases,
    Progress,
    _err,
    _FileData,
    _old_excel,
    _read_bytes,
    _Target,
)
from .detect import _resolve_format
from .jsonfile import _parse_json
from .plan import _body_key, _make_plan
from .qianniu import _check_fields, _parse_csv, _parse_xlsx

log = logging.getLogger(__name__)

def _parse(path: Path, format: str | None) -> _FileData:
    fmt = _resolve_format(path, format)
    if fmt == QIANNU_CSV:
        return _parse_csv(path)
    if fmt == QIANNU_XLSX:
        head = _read_bytes(path, 8)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise _old_excel()
        if not head.startswith(b"PK"):
            raise _err("不是有效的 xlsx 文件（文件内容不是 zip 压缩包，可能已损坏或被改了扩展名）",
                       "Not a valid .xlsx file (its content is not a zip archive; damaged or renamed?)")
        return _parse_xlsx(path)
    return _parse_json(path)



# ---------------------------------------------------------------- public import API


def _flag(store: Store | None, plan: ImportPlan, targets: dict[str, _Target], kind: str) -> None:
    """The compliance findings of every reply the plan adds or replaces, as it will be saved: its
    text, the group it lands in, and the angle and language it keeps (a Qianniu row replacing a
    reply changes only the text). Flagged replies are imported all the same and listed."""
    rules = compliance.rules_for(store) if store is not None else compliance.load_rules()
    for replacing, items in ((False, plan.to_add), (True, plan.to_replace)):
        for item in items:
            _flag_item(rules, item, targets, replacing and kind not in ("json", "library"))
    plan.flagged = [i for i in plan.to_add + plan.to_replace if i.findings]


def _flag_item(rules: compliance.RuleSet, item: ImportItem, targets: dict[str, _Target], keeps: bool) -> None:
    """keeps: the reply replaced keeps its angle and language (a Qianniu row has neither)."""
    existing = item.existing if keeps else None
    angle = existing.angle if existing is not None else item.angle
    language = existing.language if existing is not None else item.language
    body = (item.body or "").replace("\r\n", "\n").replace("\r", "\n")  # as normalize_fields saves it
    item.findings = compliance.check(body, rules, group_path=targets[item.group_key].path, angle=angle,
                                     language=language or "zh")


def read_file(path: Path | str, format: str | None = None, *, keep_braces: bool = False) -> ImportPlan:
    """Parse and validate a file without touching any store: the plan against an empty library."""
    path = Path(path)
    data = _parse(path, format)
    escaped = _check_fields(data, keep_braces)
    plan, targets, _ = _make_plan(None, data, path, replace=False)
    plan.braces_escaped = escaped
    _flag(None, plan, targets, data.kind)
    return plan


def plan_import(store: Store, path: Path | str, *, replace: bool = False, format: str | None = None,
                progress: Progress | None = None, keep_braces: bool = False) -> ImportPlan:
    """The preview: what import_file would add, replace and skip. Writes nothing."""
    path = Path(path)
    data = _parse(path, format)
    escaped = _check_fields(data, keep_braces)
    plan, targets, _ = _make_plan(store, data, path, replace, progress)
    plan.braces_escaped = escaped
    _flag(store, plan, targets, data.kind)
    return plan


def _create_groups(store: Store, db: Any, data: _FileData, targets: dict[str, _Target], needed: set[str]) -> int:
    created = 0
    new_json = [s for s in data.groups.values() if targets[s.key].id is None and s.uuid and s.key in needed]
    fresh = not store.query("SELECT 1 FROM groups LIMIT 1")
    base = store.query("SELECT IFNULL(max(position), -1) + 1 AS p FROM groups")[0]["p"]
    rank = {s.key: i for i, s in enumerate(sorted(new_json, key=lambda s: s.position or 0))}
    now = to_db(store.clock.now())
    for spec in data.groups.values():
        target = targets[spec.key]
        if target.id is not None or spec.key not in needed:
            continue
        parent = targets[spec.parent] if spec.parent else None
        if spec.uuid:
            position = spec.position if fresh else base + rank[spec.key]
            db.execute("INSERT INTO groups (uuid, name, parent_id, position, created_at, updated_at) "
                       "VALUES (?,?,?,?,?,?)", (spec.uuid, spec.name, parent.id if parent else None, position, now, now))
            target.id = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        else:
            target.id = replies.ensure_group_path(store, target.path.split("/") if parent else [spec.name])
            target.uuid = store.query("SELECT uuid FROM groups WHERE id = ?", (target.id,))[0]["uuid"]
        created += 1
    return created


@dataclass
class _Op:
    """One add or replace with its checked values, ready for the write transaction."""

    kind: str  # "add" | "replace"
    item: ImportItem
    fields: dict[str, Any]  # normalised reply columns (replies.normalize_fields)
    title: str  # the title the reply ends up with (indexed before the transaction)
    body: str


def _ops(plan: ImportPlan, data: _FileData) -> list[_Op]:
    """The plan's adds and replaces with their values checked and normalised: no store needed, so
    this runs before the write transaction. A bad value raises ImportFileError naming its row."""
    todo = [("add", i) for i in plan.to_add] + [("replace", i) for i in plan.to_replace]
    if data.kind == "json":  # keep the file's order inside each group
        todo.sort(key=lambda op: (op[0] != "add", op[1].position or 0))
    ops: list[_Op] = []
    for kind, item in todo:
        if kind == "add":
            changes: dict[str, Any] = {
                "body": item.body, "title": item.title if item.title_given else "", "code": item.code,
                "language": item.language, "platforms": item.platforms,
                "hotkey": None if item.hotkey_dropped else item.hotkey, "angle": item.angle}
        else:
            assert item.existing is not None
            changes = {"body": item.body}
            if item.title_given:
                changes["title"] = item.title
            elif _body_key(item.body) != _body_key(item.existing.body):
                changes["title"] = ""  # derived again from the new text
            if item.code or data.kind != "qianniu":
                changes["code"] = item.code
            if data.kind in ("json", "library"):
                changes.update(language=item.language, platforms=item.platforms, angle=item.angle)
            if data.kind == "json" and not item.hotkey_dropped:
                changes["hotkey"] = item.hotkey
        try:
            fields = replies.normalize_fields(changes)
        except ValidationError as exc:
            raise _row_failed(item, exc) from exc
        title = fields.get("title", item.existing.title if item.existing is not None else "")
        ops.append(_Op(kind, item, fields, title, fields["body"]))
    return ops


def _row_failed(item: ImportItem, exc: KnownError) -> ImportFileError:
    return ImportFileError(f"{item.where_zh}：{exc.zh}（未导入任何内容）",
                           f"{item.where_en}: {exc.en} (nothing was imported)", row=item.row)


def _stamp(store: Store) -> tuple[int, int]:
    """Changes when anything commits to the database: another connection (data_version) or ours."""
    return store.data_version(), store.conn.total_changes


def _write_ops(store: Store, db: Any, ops: list[_Op], targets: dict[str, _Target], new_group_ids: set[str],
               prepared: search.Prepared, tick: Ticker) -> None:
    """Inside the write transaction: per row, the checks that read the store (short code, hotkey,
    id already taken: rows written just before count too) and the insert or update; then every
    index row at once from the analysis made before the transaction."""
    now = to_db(store.clock.now())
    conn = store.conn
    next_position = {gid: p for gid, p in conn.execute(
        "SELECT group_id, max(position) + 1 FROM replies GROUP BY group_id")}
    to_index: list[tuple[int, str, str, int, bool]] = []
    for n, op in enumerate(ops, start=1):
        item, fields = op.item, op.fields
        target_id = targets[item.group_key].id
        assert target_id is not None
        try:
            replies.check_unique(store, fields, item.existing.id if op.kind == "replace" and item.existing else None)
            if op.kind == "add":
                reply_uuid = item.uuid or str(uuidlib.uuid4())
                if item.uuid and conn.execute("SELECT 1 FROM replies WHERE uuid = ?", (reply_uuid,)).fetchone():
                    raise ValidationError(f"已存在 ID 为 {reply_uuid} 的回复", f"A reply with id {reply_uuid} exists")
                position = next_position.get(target_id, 0)
                if item.position is not None and item.group_key in new_group_ids:
                    position = item.position  # a group new from our JSON: the file's order
                cur = conn.execute(
                    "INSERT INTO replies (uuid, group_id, title, body, code, language, platforms, hotkey, angle, "
                    "position, created_at, updated_at, use_count, last_used_at, compliance) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (reply_uuid, target_id, fields["title"], fields["body"], fields["code"], fields["language"],
                     fields["platforms"], fields["hotkey"], fields["angle"], position, item.created_at or now,
                     item.updated_at or now, int(item.use_count or 0), item.last_used_at,
                     compliance.dumps(item.findings)))
                next_position[target_id] = max(next_position.get(target_id, 0), position + 1)
                to_index.append((cur.lastrowid, op.title, op.body, target_id, bool(item.use_count)))
            else:
                assert item.existing is not None
                values = {**fields, "group_id": target_id, "updated_at": now,
                          "compliance": compliance.dumps(item.findings)}
                db.execute(f"UPDATE replies SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                           (*values.values(), item.existing.id))
                to_index.append((item.existing.id, op.title, op.body, target_id, bool(item.existing.use_count)))
        except (ValidationError, NotFoundError) as exc:
            raise _row_failed(item, exc) from exc
        tick(n)
    analysed = search.index_prepared(store, to_index, prepared)
    if analysed:
        log.info("import: %d texts changed after indexing; analysed inside the transaction", analysed)


def import_file(store: Store, path: Path | str, *, replace: bool = False, format: str | None = None,
                progress: Progress | None = None, phases: Phases | None = None,
                keep_braces: bool = False) -> ImportResult:
    """Import all or nothing. progress(done, total) follows the writing of replies; phases(name,
    done, total) every phase: "reading" the file, "indexing" (jieba and pypinyin), "writing".
    keep_braces: braces in Qianniu phrases that are no fill-in field are kept as literal text (else
    they stop the import with ImportBracesError).

    Only the writing holds the database's write lock: the file is read, checked, planned and indexed
    before it, and the transaction plans again only if something was committed meanwhile (texts
    that then differ are indexed inside it). A 30k-row file holds the lock for seconds instead of
    the whole import (tests/benchmarks/bench_import.py)."""
    path = Path(path)

    def phase(name: str, done: int = 0, total: int = 0) -> None:
        if phases is not None:
            phases(name, done, total)

    phase("reading")
    data = _parse(path, format)
    escaped = _check_fields(data, keep_braces)
    phase("reading", len(data.items), len(data.items))
    stamp = _stamp(store)
    plan, targets, needed = _make_plan(store, data, path, replace)
    ops = _ops(plan, data)
    _flag(store, plan, targets, data.kind)
    phase("indexing", 0, len(ops))
    step = max(1, len(ops) // 100)
    prepared = search.prepare_texts(store, [(op.title, op.body) for op in ops],
                                    lambda done, total: (done % step == 0 or done == total)
                                    and phase("indexing", done, total))
    with holder.marked(store.path):
        with store.write() as db:
            if _stamp(store) != stamp:  # another program wrote since the plan: plan again, under the lock
                log.info("import: the library changed while indexing; planning again")
                plan, targets, needed = _make_plan(store, data, path, replace)
                ops = _ops(plan, data)
                _flag(store, plan, targets, data.kind)
            phase("writing", 0, len(ops))
            new_group_ids = {k for k, t in targets.items() if t.id is None}
            groups_created = _create_groups(store, db, data, targets, needed)

            def ticked(done: int, total: int) -> None:
                if progress is not None:
                    progress(done, total)
                phase("writing", done, total)

            tick = Ticker(ticked, len(ops))
            tick(0)
            _write_ops(store, db, ops, targets, new_group_ids, prepared, tick)
        if ops:
            # The transaction went through the WAL: give its space back now, not at the next reset.
            store.checkpoint()
    log.info("imported %s: %d added, %d replaced, %d skipped, %d groups created, %d flagged by the compliance "
             "check", path.name, len(plan.to_add), len(plan.to_replace), len(plan.skipped), groups_created,
             len(plan.flagged))
    return ImportResult(added=len(plan.to_add), replaced=len(plan.to_replace), skipped=len(plan.skipped),
                        skipped_items=plan.skipped, warnings=plan.warnings, groups_created=groups_created,
                        braces_escaped=escaped, flagged=plan.flagged)
