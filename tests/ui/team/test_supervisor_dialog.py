"""The supervisor's 团队管理 dialog: the panel's menu item (supervisors with a team server only), the
three tabs filled from supervisor.* results, reassign and revert calling the right functions and
refreshing, and errors as one line. No server: a TeamSync stand-in runs each call's function later
on the GUI thread, against a dummy connection, with the supervisor functions replaced."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QTimer

from assistant.errors import ValidationError
from assistant.team import supervisor
from assistant.team.connection import TeamError
from assistant.ui.team.supervisor_dialog import POOL, SupervisorDialog
from assistant.ui.widgets import i18n
from tests.ui.team.teamhelp import join_team

TZ = timezone(timedelta(hours=8))
CONN = object()  # what fn(conn) receives: the replaced supervisor functions never use it
ME = supervisor.Me("kefu_bear_boss", "bear")
AGENTS = {
    "kefu_bear_boss": supervisor.Agent("kefu_bear_boss", "老板", True, True),
    "kefu_bear_wang": supervisor.Agent("kefu_bear_wang", "王五", True, False),
    "kefu_bear_li": supervisor.Agent("kefu_bear_li", "李四", True, False),
    "kefu_bear_gone": supervisor.Agent("kefu_bear_gone", "离职", False, False),
}
UNTIL = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)  # 22:30 in UTC+8


def buyer(nick: str, holder: str | None, chases: int = 1, shop: str = "小熊旗舰店") -> supervisor.HeldBuyer:
    return supervisor.HeldBuyer(f"id-{nick}", nick, "taobao", shop, "following", holder is None,
                                holder, UNTIL if holder else None, None, chases)


HOLDERS = [buyer("小明", "kefu_bear_wang", 2), buyer("阿花", "kefu_bear_wang"), buyer("大熊", "kefu_bear_li", 3),
           buyer("没人管", None, 0)]
REPORT = [supervisor.AgentReport("kefu_bear_wang", chases=7, buyers=5, collisions=1, received=2),
          supervisor.AgentReport("kefu_bear_li", chases=2, buyers=2)]
HISTORY = [
    supervisor.HistoryRow(2, "r-1", "小熊旗舰店", "kefu_bear_boss", UNTIL,
                          {"title": "欢迎语", "body": "亲，在的", "version": 1},
                          {"title": "欢迎语", "body": "亲，欢迎光临", "version": 2}),
    supervisor.HistoryRow(1, "r-1", "小熊旗舰店", "kefu_bear_boss", UNTIL - timedelta(hours=1), None,
                          {"title": "欢迎语", "body": "亲，在的", "version": 1}),
]


class FakeTeam:
    """TeamSync.call's contract: fn(conn) off the caller's stack, the answer by on_done or on_error."""

    def __init__(self) -> None:
        self.calls = 0

    def call(self, fn, on_done, on_error) -> None:
        self.calls += 1

        def run() -> None:
            try:
                value = fn(CONN)
            except Exception as exc:  # noqa: BLE001 - handed over as TeamSync does
                on_error(exc)
                return
            on_done(value)

        QTimer.singleShot(0, run)


@pytest.fixture
def server(monkeypatch):
    """The supervisor functions the dialog calls, replaced; `log` records each call's arguments."""
    log: list[tuple] = []
    state = {"holders": list(HOLDERS), "fail": None}

    def check(conn):
        assert conn is CONN
        if state["fail"] is not None:
            raise state["fail"]
        return ME

    def reassign(conn, me, nickname, to, platform=None, shop=None):
        assert conn is CONN and me == ME
        log.append(("reassign", nickname, to, platform, shop))
        state["holders"] = [buyer(b.nickname, to, b.chases) if b.nickname == nickname else b
                            for b in state["holders"]]
        return supervisor.Reassigned(f"id-{nickname}", nickname, platform, shop, None, to, UNTIL)

    def revert(conn, reply, version):
        log.append(("revert", reply, version))
        return supervisor.Reverted(reply, version, 3, True, False, "欢迎语")

    def report(conn, start, end):
        log.append(("report", start, end))
        return list(REPORT)

    def holders(conn):
        log.append(("holders",))
        return list(state["holders"])

    def history(conn, reply=None, limit=50):
        log.append(("history",))
        return list(HISTORY)

    monkeypatch.setattr(supervisor, "require_supervisor", check)
    monkeypatch.setattr(supervisor, "agents", lambda conn: dict(AGENTS))
    monkeypatch.setattr(supervisor, "holders", holders)
    monkeypatch.setattr(supervisor, "report", report)
    monkeypatch.setattr(supervisor, "history", history)
    monkeypatch.setattr(supervisor, "reassign", reassign)
    monkeypatch.setattr(supervisor, "revert", revert)
    return type("Server", (), {"log": log, "state": state})


def open_dialog(qtbot, team=None) -> SupervisorDialog:
    dialog = SupervisorDialog(team or FakeTeam(), TZ, today=date(2026, 12, 3))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def loaded(dialog: SupervisorDialog) -> bool:
    return dialog.tree.topLevelItemCount() > 0 and dialog.report_table.rowCount() > 0 \
        and dialog.history_table.rowCount() > 0


