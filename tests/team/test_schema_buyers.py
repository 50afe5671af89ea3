"""Shared buyers and claims on the team server (schema step 4), exercised as real login roles over
TCP: the RLS matrix, the claim race, collisions, take-over / reassign / release, one buyer row per
nickname, and the change feed."""

from __future__ import annotations

import random
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import schema, sync  # noqa: E402 - imports psycopg


def later(hours: float = 8) -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=hours)


class Team:
    """A fresh team (unique id: roles are cluster-wide): shop 旗舰店 served by sup (supervisor), wang
    and li; shop 二店 served by zhao. Buyer `b1` in 旗舰店 and `b2` in 二店."""

    def __init__(self, db: pg.PgDatabase) -> None:
        self.db = db
        self.id = "t" + secrets.token_hex(4)
        self.passwords: dict[str, str] = {}
        with db.connect() as admin:
            schema.apply(admin)
            schema.create_team(admin, self.id)
            self.shop = schema.create_shop(admin, self.id, "旗舰店")
            self.shop2 = schema.create_shop(admin, self.id, "二店")
        for name, sup, shops, display in (("sup", True, ["旗舰店"], "主管"), ("wang", False, ["旗舰店"], "王五"),
                                          ("li", False, ["旗舰店"], "李四"), ("zhao", False, ["二店"], "赵六")):
            self.add(name, sup, shops, display)
        self.b1 = self.buyer(self.shop, "买家甲")
        self.b2 = self.buyer(self.shop2, "买家乙")

    def add(self, name: str, supervisor: bool = False, shops=("旗舰店",), display: str = "") -> str:
        password = secrets.token_urlsafe(12)
        with self.db.connect() as admin:
            role = schema.create_agent(admin, self.id, name, password, supervisor=supervisor, shops=shops,
                                       display_name=display)
        self.passwords[name] = password
        return role

    def role(self, name: str) -> str:
        return schema.agent_role(self.id, name)

    def login(self, name: str, autocommit: bool = True):
        return self.db.connect(self.role(name), self.passwords[name], autocommit=autocommit)

    def admin(self):
        return self.db.connect()

    def buyer(self, shop, nickname: str) -> uuid.UUID:
        with self.admin() as admin:
            return admin.execute("INSERT INTO buyers (shop, platform, nickname) VALUES (%s, 'taobao', %s) "
                                 "RETURNING id", [shop, nickname]).fetchone()[0]


@pytest.fixture
def team(pg_db):
    t = Team(pg_db)
    try:
        yield t
    finally:
        with pg_db.connect() as admin:
            pg_db.roles.extend(schema.team_roles(admin))


def denied(conn, statement: str, args=()) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement, list(args))


def refused(conn, sqlstate: str, statement: str, args=()) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as err:
        conn.execute(statement, list(args))
    assert err.value.sqlstate == sqlstate, err.value
    return err.value


