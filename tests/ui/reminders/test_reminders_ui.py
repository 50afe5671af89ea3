"""Reminder popup and chase actions (pytest-qt, offscreen; the scheduler's own tests are in
tests/services/test_scheduler.py): a FakeClock drives time, nothing sleeps minutes.

The store worker gets the same FakeClock, so core functions and the scheduler agree on "now".
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from assistant.core import customers, products, reminders, replies, templates
from assistant.ui.reminders.reminders import ChaseActions, ReminderPopup
from tests.helpers import reminders as rf
from tests.helpers.reminders import star

# The shared reminder fixtures (tests/helpers/reminders.py), found by pytest under these names.
clock, cstore, cworker, mono, scheduler = (rf.clock, rf.cstore, rf.cworker, rf.mono, rf.scheduler)


@pytest.fixture
def reminder_db(db_path):
    return db_path


# ------------------------------------------------------------------ popup

@pytest.fixture
def actions(cworker, clock):
    return ChaseActions(cworker, clock)


@pytest.fixture
def popup(actions, clock, qtbot):
    p = ReminderPopup(actions, clock)
    qtbot.addWidget(p)
    return p


def fire_all(qtbot, cstore, clock, scheduler):
    clock.advance(timedelta(minutes=4))
    scheduler._started = True
    scheduler.fire()
    qtbot.waitUntil(lambda: bool(scheduler.got), timeout=5000)
    return scheduler.got[-1][0]


def test_popup_never_takes_focus(qtbot, cstore, clock, scheduler, popup):
    star(cstore, "焦点")
    items = fire_all(qtbot, cstore, clock, scheduler)
    popup.add(items)
    flags = popup.windowFlags()
    for flag in (Qt.WindowType.Tool, Qt.WindowType.WindowStaysOnTopHint, Qt.WindowType.WindowDoesNotAcceptFocus):
        assert flags & flag
    assert popup.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    assert popup.isVisible()
    from PySide6.QtWidgets import QPushButton

    assert all(b.focusPolicy() == Qt.FocusPolicy.NoFocus for b in popup.findChildren(QPushButton))
    assert QApplication.activeWindow() is not popup


def test_several_due_stack_in_one_popup_with_proposals(qtbot, cstore, clock, scheduler, popup):
    for n in range(3):
        star(cstore, f"买家{n}", marks=["意向明显"])
    items = fire_all(qtbot, cstore, clock, scheduler)
    assert len(items) == 3
    popup.add(items)
    popup.add(items)  # the same reminders again: no duplicates
    assert popup.count() == 3
    tops = [w for w in QApplication.topLevelWidgets() if w.objectName() == "ReminderPopup" and w.isVisible()]
    assert tops == [popup]
    card = next(iter(popup.cards.values()))
    qtbot.waitUntil(lambda: all(c.proposal is not None for c in popup.cards.values()), timeout=5000)
    assert card.paste_button.isEnabled()
    assert "意向明显" in card.meta.text()
    assert card.proposal.angle == "product"
    assert "该催单了" in popup.title.text()


def test_open_questions_block_and_override(qtbot, cstore, clock, scheduler, popup):
    star(cstore, "有疑问", open_questions=True)
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.waitUntil(lambda: card.proposal is not None, timeout=5000)
    assert card.proposal.blocked and not card.paste_button.isVisible() or not card.paste_button.isEnabled()
    assert card.override_button.isVisibleTo(popup) and card.warning.isVisibleTo(popup)
    assert "问题" in card.warning.text()
    qtbot.mouseClick(card.override_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.proposal.blocked is None, timeout=5000)
    assert card.paste_button.isEnabled()


@pytest.mark.parametrize("button,state", [("paid_button", "paid"), ("lost_button", "lost")])
def test_paid_and_lost_through_the_worker(qtbot, cstore, clock, scheduler, popup, button, state):
    buyer = star(cstore, "结果")
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.mouseClick(getattr(card, button), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: popup.count() == 0, timeout=5000)
    assert not popup.isVisible()
    assert customers.get_buyer(cstore, buyer.id).state == state
    assert reminders.due(cstore, clock.now(), timedelta(days=30)) == []


def test_snooze_through_the_worker(qtbot, cstore, clock, scheduler, popup):
    buyer = star(cstore, "稍后")
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.mouseClick(card.snooze_button, Qt.MouseButton.LeftButton)
    assert card.snooze_row.isVisibleTo(popup)
    qtbot.mouseClick(card.snooze_buttons[10], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: popup.count() == 0, timeout=5000)
    pending = reminders.buyer_reminders(cstore, buyer.id)
    assert len(pending) == 1 and pending[0].due_at == clock.now() + timedelta(minutes=10)
    assert pending[0].fired_at is None  # it will pop up again in 10 minutes


def test_a_card_closed_elsewhere_leaves_the_popup(qtbot, cstore, cworker, clock, scheduler, popup):
    """Team mode: the popup is up on 王五's screen when he does 交班 (or a pull hands the buyer to
    李四): his card must go, or the reminder shows on two screens at once. Any write - this panel's,
    or another process's relayed by the system watch - makes the popup ask which shown reminders
    are still pending here; the others leave, the rest stay."""
    kept, moved = star(cstore, "留下"), star(cstore, "交出去")
    items = fire_all(qtbot, cstore, clock, scheduler)
    popup.add(items)
    assert popup.count() == 2
    (gone_id,) = [r.id for r in items if r.buyer_id == moved.id]

    def hand_over(store):  # what a pull does with a reminder that moved to another agent
        with store.write() as db:
            db.execute("UPDATE reminders SET state = 'cancelled', outcome = 'handed_over' WHERE id = ?", (gone_id,))

    cworker.submit(hand_over, write=True)
    qtbot.waitUntil(lambda: popup.count() == 1, timeout=5000)
    assert list(popup.cards) == [r.id for r in items if r.buyer_id == kept.id]
    assert popup.isVisible() and "（1）" in popup.title.text()

    # the last one, closed by another process (`kefu outcome` in a shell): the popup goes away
    reminders.outcome(cstore, kept.id, "paid")
    cworker.data_changed.emit()  # the system watch's relay of the store's data_version moving
    qtbot.waitUntil(lambda: popup.count() == 0, timeout=5000)
    assert not popup.isVisible()


def test_a_write_that_closes_nothing_keeps_every_card(qtbot, cstore, cworker, clock, scheduler, popup):
    star(cstore, "甲")
    star(cstore, "乙")
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    shown = sorted(popup.cards)
    with qtbot.waitSignal(cworker.data_changed, timeout=5000):
        cworker.submit(lambda store: reminders.star(store, platform="taobao", shop="旗舰店", nickname="丙"),
                       write=True)
    qtbot.wait(popup._prune_timer.interval() + 300)  # the check ran and found both pending
    assert sorted(popup.cards) == shown and popup.isVisible()


def test_paste_goes_through_the_paste_flow_and_records(qtbot, cstore, cworker, clock, scheduler, popup, actions):
    buyer = star(cstore, "粘贴")
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.waitUntil(lambda: card.paste_button.isEnabled(), timeout=5000)
    actions.set_paste_available(True)
    with qtbot.waitSignal(actions.paste_chase, timeout=2000) as sent:
        qtbot.mouseClick(card.paste_button, Qt.MouseButton.LeftButton)
    reply_id, values, attribution = sent.args
    assert reply_id == card.proposal.reply_id and values == {"客户": "粘贴"} and attribution
    assert customers.chase_history(cstore, buyer.id) == []
    actions.on_attributed_paste_done("chase:someone-else", reply_id, True)  # not our paste
    assert cworker.pending == 0 and customers.chase_history(cstore, buyer.id) == []
    actions.on_attributed_paste_done(attribution, reply_id, True)  # what the paste flow says once pasted
    actions.on_attributed_paste_done(attribution, reply_id, True)  # answered twice: still one chase
    qtbot.waitUntil(lambda: popup.count() == 0, timeout=5000)
    qtbot.waitUntil(lambda: cworker.pending == 0, timeout=5000)
    history = customers.chase_history(cstore, buyer.id)
    assert [h.reply_id for h in history] == [reply_id]


@pytest.fixture
def hk(db_path):
    """The real paste flow on the dummy backend (copies; store jobs inline, tests/helpers/hotkeys.py)."""
    from assistant.platform.dummy.backend import create
    from tests.helpers.hotkeys import Hotkeys

    hotkeys = Hotkeys(db_path, create("test"))
    hotkeys.start()
    yield hotkeys.flow
    hotkeys.shutdown()


def test_only_the_attributed_paste_is_a_chase_not_the_same_reply_from_the_list(qtbot, cstore, cworker, clock, scheduler,
                                                                           popup, actions, hk):
    buyer = star(cstore, "标签")
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.waitUntil(lambda: card.paste_button.isEnabled(), timeout=5000)
    reply_id = card.proposal.reply_id
    # one more fill-in field, so the chase paste asks for a form first (and can be cancelled)
    reply = replies.update_reply(cstore, reply_id, body=replies.get_reply(cstore, reply_id).body + "（订单 {订单号}）")

    def filled(order: str) -> dict[str, str]:
        return {**{name: "x" for name in reply.fields}, "客户": "标签", "订单号": order}

    actions.set_paste_available(True)
    actions.paste_chase.connect(hk.paste_reply_attributed)  # as app.wire_reminders wires it
    hk.attributed_paste_done.connect(actions.on_attributed_paste_done)
    forms: list[int] = []
    hk.fields_needed.connect(lambda _rid, _missing, token: forms.append(token))
    uses: list[int] = []
    hk.usage_recorded.connect(uses.append)
    errors: list[str] = []
    hk.messages.message.connect(lambda m: m.level == "warning" and errors.append(m.en))

    qtbot.mouseClick(card.paste_button, Qt.MouseButton.LeftButton)  # 粘贴催单 ...
    qtbot.waitUntil(lambda: len(forms) == 1, timeout=3000)  # after the holder check (one worker read)
    hk.cancel_paste(forms[0])  # ... form cancelled: nothing pasted
    hk.paste_reply(reply_id, filled("1"))  # the same reply from the quick-replies list
    assert errors == [] and uses == [reply_id]
    qtbot.waitUntil(lambda: cworker.pending == 0, timeout=5000)
    assert customers.chase_history(cstore, buyer.id) == [] and popup.count() == 1

    qtbot.mouseClick(card.paste_button, Qt.MouseButton.LeftButton)  # 粘贴催单 again, form filled
    qtbot.waitUntil(lambda: len(forms) == 2, timeout=3000)
    hk.complete_paste(forms[1], filled("2"))
    assert "订单 2" in QApplication.clipboard().text()
    qtbot.waitUntil(lambda: popup.count() == 0, timeout=5000)
    hk.paste_reply(reply_id, filled("3"))  # and from the list once more
    qtbot.waitUntil(lambda: cworker.pending == 0, timeout=5000)
    assert uses == [reply_id] * 3
    assert [h.reply_id for h in customers.chase_history(cstore, buyer.id)] == [reply_id]


def test_paste_without_controller_copies_and_records(qtbot, cstore, clock, scheduler, popup):
    buyer = star(cstore, "复制")
    cup = products.add_product(cstore, "真空保温杯", selling_points=["316不锈钢内胆，12小时保温"])
    products.link(cstore, buyer.id, cup.id)  # the product angle's script has its {卖点}
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.waitUntil(lambda: card.paste_button.isEnabled() and card.proposal is not None, timeout=5000)
    # the recorded chase re-proposes the card (the next angle), so what was pasted is read before the click
    proposal, values = card.proposal, card.values()
    qtbot.mouseClick(card.paste_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: popup.count() == 0, timeout=5000)
    rendered = templates.render(proposal.reply_body, {"客户": "复制", **values})
    assert rendered.missing == [] and "316不锈钢内胆" in rendered.text
    assert QApplication.clipboard().text() == rendered.text
    assert [h.reply_id for h in customers.chase_history(cstore, buyer.id)] == [proposal.reply_id]


def test_paste_without_controller_never_copies_a_script_with_blanks(qtbot, cstore, clock, scheduler, popup, actions):
    """No product known: the generic script keeps {卖点}; with no fill-in form it is refused, not copied."""
    warnings = []
    actions.messages.message.connect(lambda m: m.level == "warning" and warnings.append(m.zh))
    QApplication.clipboard().setText("买家之前复制的内容")
    buyer = star(cstore, "留空")
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.waitUntil(lambda: card.paste_button.isEnabled() and card.proposal is not None, timeout=5000)
    assert "卖点" in templates.render(card.proposal.reply_body, {"客户": "留空", **card.values()}).missing
    qtbot.mouseClick(card.paste_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(warnings) == 1, timeout=5000)
    assert "卖点" in warnings[0] and popup.count() == 1
    assert QApplication.clipboard().text() == "买家之前复制的内容"
    assert customers.chase_history(cstore, buyer.id) == []


def test_star_hotkey_uses_last_place_or_other(qtbot, cstore, actions):
    messages = []
    actions.messages.message.connect(lambda m: messages.append(m.zh))
    actions.star_nickname("选中的昵称")
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    first = customers.find_buyer(cstore, "选中的昵称")
    assert first.platform == "other" and first.starred and "选中的昵称" in messages[0]
    star(cstore, "京东买家", platform="jd", shop="京东店")
    actions.last_place = None
    actions.star_nickname("第二位")
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=5000)
    second = customers.find_buyer(cstore, "第二位")
    assert (second.platform, second.shop) == ("jd", "京东店")


def test_a_promotion_wave_fills_in_the_promotion_name(qtbot, cstore, clock, scheduler, popup, actions):
    buyer = star(cstore, "大促买家")
    script = reminders.propose(cstore, buyer.id).reply_id
    replies.update_reply(cstore, script, body="{活动}马上开始，{客户}亲，记得先领券哦")
    reminders.add_promotion(cstore, "双十一", clock.now() + timedelta(hours=1))  # the wave starts now
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(c for c in popup.cards.values() if c.item.kind == "wave")
    qtbot.waitUntil(lambda: card.paste_button.isEnabled(), timeout=5000)
    assert card.proposal.reply_id == script
    assert "双十一马上开始，大促买家亲" in card.script.text()
    actions.set_paste_available(True)
    with qtbot.waitSignal(actions.paste_chase, timeout=2000) as sent:
        qtbot.mouseClick(card.paste_button, Qt.MouseButton.LeftButton)
    assert sent.args[1] == {"客户": "大促买家", "活动": "双十一"}  # no form asking for {活动}


def test_a_too_soon_warning_reflects_the_time_now(qtbot, cstore, clock, popup, monkeypatch):
    from assistant.ui.reminders import reminders as ui_reminders

    monkeypatch.setattr(ui_reminders, "RECHECK_MS", 50, raising=False)
    buyer = star(cstore, "刚催过")
    reminders.record_chase(cstore, buyer.id, None, angle="product")  # chased just now
    clock.advance(timedelta(minutes=1))
    item = reminders.upcoming(cstore, clock.now())[0]
    popup.add([item])
    card = popup.cards[item.id]
    qtbot.waitUntil(lambda: card.proposal is not None, timeout=5000)
    assert card.warning.isVisibleTo(popup) and "太近" in card.warning.text()
    clock.advance(timedelta(minutes=5))  # five minutes later the card says what is true now
    qtbot.waitUntil(lambda: not card.warning.isVisibleTo(popup), timeout=5000)


def test_the_card_says_when_the_script_is_generic_and_fills_the_selling_point(qtbot, cstore, clock, scheduler,
                                                                                  popup):
    """No product known for the buyer: the product-angle script is the generic one, and the card says
    通用 so the agent adapts it. A buyer linked to a product gets a selling point not yet sent, filled in."""

    plain = star(cstore, "没关联商品")
    linked = star(cstore, "看了保温杯")
    cup = products.add_product(cstore, "真空保温杯", selling_points=["316不锈钢内胆，12小时保温"])
    products.link(cstore, linked.id, cup.id)
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    qtbot.waitUntil(lambda: all(c.proposal is not None for c in popup.cards.values()), timeout=5000)
    cards = {c.item.buyer_id: c for c in popup.cards.values()}
    assert cards[plain.id].proposal.generic and "通用" in cards[plain.id].script.text()
    assert not cards[linked.id].proposal.generic and "通用" not in cards[linked.id].script.text()
    assert "316不锈钢内胆" in cards[linked.id].script.text()


def test_a_generic_card_links_a_product_through_the_customers_tab_and_proposes_again(qtbot, cstore, cworker, clock,
                                                                                     scheduler, popup, actions):
    """关联商品 on a 通用 script opens the buyer (the 客户 tab's 商品 chip links one: the popup never opens
    a menu); once the link is written the card proposes again: the product's selling point, filled in."""

    buyer = star(cstore, "后来关联")
    cup = products.add_product(cstore, "真空保温杯", short_name="保温杯", selling_points=["316不锈钢内胆，12小时保温"])
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.waitUntil(lambda: card.proposal is not None, timeout=5000)
    assert card.proposal.generic and 'href="product"' in card.script.text()
    opened: list[int] = []
    actions.open_buyer.connect(opened.append)
    card.script.linkActivated.emit("product")
    assert opened == [buyer.id]
    # what the 客户 tab's chip does: a write through the one worker
    cworker.submit(lambda store: products.link(store, buyer.id, cup.id, choose=True), write=True)
    qtbot.waitUntil(lambda: card.proposal is not None and not card.proposal.generic, timeout=5000)
    assert "316不锈钢内胆" in card.script.text() and "保温杯" in card.meta.text()
    assert 'href="product"' not in card.script.text()
    actions.set_paste_available(True)
    with qtbot.waitSignal(actions.paste_chase, timeout=2000) as sent:
        qtbot.mouseClick(card.paste_button, Qt.MouseButton.LeftButton)
    assert sent.args[1]["卖点"] == "316不锈钢内胆，12小时保温"  # the fresh values, not the card's first read


