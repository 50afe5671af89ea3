"""客户 and 提醒 tabs, the star dialog, and the reminders wiring in app.py (offscreen, FakeClock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QObject, Qt, Signal

from assistant.core import customers, products, reminders, settings
from assistant.core.clock import FakeClock
from assistant.core.store import open_store
from assistant.ui.buyers.buyers_tab import BuyersTab
from assistant.ui.reminders.reminders import ChaseActions
from assistant.ui.reminders.reminders_tab import RemindersTab
from tests.ui.uihelp import type_ime

START = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def cstore(db_path, clock):
    s = open_store(db_path, clock)
    settings.set(s, "reminders.agent_tz", "Asia/Shanghai")
    reminders.star(s, platform="taobao", shop="旗舰店", nickname="小鱼", marks=["意向明显", "高客单"],
                   phone="13812345678", notes="想要蓝色")
    reminders.star(s, platform="jd", shop="京东店", nickname="大树", marks=["低客单"])
    reminders.star(s, platform="pdd", shop="拼店", nickname="已付的", marks=["咨询未付款"])
    b = customers.find_buyer(s, "已付的")
    reminders.outcome(s, b.id, "paid")
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
    t.resize(380, 720)
    t.show()
    qtbot.waitUntil(lambda: t.list.count() == 3, timeout=5000)
    return t


def test_no_buyer_chosen_shows_labelled_greyed_buttons_and_no_empty_chip(qtbot, tab):
    tab.list.setCurrentRow(-1)
    tab._show(None)
    assert not tab.detail.isEnabled()
    assert tab.pause_button.text() == "暂停跟进" and tab.unstar_button.text() == "取消标星"
    assert tab.product_button.isHidden()
    tab.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: tab.buyer is not None)
    assert tab.product_button.isVisible()


def test_lists_starred_buyers_with_marks_and_masked_phone(tab):
    assert set(tab.nicknames()) == {"小鱼", "大树", "已付的"}
    fish = next(tab.list.item(i).data(Qt.ItemDataRole.UserRole + 1) for i in range(3)
                if tab.list.item(i).data(Qt.ItemDataRole.UserRole + 1).nickname == "小鱼")
    assert fish.marks == ["意向明显", "高客单"] or set(fish.marks) == {"意向明显", "高客单"}
    assert fish.phone_masked == "138****5678"


def test_filters_and_search(qtbot, tab):
    tab.state_filter.setCurrentIndex(tab.state_filter.findData("paid"))
    qtbot.waitUntil(lambda: tab.nicknames() == ["已付的"], timeout=5000)
    tab.state_filter.setCurrentIndex(0)
    tab.platform_filter.setCurrentIndex(tab.platform_filter.findData("jd"))
    qtbot.waitUntil(lambda: tab.nicknames() == ["大树"], timeout=5000)
    tab.platform_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: tab.mark_filter.count() > 1, timeout=5000)
    tab.mark_filter.setCurrentIndex(tab.mark_filter.findText("高客单"))
    qtbot.waitUntil(lambda: tab.nicknames() == ["小鱼"], timeout=5000)
    tab.mark_filter.setCurrentIndex(0)
    tab.shop_filter.setCurrentIndex(tab.shop_filter.findText("京东店"))
    qtbot.waitUntil(lambda: tab.nicknames() == ["大树"], timeout=5000)
    tab.shop_filter.setCurrentIndex(0)
    tab.search.setFocus()
    type_ime(tab.search, "小")
    qtbot.waitUntil(lambda: tab.nicknames() == ["小鱼"], timeout=5000)


def select(qtbot, tab, nick):
    for i in range(tab.list.count()):
        if tab.list.item(i).data(Qt.ItemDataRole.UserRole + 1).nickname == nick:
            tab.list.setCurrentRow(i)
    qtbot.waitUntil(lambda: tab.buyer is not None and tab.buyer.nickname == nick, timeout=5000)


def test_notes_saved_through_the_worker(qtbot, tab, cstore):
    select(qtbot, tab, "小鱼")
    assert tab.notes.toPlainText() == "想要蓝色"
    tab.notes.setPlainText("想要蓝色，周五发工资")
    assert tab.save_notes_button.isEnabled()
    qtbot.mouseClick(tab.save_notes_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: customers.find_buyer(cstore, "小鱼").notes == "想要蓝色，周五发工资", timeout=5000)


def test_phone_revealed_only_on_click(qtbot, tab):
    select(qtbot, tab, "小鱼")
    assert tab.phone_button.text() == "138****5678"
    qtbot.mouseClick(tab.phone_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.phone_button.text() == "13812345678", timeout=5000)


def test_chase_and_history(qtbot, tab, cstore, actions):
    cup = products.add_product(cstore, "真空保温杯", selling_points=["316不锈钢内胆，12小时保温"])
    products.link(cstore, customers.find_buyer(cstore, "大树").id, cup.id)  # no blanks: copied as is
    select(qtbot, tab, "大树")
    qtbot.mouseClick(tab.chase_button, Qt.MouseButton.LeftButton)  # no controller: copy + record
    qtbot.waitUntil(lambda: len(customers.chase_history(cstore, customers.find_buyer(cstore, "大树").id)) == 1,
                    timeout=5000)
    qtbot.waitUntil(lambda: tab.history.count() == 1 and "商品卖点" in tab.history.item(0).text(), timeout=5000)


def test_outcome_buttons(qtbot, tab, cstore):
    select(qtbot, tab, "大树")
    qtbot.mouseClick(tab.lost_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: customers.find_buyer(cstore, "大树").state == "lost", timeout=5000)
    qtbot.waitUntil(lambda: tab.buyer.state == "lost" and not tab.lost_button.isEnabled(), timeout=5000)
    qtbot.mouseClick(tab.pause_button, Qt.MouseButton.LeftButton)  # 恢复跟进
    qtbot.waitUntil(lambda: customers.find_buyer(cstore, "大树").state == "following", timeout=5000)


def test_star_dialog(qtbot, tab, cstore):
    dialog = tab.open_star_dialog("新买家")
    qtbot.waitUntil(lambda: len(dialog.mark_buttons) > 0, timeout=5000)
    dialog.platform.setCurrentIndex(dialog.platform.findData("aliexpress"))
    dialog.shop.setCurrentText("AE店")
    next(b for b in dialog.mark_buttons if b.text() == "高客单").setChecked(True)
    dialog.tz.setCurrentText("Europe/Moscow")
    dialog.phone.setText("+7 900 123 45 67")
    dialog.open_questions.setChecked(True)
    dialog.submit()
    qtbot.waitUntil(lambda: "新买家" in tab.nicknames(), timeout=5000)
    b = customers.find_buyer(cstore, "新买家")
    assert (b.platform, b.shop, b.tz, b.open_questions, b.cadence_id) == \
        ("aliexpress", "AE店", "Europe/Moscow", True, "high_ticket")
    assert b.marks == ["高客单"]


def test_star_dialog_reports_errors(qtbot, tab):
    dialog = tab.open_star_dialog("")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=5000)
    assert dialog.isVisible()


# ------------------------------------------------------------------ 提醒 tab

def test_reminders_tab_sections_and_actions(qtbot, cworker, actions, clock, cstore):
    t = RemindersTab(cworker, actions, clock)
    qtbot.addWidget(t)
    t.show()
    qtbot.waitUntil(lambda: sum(len(v) for v in t.sections.values()) == 2, timeout=5000)
    # 低客单 chases inside the visit (minutes); 高客单 spreads over days (later today or tomorrow)
    assert t.sections["now"] == [] and len(t.sections["hour"]) == 1
    clock.advance(timedelta(minutes=4))
    t.refresh()
    qtbot.waitUntil(lambda: len(t.sections["now"]) == 1, timeout=5000)
    assert t.card is not None
    first = t.card.item
    qtbot.mouseClick(t.card.paid_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.id not in t.current_ids()["now"], timeout=5000)
    assert customers.get_buyer(cstore, first.buyer_id).state == "paid"


# ------------------------------------------------------------------ app wiring

class FakePasteFlow(QObject):
    star_requested = Signal(str)
    aftersales_requested = Signal(str)
    next_chase_requested = Signal(int)
    usage_recorded = Signal(int)
    attributed_paste_done = Signal(str, int, bool)
    attributed_values = Signal(str, dict)

    def __init__(self) -> None:
        super().__init__()
        self.pasted: list[tuple] = []

    def paste_reply_attributed(self, reply_id: int, values: dict, attribution: str) -> None:
        self.pasted.append((None, reply_id, values))
        self.usage_recorded.emit(reply_id)
        self.attributed_paste_done.emit(attribution, reply_id, True)

    def paste_reply_to_attributed(self, token: int, reply_id: int, values: dict, attribution: str) -> None:
        self.pasted.append((token, reply_id, values))
        self.usage_recorded.emit(reply_id)
        self.attributed_paste_done.emit(attribution, reply_id, True)

    def set_review_guard(self, guard) -> None:  # noqa: ANN001
        self.guard = guard

    def paste_reply(self, reply_id: int, values: dict) -> None:
        self.pasted.append(("panel", reply_id, values))


def test_wire_reminders(qtbot, qapp, make_panel, cworker, clock, cstore):
    from assistant.app import wire_reminders
    from assistant.ui.widgets.tray import Tray

    panel = make_panel()
    flow = FakePasteFlow()
    parts = wire_reminders(qapp, panel, Tray(), cworker, flow, {}, clock)
    try:
        assert panel.pages.widget(1) is parts["buyers_tab"] and panel.pages.widget(2) is parts["reminders_tab"]
        assert not parts["buyers_tab"].is_built()  # a LazyPage: built when the tab is first opened
        clock.advance(timedelta(minutes=4))
        parts["scheduler"].fire()
        qtbot.waitUntil(lambda: parts["popup"].count() >= 1, timeout=5000)
        shown = parts["popup"].count()
        flow.next_chase_requested.emit(7)  # the next-chase hotkey pastes the first due buyer's script
        qtbot.waitUntil(lambda: bool(flow.pasted), timeout=5000)
        token, reply_id, values = flow.pasted[0]
        assert token == 7 and values["客户"] in ("小鱼", "大树")
        nick = values["客户"]
        qtbot.waitUntil(lambda: len(customers.chase_history(cstore, customers.find_buyer(cstore, nick).id)) == 1,
                        timeout=5000)
        qtbot.waitUntil(lambda: parts["popup"].count() == shown - 1, timeout=5000)
        flow.star_requested.emit("热键买家")
        qtbot.waitUntil(lambda: "热键买家" in panel.message_bar.text(), timeout=5000)
        clock.advance(timedelta(minutes=4))  # the buyer starred by the hotkey falls due
        parts["scheduler"].fire()
        qtbot.waitUntil(lambda: parts["popup"].count() >= 1, timeout=5000)
        card = next(iter(parts["popup"].cards.values()))
        qtbot.mouseClick(card.open_button, Qt.MouseButton.LeftButton)
        assert panel.current_tab() == "buyers" and parts["buyers_tab"].is_built()
        tab = parts["buyers_tab"].page()
        qtbot.waitUntil(lambda: tab.buyer is not None and tab.buyer.nickname == card.item.nickname, timeout=5000)
    finally:
        parts["scheduler"].stop()
        parts["popup"].dismiss()
        parts["popup"].deleteLater()


@pytest.fixture
def wired_panel(qtbot, qapp, make_panel, cworker, clock, cstore):
    """The panel with its 客户, 提醒 and 交接 pages, and a reminder card on the 提醒 page."""
    from assistant.app import wire_reminders
    from assistant.ui.handover.handover_tab import HandoverTab
    from assistant.ui.widgets.tray import Tray

    panel = make_panel()
    parts = wire_reminders(qapp, panel, Tray(), cworker, None, {}, clock)
    panel.add_tab(*HandoverTab.TAB, HandoverTab(cworker))  # as app.py does, after the reminders wiring
    clock.advance(timedelta(minutes=4))
    parts["scheduler"].fire()
    qtbot.waitUntil(lambda: parts["popup"].count() >= 1, timeout=5000)
    qtbot.waitUntil(lambda: parts["buyers_tab"].page().shop_filter.count() > 1, timeout=5000)
    yield panel, parts
    parts["scheduler"].stop()
    parts["popup"].dismiss()
    parts["popup"].deleteLater()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_page_fits_a_360_px_panel(qtbot, wired_panel, lang):
    from PySide6.QtWidgets import QApplication

    from assistant.ui.widgets import i18n

    panel, parts = wired_panel
    i18n.install(lang)
    QApplication.processEvents()  # LanguageChange is a posted event
    panel.resize(360, 800)
    tab = parts["buyers_tab"].page()
    for page in ("buyers", "reminders", "handover", "replies"):
        panel.show_tab(page)
        qtbot.wait(50)
        assert panel.minimumSizeHint().width() <= 360, (lang, page, panel.minimumSizeHint())
    assert panel.tabs.width() >= panel.tabs.sizeHint().width()  # every tab label whole
    panel.show_tab("buyers")
    qtbot.waitUntil(lambda: tab.mark_filter.width() > 40)
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    for combo in (tab.mark_filter, tab.state_filter, tab.platform_filter, tab.shop_filter):
        option = QStyleOptionComboBox()
        combo.initStyleOption(option)
        field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                             QStyle.SubControl.SC_ComboBoxEditField, combo)
        text = combo.fontMetrics().horizontalAdvance(combo.itemText(0))
        assert field.width() >= text, (lang, combo.itemText(0), field.width(), text)  # not "全部标i"


def test_live_switch_relabels_filters_history_and_cadence_names(qtbot, wired_panel):
    from assistant.ui.widgets import i18n

    panel, parts = wired_panel
    tab = parts["buyers_tab"].page()
    panel.show_tab("buyers")
    qtbot.waitUntil(lambda: tab.history.count() > 0, timeout=5000)
    card = next(c for c in parts["popup"].cards.values() if c.item.nickname == "大树")
    assert "低客单 第 1/3 次" in card.meta.text()
    i18n.install("en")
    qtbot.waitUntil(lambda: tab.state_filter.itemText(0) == "Status")
    assert (tab.mark_filter.itemText(0), tab.shop_filter.itemText(0)) == ("Marks", "Shop")
    qtbot.waitUntil(lambda: tab.history.item(0).text() == "No chases yet", timeout=5000)
    assert "Low ticket: chase 1/3" in card.meta.text()  # the cadence's English name (the mark chip is data)


# the offscreen platform cannot grab the keyboard for the popup menu
@pytest.mark.qt_log_ignore("^This plugin does not support grabbing the keyboard$", extend=True)
def test_mood_in_one_click_and_the_review_invite_only_when_pleased(qtbot, tab, cstore, tmp_path):
    from assistant.core import invites

    guards: list = []
    pasted: list = []
    tab.review_guard_changed.connect(guards.append)
    tab.invite_paste_requested.connect(lambda rid, values: pasted.append((rid, values)))
    select(qtbot, tab, "小鱼")
    qtbot.waitUntil(lambda: tab.guard is not None and tab.guard.buyer_id == tab.buyer.id, timeout=5000)
    assert not tab.invite_button.isEnabled() and "满意" in tab.invite_reason.text()
    assert not any(b.isChecked() for b in tab.mood_buttons.values())
    qtbot.mouseClick(tab.mood_buttons["pleased"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: customers.find_buyer(cstore, "小鱼").mood == "pleased", timeout=5000)
    qtbot.waitUntil(lambda: tab.invite_button.isEnabled() and tab.invite_reason.text() == "", timeout=5000)
    assert tab.mood_buttons["pleased"].isChecked() and guards[-1].verdict.allowed
    tab.grab().save(str(tmp_path / "buyers_mood.png"))
    qtbot.mouseClick(tab.invite_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.invite_menu is not None and bool(tab.invite_menu.actions()), timeout=5000)
    titles = [a.text() for a in tab.invite_menu.actions()]
    assert "收货满意" in titles and len(titles) == len(invites.invite_reply_ids(cstore))
    tab.invite_menu.actions()[titles.index("收货满意")].trigger()
    assert pasted and pasted[-1][1] == {"客户": "小鱼"}
    tab.invite_menu.close()

    qtbot.mouseClick(tab.mood_buttons["angry"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.invite_button.isEnabled() and "生气" in tab.invite_reason.text(), timeout=5000)
    assert not tab.mood_buttons["pleased"].isChecked() and not guards[-1].verdict.allowed
    qtbot.mouseClick(tab.mood_buttons["angry"], Qt.MouseButton.LeftButton)  # a second click clears it
    qtbot.waitUntil(lambda: customers.find_buyer(cstore, "小鱼").mood is None, timeout=5000)
