"""The admin commands (`kefu team init / add-shop / add-agent / grant-shop / set-password /
disable-agent / agents`) against the real server, through the CLI's main entry, checked by logging
in as the roles they create. No password ever appears in the output or the -v log."""

from __future__ import annotations

import io
import json
import secrets

import pytest

from tests.helpers import pg

psycopg = pg.require_psycopg()
import keyring  # noqa: E402
import keyrings.alt.file  # noqa: E402
from psycopg import sql  # noqa: E402

from assistant import cli  # noqa: E402
from assistant.team import schema  # noqa: E402

WANG_PW = "wang-Secret-4711"
NEW_PW = "wang-Fresh-0815"
SUP_PW = "sup-Secret-2222"


class Team:
    def __init__(self, db: pg.PgDatabase) -> None:
        self.db = db
        self.id = "t" + secrets.token_hex(4)  # roles are cluster-wide: a fresh team per test
        self.extra_roles: list[str] = []  # dropped after the team's roles

    def url(self, user: str = pg.SUPERUSER, query: str = "") -> str:
        return f"postgresql://{user}@{self.db.server.host}:{self.db.server.port}/{self.db.name}{query}"

    def role(self, name: str) -> str:
        return schema.agent_role(self.id, name)

    def login(self, name: str, password: str):
        return self.db.connect(self.role(name), password)

    def query(self, text: str, params=()) -> list:
        with self.db.connect() as conn:
            return conn.execute(text, params).fetchall()


@pytest.fixture
def team(pg_db):
    t = Team(pg_db)
    try:
        yield t
    finally:
        with pg_db.connect() as admin:
            if schema.applied(admin):
                pg_db.roles.extend(schema.team_roles(admin))
        pg_db.roles.extend(t.extra_roles)


@pytest.fixture
def kefu(tmp_path, capsys, monkeypatch, pg_server):
    """Runs `kefu ...` in-process; stdin holds the given lines. Asserts no password leaked."""
    secrets_ = [pg_server.password, WANG_PW, NEW_PW, SUP_PW]

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(["--data-dir", str(tmp_path / "data"), "-v", *args])
        out, err = capsys.readouterr()
        for secret in secrets_:
            assert secret not in out and secret not in err
        return code, out, err

    return run


def one_line_error(err: str) -> str:
    """The error line (the -v log may precede it); it must be the last line and bilingual."""
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: ") and " / " in last
    return last


@pytest.fixture
def ready(team, kefu, pg_server):
    """Team with shops 旗舰店 and 二店 and the agent wang serving 旗舰店."""
    pw = pg_server.password
    code, _, err = kefu("team", "init", team.url(), "--team", team.id, "--shop", "旗舰店", "--shop", "二店",
                        "--password-stdin", stdin=pw + "\n")
    assert code == 0, err
    code, _, err = kefu("team", "add-agent", team.url(), "--team", team.id, "wang", "--shop", "旗舰店",
                        "--display-name", "王五", "--password-stdin", stdin=f"{pw}\n{WANG_PW}\n")
    assert code == 0, err
    return team


def counts(team: Team) -> tuple:
    return tuple(team.query(f"SELECT count(*) FROM {t}")[0][0]
                 for t in ("kefu_schema", "teams", "shops", "agents", "agent_shops"))


