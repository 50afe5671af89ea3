"""Issue 13, acceptance 4: a supervisor's edit reaching 50 agents' SQLite stores. Prints figures;
asserts correctness only (every agent ends with exactly the server's rows).

50 simulated agents (the real SyncClient without Qt, each with its own SQLite file and LISTEN
connection) run in 5 processes of 10; each process select()s on its agents' LISTEN sockets, drains,
and pulls. A supervisor edits one shop reply 40 times, ~250 ms apart; the latency of an edit is
time.time() right after the supervisor's server commit to time.time() right after the local
transaction that brought it commits in each agent (one machine: one clock). Another supervisor
writes in the background, 30 and then 200 writes/s, one transaction each: 90% inserts into a shop
none of the 50 serves, 10% inserts and updates in theirs (which every agent pulls too). The
baseline, in the same run under the same load: the raw NOTIFY round trip on a channel of its own
(one LISTEN connection, no sync), pinged between the edits.

Everything runs on one machine: the agents' client CPU, which in a shop is spread over 50 PCs,
shares the cores with the server here, so the figures are an upper bound."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from assistant.core import replies
from tests.helpers import pg, team_load

psycopg = pg.require_psycopg()
from assistant.team import schema, sync  # noqa: E402 - imports psycopg
from tests.helpers.team import Team, close_panels, panel  # noqa: E402 - imports psycopg

pytestmark = pytest.mark.benchmark

AGENTS = 50
PROCESSES = 5
EDITS = 40
SPACING = 0.25
MIXES = (30, 200)  # background writes per second
WARMUP = 2.0
TARGETS = {30: "p50 < 100 ms, p99 < 1 s"}


@pytest.fixture(scope="module")
def big_server():
    """Its own server: 50 agents hold two connections each (max_connections 100 by default)."""
    try:
        server = pg.start_server(options={"max_connections": "200"})
        pg.prepare_template(server)
    except (pg.PgUnavailable, OSError) as e:
        message = f"cannot start a PostgreSQL server for the team benchmark: {e}"
        if pg.in_ci():
            pytest.fail(message + " - CI=true: failing instead of skipping", pytrace=False)
        pytest.skip(message)
    try:
        yield server
    finally:
        server.stop()


def _ms(summary: dict) -> str:
    return (f"n={summary['n']:4d}  p50 {summary['p50'] * 1000:7.1f}  p95 {summary['p95'] * 1000:7.1f}  "
            f"p99 {summary['p99'] * 1000:7.1f}  max {summary['max'] * 1000:7.1f} ms")


def test_a_supervisor_edit_reaches_50_agents(tmp_path, big_server):
    began = time.monotonic()
    db = pg.create_database(big_server)
    team = Team(db)
    names = [f"a{i:02d}" for i in range(AGENTS)]
    for name in names:
        team.add(name)
    team.add("bg", supervisor=True, shops=["旗舰店", "二店"])
    ctx = multiprocessing.get_context("spawn")
    procs: list = []
    stop_agents, stop_writer = ctx.Event(), ctx.Event()
    try:
        sup = panel(tmp_path, team, "sup")
        measured = replies.create_reply(sup.store, body="测量话术 #0", title="测量")
        replies.share_reply(sup.store, measured.id, "旗舰店")
        sup.sync()
        with team.login("bg") as bg:
            pool = [str(bg.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, %s, %s) RETURNING id",
                                   [team.shop, f"池{i}", f"池话术{i}"]).fetchone()[0]) for i in range(40)]

        commits: dict[int, float] = {}

        def after_commit(fn):  # push() calls it right after the server's commit
            commits.setdefault(current[0], time.time())
            return fn(sup.store)

        current = [0]
        sup.run_write = after_commit

        ready, results = ctx.Queue(), ctx.Queue()
        per = AGENTS // PROCESSES
        for p in range(PROCESSES):
            crew = [(n, team.conninfo(n), schema.agent_role(team.id, n)) for n in names[p * per:(p + 1) * per]]
            proc = ctx.Process(target=team_load.agents_main,
                               args=(crew, str(tmp_path), measured.uuid, ready, results, stop_agents))
            proc.start()
            procs.append(proc)
        rate, written = ctx.Value("d", 0.0), ctx.Value("l", 0)
        writer = ctx.Process(target=team_load.writer_main,
                             args=(team.conninfo("bg"), team.shop, team.shop2, pool, rate, written, stop_writer))
        writer.start()
        procs.append(writer)
        assert sum(ready.get(timeout=90) for _ in range(PROCESSES)) == AGENTS
        setup = time.monotonic() - began

        # the baseline: NOTIFY on a channel of its own, one LISTEN connection, no sync
        pings: dict[int, float] = {}
        pongs: dict[int, float] = {}
        listener = team.db.connect()
        listener.execute("LISTEN kefu_bench_ping")
        pinger = team.db.connect()
        listening = threading.Event()
        listening.set()

        def hear() -> None:
            while listening.is_set():
                for note in listener.notifies(timeout=0.2):
                    pongs[int(note.payload)] = time.time()

        hearer = threading.Thread(target=hear, daemon=True)
        hearer.start()

        phases = {}
        edit = ping = 0
        for mix in MIXES:
            rate.value = mix
            time.sleep(WARMUP)
            w0, t0 = written.value, time.monotonic()
            first, first_ping = edit + 1, ping + 1
            for _ in range(EDITS):
                edit += 1
                current[0] = edit
                slot = time.monotonic()
                replies.update_reply(sup.store, measured.id, body=f"测量话术 #{edit}")
                assert sup.push().pushed == 1
                for half in (0.4, 0.8):  # two raw pings inside the slot, away from the edit
                    time.sleep(max(0.0, slot + SPACING * half - time.monotonic()))
                    ping += 1
                    pings[ping] = time.time()  # from before the statement: its commit is in the round trip
                    pinger.execute(f"NOTIFY kefu_bench_ping, '{ping}'")
                time.sleep(max(0.0, slot + SPACING - time.monotonic()))
            phases[mix] = (first, edit, (written.value - w0) / (time.monotonic() - t0), range(first_ping, ping + 1))
        rate.value = 0
        stop_writer.set()
        writer.join(timeout=30)
        time.sleep(1.0)  # the last pongs
        listening.clear()
        hearer.join(timeout=5)
        listener.close()
        pinger.close()

        stop_agents.set()
        reports = [results.get(timeout=120) for _ in range(AGENTS)]
        for proc in procs:
            proc.join(timeout=30)

        with team.login("wang") as wang:  # what an agent of this shop may read, as the server has it
            server = {str(r[0]): (r[1], r[2], r[3] or None, r[4]) for r in wang.execute(
                "SELECT id, title, body, code, version FROM shop_replies WHERE NOT deleted AND shop = %s",
                [team.shop])}
            visible = wang.execute("SELECT count(*) FROM shop_replies").fetchone()[0]
        with team.admin() as admin:
            total = admin.execute("SELECT count(*) FROM shop_replies").fetchone()[0]
        other = total - visible
    finally:
        stop_writer.set()
        stop_agents.set()
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
        close_panels()
        with db.connect() as admin:
            db.roles.extend(schema.team_roles(admin))
        db.drop()

    print(f"\n[team sync] {AGENTS} agents in {PROCESSES} processes, {EDITS} edits per mix {SPACING * 1000:.0f} ms "
          f"apart; setup {setup:.1f} s; server rows at the end: {total} ({len(server)} in the agents' shop, "
          f"{other} hidden from them)")
    missing = 0
    for mix in MIXES:
        first, last, achieved, mine = phases[mix]
        latencies = []
        for _, seen, _, _ in reports:
            for k in range(first, last + 1):
                if k in seen:
                    latencies.append(seen[k] - commits[k])
                else:
                    missing += 1
        raw = [pongs[p] - pings[p] for p in mine if p in pongs]
        target = TARGETS.get(mix, "(figures only)")
        print(f"  mix {mix:3d} writes/s (achieved {achieved:5.1f}/s)")
        print(f"    edit -> 50 agents' SQLite  {_ms(team_load.summary(latencies))}   target {target}")
        print(f"    raw NOTIFY round trip      {_ms(team_load.summary(raw))}   (baseline, same load)")
    pulls = sum(r[3] for r in reports)
    print(f"  pulls by the agents: {pulls} ({pulls / AGENTS:.0f} each); whole benchmark "
          f"{time.monotonic() - began:.1f} s")

    # correctness: every agent ends with exactly the server's rows, and saw every edit
    assert missing == 0
    for name, _, rows, _ in reports:
        assert rows == server, name
    assert len(reports) == AGENTS and sync.CHANNEL == "kefu_changes"