def test_rls_matrix_buyers_notes_chases_claim_log_phones(team):
    b1, b2 = team.b1, team.b2
    with team.admin() as admin:
        admin.execute("INSERT INTO buyer_phones (buyer, shop, phone) VALUES (%s, %s, '13800000001')", [b1, team.shop])
    with team.login("wang") as wang, team.login("li") as li, team.login("sup") as sup, \
            team.login("zhao") as zhao:
        # --- buyers: read
        assert wang.execute("SELECT id FROM buyers").fetchall() == [(b1,)]
        assert sup.execute("SELECT id FROM buyers").fetchall() == [(b1,)]
        assert zhao.execute("SELECT id FROM buyers").fetchall() == [(b2,)]
        # insert: own shop yes (server stamps), another shop no, the lease never
        row = wang.execute("INSERT INTO buyers (shop, platform, nickname, starred) VALUES (%s, 'jd', '新买家', true) "
                           "RETURNING updated_by, holder", [team.shop]).fetchone()
        assert row == (team.role("wang"), None)
        denied(zhao, "INSERT INTO buyers (shop, platform, nickname) VALUES (%s, 'jd', %s)", [team.shop, "越界"])
        denied(wang, "INSERT INTO buyers (shop, platform, nickname, holder, held_until) "
                     "VALUES (%s, 'jd', %s, %s, now() + interval '1 hour')", [team.shop, "自占", team.role("wang")])
        # update: unclaimed -> any agent of the shop; held -> the holder and supervisors only
        assert wang.execute("UPDATE buyers SET starred = true WHERE id = %s", [b1]).rowcount == 1
        assert zhao.execute("UPDATE buyers SET starred = false WHERE id = %s", [b1]).rowcount == 0
        assert li.execute("SELECT won FROM kefu_claim(%s, %s)", [b1, later()]).fetchone() == (True,)
        assert wang.execute("UPDATE buyers SET state = 'done' WHERE id = %s", [b1]).rowcount == 0
        assert li.execute("UPDATE buyers SET state = 'paid' WHERE id = %s", [b1]).rowcount == 1
        assert sup.execute("UPDATE buyers SET tz = 'Asia/Shanghai' WHERE id = %s", [b1]).rowcount == 1
        # the lease changes only through the functions; the identity never
        for conn in (wang, li, sup):
            denied(conn, "UPDATE buyers SET holder = current_user, held_until = now() + interval '1 hour' "
                         "WHERE id = %s", [b1])
            denied(conn, "UPDATE buyers SET held_until = now() + interval '9 days' WHERE id = %s", [b1])
            denied(conn, "UPDATE buyers SET nickname = 'x' WHERE id = %s", [b1])
        # delete: nobody
        for conn in (wang, li, sup, zhao):
            denied(conn, "DELETE FROM buyers WHERE id = %s", [b1])

        # --- notes: insert-only, the shop's agents read them
        wang.execute("INSERT INTO buyer_notes (buyer, body) VALUES (%s, '要发票')", [b1])  # shop filled in
        refused(zhao, "P0002", "INSERT INTO buyer_notes (buyer, body) VALUES (%s, '越界')", [b1])
        denied(zhao, "INSERT INTO buyer_notes (buyer, shop, body) VALUES (%s, %s, '越界')", [b1, team.shop])
        denied(wang, "INSERT INTO buyer_notes (buyer, body, author) VALUES (%s, '冒名', %s)", [b1, team.role("li")])
        assert li.execute("SELECT author, body FROM buyer_notes").fetchall() == [(team.role("wang"), "要发票")]
        assert sup.execute("SELECT count(*) FROM buyer_notes").fetchone() == (1,)
        assert zhao.execute("SELECT count(*) FROM buyer_notes").fetchone() == (0,)
        for conn in (wang, sup):
            denied(conn, "UPDATE buyer_notes SET body = 'x'")
            denied(conn, "DELETE FROM buyer_notes")

        # --- chases: insert-only; nobody deletes one
        cid = li.execute("INSERT INTO chases (buyer, angle, reply_title, sent_at) VALUES (%s, 'pay', '催付', "
                         "'2000-01-01') RETURNING id, sent_at > now() - interval '1 minute'", [b1]).fetchone()
        assert cid[1] is True  # the server's time, not the client's
        refused(zhao, "P0002", "INSERT INTO chases (buyer, angle) VALUES (%s, 'pay')", [b1])
        denied(wang, "INSERT INTO chases (buyer, angle, author) VALUES (%s, 'pay', %s)", [b1, team.role("li")])
        assert wang.execute("SELECT id FROM chases").fetchall() == [(cid[0],)]
        assert sup.execute("SELECT id FROM chases").fetchall() == [(cid[0],)]
        assert zhao.execute("SELECT id FROM chases").fetchall() == []
        for conn in (wang, li, sup, zhao):
            denied(conn, "DELETE FROM chases WHERE id = %s", [cid[0]])
            denied(conn, "UPDATE chases SET angle = 'x' WHERE id = %s", [cid[0]])

        # --- claim_log: written by the functions only; read by the roles involved and supervisors
        assert li.execute("SELECT kind, to_role FROM claim_log").fetchall() == [("claim", team.role("li"))]
        assert sup.execute("SELECT kind FROM claim_log").fetchall() == [("claim",)]
        assert wang.execute("SELECT count(*) FROM claim_log").fetchone() == (0,)
        assert zhao.execute("SELECT count(*) FROM claim_log").fetchone() == (0,)
        for conn in (wang, sup):
            denied(conn, "INSERT INTO claim_log (buyer, shop, kind, by_role) VALUES (%s, %s, 'claim', 'x')",
                   [b1, team.shop])
            denied(conn, "UPDATE claim_log SET reason = 'x'")
            denied(conn, "DELETE FROM claim_log")

        # --- phones: recorded by agents, never selected; revealed through the audited function
        for conn in (wang, sup):
            denied(conn, "SELECT phone FROM buyer_phones")
            denied(conn, "SELECT * FROM buyer_phones")
            denied(conn, "DELETE FROM buyer_phones")
        assert wang.execute("SELECT buyer FROM buyer_phones").fetchall() == [(b1,)]  # that there is one
        # nor through RETURNING or a WHERE on the phone (no guessing it digit by digit)
        denied(wang, "UPDATE buyer_phones SET phone = '1' WHERE buyer = %s RETURNING phone", [b1])
        denied(wang, "UPDATE buyer_phones SET phone = '1' WHERE phone LIKE '138%%'")
        new = wang.execute("SELECT id FROM buyers WHERE nickname = '新买家'").fetchone()[0]
        wang.execute("INSERT INTO buyer_phones (buyer, phone) VALUES (%s, '13900000002')", [new])
        wang.execute("UPDATE buyer_phones SET phone = '13900000003' WHERE buyer = %s", [new])
        wang.execute("SELECT kefu_set_phone(%s, '13900000004')", [new])
        refused(zhao, "P0002", "INSERT INTO buyer_phones (buyer, phone) VALUES (%s, '1')", [b1])
        denied(zhao, "INSERT INTO buyer_phones (buyer, shop, phone) VALUES (%s, %s, '1')", [b1, team.shop])
        refused(zhao, "P0002", "SELECT kefu_set_phone(%s, '1')", [b1])
        assert zhao.execute("UPDATE buyer_phones SET phone = '1' WHERE buyer = %s", [b1]).rowcount == 0
        assert wang.execute("SELECT count(*) FROM phone_reveals").fetchone() == (0,)
        assert wang.execute("SELECT kefu_reveal_phone(%s)", [b1]).fetchone() == ("13800000001",)
        assert wang.execute("SELECT kefu_reveal_phone(%s)", [new]).fetchone() == ("13900000004",)
        refused(zhao, "P0002", "SELECT kefu_reveal_phone(%s)", [b1])
        assert wang.execute("SELECT buyer, by_role FROM phone_reveals ORDER BY id").fetchall() == [
            (b1, team.role("wang")), (new, team.role("wang"))]
        assert sup.execute("SELECT count(*) FROM phone_reveals").fetchone() == (2,)  # the shop's audit
        assert li.execute("SELECT count(*) FROM phone_reveals").fetchone() == (0,)
        denied(wang, "INSERT INTO phone_reveals (buyer, shop, by_role) VALUES (%s, %s, 'x')", [b1, team.shop])
        denied(sup, "DELETE FROM phone_reveals")
    with team.admin() as admin:
        assert admin.execute("SELECT count(*) FROM chases").fetchone() == (1,)
        assert admin.execute("SELECT holder, starred, state, tz FROM buyers WHERE id = %s", [b1]).fetchone() == (
            team.role("li"), True, "paid", "Asia/Shanghai")
        assert admin.execute("SELECT count(*) FROM phone_reveals").fetchone() == (2,)


