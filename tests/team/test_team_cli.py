"""`kefu team connect / status / disconnect` against the real server, as an agent logs in: the
password reaches the OS keyring only (never the SQLite file, the log or the output), and a failed
connect stores nothing.

Keyring: keyrings.alt's PlaintextKeyring pointed at a file in the test's tmp folder, chosen
explicitly with PYTHON_KEYRING_BACKEND (kefu refuses a plain-text backend nobody chose)."""

from __future__ import annotations

import io
import json
import secrets
import sqlite3

import pytest

from tests.helpers import pg

pg.require_psycopg()
import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402
import keyrings.alt.file  # noqa: E402

from assistant import cli  # noqa: E402
from assistant.team import connection, schema  # noqa: E402

PASSWORD = "Zq7-secret-Pw-unique-9Xk"


@pytest.fixture
def team(pg_db):
    """A fresh team (unique name: roles are cluster-wide) with two shops; wang serves both, sup
    supervises one. Its roles are dropped with the database."""
    name = "c" + secrets.token_hex(4)
    with pg_db.connect() as admin:
        schema.apply(admin)
        schema.create_team(admin, name)
        schema.create_shop(admin, name, "旗舰店")
        schema.create_shop(admin, name, "二店")
        schema.create_agent(admin, name, "wang", PASSWORD, shops=["旗舰店", "二店"])
        schema.create_agent(admin, name, "sup", PASSWORD + "s", supervisor=True, shops=["旗舰店"])
    try:
        yield name
    finally:
        with pg_db.connect() as admin:
            pg_db.roles.extend(schema.team_roles(admin))


