"""The supervisor's 团队管理 dialog against the real server, through a running TeamSync (the
supervisor's own login, every query on the sync thread): 停用客服 after a confirmation naming the
agent (their buyers return to the pool), 重置密码 typed twice (without CREATEROLE: the admin's
command instead, no password asked), and the holders view refreshing by itself while open, keeping
the selection."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.helpers import pg  # noqa: E402

pg.require_psycopg()

from assistant.core import settings  # noqa: E402
from assistant.core.store import Store  # noqa: E402
from assistant.services import qtfix  # noqa: E402
from assistant.services.teamsync import TeamSync  # noqa: E402
from assistant.services.worker import StoreWorker  # noqa: E402
from assistant.team import schema, sync  # noqa: E402
from assistant.ui.team.supervisor_dialog import PasswordDialog, SupervisorDialog  # noqa: E402
from assistant.ui.widgets import i18n  # noqa: E402
from tests.helpers.team import Team, close_panels  # noqa: E402

qtfix.guard()

TZ = timezone(timedelta(hours=8))
SHOTS = os.environ.get("KEFU_SHOT_DIR")


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


@pytest.fixture(autouse=True)
def _styled_and_chinese(qapp):
    from assistant.ui.widgets import style

    style.apply(qapp)
    yield
    if i18n.current() != "zh_CN":
        i18n.install("zh_CN")


def role(team: Team, name: str) -> str:
    return schema.agent_role(team.id, name)


@pytest.fixture
def live(qtbot, tmp_path, team):
    """The supervisor's panel side: a store joined as sup, the store worker and a running TeamSync."""
    path = tmp_path / "sup.db"
    with Store(path) as store:
        settings.set(store, "team.server", "postgresql://127.0.0.1:1/x?sslmode=prefer")
        settings.set(store, "team.role", role(team, "sup"))
    worker = StoreWorker(path)
    worker.start()
    service = TeamSync(worker, path, lambda store: sync.SyncClient(store, lambda: team.login("sup")), poll_s=3600)
    states: list[str] = []
    service.state_changed.connect(lambda s, _d: states.append(s))
    service.start()
    qtbot.waitUntil(lambda: bool(states) and states[-1] == "online", timeout=10_000)
    yield service
    service.stop()
    worker.stop()


def later(hours: float = 8) -> datetime:
    return datetime.now(ZoneInfo("UTC")) + timedelta(hours=hours)


def buyer(team: Team, nickname: str, holder: str | None = None) -> str:
    with team.admin() as admin:
        bid = str(admin.execute("INSERT INTO buyers (shop, platform, nickname, starred) VALUES (%s, 'taobao', %s, true) "
                                "RETURNING id", [team.shop, nickname]).fetchone()[0])
    if holder is not None:
        with team.login(holder) as conn:
            conn.execute("SELECT * FROM kefu_claim(%s, %s)", [bid, later()])
    return bid


def open_dialog(qtbot, service) -> SupervisorDialog:
    dialog = SupervisorDialog(service, TZ)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.agents_table.rowCount() > 0, timeout=10_000)
    return dialog


def agent_rows(dialog: SupervisorDialog) -> list[list[str]]:
    t = dialog.agents_table
    return [[t.item(r, c).text() for c in range(5)] for r in range(t.rowCount())]


def select_agent(dialog: SupervisorDialog, label: str) -> None:
    for n, agent in enumerate(dialog.agent_rows):
        if agent.label == label:
            dialog.agents_table.selectRow(n)
            return
    raise AssertionError(label)


def tree_groups(dialog: SupervisorDialog) -> dict[str, list[str]]:
    out = {}
    for i in range(dialog.tree.topLevelItemCount()):
        top = dialog.tree.topLevelItem(i)
        out[top.text(0)] = [top.child(j).text(0) for j in range(top.childCount())]
    return out