def test_claim_race_ten_agents_thousand_buyers_one_holder_each(team, capsys):
    names = [f"a{i}" for i in range(10)]
    for i, name in enumerate(names):
        team.add(name, display=f"客服{i}")
    with team.admin() as admin:
        buyers = [r[0] for r in admin.execute(
            "INSERT INTO buyers (shop, platform, nickname) SELECT %s, 'taobao', 'race' || g "
            "FROM generate_series(1, 1000) g RETURNING id", [team.shop])]
    conns = [team.login(name) for name in names]
    wins = [0] * len(names)
    lost_names: list[set] = [set() for _ in names]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(names))
    until = later(8)

    def run(i: int) -> None:
        try:
            order = buyers[:]
            random.Random(i).shuffle(order)
            conn = conns[i]
            barrier.wait()
            for b in order:
                holder, name, _, won = conn.execute("SELECT * FROM kefu_claim(%s, %s)", [b, until]).fetchone()
                if won:
                    wins[i] += 1
                    assert holder == team.role(names[i])
                else:
                    lost_names[i].add((holder, name))
        except BaseException as e:  # handed to the test thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(names))]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    took = time.monotonic() - began
    for conn in conns:
        conn.close()
    assert not errors, errors[0]
    assert sum(wins) == len(buyers)
    display = {team.role(n): f"客服{i}" for i, n in enumerate(names)}
    assert all(display[holder] == name for lost in lost_names for holder, name in lost)
    with team.admin() as admin:
        held = dict(admin.execute("SELECT id, holder FROM buyers WHERE id = ANY(%s)", [buyers]).fetchall())
        assert len(held) == len(buyers) and all(h in display for h in held.values())
        claims = admin.execute("SELECT buyer, to_role FROM claim_log WHERE kind = 'claim'").fetchall()
        assert len(claims) == len(buyers) and dict(claims) == held  # one 'claim' per buyer, by its holder
        assert admin.execute("SELECT count(*) FROM claim_log").fetchone() == (len(buyers),)
    with capsys.disabled():
        print(f"\nclaim race: {len(names)} agents x {len(buyers)} buyers = {len(names) * len(buyers)} kefu_claim "
              f"calls in {took:.2f} s ({len(names) * len(buyers) / took:.0f}/s); wins per agent {sorted(wins)}")


