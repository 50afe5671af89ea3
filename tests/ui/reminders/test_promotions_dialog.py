"""大促 dialog (提醒 tab → 大促活动…): new, moved and deleted promotions through the worker, the start
typed in the agent's time zone, bad input one line with nothing stored (pytest-qt, offscreen)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, QDateTime, Qt, QTime

from assistant.core import reminders, settings
from assistant.ui.reminders.promotions_dialog import PromotionsDialog
from tests.helpers import reminders as rf
from tests.helpers.reminders import star

clock, cstore, cworker, mono, scheduler = (rf.clock, rf.cstore, rf.cworker, rf.mono, rf.scheduler)
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def reminder_db(db_path):
    return db_path


@pytest.fixture
def dialog(qtbot, cstore, cworker, clock):
    d = PromotionsDialog(cworker, clock)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.data is not None, timeout=5000)
    return d


def set_start(d: PromotionsDialog, when: datetime) -> None:
    d.start.setDateTime(QDateTime(QDate(when.year, when.month, when.day), QTime(when.hour, when.minute)))


def test_a_promotion_added_moved_and_deleted_from_the_panel(qtbot, dialog, cstore, clock):
    star(cstore, "意向买家", marks=["意向明显"])
    assert dialog.empty.isVisibleTo(dialog) and not dialog.edit_button.isEnabled()
    dialog.start_new()
    assert dialog.form_box.isVisibleTo(dialog) and not dialog.shop.isVisibleTo(dialog)  # no team: the agent's own
    dialog.name.setText("双十一")
    set_start(dialog, datetime(2026, 11, 11, 0, 0))  # typed in Shanghai time (reminders.agent_tz)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=5000)
    (promo,) = reminders.list_promotions(cstore)
    assert promo.name == "双十一" and promo.start_at == datetime(2026, 11, 11, 0, 0, tzinfo=SH)
    assert promo.wave_total == 1 and "双十一" in dialog.list.item(0).text() and "11-10 21:00" in dialog.list.item(0).text()
    assert not dialog.form_box.isVisibleTo(dialog)

    dialog.list.setCurrentRow(0)
    dialog.start_edit()
    assert dialog.name.text() == "双十一" and dialog.start.dateTime().time().hour() == 0
    set_start(dialog, datetime(2026, 11, 11, 20, 0))
    dialog.save()
    qtbot.waitUntil(lambda: "11-11 17:00" in dialog.list.item(0).text(), timeout=5000)
    (moved,) = reminders.list_promotions(cstore)
    assert moved.start_at == datetime(2026, 11, 11, 20, 0, tzinfo=SH) and moved.phone_at == moved.start_at - timedelta(hours=3)

    dialog.list.setCurrentRow(0)
    dialog.delete_current()
    qtbot.waitUntil(lambda: dialog.list.count() == 0, timeout=5000)
    assert reminders.list_promotions(cstore) == []


def test_a_start_in_the_past_is_one_line_and_nothing_is_stored(qtbot, dialog, cstore, clock):
    dialog.start_new()
    dialog.name.setText("过去的活动")
    past = clock.now().astimezone(SH) - timedelta(days=1)
    set_start(dialog, past)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=5000)
    assert "已经过去" in dialog.error.text() and "\n" not in dialog.error.text()
    assert reminders.list_promotions(cstore) == [] and dialog.form_box.isVisibleTo(dialog)
    dialog.name.setText("")
    set_start(dialog, past + timedelta(days=5))
    dialog.save()
    qtbot.waitUntil(lambda: "活动名称" in dialog.error.text(), timeout=5000)
    assert reminders.list_promotions(cstore) == []


def test_a_supervisor_may_make_it_the_shops_promotion(qtbot, cworker, cstore, clock):
    settings.set(cstore, "team.server", "postgresql://127.0.0.1/kefu")
    settings.set(cstore, "team.role", "kefu_t1_sup")
    settings.set(cstore, "team.kind", "supervisor")
    with cstore.write() as db:
        db.execute("INSERT INTO team_shops (uuid, name) VALUES ('8a3c0d6e-0000-4000-8000-000000000001', '旗舰店')")
    d = PromotionsDialog(cworker, clock)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.data is not None and d.shop.count() == 2, timeout=5000)
    d.start_new()
    assert d.shop.isVisibleTo(d) and "旗舰店" in d.shop.itemText(1)


def test_the_phone_list_is_worked_from_the_panel(qtbot, cworker, cstore, clock):
    """The phone-list card's 电话名单 (and the 大促 dialog's) opens the list: full numbers, local time;
    接通 / 未接 / 改约 / 勿扰 in one click each through the worker; the SMS is copied for everyone first."""
    from PySide6.QtGui import QGuiApplication

    from assistant.ui.reminders.reminders import ChaseActions

    marks = ["高客单", "意向明显"]
    a = star(cstore, "大单甲", marks=marks, phone="13800000001")
    b = star(cstore, "大单乙", marks=marks, phone="13800000002")
    c = star(cstore, "大单丙", marks=marks, phone="13800000003")
    promo = reminders.add_promotion(cstore, "双十一", clock.now() + timedelta(hours=4))
    clock.advance(timedelta(hours=1, minutes=1))  # the T-3h list is due
    (card_item,) = [r for r in reminders.fire_due(cstore) if r.kind == "phone"]
    actions = ChaseActions(cworker, clock)
    dialog = actions.open_call_list(card_item.promotion_id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.data is not None and dialog.list.count() == 3, timeout=5000)
    assert "13800000001" in dialog.list.item(0).text() and "当地" in dialog.list.item(0).text()
    assert dialog.windowTitle() == "电话名单：双十一"
    dialog.list.setCurrentRow(0)
    dialog.record("answered")
    qtbot.waitUntil(lambda: [e.status for e in dialog.data.entries].count("done") == 1, timeout=5000)
    dialog.list.setCurrentRow(0)
    first = dialog.current().buyer_id
    dialog.record("no_answer")
    qtbot.waitUntil(lambda: any(e.buyer_id == first and e.status == "later" for e in dialog.data.entries), timeout=5000)
    chosen = next(n for n in range(dialog.list.count()) if dialog.list.item(n).data(Qt.ItemDataRole.UserRole + 1).status
                  == "to_call")
    dialog.list.setCurrentRow(chosen)
    last = dialog.current().buyer_id
    dialog.do_not_call()
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=5000)
    statuses = {e.buyer_id: e.status for e in reminders.phone_list(cstore, promo.id, clock.now())}
    assert last not in statuses and sorted(statuses.values()) == ["done", "later"]
    assert {a.id, b.id, c.id} - set(statuses) == {last}
    # a past 改约 time is one line, nothing recorded
    dialog.list.setCurrentRow(0)
    past = clock.now().astimezone(SH) - timedelta(hours=1)
    dialog.later_at.setDateTime(QDateTime(QDate(past.year, past.month, past.day), QTime(past.hour, past.minute)))
    dialog.record("rescheduled")
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=5000)
    assert "以后的时间" in dialog.error.text()
    dialog.copy_sms()
    assert "双十一" in QGuiApplication.clipboard().text() and "{客户}" in QGuiApplication.clipboard().text()
    # shown once when the list opened, not again after every click
    shown = cstore.query("SELECT count(*) AS n FROM buyer_events WHERE kind = 'phone_revealed'")[0]["n"]
    assert shown == 3