# ------------------------------------------------------------------ init
def test_init_creates_schema_team_and_shops_and_a_second_run_changes_nothing(team, kefu, pg_server):
    pw = pg_server.password
    code, out, err = kefu("team", "init", team.url(), "--team", team.id, "--name", "甲店团队", "--shop", "旗舰店",
                          "--password-stdin", stdin=pw + "\n")
    assert code == 0, err
    assert "applied schema step(s)" in out and f"created team {team.id}" in out and "created shop 旗舰店" in out
    assert team.query("SELECT name FROM teams WHERE id = %s", [team.id]) == [("甲店团队",)]
    assert team.query("SELECT max(step) FROM kefu_schema") == [(schema.SCHEMA_VERSION,)]
    before = counts(team)
    code, out, err = kefu("team", "init", team.url(), "--team", team.id, "--name", "甲店团队", "--shop", "旗舰店",
                          "--password-stdin", stdin=pw + "\n")
    assert code == 0, err
    assert out == f"团队 {team.id} 已就绪，无需更改 / team {team.id} is already set up: nothing changed\n"
    assert counts(team) == before
    # a later init adds only the new shop
    code, out, _ = kefu("team", "init", team.url(), "--team", team.id, "--shop", "旗舰店", "--shop", "二店",
                        "--password-stdin", stdin=pw)
    assert code == 0 and out == "已创建店铺 二店 / created shop 二店\n"


def test_init_refuses_a_newer_server_schema_and_changes_nothing(team, kefu, pg_server):
    pw = pg_server.password
    assert kefu("team", "init", team.url(), "--team", team.id, "--password-stdin", stdin=pw)[0] == 0
    with team.db.connect() as admin:
        admin.execute("INSERT INTO kefu_schema (step, name, checksum) VALUES (%s, 'future', 'x')",
                      [schema.SCHEMA_VERSION + 1])
    before = counts(team)
    other = "u" + secrets.token_hex(4)
    code, out, err = kefu("team", "init", team.url(), "--team", other, "--shop", "新店", "--password-stdin", stdin=pw)
    assert code == 1 and out == ""
    line = one_line_error(err)
    assert "newer than this client" in line and "升级" in line and "nothing was changed" in line
    assert counts(team) == before
    # the other admin commands refuse it too
    code, _, err = kefu("team", "add-shop", team.url(), "--team", team.id, "新店", "--password-stdin", stdin=pw)
    assert code == 1 and "newer than this client" in err and counts(team) == before


def test_admin_login_errors(team, kefu, pg_server):
    code, out, err = kefu("team", "init", team.url(), "--team", team.id, "--password-stdin", stdin="wrong-admin-pw\n")
    assert code == 1 and out == ""
    line = one_line_error(err)
    assert "wrong role or password" in line and "密码不对" in line and "wrong-admin-pw" not in err
    with team.db.connect() as conn:
        assert schema.applied(conn) == {}  # nothing happened
    code, _, err = kefu("team", "init", f"postgresql://postgres:{pg_server.password}@127.0.0.1/x", "--team", team.id,
                        "--password-stdin", stdin=pg_server.password)
    assert code == 2 and "do not put the password in the URL" in one_line_error(err) and "密码" in err
    code, _, err = kefu("team", "init", "postgresql://127.0.0.1/x", "--team", team.id, "--password-stdin", stdin="x")
    assert code == 2 and "needs the admin user" in one_line_error(err)
    code, _, err = kefu("team", "init", team.url(), "--team", "Bad_Team", "--password-stdin", stdin="x")
    assert code == 2 and "team id" in one_line_error(err)
    code, _, err = kefu("team", "init", team.url(), "--team", team.id, "--password-stdin", stdin="\n")
    assert code == 2 and "no password given" in one_line_error(err)
    # a role that is neither superuser nor the database's owner with CREATEROLE
    name, password = team.db.create_login_role("plain")
    code, _, err = kefu("team", "init", team.url(name), "--team", team.id, "--password-stdin", stdin=password)
    assert code == 1 and "cannot administer" in one_line_error(err) and password not in err
    closed = pg.free_port()
    code, _, err = kefu("team", "agents", f"postgresql://postgres@127.0.0.1:{closed}/x", "--team", team.id,
                        "--password-stdin", stdin="x")
    assert code == 1 and "cannot reach the team server" in one_line_error(err)


