"""售后 tab (ui/aftersales): the form, the case view, its paste through the paste flow, the offer above
the limit, resolve/close/reopen; the entry points (客户 tab, reminder cards, the hotkey through app.py's
wiring); the 交接 tab's after-sales figures. Offscreen, FakeClock, the real StoreWorker."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication

from assistant.core import aftersales as af
from assistant.core import customers, reminders, replies, settings, templates
from assistant.core.clock import FakeClock
from assistant.core.store import open_store
from assistant.ui.aftersales.aftersales_tab import AftersalesTab
from assistant.ui.reminders.reminders import ChaseActions
from tests.ui.uihelp import type_ime

START = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)
ORDER = "260311223344556677"
# The moods are the core's (they are being renamed): the calmest first, the angriest last.
CALM, ANGRY = list(af.MOODS)[0], list(af.MOODS)[-1]


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def cstore(db_path, clock):
    s = open_store(db_path, clock)
    settings.set(s, "reminders.agent_tz", "Asia/Shanghai")
    settings.set(s, "agent.name", "小美")
    reminders.star(s, platform="taobao", shop="旗舰店", nickname="小鱼", marks=["意向明显"])
    reminders.star(s, platform="jd", shop="京东店", nickname="大树", marks=["低客单"])
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
    t = AftersalesTab(cworker, actions.messages, clock)
    qtbot.addWidget(t)
    t.resize(380, 900)
    t.show()
    return t


def buyer_id(store, nick: str) -> int:
    return customers.find_buyer(store, nick).id


def open_form(qtbot, tab, store, nick="小鱼"):
    tab.open_for_buyer(buyer_id(store, nick))
    qtbot.waitUntil(lambda: tab.current_page() == "form" and tab.form.category.count() > 1, timeout=5000)
    return tab.form


def fill(form, problem="收到杯子有裂缝，气死了，要退款", category="质量/破损", severity="medium",
         wanted="refund", mood=None):
    form.problem.setFocus()
    type_ime(form.problem, problem)
    form.order.setText(ORDER)
    type_ime(form.product, "保温杯")
    form.category.setCurrentIndex(form.category.findText(category))
    if severity:
        form.severity_buttons[severity].click()
    form.wanted.setCurrentIndex(form.wanted.findData(wanted))
    form.mood_buttons[mood or ANGRY].click()


def open_case(qtbot, tab, store, nick="小鱼", **kwargs) -> af.Case:
    form = open_form(qtbot, tab, store, nick)
    fill(form, **kwargs)
    form.save()
    qtbot.waitUntil(lambda: tab.current_page() == "case" and tab.view.data is not None, timeout=5000)
    return tab.view.data.case


# ------------------------------------------------------------------ the form

def test_form_refuses_bad_input_with_one_line_and_stores_nothing(qtbot, tab, cstore):
    form = open_form(qtbot, tab, cstore)
    assert form.buyer_label.text().count("小鱼") == 1 and not form.new_buyer.isVisibleTo(form)
    form.save()  # nothing filled in
    assert form.error.isVisibleTo(form) and form.error.text() == "请写下买家的问题（买家原话）"
    fill(form, severity=None)
    form.save()
    assert form.error.text() == "请选择严重程度：轻度、中度或严重"
    # the core's own refusal (a too long order number) comes back as one line too
    form.severity_buttons["light"].click()
    form.order.setMaxLength(500)
    form.order.setText("9" * 80)
    form.save()
    qtbot.waitUntil(lambda: form.error.isVisibleTo(form) and "订单号" in form.error.text(), timeout=5000)
    assert "\n" not in form.error.text() and form.order.property("invalid")
    assert af.list_cases(cstore, status="all") == []
    assert tab.current_page() == "form"


def test_open_a_case_through_the_form(qtbot, tab, cstore):
    form = open_form(qtbot, tab, cstore)
    fill(form)
    tab.activateWindow()
    form.product.setFocus()
    qtbot.waitUntil(lambda: form.product.hasFocus(), timeout=2000)
    qtbot.keyClick(form.product, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter saves
    qtbot.waitUntil(lambda: tab.current_page() == "case" and tab.view.data is not None, timeout=5000)
    case = tab.view.data.case
    stored = af.list_cases(cstore, buyer_id=buyer_id(cstore, "小鱼"))
    assert [c.id for c in stored] == [case.id]
    c = stored[0]
    assert (c.problem, c.category, c.severity, c.wanted, c.mood, c.product) == \
        ("收到杯子有裂缝，气死了，要退款", "质量/破损", "medium", "refund", ANGRY, "保温杯")
    assert af.reveal_order(cstore, c.id) == ORDER
    view = tab.view
    # the order number is shown masked, revealed only on a click
    assert ORDER not in view.order_label.text() and ORDER[-4:] in view.order_label.text()
    assert view.status_pill.text() == "新建" and view.mood_buttons[ANGRY].isChecked()
    qtbot.mouseClick(view.reveal_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ORDER in view.order_label.text(), timeout=5000)
    # the buyer is in after-sales: no sales chase any more
    assert customers.find_buyer(cstore, "小鱼").marks.count("售后中") == 1
    assert all(r.kind == "aftersales" for r in reminders.buyer_reminders(cstore, c.buyer_id))
    # Esc goes back to the list, where the case is
    view.note.setFocus()
    qtbot.waitUntil(lambda: view.note.hasFocus(), timeout=2000)
    qtbot.keyClick(view.note, Qt.Key.Key_Escape)
    assert tab.current_page() == "list"
    qtbot.waitUntil(lambda: tab.list.count() == 1, timeout=5000)
    assert "小鱼" in tab.list.item(0).text() and "新建" in tab.list.item(0).text()


def test_new_buyer_from_the_form_is_starred_with_the_case_in_one_transaction(qtbot, tab, cstore):
    tab.new_case_for("tb_新来的", "taobao", "旗舰店")
    form = tab.form
    qtbot.waitUntil(lambda: tab.current_page() == "form" and form.category.count() > 1, timeout=5000)
    assert form.new_buyer.isVisibleTo(form) and form.nickname.text() == "tb_新来的"
    fill(form, wanted="exchange")
    form.category.setCurrentIndex(0)
    form.save()
    assert form.error.text() == "请选择问题分类"
    # a nickname the core refuses: no buyer, no case
    form.category.setCurrentIndex(form.category.findText("物流问题"))
    form.nickname.setText("")
    form.save()
    qtbot.waitUntil(lambda: form.error.isVisibleTo(form) and "昵称" in form.error.text(), timeout=5000)
    assert cstore.query("SELECT count(*) AS n FROM buyers WHERE nickname = ''")[0]["n"] == 0
    # the buyer is starred, then the case refused (a problem too long): both undone, nobody starred
    form.nickname.setText("tb_新来的")
    long_problem = "太差了" * 700
    form.problem.setPlainText(long_problem)
    form.save()
    qtbot.waitUntil(lambda: form.error.isVisibleTo(form) and "问题描述" in form.error.text(), timeout=5000)
    assert cstore.query("SELECT count(*) AS n FROM buyers WHERE nickname = 'tb_新来的'")[0]["n"] == 0
    form.problem.setPlainText("快递一直不动")
    form.save()
    qtbot.waitUntil(lambda: tab.current_page() == "case", timeout=5000)
    buyer = customers.find_buyer(cstore, "tb_新来的")
    assert buyer.starred and (buyer.platform, buyer.shop) == ("taobao", "旗舰店")
    assert [c.category for c in af.list_cases(cstore, buyer_id=buyer.id)] == ["物流问题"]
    # starred and in after-sales at once: the star's sales chase was ended by the case
    assert {r.kind for r in reminders.buyer_reminders(cstore, buyer.id)} == {"aftersales"}


# ------------------------------------------------------------------ the case view

class RecordingFlow(QObject):
    """The paste flow as the case view sees it (app.py connects paste_requested to paste_reply)."""

    def __init__(self) -> None:
        super().__init__()
        self.pasted: list[tuple[int, dict]] = []

    def paste_reply(self, reply_id: int, values: dict) -> None:
        self.pasted.append((reply_id, values))


def test_without_the_paste_flow_scripts_are_copied_whole_or_not_at_all(qtbot, tab, cstore, actions):
    warnings = []
    actions.messages.message.connect(lambda m: m.level == "warning" and warnings.append(m.zh))
    open_case(qtbot, tab, cstore)
    view = tab.view
    rendered = [(b.script, templates.render(b.script.body, view._values())) for b in view.scripts]
    whole = next(s for s, r in rendered if not r.missing)
    blank = next(s for s, r in rendered if r.missing)  # the ladder's {金额} before an amount is typed
    QGuiApplication.clipboard().setText("之前复制的内容")
    view.paste(blank)
    assert warnings and "待填写" in warnings[-1] and QGuiApplication.clipboard().text() == "之前复制的内容"
    view.paste(whole)
    assert QGuiApplication.clipboard().text() == templates.render(whole.body, view._values()).text
    qtbot.waitUntil(lambda: replies.get_reply(cstore, whole.reply_id).use_count == 1, timeout=5000)
    assert replies.get_reply(cstore, blank.reply_id).use_count == 0


def test_steps_checklist_and_proposed_scripts_paste(qtbot, tab, cstore):
    flow = RecordingFlow()
    tab.paste_requested.connect(flow.paste_reply)
    tab.set_paste_available(True)
    case = open_case(qtbot, tab, cstore)
    view = tab.view
    steps = af.checklist(cstore, case.id)
    assert [s.current for s in steps] == [True, False, False, False]
    # the current step's scripts are the library's, then the ladder's; Alt+n numbers them all
    step_ids = [s.reply_id for s in steps[0].scripts]
    ladder_ids = [s.reply_id for s in af.proposal(cstore, case.id).scripts]
    assert [b.script.reply_id for b in view.scripts] == step_ids + ladder_ids and step_ids
    qtbot.mouseClick(view.scripts[0], Qt.MouseButton.LeftButton)
    assert flow.pasted == [(step_ids[0], {"客户": "小鱼", "商品": "保温杯"})]
    view.paste_script(len(step_ids) + 1)  # Alt+n: the first ladder script
    assert flow.pasted[-1][0] == ladder_ids[0]
    view.paste_script(99)  # no such script: nothing
    assert len(flow.pasted) == 2
    # the keyboard: Alt+2 with the focus anywhere in the case view
    view.activateWindow()
    view.note.setFocus()
    qtbot.waitUntil(lambda: view.note.hasFocus(), timeout=2000)
    qtbot.keyClick(view.note, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert flow.pasted[-1][0] == step_ids[1] and len(flow.pasted) == 3
    # move through the steps
    qtbot.mouseClick(view.advance_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.step == 2, timeout=5000)
    assert view.data.case.status == "calming" and view.status_pill.text() == "安抚中"
    assert [s.done for s in view.data.steps] == [True, False, False, False]
    second = [s.reply_id for s in af.scripts_for_step(cstore, 2)]
    assert [b.script.reply_id for b in view.scripts][:len(second)] == second
    qtbot.mouseClick(view.advance_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.step == 3, timeout=5000)
    # the mood changes in one click
    view.mood_buttons[CALM].click()
    qtbot.waitUntil(lambda: af.get_case(cstore, case.id).mood == CALM, timeout=5000)
    # so does the severity, and the ladder's rung follows it
    assert view.severity_buttons["medium"].isChecked()
    view.severity_buttons["severe"].click()
    qtbot.waitUntil(lambda: view.data.case.severity == "severe", timeout=5000)
    assert view.data.proposal.severity == "severe" and view.data.proposal.zh in view.ladder_title.text()


def test_paste_goes_through_the_real_paste_flow(qtbot, tab, cstore, db_path):
    """A proposed script clicked in the case view reaches the chat window through PasteFlow (fake
    platform backend): rendered with the buyer's name, pasted with the chord, usage recorded."""
    from tests.helpers.fakes import FakeClipboard, FakeScheduler, Recorder, fake_backend
    from tests.helpers.hotkeys import ORIGINAL, Hotkeys

    log = Recorder()
    hk = Hotkeys(db_path, fake_backend(log), clipboard=FakeClipboard(log, ORIGINAL), scheduler=FakeScheduler(log))
    try:
        hk.start()
        hk.flow.remember_foreground()  # the chat window the agent used last
        tab.paste_requested.connect(hk.flow.paste_reply)
        tab.set_paste_available(True)
        open_case(qtbot, tab, cstore)  # 中度: the ladder's scripts offer a compensation of {金额}
        view = tab.view
        view.amount.setText("15")  # the amount in the offer row fills {金额}
        button = next(b for b in view.scripts if "{金额}" in b.script.body)
        script = button.script
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        texts = [e[1] for e in log if e[0] == "set_text"]
        assert texts == [templates.render(script.body, {"客户": "小鱼", "商品": "保温杯", "金额": "15"}).text]
        assert "15元" in texts[0] and "{" not in texts[0]
        assert any(e[0] == "chord" and e[1] == "ctrl+v" for e in log)
        hk.flow.scheduler.advance(2000)
        assert cstore.query("SELECT count(*) AS n FROM reply_uses WHERE reply_id = ?", (script.reply_id,))[0]["n"] == 1
    finally:
        hk.shutdown()


