"""Unpaid orders in the panel (offscreen, FakeClock): the 客户 tab's 未付款订单 (add typed, paste the
order text, paid / closed, the full number on request, a file import) and the 催付 reminder card
(which order, masked, the amount and the countdown; its script names the order; 已付款 stops it)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication

from assistant.core import orders, reminders, settings
from assistant.core.clock import FakeClock, to_db
from assistant.core.store import open_store
from assistant.ui.buyers.buyers_tab import BuyersTab
from assistant.ui.reminders.reminders import ChaseActions, ReminderCard
from assistant.ui.widgets import style

START = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai
NUMBER = "3391204857162093345"
DATA = Path(__file__).parents[2] / "data" / "orders"


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def cstore(db_path, clock):
    s = open_store(db_path, clock)
    settings.set(s, "reminders.agent_tz", "Asia/Shanghai")
    reminders.star(s, platform="taobao", shop="旗舰店", nickname="小鹿", marks=["意向明显"])
    yield s
    s.close()


@pytest.fixture
def cworker(db_path, clock, cstore, qtbot):
    from assistant.services.worker import StoreWorker

    w = StoreWorker(db_path, clock=clock)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def actions(cworker, clock):
    return ChaseActions(cworker, clock)


@pytest.fixture
def tab(cworker, actions, clock, qtbot):
    t = BuyersTab(cworker, actions, clock)
    qtbot.addWidget(t)
    t.resize(380, 860)
    t.show()
    qtbot.waitUntil(lambda: t.list.count() == 1 and t.buyer is not None, timeout=5000)
    return t


def lines(box) -> list[str]:
    return [box.list.item(i).text() for i in range(box.list.count())]


def test_add_paste_paid_closed_in_the_buyers_tab(qtbot, tab, cstore, clock, tmp_path):
    box = tab.orders_box
    qtbot.waitUntil(lambda: lines(box) == ["没有未付款订单"], timeout=5000)
    assert not box.paid_button.isEnabled()
    dialog = box.open_dialog(paste=False)
    dialog.number.setText(NUMBER)
    dialog.amount.setText("一百")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5000)
    assert "金额" in dialog.error.text() and cstore.query("SELECT count(*) AS n FROM orders")[0]["n"] == 0
    dialog.amount.setText("128")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    qtbot.waitUntil(lambda: len(box.items) == 1, timeout=5000)
    assert lines(box) == ["***************3345  ·  ¥128.00  ·  还剩 3天0小时0分"]
    assert NUMBER not in "".join(lines(box)) and box.paid_button.isEnabled()

    paste = box.open_dialog(paste=True)
    assert not paste.save_button.isEnabled()  # nothing read yet
    paste.text.setPlainText((DATA / "pdd.txt").read_text("utf-8"))
    assert "订单号" in paste.found.text() and "¥39.90" in paste.found.text() and paste.save_button.isEnabled()
    with qtbot.waitSignal(paste.saved, timeout=5000):
        paste.save()
    qtbot.waitUntil(lambda: len(box.items) == 2, timeout=5000)
    # the PDD order closes in half an hour: first, and in red
    assert box.items[0].order_masked.endswith("0431") and "还剩 29分" in lines(box)[0]

    assert tab.grab().save(str(Path(os.environ.get("KEFU_SHOTS", tmp_path)) / "buyers_orders.png"))
    box.list.setCurrentRow(1)
    box.reveal()
    qtbot.waitUntil(lambda: box.reveal_button.text() == NUMBER, timeout=5000)
    assert QGuiApplication.clipboard().text() == NUMBER
    box.set_status("paid")
    qtbot.waitUntil(lambda: len(box.items) == 1, timeout=5000)
    assert orders.get_order(cstore, NUMBER).status == "paid" and not cstore.query(
        "SELECT 1 FROM reminders r JOIN orders o ON o.id = r.order_id WHERE o.order_no = ? AND r.state = 'pending'",
        (NUMBER,))
    box.list.setCurrentRow(0)
    box.set_status("closed")
    qtbot.waitUntil(lambda: lines(box) == ["没有未付款订单"], timeout=5000)


def test_import_a_platform_export_from_the_tab(qtbot, tab, cstore, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("订单号\n", encoding="utf-8")
    posted: list = []
    tab.orders_box.messages.message.connect(posted.append)
    tab.orders_box.import_file(str(bad))
    qtbot.waitUntil(lambda: bool(posted), timeout=5000)
    assert "订单文件无法导入" in posted[-1].zh and cstore.query("SELECT count(*) AS n FROM orders")[0]["n"] == 0
    path = tmp_path / "export.csv"
    path.write_text(f"订单编号,买家会员名,实付款,订单状态\n{NUMBER},小鹿,128.00,等待买家付款\n", encoding="utf-8")
    tab.orders_box.import_file(str(path))  # no 平台, 店铺 columns: the chosen buyer's
    qtbot.waitUntil(lambda: len(tab.orders_box.items) == 1, timeout=5000)
    assert "新增 1" in posted[-1].zh


def test_the_reminder_card_of_an_order(qtbot, cworker, actions, cstore, clock, tmp_path):
    order, _ = orders.add_order(cstore, NUMBER, platform="taobao", nickname="小鹿", shop="旗舰店", amount="128",
                                deadline=clock.now() + timedelta(minutes=50))
    clock.advance(timedelta(minutes=10))
    [item] = reminders.fire_due(cstore)
    assert item.kind == "order"
    card = ReminderCard(item, actions, clock)
    qtbot.addWidget(card)
    card.resize(400, 260)
    card.show()
    qtbot.waitUntil(lambda: card.proposal is not None, timeout=5000)
    meta = card.meta.text()
    assert "***************3345" in meta and "¥128.00" in meta and "还剩 40分" in meta and NUMBER not in meta
    assert f"color:{style.ERROR}" in meta  # the last hour: the countdown in red
    assert "尾号3345" in card.script.text() and card.lost_button.text() == "已关闭"
    assert "通用" not in card.script.text()  # an order script names this order
    assert card.grab().save(str(Path(os.environ.get("KEFU_SHOTS", tmp_path)) / "order_card.png"))
    card.on_paste()  # no paste flow here: copied, and the chase recorded for the order
    qtbot.waitUntil(lambda: cstore.query("SELECT count(*) AS n FROM chases")[0]["n"] == 1, timeout=5000)
    assert "尾号3345" in QGuiApplication.clipboard().text()
    assert cstore.query("SELECT state, outcome FROM reminders WHERE id = ?", (item.id,))[0]["outcome"] == "chased"
    card.on_paid()
    qtbot.waitUntil(lambda: orders.get_order(cstore, order.id).status == "paid", timeout=5000)
    assert reminders.next_due(cstore) is None


def test_a_colleagues_buyer_has_its_order_buttons_disabled(qtbot, db_path, clock):
    """Team mode: 王五 follows 小鹿, so adding or marking 小鹿's orders waits for a take-over (the tooltip
    says who); the full number can still be asked for."""
    from assistant.services.worker import StoreWorker

    s = open_store(db_path, clock)
    settings.set(s, "reminders.agent_tz", "Asia/Shanghai")
    buyer = reminders.star(s, platform="taobao", shop="旗舰店", nickname="小鹿", marks=["意向明显"])
    orders.add_order(s, NUMBER, buyer_id=buyer.id, amount="128")
    settings.set(s, "team.server", "postgresql://kefu.example/kefu")
    settings.set(s, "team.role", "kefu_t1_li")
    with s.write() as db:
        db.execute("UPDATE buyers SET holder = 'kefu_t1_wang', holder_name = '王五', held_until = ?",
                   (to_db(clock.now() + timedelta(minutes=30)),))
    s.close()
    w = StoreWorker(db_path, clock=clock)
    w.start()
    try:
        t = BuyersTab(w, ChaseActions(w, clock), clock)
        qtbot.addWidget(t)
        t.show()
        box = t.orders_box
        qtbot.waitUntil(lambda: t.buyer is not None and len(box.items) == 1 and box.holder == "王五", timeout=5000)
        assert box.current() is not None
        for b in (box.add_button, box.paste_button, box.paid_button, box.closed_button):
            assert not b.isEnabled() and "王五 跟进中" in b.toolTip()
        assert box.reveal_button.isEnabled()
    finally:
        w.stop()


def test_a_shared_orders_full_number_is_revealed_by_the_team_server(qtbot, tab, cstore):
    """An order pulled from the team server holds only the masked number here: 显示完整订单号 asks the
    server (kefu_reveal_order_number, audited there) through the live sync's connection."""
    order, _ = orders.add_order(cstore, NUMBER, platform="taobao", nickname="小鹿", shop="旗舰店", amount="128")
    with cstore.write() as db:  # as a pull lands it on a colleague's panel
        db.execute("UPDATE orders SET order_no = ?", (orders.masking.mask_order(NUMBER),))
    box = tab.orders_box
    box.refresh()
    qtbot.waitUntil(lambda: len(box.items) == 1, timeout=5000)
    posted: list = []
    box.messages.message.connect(posted.append)
    box.reveal()  # no team connection: said so, nothing revealed
    qtbot.waitUntil(lambda: bool(posted), timeout=5000)
    assert "团队服务器" in posted[-1].zh and box.revealed is None
    asked: list = []

    class Conn:
        def execute(self, sql, params):
            asked.append((sql, params))
            return type("Cur", (), {"fetchone": lambda self: (NUMBER,)})()

    class Sync:
        def call(self, fn, on_done, on_error):
            on_done(fn(Conn()))

    box.team_sync = lambda: Sync()
    box.reveal()
    qtbot.waitUntil(lambda: box.reveal_button.text() == NUMBER, timeout=5000)
    assert asked == [("SELECT kefu_reveal_order_number(%s)", [order.uuid])]
    assert QGuiApplication.clipboard().text() == NUMBER