def test_a_database_owner_with_createrole_can_administer(team, kefu):
    """The README recipe: not a superuser, the database's owner with CREATEROLE."""
    owner = "kefuadmin_" + secrets.token_hex(3)
    owner_pw = secrets.token_urlsafe(16)
    with team.db.connect() as su:
        su.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(sql.Identifier(owner),
                                                                                 sql.Literal(owner_pw)))
        su.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(team.db.name), sql.Identifier(owner)))
    team.extra_roles.append(owner)
    code, _, err = kefu("team", "init", team.url(owner), "--team", team.id, "--shop", "旗舰店",
                        "--password-stdin", stdin=owner_pw)
    assert code == 0, err
    code, out, err = kefu("team", "add-agent", team.url(owner), "--team", team.id, "wang", "--shop", "旗舰店",
                          "--password-stdin", stdin=f"{owner_pw}\n{WANG_PW}\n")
    assert code == 0, err
    assert owner_pw not in out + err
    with team.login("wang", WANG_PW) as conn:
        assert conn.execute("SELECT name FROM shops").fetchall() == [("旗舰店",)]
    code, _, err = kefu("team", "disable-agent", team.url(owner), "--team", team.id, "wang",
                        "--password-stdin", stdin=owner_pw)
    assert code == 0, err
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        team.login("wang", WANG_PW)


# ------------------------------------------------------------------ shops and agents
def test_add_shop(ready, kefu, pg_server):
    pw = pg_server.password
    code, out, err = kefu("team", "add-shop", ready.url(), "--team", ready.id, "三店", "--password-stdin", stdin=pw)
    assert code == 0 and "created shop 三店" in out, err
    assert ready.query("SELECT name FROM shops WHERE team = %s ORDER BY name", [ready.id]) == [
        ("三店",), ("二店",), ("旗舰店",)]
    before = counts(ready)
    code, _, err = kefu("team", "add-shop", ready.url(), "--team", ready.id, "三店", "--password-stdin", stdin=pw)
    assert code == 2 and "already has the shop" in one_line_error(err) and counts(ready) == before
    code, _, err = kefu("team", "add-shop", ready.url(), "--team", "nosuch", "四店", "--password-stdin", stdin=pw)
    assert code == 4 and "there is no team nosuch" in one_line_error(err) and counts(ready) == before


def test_add_agent_prints_the_url_the_agent_connects_with(ready, kefu, pg_server, tmp_path, monkeypatch):
    pw = pg_server.password
    code, out, err = kefu("team", "add-agent", ready.url(query="?sslmode=disable"), "--team", ready.id, "sup",
                          "--supervisor", "--shop", "旗舰店", "--shop", "二店", "--display-name", "李主管",
                          "--password-stdin", stdin=f"{pw}\n{SUP_PW}\n")
    assert code == 0, err
    url = f"postgresql://{ready.role('sup')}@{ready.db.server.host}:{ready.db.server.port}/{ready.db.name}?sslmode=disable"
    assert f"kefu team connect {url}\n" in out and "loopback" in out
    # the agent's side: that URL and the password connect, as a supervisor serving both shops
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    backend = keyrings.alt.file.PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        code, _, err = kefu("team", "connect", url, "--password-stdin", stdin=SUP_PW + "\n")
        assert code == 0, err
        shown = json.loads(kefu("team", "status", "--json")[1])
    finally:
        keyring.set_keyring(previous)
    assert (shown["role"], shown["kind"], shown["shops"]) == (ready.role("sup"), "supervisor", ["二店", "旗舰店"])


