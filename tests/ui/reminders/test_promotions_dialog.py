"""大促 dialog (提醒 tab → 大促活动…): new, moved and deleted promotions through the worker, the start
typed in the agent's time zone, bad input one line with nothing stored (pytest-qt, offscreen)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, QDateTime, QTime

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
