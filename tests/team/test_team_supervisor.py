"""The supervisor's commands against the real server, run as the CLI runs them (a file keyring, the
role's own login): `kefu team holders / report / reassign / history / revert / disable /
reset-password`. Every one refuses an agent role with one line and exit code 2; what they show or
change is checked against the server's tables, and a reassignment reaches the agents' panels by
the normal sync."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant.core import customers, reminders
from tests.helpers import pg

pg.require_psycopg()

from assistant import cli  # noqa: E402
from assistant.team import schema  # noqa: E402
from tests.helpers.team import Team, close_panels, panel  # noqa: E402

ZONE = "Asia/Shanghai"  # the report shows server times in the agent's zone


@pytest.fixture
def team(pg_db):
    t = Team(pg_db)
    with t.admin() as admin:
        for name, display in (("sup", "主管"), ("wang", "王五"), ("li", "李四"), ("zhao", "赵六")):
            admin.execute("UPDATE agents SET display_name = %s WHERE role = %s", [display, role(t, name)])
    try:
        yield t
    finally:
        close_panels()
        with pg_db.connect() as admin:
            pg_db.roles.extend(schema.team_roles(admin))


@pytest.fixture
def kefu(tmp_path, capsys, monkeypatch, pg_db, team, file_keyring):
    """kefu(*args, who="sup") runs the CLI in `who`'s own data folder, connected as that role."""
    connected: set[str] = set()

    def run(*args: str, who: str = "sup", stdin: str | None = None) -> tuple[int, str, str]:
        data = ["--data-dir", str(tmp_path / f"cli-{who}")]
        if who not in connected:
            connected.add(who)
            url = f"postgresql://{role(team, who)}@{pg_db.server.host}:{pg_db.server.port}/{pg_db.name}"
            monkeypatch.setattr("sys.stdin", io.StringIO(team.passwords[who] + "\n"))
            assert cli.main([*data, "team", "connect", url, "--password-stdin"]) == 0
            assert cli.main([*data, "settings", "set", "reminders.agent_tz", ZONE]) == 0
            capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main([*data, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def role(team: Team, name: str) -> str:
    return schema.agent_role(team.id, name)


def later(hours: float = 8) -> datetime:
    return datetime.now(ZoneInfo("UTC")) + timedelta(hours=hours)


def buyer(team: Team, nickname: str, shop: str | None = None, starred: bool = False) -> str:
    with team.admin() as admin:
        return str(admin.execute("INSERT INTO buyers (shop, platform, nickname, starred) VALUES (%s, 'taobao', %s, %s) "
                                 "RETURNING id", [shop or team.shop, nickname, starred]).fetchone()[0])


def today() -> str:
    return datetime.now(ZoneInfo(ZONE)).date().isoformat()


def test_an_agent_role_is_refused_every_supervisor_command(team, kefu):
    b = buyer(team, "买家甲")
    with team.login("sup") as sup:
        rid = sup.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, '催付', '亲') RETURNING id::text",
                          [team.shop]).fetchone()[0]
    for args in (["holders"], ["holders", "--json"], ["report"], ["reassign", "买家甲", "--to", "li"],
                 ["history"], ["revert", rid, "1"], ["disable", "li"],
                 ["reset-password", "li", "--password-stdin"]):
        code, out, err = kefu("team", *args, who="wang", stdin="a-new-password-123\n")
        assert code == 2 and out == "", (args, out, err)
        assert len(err.strip().splitlines()) == 1 and "supervisor" in err and "主管" in err, (args, err)
    with team.admin() as admin:  # nothing changed
        assert admin.execute("SELECT holder FROM buyers WHERE id = %s", [b]).fetchone() == (None,)
        assert admin.execute("SELECT bool_and(active) FROM agents").fetchone() == (True,)
        assert admin.execute("SELECT count(*) FROM claim_log").fetchone() == (0,)
        assert admin.execute("SELECT count(*) FROM shop_reply_history").fetchone() == (1,)
    with team.login("li") as li:  # the password was not reset
        assert li.execute("SELECT current_user").fetchone() == (role(team, "li"),)


