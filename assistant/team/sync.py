"""The sync client: push the local outbox, pull the server's change feed (GUI-free, no Qt).

One small interface, so another transport (an HTTP gateway) could stand in for PostgreSQL later:
`push()` sends what the outbox holds, `pull()` applies what changed since the cursor, `sync()`
does both. The caller decides where this runs: the CLI inline, the panel on its sync thread
(assistant/services/teamsync.py) with every local write handed to the store worker through
`run_write`.

Push. Operations go in order, up to PUSH_BATCH per server transaction, each under a savepoint
that first inserts its uuid into kefu_ops (ON CONFLICT DO NOTHING): a uuid already there means
the operation was applied before (the acknowledgement was lost, or the client died after the
commit), so it is acknowledged and not applied again. An operation the server refuses (a stale
shop-reply version, SQLSTATE KF409; a privilege the role no longer has) is rolled back to its
savepoint alone; the later operations on the same row are withdrawn with it, the server's row is
applied locally and both sides are kept as a conflict for the agent: nothing is silently lost.
After the server commits, one local transaction deletes the acknowledged outbox rows.

Pull. One REPEATABLE READ, READ ONLY transaction per page reads the rows with
(xid, id) > cursor AND xid < xmin of its own snapshot, ordered by (xid, id) (the schema's step 3
explains why a sequence number is not enough); the rows and the new cursor land in one local
transaction. When a page comes back short the cursor jumps to (xmin, nil): everything below it has
been read. The shops served are the cursor's scope: when they change the feed starts over and the
replies of shops no longer served leave this PC. Rows with unsent local changes are skipped (the
push brings the server's answer back).

Nothing here logs reply text, nicknames or phones; errors carry SQLSTATEs and ids only.
"""

from __future__ import annotations

import json
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..core import outbox, replies, settings
from ..core.store import Store

T = TypeVar("T")

PUSH_BATCH = 200
PULL_PAGE = 500
CHANNEL = "kefu_changes"
NIL = "00000000-0000-0000-0000-000000000000"
SHOP_FEED = "shop_replies"

STALE = "KF409"  # schema.STALE_VERSION
# What the server may refuse one operation for, leaving the others to go through: a stale version,
# a privilege or row policy the role lacks (42501), a reply it cannot see (P0002: raised here),
# a changed id or shop (KF400), a check constraint.
REFUSALS = {STALE, "KF400", "42501", "P0002", "23514"}

_SHOP_COLS = "id, shop, group_path, title, body, code, language, platforms, angle, version, deleted"


@dataclass
class SyncResult:
    pushed: int = 0  # operations the server applied now
    duplicates: int = 0  # operations it had applied before (a resend)
    conflicts: int = 0  # operations it refused (kept as conflicts)
    pulled: int = 0  # rows applied locally
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __iadd__(self, other: SyncResult) -> SyncResult:
        self.pushed += other.pushed
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        self.pulled += other.pulled
        for k, v in other.outcomes.items():
            self.outcomes[k] = self.outcomes.get(k, 0) + v
        return self


def _inline(store: Store) -> Callable[[Callable[[Store], T]], T]:
    return lambda fn: fn(store)


