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

Pull. One REPEATABLE READ, READ ONLY transaction (pipelined) reads every feed's rows with
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
from datetime import datetime
from typing import Any, TypeVar

from ..core import aftersales, customers, orders, outbox, products, reminders, replies, settings
from ..core.clock import from_db, to_db
from ..core.store import Store

T = TypeVar("T")

PUSH_BATCH = 200
PULL_PAGE = 500
CHANNEL = "kefu_changes"
LEASE_MINUTES = int(customers.LEASE_GRACE.total_seconds() // 60)  # renewed every round while online
NIL = "00000000-0000-0000-0000-000000000000"
SHOP_FEED = "shop_replies"

STALE = "KF409"  # schema.STALE_VERSION
# What the server may refuse one operation for, leaving the others to go through: a stale version,
# a privilege or row policy the role lacks (42501), a reply it cannot see (P0002: raised here),
# a changed id or shop (KF400), a check constraint.
REFUSALS = {STALE, "KF400", "42501", "P0002", "23514", "KF423", "23505"}  # 23505: two products named alike at once

_SHOP_COLS = "id, shop, group_path, title, body, code, language, platforms, angle, version, deleted"
_PRODUCT_COLS = ("id, shop, name, short_name, item_ref, price_band, selling_points, material, size, care, gift, "
                 "promotion, version, deleted")
_LINK_COLS = "id, buyer, product, chosen, present, linked_at"


@dataclass(frozen=True)
class Feed:
    """One table's change feed: its own cursor, and how a row lands in the local store."""

    name: str
    table: str
    columns: str
    id_type: str  # of the table's id: uuid | bigint
    nil: str  # below every id
    apply: Callable[[Store, dict, dict], str]


FEEDS: tuple[Feed, ...] = (
    Feed(SHOP_FEED, "shop_replies", _SHOP_COLS, "uuid", NIL, lambda store, row, ctx: replies.apply_shop_row(store, row)),
    # the shop's search synonyms and product list (step 8): products before the chases and links naming them
    Feed("shop_synonyms", "shop_synonyms", "id, shop, words, deleted", "uuid", NIL, replies.apply_synonym_row),
    Feed("products", "products", _PRODUCT_COLS, "uuid", NIL, products.apply_product_row),
    Feed("buyers", "buyers", "id, shop, platform, nickname, tz, language, state, starred, cadence_id, holder, "
         "held_until, mood, do_not_call", "uuid", NIL, customers.apply_buyer_row),
    Feed("buyer_marks", "buyer_marks", "id, buyer, mark, present", "uuid", NIL, customers.apply_mark_row),
    Feed("buyer_notes", "buyer_notes", "id, buyer, author, at, body", "uuid", NIL, customers.apply_note_row),
    Feed("chases", "chases", "id, buyer, author, sent_at, angle, reply_title, collision, product, selling_point",
         "uuid", NIL, customers.apply_chase_row),
    Feed("buyer_products", "buyer_products", _LINK_COLS, "uuid", NIL, products.apply_link_row),
    Feed("collisions", "collisions", "id, buyer, chase, holder, chaser, at", "bigint", "0",
         customers.apply_collision_row),
    # after the buyers (a reminder's buyer is local by then) and promotions before their waves
    Feed("promotions", "promotions", "id, shop, name, start_at, deleted", "uuid", NIL, reminders.apply_promotion_row),
    # orders (step 9) before the reminders naming them
    Feed("orders", "orders", orders.ORDER_FEED_COLUMNS, "uuid", NIL, orders.apply_order_row),
    Feed("reminders", "reminders", 'id, buyer, owner, kind, promotion, cadence_id, step, due_at, planned_at, state, '
         'outcome, "order"', "uuid", NIL, reminders.apply_reminder_row),
    Feed("promotion_calls", "promotion_calls", "id, promotion, buyer, outcome, at, retry_at, author", "uuid", NIL,
         reminders.apply_call_row),
    # after the buyers (a case's buyer is local by then); a case before its history lines
    Feed("aftersales_limits", "aftersales_limits", aftersales.LIMIT_FEED_COLUMNS, "uuid", NIL,
         aftersales.apply_limit_row),
    Feed("aftersales_cases", "aftersales_cases", aftersales.CASE_FEED_COLUMNS, "uuid", NIL, aftersales.apply_case_row),
    Feed("aftersales_events", "aftersales_events", aftersales.EVENT_FEED_COLUMNS, "uuid", NIL,
         aftersales.apply_event_row),
)


# feeds whose rows can change who holds a buyer or which reminders this panel owns (a buyer's 勿扰 comes
# in the buyers feed and ends this panel's wave slots). Product links, calls and 勿扰 follow the
# holder on the server (KF423) but never move a holder or a reminder: no second write transaction.
HOLDER_FEEDS = frozenset({"buyers", "promotions", "reminders", "aftersales_cases"})


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
        # Leases held while online run on, on server time. Only when one is within half its grace of
        # running out: the renewal is a write every panel is woken for, so never once per round.
        soon = to_db(self.store.clock.now() + customers.LEASE_GRACE / 2)
        role = customers.team_role(self.store)
        if role and self.store.query("SELECT 1 FROM buyers WHERE holder = ? AND held_until < ? LIMIT 1", (role, soon)):
            self.conn.execute(f"SELECT kefu_renew(now() + interval '{LEASE_MINUTES} minutes')")
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
        agents = [[r, d, bool(a)] for r, d, a in conn.execute(
            "SELECT role, display_name, active FROM kefu_agents() ORDER BY display_name, role")]

        def store_identity(store: Store) -> None:
            with store.write() as db:
                if settings.get(store, "team.kind") != kind:
                    settings.set(store, "team.kind", kind)
                if settings.get(store, "team.agents") != agents:
                    settings.set(store, "team.agents", agents)
                current = {r["uuid"]: r["name"] for r in store.query("SELECT uuid, name FROM team_shops")}
                if current != dict(shops):
                    db.conn.execute("DELETE FROM team_shops")
                    db.conn.executemany("INSERT INTO team_shops (uuid, name) VALUES (?, ?)", shops)
                customers.share_followed(store)  # starred before joining, or before a shop was granted
                products.share_all(store)  # a supervisor's products of the shops served join their lists
                orders.share_all(store)  # orders of buyers shared since (before joining, from a handover)

        self.run_write(store_identity)
        return kind, shops

    def pick_up_pool(self) -> int:
        """Signing in: take the buyers (and their reminders) a colleague's 交班 left in the shop's pool
        or a disabled agent left behind; the next pull brings them. Returns how many buyers."""
        return int(self.conn.execute(
            f"SELECT kefu_pick_up_pool(now() + interval '{LEASE_MINUTES} minutes')").fetchone()[0])

    def reveal_order_number(self, order_uuid: str) -> str | None:
        """The full number of a shared order, from the server (which records who asked, when, for which
        order: never the number). None: the server only has the masked one."""
        return self.conn.execute("SELECT kefu_reveal_order_number(%s)", [order_uuid]).fetchone()[0]

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
        remap: dict[str, str] = {}  # a buyer this PC shared first under its own id -> the server's id
        holders: dict[str, tuple] = {}  # buyer -> (holder, holder name, held until) the server answered
        not_mine: list[str] = []  # reminders the server says another agent owns: they end here
        with conn.transaction():
            for op in ops:
                if op.target in refused:
                    continue  # a later edit of a row whose earlier edit was refused is stale too
                target = remap.get(op.target, op.target)
                try:
                    with conn.transaction():  # a savepoint: a refusal undoes this operation only
                        if op.kind == "buyer.upsert":
                            # idempotent by itself, and run even for a resent operation: its answer
                            # (the buyer's server id) is needed again after a crash
                            target = str(conn.execute("SELECT kefu_upsert_buyer(%s, %s, %s, %s)",
                                                      [op.target, op.body["shop"], op.body["platform"],
                                                       op.body["nickname"]]).fetchone()[0])
                            if target != op.target:
                                remap[op.target] = target
                        fresh = conn.execute("INSERT INTO kefu_ops (op) VALUES (%s) ON CONFLICT DO NOTHING "
                                             "RETURNING op", [op.op]).fetchone()
                        if fresh is None:
                            result.duplicates += 1
                        else:
                            answer = _apply_op(conn, op, target, remap)
                            if isinstance(answer, str):
                                if answer != "ok":
                                    not_mine.append(op.body["id"])
                            elif answer is not None:
                                holders[target] = answer
                            result.pushed += 1
                    acked.append(op.op)
                except (psycopg.Error, _Missing) as exc:
                    state = getattr(exc, "sqlstate", None) or "P0002"
                    if state not in REFUSALS:
                        raise  # the connection or the server failed: the whole batch is resent later
                    refused[op.target] = ("stale_edit" if state == STALE else f"refused:{state}", op)
            theirs = {target: _server_row(conn, target) if first.kind.startswith("shop_reply.") else
                      _case_row(conn, target) if first.kind == "aftersales.case" else
                      _step8_row(conn, first, remap) for target, (_, first) in refused.items()}
            ctx = self._apply_ctx() if any(first.kind in ("aftersales.case", "product.put")
                                           for _, first in refused.values()) else {}
        result.conflicts = len(refused)

        def settle(store: Store) -> None:
            with store.write():
                outbox.acknowledge(store, acked)
                for old, new in remap.items():  # two agents shared the same buyer: one id, the server's
                    if not store.query("SELECT 1 FROM buyers WHERE uuid = ?", (new,)):
                        store.conn.execute("UPDATE buyers SET uuid = ? WHERE uuid = ?", (new, old))
                    store.conn.execute("UPDATE team_outbox SET target = ? WHERE target = ?", (new, old))
                    # a shop promotion's wave names buyers by id: unsent ones learn the server's id too
                    store.conn.execute("UPDATE team_outbox SET body = replace(body, ?, ?) WHERE kind IN "
                                       "('promotion.add', 'aftersales.case', 'product.link', 'promotion.call', "
                                       "'buyer.dnc', 'order.put')", (old, new))
                    store.conn.execute("UPDATE team_outbox SET target = ? WHERE target = ?",
                                       (customers.dnc_target(new), customers.dnc_target(old)))
                if not_mine:
                    marks = ",".join("?" * len(not_mine))
                    store.conn.execute(f"UPDATE reminders SET state = 'cancelled', outcome = 'held_by_other' "
                                       f"WHERE state = 'pending' AND uuid IN ({marks})", tuple(not_mine))
                for buyer, (holder, name, until) in holders.items():
                    if not store.query("SELECT 1 FROM team_outbox WHERE target = ? AND kind IN "
                                       "('buyer.claim', 'buyer.takeover')", (buyer,)):
                        store.conn.execute("UPDATE buyers SET holder = ?, holder_name = ?, held_until = ? "
                                           "WHERE uuid = ?", (holder, name, until, buyer))
                for target, (kind, first) in refused.items():
                    withdrawn = outbox.take_target(store, target)
                    mine = withdrawn[-1].body if withdrawn else first.body
                    server = theirs[target]
                    reason = None if kind == "stale_edit" else kind.split(":", 1)[1]
                    if first.kind == "aftersales.case":
                        # kept whole in the conflict: every history line the refused changes wrote
                        state = kind.split(":", 1)[1] if reason else STALE
                        lines = [e for op in (withdrawn or [first]) for e in op.body.get("events", [])]
                        ref = store.query("SELECT id FROM aftersales_cases WHERE uuid = ?", (target,))
                        title = f"售后单 #{ref[0]['id']}" if ref else "售后单"  # what the conflict lists show
                        outbox.record_conflict(store, "refused", target,
                                               {**mine, "events": lines, "op": first.kind, "title": title},
                                               {**_jsonable(server or {}), **_refusal(state, _CASE_REFUSED)})
                        aftersales.apply_refused_case(store, target, server, [e["id"] for e in lines], ctx)
                        continue
                    if first.kind in STEP8_KINDS:
                        _settle_step8(store, target, kind, first, mine, server, ctx)
                        continue
                    outbox.record_conflict(store, "stale_edit" if reason is None else "refused", target,
                                           {**mine, "op": first.kind}, None if server is None and reason is None else
                                           {**_jsonable(server or {}), **(_refusal(reason) if reason else {})})
                    if first.kind == "team.handover":  # nothing moved: hear the holders again from the server
                        store.conn.execute("DELETE FROM team_cursors WHERE feed = 'buyers'")
                    if first.kind == "promotion.add":  # the server never had it: it stays this PC's own
                        store.conn.execute("UPDATE promotions SET team_shop = NULL WHERE uuid = ?", (target,))
                    if not first.kind.startswith("shop_reply."):
                        continue
                    if server is not None:
                        replies.apply_shop_row(store, server)
                    else:  # the server never had it (a refused create): it stays this PC's own reply
                        store.conn.execute("UPDATE replies SET shop = NULL, shop_version = NULL WHERE uuid = ?",
                                           (target,))

        self.run_write(settle)
        if holders:
            self.run_write(lambda store: reminders.yield_to_holders(store))
        return result

    # ------------------------------------------------------------ pull
    def pull(self) -> SyncResult:
        """Every feed, read in ONE REPEATABLE READ snapshot up to its xmin: a chase is never read
        in a later snapshot than its buyer (each feed with its own snapshot could read a chase whose
        buyer committed after the buyers feed was read, and skip it for good). Pages of PULL_PAGE
        rows; what was read lands locally in one transaction per PULL_PAGE rows (usually one per
        pull), each feed's cursor with its rows. One round trip for all the feeds' first pages, and
        COMMIT."""
        result = SyncResult()
        shops = {r["uuid"]: r["name"] for r in self.store.query("SELECT uuid, name FROM team_shops")}
        role = customers.team_role(self.store) or self.conn.execute("SELECT current_user").fetchone()[0]
        scope = json.dumps([role, sorted(shops)])
        saved = outbox.cursors(self.store)
        if any((c := saved.get(feed.name)) is None or c.scope != scope for feed in FEEDS):
            self.run_write(lambda store: _forget_other_shops(store, sorted(shops)))
            saved = {}
        ctx = self._apply_ctx(role, shops)
        pending: list[tuple[Feed, list[dict], outbox.Cursor]] = []
        waiting = 0
        holders_moved = False

        def land_all() -> None:
            nonlocal pending, waiting
            batch, pending, waiting = pending, [], 0

            def land(store: Store) -> dict[str, int]:
                counts: dict[str, int] = {}
                with store.write():
                    for feed, rows, cursor in batch:  # in feed order: a buyer before its chases
                        for row in rows:
                            outcome = feed.apply(store, row, ctx)
                            counts[outcome] = counts.get(outcome, 0) + 1
                        outbox.save_cursor(store, feed.name, cursor)
                return counts

            for k, v in self.run_write(land).items():
                result.outcomes[k] = result.outcomes.get(k, 0) + v

        conn = self.conn
        psycopg = _psycopg()
        from psycopg.rows import dict_row

        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True

        def take(feed: Feed, cursor: outbox.Cursor, rows: list[dict], nxt: outbox.Cursor) -> None:
            nonlocal waiting, holders_moved
            if rows and feed.name in HOLDER_FEEDS:
                holders_moved = True
            if rows or nxt != cursor:
                pending.append((feed, rows, nxt))
                waiting += len(rows)
                result.pulled += len(rows)
            if waiting >= self.pull_page:
                land_all()  # bounded memory on a first sync of a large library

        try:
            # Pipelined: BEGIN, the snapshot's xmin and every feed's first page go in one round trip
            # (a quiet pull is that one round trip and COMMIT); only a feed with more than a page
            # to read asks again, inside the same snapshot.
            with conn.pipeline(), conn.transaction():
                xmin_cur = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
                first = []
                for feed in FEEDS:
                    start = saved.get(feed.name)
                    cursor = start if start is not None and start.scope == scope else outbox.Cursor(0, feed.nil, scope)
                    cur = conn.cursor(row_factory=dict_row)
                    cur.execute(self._page_sql(feed), self._page_params(cursor))
                    first.append((feed, cursor, cur))
                xmin = int(xmin_cur.fetchone()[0])
                for feed, cursor, cur in first:
                    rows = cur.fetchall()
                    cur.close()
                    nxt, done = self._advance(feed, rows, cursor, xmin)
                    take(feed, cursor, rows, nxt)
                    cursor = nxt
                    while not done:
                        rows, nxt, done = self._page(feed, cursor, xmin)
                        take(feed, cursor, rows, nxt)
                        cursor = nxt
        finally:
            conn.isolation_level = None
            conn.read_only = None
        if pending:
            land_all()
        if holders_moved:
            # only when who holds a buyer, or its reminders, may have changed: a shop-library edit (most
            # pulls) costs no second write transaction
            self.run_write(lambda store: (reminders.yield_to_holders(store), reminders.adopt_held(store),
                                          _follow_cases(store), _end_do_not_call_waves(store)))
        return result

    def _apply_ctx(self, role: str | None = None, shops: dict | None = None) -> dict:
        """What the apply functions are told: this agent's role, the team's display names (as the last
        identity refresh listed them: no query per pull) and the shops served."""
        if shops is None:
            shops = {r["uuid"]: r["name"] for r in self.store.query("SELECT uuid, name FROM team_shops")}
        if role is None:
            role = customers.team_role(self.store) or self.conn.execute("SELECT current_user").fetchone()[0]
        agents = {r: d for r, d, *_ in settings.get(self.store, "team.agents") or []}
        return {"me": role, "agents": agents, "shops": shops}

    @staticmethod
    def _page_sql(feed: Feed) -> str:
        t = feed.table
        # the snapshot's xmin in SQL: the same value all through a REPEATABLE READ transaction, so the
        # first pages can be sent before the client has read it
        return (f"SELECT {feed.columns}, {t}.xid::text AS xid_text FROM {t} "
                f"WHERE ({t}.xid, {t}.id) > (%s::text::xid8, %s::text::{feed.id_type}) "
                # qualified: a bare `xid` would be the text column (999 after 1000)
                f"AND {t}.xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY {t}.xid, {t}.id LIMIT %s")

    def _page_params(self, cursor: outbox.Cursor) -> list:
        return [str(cursor.xid), cursor.last_id, self.pull_page]

    def _advance(self, feed: Feed, rows: list[dict], cursor: outbox.Cursor, xmin: int) -> tuple[outbox.Cursor, bool]:
        """The cursor after a page, and whether the feed is read up to the snapshot's xmin."""
        if len(rows) < self.pull_page:
            # everything below xmin has been read (rows all lie below it); never move backwards
            return (outbox.Cursor(xmin, feed.nil, cursor.scope) if xmin > cursor.xid else cursor), True
        last = rows[-1]
        return outbox.Cursor(int(last["xid_text"]), str(last["id"]), cursor.scope), False

    def _page(self, feed: Feed, cursor: outbox.Cursor, xmin: int) -> tuple[list[dict], outbox.Cursor, bool]:
        """One more page of a feed inside the pull's snapshot, whose xmin bounds it."""
        from psycopg.rows import dict_row

        with self.conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(self._page_sql(feed), self._page_params(cursor)).fetchall()
        nxt, done = self._advance(feed, rows, cursor, xmin)
        return rows, nxt, done


# ---------------------------------------------------------------- helpers

class _Missing(Exception):
    """An update of a shop reply the server does not have (or this role cannot see)."""


def _psycopg():
    import psycopg

    return psycopg


def _apply_op(conn: Any, op: outbox.Op, target: str, remap: dict[str, str] | None = None) -> tuple | str | None:
    """Apply one operation; for a claim or take-over, return what the server answered
    (holder, holder name, held until as the local store writes it); for a reminder, the server's
    verdict ('ok', or 'not_owner' / 'held': someone else owns it)."""
    body = op.body
    if op.kind == "shop_reply.create":
        conn.execute(
            "INSERT INTO shop_replies (id, shop, group_path, title, body, code, language, platforms, angle) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s) ON CONFLICT (id) DO NOTHING",
            [target, body["shop"], body["group_path"], body["title"], body["body"], body["code"] or "",
             body["language"], json.dumps(body["platforms"]), body["angle"]])
    elif op.kind == "shop_reply.update":
        found = conn.execute(
            "UPDATE shop_replies SET group_path = %s, title = %s, body = %s, code = %s, language = %s, "
            "platforms = %s::jsonb, angle = %s, deleted = false, version = %s WHERE id = %s RETURNING id",
            [body["group_path"], body["title"], body["body"], body["code"] or "", body["language"],
             json.dumps(body["platforms"]), body["angle"], int(body["expected_version"]) + 1, target]).fetchone()
        if found is None:
            raise _Missing(target)
    elif op.kind == "shop_reply.delete":
        found = conn.execute("UPDATE shop_replies SET deleted = true, version = %s WHERE id = %s RETURNING id",
                             [int(body["expected_version"]) + 1, target]).fetchone()
        if found is None:
            raise _Missing(target)
    elif op.kind in ("buyer.upsert", "buyer.update"):
        # the newer write wins (server order); a buyer another agent holds changes 0 rows (row policy)
        fields = body["fields"]
        conn.execute("UPDATE buyers SET tz = %s, language = %s, state = %s, starred = %s, cadence_id = %s, "
                     "mood = %s WHERE id = %s",
                     [fields["tz"], fields["language"], fields["state"], bool(fields["starred"]),
                      fields["cadence_id"], fields.get("mood"), target])
    elif op.kind in ("buyer.claim", "buyer.takeover"):
        # the lease runs on server time: the PC's clock never sets it
        if op.kind == "buyer.claim":
            row = conn.execute("SELECT holder, holder_name, held_until FROM "
                               f"kefu_claim(%s, now() + interval '{LEASE_MINUTES} minutes')", [target]).fetchone()
        else:
            row = conn.execute("SELECT holder, holder_name, held_until FROM "
                               f"kefu_take_over(%s, now() + interval '{LEASE_MINUTES} minutes', %s)",
                               [target, body.get("reason", "")]).fetchone()
        holder, name, until = row
        return holder, name, None if until is None else to_db(until)
    elif op.kind == "buyer.mark":
        conn.execute("INSERT INTO buyer_marks (buyer, mark, present) VALUES (%s, %s, %s) "
                     "ON CONFLICT (buyer, mark) DO UPDATE SET present = EXCLUDED.present",
                     [target, body["mark"], bool(body["present"])])
    elif op.kind == "buyer.note":
        conn.execute("INSERT INTO buyer_notes (id, buyer, body) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
                     [body["id"], target, body["body"]])
    elif op.kind == "buyer.chase":
        # with the selling point it sent (step 8): a second agent's panel never proposes it again
        conn.execute("INSERT INTO chases (id, buyer, client_sent_at, angle, reply_title, product, selling_point) "
                     "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                     [body["id"], target, from_db(body["client_sent_at"]), body["angle"], body["reply_title"],
                      body.get("product"), body.get("selling_point")])
    elif op.kind == "team.handover":
        conn.execute(f"SELECT kefu_hand_over(%s, now() + interval '{LEASE_MINUTES} minutes')", [body["to"]])
    elif op.kind == "buyer.phone":
        conn.execute("SELECT kefu_set_phone(%s, %s)", [target, body["phone"]])
    elif op.kind == "reminder.put":
        return str(conn.execute(
            "SELECT kefu_put_reminder(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [body["id"], target, body["kind"], body["promotion"], body["cadence_id"], int(body["step"]),
             from_db(body["due_at"]), from_db(body["planned_at"]), body["state"], body["outcome"],
             body.get("order")]).fetchone()[0])
    elif op.kind == "promotion.add":
        # the whole wave as four arrays in one statement: one row trigger pass, one wake-up
        waves = body["waves"]
        remap = remap or {}
        # times go as the ISO text the outbox holds (UTC, "Z"): the server parses 100k of them faster
        conn.execute("SELECT kefu_add_promotion(%s, %s, %s, %s, %s, %s::text[]::uuid[], %s::text[]::uuid[], "
                     "%s::text[]::timestamptz[], %s::text[]::timestamptz[])",
                     [target, body["shop"], body["name"], from_db(body["start"]), body["cadence"],
                      [w[0] for w in waves], [remap.get(w[1], w[1]) for w in waves], [w[2] for w in waves],
                      [w[3] for w in waves]])
    elif op.kind == "promotion.delete":
        conn.execute("SELECT kefu_delete_promotion(%s)", [target])
    elif op.kind == "aftersales.case":
        # one local transaction's change of a case: its fields, the status it started from, its history lines
        remap = remap or {}
        conn.execute("SELECT kefu_put_case(%s, %s, %s, %s::jsonb, %s::jsonb)",
                     [target, remap.get(body["buyer"], body["buyer"]), body["from"], json.dumps(body["case"]),
                      json.dumps(body["events"])])
    elif op.kind == "aftersales.limit":
        # supervisors only (privileges and the row policy); one row per shop, agent, severity and product
        conn.execute("INSERT INTO aftersales_limits (id, shop, agent, severity, product, max_compensation, may_exchange, "
                     "may_return, may_refund, deleted) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                     "ON CONFLICT (shop, agent, severity, product) DO UPDATE SET "
                     "max_compensation = EXCLUDED.max_compensation, may_exchange = EXCLUDED.may_exchange, "
                     "may_return = EXCLUDED.may_return, may_refund = EXCLUDED.may_refund, deleted = EXCLUDED.deleted",
                     [target, body["shop"], body["agent"], body["severity"], body["product"],
                      int(body["max_compensation"]), bool(body["may_exchange"]), bool(body["may_return"]),
                      bool(body["may_refund"]), bool(body["deleted"])])
    elif op.kind == "product.put":
        # a supervisor's product of a shop's list: created (no version), changed or deleted (a tombstone)
        conn.execute("SELECT kefu_put_product(%s, %s, %s, %s::jsonb, %s)",
                     [target, body["shop"], body["expected_version"], json.dumps(body["product"]),
                      bool(body["deleted"])])
    elif op.kind == "product.link":
        remap = remap or {}
        conn.execute("SELECT kefu_link_product(%s, %s, %s, %s)",
                     [remap.get(body["buyer"], body["buyer"]), body["product"], bool(body["chosen"]),
                      bool(body["present"])])
    elif op.kind == "promotion.call":
        remap = remap or {}
        conn.execute("SELECT kefu_record_call(%s, %s, %s, %s, %s, %s)",
                     [target, body["promotion"], remap.get(body["buyer"], body["buyer"]), body["outcome"],
                      from_db(body["client_at"]), from_db(body["retry_at"]) if body["retry_at"] else None])
    elif op.kind == "buyer.dnc":
        remap = remap or {}
        conn.execute("SELECT kefu_set_do_not_call(%s, %s)", [remap.get(body["buyer"], body["buyer"]), bool(body["on"])])
    elif op.kind == "order.put":
        # the masked number on the row everyone reads, the full one for the reveal table (step 9)
        remap = remap or {}
        conn.execute("SELECT kefu_put_order(%s, %s, %s::jsonb, %s)",
                     [target, remap.get(body["buyer"], body["buyer"]), json.dumps(body["order"], ensure_ascii=False),
                      body["number"]])
    elif op.kind == "synonyms.add":
        # supervisors only (privileges and the row policy); a group's id is its key: sent again, nothing changes
        conn.execute("INSERT INTO shop_synonyms (id, shop, words) VALUES (%s, %s, %s::jsonb) ON CONFLICT (id) DO NOTHING",
                     [target, body["shop"], json.dumps(body["words"], ensure_ascii=False)])
    elif op.kind == "synonyms.remove":
        conn.execute("UPDATE shop_synonyms SET deleted = true WHERE id = %s AND NOT deleted", [target])
    else:
        raise ValueError(f"unknown outbox operation {op.kind!r}")
    return None


