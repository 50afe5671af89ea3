"""What this PC knows of its team login, shared by the buyer and product modules (siblings that
must not import each other): the login role and kind, the served shop of a local shop name, and
whether another agent's lease holds a buyer."""

from __future__ import annotations

from datetime import datetime

from . import settings
from .clock import from_db
from .store import Store


def team_role(store: Store) -> str:
    """This agent's login role on the team server, or "" without one."""
    return str(settings.get(store, "team.role") or "") if settings.get(store, "team.server") else ""


def team_kind(store: Store) -> str:
    """"supervisor" or "agent" for a team login, "" without one."""
    return str(settings.get(store, "team.kind") or "") if team_role(store) else ""


def team_shop_for(store: Store, shop: str) -> str | None:
    """The server shop a row of local shop name `shop` is shared in: the served shop of that name,
    or for a row without a shop name the one shop served. None: not shared (this PC only)."""
    rows = store.query("SELECT uuid, name FROM team_shops ORDER BY name")
    for row in rows:
        if row["name"] == shop:
            return row["uuid"]
    return rows[0]["uuid"] if not shop and len(rows) == 1 else None


def other_holder(store: Store, holder: str | None, holder_name: str | None, held_until: str | None,
                 now: datetime | None = None) -> tuple[str, str] | None:
    """(role, display name) of another agent whose lease (these buyer columns) has not run out."""
    me = team_role(store)
    if not me or not holder or holder == me or not held_until:
        return None
    if from_db(held_until) <= (now or store.clock.now()):
        return None
    return holder, holder_name or holder