class SyncClient:
    """Push/pull between one local store and one server connection.

    connect() returns a psycopg connection logged in as the agent (autocommit off is not needed:
    this class opens its own transactions). run_write(fn) runs fn(store) where local writes are
    allowed (inline for the CLI and tests; the store worker in the panel) and returns its result."""

    def __init__(self, store: Store, connect: Callable[[], Any], *,
                 run_write: Callable[[Callable[[Store], Any]], Any] | None = None,
                 push_batch: int = PUSH_BATCH, pull_page: int = PULL_PAGE) -> None:
        self.store = store
        self._connect = connect
        self._conn: Any = None
        self.run_write = run_write or _inline(store)
        self.push_batch = push_batch
        self.pull_page = pull_page

    # ------------------------------------------------------------ connection
    @property
    def conn(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._conn.autocommit = True  # transactions are explicit below
        return self._conn

    def open_listener(self) -> Any:
        """A second login, LISTENing on the wake-up channel (the caller select()s on its socket and
        calls drain())."""
        conn = self._connect()
        conn.autocommit = True
        listen(conn)
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------ the whole round
    def sync(self) -> SyncResult:
        start = time.monotonic()
        result = SyncResult()
        self.refresh_identity()
        while True:  # push everything queued, then pull until caught up
            step = self.push()
            result += step
            if step.pushed + step.duplicates + step.conflicts == 0:
                break
        result += self.pull()
        result.seconds = time.monotonic() - start
        return result

    def refresh_identity(self) -> tuple[str, list[tuple[str, str]]]:
        """Who the server says we are (agent/supervisor) and the shops served; stored locally so the
        editor knows, offline too."""
        conn = self.conn
        role = conn.execute("SELECT current_user").fetchone()[0]
        team = role.split("_")[1] if role.startswith("kefu_") else ""
        sup = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER') "
                           "AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)",
                           [f"kefu_{team}_supervisor", f"kefu_{team}_supervisor"]).fetchone()[0]
        kind = "supervisor" if sup else "agent"
        shops = [(str(i), n) for i, n in conn.execute("SELECT id, name FROM shops ORDER BY name")]

        def store_identity(store: Store) -> None:
            with store.write() as db:
                if settings.get(store, "team.kind") != kind:
                    settings.set(store, "team.kind", kind)
                current = {r["uuid"]: r["name"] for r in store.query("SELECT uuid, name FROM team_shops")}
                if current != dict(shops):
                    db.conn.execute("DELETE FROM team_shops")
                    db.conn.executemany("INSERT INTO team_shops (uuid, name) VALUES (?, ?)", shops)

        self.run_write(store_identity)
        return kind, shops

    # ------------------------------------------------------------ push
    def push(self) -> SyncResult:
        result = SyncResult()
        ops = outbox.pending(self.store, self.push_batch)
        if not ops:
            return result
        conn = self.conn
        psycopg = _psycopg()
        acked: list[str] = []
        refused: dict[str, tuple[str, outbox.Op]] = {}  # target -> (kind of refusal, first op refused)
        with conn.transaction():
            for op in ops:
                if op.target in refused:
                    continue  # a later edit of a row whose earlier edit was refused is stale too
                try:
                    with conn.transaction():  # a savepoint: a refusal undoes this operation only
                        fresh = conn.execute("INSERT INTO kefu_ops (op) VALUES (%s) ON CONFLICT DO NOTHING "
                                             "RETURNING op", [op.op]).fetchone()
                        if fresh is None:
                            result.duplicates += 1
                        else:
                            _apply_op(conn, op)
                            result.pushed += 1
                    acked.append(op.op)
                except (psycopg.Error, _Missing) as exc:
                    state = getattr(exc, "sqlstate", None) or "P0002"
                    if state not in REFUSALS:
                        raise  # the connection or the server failed: the whole batch is resent later
                    refused[op.target] = ("stale_edit" if state == STALE else f"refused:{state}", op)
            theirs = {target: _server_row(conn, target) for target in refused}
        result.conflicts = len(refused)

        def settle(store: Store) -> None:
            with store.write():
                outbox.acknowledge(store, acked)
                for target, (kind, first) in refused.items():
                    withdrawn = outbox.take_target(store, target)
                    mine = withdrawn[-1].body if withdrawn else first.body
                    server = theirs[target]
                    reason = None if kind == "stale_edit" else kind.split(":", 1)[1]
                    outbox.record_conflict(store, "stale_edit" if reason is None else "refused", target,
                                           {**mine, "op": first.kind}, None if server is None else
                                           {**_jsonable(server), **(_refusal(reason) if reason else {})})
                    if server is not None:
                        replies.apply_shop_row(store, server)
                    else:  # the server never had it (a refused create): it stays this PC's own reply
                        store.conn.execute("UPDATE replies SET shop = NULL, shop_version = NULL WHERE uuid = ?",
                                           (target,))

        self.run_write(settle)
        return result

    # ------------------------------------------------------------ pull
    def pull(self) -> SyncResult:
        result = SyncResult()
        shops = sorted(r["uuid"] for r in self.store.query("SELECT uuid FROM team_shops"))
        role = self.conn.execute("SELECT current_user").fetchone()[0]
        scope = json.dumps([role, shops])
        start = outbox.cursor(self.store, SHOP_FEED)
        if start is None or start.scope != scope:
            self.run_write(lambda store: _forget_other_shops(store, shops))
            start = outbox.Cursor(0, NIL, scope)
        cursor = start
        while True:
            rows, cursor, done = self._page(cursor)

            def land(store: Store, rows: list[dict] = rows, cursor: outbox.Cursor = cursor) -> dict[str, int]:
                counts: dict[str, int] = {}
                with store.write():
                    for row in rows:
                        outcome = replies.apply_shop_row(store, row)
                        counts[outcome] = counts.get(outcome, 0) + 1
                    outbox.save_cursor(store, SHOP_FEED, cursor)
                return counts

            for k, v in self.run_write(land).items():
                result.outcomes[k] = result.outcomes.get(k, 0) + v
            result.pulled += len(rows)
            if done:
                return result

    def _page(self, cursor: outbox.Cursor) -> tuple[list[dict], outbox.Cursor, bool]:
        conn = self.conn
        psycopg = _psycopg()
        from psycopg.rows import dict_row

        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        try:
            with conn.transaction():
                xmin = int(conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::numeric")
                           .fetchone()[0])
                with conn.cursor(row_factory=dict_row) as cur:
                    rows = cur.execute(
                        f"SELECT {_SHOP_COLS}, xid::text AS xid FROM shop_replies "
                        "WHERE (xid, id) > (%s::text::xid8, %s::uuid) AND xid < %s::text::xid8 "
                        # qualified: a bare `xid` here is the text output column (999 > 1000)
                        "ORDER BY shop_replies.xid, shop_replies.id LIMIT %s",
                        [str(cursor.xid), cursor.last_id, str(xmin), self.pull_page]).fetchall()
        finally:
            conn.isolation_level = None
            conn.read_only = None
        if len(rows) < self.pull_page:
            # everything below xmin has been read; never move backwards
            nxt = max((cursor.xid, cursor.last_id), (xmin, NIL))
            return rows, outbox.Cursor(nxt[0], nxt[1], cursor.scope), True
        last = rows[-1]
        return rows, outbox.Cursor(int(last["xid"]), str(last["id"]), cursor.scope), False