@pytest.fixture
def kefu(tmp_path, capsys, monkeypatch):
    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(["--data-dir", str(tmp_path / "data"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def url(pg_db, team, name="wang", query=""):
    return f"postgresql://kefu_{team}_{name}@{pg_db.server.host}:{pg_db.server.port}/{pg_db.name}{query}"


def stored_files(tmp_path) -> bytes:
    """Every byte kefu wrote under its data folder (kefu.db, -wal, logs)."""
    return b"".join(p.read_bytes() for p in sorted((tmp_path / "data").rglob("*")) if p.is_file())


def team_settings(tmp_path) -> list:
    with sqlite3.connect(tmp_path / "data" / "kefu.db") as db:
        return db.execute("SELECT key, value FROM settings WHERE key LIKE 'team.%' ORDER BY key").fetchall()


def assert_nothing_stored(tmp_path, backend, user):
    assert team_settings(tmp_path) == []
    assert backend.get_password(connection.SERVICE, user) is None


def test_connect_status_disconnect(pg_db, team, file_keyring, kefu, tmp_path):
    role = f"kefu_{team}_wang"
    user = f"{role}@{pg_db.server.host}:{pg_db.server.port}"
    assert kefu("team", "status") == (0, "未连接团队服务器（仅本机） / not connected (local only)\n", "")
    # -v: the command's whole log goes to stderr, where the password must not appear either
    code, out, err = kefu("team", "connect", url(pg_db, team), "--password-stdin", "-v", stdin=PASSWORD + "\n")
    assert code == 0, err
    assert role in out and "二店, 旗舰店" in out
    assert file_keyring.get_password(connection.SERVICE, user) == PASSWORD
    server = f"postgresql://{pg_db.server.host}:{pg_db.server.port}/{pg_db.name}?sslmode=prefer"
    assert team_settings(tmp_path) == [("team.kind", json.dumps("agent")), ("team.role", json.dumps(role)),
                                       ("team.server", json.dumps(server))]

    code, out, err2 = kefu("team", "status", "--json", "-v")
    assert code == 0, err2
    shown = json.loads(out)
    assert shown["server"] == f"{pg_db.server.host}:{pg_db.server.port}/{pg_db.name}"
    assert (shown["role"], shown["team"], shown["kind"], shown["shops"]) == (role, team, "agent", ["二店", "旗舰店"])
    assert shown["schema_version"] == schema.SCHEMA_VERSION
    # never synced yet, nothing queued, nobody followed
    assert (shown["last_sync"], shown["outbox"], shown["conflicts"], shown["claims"]) == (None, 0, 0, 0)
    code, text, err3 = kefu("team", "status")
    assert code == 0 and "Claims:   0" in text and "客服 agent" in text

    # the password is nowhere but the keyring: not in the SQLite file (and its WAL), the log, the output
    secret = PASSWORD.encode()
    data = stored_files(tmp_path)
    assert data and secret not in data and PASSWORD.encode("utf-16-le") not in data
    assert not any(PASSWORD in s for s in (out, err, err2, text, err3))

    code, out, _ = kefu("team", "disconnect")
    assert code == 0 and role in out
    assert_nothing_stored(tmp_path, file_keyring, user)
    assert kefu("team", "status")[1].startswith("未连接")


def test_settings_reset_keeps_the_team_connection_with_its_keyring_entry(pg_db, team, file_keyring, kefu, tmp_path):
    """The team settings and the keyring entry go together: a reset of all settings leaves both, a
    reset of a team setting by name is refused and points to `kefu team disconnect`."""
    code, _, err = kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, err
    before = team_settings(tmp_path)
    assert kefu("settings", "reset")[0] == 0
    assert team_settings(tmp_path) == before
    code, _, err = kefu("settings", "reset", "team.server")
    assert code != 0 and "kefu team disconnect" in err and len(err.strip().splitlines()) == 1
    assert team_settings(tmp_path) == before
    user = f"kefu_{team}_wang@{pg_db.server.host}:{pg_db.server.port}"
    assert file_keyring.get_password(connection.SERVICE, user) == PASSWORD


def test_a_supervisor_is_shown_as_one(pg_db, team, file_keyring, kefu):
    code, _, err = kefu("team", "connect", url(pg_db, team, "sup"), "--password-stdin", stdin=PASSWORD + "s")
    assert code == 0, err
    shown = json.loads(kefu("team", "status", "--json")[1])
    assert (shown["kind"], shown["shops"]) == ("supervisor", ["旗舰店"])


def test_wrong_password_stores_nothing(pg_db, team, file_keyring, kefu, tmp_path):
    user = f"kefu_{team}_wang@{pg_db.server.host}:{pg_db.server.port}"
    code, out, err = kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin="wrong-pw\n")
    assert code != 0 and out == ""
    assert err.splitlines()[-1].startswith("Error: ") and "wrong role or password" in err and "密码不对" in err
    assert "wrong-pw" not in err
    assert_nothing_stored(tmp_path, file_keyring, user)


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring, "unchosen plaintext"])
def test_without_a_real_keyring_connect_is_refused(pg_db, team, kefu, tmp_path, monkeypatch, backend):
    """No backend at all, or a plain-text file backend that nobody chose (keyring picks keyrings.alt
    by itself on a headless box): refused before the password is even read."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setattr(keyring.core, "load_config", lambda: None)
    if backend == "unchosen plaintext":
        chosen = keyrings.alt.file.PlaintextKeyring()
        chosen.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    else:
        chosen = backend()
    previous = keyring.get_keyring()
    keyring.set_keyring(chosen)
    try:
        code, out, err = kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin=PASSWORD)
    finally:
        keyring.set_keyring(previous)
    assert code != 0 and out == ""
    assert "no usable OS keyring" in err and "系统密码库" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "keyring").exists()
    assert not (tmp_path / "data" / "kefu.db").exists() or team_settings(tmp_path) == []


@pytest.mark.parametrize(("bad", "message"), [
    ("mysql://kefu_a_b@h/db", "must start with postgresql://"),
    ("postgresql://kefu_a_b:pw@127.0.0.1/db", "do not put the password in the URL"),
    ("postgresql://wang@127.0.0.1/db", "needs your login role"),
    ("postgresql://kefu_a_b@127.0.0.1/", "database name is missing"),
    ("postgresql://kefu_a_b@127.0.0.1/db?sslmode=maybe", "sslmode must be one of"),
    ("postgresql://kefu_a_b@127.0.0.1/db?password=x", "unsupported parameter"),
])
def test_bad_urls_are_one_line_errors(file_keyring, kefu, bad, message):
    code, out, err = kefu("team", "connect", bad, "--password-stdin", stdin=PASSWORD)
    assert code == 2 and out == "" and message in err and "/" in err and len(err.strip().splitlines()) == 1


def test_unreachable_server_and_old_schema(pg_db, pg_server, team, file_keyring, kefu, tmp_path):
    closed = pg.free_port()
    user = f"kefu_{team}_wang@{pg_db.server.host}"
    code, _, err = kefu("team", "connect", f"postgresql://kefu_{team}_wang@127.0.0.1:{closed}/x",
                        "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "cannot reach the team server" in err and "无法连接" in err
    # a server whose schema is older than this client: refused, nothing stored
    with pg_db.connect() as admin:
        admin.execute("DELETE FROM kefu_schema WHERE step = %s", [schema.SCHEMA_VERSION])
    code, _, err = kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "older than this client" in err
    with pg_db.connect() as admin:
        admin.execute("INSERT INTO kefu_schema (step, name, checksum) VALUES (%s, 'a', 'x'), (%s, 'b', 'y')",
                      [schema.SCHEMA_VERSION, schema.SCHEMA_VERSION + 1])
    code, _, err = kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "newer than this client" in err and "升级" in err
    assert_nothing_stored(tmp_path, file_keyring, f"{user}:{pg_db.server.port}")


def test_missing_packages_say_how_to_install(kefu, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_keyring(name, *args, **kwargs):
        if name == "keyring" or name.startswith("keyring."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_keyring)
    code, _, err = kefu("team", "connect", "postgresql://kefu_a_b@127.0.0.1/db", "--password-stdin", stdin="x")
    assert code == 1 and "pip install 'psycopg[binary]>=3.2' 'keyring>=24'" in err


def test_upload_sync_and_an_agents_first_sync(pg_db, team, file_keyring, kefu, tmp_path):
    """A supervisor uploads this PC's library (twice: the second adds nothing); an agent on another
    PC syncs and has it; status shows the last sync; disconnect keeps the replies as own copies."""
    data_sup = ["--data-dir", str(tmp_path / "sup")]
    code, _, err = kefu(*data_sup, "team", "connect", url(pg_db, team, "sup"), "--password-stdin",
                        stdin=PASSWORD + "s")
    assert code == 0, err
    code, out, err = kefu(*data_sup, "team", "upload", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["uploaded"] > 50 and first["pushed"] == first["uploaded"] and first["conflicts"] == 0
    code, out, err = kefu(*data_sup, "team", "upload", "--json")
    assert code == 0 and json.loads(out)["uploaded"] == 0 and json.loads(out)["pushed"] == 0
    with pg_db.connect() as admin:
        assert admin.execute("SELECT count(*) FROM shop_replies").fetchone()[0] == first["uploaded"]

    # the agent (another data folder): an agent may not upload
    code, _, err = kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin=PASSWORD)
    assert code == 0, err
    code, out, err = kefu("team", "upload")
    assert code == 0 and "only a supervisor uploads the shop library" in out, err
    # that upload synced: the agent's own default library is the same as the shop's, adopted, not duplicated
    assert f"received {first['uploaded']}" in out
    code, out, err = kefu("team", "sync", "--json")
    assert code == 0, err
    assert json.loads(out)["pulled"] == 0
    with sqlite3.connect(tmp_path / "data" / "kefu.db") as db:
        assert db.execute("SELECT count(*) FROM replies WHERE shop IS NOT NULL").fetchone()[0] == first["uploaded"]
    code, out, _ = kefu("team", "status", "--json")
    shown = json.loads(out)
    assert shown["last_sync"] and shown["outbox"] == 0
    code, out, _ = kefu("replies", "list", "--json")
    assert code == 0 and len(json.loads(out)) == first["uploaded"]
    code, out, _ = kefu("team", "conflicts")
    assert code == 0 and "no sync conflicts" in out
    code, out, _ = kefu("team", "disconnect")
    assert code == 0
    code, out, _ = kefu("replies", "list", "--json")
    rows = json.loads(out)
    assert len(rows) == first["uploaded"] and all(r["shop"] is None for r in rows)


def test_disconnect_with_unsent_changes_needs_force(pg_db, team, file_keyring, kefu, tmp_path):
    code, _, err = kefu("team", "connect", url(pg_db, team, "sup"), "--password-stdin", stdin=PASSWORD + "s")
    assert code == 0, err
    assert kefu("team", "sync")[0] == 0
    from assistant.core import replies
    from assistant.core.store import Store

    with Store(tmp_path / "data" / "kefu.db") as store:
        replies.share_reply(store, replies.list_replies(store)[0].id, "旗舰店")
    code, _, err = kefu("team", "disconnect")
    assert code == 1 and "kefu team sync" in err and "--force" in err
    assert team_settings(tmp_path)  # still connected
    code, _, err = kefu("team", "disconnect", "--force")
    assert code == 0, err
    assert team_settings(tmp_path) == []
    with sqlite3.connect(tmp_path / "data" / "kefu.db") as db:
        assert db.execute("SELECT count(*) FROM team_outbox").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM replies WHERE shop IS NOT NULL").fetchone()[0] == 0


def test_sync_without_a_connection_or_with_the_server_gone(pg_db, pg_server, team, file_keyring, kefu, tmp_path):
    code, _, err = kefu("team", "sync")
    assert code == 1 and "kefu team connect" in err and "未连接" in err
    code, _, err = kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin=PASSWORD)
    assert code == 0, err
    with pg_db.connect() as admin:  # the agent's sessions are cut and it cannot log in again
        admin.execute(f"ALTER ROLE kefu_{team}_wang NOLOGIN")
    code, _, err = kefu("team", "sync")
    assert code == 1 and ("refused the login" in err or "cannot reach" in err), err
    assert len(err.strip().splitlines()) == 1
    # status still tells what this PC knows: the server, the role, what waits to be sent
    code, out, err = kefu("team", "status")
    assert code == 1 and "Offline:" in out and "离线" in out and "Outbox:   0" in out and "旗舰店" in out
    code, out, _ = kefu("team", "status", "--json")
    shown = json.loads(out)
    assert code == 1 and shown["connected"] is False and shown["outbox"] == 0 and shown["offline"]


def test_an_existing_library_with_starred_buyers_uploads_once(pg_db, team, file_keyring, kefu, tmp_path):
    """Acceptance: an existing kefu.db (replies and starred buyers from before team mode) upgrades
    and uploads; a second upload changes no row count on the server."""
    from assistant.core import reminders
    from assistant.core.store import Store

    data = ["--data-dir", str(tmp_path / "old")]
    assert kefu(*data, "replies", "list")[0] == 0  # a library made before connecting
    with Store(tmp_path / "old" / "kefu.db") as store:
        for nick in ("老客户甲", "老客户乙", "老客户丙"):
            reminders.star(store, platform="taobao", nickname=nick, shop="旗舰店", marks=["高客单"])
        reminders.star(store, platform="jd", nickname="别的店", shop="没有这个店")  # not a team shop: stays local
    code, _, err = kefu(*data, "team", "connect", url(pg_db, team, "sup"), "--password-stdin", stdin=PASSWORD + "s")
    assert code == 0, err

    def counts():
        with pg_db.connect() as admin:
            return tuple(admin.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                         for t in ("shop_replies", "buyers", "buyer_marks", "claim_log", "kefu_ops"))

    code, out, err = kefu(*data, "team", "upload", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["buyers"] == 3 and first["uploaded"] > 50 and first["conflicts"] == 0
    after = counts()
    assert after[1:4] == (3, 3, 3)
    code, out, err = kefu(*data, "team", "upload", "--json")
    assert code == 0 and (json.loads(out)["buyers"], json.loads(out)["uploaded"]) == (0, 0)
    assert counts() == after


def test_buyers_show_who_follows_and_take_over_from_the_command_line(pg_db, team, file_keyring, kefu, tmp_path):
    sup = ["--data-dir", str(tmp_path / "sup")]
    assert kefu(*sup, "team", "connect", url(pg_db, team, "sup"), "--password-stdin", stdin=PASSWORD + "s")[0] == 0
    assert kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin=PASSWORD)[0] == 0
    code, _, err = kefu(*sup, "buyers", "star", "买家丁", "--platform", "taobao", "--shop", "旗舰店")
    assert code == 0, err
    assert kefu(*sup, "team", "sync")[0] == 0
    assert kefu("team", "sync")[0] == 0
    code, out, err = kefu("buyers", "show", "买家丁", "--platform", "taobao")
    assert code == 0 and "sup 跟进中" in out, err
    code, _, err = kefu("buyers", "outcome", "买家丁", "--platform", "taobao", "replied")
    code, _, err = kefu("buyers", "star", "买家丁", "--platform", "taobao", "--shop", "旗舰店")
    assert code == 2 and "sup 跟进中" in err and "take over" in err and len(err.strip().splitlines()) == 1
    code, out, err = kefu("buyers", "take-over", "买家丁", "--platform", "taobao", "--reason", "主管让我跟")
    assert code == 0 and "from sup" in out, err
    assert kefu("team", "sync")[0] == 0
    assert kefu(*sup, "team", "sync")[0] == 0
    code, out, _ = kefu(*sup, "buyers", "show", "买家丁", "--platform", "taobao")
    assert "wang 跟进中" in out
    code, out, _ = kefu("team", "status", "--json")
    assert json.loads(out)["claims"] == 1


def test_pool_pick_up_and_a_shop_promotion_from_the_command_line(pg_db, team, file_keyring, kefu, tmp_path):
    sup = ["--data-dir", str(tmp_path / "sup")]
    assert kefu(*sup, "team", "connect", url(pg_db, team, "sup"), "--password-stdin", stdin=PASSWORD + "s")[0] == 0
    assert kefu("team", "connect", url(pg_db, team), "--password-stdin", stdin=PASSWORD)[0] == 0
    assert kefu(*sup, "buyers", "star", "买家戊", "--platform", "taobao", "--shop", "旗舰店")[0] == 0
    code, out, err = kefu(*sup, "team", "hand-over")  # to the pool
    assert code == 0 and "1" in out, err
    code, out, err = kefu("team", "pick-up", "--json")
    assert code == 0, err
    assert json.loads(out)["picked_up"] == 1
    code, out, _ = kefu("buyers", "show", "买家戊", "--platform", "taobao", "--shop", "旗舰店", "--json")
    assert json.loads(out)["holder"] == f"kefu_{team}_wang"
    code, out, _ = kefu("due", "--within", "1d", "--json")
    assert code == 0 and [r["nickname"] for r in json.loads(out)] == ["买家戊"]

    # an agent may not add the shop's promotion; the supervisor may, and the agent receives it
    code, _, err = kefu("promo", "add", "--name", "双十二", "--start", "2099-12-12 00:00", "--shop", "旗舰店")
    assert code == 2 and "只有主管" in err
    code, out, err = kefu(*sup, "promo", "add", "--name", "双十二", "--start", "2099-12-12 00:00", "--shop", "旗舰店")
    assert code == 0 and "sent to the team" in out, err
    assert kefu(*sup, "team", "sync")[0] == 0
    assert kefu("team", "sync")[0] == 0
    code, out, _ = kefu("promo", "list", "--json")
    promos = json.loads(out)
    assert [p["name"] for p in promos] == ["双十二"] and promos[0]["wave_total"] == 1