def test_collision_take_over_reassign_release(team):
    b1 = team.b1
    with team.login("wang") as wang, team.login("li") as li, team.login("sup") as sup, \
            team.login("zhao") as zhao:
        assert wang.execute("SELECT holder, holder_name, won FROM kefu_claim(%s, %s)", [b1, later()]).fetchone() == (
            team.role("wang"), "王五", True)
        # another agent's claim: refused, with the holder's name ("王五 跟进中")
        assert li.execute("SELECT holder, holder_name, won FROM kefu_claim(%s, %s)", [b1, later()]).fetchone() == (
            team.role("wang"), "王五", False)
        refused(zhao, "P0002", "SELECT * FROM kefu_claim(%s, %s)", [b1, later()])  # not its shop
        # li chases anyway (it was offline): stored, flagged, both see the collision
        chase = li.execute("INSERT INTO chases (buyer, angle) VALUES (%s, 'pay') RETURNING id, collision",
                           [b1]).fetchone()
        assert chase[1] is True
        assert wang.execute("INSERT INTO chases (buyer, angle) VALUES (%s, 'pay') RETURNING collision",
                            [b1]).fetchone() == (False,)
        expected = [(b1, chase[0], team.role("wang"), team.role("li"))]
        for conn in (wang, li, sup):
            assert conn.execute("SELECT buyer, chase, holder, chaser FROM collisions").fetchall() == expected
        assert zhao.execute("SELECT count(*) FROM collisions").fetchone() == (0,)
        team.add("qian", display="钱七")
        with team.login("qian") as qian:  # same shop, not involved
            assert qian.execute("SELECT count(*) FROM collisions").fetchone() == (0,)
            denied(qian, "INSERT INTO collisions (buyer, shop, chase, holder, chaser) VALUES (%s, %s, %s, 'a', 'b')",
                   [b1, team.shop, chase[0]])

        # a logged take-over: the holder changes, from / to / reason recorded
        assert li.execute("SELECT holder, holder_name, won FROM kefu_take_over(%s, %s, %s)",
                          [b1, later(), "王五下班了"]).fetchone() == (team.role("li"), "李四", True)
        log = "SELECT kind, from_role, to_role, by_role, reason FROM claim_log WHERE buyer = %s ORDER BY id"
        assert wang.execute(log, [b1]).fetchall() == [
            ("claim", None, team.role("wang"), team.role("wang"), None),
            ("takeover", team.role("wang"), team.role("li"), team.role("li"), "王五下班了")]
        assert li.execute("INSERT INTO chases (buyer, angle) VALUES (%s, 'pay') RETURNING collision",
                          [b1]).fetchone() == (False,)
        err = refused(wang, schema.HELD_BY_OTHER, "SELECT kefu_release(%s)", [b1])
        assert "李四 跟进中" in str(err) and "held by 李四" in str(err)

        # reassign: supervisors only, and only to an active agent of the shop
        denied(wang, "SELECT * FROM kefu_reassign(%s, %s, %s)", [b1, team.role("wang"), later()])
        refused(sup, schema.BAD_ARGUMENT, "SELECT * FROM kefu_reassign(%s, %s, %s)", [b1, team.role("zhao"), later()])
        assert sup.execute("SELECT holder, holder_name FROM kefu_reassign(%s, %s, %s)",
                           [b1, team.role("wang"), later()]).fetchone() == (team.role("wang"), "王五")
        assert sup.execute("SELECT kind, from_role, to_role, by_role FROM claim_log WHERE buyer = %s "
                           "ORDER BY id DESC LIMIT 1", [b1]).fetchone() == (
            "reassign", team.role("li"), team.role("wang"), team.role("sup"))

        # leases: clamped to 16 hours, renewed, never in the past
        more = [team.buyer(team.shop, f"买家{i}") for i in range(4)]
        for b in more:
            got = wang.execute("SELECT held_until, now() FROM kefu_claim(%s, %s)", [b, later(72)]).fetchone()
            assert got[0] - got[1] <= timedelta(hours=schema.MAX_LEASE_HOURS)
        refused(wang, schema.BAD_ARGUMENT, "SELECT * FROM kefu_claim(%s, %s)", [team.b1, later(-1)])
        assert wang.execute("SELECT kefu_renew(%s)", [later(10)]).fetchone() == (5,)
        assert li.execute("SELECT kefu_renew(%s)", [later(10)]).fetchone() == (0,)
        # an expired lease is free: anyone claims it, and the log says from whom
        with team.admin() as admin:
            admin.execute("UPDATE buyers SET held_until = now() - interval '1 minute' WHERE id = %s", [more[0]])
        assert li.execute("SELECT won FROM kefu_claim(%s, %s)", [more[0], later()]).fetchone() == (True,)
        assert li.execute("SELECT from_role, to_role FROM claim_log WHERE buyer = %s ORDER BY id DESC LIMIT 1",
                          [more[0]]).fetchone() == (team.role("wang"), team.role("li"))

        # release_agent: refused to a peer; a supervisor sends every lease of wang back to the pool
        denied(li, "SELECT kefu_release_agent(%s)", [team.role("wang")])
        assert sup.execute("SELECT kefu_release_agent(%s)", [team.role("wang")]).fetchone() == (4,)
        assert wang.execute("SELECT count(*) FROM buyers WHERE holder = %s", [team.role("wang")]).fetchone() == (0,)
        assert sup.execute("SELECT count(*) FROM claim_log WHERE kind = 'release' AND from_role = %s",
                           [team.role("wang")]).fetchone() == (4,)
        assert li.execute("SELECT kefu_release(%s)", [more[0]]).fetchone() == (True,)
        assert li.execute("SELECT kefu_release(%s)", [more[0]]).fetchone() == (False,)

        # disabling an agent: its leases return to the pool and it sees nothing any more
        assert li.execute("SELECT won FROM kefu_claim(%s, %s)", [more[1], later()]).fetchone() == (True,)
        denied(wang, "SELECT kefu_disable_agent(%s)", [team.role("li")])
        assert sup.execute("SELECT kefu_disable_agent(%s)", [team.role("li")]).fetchone() == (1,)
        assert li.execute("SELECT count(*) FROM buyers").fetchone() == (0,)
        assert sup.execute("SELECT count(*) FROM buyers WHERE holder IS NOT NULL").fetchone() == (0,)
        assert [r[0] for r in wang.execute("SELECT role FROM kefu_agents() WHERE NOT active")] == [team.role("li")]