def test_offer_above_the_limit_is_blocked_and_becomes_an_escalation(qtbot, tab, cstore):
    case = open_case(qtbot, tab, cstore)  # 中度: the shipped limit compensates up to ¥20
    view = tab.view
    view.offer.setCurrentIndex(view.offer.findData("compensate"))
    view.amount.setText("50")
    qtbot.mouseClick(view.offer_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.blocked.isVisibleTo(view) and view.data.case.status == "manager", timeout=5000)
    assert "超出你的挽单权限" in view.blocked_reason.text() and "¥50.00" in view.blocked_reason.text()
    summary = view.summary.toPlainText()
    assert summary.startswith("【售后升级】") and "小鱼" in summary and ORDER not in summary
    assert view.status_pill.text() == "待主管"
    # never recorded as made by the agent
    kinds = [e.kind for e in af.history(cstore, case.id)]
    assert "offer" not in kinds and "offer_blocked" in kinds and "escalated" in kinds
    assert not view.offer_button.isEnabled()
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == summary
    # the summary is still there after a reload (another write, a restart of the view)
    view.show_case(case.id)
    qtbot.waitUntil(lambda: view.data is not None and view.blocked.isVisibleTo(view), timeout=5000)
    assert view.summary.toPlainText() == summary
    # single-agent mode: the agent records the supervisor's answer
    assert view.decision_card.isVisibleTo(view) and view.approve_button.isVisibleTo(view)
    qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.decision_error.isVisibleTo(view), timeout=5000)
    assert "主管姓名" in view.decision_error.text()
    view.decider.setText("王主管")
    qtbot.mouseClick(view.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.status == "proposed", timeout=5000)
    made = [e for e in af.history(cstore, case.id) if e.kind == "offer"]
    assert [(e.by_name, e.by_role, e.amount) for e in made] == [("王主管", "supervisor", 5000)]
    assert not view.blocked.isVisibleTo(view) and "王主管" in view.decision_label.text()


