"""Store reads and writes of team mode for the panel: plain functions of a Store, run on the worker
thread (never on the GUI thread); no Qt here."""

from __future__ import annotations

from dataclasses import dataclass

from ...core import outbox, replies
from ...core.store import Store
from ...errors import NotFoundError


@dataclass(frozen=True)
class TeamView:
    """What the panel shows of team mode, read in one go after every change."""

    kind: str = ""  # "" (no team server), "agent" or "supervisor"
    shops: tuple[tuple[str, str], ...] = ()  # (uuid, name) of the shops served, by name
    conflicts: tuple[outbox.Conflict, ...] = ()
    outbox_size: int = 0  # changes made here that the server has not acknowledged yet
    last_sync: str | None = None  # when a change feed was last pulled (the store's UTC text)


NO_TEAM = TeamView()


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
