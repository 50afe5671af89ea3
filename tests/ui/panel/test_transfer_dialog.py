"""Import from the UI: a preview of what will be added / replaced / skipped before anything is
written, progress, a clear error for a bad file; export with progress."""

from __future__ import annotations

import json

from assistant.core import replies
from assistant.ui.panel.transfer_dialog import ExportDialog, ImportDialog


def qianniu_csv(tmp_path, rows):
    path = tmp_path / "phrases.csv"
    lines = ["快捷短语编码,快捷短语,快捷短语分组"] + [",".join(r) for r in rows]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8-sig")
    return path


def open_import(qtbot, worker, path) -> ImportDialog:
    dialog = ImportDialog(worker, path=str(path))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.plan is not None or not dialog.error.isHidden(), timeout=10000)
    return dialog


def test_preview_lists_what_will_happen_and_writes_nothing(qtbot, worker, store, tmp_path):
    existing = replies.get_reply(store, "wh1")
    path = qianniu_csv(tmp_path, [("wh1", "亲，这是新的欢迎语～", "售前-问候"),
                                  ("n1", "全新的一条：{客户}您好", "新分组"),
                                  ("n2", "另一条新回复", "新分组")])
    count = replies.count_replies(store)
    dialog = open_import(qtbot, worker, path)
    plan = dialog.plan
    assert (len(plan.to_add), len(plan.to_replace), len(plan.skipped)) == (2, 0, 1)
    assert dialog.lists["add"].topLevelItemCount() == 2
    assert dialog.lists["skip"].topLevelItemCount() == 1
    skipped = dialog.lists["skip"].topLevelItem(0)
    assert skipped.text(3), "a skipped row says why"
    assert dialog.tabs.tabText(0) == "新增 (2)"
    assert "新增 2 条" in dialog.summary.text() and "跳过 1 条" in dialog.summary.text()
    assert dialog.import_button.isEnabled() and dialog.import_button.text() == "导入 2 条"
    assert replies.count_replies(store) == count, "the preview wrote to the library"

    dialog.replace_box.setChecked(True)
    qtbot.waitUntil(lambda: dialog.plan is not None and dialog.plan.replace, timeout=10000)
    assert (len(dialog.plan.to_add), len(dialog.plan.to_replace)) == (2, 1)
    assert dialog.tabs.tabText(1) == "覆盖 (1)"

    progress = []
    dialog.progress.valueChanged.connect(progress.append)
    with qtbot.waitSignal(dialog.imported, timeout=10000) as blocker:
        dialog.import_button.click()
    result = blocker.args[0]
    assert (result.added, result.replaced) == (2, 1)
    assert replies.count_replies(store) == count + 2
    assert replies.get_reply(store, existing.id).body == "亲，这是新的欢迎语～"
    assert progress, "no progress was shown"


def test_a_bad_file_is_explained_and_cannot_be_imported(qtbot, worker, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("名字,内容\r\n小王,你好\r\n", encoding="utf-8")
    dialog = open_import(qtbot, worker, path)
    assert not dialog.error.isHidden()
    assert dialog.error.text()
    assert not dialog.import_button.isEnabled()


def test_export_writes_the_file_with_progress(qtbot, worker, store, tmp_path):
    dialog = ExportDialog(worker)
    qtbot.addWidget(dialog)
    dialog.show()
    target = tmp_path / "out.json"
    dialog.format.setCurrentIndex(dialog.format.findData("json"))
    dialog.path.setText(str(target))
    with qtbot.waitSignal(dialog.exported, timeout=10000) as blocker:
        dialog.export_button.click()
    assert blocker.args == [str(target), replies.count_replies(store)]
    assert json.loads(target.read_text(encoding="utf-8"))["format"] == "kefu-assistant.replies"
    assert "已导出" in dialog.status.text()


def test_literal_braces_are_explained_and_can_be_kept_as_written(qtbot, worker, store, tmp_path):
    path = qianniu_csv(tmp_path, [("zk1", "今天{限时}包邮", "促销"), ("zk2", "另一条", "促销")])
    dialog = open_import(qtbot, worker, path)
    assert dialog.plan is None and "{限时}" in dialog.error.text() and "保留原样" in dialog.error.text()
    assert dialog.keep_braces_box.isVisible() and not dialog.import_button.isEnabled()
    dialog.keep_braces_box.setChecked(True)
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10000)
    assert dialog.plan.braces_escaped == 1 and "1 处花括号按原样保留" in dialog.summary.text()
    assert dialog.error.isHidden()
    with qtbot.waitSignal(dialog.imported, timeout=10000) as blocker:
        dialog.import_button.click()
    assert blocker.args[0].braces_escaped == 1
    assert replies.get_reply(store, "zk1").body == "今天{{限时}}包邮"