def test_the_selling_point_the_agent_typed_is_the_one_recorded(qtbot, cstore, cworker, clock, scheduler, popup,
                                                               actions, hk):
    """No product known: the script's {卖点} is asked in the fill-in form. What the agent typed is what
    the buyer got, so that is the point recorded as sent - never proposed to this buyer again."""

    buyer = star(cstore, "手写卖点")
    popup.add(fire_all(qtbot, cstore, clock, scheduler))
    card = next(iter(popup.cards.values()))
    qtbot.waitUntil(lambda: card.paste_button.isEnabled(), timeout=5000)
    reply_id = card.proposal.reply_id
    reply = replies.update_reply(cstore, reply_id, body="{客户}，这款{卖点}，今天拍下今天发")
    card.recheck()
    qtbot.waitUntil(lambda: card.proposal is not None and "今天拍下" in (card.proposal.reply_body or ""), timeout=5000)
    actions.set_paste_available(True)
    actions.paste_chase.connect(hk.paste_reply_attributed)  # as app.wire_reminders wires it
    hk.attributed_paste_done.connect(actions.on_attributed_paste_done)
    hk.attributed_values.connect(actions.on_attributed_values)
    forms: list[int] = []
    hk.fields_needed.connect(lambda _rid, _missing, token: forms.append(token))
    qtbot.mouseClick(card.paste_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(forms) == 1, timeout=3000)
    hk.complete_paste(forms[0], {**{name: "x" for name in reply.fields}, "客户": "手写卖点", "卖点": "双层真空，装开水不烫手"})
    qtbot.waitUntil(lambda: popup.count() == 0, timeout=5000)
    qtbot.waitUntil(lambda: cworker.pending == 0, timeout=5000)
    assert products.sent_points(cstore, buyer.id) == {"双层真空，装开水不烫手"}
    # a script without {卖点} records none, whatever the caller passes
    other = reminders.propose(cstore, buyer.id)
    replies.update_reply(cstore, other.reply_id, body="{客户}，还有什么顾虑吗？")
    reminders.record_chase(cstore, buyer.id, other.reply_id, clock.now(), selling_point="不该记下")
    assert products.sent_points(cstore, buyer.id) == {"双层真空，装开水不烫手"}


def test_the_star_hotkey_shows_the_buyer_when_the_shop_keeps_products(qtbot, cstore, actions):

    opened: list[int] = []
    actions.open_buyer.connect(opened.append)
    messages: list[str] = []
    actions.messages.message.connect(lambda m: messages.append(m.zh))
    actions.star_nickname("没有商品资料时")
    qtbot.waitUntil(lambda: len(messages) == 1, timeout=5000)
    assert opened == [] and "选择买家问的商品" not in messages[0]  # nothing to link: only the message, as before
    products.add_product(cstore, "真空保温杯", selling_points=["316不锈钢内胆"])
    actions.star_nickname("有商品资料时")
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=5000)
    assert opened == [customers.find_buyer(cstore, "有商品资料时").id] and "选择买家问的商品" in messages[1]
