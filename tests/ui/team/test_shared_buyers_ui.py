"""Shared buyers in the panel (team mode): a buyer another agent follows is tagged "王五 跟进中" in the
客户 tab, the reminder cards and the star dialog; chasing/starring waits for a logged take-over
(接手), which queues a 'buyer.takeover' operation; collisions and other agents' chases are shown."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt

from assistant.core import customers, outbox, reminders, settings
from assistant.core.clock import FakeClock, to_db
from assistant.core.store import open_store
from assistant.ui.buyers.buyers_tab import HOLDER_ROLE, BuyersTab
from assistant.ui.buyers.star_dialog import StarDialog
from assistant.ui.reminders.reminders import ChaseActions, ReminderPopup
from assistant.ui.reminders.reminders_tab import RemindersTab
from assistant.ui.team.conflicts_dialog import ConflictsDialog
from assistant.ui.widgets import i18n
from tests.ui.team.teamhelp import SHOP_NAME, join_team, outbox_rows

START = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)
ME = "kefu_zhangsan"
OTHER = "kefu_wangwu"


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def tstore(db_path, clock):
    s = open_store(db_path, clock)
    settings.set(s, "reminders.agent_tz", "Asia/Shanghai")
    yield s
    s.close()


@pytest.fixture
def tworker(db_path, clock, tstore, qtbot):
    from assistant.services.worker import StoreWorker

    w = StoreWorker(db_path, clock=clock)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def actions(tworker, clock):
    return ChaseActions(tworker, clock)


def team(store) -> None:
    join_team(store, "agent")
    settings.set(store, "team.role", ME)


def held_buyer(store, clock, nickname: str = "小鱼", holder: str = OTHER, name: str = "王五") -> customers.Buyer:
    """A shared buyer (starred here, so it has a reminder) that another agent now holds."""
    buyer = reminders.star(store, platform="taobao", shop=SHOP_NAME, nickname=nickname, now=clock.now())
    with store.write() as db:
        db.execute("UPDATE buyers SET holder = ?, holder_name = ?, held_until = ? WHERE id = ?",
                   (holder, name, to_db(clock.now() + timedelta(hours=3)), buyer.id))
    return customers.get_buyer(store, buyer.id)


def kinds(store) -> list[str]:
    return [r["kind"] for r in outbox_rows(store)]


def make_tab(qtbot, tworker, actions, clock, count: int) -> BuyersTab:
    tab = BuyersTab(tworker, actions, clock)
    qtbot.addWidget(tab)
    tab.resize(380, 720)
    tab.show()
    qtbot.waitUntil(lambda: tab.list.count() == count, timeout=5000)
    return tab


def select(qtbot, tab: BuyersTab, nickname: str) -> None:
    row = tab.nicknames().index(nickname)
    tab.list.setCurrentRow(row)
    qtbot.waitUntil(lambda: tab.buyer is not None and tab.buyer.nickname == nickname)


def test_buyers_tab_tags_a_held_buyer_and_take_over_frees_it(qtbot, tstore, tworker, actions, clock):
    team(tstore)
    held = held_buyer(tstore, clock)
    reminders.star(tstore, platform="taobao", shop=SHOP_NAME, nickname="大树", now=clock.now())  # mine
    tab = make_tab(qtbot, tworker, actions, clock, 2)
    tags = {tab.list.item(i).data(Qt.ItemDataRole.UserRole + 1).nickname: tab.list.item(i).data(HOLDER_ROLE)
            for i in range(tab.list.count())}
    assert tags == {"小鱼": "王五", "大树": None}  # my own buyer: no tag, the list stays calm
    select(qtbot, tab, "大树")
    assert tab.holder_tag.isHidden() and tab.take_over_button.isHidden()
    assert tab.chase_button.isEnabled()
    outcome_buttons = (tab.replied_button, tab.paid_button, tab.lost_button, tab.pause_button)
    assert all(b.isEnabled() and b.toolTip() == "" for b in outcome_buttons)
    select(qtbot, tab, "小鱼")
    assert tab.holder_tag.isVisible() and tab.holder_tag.text() == "王五 跟进中"
    assert not tab.chase_button.isEnabled()
    assert tab.chase_button.toolTip().startswith("王五 跟进中：先“接手”")
    # the outcome is the holder's to record too (reminders.outcome refuses it)
    assert not any(b.isEnabled() for b in outcome_buttons)
    assert all(b.toolTip() == "王五 跟进中：先“接手”才能记录跟进结果" for b in outcome_buttons)
    select(qtbot, tab, "大树")
    assert all(b.isEnabled() for b in outcome_buttons)
    select(qtbot, tab, "小鱼")
    assert tab.take_over_button.isVisible() and tab.take_over_button.text() == "接手"
    i18n.install("en")
    qtbot.waitUntil(lambda: tab.holder_tag.text() == "Followed by 王五")
    assert tab.take_over_button.text() == "Take over"
    i18n.install("zh_CN")
    qtbot.waitUntil(lambda: tab.holder_tag.text() == "王五 跟进中")

    tab.take_over_button.click()
    dialog = actions.take_over_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.reason_text() == ""  # the reason is optional, empty by default
    dialog.reason.setText("买家点名找我")
    before = len(outbox_rows(tstore))
    dialog.accept()
    qtbot.waitUntil(lambda: "buyer.takeover" in kinds(tstore), timeout=5000)
    rows = outbox_rows(tstore)
    assert len(rows) == before + 1
    take = rows[-1]
    assert take["kind"] == "buyer.takeover" and take["target"] == held.uuid
    assert json.loads(take["body"])["reason"] == "买家点名找我"
    qtbot.waitUntil(lambda: tab.buyer is not None and tab.buyer.nickname == "小鱼" and tab.holder is None,
                    timeout=5000)
    assert tab.holder_tag.isHidden() and tab.take_over_button.isHidden()
    assert tab.chase_button.isEnabled() and tab.chase_button.toolTip() == ""
    assert all(b.isEnabled() and b.toolTip() == "" for b in outcome_buttons)
    assert customers.get_buyer(tstore, held.id).holder == ME


def test_unstarred_held_buyer_cannot_be_starred_again_without_take_over(qtbot, tstore, tworker, actions, clock):
    team(tstore)
    held = held_buyer(tstore, clock)
    with tstore.write() as db:
        db.execute("UPDATE buyers SET starred = 0 WHERE id = ?", (held.id,))
    tab = make_tab(qtbot, tworker, actions, clock, 0)  # the list holds starred buyers only
    tab.holder = "王五"  # as the list would have it for the buyer just unstarred and still shown
    tab._show(customers.get_buyer(tstore, held.id))
    assert tab.unstar_button.text() == "重新标星"
    assert not tab.unstar_button.isEnabled()
    assert tab.unstar_button.toolTip().startswith("王五 跟进中")


def test_without_a_team_server_nothing_is_tagged(qtbot, tstore, tworker, actions, clock):
    buyer = reminders.star(tstore, platform="taobao", shop=SHOP_NAME, nickname="小鱼", now=clock.now())
    with tstore.write() as db:  # a holder left over from a team the PC no longer syncs with
        db.execute("UPDATE buyers SET holder = ?, holder_name = '王五', held_until = ? WHERE id = ?",
                   (OTHER, to_db(clock.now() + timedelta(hours=3)), buyer.id))
    tab = make_tab(qtbot, tworker, actions, clock, 1)
    select(qtbot, tab, "小鱼")
    assert tab.list.item(0).data(HOLDER_ROLE) is None
    assert tab.holder_tag.isHidden() and tab.take_over_button.isHidden() and tab.chase_button.isEnabled()


def test_reminder_popup_and_tab_offer_take_over(qtbot, tstore, tworker, actions, clock):
    team(tstore)
    held = held_buyer(tstore, clock)
    items = reminders.due(tstore, clock.now() + timedelta(days=2), limit=10)
    assert [i.buyer_id for i in items] == [held.id]
    popup = ReminderPopup(actions, clock)
    qtbot.addWidget(popup)
    popup.add(items)
    card = popup.cards[items[0].id]
    qtbot.waitUntil(lambda: card.holder == "王五" and card.proposal is not None, timeout=5000)
    assert "王五 跟进中" in card.title.text()
    assert card.take_over_button.isVisible() and card.take_over_button.text() == "接手"
    assert card.paste_button.isVisible() and not card.paste_button.isEnabled()
    assert card.paste_button.toolTip().startswith("王五 跟进中")
    assert card.held_row.isVisible() and "王五 跟进中：先“接手”" in card.held_label.text()
    i18n.install("en")
    qtbot.waitUntil(lambda: card.take_over_button.text() == "Take over")
    assert "Followed by 王五" in card.title.text()
    i18n.install("zh_CN")
    qtbot.waitUntil(lambda: card.take_over_button.text() == "接手")

    tab = RemindersTab(tworker, actions, clock)
    qtbot.addWidget(tab)
    clock.advance(timedelta(minutes=10))  # the reminder is due; the lease (3 h) still runs
    tab.refresh()
    qtbot.waitUntil(lambda: tab.card is not None and tab.card.holder == "王五", timeout=5000)
    rows = [tab.list.item(i).text() for i in range(tab.list.count())]
    assert any("小鱼" in r and "王五 跟进中" in r for r in rows)

    card.take_over_button.click()
    actions.take_over_dialog.accept()
    qtbot.waitUntil(lambda: "buyer.takeover" in kinds(tstore), timeout=5000)
    qtbot.waitUntil(lambda: card.holder is None and tab.card is not None and tab.card.holder is None, timeout=5000)
    assert card.held_row.isHidden() and card.paste_button.isEnabled()
    assert "跟进中" not in card.title.text()


def test_star_dialog_takes_over_then_stars(qtbot, tstore, tworker, clock):
    team(tstore)
    held = held_buyer(tstore, clock)
    with tstore.write() as db:
        db.execute("UPDATE buyers SET starred = 0, state = 'paused' WHERE id = ?", (held.id,))
    dialog = StarDialog(tworker, clock=clock, nickname="小鱼", platform="taobao", shop=SHOP_NAME)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.held is not None, timeout=5000)
    assert dialog.holder_tag.isVisible() and dialog.holder_tag.text() == "王五 跟进中"
    assert dialog.held_note.isVisible() and "王五 正在跟进这位买家" in dialog.held_note.text()
    assert dialog.ok_button.text() == "接手并标星"
    i18n.install("en")
    qtbot.waitUntil(lambda: dialog.ok_button.text() == "Take over and star")
    i18n.install("zh_CN")
    dialog.reason.setText("交接")
    with qtbot.waitSignal(dialog.starred, timeout=5000) as got:
        dialog.submit()
    assert got.args[0].id == held.id and got.args[0].starred
    assert customers.get_buyer(tstore, held.id).holder == ME
    rows = outbox_rows(tstore)
    takeover = [r for r in rows if r["kind"] == "buyer.takeover"]
    assert len(takeover) == 1 and json.loads(takeover[0]["body"])["reason"] == "交接"


def test_star_dialog_another_nickname_is_plain_and_core_refusal_shows(qtbot, tstore, tworker, clock):
    team(tstore)
    held_buyer(tstore, clock)
    dialog = StarDialog(tworker, clock=clock, nickname="新买家", platform="taobao", shop=SHOP_NAME)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog._held_for is not None, timeout=5000)
    assert dialog.held is None and dialog.holder_tag.isHidden() and dialog.ok_button.text() == "标星并开始跟进"
    dialog.nickname.setText("小鱼")
    qtbot.waitUntil(lambda: dialog.held is not None, timeout=5000)
    dialog._show_held(None)  # the check has not answered yet when OK is pressed: the core still refuses
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5000)
    assert dialog.error.text().startswith("王五 跟进中：先“接手”才能")
    assert "buyer.takeover" not in kinds(tstore)


def test_collision_conflict_names_both_agents_and_the_buyer(qtbot, tstore, tworker, clock):
    team(tstore)
    held = held_buyer(tstore, clock)
    outbox.record_conflict(tstore, "collision", "chase-1", None,
                           {"buyer_id": held.id, "holder": "王五", "chaser": "张三", "mine": True,
                            "at": to_db(clock.now())})
    dialog = ConflictsDialog(tworker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loaded and len(dialog.cards) == 1, timeout=5000)
    card = dialog.cards[0]
    assert card.headline.text() == "撞单：王五 跟进中的买家被 张三 催单了"
    assert "买家：小鱼" in card.note.text()
    assert card.buttons["resolve"].text() == "知道了"
    i18n.install("en")
    qtbot.waitUntil(lambda: card.headline.text() == "Collision: 张三 chased a buyer 王五 was following")
    assert "Buyer: 小鱼" in card.note.text()
    with qtbot.waitSignal(dialog.settled, timeout=5000):
        card.buttons["resolve"].click()
    assert outbox.conflicts(tstore) == []


def test_chase_history_shows_another_agents_chase_and_a_collision(qtbot, tstore, tworker, actions, clock):
    team(tstore)
    buyer = reminders.star(tstore, platform="taobao", shop=SHOP_NAME, nickname="小鱼", now=clock.now())
    with tstore.write() as db:
        for n, (author, name, collision) in enumerate(((OTHER, "王五", 0), (None, None, 1))):
            db.execute("INSERT INTO chases (uuid, buyer_id, reply_title, angle, sent_at, author, author_name, "
                       "collision) VALUES (?,?,?,?,?,?,?,?)",
                       (f"c-{n}", buyer.id, f"话术{n}", "price", to_db(clock.now() - timedelta(minutes=10 - n)),
                        author, name, collision))
    tab = make_tab(qtbot, tworker, actions, clock, 1)
    select(qtbot, tab, "小鱼")
    qtbot.waitUntil(lambda: tab.history.count() == 2, timeout=5000)
    lines = [tab.history.item(i).text() for i in range(2)]
    assert lines[0].startswith("⚠ ") and "话术1" in lines[0]  # newest first: my chase, flagged
    assert "话术0" in lines[1] and lines[1].endswith("· 王五") and not lines[1].startswith("⚠")
