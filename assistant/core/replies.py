"""Quick replies (快捷回复) and their groups: create, edit, delete, usage, default library.

Every write runs in one store.write() transaction and updates the search index in that same
transaction, so the index can never disagree with the replies after a crash.
"""

from __future__ import annotations

import json
import logging
import re
import uuid as uuidlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import NotFoundError, ValidationError
from ..paths import resource_path
from . import checked, compliance, hotkeys, outbox, search, settings, templates
from .clock import to_db
from .store import Store

log = logging.getLogger(__name__)

UNGROUPED = "未分组"
ANGLES = ("product", "price", "logistics", "gift", "ask")
ANGLE_NAMES_ZH = {"product": "商品", "price": "价格", "logistics": "物流", "gift": "赠品", "ask": "询问顾虑"}
CODE_RE = re.compile(r"^[A-Za-z0-9_\-./#]{1,24}$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
PLATFORM_RE = re.compile(r"^[a-z0-9_\-]{1,24}$")
MAX_TITLE = 80
MAX_BODY = 20_000


@dataclass
class Group:
    id: int
    uuid: str
    name: str
    parent_id: int | None
    position: int
    reply_count: int = 0
    path: str = ""  # "售前/问候"


@dataclass
class Reply:
    id: int
    uuid: str
    group_id: int
    title: str
    body: str
    code: str | None
    language: str
    platforms: list[str]
    hotkey: str | None
    angle: str | None
    position: int
    created_at: str
    updated_at: str
    use_count: int
    last_used_at: str | None
    group_path: str = ""
    fields: list[str] = field(default_factory=list)
    shop: str | None = None  # team mode: the uuid of the shop library this reply belongs to
    shop_version: int | None = None  # the server's version this copy was read at
    # What the compliance check found when the reply was saved (core/compliance.py); [] = nothing.
    compliance: list[compliance.Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


_REPLY_COLS = ("id, uuid, group_id, title, body, code, language, platforms, hotkey, angle, position, "
               "created_at, updated_at, use_count, last_used_at, shop, shop_version, compliance")


def _row_to_reply(row: dict, paths: dict[int, str] | None = None) -> Reply:
    data = dict(row)
    data["platforms"] = checked.text_list(data["platforms"], table="replies", column="platforms", row_id=data["id"])
    data["compliance"] = compliance.loads(data["compliance"])
    reply = Reply(**data)
    if paths is not None:
        reply.group_path = paths.get(reply.group_id, "")
    try:
        reply.fields = templates.fields_in(reply.body)
    except ValidationError:
        reply.fields = []
    return reply


# ---------------------------------------------------------------- groups

def _groups(store: Store, with_counts: bool) -> list[Group]:
    count = ("(SELECT count(*) FROM replies r WHERE r.group_id = g.id)" if with_counts else "0")
    rows = store.query(f"SELECT g.id, g.uuid, g.name, g.parent_id, g.position, {count} AS reply_count "
                       "FROM groups g ORDER BY g.position, g.id")
    groups = [Group(**r) for r in rows]
    by_id = {g.id: g for g in groups}
    for g in groups:
        parent = by_id.get(g.parent_id) if g.parent_id else None
        g.path = f"{parent.name}/{g.name}" if parent else g.name
    # Parents first, each followed by its children: the order a tree view shows.
    ordered: list[Group] = []
    for g in groups:
        if g.parent_id is None:
            ordered.append(g)
            ordered.extend(c for c in groups if c.parent_id == g.id)
    return ordered


def list_groups(store: Store) -> list[Group]:
    """All groups in tree order, with their reply counts."""
    return _groups(store, with_counts=True)


def group_paths(store: Store) -> dict[int, str]:
    # No counts: this runs on every reply fetch, and counting is O(library).
    return {g.id: g.path for g in _groups(store, with_counts=False)}


def get_group(store: Store, ref: str | int) -> Group:
    """A group by id (an int), or by uuid, path ("售前/问候"), unique name, or a numeric string id."""
    groups = _groups(store, with_counts=False)
    if isinstance(ref, int):
        for g in groups:
            if g.id == ref:
                return g
        raise NotFoundError(f"没有找到分组 {ref}", f"No group {ref}")
    text = str(ref).strip()
    # A name or path wins over a numeric id: a group may well be called "618".
    for g in groups:
        if g.uuid == text or g.path == text:
            return g
    named = [g for g in groups if g.name == text]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValidationError(
            f"有多个名为“{text}”的分组，请写完整路径，例如 {named[0].path}",
            f"Several groups are named '{text}'; give the full path, e.g. {named[0].path}", field="group")
    if text.isdigit():
        for g in groups:
            if g.id == int(text):
                return g
    raise NotFoundError(f"没有找到分组“{text}”", f"No group '{text}'")


def _clean_name(name: str) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise ValidationError("分组名不能为空", "A group name cannot be empty", field="name")
    if "/" in cleaned:
        raise ValidationError("分组名不能包含“/”", "A group name cannot contain '/'", field="name")
    if len(cleaned) > 40:
        raise ValidationError("分组名最多 40 个字", "A group name has at most 40 characters", field="name")
    return cleaned


def create_group(store: Store, name: str, parent: str | int | None = None) -> Group:
    name = _clean_name(name)
    with store.write() as db:
        parent_id = None
        if parent not in (None, ""):
            parent_group = get_group(store, parent)
            if parent_group.parent_id is not None:
                raise ValidationError("分组最多两层：不能在子分组下再建分组",
                                      "Groups nest one level only", field="parent")
            parent_id = parent_group.id
        exists = store.query("SELECT id FROM groups WHERE IFNULL(parent_id, 0) = ? AND name = ?",
                             (parent_id or 0, name))
        if exists:
            raise ValidationError(f"分组“{name}”已存在", f"Group '{name}' already exists", field="name")
        now = to_db(store.clock.now())
        position = store.query("SELECT IFNULL(max(position), -1) + 1 AS p FROM groups")[0]["p"]
        db.execute(
            "INSERT INTO groups (uuid, name, parent_id, position, created_at, updated_at) VALUES (?,?,?,?,?,?)",
            (str(uuidlib.uuid4()), name, parent_id, position, now, now))
        new_id = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    return get_group(store, new_id)


def ensure_group_path(store: Store, path: str | Sequence[str]) -> int:
    """Id of the group at "parent/child" (or [parent, child]), creating what is missing.
    Call inside a store.write() transaction when part of a bigger write."""
    parts = [p.strip() for p in (path.split("/") if isinstance(path, str) else path) if p and p.strip()]
    if not parts:
        parts = [UNGROUPED]
    if len(parts) > 2:
        parts = [parts[0], "·".join(parts[1:])]
    parent_id: int | None = None
    with store.write() as db:
        for name in parts:
            name = _clean_name(name)
            rows = store.query("SELECT id FROM groups WHERE IFNULL(parent_id, 0) = ? AND name = ?",
                               (parent_id or 0, name))
            if rows:
                parent_id = rows[0]["id"]
                continue
            now = to_db(store.clock.now())
            position = store.query("SELECT IFNULL(max(position), -1) + 1 AS p FROM groups")[0]["p"]
            db.execute("INSERT INTO groups (uuid, name, parent_id, position, created_at, updated_at) "
                       "VALUES (?,?,?,?,?,?)", (str(uuidlib.uuid4()), name, parent_id, position, now, now))
            parent_id = db.execute("SELECT last_insert_rowid()").fetchone()[0]
    assert parent_id is not None
    return parent_id


def rename_group(store: Store, ref: str | int, new_name: str) -> Group:
    new_name = _clean_name(new_name)
    with store.write() as db:
        group = get_group(store, ref)
        clash = store.query("SELECT id FROM groups WHERE IFNULL(parent_id,0) = ? AND name = ? AND id != ?",
                            (group.parent_id or 0, new_name, group.id))
        if clash:
            raise ValidationError(f"分组“{new_name}”已存在", f"Group '{new_name}' already exists", field="name")
        db.execute("UPDATE groups SET name = ?, updated_at = ? WHERE id = ?",
                   (new_name, to_db(store.clock.now()), group.id))
        search.reindex_group(store, group.id)
        # a group that becomes (or stops being) an after-sales group changes what applies to its replies
        recheck_compliance(store, _reply_ids_in(store, [group.id] + [
            g.id for g in _groups(store, False) if g.parent_id == group.id]))
    return get_group(store, group.id)


def delete_group(store: Store, ref: str | int, move_to: str | int | None = None) -> Group:
    """Delete an empty group; with move_to, its replies (and sub-groups' replies) move there first."""
    with store.write() as db:
        group = get_group(store, ref)
        children = [g for g in _groups(store, False) if g.parent_id == group.id]
        ids = [group.id] + [c.id for c in children]
        count = store.query(f"SELECT count(*) AS n FROM replies WHERE group_id IN ({','.join('?' * len(ids))})",
                            tuple(ids))[0]["n"]
        if count and move_to is None:
            raise ValidationError(
                f"分组“{group.path}”里还有 {count} 条回复；请先移走，或指定要移入的分组",
                f"Group '{group.path}' still holds {count} replies; move them first or name a target group",
                field="group")
        if count:
            target = get_group(store, move_to)
            if target.id in ids:
                raise ValidationError("不能移入要删除的分组本身", "Cannot move replies into the group being deleted")
            now = to_db(store.clock.now())
            db.execute(f"UPDATE replies SET group_id = ?, updated_at = ? WHERE group_id IN "
                       f"({','.join('?' * len(ids))})", (target.id, now, *ids))
            search.reindex_group(store, target.id)
            recheck_compliance(store, _reply_ids_in(store, [target.id]))
        for gid in [c.id for c in children] + [group.id]:
            db.execute("DELETE FROM groups WHERE id = ?", (gid,))
    return group


# ---------------------------------------------------------------- replies

def validate_fields(store: Store, values: dict, reply_id: int | None) -> dict:
    """Check and normalise user-given reply fields; raises ValidationError naming the field."""
    out = normalize_fields(values)
    check_unique(store, out, reply_id)
    return out


def check_unique(store: Store, out: dict, reply_id: int | None) -> None:
    """The checks of validate_fields that read the store: a short code or hotkey already in use.
    An import runs these inside its write transaction, row by row, like create_reply does."""
    code = out.get("code")
    if code is not None:
        clash = store.query("SELECT id, title FROM replies WHERE code = ? COLLATE NOCASE AND id != ?",
                            (code, reply_id or 0))
        if clash:
            raise code_taken(code, clash[0]["title"])
    hk = out.get("hotkey")
    if hk is not None:
        owner = hotkey_owner(store, hk, exclude_reply=reply_id)
        if owner:
            raise hotkey_taken(hk, owner)


def code_taken(code: str, title: str) -> ValidationError:
    return ValidationError(f"短码“{code}”已被回复“{title}”使用", f"Short code '{code}' is already used by '{title}'",
                           field="code")


def hotkey_taken(hotkey: str, owner: tuple[str, str]) -> ValidationError:
    return ValidationError(f"快捷键 {hotkey} 已被“{owner[0]}”使用", f"Hotkey {hotkey} is already used by '{owner[1]}'",
                           field="hotkey")


def derived_title(body: str) -> str:
    """The title a reply saved without one gets: its first line, cut short (imports preview it)."""
    return body.strip().splitlines()[0][:20]


def normalize_fields(values: dict) -> dict:
    """The checks of validate_fields that need no store (an import runs them before its write
    transaction): normalised values, or a ValidationError naming the field."""
    out = dict(values)
    if "body" in out:
        body = (out["body"] or "").replace("\r\n", "\n").replace("\r", "\n")
        if not body.strip():
            raise ValidationError("回复内容不能为空", "The reply text cannot be empty", field="body")
        if len(body) > MAX_BODY:
            raise ValidationError(f"回复内容过长（最多 {MAX_BODY} 字）", f"The reply is too long (max {MAX_BODY})",
                                  field="body")
        if "\x00" in body:
            raise ValidationError("回复内容含有非法字符（NUL）", "The reply contains a NUL character", field="body")
        templates.validate(body)
        out["body"] = body
    if "title" in out:
        title = (out["title"] or "").strip().replace("\n", " ")
        if not title and "body" in out:
            title = derived_title(out["body"])
        if not title:
            raise ValidationError("标题不能为空", "The title cannot be empty", field="title")
        out["title"] = title[:MAX_TITLE]
    if "code" in out:
        code = (out["code"] or "").strip() or None
        if code is not None and not CODE_RE.match(code):
            raise ValidationError(f"短码“{code}”只能包含字母、数字和 _ - . / #，最长 24 位",
                                  f"Short code '{code}' may hold letters, digits and _ - . / # (max 24)",
                                  field="code")
        out["code"] = code
    if "hotkey" in out:
        hk = (out["hotkey"] or "").strip() or None
        if hk is not None:
            hk = hotkeys.normalize(hk)
        out["hotkey"] = hk
    if "language" in out:
        lang = (out["language"] or "zh").strip()
        if not LANG_RE.match(lang):
            raise ValidationError(f"语言代码“{lang}”无效（例如 zh、en、ru、es）",
                                  f"Invalid language code '{lang}' (e.g. zh, en, ru, es)", field="language")
        out["language"] = lang
    if "platforms" in out:
        tags = out["platforms"] or []
        if isinstance(tags, str):
            tags = [t for t in re.split(r"[,，\s]+", tags) if t]
        clean: list[str] = []
        for tag in tags:
            tag = str(tag).strip().lower()
            if not PLATFORM_RE.match(tag):
                raise ValidationError(f"平台标签“{tag}”无效", f"Invalid platform tag '{tag}'", field="platforms")
            if tag not in clean:
                clean.append(tag)
        out["platforms"] = json.dumps(clean, ensure_ascii=False)
    if "angle" in out:
        angle = (out["angle"] or "").strip() or None
        if angle is not None and angle not in ANGLES:
            raise ValidationError(f"催单角度“{angle}”无效，可选：{'、'.join(ANGLES)}",
                                  f"Invalid chase angle '{angle}'; one of {', '.join(ANGLES)}", field="angle")
        out["angle"] = angle
    return out


def hotkey_owner(store: Store, hotkey: str, exclude_reply: int | None = None,
                 exclude_action: str | None = None) -> tuple[str, str] | None:
    """(zh, en) description of whatever already uses this hotkey: a reply or a global action."""
    rows = store.query("SELECT id, title FROM replies WHERE hotkey = ? AND id != ?", (hotkey, exclude_reply or 0))
    if rows:
        return (f"回复：{rows[0]['title']}", f"reply: {rows[0]['title']}")
    for action, key in settings.get(store, "hotkeys.actions").items():
        if key == hotkey and action != exclude_action:
            _, zh, en = settings.ACTIONS[action]
            return (f"全局操作：{zh}", f"global action: {en}")
    return None


def create_reply(store: Store, *, body: str, title: str = "", group: str | int | None = None,
                 code: str | None = None, language: str = "zh", platforms: Iterable[str] = (),
                 hotkey: str | None = None, angle: str | None = None, uuid: str | None = None,
                 created_at: str | None = None, updated_at: str | None = None, use_count: int = 0,
                 last_used_at: str | None = None, strict: bool = False) -> Reply:
    """Add a reply. Its compliance findings are stored with it; strict: a text with findings is
    refused (compliance.FlaggedError) and nothing is saved."""
    with store.write() as db:
        values = validate_fields(store, {
            "body": body, "title": title, "code": code, "language": language,
            "platforms": list(platforms), "hotkey": hotkey, "angle": angle}, None)
        if isinstance(group, int):
            group_id = get_group(store, group).id
        elif group in (None, ""):
            group_id = ensure_group_path(store, UNGROUPED)
        else:
            try:
                group_id = get_group(store, group).id
            except NotFoundError:
                group_id = ensure_group_path(store, str(group))
        now = to_db(store.clock.now())
        reply_uuid = uuid or str(uuidlib.uuid4())
        if store.query("SELECT 1 FROM replies WHERE uuid = ?", (reply_uuid,)):
            raise ValidationError(f"已存在 ID 为 {reply_uuid} 的回复", f"A reply with id {reply_uuid} exists")
        position = store.query("SELECT IFNULL(max(position), -1) + 1 AS p FROM replies WHERE group_id = ?",
                               (group_id,))[0]["p"]
        cur = db.execute(
            "INSERT INTO replies (uuid, group_id, title, body, code, language, platforms, hotkey, angle, "
            "position, created_at, updated_at, use_count, last_used_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (reply_uuid, group_id, values["title"], values["body"], values["code"], values["language"],
             values["platforms"], values["hotkey"], values["angle"], position, created_at or now,
             updated_at or now, int(use_count or 0), last_used_at))
        reply_id = cur.lastrowid
        reply = _flag(store, get_reply(store, reply_id), strict)
        search.index_reply(store, reply)
    return reply


EDITABLE = ("title", "body", "code", "language", "platforms", "hotkey", "angle", "group")
# What an agent may change on a shop reply: its own hotkey stays on this PC and is never synced.
LOCAL_FIELDS = frozenset({"hotkey"})


def update_reply(store: Store, ref: str | int, *, strict: bool = False, **changes: object) -> Reply:
    """Change a reply; its compliance findings are checked again and stored with it. strict: the
    changed reply must have no findings, or compliance.FlaggedError and nothing is saved."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with store.write() as db:
        reply = get_reply(store, ref)
        shared = reply.shop is not None and bool(set(changes) - LOCAL_FIELDS)
        if shared:
            _require_supervisor(store, reply)
        group = changes.pop("group", None)
        values = validate_fields(store, {k: v for k, v in changes.items()}, reply.id)
        if group not in (None, ""):
            try:
                values["group_id"] = get_group(store, group).id  # type: ignore[arg-type]
            except NotFoundError:
                values["group_id"] = ensure_group_path(store, str(group))
        if not values:
            return reply
        values["updated_at"] = to_db(store.clock.now())
        assignments = ", ".join(f"{k} = ?" for k in values)
        db.execute(f"UPDATE replies SET {assignments} WHERE id = ?", (*values.values(), reply.id))
        if shared:
            db.execute("UPDATE replies SET shop_version = ? WHERE id = ?", ((reply.shop_version or 0) + 1, reply.id))
        updated = _flag(store, get_reply(store, reply.id), strict)
        if shared:
            outbox.add(store, "shop_reply.update", updated.uuid,
                       {"expected_version": reply.shop_version, **shop_payload(updated)})
        search.index_reply(store, updated)
    return updated


def delete_reply(store: Store, ref: str | int) -> Reply:
    """Delete and return the reply (the UI keeps it to offer undo through restore_reply)."""
    with store.write() as db:
        reply = get_reply(store, ref)
        if reply.shop is not None:
            _require_supervisor(store, reply)
            # a tombstone on the server (deleted = true, version + 1): offline panels learn of it
            outbox.add(store, "shop_reply.delete", reply.uuid, {"expected_version": reply.shop_version})
            reply.shop_version = (reply.shop_version or 0) + 1
        search.remove_reply(store, reply.id)
        db.execute("DELETE FROM replies WHERE id = ?", (reply.id,))
    return reply


def restore_reply(store: Store, reply: Reply) -> Reply:
    """Undo a delete: the same uuid, texts, usage and timestamps come back."""
    group: str | int = reply.group_id
    if not store.query("SELECT 1 FROM groups WHERE id = ?", (reply.group_id,)):
        group = reply.group_path or UNGROUPED
    with store.write() as db:
        restored = create_reply(store, body=reply.body, title=reply.title, group=group, code=reply.code,
                                language=reply.language, platforms=reply.platforms, hotkey=reply.hotkey,
                                angle=reply.angle, uuid=reply.uuid, created_at=reply.created_at,
                                updated_at=reply.updated_at, use_count=reply.use_count,
                                last_used_at=reply.last_used_at)
        if reply.shop is not None:
            # undoing a shop delete lifts the tombstone: one more version on the server
            db.execute("UPDATE replies SET shop = ?, shop_version = ? WHERE id = ?",
                       (reply.shop, (reply.shop_version or 0) + 1, restored.id))
            restored = get_reply(store, restored.id)
            outbox.add(store, "shop_reply.update", restored.uuid,
                       {"expected_version": reply.shop_version, **shop_payload(restored)})
    return restored


# ---------------------------------------------------------------- compliance flags
# Checked when a reply is written (here and in core/transfer's import), never when it is pasted.

COMPLIANCE_KEY = "compliance.rules"  # settings: the signature of the rules the stored flags were made with


def _flag(store: Store, reply: Reply, strict: bool = False) -> Reply:
    """Check a reply just written, inside its write transaction, and store the findings with it.
    strict: findings raise compliance.FlaggedError, which rolls the whole write back."""
    found = compliance.check(reply.body, compliance.rules_for(store), group_path=reply.group_path,
                             angle=reply.angle, language=reply.language)
    if strict and found:
        raise compliance.FlaggedError(found)
    store.conn.execute("UPDATE replies SET compliance = ? WHERE id = ?", (compliance.dumps(found), reply.id))
    reply.compliance = found
    return reply


def _reply_ids_in(store: Store, group_ids: Sequence[int]) -> list[int]:
    return [r["id"] for r in store.query(
        f"SELECT id FROM replies WHERE group_id IN ({','.join('?' * len(group_ids))})", tuple(group_ids))]


def recheck_compliance(store: Store, reply_ids: Iterable[int] | None = None) -> int:
    """Check stored replies again (every one when reply_ids is None) with the current rules;
    returns how many replies' findings changed. One write transaction (or part of the caller's)."""
    rules = compliance.rules_for(store)
    changed = 0
    with store.write() as db:
        paths = group_paths(store)
        cols = "SELECT id, body, group_id, angle, language, compliance FROM replies"
        if reply_ids is None:
            rows = store.query(cols)
        else:
            ids = list(reply_ids)
            rows = []
            for start in range(0, len(ids), 500):  # under SQLite's variable limit
                chunk = ids[start:start + 500]
                rows += store.query(f"{cols} WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))
        for r in rows:
            value = compliance.dumps(compliance.check(r["body"], rules, group_path=paths.get(r["group_id"], ""),
                                                     angle=r["angle"], language=r["language"]))
            if value != r["compliance"]:
                db.execute("UPDATE replies SET compliance = ? WHERE id = ?", (value, r["id"]))
                changed += 1
    return changed


def ensure_compliance(store: Store) -> int:
    """The one-time step after open: replies never checked (a library from before migration 0010,
    rows written by plain SQL) are checked, and all of them again when the rules changed since the
    stored flags were made (a new version, the shop's own rules file). Reads first; takes the write
    lock only when there is work. Returns replies whose findings changed."""
    if store.read_only:
        return 0
    signature = json.dumps(compliance.rules_for(store).signature)

    def stale() -> tuple[bool, bool]:
        stored = store.query("SELECT value FROM settings WHERE key = ?", (COMPLIANCE_KEY,))
        changed_rules = not stored or stored[0]["value"] != signature
        unchecked = bool(store.query("SELECT 1 FROM replies WHERE compliance IS NULL LIMIT 1"))
        return changed_rules, unchecked

    if stale() == (False, False):
        return 0
    with store.write() as db:
        changed_rules, unchecked = stale()
        if not (changed_rules or unchecked):
            return 0
        ids = None if changed_rules else [r["id"] for r in store.query(
            "SELECT id FROM replies WHERE compliance IS NULL")]
        changed = recheck_compliance(store, ids)
        db.execute("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?,?,?)",
                   (COMPLIANCE_KEY, signature, to_db(store.clock.now())))
    if changed:
        log.info("compliance: %d replies checked again", changed)
    return changed


def flagged_replies(store: Store) -> list[Reply]:
    """Every reply whose stored findings are not empty (`kefu replies check`)."""
    paths = group_paths(store)
    return [_row_to_reply(r, paths) for r in store.query(
        f"SELECT {_REPLY_COLS} FROM replies WHERE compliance IS NOT NULL AND compliance != '[]' "
        "ORDER BY group_id, position, id")]


def get_reply(store: Store, ref: str | int) -> Reply:
    """A reply by numeric id, uuid (or a unique uuid prefix of 6+ characters) or short code."""
    text = str(ref).strip()
    rows: list[dict] = []
    if text.isdigit():
        rows = store.query(f"SELECT {_REPLY_COLS} FROM replies WHERE id = ?", (int(text),))
    if not rows and text:
        rows = store.query(f"SELECT {_REPLY_COLS} FROM replies WHERE uuid = ? OR code = ? COLLATE NOCASE",
                           (text, text))
    if not rows and len(text) >= 6 and re.fullmatch(r"[0-9a-fA-F\-]+", text):
        rows = store.query(f"SELECT {_REPLY_COLS} FROM replies WHERE uuid LIKE ? LIMIT 2", (text.lower() + "%",))
        if len(rows) > 1:
            raise ValidationError(f"ID 前缀“{text}”对应多条回复", f"Id prefix '{text}' matches several replies")
    if not rows:
        raise NotFoundError(f"没有找到回复“{text}”", f"No reply '{text}'")
    return _row_to_reply(rows[0], group_paths(store))


def list_replies(store: Store, group: str | int | None = None, *, include_children: bool = True,
                 order: str = "position", limit: int | None = None) -> list[Reply]:
    where, params = "", []
    if group not in (None, ""):
        g = get_group(store, group)
        ids = [g.id]
        if include_children:
            ids += [c.id for c in _groups(store, False) if c.parent_id == g.id]
        where = f"WHERE group_id IN ({','.join('?' * len(ids))})"
        params = ids
    orders = {
        "position": "group_id, position, id",
        "used": "use_count DESC, last_used_at DESC, id",
        "recent": "last_used_at DESC, id",
    }
    extra = " AND last_used_at IS NOT NULL" if order == "recent" and where else \
        (" WHERE last_used_at IS NOT NULL" if order == "recent" else "")
    if order == "used":
        extra = (" AND " if where else " WHERE ") + "use_count > 0"
    sql = f"SELECT {_REPLY_COLS} FROM replies {where}{extra} ORDER BY {orders[order]}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    paths = group_paths(store)
    return [_row_to_reply(r, paths) for r in store.query(sql, tuple(params))]


def count_replies(store: Store) -> int:
    return store.query("SELECT count(*) AS n FROM replies")[0]["n"]


def record_use(store: Store, ref: str | int, via: str = "panel") -> Reply:
    """Count one paste/copy of a reply (usage ranking, KPIs)."""
    with store.write() as db:
        reply = get_reply(store, ref)
        now = to_db(store.clock.now())
        db.execute("UPDATE replies SET use_count = use_count + 1, last_used_at = ? WHERE id = ?", (now, reply.id))
        db.execute("INSERT INTO reply_uses (reply_id, used_at, via) VALUES (?,?,?)", (reply.id, now, via))
    return get_reply(store, reply.id)


# ---------------------------------------------------------------- team mode: the shop library
# A shop reply is a row of `replies` with `shop` set: search, hotkeys and pasting treat it like any
# other. Agents read it; supervisors change it, each change queued in the outbox in the same
# transaction with the version it was made from (the server refuses a stale one: see
# assistant/team/sync.py). Usage counts and hotkeys stay local.

def team_kind(store: Store) -> str:
    """"" (no team server), "agent" or "supervisor": what the server said at the last sync."""
    return settings.get(store, "team.kind") if settings.get(store, "team.server") else ""


def _require_supervisor(store: Store, reply: Reply) -> None:
    if team_kind(store) != "supervisor":
        raise ValidationError(f"“{reply.title}”是店铺话术，只有主管可以修改；可以先“复制到我的话术”再改",
                              f"'{reply.title}' is a shop reply: only a supervisor can change it; "
                              "copy it to your replies to edit your own version", field="shop")


def shop_payload(reply: Reply) -> dict[str, Any]:
    """The synced fields of a shop reply, as the server stores them."""
    return {"shop": reply.shop, "group_path": reply.group_path, "title": reply.title, "body": reply.body,
            "code": reply.code or "", "language": reply.language, "platforms": list(reply.platforms),
            "angle": reply.angle}


def copy_to_mine(store: Store, ref: str | int) -> Reply:
    """A personal copy of a (shop) reply the agent may edit: same text, group and angle; no short
    code or hotkey (those are unique, and the original keeps its own)."""
    with store.write():
        original = get_reply(store, ref)
        return create_reply(store, body=original.body, title=original.title,
                            group=original.group_path or UNGROUPED, language=original.language,
                            platforms=original.platforms, angle=original.angle)


def shop_of(store: Store, name_or_uuid: str) -> tuple[str, str]:
    """(uuid, name) of a shop this agent serves, by name or uuid."""
    rows = store.query("SELECT uuid, name FROM team_shops WHERE uuid = ? OR name = ? ORDER BY name",
                       (name_or_uuid, name_or_uuid))
    if not rows:
        raise ValidationError(f"没有店铺“{name_or_uuid}”（或你不服务这个店铺）",
                              f"no shop '{name_or_uuid}' (or you do not serve it)", field="shop")
    return rows[0]["uuid"], rows[0]["name"]


def share_reply(store: Store, ref: str | int, shop: str) -> Reply:
    """A supervisor puts one of their replies into a shop library (same uuid): queued as a create,
    which the server applies once however often it is sent. A reply already in a shop is returned
    as it is, so `kefu team upload` can run again without adding anything."""
    with store.write() as db:
        reply = get_reply(store, ref)
        if reply.shop is not None:
            return reply
        _require_supervisor(store, reply)
        shop_uuid, _ = shop_of(store, shop)
        db.execute("UPDATE replies SET shop = ?, shop_version = 1 WHERE id = ?", (shop_uuid, reply.id))
        shared = get_reply(store, reply.id)
        outbox.add(store, "shop_reply.create", shared.uuid, shop_payload(shared))
    return shared


def apply_shop_row(store: Store, row: Mapping[str, Any]) -> str:
    """Bring one shop reply as the server has it into the local library (a pull, inside its write
    transaction). Returns what happened: skipped (a local change to it is still unsent: the push
    brings the server's answer), deleted, added, adopted (an identical own reply becomes this shop
    reply: a shop that started from the same default library gets no duplicates), updated, refused.
    A short code already taken here by another reply is left off the shop copy, and said so."""
    rid = str(row["id"])
    if outbox.has_pending(store, rid):
        return "skipped"
    existing = store.query("SELECT id FROM replies WHERE uuid = ?", (rid,))
    if row["deleted"]:
        if existing:
            search.remove_reply(store, existing[0]["id"])
            store.conn.execute("DELETE FROM replies WHERE id = ?", (existing[0]["id"],))
            return "deleted"
        return "skipped"
    outcome = "updated"
    if not existing:
        twin = store.query("SELECT id FROM replies WHERE shop IS NULL AND body = ? AND title = ? ORDER BY id LIMIT 1",
                           (row["body"], row["title"]))
        if twin:
            store.conn.execute("UPDATE replies SET uuid = ? WHERE id = ?", (rid, twin[0]["id"]))
            existing, outcome = twin, "adopted"
    reply_id = existing[0]["id"] if existing else None
    try:
        values = normalize_fields({"body": row["body"], "title": row["title"], "code": row["code"] or None,
                                   "language": row["language"] or "zh", "platforms": row["platforms"] or [],
                                   "angle": row["angle"]})
    except ValidationError as exc:
        outbox.record_conflict(store, "refused", rid, None,
                               {"title": row["title"], "reason": exc.en, "reason_zh": exc.zh})
        return "refused"
    code = values["code"]
    if code is not None and store.query("SELECT 1 FROM replies WHERE code = ? COLLATE NOCASE AND uuid != ?",
                                        (code, rid)):
        values["code"] = None
        if not store.query("SELECT 1 FROM team_conflicts WHERE kind = 'code_taken' AND target = ? "
                           "AND resolved_at IS NULL", (rid,)):
            outbox.record_conflict(store, "code_taken", rid, None, {"title": values["title"], "code": code})
    group_id = ensure_group_path(store, row["group_path"] or UNGROUPED)
    now = to_db(store.clock.now())
    if reply_id is None:
        position = store.query("SELECT IFNULL(max(position), -1) + 1 AS p FROM replies WHERE group_id = ?",
                               (group_id,))[0]["p"]
        cur = store.conn.execute(
            "INSERT INTO replies (uuid, group_id, title, body, code, language, platforms, angle, position, "
            "created_at, updated_at, shop, shop_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (rid, group_id, values["title"], values["body"], values["code"], values["language"],
             values["platforms"], values["angle"], position, now, now, str(row["shop"]), int(row["version"])))
        reply_id, outcome = cur.lastrowid, "added"
    else:
        store.conn.execute(
            "UPDATE replies SET group_id = ?, title = ?, body = ?, code = ?, language = ?, platforms = ?, "
            "angle = ?, updated_at = ?, shop = ?, shop_version = ? WHERE id = ?",
            (group_id, values["title"], values["body"], values["code"], values["language"], values["platforms"],
             values["angle"], now, str(row["shop"]), int(row["version"]), reply_id))
    # checked here, on the receiving side, against this panel's rules (the server keeps no flags)
    search.index_reply(store, _flag(store, get_reply(store, reply_id)))
    return outcome


# ---------------------------------------------------------------- the paste path's view of the store

# Settings the hotkey map and the paste flow read from a PasteSnapshot.
PASTE_SETTINGS = ("hotkeys.enabled", "hotkeys.actions", "paste.chord", "paste.restore_delay_ms", "paste.app_rules",
                  "paste.hide_from_history", "agent.name")


@dataclass(frozen=True, slots=True)
class PasteRow:
    """What a paste needs of a reply."""

    id: int
    title: str
    body: str
    hotkey: str = ""


@dataclass(frozen=True, slots=True)
class PasteSnapshot:
    """The replies that have a hotkey and the paste settings, read in one go on the store worker
    after every change and handed to the GUI thread: a hotkey press renders from it and never
    waits on the store. Immutable: the worker builds a new one, nobody edits one."""

    rows: Mapping[int, PasteRow]  # reply id -> row, in id order
    settings: Mapping[str, Any]  # PASTE_SETTINGS -> value


def load_paste_snapshot(store: Store) -> PasteSnapshot:
    rows = {int(r["id"]): PasteRow(int(r["id"]), r["title"], r["body"], r["hotkey"]) for r in store.query(
        "SELECT id, title, body, hotkey FROM replies WHERE hotkey IS NOT NULL AND hotkey != '' ORDER BY id")}
    values = {name: settings.get(store, name) for name in PASTE_SETTINGS}
    return PasteSnapshot(MappingProxyType(rows), MappingProxyType(values))


def paste_row(store: Store, reply_id: int) -> PasteRow:
    """One reply for a paste (a reply without a hotkey: the panel's list, a chase script)."""
    rows = store.query("SELECT id, title, body, hotkey FROM replies WHERE id = ?", (int(reply_id),))
    if not rows:
        raise NotFoundError(f"回复 {reply_id} 已被删除", f"Reply {reply_id} no longer exists")
    r = rows[0]
    return PasteRow(int(r["id"]), r["title"], r["body"], r["hotkey"] or "")


def paste_values(agent_name: Any, *layers: Mapping[str, Any] | None) -> dict[str, str]:
    """Fill-in values of a paste: {客服} = the agent's name, then each layer (the buyer in context,
    the values given with the paste) over the previous one; empty values are left out."""
    merged: dict[str, str] = {}
    if agent_name:
        merged["客服"] = str(agent_name)
    for layer in layers:
        merged.update({str(k): str(v) for k, v in (layer or {}).items() if v is not None})
    return merged


def render_row(row: PasteRow, values: Mapping[str, str] | None = None) -> templates.Rendered:
    """A reply's text for pasting (pure: the row is already loaded)."""
    return templates.render(row.body, dict(values or {}))


def render_for_paste(store: Store, ref: str | int, values: dict[str, str] | None = None) -> templates.Rendered:
    reply = get_reply(store, ref)
    return render_row(PasteRow(reply.id, reply.title, reply.body, reply.hotkey or ""), values)


# ---------------------------------------------------------------- default library

SEEDED_KEY = "library.seeded"


def load_library_file(path) -> list[tuple[list[str], dict]]:
    """Read a kefu-assistant.library JSON (the shipped defaults): [(group path, reply fields)]."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if data.get("format") != "kefu-assistant.library":
        raise ValueError(f"{path}: not a kefu-assistant.library file")
    items: list[tuple[list[str], dict]] = []
    for top in data["groups"]:
        for reply in top.get("replies", []):
            items.append(([top["name"]], reply))
        for child in top.get("children", []):
            for reply in child.get("replies", []):
                items.append(([top["name"], child["name"]], reply))
    return items


DEFAULT_INDEX = "default.index.json"  # search's analysis of default.json (packaging/make_default_index.py)


def seed_defaults(store: Store, force: bool = False) -> int:
    """Fill an empty library with the shipped defaults, once per database. Returns replies added.
    First brings the search index up to date (search.ensure_index: a library migrated from before
    the index gets its index here, not in the frozen migration).

    Every CLI command and every panel start (on the worker) calls this: it reads first and takes the
    write lock only for a database not seeded yet or an index to rebuild, so reading commands still
    work while an import holds the lock, and a read-only data folder is simply left as it is."""
    search.ensure_index(store)
    ensure_compliance(store)
    if not force and (store.read_only or store.query("SELECT 1 FROM settings WHERE key = ?", (SEEDED_KEY,))):
        return 0
    with store.write() as db:
        if not force and store.query("SELECT 1 FROM settings WHERE key = ?", (SEEDED_KEY,)):
            return 0
        added = 0
        if force or count_replies(store) == 0:
            # the library's analysis ships with it: a first start seeds before jieba is loaded
            with search.using_prepared(search.load_prepared(resource_path("library", DEFAULT_INDEX))):
                for group_path, item in load_library_file(resource_path("library", "default.json")):
                    create_reply(store, body=item["body"], title=item.get("title", ""), group="/".join(group_path),
                                 code=item.get("code"), language=item.get("language", "zh"),
                                 platforms=item.get("platforms", []), angle=item.get("angle"))
                    added += 1
        db.execute("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?,?,?)",
                   (SEEDED_KEY, json.dumps(True), to_db(store.clock.now())))
    return added


# ---------------------------------------------------------------- suggestions from a buyer's message

MAX_MESSAGE_CHARS = 500  # a buyer's message; the rest of a pasted conversation is ignored


def suggest(store: Store, message: str, limit: int = 3) -> list[tuple[search.Hit, Reply]]:
    """The best replies for a buyer's message (the panel's suggestion hotkey, `kefu replies suggest`):
    the message read as a query whose question and chat words weigh nothing, never as a short code.
    (hit, reply) pairs, best first. Never raises for any text."""
    text = str(message or "")[:MAX_MESSAGE_CHARS]
    hits = [h for h in search.search(store, text, limit=limit + 5) if not h.how.startswith("code")][:limit]
    return [(h, get_reply(store, h.reply_id)) for h in hits]


# ---------------------------------------------------------------- the shop's synonyms (search)

def shipped_synonyms() -> list[list[str]]:
    data = json.loads(resource_path("search", "query_words.json").read_text("utf-8"))
    return [list(g) for g in data.get("synonyms", [])]


@dataclass(frozen=True)
class SynonymGroup:
    words: list[str]
    shop: str | None = None  # team mode: the server shop whose group this is (None: this PC's own)
    uuid: str | None = None
    shop_name: str = ""


def synonym_groups(store: Store) -> list[SynonymGroup]:
    """The shop's synonym groups search uses: this PC's own (setting search.synonyms) first, then, in
    team mode, those the shops' supervisors set (synced; numbered after this PC's own)."""
    own = [SynonymGroup(list(g)) for g in settings.get(store, "search.synonyms")]
    team = [SynonymGroup(json.loads(r["words"]), r["team_shop"], r["uuid"], r["name"] or "")
            for r in store.query("SELECT s.uuid, s.team_shop, s.words, t.name FROM team_synonyms s "
                                 "LEFT JOIN team_shops t ON t.uuid = s.team_shop ORDER BY s.id")]
    return own + team


def shop_synonyms(store: Store) -> list[list[str]]:
    return [g.words for g in synonym_groups(store)]


def _require_synonym_supervisor(store: Store) -> None:
    if team_kind(store) != "supervisor":
        raise ValidationError("店铺同义词由主管维护，只有主管可以增删", "The shop's synonyms are kept by a supervisor: "
                              "only a supervisor adds or removes them", field="synonyms")


def add_synonyms(store: Store, words: Sequence[str], shop: str | None = None) -> list[list[str]]:
    """Add one group of words that mean the same to the shop's synonyms (checked: 2+ words). In team
    mode only a supervisor may, and the group goes to the shop named (every shop served without one),
    queued for the server in the same transaction; search uses it at once, no reindex."""
    with store.write():
        if not team_kind(store):
            groups = settings.get(store, "search.synonyms") + [list(words)]
            settings.set(store, "search.synonyms", groups)
            return shop_synonyms(store)
        _require_synonym_supervisor(store)
        group = settings.check_synonym_group(words)
        shops = [shop_of(store, shop)[0]] if shop else [r["uuid"] for r in store.query(
            "SELECT uuid FROM team_shops ORDER BY name")]
        if not shops:
            raise ValidationError("你还没有服务任何店铺", "You serve no shop yet", field="shop")
        if len(synonym_groups(store)) + len(shops) > settings.MAX_SYNONYM_GROUPS:
            raise ValidationError(f"店铺同义词最多 {settings.MAX_SYNONYM_GROUPS} 组",
                                  f"At most {settings.MAX_SYNONYM_GROUPS} synonym groups", field="synonyms")
        for team_shop in shops:
            gid = str(uuidlib.uuid4())
            store.conn.execute("INSERT INTO team_synonyms (uuid, team_shop, words) VALUES (?,?,?)",
                               (gid, team_shop, json.dumps(group, ensure_ascii=False)))
            outbox.add(store, "synonyms.add", gid, {"shop": team_shop, "words": group})
        return shop_synonyms(store)


def remove_synonyms(store: Store, number: int) -> list[str]:
    """Remove the shop's group number N (1-based, as listed). Returns its words. A group of a team
    shop is a supervisor's to remove (a tombstone on the server: every panel drops it)."""
    with store.write():
        groups = synonym_groups(store)
        if not 1 <= number <= len(groups):
            raise ValidationError(f"没有第 {number} 组店铺同义词（共 {len(groups)} 组）",
                                  f"No shop synonym group {number} ({len(groups)} groups)", field="synonyms")
        gone = groups[number - 1]
        if gone.uuid is None:  # this PC's own groups come first: the same number in the setting
            own = settings.get(store, "search.synonyms")
            own.pop(number - 1)
            settings.set(store, "search.synonyms", own)
        else:
            _require_synonym_supervisor(store)
            store.conn.execute("DELETE FROM team_synonyms WHERE uuid = ?", (gone.uuid,))
            outbox.add(store, "synonyms.remove", gone.uuid, {"shop": gone.shop, "words": gone.words})
    return gone.words


def apply_synonym_row(store: Store, row: Mapping[str, Any], ctx: Mapping[str, Any] | None = None) -> str:
    """A shop synonym group as the server has it (a pull, inside its write): added, deleted (a
    tombstone), skipped (a local change to it is unsent, or words this panel cannot use)."""
    sid = str(row["id"])
    if outbox.has_pending(store, sid):
        return "skipped"
    if row["deleted"]:
        cur = store.conn.execute("DELETE FROM team_synonyms WHERE uuid = ?", (sid,))
        return "deleted" if cur.rowcount else "skipped"
    words = row["words"] if isinstance(row["words"], list) else json.loads(row["words"])
    try:
        group = settings.check_synonym_group(words)
    except ValidationError:
        return "skipped"
    cur = store.conn.execute("INSERT INTO team_synonyms (uuid, team_shop, words) VALUES (?,?,?) ON CONFLICT(uuid) "
                             "DO NOTHING", (sid, str(row["shop"]), json.dumps(group, ensure_ascii=False)))
    return "added" if cur.rowcount else "skipped"