# ---------------------------------------------------------------- step 8: products, calls, 勿扰, synonyms
STEP8_KINDS = frozenset({"product.put", "product.link", "promotion.call", "buyer.dnc", "synonyms.add",
                         "synonyms.remove", "order.put"})

_STEP8_REFUSED = {
    STALE: ("商品资料已被他人修改，或店铺已有同名商品：你的修改没有生效（已保留在冲突记录里）",
            "a colleague changed the product first, or the shop has a product of that name: your change was not "
            "applied (kept in this conflict)"),
    "23505": ("店铺已有同名商品", "the shop already has a product of that name"),
    "42501": ("没有权限：商品资料和店铺同义词只能由主管修改", "not allowed: only a supervisor changes products and synonyms"),
    "KF423": ("这位买家由别人跟进中，只有跟进人或主管可以修改", "another agent follows this buyer: only they or a supervisor "
              "may change it"),
    "P0002": ("服务器上没有这位买家、商品或活动", "the server has no such buyer, product or promotion"),
    "KF400": ("服务器拒绝了这项修改", "the server refused this change"),
    "23514": ("内容不符合服务器的规则", "the server's rules refused the content"),
}


_ORDER_REFUSED = {
    "23505": ("这个订单号已经属于另一个订单（同事已记录），订单只保留在本机", "the order number is another order's (a "
              "colleague recorded it): the order stays on this PC only"),
    "KF423": ("这位买家由别人跟进中，订单由跟进人或主管标记", "another agent follows this buyer: they or a supervisor mark "
              "its orders"),
    "KF400": ("服务器拒绝了这个订单（订单号太长，或订单不能改到别的买家）", "the server refused the order (number too long, or "
              "an order cannot move to another buyer)"),
    "P0002": ("服务器上没有这位买家", "the server has no such buyer"),
    "23514": ("内容不符合服务器的规则", "the server's rules refused the content"),
}