def test_offer_within_the_limit_is_made(qtbot, tab, cstore):
    case = open_case(qtbot, tab, cstore)
    view = tab.view
    view.offer.setCurrentIndex(view.offer.findData("compensate"))
    view.amount.setText("10")
    qtbot.mouseClick(view.offer_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.status == "proposed", timeout=5000)
    assert not view.blocked.isVisibleTo(view)
    assert [(e.by_name, e.amount) for e in af.history(cstore, case.id) if e.kind == "offer"] == [("小美", 1000)]
    # a compensation without an amount is refused under the offer row
    view.amount.setText("")
    qtbot.mouseClick(view.offer_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.offer_error.isVisibleTo(view), timeout=5000)
    assert "金额" in view.offer_error.text()


def test_team_agent_may_not_record_a_decision(qtbot, tab, cstore):
    case = open_case(qtbot, tab, cstore)
    af.escalate(cstore, case.id, reason="买家要找主管")
    settings.set(cstore, "team.server", "postgresql://team.example/kefu")
    settings.set(cstore, "team.role", "kefu_xiaomei")
    settings.set(cstore, "team.kind", "agent")
    assert customers.team_role(cstore) == "kefu_xiaomei"
    tab.view.show_case(case.id)
    qtbot.waitUntil(lambda: tab.view.data is not None and tab.view.data.case.status == "manager", timeout=5000)
    assert not tab.view.data.may_decide and not tab.view.approve_button.isVisibleTo(tab.view)
    settings.set(cstore, "team.kind", "supervisor")  # a supervisor decides under their own login
    tab.view.show_case(case.id)
    qtbot.waitUntil(lambda: tab.view.data is not None and tab.view.data.may_decide, timeout=5000)
    assert tab.view.approve_button.isVisibleTo(tab.view) and tab.view.decider.text() == "kefu_xiaomei"


