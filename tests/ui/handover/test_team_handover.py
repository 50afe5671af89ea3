"""交班给同事 from the 交接 tab (team mode): the button only with a team server, the receivers (active
colleagues, not me, and the shop's pool), and 交班 moving the buyers I follow with their reminders
(one 'team.handover' op queued for the live sync). KEFU_SHOTS=DIR saves screenshots of the dialog."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta

import pytest

from assistant.core import reminders, settings
from assistant.core.clock import to_db
from assistant.ui.handover.handover_tab import HandoverTab
from assistant.ui.widgets import i18n

SHOP = "11111111-2222-3333-4444-555555555555"
ME, LI, ZHAO, ZHOU = "kefu_t1_wang", "kefu_t1_li", "kefu_t1_zhao", "kefu_t1_zhou"
AGENTS = [[ZHAO, "赵六", False], [LI, "李四", True], [ME, "王五", True], [ZHOU, "周七", True]]
CJK = re.compile(r"[\u3400-\u9fff]")


def join_team(store) -> None:
    settings.set(store, "team.server", "postgresql://h:5432/db?sslmode=prefer")
    settings.set(store, "team.role", ME)
    settings.set(store, "team.kind", "agent")
    settings.set(store, "team.agents", AGENTS)
    with store.write() as db:
        db.execute("INSERT OR REPLACE INTO team_shops (uuid, name) VALUES (?, ?)", (SHOP, "小熊旗舰店"))


def held_by_me(store, nickname: str) -> int:
    """A starred buyer of the team's shop that I follow (as a sync would leave it)."""
    buyer = reminders.star(store, platform="千牛", shop="小熊旗舰店", nickname=nickname)
    until = to_db(store.clock.now() + timedelta(hours=2))
    with store.write() as db:
        db.execute("UPDATE buyers SET team_shop = ?, holder = ?, holder_name = ?, held_until = ? WHERE id = ?",
                   (SHOP, ME, "王五", until, buyer.id))
    return buyer.id


def pending(store, buyer_id: int) -> int:
    return store.query("SELECT count(*) AS n FROM reminders WHERE buyer_id = ? AND state = 'pending'",
                       (buyer_id,))[0]["n"]


def handover_ops(store) -> list[dict]:
    return [json.loads(r["body"]) for r in
            store.query("SELECT body FROM team_outbox WHERE kind = 'team.handover' ORDER BY id")]


@pytest.fixture
def make_tab(worker, qtbot):
    def make() -> HandoverTab:
        tab = HandoverTab(worker, choose_folder=lambda *_: None, choose_file=lambda *_: None,
                          open_folder=lambda _p: None)
        qtbot.addWidget(tab)
        tab.resize(360, 900)
        with qtbot.waitSignal(tab.refreshed, timeout=10000):
            tab.show()
        return tab

    return make


def open_dialog(qtbot, tab):
    dialog = tab.open_team_handover()
    qtbot.waitUntil(lambda: dialog.info is not None, timeout=10000)
    return dialog


def receivers(dialog) -> list[str]:
    return [dialog.receivers.item(n).text() for n in range(dialog.receivers.count())]


def shoot(dialog, name: str) -> None:
    folder = os.environ.get("KEFU_SHOTS")
    if folder:
        dialog.grab().save(os.path.join(folder, name))


def test_no_team_server_no_button(make_tab, store):
    settings.set(store, "team.role", ME)  # a role alone is not team mode: the server is what counts
    tab = make_tab()
    assert tab.snapshot.team is False
    assert not tab.team_button.isVisibleTo(tab)
    assert tab.export_button.isVisibleTo(tab) and tab.import_button.isVisibleTo(tab)


def test_hand_over_to_a_colleague(qtbot, make_tab, store):
    join_team(store)
    mine = [held_by_me(store, "小王"), held_by_me(store, "李女士")]
    assert all(pending(store, b) for b in mine), "starring starts a cadence"
    tab = make_tab()
    assert tab.team_button.isVisibleTo(tab) and tab.team_button.text() == "交班给同事…"
    shoot(tab, "team_handover_tab_zh.png")
    posted = []
    tab.messages.message.connect(posted.append)

    dialog = open_dialog(qtbot, tab)
    assert receivers(dialog) == ["李四", "周七", "店铺待接池（任何同事可接）"], "active colleagues, not me, plus the pool"
    assert "2 位买家" in dialog.held.text()
    assert not dialog.ok_button.isEnabled(), "nothing is chosen yet"
    dialog.choose(LI)
    assert dialog.ok_button.isEnabled() and dialog.ok_button.text() == "交班"
    shoot(dialog, "team_handover_zh.png")
    with qtbot.waitSignal(tab.refreshed, timeout=10000):
        dialog.ok_button.click()

    assert handover_ops(store) == [{"to": LI}]
    for buyer_id in mine:
        row = store.query("SELECT holder, holder_name FROM buyers WHERE id = ?", (buyer_id,))[0]
        assert (row["holder"], row["holder_name"]) == (LI, "李四")
        assert pending(store, buyer_id) == 0, "my reminders for a handed-over buyer end"
    assert [(m.zh, m.en, m.level) for m in posted] == [("已交班：2 位买家交给 李四", "Handed over 2 buyers to 李四",
                                                         "success")]


def test_hand_over_to_the_pool(qtbot, make_tab, store):
    join_team(store)
    buyer_id = held_by_me(store, "小王")
    tab = make_tab()
    dialog = open_dialog(qtbot, tab)
    assert "1 位买家" in dialog.held.text()
    dialog.choose(None)
    with qtbot.waitSignal(dialog.handed_over, timeout=10000) as blocker:
        dialog.ok_button.click()
    assert blocker.args == [1, None, None]
    assert handover_ops(store) == [{"to": None}]
    row = store.query("SELECT holder, held_until FROM buyers WHERE id = ?", (buyer_id,))[0]
    assert row["holder"] is None and row["held_until"] is None
    assert pending(store, buyer_id) == 0


def test_a_refused_hand_over_shows_one_line(qtbot, make_tab, store):
    join_team(store)
    tab = make_tab()
    dialog = open_dialog(qtbot, tab)
    settings.set(store, "team.server", "")  # disconnected while the dialog was open
    dialog.choose(LI)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=10000)
    assert dialog.error.text() == "没有连接团队服务器：交班请导出交接文件"
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    assert handover_ops(store) == []


def test_english(qtbot, make_tab, store):
    join_team(store)
    held_by_me(store, "小王")
    tab = make_tab()
    assert i18n.install("en")
    try:
        qtbot.waitUntil(lambda: tab.team_button.text() == "Hand over to a colleague…", timeout=5000)
        shoot(tab, "team_handover_tab_en.png")
        dialog = open_dialog(qtbot, tab)
        assert receivers(dialog) == ["李四", "周七", "Shop's pool (any colleague may take them)"]
        assert dialog.held.text() == "You follow 1 buyer now; their reminders go to the receiver."
        dialog.choose(ZHOU)
        chrome = [dialog.windowTitle(), dialog.title.text(), dialog.ok_button.text(), dialog.cancel_button.text(),
                  tab.team_button.toolTip()]
        assert [t for t in chrome if CJK.search(t)] == []
        shoot(dialog, "team_handover_en.png")
    finally:
        i18n.install("zh_CN")
