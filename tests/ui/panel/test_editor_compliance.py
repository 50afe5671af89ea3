"""The compliance check in the panel: the editor shows what it finds beside the text (rule, message,
suggested wording, a wavy line under the words) as it is typed; a flagged reply still saves and gets
a badge in the result list; a malformed shop rules file is said in the editor."""

from __future__ import annotations

from PySide6.QtCore import Qt

from assistant.core import compliance, replies
from assistant.ui.panel import queries
from assistant.ui.panel.editor_dialog import EditorDialog
from assistant.ui.panel.models import ResultsModel
from assistant.ui.widgets import i18n

FLAGGED = "亲，给个五星好评，截图找客服返现10元哦"


def open_editor(qtbot, worker, reply_id=None) -> EditorDialog:
    dialog = EditorDialog(worker, reply_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog._loaded)
    return dialog


def test_findings_show_beside_the_text_as_it_is_typed_and_the_reply_still_saves(qtbot, worker, store, tmp_path):
    dialog = open_editor(qtbot, worker)
    assert dialog.compliance_text() == "" and dialog.compliance_note.isHidden()
    dialog.group.setEditText("邀评")
    dialog.body.setPlainText(FLAGGED)
    qtbot.waitUntil(lambda: dialog.compliance_text() != "", timeout=3000)
    text = dialog.compliance_text()
    assert "好评返现" in text and "“五星好评，截图找客服返现”" in text and "[review-reward]" in text
    assert "建议：用着满意的话，欢迎在订单里分享一下真实感受" in text
    assert "仍可保存" in text
    [underline] = dialog.body.extraSelections()
    assert underline.cursor.selectedText() == "五星好评，截图找客服返现"
    dialog.grab().save(str(tmp_path / "editor_compliance.png"))
    with qtbot.waitSignal(dialog.saved) as blocker:
        dialog.save()
    row = blocker.args[0]
    assert [f.rule for f in row.compliance] == ["review-reward"]
    assert [f.rule for f in replies.get_reply(store, row.id).compliance] == ["review-reward"]


def test_the_group_decides_whether_a_refusal_counts(qtbot, worker):
    dialog = open_editor(qtbot, worker)
    dialog.group.setEditText("售前/商品咨询")
    dialog.body.setPlainText("亲，这个不支持退换哦")
    dialog.check_compliance()
    assert dialog.compliance_text() == "" and dialog.body.extraSelections() == []
    dialog.group.setEditText("售后安抚")
    qtbot.waitUntil(lambda: "生硬拒绝" in dialog.compliance_text(), timeout=3000)
    assert dialog.body.extraSelections()[0].cursor.selectedText() == "不支持"
    dialog.body.setPlainText("亲，非常理解您的心情，我这就帮您申请补发")
    qtbot.waitUntil(lambda: dialog.compliance_text() == "", timeout=3000)


def test_an_emoji_before_the_words_keeps_the_underline_on_them(qtbot, worker):
    dialog = open_editor(qtbot, worker)
    dialog.body.setPlainText("😊😊亲，这是全网最低价")
    dialog.check_compliance()
    assert dialog.body.extraSelections()[0].cursor.selectedText() == "全网最低价"


def test_english_shows_the_english_message_and_suggestion(qtbot, worker):
    i18n.install("en")
    dialog = open_editor(qtbot, worker)
    dialog.body.setPlainText("仅剩最后3件，手慢无")
    dialog.check_compliance()
    text = dialog.compliance_text()
    assert "Invented urgency" in text and "Suggested: Tie it to the real promotion" in text
    assert "You can still save it" in text


def test_an_existing_flagged_reply_opens_with_its_findings_and_a_badge_in_the_list(qtbot, worker, store):
    reply = replies.create_reply(store, body="这款销量第一，100%正品", group="售前/商品咨询", title="夸张")
    dialog = open_editor(qtbot, worker, reply.id)
    assert "绝对化用语" in dialog.compliance_text() and "“100%”" in dialog.compliance_text()
    rows = queries.find(store, "", queries.GroupFilter()).rows
    row = next(r for r in rows if r.id == reply.id)
    assert {f.rule for f in row.compliance} == {"absolute-rank", "absolute-percent"}
    clean = next(r for r in rows if r.id != reply.id)
    assert clean.compliance == ()
    model = ResultsModel()
    model.set_rows([row, clean])
    tip = model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("合规提示：绝对化用语\n")
    assert "合规提示" not in model.data(model.index(1), Qt.ItemDataRole.ToolTipRole)
    searched = queries.find(store, "销量第一", queries.GroupFilter()).rows
    assert any(r.id == reply.id and r.compliance for r in searched)


def test_the_panel_list_paints_the_badge(qtbot, make_panel, store, tmp_path):
    reply = replies.create_reply(store, body="亲，给个五星好评返现哦", group="邀评", title="违规邀评")
    panel = make_panel()
    qtbot.waitUntil(lambda: panel.results_model.index_of(reply.id) >= 0, timeout=10000)
    row = panel.results_model.row_at(panel.results_model.index_of(reply.id))
    assert [f.rule for f in row.compliance] == ["review-reward"]
    index = panel.results_model.index(panel.results_model.index_of(reply.id))
    panel.results.setCurrentIndex(index)
    panel.results.scrollTo(index)
    qtbot.waitUntil(lambda: "合规提示：好评返现" in panel.preview.toPlainText(), timeout=5000)
    panel.resize(360, 640)
    panel.grab().save(str(tmp_path / "panel_badge.png"))


def test_a_malformed_shop_rules_file_is_said_in_the_editor(qtbot, worker, data_dir):
    (data_dir / compliance.USER_FILE).write_text("{oops", encoding="utf-8")
    dialog = open_editor(qtbot, worker)
    text = dialog.compliance_text()
    assert "自定义合规规则文件" in text and "仍按内置规则检查" in text
    dialog.body.setPlainText("全网最低价")
    dialog.check_compliance()
    assert "绝对化用语" in dialog.compliance_text()


def test_the_import_dialog_counts_and_lists_flagged_replies_and_imports_them(qtbot, worker, store, tmp_path):
    from assistant.ui.panel.transfer_dialog import ImportDialog

    path = tmp_path / "phrases.csv"
    path.write_text("快捷短语编码,快捷短语,快捷短语分组\r\nc1,全网最低价,新分组\r\nc2,亲，欢迎光临～,新分组\r\n",
                    encoding="utf-8-sig")
    dialog = ImportDialog(worker, path=str(path))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10000)
    assert "1 条有合规提示（照常导入）" in dialog.summary.text()
    notes = {dialog.lists["add"].topLevelItem(n).text(1): dialog.lists["add"].topLevelItem(n).text(3)
             for n in range(2)}
    assert "⚠ 合规提示：绝对化用语“全网最低价”" in notes["全网最低价"] and notes["亲，欢迎光临～"] == ""
    with qtbot.waitSignal(dialog.imported, timeout=10000) as blocker:
        dialog.start_import()
    result = blocker.args[0]
    assert result.added == 2 and [i.code for i in result.flagged] == ["c1"]
    assert [f.rule for f in replies.get_reply(store, "c1").compliance] == ["absolute-price"]