def test_warehouse_callback_followed_up_resolve_close_reopen(qtbot, tab, cstore, clock):
    case = open_case(qtbot, tab, cstore, severity="light", wanted="compensation")
    view = tab.view
    qtbot.mouseClick(view.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.status == "warehouse", timeout=5000)
    assert not view.check_button.isEnabled()
    view.findings.setText("出库前检查过，包装完好")
    view.findings_by.setText("仓库老张")
    qtbot.mouseClick(view.findings_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.status == "calming", timeout=5000)
    assert "包装完好" in view.findings_label.text() and view.findings.text() == ""
    # promise a call-back: a reminder at exactly that time
    qtbot.mouseClick(view.callback_buttons[60], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(r.cadence_id == af.CALLBACK_CADENCE for r in af.followups(cstore, case.id)),
                    timeout=5000)
    due = [r.due_at for r in af.followups(cstore, case.id) if r.cadence_id == af.CALLBACK_CADENCE]
    assert due == [START + timedelta(hours=1)]
    view.callback_at.setText("25:99")
    view.promise_at()
    assert view.follow_error.isVisibleTo(view)
    view.callback_at.setText("16:30")  # Shanghai: 08:30 UTC, today
    view.promise_at()
    qtbot.waitUntil(lambda: len([r for r in af.followups(cstore, case.id)
                                 if r.cadence_id == af.CALLBACK_CADENCE]) == 2, timeout=5000)
    assert START.replace(hour=8, minute=30) in [r.due_at for r in af.followups(cstore, case.id)]
    clock.advance(timedelta(minutes=20))
    qtbot.mouseClick(view.followed_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "followed_up" in [e.kind for e in af.history(cstore, case.id)], timeout=5000)
    # resolve: a compensation above the limit that was never approved is refused, in place
    view.outcome.setCurrentIndex(view.outcome.findData("compensated"))
    view.outcome_amount.setText("80")
    qtbot.mouseClick(view.resolve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.end_error.isVisibleTo(view), timeout=5000)
    assert "超出你的挽单权限" in view.end_error.text() and af.get_case(cstore, case.id).open
    view.outcome_amount.setText("8")
    qtbot.mouseClick(view.resolve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.status == "resolved", timeout=5000)
    assert (view.data.case.outcome, view.data.case.outcome_amount) == ("compensated", 800)
    assert not view.resolve_row.isVisibleTo(view) and view.reopen_button.isVisibleTo(view)
    assert "售后中" not in customers.find_buyer(cstore, "小鱼").marks
    qtbot.mouseClick(view.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.status == "closed", timeout=5000)
    assert not view.close_button.isVisibleTo(view)
    qtbot.mouseClick(view.reopen_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.status == "calming", timeout=5000)
    # history, newest first, with who did it
    lines = [view.history_box.itemAt(i).widget().text() for i in range(view.history_box.count())]
    assert "重新打开" in lines[0] and "仓库老张（仓库）" in " ".join(lines) and "开单" in lines[-1]
    view.note.setText("买家说周末在家")
    view.add_note()
    qtbot.waitUntil(lambda: "note" in [e.kind for e in af.history(cstore, case.id)], timeout=5000)


def test_close_an_open_case_as_withdrawn_and_the_list(qtbot, tab, cstore):
    case = open_case(qtbot, tab, cstore)
    view = tab.view
    qtbot.mouseClick(view.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data.case.status == "closed", timeout=5000)
    assert view.data.case.outcome == "withdrawn"
    view.back_requested.emit()
    assert tab.current_page() == "list"
    qtbot.waitUntil(lambda: tab.list.count() == 0 and tab.empty.isVisibleTo(tab), timeout=5000)
    assert tab.empty.text().startswith("没有未结的售后单")
    tab.closed_filter.click()
    qtbot.waitUntil(lambda: tab.list.count() == 1, timeout=5000)
    assert tab.list.item(0).text().startswith(f"{case.ref}  小鱼") and "已关闭" in tab.list.item(0).text()
    tab._activated(tab.list.item(0))
    assert tab.current_page() == "case"


# ------------------------------------------------------------------ entry points