def _title(op: outbox.Op) -> str:
    """What the conflict lists show for a refused step-8 change."""
    body = op.body
    if op.kind == "product.put":
        return f"商品：{body['product']['name']}"
    if op.kind.startswith("synonyms."):
        return f"同义词：{' / '.join(body.get('words') or [])}"
    if op.kind == "order.put":
        return f"订单：{op.body['order']['masked']}"
    return {"product.link": "关联商品", "promotion.call": "大促电话", "buyer.dnc": "勿扰"}[op.kind]


def _step8_row(conn: Any, op: outbox.Op, remap: dict[str, str]) -> dict | None:
    """The server's side of a refused step-8 change (read inside the push transaction)."""
    from psycopg.rows import dict_row

    body = op.body
    with conn.cursor(row_factory=dict_row) as cur:
        if op.kind == "product.put":
            return cur.execute(f"SELECT {_PRODUCT_COLS} FROM products WHERE id = %s", [op.target]).fetchone()
        if op.kind == "product.link":
            return cur.execute(f"SELECT {_LINK_COLS} FROM buyer_products WHERE buyer = %s AND product = %s",
                               [remap.get(body["buyer"], body["buyer"]), body["product"]]).fetchone()
        if op.kind == "buyer.dnc":
            return cur.execute("SELECT do_not_call FROM buyers WHERE id = %s",
                               [remap.get(body["buyer"], body["buyer"])]).fetchone()
        if op.kind.startswith("synonyms."):
            return cur.execute("SELECT id, shop, words, deleted FROM shop_synonyms WHERE id = %s",
                               [op.target]).fetchone()
        if op.kind == "order.put":
            return cur.execute(f"SELECT {orders.ORDER_FEED_COLUMNS} FROM orders WHERE id = %s", [op.target]).fetchone()
    return None


