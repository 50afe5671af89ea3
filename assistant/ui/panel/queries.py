"""Store reads and writes shaped for the panel. Plain functions of a Store, run on the worker thread
(assistant.services.worker); no Qt here so they can be tested and timed alone."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any

from ...core import checked, compliance, replies, search, settings, templates
from ...core.store import Store
from ...errors import ValidationError

LIST_LIMIT = 500
SEARCH_LIMIT = 50
VIRTUAL_LIMIT = 50


@dataclass(frozen=True)
class ReplyRow:
    """What a result row and the preview need of a reply."""

    id: int
    title: str
    body: str
    code: str | None
    hotkey: str | None
    group_id: int
    group_path: str
    language: str
    platforms: tuple[str, ...]
    use_count: int
    fields: tuple[str, ...]
    angle: str | None = None
    how: str = ""  # how the search matched (pinyin, code, ...), when the search tells
    shop: str | None = None  # team mode: the uuid of the shop library it belongs to (None: the agent's own)
    shop_name: str = ""  # that shop's name (team_shops), for the badge's tooltip
    compliance: tuple[compliance.Finding, ...] = ()  # stored when the reply was saved: the list's badge

    @property
    def first_line(self) -> str:
        for line in self.body.splitlines():
            if line.strip():
                return line.strip()
        return ""

    @classmethod
    def from_reply(cls, reply: replies.Reply, how: str = "", shop_name: str = "") -> ReplyRow:
        return cls(reply.id, reply.title, reply.body, reply.code, reply.hotkey, reply.group_id,
                   reply.group_path, reply.language, tuple(reply.platforms), reply.use_count,
                   tuple(reply.fields), reply.angle, how, reply.shop, shop_name, tuple(reply.compliance))


@dataclass(frozen=True)
class GroupFilter:
    kind: str = "all"  # all | used | recent | group
    group_id: int | None = None


@dataclass(frozen=True)
class Results:
    query: str
    filter: GroupFilter
    rows: tuple[ReplyRow, ...]
    total_replies: int


def _search_accepts_group() -> bool:
    try:
        return "group_id" in inspect.signature(search.search).parameters
    except (TypeError, ValueError):
        return False


def _rows_by_ids(store: Store, ids: list[int]) -> dict[int, ReplyRow]:
    if not ids:
        return {}
    paths = replies.group_paths(store)
    rows: dict[int, ReplyRow] = {}
    # Chunks keep under SQLite's variable limit whatever the search returns.
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found = store.query(
            "SELECT id, title, body, code, hotkey, group_id, language, platforms, use_count, angle, shop, compliance "
            f"FROM replies WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))
        for r in found:
            try:
                fields = tuple(templates.fields_in(r["body"]))
            except ValidationError:
                fields = ()
            rows[r["id"]] = ReplyRow(r["id"], r["title"], r["body"], r["code"], r["hotkey"], r["group_id"],
                                     paths.get(r["group_id"], ""), r["language"],
                                     tuple(checked.text_list(r["platforms"], table="replies", column="platforms", row_id=r["id"])), r["use_count"], fields,
                                     r["angle"], shop=r["shop"], compliance=tuple(compliance.loads(r["compliance"])))
    return rows


def shop_names(store: Store) -> dict[str, str]:
    """uuid -> name of the shops this agent serves (empty without a team server)."""
    return {r["uuid"]: r["name"] for r in store.query("SELECT uuid, name FROM team_shops")}


def _named(store: Store, rows: list[ReplyRow]) -> tuple[ReplyRow, ...]:
    """The rows with their shop's name filled in (one small query, only when a shop row is there)."""
    if not any(r.shop for r in rows):
        return tuple(rows)
    names = shop_names(store)
    return tuple(dataclasses.replace(r, shop_name=names.get(r.shop, "")) if r.shop else r for r in rows)


def _group_ids(store: Store, group_id: int) -> set[int]:
    return {group_id} | {g.id for g in replies.list_groups(store) if g.parent_id == group_id}