def test_buyers_tab_lists_open_cases_and_its_button_opens_them(qtbot, cworker, actions, clock, cstore, tab,
                                                              tmp_path):
    from assistant.ui.buyers.buyers_tab import BuyersTab

    actions.open_case.connect(tab.show_case)
    actions.open_aftersales.connect(tab.open_for_buyer)
    buyers = BuyersTab(cworker, actions, clock)
    qtbot.addWidget(buyers)
    buyers.resize(380, 720)
    buyers.show()
    qtbot.waitUntil(lambda: buyers.list.count() == 2, timeout=5000)
    for i in range(buyers.list.count()):
        if buyers.list.item(i).data(Qt.ItemDataRole.UserRole + 1).nickname == "大树":
            buyers.list.setCurrentRow(i)
    qtbot.waitUntil(lambda: buyers.buyer is not None and buyers.buyer.nickname == "大树", timeout=5000)
    qtbot.waitUntil(lambda: buyers.case_button.text() == "开售后单", timeout=5000)
    assert not buyers.cases_label.isVisibleTo(buyers)
    qtbot.mouseClick(buyers.case_button, Qt.MouseButton.LeftButton)  # no case yet: the form for 大树
    qtbot.waitUntil(lambda: tab.current_page() == "form" and tab.form.category.count() > 1, timeout=5000)
    assert tab.form.target.buyer_id == buyer_id(cstore, "大树")
    fill(tab.form)
    tab.form.save()
    qtbot.waitUntil(lambda: tab.current_page() == "case" and tab.view.data is not None, timeout=5000)
    case = tab.view.data.case
    qtbot.waitUntil(lambda: buyers.cases_label.isVisibleTo(buyers) and case.ref in buyers.cases_label.text(),
                    timeout=5000)
    assert buyers.case_button.text() == "售后单" and "新建" in buyers.cases_label.text()
    assert not buyers.chase_button.isEnabled() and "售后" in buyers.chase_button.toolTip()  # no chase now
    buyers.grab().save(str(tmp_path / "buyers_with_case.png"))
    tab.show_list()
    buyers.cases_label.linkActivated.emit(str(case.id))  # a click on "#n 新建 · 质量/破损"
    qtbot.waitUntil(lambda: tab.current_page() == "case" and tab.view.case_id == case.id, timeout=5000)
    tab.show_list()
    qtbot.mouseClick(buyers.case_button, Qt.MouseButton.LeftButton)  # now opens that case, no second one
    qtbot.waitUntil(lambda: tab.current_page() == "case", timeout=5000)
    assert len(af.list_cases(cstore, buyer_id=case.buyer_id)) == 1


def test_reminder_cards_open_the_case(qtbot, cworker, actions, clock, cstore, tab, tmp_path):
    from assistant.ui.reminders.reminders import ReminderCard

    actions.open_case.connect(tab.show_case)
    actions.open_aftersales.connect(tab.open_for_buyer)
    fish = buyer_id(cstore, "小鱼")
    # a sales chase card: 售后 opens the form for that buyer
    chase = next(r for r in reminders.buyer_reminders(cstore, buyer_id(cstore, "大树")) if r.kind == "chase")
    card = ReminderCard(chase, actions, clock)
    qtbot.addWidget(card)
    card.show()
    assert card.case_button.isVisible() and card.paste_button.isVisible() and card.paid_button.isVisible()
    assert card.lost_button.isVisible() and not card.followed_button.isVisible()
    qtbot.mouseClick(card.case_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.current_page() == "form" and tab.form.target.buyer_id == buyer_id(cstore, "大树"),
                    timeout=5000)
    # an after-sales follow-up card: its case, and 已跟进
    case = af.open_case(cstore, buyer_id=fish, problem="快递三天没动", category="logistics", severity="light",
                        wanted="explanation")
    clock.advance(timedelta(minutes=6))
    item = next(r for r in reminders.due(cstore, clock.now()) if r.kind == "aftersales")
    fcard = ReminderCard(item, actions, clock)
    qtbot.addWidget(fcard)
    fcard.show()
    qtbot.waitUntil(lambda: fcard.case is not None, timeout=5000)
    assert not fcard.paste_button.isVisible() and not fcard.paid_button.isVisible()
    assert fcard.followed_button.isVisible() and fcard.case_button.text() == "打开售后单"
    assert "快递三天没动" in fcard.script.text() and case.ref in fcard.script.text()
    for c in (card, fcard):
        c.setFixedWidth(398)  # the popup's width
        c.adjustSize()
    card.grab().save(str(tmp_path / "chase_card.png"))
    fcard.grab().save(str(tmp_path / "followup_card.png"))
    from assistant.ui.widgets import i18n

    i18n.install("en")
    qtbot.waitUntil(lambda: fcard.followed_button.text() == "Followed up", timeout=5000)
    for c in (card, fcard):
        c.adjustSize()
    card.grab().save(str(tmp_path / "chase_card_en.png"))
    fcard.grab().save(str(tmp_path / "followup_card_en.png"))
    for c in (card, fcard):
        for b in (c.paste_button, c.snooze_button, c.paid_button, c.lost_button, c.case_button, c.followed_button):
            if b.isVisible() and b.text():  # every label whole at the popup's width
                assert b.width() >= b.sizeHint().width(), (b.text(), b.width(), b.sizeHint().width())
    i18n.install("zh_CN")
    qtbot.mouseClick(fcard.case_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.current_page() == "case" and tab.view.case_id == case.id, timeout=5000)
    handled: list[int] = []
    actions.handled.connect(handled.append)
    qtbot.mouseClick(fcard.followed_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: handled == [item.id], timeout=5000)
    assert cstore.query("SELECT state FROM reminders WHERE id = ?", (item.id,))[0]["state"] == "done"
    assert "followed_up" in [e.kind for e in af.history(cstore, case.id)]


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
        self.pasted.append(("chase", reply_id, values))

    def paste_reply_to_attributed(self, token: int, reply_id: int, values: dict, attribution: str) -> None:
        self.pasted.append((token, reply_id, values))

    def set_review_guard(self, guard) -> None:  # noqa: ANN001
        self.guard = guard

    def paste_reply(self, reply_id: int, values: dict) -> None:
        self.pasted.append(("panel", reply_id, values))