def test_hand_over_moves_leases_to_the_receiver_or_the_pool(team):
    extra = team.buyer(team.shop, "买家丙")
    with team.login("wang") as wang, team.login("li") as li:
        for b in (team.b1, extra):
            wang.execute("SELECT * FROM kefu_claim(%s, %s)", [b, later(1)])
        refused(wang, schema.BAD_ARGUMENT, "SELECT kefu_hand_over(%s, %s)", [team.role("nobody"), later()])
        assert wang.execute("SELECT kefu_hand_over(%s, %s)", [team.role("li"), later()]).fetchone() == (2,)
        assert li.execute("SELECT count(*) FROM buyers WHERE holder = %s", [team.role("li")]).fetchone() == (2,)
        assert li.execute("SELECT DISTINCT kind, from_role, to_role FROM claim_log WHERE kind = 'handover'"
                          ).fetchall() == [("handover", team.role("wang"), team.role("li"))]
        assert li.execute("SELECT kefu_hand_over(NULL, %s)", [later()]).fetchone() == (0,)  # to the pool
        assert li.execute("SELECT count(*) FROM buyers WHERE holder IS NOT NULL").fetchone() == (0,)


def test_upsert_buyer_one_row_for_two_agents_and_no_nickname_in_the_server_log(team):
    nick = "秘密买家" + secrets.token_hex(6)
    with team.login("wang", autocommit=False) as wang, team.login("li") as li, team.login("zhao") as zhao:
        mine, theirs = uuid.uuid4(), uuid.uuid4()
        # wang's transaction is still open when li upserts the same buyer: li waits, then gets wang's id
        assert wang.execute("SELECT kefu_upsert_buyer(%s, %s, 'taobao', %s)", [mine, team.shop, nick]).fetchone() == (
            mine,)
        got: list = []
        t = threading.Thread(target=lambda: got.append(li.execute(
            "SELECT kefu_upsert_buyer(%s, %s, 'taobao', %s)", [theirs, team.shop, nick]).fetchone()[0]))
        t.start()
        t.join(0.3)
        wang.commit()
        t.join(10)
        assert got == [mine]
        # again, offline-starred twice: still one row, the first id
        assert li.execute("SELECT kefu_upsert_buyer(%s, %s, 'taobao', %s)",
                          [uuid.uuid4(), team.shop, nick]).fetchone() == (mine,)
        assert li.execute("SELECT count(*) FROM buyers WHERE nickname = %s", [nick]).fetchone() == (1,)
        # refusals carry no nickname either: another shop's agent, a plain duplicate insert, an id taken
        denied(zhao, "SELECT kefu_upsert_buyer(%s, %s, 'taobao', %s)", [uuid.uuid4(), team.shop, nick])
        refused(li, schema.BAD_ARGUMENT, "SELECT kefu_upsert_buyer(%s, %s, 'taobao', %s)", [mine, team.shop, nick + "x"])
        refused(li, schema.BAD_ARGUMENT, "SELECT kefu_upsert_buyer(%s, %s, 'taobao', NULL)", [uuid.uuid4(), team.shop])
    with team.admin() as admin:
        assert admin.execute("SELECT count(*) FROM buyers WHERE nickname LIKE %s", [nick + "%"]).fetchone() == (1,)
        admin.execute("SELECT pg_sleep(0.2)")  # let the logging collector write
    log = team.db.server.log_path.read_text(errors="replace")
    assert nick not in log
    assert "秘密买家" not in log


