"""The panel checks the database after its first frame, off the GUI thread; writes wait for the check,
reads do not; a damaged database gets a lasting message and every write is refused."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from PySide6.QtWidgets import QWidget

from assistant.app import after_first_paint, wire_store_check
from assistant.core import integrity, replies
from assistant.errors import StoreError
from tests.core.test_integrity import corrupt_pages


@pytest.fixture
def damaged_db(db_path):
    conn = sqlite3.connect(db_path)
    with conn:
        conn.executemany("INSERT INTO reply_uses (reply_id, used_at, via) VALUES (NULL, ?, 'panel')",
                         [(f"2020-01-01T08:00:00.{i:06d}Z",) for i in range(20000)])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    corrupt_pages(db_path, "reply_uses")
    return db_path


def test_writes_wait_for_the_check_and_reads_do_not(worker, qtbot):
    done: list[str] = []
    gate = threading.Event()
    checked_on: list[str] = []

    def check(path) -> None:
        checked_on.append(threading.current_thread().name)
        assert gate.wait(10)

    worker.hold_writes()
    worker.submit(lambda s: replies.create_reply(s, body="等检查通过再写"), lambda _r: done.append("write"),
                  write=True)
    worker.check_then_release_writes(check)
    with qtbot.waitSignal(worker.data_changed, timeout=200, raising=False) as blocker:
        worker.submit(lambda s: replies.count_replies(s), lambda _n: done.append("read"))
        qtbot.waitUntil(lambda: "read" in done, timeout=10000)
    assert done == ["read"] and not blocker.signal_triggered, "the read ran; the write is still held"
    with qtbot.waitSignal(worker.checked, timeout=10000) as result:
        gate.set()
    assert result.args == [None]
    qtbot.waitUntil(lambda: "write" in done, timeout=10000)
    assert checked_on == ["store-check"], "the check ran on its own thread, not the GUI's or the worker's"


def test_a_damaged_database_shows_a_lasting_error_and_refuses_writes(damaged_db, make_panel, worker, qtbot):
    worker.hold_writes()
    errors: list = []
    worker.submit(lambda s: replies.create_reply(s, body="不该写入"), on_error=errors.append, write=True)
    panel = make_panel()
    with qtbot.waitSignal(worker.checked, timeout=20000) as result:
        wire_store_check(worker, panel)
        panel.update()
    assert isinstance(result.args[0], StoreError)
    bar = panel.message_bar
    assert bar.isVisible() and bar.level() == "error" and "kefu restore" in bar.text() and "损坏" in bar.text()
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert isinstance(errors[0], StoreError) and "kefu restore" in errors[0].en
    conn = sqlite3.connect(f"file:{damaged_db}?mode=ro", uri=True)
    assert conn.execute("SELECT count(*) FROM replies WHERE body = '不该写入'").fetchone()[0] == 0
    conn.close()
    assert integrity.read_record(damaged_db)[1] is False


def test_after_first_paint_waits_for_a_frame(qtbot):
    calls: list[str] = []
    widget = QWidget()
    qtbot.addWidget(widget)
    after_first_paint(widget, lambda: calls.append("painted"), fallback_ms=60000)
    qtbot.wait(50)
    assert calls == [], "nothing before the widget has painted"
    widget.show()
    qtbot.waitUntil(lambda: calls == ["painted"], timeout=5000)
    widget.update()
    qtbot.wait(50)
    assert calls == ["painted"], "once"


def test_after_first_paint_falls_back_when_never_shown(qtbot):
    calls: list[str] = []
    widget = QWidget()
    qtbot.addWidget(widget)
    after_first_paint(widget, lambda: calls.append("timeout"), fallback_ms=100)
    qtbot.waitUntil(lambda: calls == ["timeout"], timeout=5000)