def shot(widget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def test_disable_an_agent_after_a_confirmation_naming_them(qtbot, team, live):
    buyer(team, "买家甲", "wang")
    buyer(team, "买家乙", "wang")
    buyer(team, "买家丙", "li")
    dialog = open_dialog(qtbot, live)
    assert dialog.tabs.tabText(3) == "客服账号"
    dialog.tabs.setCurrentIndex(3)
    assert agent_rows(dialog) == [["主管", "sup", "主管", "在职", "0"], ["李四", "li", "客服", "在职", "1"],
                                  ["王五", "wang", "客服", "在职", "2"], ["赵六", "zhao", "客服", "在职", "0"]]
    assert not dialog.disable_button.isEnabled() and not dialog.reset_button.isEnabled()  # nothing selected
    select_agent(dialog, "主管")
    assert not dialog.disable_button.isEnabled()  # not yourself
    select_agent(dialog, "王五")
    assert dialog.disable_button.isEnabled()
    shot(dialog, "supervisor-agents-zh")

    asked: list[str] = []
    dialog.confirm_disable = lambda text: asked.append(text) or False  # cancelled: nothing changes
    dialog.disable_button.click()
    assert asked == [f"停用客服 王五（{role(team, 'wang')}）？对方将不再看到任何店铺，正在跟进的 2 位买家回到待接池。"]
    with team.admin() as admin:
        assert admin.execute("SELECT active FROM agents WHERE role = %s", [role(team, "wang")]).fetchone() == (True,)

    dialog.confirm_disable = lambda text: True
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        dialog.disable_button.click()
    assert dialog.status.text() == "已停用 王五：2 位买家回到待接池"
    qtbot.waitUntil(lambda: ["王五", "wang", "客服", "已停用", "0"] in agent_rows(dialog), timeout=5000)
    with team.admin() as admin:
        assert admin.execute("SELECT active FROM agents WHERE role = %s", [role(team, "wang")]).fetchone() == (False,)
        assert admin.execute("SELECT count(*) FROM buyers WHERE holder = %s", [role(team, "wang")]).fetchone() == (0,)
    groups = tree_groups(dialog)
    assert sorted(groups["待接（2 位）"]) == ["买家乙", "买家甲"] and groups["李四（1 位）"] == ["买家丙"]
    select_agent(dialog, "王五")
    assert not dialog.disable_button.isEnabled()  # already disabled
    shot(dialog, "supervisor-disabled-zh")
    assert not dialog.error.isVisible()


def test_reset_password_needs_createrole_then_is_typed_twice(qtbot, team, live, monkeypatch):
    dialog = open_dialog(qtbot, live)
    dialog.tabs.setCurrentIndex(3)
    select_agent(dialog, "李四")
    asked: list = []
    dialog.ask_password = lambda agent: asked.append(agent) or "never-used-1"
    dialog.reset_button.click()
    qtbot.waitUntil(dialog.error.isVisible, timeout=5000)
    assert dialog.error.text() == (f"重置密码需要 PostgreSQL 的 CREATEROLE 权限，主管账号 {role(team, 'sup')} 没有：请管理员运行 "
                                   f"kefu team set-password ADMIN_URL --team {team.id} li")
    assert asked == []  # refused before a password is asked
    with team.login("li") as li:  # unchanged
        assert li.execute("SELECT 1").fetchone() == (1,)
    shot(dialog, "supervisor-reset-refused-zh")

    with team.admin() as admin:
        admin.execute(f"ALTER ROLE {role(team, 'sup')} CREATEROLE")
    new = "Li-new-password-42"
    dialog.ask_password = lambda agent: asked.append(agent.role) or new
    with qtbot.waitSignal(dialog.changed, timeout=5000):
        dialog.reset_button.click()
    assert asked == [role(team, "li")] and not dialog.error.isVisible()
    assert dialog.status.text() == "已重置 李四 的密码：对方在设置的“团队”页重新连接时使用新密码"
    team.passwords["li"] = new
    with team.login("li") as li:
        assert li.execute("SELECT current_user").fetchone() == (role(team, "li"),)
    assert new not in dialog.status.text()


def test_the_password_dialog_checks_both_entries(qtbot, team, live):
    from assistant.team import supervisor

    agent = supervisor.Agent(role(team, "li"), "李四", True, False)
    box = PasswordDialog(agent)
    qtbot.addWidget(box)
    box.first.setText("Long-enough-1")
    box.second.setText("Long-enough-2")
    box.check()
    assert box.error.text() == "两次输入的密码不一致" and box.result() != PasswordDialog.DialogCode.Accepted
    box.show()
    shot(box, "supervisor-password-zh")
    box.first.setText("short")
    box.second.setText("short")
    box.check()
    assert box.error.text() == "密码至少需要 8 个字符，未更改"
    box.first.setText("Long-enough-1")
    box.second.setText("Long-enough-1")
    box.check()
    assert box.result() == PasswordDialog.DialogCode.Accepted and box.password() == "Long-enough-1"


def test_holders_refresh_by_themselves_keeping_the_selection(qtbot, team, live, monkeypatch):
    monkeypatch.setattr(SupervisorDialog, "REFRESH_MS", 300)
    buyer(team, "买家甲", "wang")
    kept = buyer(team, "买家乙", "li")
    dialog = open_dialog(qtbot, live)
    qtbot.waitUntil(lambda: "王五（1 位）" in tree_groups(dialog), timeout=5000)
    top = next(dialog.tree.topLevelItem(i) for i in range(dialog.tree.topLevelItemCount())
               if dialog.tree.topLevelItem(i).text(0) == "李四（1 位）")
    dialog.tree.setCurrentItem(top.child(0))
    assert dialog.selected_buyer().id == kept
    # another agent claims a pool buyer and wang hands his to the pool: nobody clicks 刷新
    buyer(team, "买家丙", "li")
    with team.login("wang") as wang:
        wang.execute("SELECT kefu_release(id) FROM buyers WHERE nickname = '买家甲'")
    qtbot.waitUntil(lambda: tree_groups(dialog).get("李四（2 位）") is not None
                    and tree_groups(dialog).get("待接（1 位）") == ["买家甲"], timeout=5000)
    assert dialog.selected_buyer() is not None and dialog.selected_buyer().id == kept
    assert not dialog.error.isVisible()
    # only while shown: a hidden dialog asks the server nothing
    dialog.hide()
    assert not dialog.refresh_timer.isActive()
    calls: list = []
    real = live.call
    live.call = lambda *a: calls.append(a) or real(*a)
    qtbot.wait(800)
    assert calls == []


def test_english_agents_tab(qtbot, team, live):
    buyer(team, "买家甲", "wang")
    i18n.install("en")
    dialog = open_dialog(qtbot, live)
    dialog.tabs.setCurrentIndex(3)
    assert dialog.tabs.tabText(3) == "Agents"
    assert [dialog.agents_table.horizontalHeaderItem(c).text() for c in range(5)] == [
        "Agent", "Account", "Role", "Status", "Following"]
    assert agent_rows(dialog)[2] == ["王五", "wang", "Agent", "Active", "1"]
    assert (dialog.disable_button.text(), dialog.reset_button.text()) == ("Disable agent…", "Reset password…")
    select_agent(dialog, "王五")
    shot(dialog, "supervisor-agents-en")