def test_hotkey_path_through_app_wiring(qtbot, qapp, make_panel, cworker, clock, cstore):
    """app.wire_reminders: the after-sales hotkey's nickname opens the buyer's case (or the form, for a
    nickname nobody has yet) in the 售后 tab, shown without taking focus; a proposed script pastes
    through the flow."""
    from assistant.app import wire_reminders
    from assistant.ui.widgets.tray import Tray

    panel = make_panel()
    flow = FakePasteFlow()
    parts = wire_reminders(qapp, panel, Tray(), cworker, flow, {}, clock)
    lazy = parts["aftersales_tab"]  # a LazyPage: the 售后 page is built when an entry point needs it
    try:
        panel.show_tab("replies")
        assert not lazy.is_built()
        flow.aftersales_requested.emit("小鱼")  # known buyer, no case: the form for them
        qtbot.waitUntil(lambda: lazy.is_built() and lazy.page().current_page() == "form"
                        and lazy.page().form.target is not None, timeout=5000)
        tab = lazy.page()
        assert panel.current_tab() == "aftersales" and tab.form.target.buyer_id == buyer_id(cstore, "小鱼")
        qtbot.waitUntil(lambda: tab.form.category.count() > 1, timeout=5000)
        fill(tab.form)
        tab.form.save()
        qtbot.waitUntil(lambda: tab.current_page() == "case" and tab.view.data is not None, timeout=5000)
        case = tab.view.data.case
        qtbot.mouseClick(tab.view.scripts[0], Qt.MouseButton.LeftButton)
        assert flow.pasted[-1] == ("panel", tab.view.scripts[0].script.reply_id, {"客户": "小鱼", "商品": "保温杯"})
        panel.show_tab("replies")
        tab.show_list()
        flow.aftersales_requested.emit("小鱼")  # now: that open case
        qtbot.waitUntil(lambda: tab.current_page() == "case" and tab.view.case_id == case.id, timeout=5000)
        assert panel.current_tab() == "aftersales"
        flow.aftersales_requested.emit("tb_没见过的")  # unknown: the form for a new buyer, nothing stored yet
        qtbot.waitUntil(lambda: tab.current_page() == "form" and tab.form.target.buyer_id is None, timeout=5000)
        assert tab.form.nickname.text() == "tb_没见过的"
        assert tab.form.platform.currentData() == "jd"  # the place of the last buyer starred (大树)
        assert cstore.query("SELECT count(*) AS n FROM buyers WHERE nickname = 'tb_没见过的'")[0]["n"] == 0
    finally:
        parts["scheduler"].stop()
        parts["popup"].dismiss()
        parts["popup"].deleteLater()


# ------------------------------------------------------------------ 交接 tab