# ---------------------------------------------------------------- helpers

class _Missing(Exception):
    """An update of a shop reply the server does not have (or this role cannot see)."""


def _psycopg():
    import psycopg

    return psycopg


def _apply_op(conn: Any, op: outbox.Op) -> None:
    body = op.body
    if op.kind == "shop_reply.create":
        conn.execute(
            "INSERT INTO shop_replies (id, shop, group_path, title, body, code, language, platforms, angle) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s) ON CONFLICT (id) DO NOTHING",
            [op.target, body["shop"], body["group_path"], body["title"], body["body"], body["code"] or "",
             body["language"], json.dumps(body["platforms"]), body["angle"]])
    elif op.kind == "shop_reply.update":
        found = conn.execute(
            "UPDATE shop_replies SET group_path = %s, title = %s, body = %s, code = %s, language = %s, "
            "platforms = %s::jsonb, angle = %s, deleted = false, version = %s WHERE id = %s RETURNING id",
            [body["group_path"], body["title"], body["body"], body["code"] or "", body["language"],
             json.dumps(body["platforms"]), body["angle"], int(body["expected_version"]) + 1, op.target]).fetchone()
        if found is None:
            raise _Missing(op.target)
    elif op.kind == "shop_reply.delete":
        found = conn.execute("UPDATE shop_replies SET deleted = true, version = %s WHERE id = %s RETURNING id",
                             [int(body["expected_version"]) + 1, op.target]).fetchone()
        if found is None:
            raise _Missing(op.target)
    else:
        raise ValueError(f"unknown outbox operation {op.kind!r}")


def _server_row(conn: Any, target: str) -> dict | None:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT {_SHOP_COLS} FROM shop_replies WHERE id = %s", [target]).fetchone()


_REFUSED = {
    "42501": ("没有权限：店铺话术只能由主管修改", "not allowed: only a supervisor changes the shop library"),
    "P0002": ("服务器上没有这条店铺话术（可能已被删除）", "the server has no such shop reply (deleted?)"),
    "KF400": ("话术的编号和店铺不可更改", "a shop reply keeps its id and shop"),
    "23514": ("内容不符合服务器的规则", "the server's rules refused the content"),
}


def _refusal(sqlstate: str) -> dict[str, str]:
    zh, en = _REFUSED.get(sqlstate, ("服务器拒绝了这项修改", "the server refused this change"))
    return {"sqlstate": sqlstate, "reason_zh": zh, "reason": en}


def _jsonable(row: dict) -> dict:
    return {k: (str(v) if isinstance(v, uuidlib.UUID) else v) for k, v in row.items()}


def _forget_other_shops(store: Store, shops: list[str]) -> None:
    """A new scope (another role, a shop granted or withdrawn): replies of shops no longer served
    leave this PC, unless a local change to them is still unsent."""
    with store.write() as db:
        marks = ",".join("?" * len(shops))
        keep = f"AND shop NOT IN ({marks})" if shops else ""
        for row in store.query(f"SELECT id, uuid FROM replies WHERE shop IS NOT NULL {keep}", tuple(shops)):
            if not outbox.has_pending(store, row["uuid"]):
                db.conn.execute("DELETE FROM replies WHERE id = ?", (row["id"],))
        db.conn.execute("DELETE FROM team_cursors WHERE feed = ?", (SHOP_FEED,))


def listen(conn: Any) -> None:
    """Turn an autocommit connection into the wake-up line (LISTEN on the one channel)."""
    conn.execute(f"LISTEN {CHANNEL}")


def drain(conn: Any) -> int:
    """Read what arrived on a LISTEN connection without blocking; returns how many notifications.
    Called when its socket is readable (Qt's socket notifier) or on the polling fallback."""
    pg = conn.pgconn
    pg.consume_input()
    n = 0
    while pg.notifies() is not None:
        n += 1
    return n
