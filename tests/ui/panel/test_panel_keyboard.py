"""The panel's keyboard: ↑/↓ move, Enter pastes (copies without a paste controller), Ctrl+Enter
copies, Alt+1..9 picks, Esc clears then hides; double-click; the fill-in form."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from assistant.core import replies, templates
from tests.ui.uihelp import search

CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier


def plain_row_number(panel) -> int:
    """A result without fill-in fields."""
    return next(n for n, r in enumerate(panel.results_model.rows()) if not r.fields)


def test_arrows_move_the_selection_from_the_search_box(qtbot, panel):
    box = panel.search_box
    box.setFocus()
    assert panel.current_row_number() == 0
    qtbot.keyClick(box, Qt.Key.Key_Down)
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert panel.current_row_number() == 2
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert panel.current_row_number() == 1
    assert panel.preview.row().id == panel.results_model.row_at(1).id
    for _ in range(5):
        qtbot.keyClick(box, Qt.Key.Key_Up)
    assert panel.current_row_number() == 0
    qtbot.keyClick(box, Qt.Key.Key_PageDown)
    assert panel.current_row_number() == 5
    assert box.hasFocus() or QApplication.focusWidget() in (None, box)


def test_enter_without_a_paste_controller_copies_and_says_press_ctrl_v(qtbot, panel, store):
    n = plain_row_number(panel)
    panel.select_row(n)
    row = panel.results_model.row_at(n)
    before = replies.get_reply(store, row.id).use_count
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Return)
    assert QGuiApplication.clipboard().text() == row.body
    assert panel.message_bar.isVisible()
    assert "已复制，请按 Ctrl+V" in panel.message_bar.text()
    qtbot.waitUntil(lambda: replies.get_reply(store, row.id).use_count == before + 1)


def test_enter_with_a_paste_controller_emits_paste_requested(qtbot, panel):
    panel.set_paste_available(True)
    n = plain_row_number(panel)
    panel.select_row(n)
    with qtbot.waitSignal(panel.paste_requested) as blocker:
        qtbot.keyClick(panel.search_box, Qt.Key.Key_Enter)
    assert blocker.args[0] == panel.results_model.row_at(n).id
    assert isinstance(blocker.args[1], dict)


def test_ctrl_enter_copies_even_with_a_paste_controller(qtbot, panel):
    panel.set_paste_available(True)
    n = plain_row_number(panel)
    panel.select_row(n)
    emitted = []
    panel.paste_requested.connect(lambda *a: emitted.append(a))
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Return, CTRL)
    assert QGuiApplication.clipboard().text() == panel.results_model.row_at(n).body
    assert emitted == []
    assert "已复制" in panel.message_bar.text()


def test_alt_number_picks_that_result(qtbot, panel):
    panel.set_paste_available(True)
    search(qtbot, panel, "wh")
    target = next(n for n in range(9) if panel.results_model.row_at(n) and not panel.results_model.row_at(n).fields)
    with qtbot.waitSignal(panel.paste_requested) as blocker:
        qtbot.keyClick(panel.search_box, getattr(Qt.Key, f"Key_{target + 1}"), ALT)
    assert blocker.args[0] == panel.results_model.row_at(target).id
    assert panel.current_row_number() == target


def test_escape_clears_then_hides(qtbot, panel):
    search(qtbot, panel, "发货")
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Escape)
    assert panel.search_box.text() == ""
    assert panel.isVisible()
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Escape)
    assert not panel.isVisible()


def test_double_click_pastes(qtbot, panel):
    panel.set_paste_available(True)
    n = plain_row_number(panel)
    panel.results.scrollTo(panel.results_model.index(n, 0))
    rect = panel.results.visualRect(panel.results_model.index(n, 0))
    assert panel.results.viewport().rect().contains(rect.center()), (rect, panel.results.viewport().rect())
    viewport = panel.results.viewport()
    with qtbot.waitSignal(panel.paste_requested) as blocker:
        # A real double click: press/release, then the second press arrives as a double-click event.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[0] == panel.results_model.row_at(n).id


def test_missing_fields_open_a_form_then_paste_with_the_values(qtbot, panel):
    from assistant.ui.panel.fill_dialog import FillFieldsDialog

    panel.set_paste_available(True)
    panel.config["agent.name"] = "小美"
    n = next(n for n, r in enumerate(panel.results_model.rows()) if "客户" in r.fields)
    row = panel.results_model.row_at(n)
    panel.select_row(n)
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Return)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, FillFieldsDialog) and w.isVisible())
    missing = [f for f in row.fields if f != "客服"]
    assert list(dialog.edits) == missing
    ok = dialog.buttons.buttons()[0] if dialog.buttons.buttons()[0].text() == "确定" else dialog.buttons.buttons()[1]
    assert not ok.isEnabled()
    for name, edit in dialog.edits.items():
        edit.setText(f"值{name}")
    assert ok.isEnabled()
    assert "值客户" in dialog.preview.toPlainText()
    with qtbot.waitSignal(panel.paste_requested) as blocker:
        dialog.accept()
    reply_id, values = blocker.args
    assert reply_id == row.id
    assert values["客户"] == "值客户"
    assert templates.render(row.body, values).missing == []


def test_controller_asks_for_fields_of_a_hotkey_reply(qtbot, panel, store):
    from assistant.ui.panel.fill_dialog import FillFieldsDialog

    reply = next(r for r in replies.list_replies(store) if "商品" in r.fields)
    panel.ask_fields(reply.id, ["商品"], 7)
    qtbot.waitUntil(lambda: any(isinstance(w, FillFieldsDialog) and w.isVisible() for w in QApplication.topLevelWidgets()))
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, FillFieldsDialog) and w.isVisible())
    dialog.edits["商品"].setText("羽绒服")
    with qtbot.waitSignal(panel.fields_filled) as blocker:
        dialog.accept()
    assert blocker.args[0] == 7
    assert blocker.args[1]["商品"] == "羽绒服"


def test_the_form_never_offers_one_buyers_product_to_another(qtbot, panel, store):
    from assistant.ui.panel.fill_dialog import FillFieldsDialog

    def ask_and_fill(typed: dict[str, str]) -> FillFieldsDialog:
        panel.ask_fields(reply.id, ["商品", "优惠"], 1)
        qtbot.waitUntil(lambda: any(isinstance(w, FillFieldsDialog) and w.isVisible()
                                    for w in QApplication.topLevelWidgets()))
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, FillFieldsDialog) and w.isVisible())
        prefilled = {name: edit.text() for name, edit in dialog.edits.items()}
        for name, value in typed.items():
            dialog.edits[name].setText(value)
        with qtbot.waitSignal(panel.fields_filled):
            dialog.accept()
        return prefilled

    reply = next(r for r in replies.list_replies(store) if "商品" in r.fields)
    panel.set_context({"客户": "买家甲"})  # chosen in the 客户 tab
    ask_and_fill({"商品": "羽绒服", "优惠": "满300减40"})
    panel.set_context({"客户": "买家乙"})
    assert ask_and_fill({"商品": "雪地靴"}) == {"商品": "", "优惠": "满300减40"}  # the coupon is the shop's
    panel.set_context({"客户": "买家甲"})
    assert ask_and_fill({}) == {"商品": "羽绒服", "优惠": "满300减40"}  # back to 甲: 甲's product


def test_a_buyers_message_from_the_suggestion_hotkey_lists_its_replies_ready_to_paste(qtbot, panel, store):
    """suggest_for (the suggestion hotkey's end in the panel): the buyer's message goes into the search
    box, selected, and the reply that answers it is first, pasted with Enter."""
    from assistant.core import replies

    answer = replies.create_reply(store, title="退款到账时间", body="退款原路退回，一般1-3个工作日到账")
    panel.refresh()
    panel.set_paste_available(True)
    panel.suggest_for("亲 我的退款多久能到账啊")
    qtbot.waitUntil(lambda: panel._results is not None and panel._results.query == "亲 我的退款多久能到账啊",
                    timeout=10000)
    assert panel.search_box.selectedText() == "亲 我的退款多久能到账啊"
    assert panel.results_model.row_at(0).id == answer.id
    with qtbot.waitSignal(panel.paste_requested) as blocker:
        qtbot.keyClick(panel.search_box, Qt.Key.Key_Enter)
    assert blocker.args[0] == answer.id
