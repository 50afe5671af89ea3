"""The throwaway PostgreSQL server itself, and the server behaviour the team sync will rely on:
SCRAM logins over TCP, LISTEN/NOTIFY delivered at commit, and a change feed that never skips a
transaction that commits out of order (shared/team.md)."""

from __future__ import annotations

import random
import threading
import time

import pytest

from tests.helpers import pg

psycopg = pg.require_psycopg()
from psycopg import sql  # noqa: E402 - only once psycopg is known to be installed


def test_server_starts_fast_and_speaks_scram_only(pg_server):
    print(f"\nPostgreSQL initdb {pg_server.initdb_seconds:.2f} s, start to first login {pg_server.start_seconds:.2f} s")
    # issue 13, acceptance 1: server start to ready under 2 s (0.12-0.2 s measured). initdb is
    # reported, not bounded: it is CPU-bound and took 0.5 s idle but 2.2 s beside other test runs.
    assert pg_server.start_seconds < 2.0
    with pg_server.connect() as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 150000
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        methods = {row[0] for row in conn.execute("SELECT auth_method FROM pg_hba_file_rules")}
        assert methods == {"scram-sha-256"}, methods  # no trust line anywhere
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_server.conninfo(password="wrong"), autocommit=True).close()


def test_login_role_connects_with_scram_over_tcp(pg_db):
    role, password = pg_db.create_login_role("agent")
    with pg_db.connect() as admin:
        stored = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [role]).fetchone()[0]
        assert stored.startswith("SCRAM-SHA-256$")  # only the verifier, never the password
        admin.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        admin.execute(sql.SQL("GRANT SELECT ON notes TO {}").format(sql.Identifier(role)))
        admin.execute("INSERT INTO notes VALUES (1, '已发货')")
    with pg_db.connect(role, password) as conn:
        who, db, addr = conn.execute(
            "SELECT current_user, current_database(), host(inet_server_addr())").fetchone()
        assert (who, db, addr) == (role, pg_db.name, "127.0.0.1")
        assert conn.execute("SELECT body FROM notes").fetchone() == ("已发货",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO notes VALUES (2, 'x')")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        pg_db.connect(role, password + "x").close()


def test_each_test_gets_a_fresh_database(pg_db, pg_server):
    with pg_db.connect() as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    assert tables == 0  # the previous test's table is not here
    other = pg.create_database(pg_server)
    try:
        assert other.name != pg_db.name
    finally:
        other.drop()
    with pg_server.connect() as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert other.name not in names and pg_db.name in names


def test_listen_notify_round_trip_is_delivered_at_commit(pg_db):
    with pg_db.connect() as listener, pg_db.connect(autocommit=False) as sender:
        listener.execute("LISTEN kefu_changes")
        sender.execute("SELECT pg_notify('kefu_changes', %s)", ["42"])
        # not committed yet: nothing may arrive (clients must never pull before the data is visible)
        assert list(listener.notifies(timeout=0.2, stop_after=1)) == []
        sent = time.perf_counter()
        sender.commit()
        got = list(listener.notifies(timeout=5, stop_after=1))
        elapsed = time.perf_counter() - sent
        assert [(n.channel, n.payload, n.pid) for n in got] == [("kefu_changes", "42", sender.info.backend_pid)]
        print(f"\nNOTIFY round trip after commit: {elapsed * 1000:.1f} ms")
        # a rolled-back transaction notifies nobody
        sender.execute("NOTIFY kefu_changes, 'rolled-back'")
        sender.rollback()
        assert list(listener.notifies(timeout=0.2, stop_after=1)) == []


# ------------------------------------------------------------------ the change feed
# Every change row records the writing transaction's id. A reader's cursor is an xid watermark:
# each pull takes the rows with  cursor <= xid < xmin  of its snapshot, where xmin is the oldest
# transaction still running; every transaction below xmin has finished, so nothing below the new
# cursor can still appear. A cursor on the sequence number (seq > last seen) loses rows: sequences
# are handed out at insert time, not at commit time.

FEED = """
CREATE TABLE changes (
    seq bigserial PRIMARY KEY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    row_id text NOT NULL
);
CREATE INDEX changes_xid ON changes (xid);
"""


def pull(conn: psycopg.Connection, cursor: str) -> tuple[list[str], str]:
    """One pull in one REPEATABLE READ snapshot: the rows and the new cursor come from the same
    snapshot, so a commit between the two statements cannot slip past."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        xmin = conn.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").fetchone()[0]
        rows = conn.execute(
            "SELECT row_id FROM changes WHERE xid >= %s::xid8 AND xid < %s::xid8 ORDER BY xid, seq",
            [cursor, xmin]).fetchall()
    return [r[0] for r in rows], xmin


def pull_by_seq(conn: psycopg.Connection, after: int, xid_filter: bool) -> tuple[list[str], int]:
    """The rejected designs, kept to prove the scenarios below really interleave as described."""
    where = "seq > %s" + (" AND xid < pg_snapshot_xmin(pg_current_snapshot())" if xid_filter else "")
    rows = conn.execute(f"SELECT seq, row_id FROM changes WHERE {where} ORDER BY seq", [after]).fetchall()
    return [r[1] for r in rows], max([after, *(r[0] for r in rows)])


def seq_of(conn: psycopg.Connection, row_id: str) -> int:
    return conn.execute("SELECT seq FROM changes WHERE row_id = %s", [row_id]).fetchone()[0]


def test_feed_waits_for_a_transaction_that_took_an_earlier_seq_and_commits_later(pg_db):
    """shared/team.md's measured loss: T1 takes seq 1, T2 takes seq 2 and commits first."""
    with pg_db.connect() as admin, pg_db.connect() as reader, pg_db.connect(autocommit=False) as t1, \
            pg_db.connect(autocommit=False) as t2:
        admin.execute(FEED)
        t1.execute("INSERT INTO changes (row_id) VALUES ('late')")
        t2.execute("INSERT INTO changes (row_id) VALUES ('early')")
        t2.commit()

        naive, naive_cursor = pull_by_seq(reader, 0, xid_filter=False)
        rows, cursor = pull(reader, "0")
        assert naive == ["early"]
        assert rows == []  # 'early' waits: an older transaction (t1) may still add rows below it

        t1.commit()
        assert seq_of(admin, "late") < seq_of(admin, "early")
        assert pull_by_seq(reader, naive_cursor, xid_filter=False)[0] == []  # the seq cursor lost 'late'
        rows, cursor = pull(reader, cursor)
        assert rows == ["late", "early"]
        assert pull(reader, cursor)[0] == []  # and nothing twice


def test_feed_keeps_a_row_whose_xid_is_newer_but_seq_is_older(pg_db):
    """The case the xid filter alone does not save when the cursor is still a seq: T_a gets its xid
    first, T_b then takes seq 1, T_a takes seq 2 and commits first. A `seq > cursor AND xid < xmin`
    reader takes seq 2, moves its cursor to 2 and never sees seq 1. The xid watermark waits."""
    with pg_db.connect() as admin, pg_db.connect() as reader, pg_db.connect(autocommit=False) as ta, \
            pg_db.connect(autocommit=False) as tb:
        admin.execute(FEED)
        ta.execute("SELECT pg_current_xact_id()")  # T_a's xid is assigned first (an earlier write)
        tb.execute("INSERT INTO changes (row_id) VALUES ('b')")
        ta.execute("INSERT INTO changes (row_id) VALUES ('a')")
        ta.commit()

        filtered, filtered_cursor = pull_by_seq(reader, 0, xid_filter=True)
        rows, cursor = pull(reader, "0")
        assert filtered == ["a"] and rows == ["a"]

        tb.commit()
        assert seq_of(admin, "b") < seq_of(admin, "a")
        assert pull_by_seq(reader, filtered_cursor, xid_filter=True)[0] == []  # 'b' lost by the seq cursor
        rows, cursor = pull(reader, cursor)
        assert rows == ["b"]
        assert pull(reader, cursor)[0] == []


def test_feed_under_concurrent_writers_delivers_every_row_exactly_once(pg_db):
    """Four writers commit in random order with random delays while a reader pulls continuously."""
    with pg_db.connect() as admin:
        admin.execute(FEED)
    writers, per_writer = 4, 25
    errors: list[BaseException] = []

    def write(n: int) -> None:
        rnd = random.Random(n)
        try:
            with pg_db.connect(autocommit=False) as conn:
                for i in range(per_writer):
                    conn.execute("INSERT INTO changes (row_id) VALUES (%s)", [f"w{n}-{i}"])
                    time.sleep(rnd.uniform(0, 0.01))  # hold the transaction open across others' commits
                    conn.commit()
        except BaseException as e:  # surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    seen: list[str] = []
    cursor = "0"
    with pg_db.connect() as reader:
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            rows, cursor = pull(reader, cursor)
            seen += rows
            time.sleep(0.002)
        for t in threads:
            t.join()
        rows, cursor = pull(reader, cursor)
        seen += rows
    assert errors == []
    expected = {f"w{n}-{i}" for n in range(writers) for i in range(per_writer)}
    assert len(seen) == len(expected) and set(seen) == expected
