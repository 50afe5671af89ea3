"""Store reads and writes of team mode for the panel: plain functions of a Store, run on the worker
thread (never on the GUI thread); no Qt here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ...core import outbox, replies, settings
from ...core.store import Store
from ...errors import NotFoundError

if TYPE_CHECKING:
    from ...core import customers

# core.customers and core.reminders (~18 ms of imports) are imported where they are used: the panel
# imports this module before its first frame for load() alone (issue 17).


@dataclass(frozen=True)
class TeamView:
    """What the panel shows of team mode, read in one go after every change."""

    kind: str = ""  # "" (no team server), "agent" or "supervisor"
    shops: tuple[tuple[str, str], ...] = ()  # (uuid, name) of the shops served, by name
    conflicts: tuple[outbox.Conflict, ...] = ()
    outbox_size: int = 0  # changes made here that the server has not acknowledged yet
    last_sync: str | None = None  # when a change feed was last pulled (the store's UTC text)


NO_TEAM = TeamView()


@dataclass(frozen=True)
class Joined:
    """What `kefu team status` shows, as this PC knows it (no server round trip): the settings
    dialog's 团队 page."""

    server: str  # host:port/db
    params: str  # sslmode=...[&sslrootcert=...]
    role: str
    team: str
    kind: str  # agent | supervisor
    shops: tuple[str, ...]
    last_sync: str | None
    outbox_size: int
    conflicts: int
    claims: int  # buyers this agent follows, as last synced


def joined(store: Store) -> Joined | None:
    """None without a team server."""
    from urllib.parse import urlsplit

    from ...core.clock import to_db

    server, role = settings.get(store, "team.server"), settings.get(store, "team.role")
    if not server or not role:
        return None
    parts = urlsplit(str(server))
    team = role.split("_")[1] if role.startswith("kefu_") and role.count("_") >= 2 else ""
    claims = store.query("SELECT count(*) AS n FROM buyers WHERE holder = ? AND held_until > ?",
                         (role, to_db(store.clock.now())))[0]["n"]
    shops = tuple(r["name"] for r in store.query("SELECT name FROM team_shops ORDER BY name"))
    return Joined(f"{parts.netloc}{parts.path}", parts.query, str(role), team,
                  str(settings.get(store, "team.kind") or "agent"), shops, outbox.last_sync(store),
                  outbox.size(store), len(outbox.conflicts(store)), claims)


def load(store: Store) -> TeamView:
    kind = replies.team_kind(store)
    if not kind:
        return NO_TEAM  # without a server nothing of team mode shows
    shops = tuple((r["uuid"], r["name"]) for r in store.query("SELECT uuid, name FROM team_shops ORDER BY name"))
    return TeamView(kind, shops, tuple(outbox.conflicts(store)), outbox.size(store), outbox.last_sync(store))


def _conflict(store: Store, conflict_id: int) -> outbox.Conflict:
    for conflict in outbox.conflicts(store):
        if conflict.id == conflict_id:
            return conflict
    raise NotFoundError(f"冲突 {conflict_id} 已处理", f"Conflict {conflict_id} is settled already")


def reapply_mine(store: Store, conflict_id: int) -> replies.Reply:
    """A stale edit, made again on top of the server's version: the core queues it against the
    version now held here; the conflict is settled in the same transaction."""
    with store.write():
        conflict = _conflict(store, conflict_id)
        mine = conflict.mine or {}
        changes = {k: mine[k] for k in ("title", "body", "code") if k in mine}
        reply = replies.update_reply(store, conflict.target, **changes)
        outbox.resolve_conflict(store, conflict.id)
    return reply


def resolve(store: Store, conflict_id: int) -> None:
    outbox.resolve_conflict(store, conflict_id)


# ---------------------------------------------------------------- shared buyers

def holders(store: Store, buyers: list[customers.Buyer], now: datetime | None = None) -> dict[int, str]:
    """{buyer id: display name} of the buyers another agent follows (an unexpired lease); {} without
    a team server."""
    from ...core import customers

    if not customers.team_role(store):
        return {}
    out = {}
    for buyer in buyers:
        other = customers.held_by_other(store, buyer, now)
        if other is not None:
            out[buyer.id] = other[1]
    return out


def holders_by_id(store: Store, buyer_ids: list[int], now: datetime | None = None) -> dict[int, str]:
    """holders() for buyer ids (the 提醒 tab's rows); one query for them all."""
    from ...core import customers

    ids = sorted(set(buyer_ids))
    if not ids or not customers.team_role(store):
        return {}
    marks = ",".join("?" * len(ids))
    rows = store.query(f"SELECT id FROM buyers WHERE id IN ({marks}) AND holder IS NOT NULL", tuple(ids))
    return holders(store, [customers.get_buyer(store, r["id"]) for r in rows], now)


def holder_of(store: Store, buyer_id: int, now: datetime | None = None) -> str | None:
    """The display name of the other agent following this buyer, or None (free, mine, no team)."""
    from ...core import customers

    if not customers.team_role(store):
        return None
    other = customers.held_by_other(store, customers.get_buyer(store, buyer_id), now)
    return other[1] if other else None


def holder_by_identity(store: Store, platform: str | None, shop: str, nickname: str,
                       now: datetime | None = None) -> tuple[int, str] | None:
    """(buyer id, holder's name) when the star dialog's platform + shop + nickname is a buyer another
    agent follows."""
    from ...core import customers

    nick = nickname.strip()
    if not nick or not platform or not customers.team_role(store):
        return None
    rows = store.query("SELECT id FROM buyers WHERE platform = ? AND shop = ? AND nickname = ?",
                       (platform, shop.strip(), nick))
    if not rows:
        return None
    name = holder_of(store, rows[0]["id"], now)
    return (rows[0]["id"], name) if name else None


def take_over_and_star(store: Store, buyer_id: int, reason: str, now: datetime | None = None,
                       **star: object) -> customers.Buyer:
    """The star dialog's 接手并标星: the logged take-over and the star in one transaction."""
    from ...core import customers, reminders

    with store.write():
        customers.take_over(store, buyer_id, reason, now)
        return reminders.star(store, buyer_id=buyer_id, now=now, **star)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ChaseAuthor:
    name: str | None  # another agent who made the chase (None: this panel's own)
    collision: bool  # the server flagged it: the buyer was someone else's


def chase_authors(store: Store, buyer_id: int) -> dict[int, ChaseAuthor]:
    """{chase id: author} of the buyer's chases made by another agent or flagged as a collision."""
    rows = store.query("SELECT id, author_name, collision FROM chases WHERE buyer_id = ? "
                       "AND (author_name IS NOT NULL OR collision = 1)", (int(buyer_id),))
    return {r["id"]: ChaseAuthor(r["author_name"], bool(r["collision"])) for r in rows}


def conflict_buyers(store: Store, conflicts: tuple[outbox.Conflict, ...]) -> dict[int, str]:
    """{buyer id: nickname} of the buyers collision conflicts name (a buyer deleted since: left out)."""
    ids = sorted({int(c.theirs["buyer_id"]) for c in conflicts
                  if c.kind == "collision" and c.theirs and isinstance(c.theirs.get("buyer_id"), int)})
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r["id"]: r["nickname"] for r in store.query(f"SELECT id, nickname FROM buyers WHERE id IN ({marks})",
                                                        tuple(ids))}