def tree_rows(dialog: SupervisorDialog) -> list[tuple[str, list[list[str]]]]:
    out = []
    for i in range(dialog.tree.topLevelItemCount()):
        top = dialog.tree.topLevelItem(i)
        out.append((top.text(0), [[top.child(j).text(c) for c in range(4)] for j in range(top.childCount())]))
    return out


def select_buyer(dialog: SupervisorDialog, nickname: str) -> None:
    for i in range(dialog.tree.topLevelItemCount()):
        top = dialog.tree.topLevelItem(i)
        for j in range(top.childCount()):
            if top.child(j).text(0) == nickname:
                dialog.tree.setCurrentItem(top.child(j))
                return
    raise AssertionError(nickname)


def test_holders_are_grouped_by_agent_with_the_pool_last(qtbot, server):
    dialog = open_dialog(qtbot)
    qtbot.waitUntil(lambda: loaded(dialog))
    assert not dialog.isModal()
    assert dialog.windowTitle() == "团队管理"
    assert [dialog.tabs.tabText(n) for n in range(3)] == ["跟进情况", "今日", "话术变更"]
    assert tree_rows(dialog) == [
        ("李四（1 位）", [["大熊", "taobao / 小熊旗舰店", "12-03 22:30", "3"]]),
        ("王五（2 位）", [["小明", "taobao / 小熊旗舰店", "12-03 22:30", "2"],
                        ["阿花", "taobao / 小熊旗舰店", "12-03 22:30", "1"]]),
        ("待接（1 位）", [["没人管", "taobao / 小熊旗舰店", "-", "0"]]),
    ]
    assert [role for role, _ in dialog.groups()] == ["kefu_bear_li", "kefu_bear_wang", POOL]
    assert dialog.holders_count.text() == "跟进中 3 位 · 待接 1 位"
    assert not dialog.error.isVisible()


def test_reassign_offers_active_agents_and_refreshes(qtbot, server):
    dialog = open_dialog(qtbot)
    qtbot.waitUntil(lambda: loaded(dialog))
    assert not dialog.reassign_button.isEnabled()  # nothing selected
    select_buyer(dialog, "小明")
    assert dialog.reassign_button.isEnabled()
    dialog._fill_reassign_menu()  # noqa: SLF001 - what the button's menu shows
    assert [a.text() for a in dialog.reassign_menu.actions()] == ["李四", "老板"]  # not the holder, not the disabled
    server.log.clear()
    with qtbot.waitSignal(dialog.loaded, check_params_cb=lambda tab: tab == "holders", timeout=3000):
        dialog.reassign_menu.actions()[0].trigger()
    assert server.log == [("reassign", "小明", "kefu_bear_li", "taobao", "小熊旗舰店"), ("holders",)]
    assert [name for name, _ in tree_rows(dialog)] == ["李四（2 位）", "王五（1 位）", "待接（1 位）"]
    assert dialog.status.text() == "已把 小明 改派给 李四"


def test_report_is_for_the_local_day_and_follows_the_date_picker(qtbot, server):
    dialog = open_dialog(qtbot)
    qtbot.waitUntil(lambda: loaded(dialog))
    first = next(e for e in server.log if e[0] == "report")
    assert first[1:] == (datetime(2026, 12, 3, tzinfo=TZ), datetime(2026, 12, 4, tzinfo=TZ))
    table = dialog.report_table
    assert [[table.item(r, c).text() for c in range(5)] for r in range(table.rowCount())] == [
        ["王五", "7", "5", "1", "2"], ["李四", "2", "2", "0", "0"]]
    assert [table.horizontalHeaderItem(c).text() for c in range(5)] == ["客服", "催单", "买家数", "撞单", "接手"]
    server.log.clear()
    with qtbot.waitSignal(dialog.loaded, check_params_cb=lambda tab: tab == "report", timeout=3000):
        dialog.day.setDate(dialog.day.date().addDays(-1))
    assert server.log == [("report", datetime(2026, 12, 2, tzinfo=TZ), datetime(2026, 12, 3, tzinfo=TZ))]


def test_history_shows_changes_and_reverts_after_confirmation(qtbot, server):
    dialog = open_dialog(qtbot)
    qtbot.waitUntil(lambda: loaded(dialog))
    table = dialog.history_table
    rows = [[table.item(r, c).text() for c in range(5)] for r in range(table.rowCount())]
    assert rows == [["12-03 22:30", "老板", "欢迎语", "v2", "内容：亲，在的 → 亲，欢迎光临"],
                    ["12-03 21:30", "老板", "欢迎语", "v1", "新建：欢迎语"]]
    assert not dialog.revert_button.isEnabled()
    table.selectRow(1)
    assert dialog.revert_button.isEnabled()
    asked: list[str] = []
    dialog.confirm = lambda text: asked.append(text) or False
    server.log.clear()
    dialog.revert_button.click()
    qtbot.wait(50)
    assert asked == ["把“欢迎语”恢复为第 1 版的内容？全店客服同步后都会看到。"] and server.log == []  # declined
    dialog.confirm = lambda text: True
    with qtbot.waitSignal(dialog.loaded, check_params_cb=lambda tab: tab == "history", timeout=3000):
        dialog.revert_button.click()
    assert server.log == [("revert", "r-1", 1), ("history",)]
    assert dialog.status.text() == "已把“欢迎语”恢复为第 1 版，现为第 3 版"