def test_holders_grouped_by_agent_with_the_pool(tmp_path, team, kefu):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    a = reminders.star(wang.store, platform="taobao", nickname="买家甲")
    reminders.star(wang.store, platform="taobao", nickname="买家乙")
    reminders.record_chase(wang.store, a.id, None, angle="price")
    reminders.record_chase(wang.store, a.id, None, angle="price")
    reminders.star(li.store, platform="taobao", nickname="买家丙")
    wang.sync()
    li.sync()
    buyer(team, "买家丁", starred=True)  # starred, nobody holds it: the pool
    buyer(team, "买家戊")  # neither held nor starred: not listed
    buyer(team, "别店买家", shop=team.shop2, starred=True)  # a shop sup does not supervise

    code, out, err = kefu("team", "holders", "--json", "-v")
    assert code == 0, err
    shown = json.loads(out)
    groups = {g["role"]: g for g in shown["agents"]}
    assert set(groups) == {role(team, "wang"), role(team, "li")}
    assert groups[role(team, "wang")]["display_name"] == "王五"
    mine = {b["nickname"]: b for b in groups[role(team, "wang")]["buyers"]}
    assert set(mine) == {"买家甲", "买家乙"}
    assert mine["买家甲"]["chases"] == 2 and mine["买家乙"]["chases"] == 0
    assert mine["买家甲"]["last_chase"].endswith("+08:00") and mine["买家乙"]["last_chase"] is None
    assert mine["买家甲"]["shop"] == "旗舰店" and mine["买家甲"]["platform"] == "taobao"
    assert datetime.fromisoformat(mine["买家甲"]["held_until"]) > datetime.now(ZoneInfo("UTC"))
    assert [b["nickname"] for b in groups[role(team, "li")]["buyers"]] == ["买家丙"]
    assert [b["nickname"] for b in shown["pool"]] == ["买家丁"]
    assert "买家" not in err  # -v logs to stderr: never a nickname

    code, out, _ = kefu("team", "holders")
    assert code == 0 and "王五" in out and "李四" in out and "待接 pool" in out and "买家丁" in out
    code, out, _ = kefu("team", "holders", "--agent", "李四", "--json")
    shown = json.loads(out)
    assert [g["role"] for g in shown["agents"]] == [role(team, "li")] and shown["pool"] == []
    code, _, err = kefu("team", "holders", "--agent", "nobody")
    assert code == 2 and "no agent nobody" in err


def test_reassign_moves_the_holder_logs_it_and_reaches_the_panels(tmp_path, team, kefu):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    reminders.star(wang.store, platform="taobao", nickname="买家甲")
    wang.sync()
    li.sync()
    code, out, err = kefu("team", "reassign", "买家甲", "--to", "li", "-v")
    assert code == 0, err
    assert "买家甲" in out and "王五 → 李四" in out and "买家" not in err
    with team.admin() as admin:
        assert admin.execute("SELECT holder FROM buyers WHERE nickname = '买家甲'").fetchone() == (role(team, "li"),)
        assert admin.execute("SELECT kind, from_role, to_role, by_role FROM claim_log ORDER BY id DESC LIMIT 1"
                             ).fetchone() == ("reassign", role(team, "wang"), role(team, "li"), role(team, "sup"))
    li.sync()
    wang.sync()
    assert customers.find_buyer(li.store, "买家甲", "taobao").holder == role(team, "li")
    theirs = customers.find_buyer(wang.store, "买家甲", "taobao")
    assert theirs.holder_name == "李四" and customers.held_by_other(wang.store, theirs) is not None

    code, out, err = kefu("team", "reassign", "买家甲", "--to", "wang", "--platform", "淘宝", "--shop", "旗舰店", "--json")
    assert code == 0, err
    assert (json.loads(out)["from"], json.loads(out)["to"]) == (role(team, "li"), role(team, "wang"))
    # zhao serves another shop; an unknown buyer; an unknown agent
    code, _, err = kefu("team", "reassign", "买家甲", "--to", "zhao")
    assert code == 2 and "not an active agent of the shop" in err and "在职" in err
    code, _, err = kefu("team", "reassign", "没有的人", "--to", "li")
    assert code == 4 and "no such buyer" in err
    code, _, err = kefu("team", "reassign", "买家甲", "--to", "nobody")
    assert code == 2 and "no agent nobody" in err
    with team.admin() as admin:
        assert admin.execute("SELECT count(*) FROM claim_log WHERE kind = 'reassign'").fetchone() == (2,)