def test_feed_buyers_chases_marks_bump_xid_and_notify_once_per_transaction(team):
    listener = team.login("sup")
    sync.listen(listener)
    try:
        with team.login("wang", autocommit=False) as wang:
            bid = wang.execute("SELECT kefu_upsert_buyer(%s, %s, 'taobao', '收藏的')",
                               [uuid.uuid4(), team.shop]).fetchone()[0]
            wang.execute("UPDATE buyers SET starred = true WHERE id = %s", [bid])
            mark = uuid.uuid4()
            wang.execute("INSERT INTO buyer_marks (buyer, mark) VALUES (%s, %s)", [bid, mark])
            wang.execute("INSERT INTO chases (buyer, angle) VALUES (%s, 'pay')", [bid])
            wang.execute("INSERT INTO buyer_notes (buyer, body) VALUES (%s, '回头客')", [bid])
            wang.execute("SELECT * FROM kefu_claim(%s, %s)", [bid, later()])
            first = wang.execute("SELECT pg_current_xact_id()").fetchone()[0]
            wang.commit()
            got = list(listener.notifies(timeout=2, stop_after=5))
            assert [(n.channel, n.payload) for n in got] == [("kefu_changes", "")]
            rows = {table: wang.execute(f"SELECT xid FROM {table} WHERE buyer = %s", [bid]).fetchall()  # noqa: S608
                    for table in ("buyer_marks", "chases", "buyer_notes", "claim_log")}
            rows["buyers"] = wang.execute("SELECT xid FROM buyers WHERE id = %s", [bid]).fetchall()
            assert rows == {table: [(first,)] for table in rows}
            wang.commit()

            # a later transaction: removing the mark and editing the buyer move both past the cursor
            wang.execute("INSERT INTO buyer_marks (buyer, mark, present) VALUES (%s, %s, false) "
                         "ON CONFLICT (buyer, mark) DO UPDATE SET present = EXCLUDED.present", [bid, mark])
            wang.execute("UPDATE buyers SET state = 'paid' WHERE id = %s", [bid])
            wang.execute("INSERT INTO chases (buyer, angle) VALUES (%s, 'thanks')", [bid])
            second = wang.execute("SELECT pg_current_xact_id()").fetchone()[0]
            wang.commit()
            got = list(listener.notifies(timeout=2, stop_after=5))
            assert [(n.channel, n.payload) for n in got] == [("kefu_changes", "")]
            assert int(str(second)) > int(str(first))
            assert wang.execute("SELECT present, xid FROM buyer_marks WHERE buyer = %s", [bid]).fetchall() == [
                (False, second)]
            assert wang.execute("SELECT state, xid FROM buyers WHERE id = %s", [bid]).fetchone() == ("paid", second)
            assert wang.execute("SELECT count(*) FROM chases WHERE xid = %s", [second]).fetchone() == (1,)
            wang.commit()
        assert sync.drain(listener) == 0
    finally:
        listener.close()