def test_add_agent_errors_change_nothing(ready, kefu, pg_server):
    pw = pg_server.password
    before = counts(ready)
    # an existing name: refused, and the agent's password is still the old one
    code, out, err = kefu("team", "add-agent", ready.url(), "--team", ready.id, "wang", "--password-stdin",
                          stdin=f"{pw}\n{NEW_PW}\n")
    assert code == 2 and out == "" and "already has an agent wang" in one_line_error(err) and "已有" in err
    with ready.login("wang", WANG_PW):
        pass
    for bad in ("Wang", "1li", "li-si", "x" * 31):
        code, _, err = kefu("team", "add-agent", ready.url(), "--team", ready.id, bad, "--password-stdin",
                            stdin=f"{pw}\n{NEW_PW}\n")
        assert code == 2 and "agent name" in one_line_error(err), bad
    code, _, err = kefu("team", "add-agent", ready.url(), "--team", ready.id, "li", "--shop", "没有的店",
                        "--password-stdin", stdin=f"{pw}\n{NEW_PW}\n")
    assert code == 4 and "has no shop '没有的店'" in one_line_error(err)
    code, _, err = kefu("team", "add-agent", ready.url(), "--team", ready.id, "li", "--password-stdin",
                        stdin=f"{pw}\nshort\n")
    assert code == 2 and "at least 8 characters" in one_line_error(err)
    code, _, err = kefu("team", "add-agent", ready.url(), "--team", ready.id, "li", "--password-stdin", stdin=f"{pw}\n")
    assert code == 2 and "no password given" in one_line_error(err)
    assert counts(ready) == before
    assert ready.query("SELECT 1 FROM pg_roles WHERE rolname = %s", [ready.role("li")]) == []