def find(store: Store, query: str, flt: GroupFilter) -> Results:
    """Results for the search box and the group tree: a search when there is a query, else a list."""
    q = (query or "").strip()
    total = replies.count_replies(store)
    if not q:
        if flt.kind == "used":
            found = replies.list_replies(store, order="used", limit=VIRTUAL_LIMIT)
        elif flt.kind == "recent":
            found = replies.list_replies(store, order="recent", limit=VIRTUAL_LIMIT)
        elif flt.kind == "group" and flt.group_id is not None:
            found = replies.list_replies(store, flt.group_id, limit=LIST_LIMIT)
        else:
            found = replies.list_replies(store, limit=LIST_LIMIT)
        return Results(query, flt, _named(store, [ReplyRow.from_reply(r) for r in found]), total)

    allowed: set[int] | None = None
    kwargs: dict[str, Any] = {}
    limit = SEARCH_LIMIT
    if flt.kind == "group" and flt.group_id is not None:
        allowed = _group_ids(store, flt.group_id)
        if len(allowed) == 1 and _search_accepts_group():
            kwargs["group_id"] = flt.group_id
        else:
            limit = SEARCH_LIMIT * 4
    elif flt.kind in ("used", "recent"):
        limit = SEARCH_LIMIT * 4
    hits = search.search(store, q, limit=limit, **kwargs)
    recent: set[int] | None = None
    if flt.kind == "recent":
        recent = {r["id"] for r in store.query("SELECT id FROM replies WHERE last_used_at IS NOT NULL")}
    by_id = _rows_by_ids(store, [h.reply_id for h in hits])
    out: list[ReplyRow] = []
    for hit in hits:
        row = by_id.get(hit.reply_id)
        if row is None:
            continue
        if allowed is not None and row.group_id not in allowed:
            continue
        if flt.kind == "used" and row.use_count <= 0:
            continue
        if recent is not None and row.id not in recent:
            continue
        how = getattr(hit, "how", "") or ""
        if how:
            row = dataclasses.replace(row, how=str(how))
        out.append(row)
        if len(out) >= SEARCH_LIMIT:
            break
    return Results(query, flt, _named(store, out), total)


@dataclass(frozen=True)
class GroupInfo:
    id: int
    name: str
    path: str
    parent_id: int | None
    count: int


@dataclass(frozen=True)
class Library:
    groups: tuple[GroupInfo, ...]
    total: int
    used: int
    recent: int


def library(store: Store) -> Library:
    groups = replies.list_groups(store)
    used = store.query("SELECT count(*) AS n FROM replies WHERE use_count > 0")[0]["n"]
    recent = store.query("SELECT count(*) AS n FROM replies WHERE last_used_at IS NOT NULL")[0]["n"]
    infos = []
    for g in groups:
        count = g.reply_count + sum(c.reply_count for c in groups if c.parent_id == g.id)
        infos.append(GroupInfo(g.id, g.name, g.path, g.parent_id, count))
    return Library(tuple(infos), replies.count_replies(store), min(used, VIRTUAL_LIMIT), min(recent, VIRTUAL_LIMIT))


def get_row(store: Store, reply_id: int) -> ReplyRow:
    return _named(store, [ReplyRow.from_reply(replies.get_reply(store, reply_id))])[0]


def render(store: Store, reply_id: int, values: dict[str, str]) -> tuple[ReplyRow, templates.Rendered]:
    reply = replies.get_reply(store, reply_id)
    return ReplyRow.from_reply(reply), templates.render(reply.body, values)


def action_hotkeys(store: Store) -> dict[str, str]:
    return dict(settings.get(store, "hotkeys.actions") or {})


def hotkey_conflict(store: Store, text: str, reply_id: int | None) -> tuple[str, str] | None:
    """(zh, en) of what makes `text` unusable as a reply hotkey: a parse error, another reply or a
    global action (saved or still at its default). None when it is free."""
    from ...core import hotkeys

    try:
        norm = hotkeys.normalize(text)
    except ValidationError as exc:
        return (exc.zh, exc.en)
    owner = replies.hotkey_owner(store, norm, exclude_reply=reply_id)
    if owner:
        return (f"已被{owner[0]}使用", f"already used by {owner[1]}")
    for action, key in action_hotkeys(store).items():
        if key and key == norm:
            zh, en = settings.ACTIONS[action][1], settings.ACTIONS[action][2]
            return (f"已被全局操作“{zh}”使用", f"already used by the global action '{en}'")
    return None


def save_reply(store: Store, reply_id: int | None, values: dict[str, Any]) -> ReplyRow:
    """Create (reply_id None) or update a reply; ValidationError names the bad field."""
    hk = values.get("hotkey")
    if hk:
        conflict = hotkey_conflict(store, hk, reply_id)
        if conflict:
            raise ValidationError(f"快捷键 {hk} {conflict[0]}", f"Hotkey {hk}: {conflict[1]}", field="hotkey")
    if reply_id is None:
        reply = replies.create_reply(store, **values)
    else:
        reply = replies.update_reply(store, reply_id, **values)
    return ReplyRow.from_reply(reply)


def group_paths(store: Store) -> list[str]:
    return [g.path for g in replies.list_groups(store)]


def replies_with_hotkeys(store: Store) -> list[tuple[int, str, str]]:
    return [(r["id"], r["title"], r["hotkey"]) for r in
            store.query("SELECT id, title, hotkey FROM replies WHERE hotkey IS NOT NULL ORDER BY hotkey")]