def test_errors_show_as_one_line_in_the_current_language(qtbot, server):
    server.state["fail"] = supervisor.NotSupervisor("只有主管账号可以使用此命令（当前账号 x 不是主管）",
                                                    "only a supervisor role may do this (x is not a supervisor)")
    dialog = open_dialog(qtbot)
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert dialog.error.text() == "只有主管账号可以使用此命令（当前账号 x 不是主管）"
    assert dialog.tree.topLevelItemCount() == 0
    i18n.install("en")
    server.state["fail"] = TeamError("离线：团队服务器暂时连不上，请稍后再试",
                                     "offline: the team server cannot be reached now;\ntry again later")
    dialog.holders_refresh.click()
    qtbot.waitUntil(lambda: dialog.error.text().startswith("offline"))
    assert dialog.error.text() == "offline: the team server cannot be reached now; try again later"
    assert "\n" not in dialog.error.text()
    server.state["fail"] = None
    dialog.holders_refresh.click()
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 3)
    assert not dialog.error.isVisible()
    select_buyer(dialog, "小明")

    def refused(conn, me, nickname, to, platform=None, shop=None):
        raise ValidationError("不是在职客服", "not an active agent of the shop: nothing changed")

    supervisor.reassign = refused  # the fixture's monkeypatch restores it
    dialog.reassign(dialog.selected_buyer(), "kefu_bear_li")
    qtbot.waitUntil(lambda: dialog.error.isVisible())
    assert dialog.error.text() == "not an active agent of the shop: nothing changed"


def test_the_timer_refreshes_quietly_keeping_the_selection_and_folds(qtbot, server, monkeypatch):
    monkeypatch.setattr(SupervisorDialog, "REFRESH_MS", 100)
    dialog = open_dialog(qtbot)
    qtbot.waitUntil(lambda: loaded(dialog))
    select_buyer(dialog, "阿花")
    dialog.tree.topLevelItem(0).setExpanded(False)  # 李四's group folded by the supervisor
    server.state["holders"] = [b for b in server.state["holders"] if b.nickname != "小明"]
    qtbot.waitUntil(lambda: tree_rows(dialog)[1][0] == "王五（1 位）", timeout=3000)
    assert dialog.selected_buyer().nickname == "阿花"
    assert not dialog.tree.topLevelItem(0).isExpanded() and dialog.tree.topLevelItem(1).isExpanded()
    # an error line of the supervisor's own action stays; a failed refresh only says so in the footer
    dialog.show_error(ValidationError("不是在职客服", "not an active agent"))
    server.state["fail"] = TeamError("离线：团队服务器暂时连不上，请稍后再试", "offline")
    qtbot.waitUntil(lambda: dialog.status.text() == "自动刷新失败：离线：团队服务器暂时连不上，请稍后再试", timeout=3000)
    assert dialog.error.text() == "不是在职客服" and dialog.tree.topLevelItemCount() == 3
    dialog.hide()
    assert not dialog.refresh_timer.isActive()


def test_english_labels(qtbot, server):
    i18n.install("en")
    dialog = open_dialog(qtbot)
    qtbot.waitUntil(lambda: loaded(dialog))
    assert dialog.windowTitle() == "Team"
    assert [dialog.tabs.tabText(n) for n in range(3)] == ["Who follows whom", "Today", "Library history"]
    assert dialog.reassign_button.text() == "Reassign…" and dialog.revert_button.text() == "Revert to this version"
    assert dialog.tree.topLevelItem(2).text(0) == "Pool (1)"
    assert dialog.history_table.item(0, 4).text() == "Text: 亲，在的 → 亲，欢迎光临"


@pytest.mark.parametrize("kind", ["agent", "supervisor"])
def test_the_menu_item_is_for_supervisors_with_a_team_server(qtbot, store, make_panel, server, kind):
    join_team(store, kind)
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.team.kind == kind)
    assert not panel.act_team.isVisible()  # no TeamSync attached yet: no server to ask
    panel.attach_team(FakeTeam())
    assert panel.act_team.isVisible() == (kind == "supervisor")
    if kind == "supervisor":
        assert panel.act_team.text() == "团队管理…"
        dialog = panel.open_supervisor()
        assert isinstance(dialog, SupervisorDialog) and not dialog.isModal()
        assert panel.open_supervisor() is dialog  # one at a time
        qtbot.waitUntil(lambda: loaded(dialog))


def test_no_menu_item_without_a_team_server(qtbot, panel):
    panel.attach_team(FakeTeam())
    assert panel.team.kind == ""
    assert not panel.act_team.isVisible()
