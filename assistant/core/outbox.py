"""Team mode's local bookkeeping (GUI-free, no network: assistant/team/sync.py does the talking).

- The outbox: a change the team server must hear about is written here in the SAME SQLite
  transaction as the change itself, with a fresh operation uuid. A crash after the commit leaves
  the row to be sent; a crash before it leaves neither. The server applies each operation once,
  keyed by that uuid, so sending again after a crash (or a lost acknowledgement) changes nothing.
  The acknowledgement deletes the row.
- Cursors: how far each change feed has been pulled. A cursor is a transaction-id watermark plus
  the last row read within it (see team/sync.py for why a sequence number alone loses rows), and
  the scope it was read under (the shops served): a different scope starts the feed over.
- Conflicts: what could not be applied as it was (a stale shop-reply edit, a code already taken
  here), kept with both sides so the agent sees them and nothing is silently lost.

Without a team server every table here stays empty.
"""

from __future__ import annotations

import json
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any

from .clock import to_db
from .store import Store


@dataclass(frozen=True)
class Op:
    seq: int
    op: str  # the operation's uuid: the server's idempotency key
    kind: str  # e.g. shop_reply.update
    target: str  # the uuid of the row it changes
    body: dict[str, Any]
    created_at: str


@dataclass(frozen=True)
class Conflict:
    id: int
    kind: str  # stale_edit | code_taken | refused
    target: str
    mine: dict[str, Any] | None
    theirs: dict[str, Any] | None
    created_at: str
    resolved_at: str | None


@dataclass(frozen=True)
class Cursor:
    xid: int
    last_id: str
    scope: str


def add(store: Store, kind: str, target: str, body: dict[str, Any]) -> str:
    """Queue one operation; only inside the caller's write transaction (that is the point)."""
    if not store.conn.in_transaction:
        raise RuntimeError("outbox.add must run inside the change's own write transaction")
    op = str(uuidlib.uuid4())
    store.conn.execute("INSERT INTO team_outbox (op, kind, target, body, created_at) VALUES (?,?,?,?,?)",
                       (op, kind, target, json.dumps(body, ensure_ascii=False), to_db(store.clock.now())))
    return op


def _op(row: Any) -> Op:
    return Op(row["id"], row["op"], row["kind"], row["target"], json.loads(row["body"]), row["created_at"])


def pending(store: Store, limit: int = 200) -> list[Op]:
    """The oldest unacknowledged operations, in the order they were made."""
    rows = store.query("SELECT id, op, kind, target, body, created_at FROM team_outbox ORDER BY id LIMIT ?", (limit,))
    return [_op(r) for r in rows]


def size(store: Store) -> int:
    return store.query("SELECT count(*) AS n FROM team_outbox")[0]["n"]


def has_pending(store: Store, target: str) -> bool:
    return bool(store.query("SELECT 1 FROM team_outbox WHERE target = ? LIMIT 1", (target,)))


def acknowledge(store: Store, ops: list[str]) -> None:
    """The server holds these operations: forget them (one transaction)."""
    if not ops:
        return
    with store.write() as db:
        db.conn.executemany("DELETE FROM team_outbox WHERE op = ?", [(op,) for op in ops])


def take_target(store: Store, target: str) -> list[Op]:
    """Remove and return every pending operation on one row (a refused edit makes the later ones
    on the same row stale too). Inside the caller's write transaction."""
    rows = store.query("SELECT id, op, kind, target, body, created_at FROM team_outbox WHERE target = ? ORDER BY id",
                       (target,))
    store.conn.execute("DELETE FROM team_outbox WHERE target = ?", (target,))
    return [_op(r) for r in rows]


# ---------------------------------------------------------------- conflicts

def record_conflict(store: Store, kind: str, target: str, mine: dict | None, theirs: dict | None) -> int:
    with store.write():
        cur = store.conn.execute(
            "INSERT INTO team_conflicts (kind, target, mine, theirs, created_at) VALUES (?,?,?,?,?)",
            (kind, target, None if mine is None else json.dumps(mine, ensure_ascii=False),
             None if theirs is None else json.dumps(theirs, ensure_ascii=False), to_db(store.clock.now())))
        return int(cur.lastrowid)


def conflicts(store: Store, include_resolved: bool = False) -> list[Conflict]:
    where = "" if include_resolved else "WHERE resolved_at IS NULL"
    rows = store.query(f"SELECT * FROM team_conflicts {where} ORDER BY id")
    return [Conflict(r["id"], r["kind"], r["target"], None if r["mine"] is None else json.loads(r["mine"]),
                     None if r["theirs"] is None else json.loads(r["theirs"]), r["created_at"], r["resolved_at"])
            for r in rows]


def resolve_conflict(store: Store, conflict_id: int) -> None:
    with store.write() as db:
        db.conn.execute("UPDATE team_conflicts SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL",
                        (to_db(store.clock.now()), conflict_id))


# ---------------------------------------------------------------- cursors

def cursor(store: Store, feed: str) -> Cursor | None:
    rows = store.query("SELECT xid, last_id, scope FROM team_cursors WHERE feed = ?", (feed,))
    return Cursor(int(rows[0]["xid"]), rows[0]["last_id"], rows[0]["scope"]) if rows else None


def cursors(store: Store) -> dict[str, Cursor]:
    """Every feed's cursor, in one read (a pull starts with all of them)."""
    return {r["feed"]: Cursor(int(r["xid"]), r["last_id"], r["scope"])
            for r in store.query("SELECT feed, xid, last_id, scope FROM team_cursors")}


def save_cursor(store: Store, feed: str, value: Cursor) -> None:
    """Inside the pull's write transaction: the rows and the cursor land together or not at all."""
    store.conn.execute(
        "INSERT INTO team_cursors (feed, xid, last_id, scope, synced_at) VALUES (?,?,?,?,?) "
        "ON CONFLICT (feed) DO UPDATE SET xid = excluded.xid, last_id = excluded.last_id, "
        "scope = excluded.scope, synced_at = excluded.synced_at",
        (feed, str(value.xid), value.last_id, value.scope, to_db(store.clock.now())))


def last_sync(store: Store) -> str | None:
    rows = store.query("SELECT max(synced_at) AS t FROM team_cursors")
    return rows[0]["t"] if rows else None


def forget_all(store: Store) -> None:
    """Leaving a team: cursors, shops and settled conflicts go; shop replies and products become the
    agent's own copies (they stay usable offline) and unsent operations are dropped with them."""
    with store.write() as db:
        db.conn.execute("DELETE FROM team_cursors")
        db.conn.execute("DELETE FROM team_outbox")
        db.conn.execute("DELETE FROM team_shops")
        db.conn.execute("UPDATE replies SET shop = NULL, shop_version = NULL WHERE shop IS NOT NULL")
        # so do the shops' products; the shops' synonym groups were the shops' (search falls back to
        # this PC's own and the shipped ones)
        db.conn.execute("UPDATE products SET team_shop = NULL, shop_version = NULL WHERE team_shop IS NOT NULL")
        db.conn.execute("DELETE FROM team_synonyms")
        db.conn.execute("UPDATE orders SET team_shop = NULL WHERE team_shop IS NOT NULL")  # this PC's own orders