def test_handover_tab_shows_after_sales_figures(qtbot, cworker, clock, cstore, tmp_path):
    from assistant.core import shifts
    from assistant.ui.handover.handover_tab import HandoverTab

    shifts.open_day(cstore)  # the shift the figures are counted for
    fish, tree = buyer_id(cstore, "小鱼"), buyer_id(cstore, "大树")
    a = af.open_case(cstore, buyer_id=fish, problem="破了", category="quality", severity="light", wanted="refund")
    b = af.open_case(cstore, buyer_id=tree, problem="发错颜色", category="wrong_item", severity="medium",
                     wanted="exchange")
    af.open_case(cstore, buyer_id=tree, problem="还没到", category="logistics", severity="light",
                 wanted="explanation")
    af.advance_step(cstore, a.id)
    af.resolve(cstore, a.id, "compensated", amount="8")
    af.advance_step(cstore, b.id)
    af.make_offer(cstore, b.id, "compensate", "50")  # above the limit: escalated
    af.decide(cstore, b.id, approve=True, by="王主管", offer="refund")
    clock.advance(timedelta(hours=2))
    af.resolve(cstore, b.id, "refunded", amount="99")
    t = HandoverTab(cworker)
    qtbot.addWidget(t)
    t.resize(380, 900)
    t.show()
    qtbot.waitUntil(lambda: t.snapshot is not None and t.snapshot.aftersales is not None, timeout=5000)
    cards = t.as_cards
    assert cards["open"].value.text() == "1" and cards["closed"].value.text() == "2"
    assert cards["compensation"].value.text() == "¥8.00" and cards["refunds"].value.text() == "1"
    assert cards["escalations"].value.text() == "1"
    assert cards["median"].value.text() not in ("", "—")
    assert "发错货 1（上期 0）" in t.as_reasons.text()
    qtbot.wait(50)  # the page's layout after the snapshot
    t.grab().save(str(tmp_path / "handover.png"))
    assert "1 小时" in cards["median"].value.text() or "小时" in cards["median"].value.text()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_tab_fits_a_360_px_panel(qtbot, qapp, make_panel, cworker, clock, cstore, tmp_path, lang):
    """The list, the form and a case waiting for the supervisor (the longest view) in a 360 px panel,
    every tab label whole; a screenshot of each is written for a look."""
    from PySide6.QtWidgets import QApplication

    from assistant.app import wire_reminders
    from assistant.ui.widgets import i18n
    from assistant.ui.widgets.tray import Tray

    case = af.open_case(cstore, buyer_id=buyer_id(cstore, "小鱼"), problem="收到的保温杯杯身有一道很深的划痕，还漏水，要求退款！",
                        category="quality", severity="medium", wanted="refund", mood=ANGRY, order_no=ORDER,
                        product="真空保温杯 500ml")
    af.make_offer(cstore, case.id, "compensate", "50")
    other = af.open_case(cstore, buyer_id=buyer_id(cstore, "大树"), problem="快递显示签收了，但我根本没收到，门卫也说没有",
                         category="logistics", severity="light", wanted="explanation")
    af.advance_step(cstore, other.id)
    panel = make_panel()
    parts = wire_reminders(qapp, panel, Tray(), cworker, None, {}, clock)
    try:
        i18n.install(lang)
        QApplication.processEvents()
        panel.resize(360, 800)
        panel.show_tab("aftersales")
        tab = parts["aftersales_tab"].page()  # built when the tab is first opened
        qtbot.waitUntil(lambda: tab.list.count() == 2, timeout=5000)
        assert panel.minimumSizeHint().width() <= 360, (lang, "list", panel.minimumSizeHint())
        tab.search.setFocus()
        type_ime(tab.search, "签收")  # the buyer's words narrow the list
        assert tab.visible_cases() == [other.id]
        tab.search.clear()
        assert tab.visible_cases() == [case.id, other.id]
        assert panel.tabs.width() >= panel.tabs.sizeHint().width()  # every tab label whole
        panel.grab().save(str(tmp_path / f"list_{lang}.png"))
        tab.open_for_buyer_new(buyer_id(cstore, "大树"))  # a second problem of a buyer with a case
        qtbot.waitUntil(lambda: tab.current_page() == "form" and tab.form.category.count() > 1, timeout=5000)
        assert panel.minimumSizeHint().width() <= 360, (lang, "form", panel.minimumSizeHint())
        panel.grab().save(str(tmp_path / f"form_{lang}.png"))
        tab.show_case(case.id)
        qtbot.waitUntil(lambda: tab.view.data is not None and tab.view.blocked.isVisibleTo(tab.view), timeout=5000)
        qtbot.wait(50)
        assert panel.minimumSizeHint().width() <= 360, (lang, "case", panel.minimumSizeHint())
        assert tab.view.scroll.horizontalScrollBar().maximum() == 0
        panel.grab().save(str(tmp_path / f"case_{lang}.png"))
        if lang == "en":  # nothing left in Chinese but the buyer's own words and the shop's data
            assert tab.view.offer_button.text() == "Offer" and tab.view.status_pill.text() == "Waiting for the supervisor"
    finally:
        parts["scheduler"].stop()
        parts["popup"].dismiss()
        parts["popup"].deleteLater()


def test_popup_of_follow_ups_only_is_titled_as_such(qtbot, actions, clock, cstore):
    from assistant.ui.reminders.reminders import ReminderPopup

    case = af.open_case(cstore, buyer_id=buyer_id(cstore, "小鱼"), problem="颜色不对", category="mismatch",
                        severity="light", wanted="exchange")
    clock.advance(timedelta(minutes=6))
    due = reminders.due(cstore, clock.now())
    follow = [r for r in due if r.kind == "aftersales"]
    chase = [r for r in due if r.kind != "aftersales"]
    assert follow and chase
    popup = ReminderPopup(actions, clock)
    try:
        popup.add(follow)
        assert popup.title.text() == "该跟进售后了（1）"
        qtbot.waitUntil(lambda: all(c.case is not None for c in popup.cards.values()), timeout=5000)
        assert next(iter(popup.cards.values())).case.id == case.id
        popup.add(chase)  # a chase among them: the usual title
        assert popup.title.text().startswith("该催单了")
    finally:
        popup.dismiss()
        popup.deleteLater()


def test_reminders_tab_marks_a_follow_up_and_shows_its_card(qtbot, cworker, actions, clock, cstore):
    from assistant.ui.reminders.reminders_tab import RemindersTab

    case = af.open_case(cstore, buyer_id=buyer_id(cstore, "小鱼"), problem="少发了一个杯盖", category="wrong_item",
                        severity="light", wanted="compensation")
    clock.advance(timedelta(minutes=6))
    t = RemindersTab(cworker, actions, clock)
    qtbot.addWidget(t)
    t.resize(380, 700)
    t.show()
    qtbot.waitUntil(lambda: any(r.kind == "aftersales" for r in t.sections["now"]), timeout=5000)
    rows = [t.list.item(i) for i in range(t.list.count()) if t.list.item(i).data(Qt.ItemDataRole.UserRole + 1)]
    follow = next(r for r in rows if r.data(Qt.ItemDataRole.UserRole + 1).kind == "aftersales")
    assert "售后跟进" in follow.text() and "小鱼" in follow.text()
    t.list.setCurrentItem(follow)
    qtbot.waitUntil(lambda: t.card is not None and t.card.case is not None, timeout=5000)
    assert t.card.case.id == case.id and t.card.followed_button.isVisibleTo(t.card)


