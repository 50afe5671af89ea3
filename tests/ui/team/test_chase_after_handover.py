"""A reminder card still open when its buyer goes to another agent (交班 from the 交接 tab or
`kefu team hand-over`, a supervisor's reassignment) must not paste the chase: the buyer would get
the script, the record would then be refused ("李四 跟进中"), and the new holder would be reminded
of the same step. Found by tests/team/test_e2e_two_panels.py's harness: the card kept 粘贴催单
enabled for up to a minute (its recheck timer) and a click pasted into the chat window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.core import customers, reminders, settings
from assistant.core.clock import FakeClock
from assistant.core.store import open_store
from assistant.ui.reminders.reminders import ChaseActions, ReminderPopup
from tests.ui.team.teamhelp import SHOP_NAME, join_team

START = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)
ME = "kefu_t1_wang"
LI = "kefu_t1_li"


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def tstore(db_path, clock):
    s = open_store(db_path, clock)
    settings.set(s, "reminders.agent_tz", "Asia/Shanghai")
    join_team(s, "agent")
    settings.set(s, "team.role", ME)
    yield s
    s.close()


@pytest.fixture
def tworker(db_path, clock, tstore, qtbot):
    from assistant.services.worker import StoreWorker

    w = StoreWorker(db_path, clock=clock)
    w.start()
    yield w
    w.stop()


def test_a_card_open_during_a_handover_shows_the_new_holder_and_never_pastes(qtbot, tstore, tworker, clock):
    actions = ChaseActions(tworker, clock)
    actions.set_paste_available(True)
    pasted: list = []
    actions.paste_chase.connect(lambda *args: pasted.append(args))
    told: list = []
    actions.messages.message.connect(told.append)
    buyer = reminders.star(tstore, platform="taobao", shop=SHOP_NAME, nickname="小鹿", now=clock.now())
    assert buyer.holder == ME
    clock.advance(timedelta(minutes=4))
    items = reminders.fire_due(tstore, clock.now())
    assert [i.buyer_id for i in items] == [buyer.id]
    popup = ReminderPopup(actions, clock)
    qtbot.addWidget(popup)
    popup.add(items)
    card = popup.cards[items[0].id]
    qtbot.waitUntil(lambda: card.proposal is not None and card.paste_button.isEnabled(), timeout=5000)
    stale = card.proposal

    handed: list = []
    tworker.submit(lambda store: reminders.hand_over_team(store, LI, "李四"), handed.append, write=True)
    # the write is enough: the card learns the holder at once, not at its recheck a minute later
    qtbot.waitUntil(lambda: bool(handed) and card.holder == "李四", timeout=3000)
    assert not card.paste_button.isEnabled() and "李四 跟进中" in card.held_label.text()

    # a click that was already on its way (or the 提醒 tab, the next-chase hotkey): refused, nothing pasted
    actions.paste(buyer.id, "小鹿", stale, items[0].id)
    qtbot.waitUntil(lambda: bool(told), timeout=3000)
    assert pasted == [] and "李四 跟进中" in told[-1].zh and told[-1].level == "warning"
    assert customers.chase_history(tstore, buyer.id) == []


def test_a_buyer_still_mine_is_pasted_as_before(qtbot, tstore, tworker, clock):
    actions = ChaseActions(tworker, clock)
    actions.set_paste_available(True)
    buyer = reminders.star(tstore, platform="taobao", shop=SHOP_NAME, nickname="小鹿", now=clock.now())
    proposal = reminders.propose(tstore, buyer.id, clock.now())
    with qtbot.waitSignal(actions.paste_chase, timeout=3000) as sent:
        actions.paste(buyer.id, "小鹿", proposal)
    assert sent.args[0] == proposal.reply_id and sent.args[1] == {"客户": "小鹿"}