def _settle_step8(store: Store, target: str, kind: str, first: outbox.Op, mine: dict, server: dict | None,
                  ctx: dict) -> None:
    """A refused step-8 change (inside settle's write): kept as a conflict with the server's side, and
    this PC's row goes back to what the server holds, so nothing stays half-written here."""
    state = STALE if kind == "stale_edit" else kind.split(":", 1)[1]
    if first.kind == "order.put":
        mine = {k: v for k, v in mine.items() if k != "number"}  # the conflict lists show it: masked only
    outbox.record_conflict(store, "stale_edit" if state == STALE and first.kind == "product.put" else "refused",
                           target, {**mine, "op": first.kind, "title": _title(first)},
                           {**_jsonable(server or {}),
                            **_refusal(state, _ORDER_REFUSED if first.kind == "order.put" else _STEP8_REFUSED)})
    body = first.body
    if first.kind == "product.put":
        if server is not None:
            products.apply_product_row(store, server, ctx)
        else:  # the server never had it (a name the shop already has, or no right): it stays this PC's own
            store.conn.execute("UPDATE products SET team_shop = NULL, shop_version = NULL WHERE uuid = ?", (target,))
    elif first.kind == "product.link":
        products.restore_link(store, body["buyer"], body["product"], server)
    elif first.kind == "promotion.call":
        store.conn.execute("DELETE FROM promotion_calls WHERE uuid = ?", (target,))
    elif first.kind == "buyer.dnc":
        flag = 1 if server and server["do_not_call"] else 0
        store.conn.execute("UPDATE buyers SET do_not_call = ? WHERE uuid = ?", (flag, body["buyer"]))
    elif first.kind == "order.put":
        orders.restore_refused(store, target, server)
    elif first.kind == "synonyms.add":
        store.conn.execute("DELETE FROM team_synonyms WHERE uuid = ?", (target,))
    elif first.kind == "synonyms.remove" and server is not None:
        replies.apply_synonym_row(store, server)