def test_the_form_offers_the_shops_own_categories(qtbot, tab, cstore):
    af.add_category(cstore, "赠品漏发", shop="旗舰店")
    form = open_form(qtbot, tab, cstore, "小鱼")  # a 旗舰店 buyer
    names = [form.category.itemText(i) for i in range(1, form.category.count())]
    assert "赠品漏发" in names and "质量/破损" in names
    tab.show_list()
    form = open_form(qtbot, tab, cstore, "大树")  # another shop's buyer
    qtbot.waitUntil(lambda: "赠品漏发" not in [form.category.itemText(i) for i in range(form.category.count())],
                    timeout=5000)
    tab.show_list()
    form = open_form(qtbot, tab, cstore, "小鱼")
    qtbot.waitUntil(lambda: form.category.findText("赠品漏发") > 0, timeout=5000)
    fill(form, category="赠品漏发")
    form.save()
    qtbot.waitUntil(lambda: tab.current_page() == "case" and tab.view.data is not None, timeout=5000)
    assert tab.view.data.case.category == "赠品漏发"


def test_a_decision_made_elsewhere_clears_the_banner(qtbot, tab, cstore):
    case = open_case(qtbot, tab, cstore)
    view = tab.view
    view.offer.setCurrentIndex(view.offer.findData("refund"))  # 中度: refunds are the supervisor's
    qtbot.mouseClick(view.offer_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.blocked.isVisibleTo(view) and view.data.case.status == "manager", timeout=5000)
    assert view.scroll.verticalScrollBar().value() == 0  # the banner is in view
    af.decide(cstore, case.id, approve=False, by="王主管", note="先补偿试试")  # `kefu aftersales decide` elsewhere
    view.reload()  # the panel's watcher reports the other process's write; the view reads again
    qtbot.waitUntil(lambda: view.data.case.status == "calming", timeout=5000)
    assert not view.blocked.isVisibleTo(view) and view.offer_button.isEnabled()
    assert "不批准" in view.decision_label.text() and "王主管" in view.decision_label.text()


def test_what_the_buyer_wants_and_the_category_change_after_opening(qtbot, tab, cstore):
    """Often clear only after the buyer has vented: 诉求 and the category are boxes in the header; a
    choice is one update with a history line; a closed case shows them read-only."""
    case = open_case(qtbot, tab, cstore)  # 质量/破损, refund
    view = tab.view
    assert view.wanted_combo.currentData() == "refund" and view.category_combo.currentText() == "质量/破损"
    view.wanted_combo.setCurrentIndex(view.wanted_combo.findData("exchange"))
    view.wanted_combo.activated.emit(view.wanted_combo.currentIndex())
    qtbot.waitUntil(lambda: view.data.case.wanted == "exchange", timeout=5000)
    view.category_combo.setCurrentIndex(view.category_combo.findText("发错货"))
    view.category_combo.activated.emit(view.category_combo.currentIndex())
    qtbot.waitUntil(lambda: view.data.case.category == "发错货", timeout=5000)
    assert af.get_case(cstore, case.id).wanted == "exchange"
    assert [e.detail for e in af.history(cstore, case.id) if e.kind == "updated"][-2:] == ["wanted=exchange",
                                                                                            "category_id"]
    assert view.wanted_combo.currentData() == "exchange" and view.category_combo.currentText() == "发错货"
    af.close(cstore, case.id)
    view.reload()
    qtbot.waitUntil(lambda: not view.data.case.open, timeout=5000)
    assert not view.wanted_combo.isEnabled() and not view.category_combo.isEnabled()


def test_the_shop_manager_sets_limits_in_the_panel_and_offers_follow_them(qtbot, tab, cstore):
    """售后 → 挽单权限…: a row for every agent at 中度 (¥20, may exchange), one for 小美 only; saved
    through the worker and used by the next offer; deleting brings the shipped default back; a bad
    amount is one line and changes nothing. A team agent's login only reads them."""
    dialog = tab.open_limits()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.data is not None, timeout=5000)
    assert dialog.save_button.isEnabled() and dialog.list.count() == 3  # the shipped defaults, for reference
    dialog.severity.setCurrentIndex(dialog.severity.findData("medium"))
    dialog.amount.setText("20")
    dialog.exchange.setChecked(True)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.list.count() == 4, timeout=5000)
    dialog.agent.setText("小美")
    dialog.amount.setText("35")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.list.count() == 5, timeout=5000)
    assert af.get_limit(cstore, "medium", agent="小美").max_compensation == 3500
    assert af.get_limit(cstore, "medium", agent="小王").max_compensation == 2000
    assert af.get_limit(cstore, "medium", agent="小王").may_exchange
    dialog.amount.setText("二十块")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=5000)
    assert "\n" not in dialog.error.text() and af.get_limit(cstore, "medium", agent="小美").max_compensation == 3500
    mine = next(n for n in range(dialog.list.count()) if "小美" in dialog.list.item(n).text())
    dialog.list.setCurrentRow(mine)
    assert dialog.agent.text() == "小美" and dialog.amount.text() == "35"
    dialog.delete_current()
    qtbot.waitUntil(lambda: dialog.list.count() == 4, timeout=5000)
    assert af.get_limit(cstore, "medium", agent="小美").max_compensation == 2000  # the shop's row again


def test_a_team_agent_only_reads_the_limits(qtbot, tab, cstore):
    settings.set(cstore, "team.server", "postgresql://127.0.0.1/kefu")
    settings.set(cstore, "team.role", "kefu_t1_wang")
    settings.set(cstore, "team.kind", "agent")
    dialog = tab.open_limits()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.data is not None, timeout=5000)
    assert not dialog.save_button.isEnabled() and "主管" in dialog.intro.text()
