"""The team server's rules, exercised as real login roles over TCP (SCRAM): the shop library vs
personal replies, the version check, tombstones, history, and team-namespaced roles."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest

from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import schema  # noqa: E402 - imports psycopg

PW = {"sup": "sup-pw-1", "wang": "wang-pw-2", "li": "li-pw-3", "zhao": "zhao-pw-4", "wang2": "wang-pw-5"}


@pytest.fixture
def db(pg_db):
    """The schema applied; its team roles are dropped with the database (roles are cluster-wide)."""
    with pg_db.connect() as admin:
        schema.apply(admin)
    try:
        yield pg_db
    finally:
        with pg_db.connect() as admin:
            pg_db.roles.extend(schema.team_roles(admin))


@pytest.fixture
def shop(db):
    """Team `alpha` (shops 旗舰店 and 二店: wang and li serve the first, zhao the second; sup supervises
    the first), team `beta` (its own shop and its own `wang`). Returns ids and a reply per shop."""
    with db.connect() as admin:
        schema.create_team(admin, "alpha", "甲店团队")
        schema.create_team(admin, "beta")
        a1 = schema.create_shop(admin, "alpha", "旗舰店")
        a2 = schema.create_shop(admin, "alpha", "二店")
        b1 = schema.create_shop(admin, "beta", "旗舰店")
        schema.create_agent(admin, "alpha", "sup", PW["sup"], supervisor=True, shops=["旗舰店"])
        schema.create_agent(admin, "alpha", "wang", PW["wang"], shops=["旗舰店"])
        schema.create_agent(admin, "alpha", "li", PW["li"], shops=["旗舰店"])
        schema.create_agent(admin, "alpha", "zhao", PW["zhao"], shops=["二店"])
        schema.create_agent(admin, "beta", "wang", PW["wang2"], shops=["旗舰店"])
        ins = "INSERT INTO shop_replies (shop, group_path, title, body) VALUES (%s, %s, %s, %s) RETURNING id"
        r1 = admin.execute(ins, [a1, "售后/退货", "退货地址", "请寄回杭州仓"]).fetchone()[0]
        r2 = admin.execute(ins, [a2, "", "二店问候", "您好"]).fetchone()[0]
        r3 = admin.execute(ins, [b1, "", "乙团队", "欢迎"]).fetchone()[0]
    return {"a1": a1, "a2": a2, "b1": b1, "r1": r1, "r2": r2, "r3": r3}


def login(db, team, name):
    password = PW["wang2"] if (team, name) == ("beta", "wang") else PW[name]
    return db.connect(schema.agent_role(team, name), password)


def test_apply_is_idempotent_and_recorded(pg_db):
    with pg_db.connect() as admin:
        assert schema.apply(admin) == [s.number for s in schema.STEPS]
        assert schema.apply(admin) == []
        rows = admin.execute("SELECT step, name, checksum FROM kefu_schema ORDER BY step").fetchall()
        assert rows == [(s.number, s.name, s.checksum) for s in schema.STEPS]
        # a newer server schema is refused, not silently used
        admin.execute("INSERT INTO kefu_schema (step, name, checksum) VALUES (%s, 'future', 'x')",
                      [schema.SCHEMA_VERSION + 1])
        with pytest.raises(schema.SchemaError, match="newer than this client"):
            schema.apply(admin)


def test_agent_reads_only_its_shops_replies(db, shop):
    with login(db, "alpha", "wang") as conn:
        who, addr = conn.execute("SELECT current_user, host(inet_server_addr())").fetchone()
        assert (who, addr) == ("kefu_alpha_wang", "127.0.0.1")  # a real login over TCP
        assert conn.execute("SELECT id, title FROM shop_replies").fetchall() == [(shop["r1"], "退货地址")]
        assert conn.execute("SELECT name FROM shops").fetchall() == [("旗舰店",)]
        # another shop of the same team, another team's shop: invisible, not an error
        assert conn.execute("SELECT count(*) FROM shop_replies WHERE id = ANY(%s)",
                            [[shop["r2"], shop["r3"]]]).fetchone() == (0,)
    with login(db, "alpha", "zhao") as conn:
        assert conn.execute("SELECT id FROM shop_replies").fetchall() == [(shop["r2"],)]


def test_agent_cannot_write_the_shop_library(db, shop):
    with login(db, "alpha", "wang") as conn:
        for statement, args in [
            ("INSERT INTO shop_replies (shop, body) VALUES (%s, 'x')", [shop["a1"]]),
            ("UPDATE shop_replies SET body = 'x', version = 2 WHERE id = %s", [shop["r1"]]),
            ("SELECT update_shop_reply(%s, 1, '', 't', 'x', '')", [shop["r1"]]),
            ("SELECT delete_shop_reply(%s, 1)", [shop["r1"]]),
            ("DELETE FROM shop_replies WHERE id = %s", [shop["r1"]]),
            ("SELECT * FROM shop_reply_history", []),
            ("SELECT * FROM agent_shops", []),
            ("INSERT INTO shop_reply_history (reply, shop, changed_by, changed_at, after) "
             "VALUES (%s, %s, 'x', now(), '{}')", [shop["r1"], shop["a1"]]),
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement, args)
    with db.connect() as admin:
        assert admin.execute("SELECT body, version FROM shop_replies WHERE id = %s",
                             [shop["r1"]]).fetchone() == ("请寄回杭州仓", 1)


def test_personal_replies_are_the_owners_only(db, shop):
    with login(db, "alpha", "wang") as wang:
        rid = wang.execute("INSERT INTO personal_replies (title, body) VALUES ('我的', '亲在的') "
                           "RETURNING id").fetchone()[0]
        wang.execute("UPDATE personal_replies SET body = '亲，在的' WHERE id = %s", [rid])
        assert wang.execute("SELECT owner, body, version FROM personal_replies").fetchall() == [
            ("kefu_alpha_wang", "亲，在的", 2)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # writing as someone else
            wang.execute("INSERT INTO personal_replies (owner, body) VALUES ('kefu_alpha_li', 'x')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # tombstones only
            wang.execute("DELETE FROM personal_replies WHERE id = %s", [rid])
    with login(db, "alpha", "li") as li:
        assert li.execute("SELECT count(*) FROM personal_replies").fetchone() == (0,)
        assert li.execute("UPDATE personal_replies SET body = 'hijack' WHERE id = %s", [rid]).rowcount == 0
    with login(db, "alpha", "sup") as sup:  # a supervisor does not read agents' personal replies either
        assert sup.execute("SELECT count(*) FROM personal_replies").fetchone() == (0,)
    with db.connect() as admin:
        assert admin.execute("SELECT body FROM personal_replies").fetchall() == [("亲，在的",)]


def test_supervisor_edit_with_the_read_version_leaves_history(db, shop):
    with login(db, "alpha", "sup") as sup:
        before_edit = sup.execute("SELECT now()").fetchone()[0]
        row = sup.execute("SELECT (r).version, (r).body, (r).updated_by, (r).updated_at FROM "
                          "update_shop_reply(%s, 1, '售后/退货', '退货地址', '请寄回杭州余杭仓', '') r",
                          [shop["r1"]]).fetchone()
        version, body, by, at = row
        assert (version, body, by) == (2, "请寄回杭州余杭仓", "kefu_alpha_sup")
        assert timedelta(0) <= at - before_edit < timedelta(seconds=30)  # the server's clock
        hist = sup.execute("SELECT changed_by, changed_at, before, after FROM shop_reply_history "
                           "WHERE reply = %s ORDER BY id", [shop["r1"]]).fetchall()
        assert len(hist) == 2  # the insert, then this edit
        assert hist[0][2] is None and hist[0][3]["version"] == 1
        changed_by, changed_at, before, after = hist[1]
        assert (changed_by, changed_at) == ("kefu_alpha_sup", at)
        assert (before["body"], before["version"]) == ("请寄回杭州仓", 1)
        assert (after["body"], after["version"]) == ("请寄回杭州余杭仓", 2)
        # a supervisor sees only its own shops' history, and cannot write another shop's library
        assert {r[0] for r in sup.execute("SELECT shop FROM shop_reply_history")} == {shop["a1"]}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sup.execute("INSERT INTO shop_replies (shop, body) VALUES (%s, 'x')", [shop["a2"]])
        with pytest.raises(psycopg.errors.NoDataFound):
            sup.execute("SELECT update_shop_reply(%s, 1, '', 't', 'x', '')", [shop["r3"]])
        # it may add to its own shop: version 1, stamped by the server
        new = sup.execute("INSERT INTO shop_replies (shop, title, body, version, updated_by) "
                          "VALUES (%s, '新', '新话术', 7, 'someone_else') RETURNING version, updated_by",
                          [shop["a1"]]).fetchone()
        assert new == (1, "kefu_alpha_sup")
    with login(db, "alpha", "wang") as wang:
        assert wang.execute("SELECT body, version FROM shop_replies WHERE id = %s",
                            [shop["r1"]]).fetchone() == ("请寄回杭州余杭仓", 2)


def test_stale_version_is_rejected_and_changes_nothing(db, shop):
    with login(db, "alpha", "sup") as sup:
        sup.execute("SELECT update_shop_reply(%s, 1, '', '退货地址', '第一次', '')", [shop["r1"]])
        for statement in ("SELECT update_shop_reply(%s, 1, '', '退货地址', '过时的修改', '')",
                          "SELECT delete_shop_reply(%s, 1)",
                          # a plain UPDATE cannot skip the check: the trigger holds for any client
                          "UPDATE shop_replies SET body = '过时的修改' WHERE id = %s"):
            with pytest.raises(psycopg.DatabaseError) as err:
                sup.execute(statement, [shop["r1"]])
            assert err.value.sqlstate == schema.STALE_VERSION
            assert "stale shop reply" in str(err.value) and "已被他人修改" in str(err.value)
    with db.connect() as admin:
        assert admin.execute("SELECT body, version, deleted FROM shop_replies WHERE id = %s",
                             [shop["r1"]]).fetchone() == ("第一次", 2, False)
        assert admin.execute("SELECT count(*) FROM shop_reply_history WHERE reply = %s",
                             [shop["r1"]]).fetchone() == (2,)


def test_concurrent_edits_from_the_same_version_one_wins(db, shop):
    with login(db, "alpha", "sup") as first, login(db, "alpha", "sup") as second:
        first.autocommit = False
        first.execute("SELECT update_shop_reply(%s, 1, '', 't', '甲的修改', '')", [shop["r1"]])
        second.execute("SET lock_timeout = '5s'")
        errors: list[BaseException] = []

        def edit():
            try:
                second.execute("SELECT update_shop_reply(%s, 1, '', 't', '乙的修改', '')", [shop["r1"]])
            except BaseException as e:  # handed to the test thread
                errors.append(e)

        t = threading.Thread(target=edit)
        t.start()
        t.join(0.3)  # the second writer waits on the row lock ...
        first.commit()
        t.join(10)
        assert len(errors) == 1 and getattr(errors[0], "sqlstate", None) == schema.STALE_VERSION
    with db.connect() as admin:
        assert admin.execute("SELECT body, version FROM shop_replies WHERE id = %s",
                             [shop["r1"]]).fetchone() == ("甲的修改", 2)


def test_delete_is_a_tombstone_agents_see(db, shop):
    with login(db, "alpha", "sup") as sup:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            sup.execute("DELETE FROM shop_replies WHERE id = %s", [shop["r1"]])
        deleted = sup.execute("SELECT (delete_shop_reply(%s, 1)).deleted", [shop["r1"]]).fetchone()[0]
        assert deleted is True
        after = sup.execute("SELECT after FROM shop_reply_history WHERE reply = %s ORDER BY id DESC LIMIT 1",
                            [shop["r1"]]).fetchone()[0]
        assert (after["deleted"], after["version"]) == (True, 2)
    with login(db, "alpha", "wang") as wang:
        assert wang.execute("SELECT id, deleted, version FROM shop_replies").fetchall() == [(shop["r1"], True, 2)]


def test_two_teams_wang_do_not_collide(db, shop):
    with login(db, "alpha", "wang") as a, login(db, "beta", "wang") as b:
        assert a.execute("SELECT current_user").fetchone() == ("kefu_alpha_wang",)
        assert b.execute("SELECT current_user").fetchone() == ("kefu_beta_wang",)
        assert a.execute("SELECT id FROM shop_replies").fetchall() == [(shop["r1"],)]
        assert b.execute("SELECT id FROM shop_replies").fetchall() == [(shop["r3"],)]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        db.connect("kefu_beta_wang", PW["wang"]).close()  # alpha's wang's password is not beta's
    with db.connect() as admin:
        # the password never reached the server: only a SCRAM verifier is stored
        stored = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'kefu_beta_wang'").fetchone()[0]
        assert stored.startswith("SCRAM-SHA-256$")
        # an agent cannot be granted another team's shop: the composite foreign key refuses it
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            admin.execute("INSERT INTO agent_shops (role, team, shop) VALUES ('kefu_alpha_wang', 'alpha', %s)",
                          [shop["b1"]])
        with pytest.raises(ValueError):
            schema.create_agent(admin, "alpha", "Bad-Name", "pw")
        with pytest.raises(psycopg.errors.UniqueViolation):
            schema.create_agent(admin, "alpha", "wang", "again")
    assert isinstance(shop["r1"], uuid.UUID)


def test_steps_are_the_plain_sql_files_and_a_bad_header_is_refused(tmp_path, monkeypatch):
    """The server migrations are resources/team_schema/NNNN_*.sql, numbered without gaps; each
    file's first line names the step and the checksum covers the rest."""
    from assistant.paths import resource_path

    files = sorted(resource_path("team_schema").glob("*.sql"))
    assert [int(f.name[:4]) for f in files] == [s.number for s in schema.STEPS] == list(
        range(1, schema.SCHEMA_VERSION + 1))
    assert schema.STEPS[0].sql.lstrip().startswith("CREATE")  # the header line is not part of the step
    folder = tmp_path / "team_schema"
    folder.mkdir()
    monkeypatch.setattr(schema, "resource_path", lambda name: tmp_path / name)
    (folder / "0001_one.sql").write_text("-- kefu team schema step 1: one\nSELECT 1;\n", encoding="utf-8")
    assert [(s.number, s.name, s.sql) for s in schema._load_steps()] == [(1, "one", "\nSELECT 1;\n")]
    (folder / "0003_three.sql").write_text("-- kefu team schema step 3: three\nSELECT 3;\n", encoding="utf-8")
    with pytest.raises(schema.SchemaError, match="without gaps"):
        schema._load_steps()
    (folder / "0003_three.sql").unlink()
    (folder / "0002_two.sql").write_text("SELECT 2;\n", encoding="utf-8")
    with pytest.raises(schema.SchemaError, match="first line"):
        schema._load_steps()
