"""Team mode in the replies page: shop replies carry a badge, an agent's editor keeps them
read-only (but for the local hotkey) and offers a personal copy, a supervisor's edit is queued in
the outbox, and a supervisor shares a personal reply to a shop from the row menu."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from assistant.core import replies
from assistant.ui.panel.editor_dialog import EditorDialog
from assistant.ui.panel.models import ROW_ROLE
from tests.ui.team.teamhelp import SHOP, SHOP_NAME, add_shop_reply, join_team, outbox_rows
from tests.ui.uihelp import search

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier


def open_editor(qtbot, worker, reply_id) -> EditorDialog:
    dialog = EditorDialog(worker, reply_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog._loaded)
    return dialog


def rows_by_title(panel) -> dict:
    return {r.title: r for r in panel.results_model.rows()}


def test_badge_and_tooltip_only_on_shop_rows(qtbot, store, make_panel):
    join_team(store)
    shop_reply = add_shop_reply(store)
    panel = make_panel()
    search(qtbot, panel, "欢迎光临小熊")
    qtbot.waitUntil(lambda: "店铺欢迎语" in rows_by_title(panel))
    rows = panel.results_model.rows()
    shop_rows = [r for r in rows if r.shop]
    assert [r.id for r in shop_rows] == [shop_reply.id]
    assert shop_rows[0].shop == SHOP and shop_rows[0].shop_name == SHOP_NAME
    n = panel.results_model.index_of(shop_reply.id)
    tip = panel.results_model.index(n, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(f"店铺话术 · {SHOP_NAME}\n")
    panel.select_row(n)
    assert f"店铺话术 · {SHOP_NAME}" in panel.preview.toPlainText()
    # a personal reply: no shop, no shop line in its tooltip or preview
    panel.search_box.clear()
    search(qtbot, panel, "wh1")
    personal = panel.results_model.rows()[0]
    assert personal.shop is None
    tip = panel.results_model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "店铺" not in tip.split("\n\n")[0]
    panel.select_row(0)
    assert "店铺话术" not in panel.preview.toPlainText()


def test_without_a_team_server_nothing_of_team_mode_shows(qtbot, panel):
    assert all(r.shop is None for r in panel.results_model.rows())
    assert panel.team.kind == ""
    assert panel.conflicts_notice.isHidden()
    assert panel.team_state.isHidden()
    menu = panel.row_menu(0)
    assert [a.text() for a in menu.actions() if a.menu() is not None] == []
    assert all(a.isEnabled() for a in menu.actions())


def test_agent_sees_a_read_only_shop_reply_and_cannot_save_a_change(qtbot, worker, store):
    join_team(store, "agent")
    reply = add_shop_reply(store)
    dialog = open_editor(qtbot, worker, reply.id)
    assert dialog.locked
    assert not dialog.shop_note.isHidden()
    assert "店铺话术由主管维护，不能修改" in dialog.shop_note_label.text()
    assert dialog.copy_mine_button.isVisibleTo(dialog)
    assert dialog.title.isReadOnly() and dialog.body.isReadOnly() and dialog.code.isReadOnly()
    assert not dialog.group.isEnabled() and not dialog.angle.isEnabled()
    assert not dialog.delete_button.isEnabled()
    assert dialog.delete_button.toolTip() == "店铺话术由主管维护，不能修改"
    assert dialog.hotkey.isEnabled() and dialog.hotkey_clear.isEnabled()  # the hotkey is local
    # a change forced into the text is not sent: only the hotkey is
    dialog.body.setPlainText("改过的内容")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert replies.get_reply(store, reply.id).body == reply.body
    assert outbox_rows(store) == []
    # and the core refuses the change if anything tried
    try:
        replies.update_reply(store, reply.id, body="改过的内容")
    except Exception as exc:  # noqa: BLE001 - the type is checked below
        assert type(exc).__name__ == "ValidationError"
    else:
        raise AssertionError("an agent changed a shop reply")


def test_agent_may_set_a_hotkey_on_a_shop_reply(qtbot, worker, store):
    join_team(store, "agent")
    reply = add_shop_reply(store)
    dialog = open_editor(qtbot, worker, reply.id)
    dialog.hotkey.setFocus()
    qtbot.keyClick(dialog.hotkey, Qt.Key.Key_7, CTRL_ALT)
    qtbot.waitUntil(lambda: dialog.hotkey_status_text() != "", timeout=5000)
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert replies.get_reply(store, reply.id).hotkey == "Ctrl+Alt+7"
    assert outbox_rows(store) == []  # the hotkey is local: nothing for the server


def test_copy_to_mine_makes_a_personal_copy_and_edits_it(qtbot, worker, store):
    join_team(store, "agent")
    reply = add_shop_reply(store)
    count = replies.count_replies(store)
    dialog = open_editor(qtbot, worker, reply.id)
    with qtbot.waitSignal(dialog.copied, timeout=5000) as copied:
        qtbot.mouseClick(dialog.copy_mine_button, Qt.MouseButton.LeftButton)
    row = copied.args[0]
    assert replies.count_replies(store) == count + 1
    mine = replies.get_reply(store, row.id)
    assert mine.shop is None and mine.body == reply.body and mine.id != reply.id
    assert dialog.reply_id == mine.id
    assert not dialog.locked and dialog.shop_note.isHidden()
    assert not dialog.body.isReadOnly() and dialog.delete_button.isEnabled()
    dialog.body.setPlainText("我自己的欢迎语")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert replies.get_reply(store, mine.id).body == "我自己的欢迎语"
    assert replies.get_reply(store, reply.id).body == reply.body
    assert outbox_rows(store) == []


def test_supervisor_edits_a_shop_reply_and_it_lands_in_the_outbox(qtbot, worker, store):
    join_team(store, "supervisor")
    reply = add_shop_reply(store, version=3)
    dialog = open_editor(qtbot, worker, reply.id)
    assert not dialog.locked
    assert not dialog.copy_mine_button.isVisibleTo(dialog)
    assert "保存后同步" in dialog.shop_note_label.text()
    assert dialog.delete_button.isEnabled()
    dialog.body.setPlainText("亲，欢迎光临～今天全场包邮")
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    rows = outbox_rows(store)
    assert [r["kind"] for r in rows] == ["shop_reply.update"]
    body = json.loads(rows[0]["body"])
    assert rows[0]["target"] == reply.uuid
    assert body["expected_version"] == 3 and body["body"] == "亲，欢迎光临～今天全场包邮"
    assert replies.get_reply(store, reply.id).shop_version == 4


def test_supervisor_saving_an_unchanged_shop_reply_queues_nothing(qtbot, worker, store):
    join_team(store, "supervisor")
    reply = add_shop_reply(store)
    dialog = open_editor(qtbot, worker, reply.id)
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert outbox_rows(store) == []


def test_agent_row_menu_disables_delete_of_a_shop_reply(qtbot, store, make_panel):
    join_team(store, "agent")
    reply = add_shop_reply(store)
    panel = make_panel()
    search(qtbot, panel, "欢迎光临小熊")
    n = panel.results_model.index_of(reply.id)
    assert n >= 0
    qtbot.waitUntil(lambda: panel.team.kind == "agent")
    menu = panel.row_menu(n)
    delete = [a for a in menu.actions() if a.text() == "删除"][0]
    assert not delete.isEnabled()
    assert delete.toolTip() == "店铺话术由主管维护，不能修改"
    assert not any(a.menu() is not None for a in menu.actions())  # no sharing for agents


def test_supervisor_shares_a_personal_reply_to_a_shop(qtbot, store, make_panel):
    join_team(store, "supervisor")
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.team.kind == "supervisor")
    search(qtbot, panel, "wh1")
    row = panel.results_model.rows()[0]
    assert row.shop is None
    menu = panel.row_menu(0)
    share = [a.menu() for a in menu.actions() if a.menu() is not None]
    assert [m.title() for m in share] == ["发布到店铺…"]
    targets = {a.text(): a for a in share[0].actions()}
    assert set(targets) == {SHOP_NAME, "二店"}
    targets[SHOP_NAME].trigger()
    qtbot.waitUntil(lambda: replies.get_reply(store, row.id).shop == SHOP, timeout=5000)
    assert [r["kind"] for r in outbox_rows(store)] == ["shop_reply.create"]
    qtbot.waitUntil(lambda: (r := panel.results_model.row_at(panel.results_model.index_of(row.id))) is not None
                    and r.shop == SHOP, timeout=5000)
    assert panel.results_model.index(panel.results_model.index_of(row.id), 0).data(ROW_ROLE).shop_name == SHOP_NAME
