"""Search as you type: Chinese through the input method, short codes, stale results dropped, and a
GUI thread that keeps running while the store works."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QTimer

from assistant.ui.panel import queries
from tests.ui.uihelp import search, type_ime


def texts(panel) -> list[str]:
    return [f"{r.title} {r.body} {r.code or ''} {r.group_path}" for r in panel.results_model.rows()]


def test_chinese_typed_through_an_input_method_updates_results(qtbot, panel):
    total = panel.results_model.rowCount()
    search(qtbot, panel, "催单")
    assert panel.search_box.text() == "催单"
    rows = panel.results_model.rows()
    assert 0 < len(rows) < total
    assert any("催" in t for t in texts(panel))
    assert "找到" in panel.status.full_text()
    # The first result is selected and previewed with its full body.
    assert panel.current_row_number() == 0
    assert panel.preview.row() is not None and panel.preview.row().id == rows[0].id


def test_every_keystroke_searches_again(qtbot, panel):
    search(qtbot, panel, "发货")
    first = [r.id for r in panel.results_model.rows()]
    search(qtbot, panel, "时间")  # appended: the query is now 发货时间
    assert panel.search_box.text() == "发货时间"
    assert [r.id for r in panel.results_model.rows()] != first or len(first) <= 1


def test_short_code_finds_its_reply_first(qtbot, panel, store):
    search(qtbot, panel, "wh1")
    assert panel.results_model.row_at(0).code == "wh1"


def test_no_match_says_so(qtbot, panel):
    search(qtbot, panel, "qqzzxxjjkk")
    assert panel.results_model.rowCount() == 0
    assert "没有找到" in panel.status.full_text()
    assert panel.preview.row() is None
    assert not panel.paste_button.isEnabled()


def test_group_and_virtual_groups_filter_the_list(qtbot, panel, store):
    from assistant.core import replies

    used = replies.list_replies(store, limit=2)
    for r in used:
        replies.record_use(store, r.id)
    panel.refresh()
    panel.set_group_filter(queries.GroupFilter("used"))
    qtbot.waitUntil(lambda: panel._results.filter.kind == "used")
    assert sorted(r.id for r in panel.results_model.rows()) == sorted(r.id for r in used)

    group = replies.get_group(store, "售前/问候")
    panel.set_group_filter(queries.GroupFilter("group", group.id))
    qtbot.waitUntil(lambda: panel._results.filter.kind == "group")
    assert {r.group_id for r in panel.results_model.rows()} == {group.id}
    assert panel.group_tree.currentIndex().data() == "问候"


def test_stale_results_are_dropped_and_the_gui_keeps_running(qtbot, panel, monkeypatch):
    real_find = queries.find
    seen: list[str] = []
    slow_started = threading.Event()

    def slow_find(store, query, flt):
        if query == "催":
            slow_started.set()
            time.sleep(0.6)  # on the worker thread
        return real_find(store, query, flt)

    monkeypatch.setattr(queries, "find", slow_find)
    original = panel._on_results

    def spy(results):
        seen.append(results.query)
        original(results)

    monkeypatch.setattr(panel, "_on_results", spy)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    panel.search_box.setFocus()
    started = time.monotonic()
    type_ime(panel.search_box, "催")
    assert time.monotonic() - started < 0.3, "typing waited for the search"
    qtbot.waitUntil(slow_started.is_set, timeout=5000)
    type_ime(panel.search_box, "单")
    qtbot.waitUntil(lambda: "催单" in seen, timeout=10000)
    timer.stop()
    assert seen == ["催单"], "the slow result of the first keystroke reached the list"
    assert len(ticks) >= 10, "the GUI thread was blocked while the worker searched"