def test_add_agent_on_a_terminal_asks_the_new_password_twice(ready, kefu, pg_server, monkeypatch):
    answers = iter([pg_server.password, NEW_PW, NEW_PW + "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = kefu("team", "add-agent", ready.url(), "--team", ready.id, "li")
    assert code == 2 and "the two passwords differ" in one_line_error(err)
    assert ready.query("SELECT 1 FROM agents WHERE name = 'li'") == []
    answers = iter([pg_server.password, NEW_PW, NEW_PW])
    code, out, err = kefu("team", "add-agent", ready.url(), "--team", ready.id, "li")
    assert code == 0 and ready.role("li") in out, err
    with ready.login("li", NEW_PW) as conn:
        assert conn.execute("SELECT name FROM shops").fetchall() == []  # no shop granted yet


def test_grant_shop_lets_the_agent_see_both_shops(ready, kefu, pg_server):
    pw = pg_server.password
    with ready.login("wang", WANG_PW) as conn:
        assert conn.execute("SELECT name FROM shops ORDER BY name").fetchall() == [("旗舰店",)]
    code, out, err = kefu("team", "grant-shop", ready.url(), "--team", ready.id, "wang", "二店", "--password-stdin",
                          stdin=pw)
    assert code == 0 and "now serves the shop 二店" in out, err
    with ready.login("wang", WANG_PW) as conn:  # through RLS, as the agent
        assert conn.execute("SELECT name FROM shops ORDER BY name").fetchall() == [("二店",), ("旗舰店",)]
    before = counts(ready)
    code, out, _ = kefu("team", "grant-shop", ready.url(), "--team", ready.id, "wang", "二店", "--password-stdin",
                        stdin=pw)
    assert code == 0 and "nothing changed" in out and counts(ready) == before
    code, _, err = kefu("team", "grant-shop", ready.url(), "--team", ready.id, "wang", "没有的店", "--password-stdin",
                        stdin=pw)
    assert code == 4 and "has no shop" in one_line_error(err)
    code, _, err = kefu("team", "grant-shop", ready.url(), "--team", ready.id, "zhao", "二店", "--password-stdin",
                        stdin=pw)
    assert code == 4 and "has no agent zhao" in one_line_error(err)
    assert counts(ready) == before


def test_set_password(ready, kefu, pg_server):
    pw = pg_server.password
    code, out, err = kefu("team", "set-password", ready.url(), "--team", ready.id, "wang", "--password-stdin",
                          stdin=f"{pw}\n{NEW_PW}\n")
    assert code == 0 and ready.role("wang") in out, err
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        ready.login("wang", WANG_PW)
    with ready.login("wang", NEW_PW) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == ready.role("wang")
    # only the team's agents: never another role, even an existing one
    code, _, err = kefu("team", "set-password", ready.url(), "--team", ready.id, "li", "--password-stdin",
                        stdin=f"{pw}\n{NEW_PW}\n")
    assert code == 4 and "has no agent li" in one_line_error(err)
    code, _, err = kefu("team", "set-password", ready.url(), "--team", ready.id, "postgres", "--password-stdin",
                        stdin=f"{pw}\n{NEW_PW}\n")
    assert code == 4
    with ready.db.connect() as conn:  # the superuser's password is untouched
        conn.execute("SELECT 1")


def test_disable_agent_stops_the_login_and_enable_undoes_it(ready, kefu, pg_server):
    pw = pg_server.password
    session = ready.login("wang", WANG_PW)  # an agent still connected when disabled
    # a buyer wang follows: it returns to the pool when wang is disabled
    session.execute("SELECT kefu_upsert_buyer(gen_random_uuid(), (SELECT id FROM shops LIMIT 1), 'taobao', 'b1')")
    session.execute("SELECT kefu_claim(id, now() + interval '1 hour') FROM buyers")
    code, out, err = kefu("team", "disable-agent", ready.url(), "--team", ready.id, "wang", "--password-stdin",
                          stdin=pw)
    assert code == 0 and "can no longer log in" in out and "ended 1 open session" in out, err
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    session.close()
    with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
        ready.login("wang", WANG_PW)
    assert ready.query("SELECT active FROM agents WHERE name = 'wang'") == [(False,)]
    assert ready.query("SELECT holder FROM buyers") == [(None,)]
    assert ready.query("SELECT kind FROM claim_log ORDER BY id") == [("claim",), ("release",)]
    # the agent's own `kefu team connect` explains it
    from assistant.team import connection

    with pytest.raises(connection.TeamError, match="is disabled"):
        connection.open_session(ready.db.server.host, ready.db.server.port, ready.db.name, ready.role("wang"),
                                WANG_PW, "prefer")
    code, out, _ = kefu("team", "disable-agent", ready.url(), "--team", ready.id, "wang", "--password-stdin", stdin=pw)
    assert code == 0 and "already disabled: nothing changed" in out
    shown = json.loads(kefu("team", "agents", ready.url(), "--team", ready.id, "--json", "--password-stdin",
                            stdin=pw)[1])
    assert shown[0]["active"] is False

    code, out, err = kefu("team", "disable-agent", ready.url(), "--team", ready.id, "wang", "--enable",
                          "--password-stdin", stdin=pw)
    assert code == 0 and "can log in again" in out, err
    with ready.login("wang", WANG_PW) as conn:
        assert conn.execute("SELECT name FROM shops").fetchall() == [("旗舰店",)]
    code, _, err = kefu("team", "disable-agent", ready.url(), "--team", ready.id, "zhao", "--password-stdin", stdin=pw)
    assert code == 4 and "has no agent zhao" in one_line_error(err)


def test_agents_lists_kind_shops_and_state(ready, kefu, pg_server):
    pw = pg_server.password
    assert kefu("team", "add-agent", ready.url(), "--team", ready.id, "sup", "--supervisor", "--shop", "二店",
                "--shop", "旗舰店", "--password-stdin", stdin=f"{pw}\n{SUP_PW}\n")[0] == 0
    code, out, err = kefu("team", "agents", ready.url(), "--team", ready.id, "--json", "--password-stdin", stdin=pw)
    assert code == 0, err
    assert json.loads(out) == [
        {"name": "sup", "role": ready.role("sup"), "display_name": "sup", "kind": "supervisor",
         "shops": ["二店", "旗舰店"], "active": True},
        {"name": "wang", "role": ready.role("wang"), "display_name": "王五", "kind": "agent",
         "shops": ["旗舰店"], "active": True},
    ]
    code, out, _ = kefu("team", "agents", ready.url(), "--team", ready.id, "--password-stdin", stdin=pw)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3 and "Name" in lines[0]
    assert "王五" in lines[2] and "客服 agent" in lines[2] and "主管 supervisor" in lines[1]
