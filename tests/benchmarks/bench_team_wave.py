"""Issue 13, acceptance 10: a supervisor's promotion wave for a shop of 100k followed buyers commits on
the team server in one transaction with one wake-up. Prints figures; asserts correctness only (every
reminder stored once with the buyer's holder as owner, exactly one NOTIFY, an agent's pull brings
exactly its own part of the wave).

The path is the app's: the supervisor's panel plans the wave (reminders.add_promotion with
team_shop) and queues ONE outbox operation; push() sends it as kefu_add_promotion with four arrays.
Baseline in the same run: the same 100k rows written by the schema owner with one plain
INSERT ... SELECT into a table of the same shape without triggers, policies or foreign keys (the
floor of the server's own work)."""

from __future__ import annotations

import json
import time
import uuid as uuidlib
from datetime import timedelta

import pytest

from assistant.core import outbox, reminders
from assistant.core.clock import to_db
from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import sync  # noqa: E402 - imports psycopg
from tests.helpers.team import panel  # noqa: E402 - imports psycopg
from tests.team.conftest import pg_db, pg_server, shop_team  # noqa: E402, F401 - the team tests' server and team

pytestmark = pytest.mark.benchmark

BUYERS = 100_000
AGENTS = ("wang", "li")  # each holds a third of the shop's buyers; the last third nobody holds


def test_a_100k_promotion_wave_commits_in_one_transaction_with_one_wakeup(tmp_path, shop_team):  # noqa: F811
    team = shop_team
    wang_role, li_role = (f"kefu_{team.id}_{n}" for n in AGENTS)
    ids = [str(uuidlib.uuid4()) for _ in range(BUYERS)]
    holders = [wang_role if i % 3 == 0 else li_role if i % 3 == 1 else None for i in range(BUYERS)]
    began = time.monotonic()
    with team.admin() as admin:
        admin.execute(
            "INSERT INTO buyers (id, shop, platform, nickname, starred, holder, held_until) "
            "SELECT i, %s, 'taobao', 'b' || n, true, h, CASE WHEN h IS NULL THEN NULL ELSE now() + interval '8 hours' END "
            "FROM unnest(%s::uuid[], %s::text[]) WITH ORDINALITY AS x (i, h, n)", [team.shop, ids, holders])
    sup = panel(tmp_path, team, "sup")
    stamp = to_db(sup.store.clock.now())
    until = to_db(sup.store.clock.now() + timedelta(hours=8))
    with sup.store.write() as db:  # the supervisor's panel knows the shop's buyers (as a pull leaves them)
        db.conn.executemany(
            "INSERT INTO buyers (uuid, platform, shop, nickname, starred, starred_at, state, cadence_id, created_at, "
            "updated_at, team_shop, holder, held_until) VALUES (?, 'taobao', '旗舰店', ?, 1, ?, 'following', NULL, ?, ?, "
            "?, ?, ?)",
            [(ids[i], f"b{i + 1}", stamp, stamp, stamp, team.shop, holders[i], until if holders[i] else None)
             for i in range(BUYERS)])
    setup = time.monotonic() - began

    with team.admin() as admin:
        before = int(admin.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()[0])
    t0 = time.monotonic()
    promo = reminders.add_promotion(sup.store, "双十一", sup.store.clock.now() + timedelta(hours=3), team_shop="旗舰店")
    plan_s = time.monotonic() - t0
    kept_here = promo.wave_total

    listener = team.login("wang")
    listener.autocommit = True
    sync.listen(listener)
    try:
        t0 = time.monotonic()
        result = sup.push()
        push_s = time.monotonic() - t0
        assert result.pushed == 1 and result.conflicts == 0
        time.sleep(0.5)
        notes = list(listener.notifies(timeout=1.0, stop_after=100))
    finally:
        listener.close()
    assert len(notes) == 1, f"{len(notes)} notifications for one promotion"

    with team.admin() as admin:
        owners = dict(admin.execute("SELECT coalesce(owner, '-'), count(*) FROM reminders WHERE kind = 'wave' "
                                    "GROUP BY 1").fetchall())
        assert owners == {wang_role: BUYERS // 3 + 1, li_role: BUYERS // 3, f"kefu_{team.id}_sup": BUYERS // 3}
        # the baseline: the same rows, one plain INSERT ... SELECT, nothing checked or stamped
        admin.execute("CREATE TABLE bench_wave (LIKE reminders)")
        t0 = time.monotonic()
        with admin.transaction():
            admin.execute("INSERT INTO bench_wave SELECT * FROM reminders WHERE kind = 'wave'")
        floor_s = time.monotonic() - t0
    assert kept_here == BUYERS // 3  # the supervisor's panel keeps only the buyers nobody holds

    # one agent's panel: its own part of the wave, nothing else (wang holds a third)
    wang = panel(tmp_path, team, "wang")
    with wang.store.write() as db:
        db.conn.executemany(
            "INSERT INTO buyers (uuid, platform, shop, nickname, starred, state, created_at, updated_at, team_shop, "
            "holder, held_until) VALUES (?, 'taobao', '旗舰店', ?, 1, 'following', ?, ?, ?, ?, ?)",
            [(ids[i], f"b{i + 1}", stamp, stamp, team.shop, holders[i], until if holders[i] else None)
             for i in range(0, BUYERS, 3)])
        # the buyer feeds are read up to now (the buyers are local): only the promotion and the wave come
        shops = sorted(r["uuid"] for r in wang.store.query("SELECT uuid FROM team_shops"))
        scope = json.dumps([wang_role, shops])
        for feed in sync.FEEDS:
            read = feed.name not in ("promotions", "reminders")
            outbox.save_cursor(wang.store, feed.name, outbox.Cursor(before if read else 0, feed.nil, scope))
    t0 = time.monotonic()
    pulled = wang.pull()
    pull_s = time.monotonic() - t0
    got = wang.store.query("SELECT count(*) AS n FROM reminders WHERE kind = 'wave' AND state = 'pending'")[0]["n"]
    assert got == BUYERS // 3 + 1

    print(f"\nteam promotion wave, {BUYERS:,} followed buyers (2 agents hold 2/3, nobody 1/3), setup {setup:.1f} s")
    print(f"  supervisor's panel plans the wave + queues one operation  {plan_s:6.2f} s  ({kept_here:,} slots kept here)")
    print(f"  push: one server transaction, {BUYERS:,} reminders           {push_s:6.2f} s  (target < 10 s), "
          f"{len(notes)} NOTIFY")
    print(f"  baseline: plain INSERT ... SELECT of the same rows         {floor_s:6.2f} s")
    print(f"  an agent's pull of its own {got:,} wave reminders           {pull_s:6.2f} s  ({pulled.pulled:,} rows read)")