def _end_do_not_call_waves(store: Store) -> None:
    with store.write():
        reminders.end_do_not_call_waves(store)


def _server_row(conn: Any, target: str) -> dict | None:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT {_SHOP_COLS} FROM shop_replies WHERE id = %s", [target]).fetchone()


_REFUSED = {
    "42501": ("没有权限：店铺话术只能由主管修改", "not allowed: only a supervisor changes the shop library"),
    "P0002": ("服务器上没有这条店铺话术（可能已被删除）", "the server has no such shop reply (deleted?)"),
    "KF400": ("话术的编号和店铺不可更改", "a shop reply keeps its id and shop"),
    "23514": ("内容不符合服务器的规则", "the server's rules refused the content"),
    "KF423": ("这位买家由别人跟进中", "another agent is following this buyer"),
}


_CASE_REFUSED = {
    STALE: ("售后单已被同事改动，你的这次修改没有生效（已保留在冲突记录里）",
            "a colleague moved the case first: your change was not applied (kept in this conflict)"),
    "42501": ("没有权限：主管决定和超出挽单权限的方案需要主管",
              "not allowed: a decision, or an offer above your limit, needs a supervisor"),
    "KF423": ("这位买家由别人跟进中，售后单由跟进人处理", "another agent follows this buyer and works on the case"),
    "KF400": ("售后单不能这样变更状态", "the case cannot move like that"),
    "P0002": ("服务器上没有这位买家", "the server has no such buyer"),
    "23514": ("内容不符合服务器的规则", "the server's rules refused the content"),
}