def test_history_newest_first_and_revert_restores_text_as_a_new_history_row(tmp_path, team, kefu):
    with team.login("sup") as sup:
        rid = sup.execute("INSERT INTO shop_replies (shop, title, body, code) VALUES (%s, '催付', '第一版正文', 'cf') "
                          "RETURNING id::text", [team.shop]).fetchone()[0]
        sup.execute("SELECT update_shop_reply(%s, 1, '', '催付提醒', '第二版正文', 'cf2')", [rid])
        sup.execute("SELECT delete_shop_reply(%s, 2)", [rid])
        other = sup.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, '感谢', '谢谢亲') "
                            "RETURNING id::text", [team.shop]).fetchone()[0]

    code, out, err = kefu("team", "history", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["reply"], r["version"], r["action"]) for r in rows] == [
        (other, 1, "created"), (rid, 3, "deleted"), (rid, 2, "edited"), (rid, 1, "created")]
    assert rows[2]["before"]["title"] == "催付" and rows[2]["after"]["title"] == "催付提醒"
    assert rows[2]["changed_by"] == role(team, "sup") and rows[2]["changed_by_name"] == "主管"
    assert rows[2]["changed_at"].endswith("+08:00")
    code, out, _ = kefu("team", "history", "催付", "--json")  # any title it ever had
    assert [r["version"] for r in json.loads(out)] == [3, 2, 1]
    code, out, _ = kefu("team", "history", rid)
    assert code == 0 and "催付 → 催付提醒" in out and "第一版正文 → 第二版正文" in out and "删除 deleted" in out

    code, out, err = kefu("team", "revert", rid[:8], "1")
    assert code == 0, err
    assert "version 1" in out and "now version 4" in out and "undeleted" in out
    with team.admin() as admin:
        assert admin.execute("SELECT title, body, code, version, deleted, updated_by FROM shop_replies WHERE id = %s",
                             [rid]).fetchone() == ("催付", "第一版正文", "cf", 4, False, role(team, "sup"))
        assert admin.execute("SELECT count(*) FROM shop_reply_history WHERE reply = %s", [rid]).fetchone() == (4,)
    newest = json.loads(kefu("team", "history", rid, "--json")[1])[0]
    assert (newest["version"], newest["action"], newest["after"]["body"]) == (4, "restored", "第一版正文")

    # an agent's panel gets the restored reply by the normal sync
    wang = panel(tmp_path, team, "wang")
    wang.sync()
    row = wang.store.query("SELECT title, body, shop_version FROM replies WHERE uuid = ?", (rid,))[0]
    assert (row["title"], row["body"], row["shop_version"]) == ("催付", "第一版正文", 4)

    code, out, _ = kefu("team", "revert", rid, "4", "--json")
    assert code == 0 and json.loads(out)["changed"] is False  # already that text: no new row
    code, _, err = kefu("team", "revert", rid, "9")
    assert code == 4 and "no version 9" in err and "1, 2, 3, 4" in err
    code, _, err = kefu("team", "revert", "not-an-id", "1")
    assert code == 2