def test_a_team_created_before_step_4_gets_its_grants(pg_db, monkeypatch):
    """kefu_team_grants is replaced by step 4 and re-run for every existing team."""
    with pg_db.connect() as admin:
        with monkeypatch.context() as m:
            m.setattr(schema, "STEPS", schema.STEPS[:3])
            m.setattr(schema, "SCHEMA_VERSION", 3)
            assert schema.apply(admin) == [1, 2, 3]
        team = "t" + secrets.token_hex(4)
        try:
            schema.create_team(admin, team)
            schema.create_shop(admin, team, "旗舰店")
            role = schema.create_agent(admin, team, "wang", "wang-pw", shops=["旗舰店"], display_name="王五")
            assert schema.apply(admin) == list(range(4, schema.SCHEMA_VERSION + 1))
            shop = admin.execute("SELECT id FROM shops WHERE team = %s", [team]).fetchone()[0]
            with pg_db.connect(role, "wang-pw") as wang:
                bid = wang.execute("SELECT kefu_upsert_buyer(%s, %s, 'taobao', %s)",
                                   [uuid.uuid4(), shop, "老买家"]).fetchone()[0]
                assert wang.execute("SELECT holder_name, won FROM kefu_claim(%s, %s)", [bid, later()]).fetchone() == (
                    "王五", True)
                assert wang.execute("SELECT count(*) FROM shop_replies").fetchone() == (0,)  # earlier grants kept
                assert wang.execute("SELECT count(*) FROM aftersales_limits").fetchone() == (0,)  # step 7's
        finally:
            pg_db.roles.extend(schema.team_roles(admin))