def _refusal(sqlstate: str, table: dict | None = None) -> dict[str, str]:
    zh, en = (table or _REFUSED).get(sqlstate, ("服务器拒绝了这项修改", "the server refused this change"))
    return {"sqlstate": sqlstate, "reason_zh": zh, "reason": en}


def _case_row(conn: Any, target: str) -> dict | None:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT {aftersales.CASE_FEED_COLUMNS} FROM aftersales_cases WHERE id = %s",
                           [target]).fetchone()


def _follow_cases(store: Store) -> None:
    with store.write():
        aftersales.follow_holders(store)


def _jsonable(row: dict) -> dict:
    return {k: (str(v) if isinstance(v, uuidlib.UUID) else to_db(v) if isinstance(v, datetime) else v)
            for k, v in row.items()}


def _forget_other_shops(store: Store, shops: list[str]) -> None:
    """A new scope (another role, a shop granted or withdrawn): replies of shops no longer served
    leave this PC, unless a local change to them is still unsent."""
    with store.write() as db:
        marks = ",".join("?" * len(shops))
        keep = f"AND shop NOT IN ({marks})" if shops else ""
        for row in store.query(f"SELECT id, uuid FROM replies WHERE shop IS NOT NULL {keep}", tuple(shops)):
            if not outbox.has_pending(store, row["uuid"]):
                db.conn.execute("DELETE FROM replies WHERE id = ?", (row["id"],))
        # buyers of shops no longer served stay as this PC's own, without a holder
        db.conn.execute(f"UPDATE buyers SET team_shop = NULL, holder = NULL, holder_name = NULL, held_until = NULL "
                        f"WHERE team_shop IS NOT NULL {keep.replace('shop NOT IN', 'team_shop NOT IN')}", tuple(shops))
        # a shop's promotion of a shop no longer served leaves with its reminders
        db.conn.execute(f"DELETE FROM promotions WHERE team_shop IS NOT NULL "
                        f"{keep.replace('shop NOT IN', 'team_shop NOT IN')}", tuple(shops))
        products.forget_shops(store, shops)  # the product lists and synonyms of shops no longer served go
        db.conn.execute(f"DELETE FROM team_synonyms WHERE 1 = 1 {keep.replace('shop NOT IN', 'team_shop NOT IN')}",
                        tuple(shops))
        # and their orders (this PC's own from now on, like the buyers)
        db.conn.execute(f"UPDATE orders SET team_shop = NULL WHERE team_shop IS NOT NULL AND team_shop <> '' "
                        f"{keep.replace('shop NOT IN', 'team_shop NOT IN')}", tuple(shops))
        # so do their after-sales cases (this PC's own from now on, like the buyers)
        db.conn.execute(f"UPDATE aftersales_cases SET team_shop = NULL WHERE team_shop IS NOT NULL "
                        f"{keep.replace('shop NOT IN', 'team_shop NOT IN')}", tuple(shops))
        db.conn.execute("DELETE FROM team_cursors")  # every feed starts over
        aftersales.forget_team_limits(store)  # the server's limits replace this PC's (the pull brings them)


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