def test_report_counts_chases_collisions_and_take_overs_per_agent(team, kefu):
    b1, b2 = buyer(team, "买家甲"), buyer(team, "买家乙")
    with team.login("wang") as wang, team.login("li") as li:
        for b in (b1, b2):
            wang.execute("SELECT * FROM kefu_claim(%s, %s)", [b, later()])
        for b in (b1, b1, b2):
            wang.execute("INSERT INTO chases (buyer, angle) VALUES (%s, 'pay')", [b])
        li.execute("SELECT * FROM kefu_take_over(%s, %s, '王五下班')", [b1, later()])
        li.execute("INSERT INTO chases (buyer, angle) VALUES (%s, 'pay')", [b1])
        assert li.execute("INSERT INTO chases (buyer, angle) VALUES (%s, 'pay') RETURNING collision",
                          [b2]).fetchone() == (True,)  # wang holds b2
    with team.admin() as admin:
        admin.execute("UPDATE buyers SET state = 'paid' WHERE id = %s", [b1])
    assert kefu("team", "reassign", "买家乙", "--to", "li")[0] == 0

    code, out, err = kefu("team", "report", "--date", today(), "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["zone"] == ZONE and shown["start"].endswith("T00:00:00+08:00")
    got = {r["role"]: r for r in shown["agents"]}
    assert set(got) == {role(team, "wang"), role(team, "li")}
    keys = ("chases", "buyers", "collisions", "collided", "claims", "received", "given", "released")
    assert {k: got[role(team, "wang")][k] for k in keys} == {
        "chases": 3, "buyers": 2, "collisions": 0, "collided": 1, "claims": 2, "received": 0, "given": 2,
        "released": 0}
    assert {k: got[role(team, "li")][k] for k in keys} == {
        "chases": 2, "buyers": 2, "collisions": 1, "collided": 0, "claims": 0, "received": 2, "given": 0,
        "released": 0}
    assert got[role(team, "wang")]["outcomes"] == {"paid": 1, "following": 1}
    assert got[role(team, "wang")]["display_name"] == "王五"
    assert got[role(team, "wang")]["first_chase"].endswith("+08:00")
    assert shown["agents"][0]["role"] == role(team, "wang")  # busiest first

    # the default is today; a range; a day without anything
    assert json.loads(kefu("team", "report", "--json")[1])["agents"] == shown["agents"]
    day = datetime.fromisoformat(today())
    ranged = json.loads(kefu("team", "report", "--from", (day - timedelta(days=3)).date().isoformat(),
                             "--to", today(), "--json")[1])
    assert ranged["agents"] == shown["agents"]
    yesterday = (day - timedelta(days=1)).date().isoformat()
    assert json.loads(kefu("team", "report", "--date", yesterday, "--json")[1])["agents"] == []
    code, out, _ = kefu("team", "report")
    assert code == 0 and "王五" in out and "已付款 1" in out
    code, _, err = kefu("team", "report", "--date", "2024-13-01")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = kefu("team", "report", "--from", today(), "--to", yesterday)
    assert code == 2 and "before --from" in err


def test_disable_returns_buyers_to_the_pool_and_reset_password_needs_createrole(team, kefu):
    b1, b2 = buyer(team, "买家甲"), buyer(team, "买家乙")
    with team.login("wang") as wang:
        for b in (b1, b2):
            wang.execute("SELECT * FROM kefu_claim(%s, %s)", [b, later()])
    code, out, err = kefu("team", "disable", "wang", "--json")
    assert code == 0, err
    assert json.loads(out) == {"role": role(team, "wang"), "was_active": True, "released": 2}
    with team.admin() as admin:
        assert admin.execute("SELECT count(*) FROM buyers WHERE holder IS NOT NULL").fetchone() == (0,)
        assert admin.execute("SELECT active FROM agents WHERE role = %s", [role(team, "wang")]).fetchone() == (False,)
        assert admin.execute("SELECT count(*) FROM claim_log WHERE kind = 'release' AND from_role = %s",
                             [role(team, "wang")]).fetchone() == (2,)
    with team.login("wang") as wang:  # it may still log in (an admin's disable-agent stops that) but sees nothing
        assert wang.execute("SELECT count(*) FROM shops").fetchone() == (0,)
    code, out, _ = kefu("team", "disable", "wang")
    assert code == 0 and "already disabled" in out
    code, _, err = kefu("team", "disable", "sup")
    assert code == 2 and "your own role" in err

    new = "Li-new-password-42"
    code, out, err = kefu("team", "reset-password", "li", "--password-stdin", stdin=new + "\n")
    assert code == 2 and out == "" and "CREATEROLE" in err
    assert f"kefu team set-password ADMIN_URL --team {team.id} li" in err and len(err.strip().splitlines()) == 1
    with team.login("li") as li:  # unchanged
        assert li.execute("SELECT 1").fetchone() == (1,)
    with team.admin() as admin:
        admin.execute(f"ALTER ROLE {role(team, 'sup')} CREATEROLE")
    code, out, err = kefu("team", "reset-password", "李四", "--password-stdin", stdin=new + "\n")
    assert code == 0, err
    assert role(team, "li") in out and new not in out + err
    team.passwords["li"] = new
    with team.login("li") as li:
        assert li.execute("SELECT current_user").fetchone() == (role(team, "li"),)
