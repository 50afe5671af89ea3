"""Team sync conflicts in the panel (a notice, then a dialog with both sides of a stale edit and
what each button does) and the team state line that the sync service drives (set_team_state)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from assistant.core import outbox, replies
from assistant.ui.team.conflicts_dialog import ConflictsDialog, diff_html
from assistant.ui.widgets import i18n
from tests.ui.team.teamhelp import add_shop_reply, join_team, outbox_rows

MINE = {"title": "店铺欢迎语", "body": "亲，欢迎光临～今天下单送小礼物", "code": "hy"}
THEIRS = {"title": "店铺欢迎语", "body": "亲，欢迎光临～今天全场包邮", "code": "hy"}


def stale_edit(store, reply) -> int:
    return outbox.record_conflict(store, "stale_edit", reply.uuid, dict(MINE), dict(THEIRS))


def open_dialog(qtbot, worker) -> ConflictsDialog:
    dialog = ConflictsDialog(worker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loaded)
    return dialog


def open_conflicts(store) -> list[outbox.Conflict]:
    return outbox.conflicts(store)


def test_diff_marks_only_the_changed_characters():
    mine, theirs = diff_html("今天下单送小礼物", "今天全场包邮")
    assert mine.startswith("今天<span") and theirs.startswith("今天<span")
    assert "下单送小礼物" in mine and "全场包邮" in theirs
    assert "#fee2e2" in mine and "#dcfce7" in theirs
    assert diff_html("a<b>", "a<b>") == ("a&lt;b&gt;", "a&lt;b&gt;")  # text, never markup


def test_notice_appears_with_conflicts_and_opens_the_dialog(qtbot, store, make_panel):
    join_team(store, "supervisor")
    reply = add_shop_reply(store, code="hy")
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.team.kind == "supervisor")
    assert panel.conflicts_notice.isHidden()
    stale_edit(store, reply)
    panel.refresh()  # the app refreshes on data_version; here directly
    qtbot.waitUntil(lambda: panel.conflicts_notice.isVisible())
    assert panel.conflicts_notice.text() == "有 1 条团队同步冲突"
    qtbot.mouseClick(panel.conflicts_notice, Qt.MouseButton.LeftButton)
    dialog = next(d for d in panel._dialogs if isinstance(d, ConflictsDialog))
    qtbot.waitUntil(lambda: len(dialog.cards) == 1)
    assert not dialog.isModal()
    i18n.install("en")
    qtbot.waitUntil(lambda: panel.conflicts_notice.text() == "1 team sync conflict")
    qtbot.waitUntil(lambda: dialog.cards[0].buttons["reapply"].text() == "Submit mine again")
    dialog.cards[0].buttons["resolve"].click()
    qtbot.waitUntil(lambda: panel.conflicts_notice.isHidden(), timeout=5000)  # worker.data_changed refreshes
    qtbot.waitUntil(lambda: dialog.cards == [] and dialog.empty.isVisible())


def test_stale_edit_shows_both_sides_and_reapply_queues_mine_again(qtbot, worker, store):
    join_team(store, "supervisor")
    reply = add_shop_reply(store, body=THEIRS["body"], code="hy", version=5)
    conflict_id = stale_edit(store, reply)
    dialog = open_dialog(qtbot, worker)
    card = dialog.cards[0]
    assert card.conflict.id == conflict_id
    assert [t.text() for t in card.side_titles] == ["你的修改", "服务器上的版本"]
    assert "今天下单送小礼物" in card.sides[0].toPlainText()
    assert "今天全场包邮" in card.sides[1].toPlainText()
    assert "店铺欢迎语" in card.headline.text()
    assert card.buttons["reapply"].text() == "用我的再提交"
    assert card.buttons["resolve"].text() == "保留服务器版本"
    with qtbot.waitSignal(dialog.settled, timeout=5000):
        card.buttons["reapply"].click()
    assert replies.get_reply(store, reply.id).body == MINE["body"]
    rows = outbox_rows(store)
    assert [r["kind"] for r in rows] == ["shop_reply.update"]
    assert json.loads(rows[0]["body"])["expected_version"] == 5  # against the server's version now held
    assert open_conflicts(store) == []
    qtbot.waitUntil(lambda: dialog.cards == [])


def test_keep_the_server_version_settles_without_a_change(qtbot, worker, store):
    join_team(store, "supervisor")
    reply = add_shop_reply(store, body=THEIRS["body"], code="hy")
    stale_edit(store, reply)
    dialog = open_dialog(qtbot, worker)
    with qtbot.waitSignal(dialog.settled, timeout=5000) as settled:
        dialog.cards[0].buttons["resolve"].click()
    assert settled.args[0] == "resolve"
    assert replies.get_reply(store, reply.id).body == THEIRS["body"]
    assert outbox_rows(store) == []
    assert open_conflicts(store) == []


def test_code_taken_and_refused_say_what_happened_and_got_it_settles(qtbot, worker, store):
    join_team(store, "agent")
    reply = add_shop_reply(store)
    outbox.record_conflict(store, "code_taken", reply.uuid, None, {"title": "店铺欢迎语", "code": "wh1"})
    outbox.record_conflict(store, "refused", reply.uuid, None, {"title": "坏的话术", "reason": "body too long"})
    dialog = open_dialog(qtbot, worker)
    taken, refused = dialog.cards
    assert taken.note.text() == "店铺话术“店铺欢迎语”的短码 wh1 已被你的话术使用，店铺副本暂无短码"
    assert "body too long" in refused.note.text() and "坏的话术" in refused.headline.text()
    assert list(taken.buttons) == ["resolve"] and taken.buttons["resolve"].text() == "知道了"
    assert taken.sides == []
    with qtbot.waitSignal(dialog.settled, timeout=5000):
        taken.buttons["resolve"].click()
    assert [c.kind for c in open_conflicts(store)] == ["refused"]
    qtbot.waitUntil(lambda: len(dialog.cards) == 1 and dialog.cards[0].conflict.kind == "refused")
    i18n.install("en")
    qtbot.waitUntil(lambda: dialog.cards[0].buttons["resolve"].text() == "Got it")
    assert dialog.cards[0].note.text() == "Reason: body too long"
    assert dialog.windowTitle() == "Team sync conflicts"


def test_team_state_line_shows_and_hides(qtbot, store, make_panel):
    join_team(store, "agent")
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.team.kind == "agent")
    assert panel.team_state.isHidden()
    panel.set_team_state("online")
    assert panel.team_state.isVisible()
    assert panel.team_state.plain_text() == "团队：已同步"
    assert "已连接团队服务器" in panel.team_state.toolTip()
    panel.set_team_state("syncing")
    assert panel.team_state.plain_text() == "团队：同步中…"
    with store.write():
        outbox.add(store, "shop_reply.update", "x", {})
        outbox.add(store, "shop_reply.update", "y", {})
    panel.set_team_state("offline", "connection refused")
    assert panel.team_state.plain_text() == "离线 · 本机继续工作"
    qtbot.waitUntil(lambda: "待发送 2 条更改" in panel.team_state.toolTip())
    tip = panel.team_state.toolTip()
    assert "服务器恢复后自动发送" in tip and "connection refused" in tip
    i18n.install("en")
    qtbot.waitUntil(lambda: "2 changes waiting to be sent" in panel.team_state.toolTip())  # LanguageChange is posted
    assert "Offline · working locally" in panel.team_state.text()
    assert "sent when the server is back" in panel.team_state.toolTip()
    panel.set_team_state("")
    assert panel.team_state.isHidden()


def test_team_state_tooltip_has_the_last_sync_time(qtbot, store, make_panel):
    join_team(store, "agent")
    with store.write():
        outbox.save_cursor(store, "replies", outbox.Cursor(1, "", "s"))
    panel = make_panel()
    panel.set_team_state("online")
    qtbot.waitUntil(lambda: "上次同步：" in panel.team_state.toolTip())


def test_a_refused_after_sales_change_is_named_as_the_case(qtbot, worker, store):
    """A change of 售后单 #7 the server refused (a colleague moved it first) is headed as that case, in
    both languages, not as a shop reply."""
    join_team(store, "agent")
    outbox.record_conflict(store, "refused", "0b7c0d6e-0000-4000-8000-000000000007",
                           {"op": "aftersales.case", "title": "售后单 #7", "events": []},
                           {"reason_zh": "这张售后单已被同事改动", "reason": "a colleague changed this case first"})
    dialog = open_dialog(qtbot, worker)
    (card,) = dialog.cards
    assert card.headline.text() == "售后单 #7 的改动未能同步"
    assert "同事" in card.note.text()
    i18n.install("en")
    try:
        qtbot.waitUntil(lambda: card.headline.text() == "A change to after-sales case #7 was not synced")
        assert card.note.text() == "Reason: a colleague changed this case first"
    finally:
        i18n.install("zh_CN")
