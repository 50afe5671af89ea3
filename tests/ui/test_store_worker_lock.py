"""The StoreWorker while another connection holds the write lock (an import in a terminal): writes
wait and are saved afterwards, in order; reads go on; the panel hears why it waits."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from assistant.core import holder, reminders, replies, settings
from assistant.errors import StoreBusyError


@pytest.fixture
def locked(db_path):
    """A second, real connection holding BEGIN IMMEDIATE, as `kefu replies import` does."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def test_paid_click_and_usage_count_during_an_import_are_saved_after_it(worker, store, db_path, qtbot):
    buyer = reminders.star(store, platform="taobao", shop="旗舰店", nickname="小王")
    reply = replies.list_replies(store)[0]
    worker.wait_notice_s = 0.3
    notices: list[tuple[bool, int]] = []
    worker.write_waiting.connect(lambda waiting, pid: notices.append((waiting, pid)))
    done: list[str] = []
    errors: list[object] = []
    with holder.marked(db_path):  # the import's marker: the notice names its process
        conn = sqlite3.connect(db_path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            worker.submit(lambda s: reminders.outcome(s, buyer.id, "paid"), lambda _: done.append("paid"),
                          errors.append, write=True)
            worker.submit(lambda s: replies.record_use(s, reply.id, via="copy"), lambda _: done.append("used"),
                          errors.append, write=True)
            worker.submit(lambda s: settings.set(s, "backup.keep", 7), lambda _: done.append("keep=7"),
                          errors.append, write=True)
            worker.submit(lambda s: settings.set(s, "backup.keep", 9), lambda _: done.append("keep=9"),
                          errors.append, write=True)
            # Reading goes on while the writes wait: the panel is not frozen behind them.
            worker.submit(lambda s: replies.count_replies(s), lambda n: done.append(f"read {n}"), errors.append)
            qtbot.waitUntil(lambda: any(d.startswith("read") for d in done), timeout=5000)
            qtbot.waitUntil(lambda: notices == [(True, os.getpid())], timeout=5000)
            time.sleep(0.5)
            qtbot.wait(50)
            assert [d for d in done if not d.startswith("read")] == [] and errors == []
        finally:
            conn.execute("ROLLBACK")  # the import ends
            conn.close()
    qtbot.waitUntil(lambda: len(done) == 5, timeout=10000)
    assert errors == []
    assert [d for d in done if not d.startswith("read")] == ["paid", "used", "keep=7", "keep=9"]  # in order
    qtbot.waitUntil(lambda: notices[-1] == (False, 0), timeout=5000)
    store.conn.execute("SELECT 1")  # a fresh read
    assert reminders.customers.get_buyer(store, buyer.id).state == "paid"
    assert replies.get_reply(store, reply.id).use_count == reply.use_count + 1
    assert settings.get(store, "backup.keep") == 9


def test_a_write_locked_out_for_too_long_is_reported_not_lost_silently(worker, locked, qtbot):
    worker.write_retry_s = 0.6
    errors: list[object] = []
    started = time.monotonic()
    worker.submit(lambda s: settings.set(s, "backup.keep", 3), lambda _: errors.append("saved?!"),
                  errors.append, write=True)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], StoreBusyError)
    assert time.monotonic() - started >= 0.6  # it did wait and retry first


def test_a_job_that_already_committed_is_not_run_twice(worker, db_path, qtbot, store):
    """Busy in its second transaction: retrying would repeat the first one."""
    calls: list[int] = []
    errors: list[object] = []
    reply = replies.list_replies(store)[0]

    def two_writes(s):
        calls.append(1)
        replies.record_use(s, reply.id)
        conn = sqlite3.connect(db_path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            replies.record_use(s, reply.id)
        finally:
            conn.execute("ROLLBACK")
            conn.close()

    worker.submit(two_writes, lambda _: None, errors.append, write=True)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], StoreBusyError) and calls == [1]
    assert replies.get_reply(store, reply.id).use_count == reply.use_count + 1


def test_the_panel_says_why_a_change_waits(panel, worker, qtbot, tmp_path):
    worker.write_waiting.emit(True, 4321)
    qtbot.waitUntil(lambda: "4321" in panel.message_bar._text.text(), timeout=3000)
    assert "正在导入回复" in panel.message_bar._text.text()
    if os.environ.get("KEFU_SHOTS"):
        panel.grab().save(os.path.join(os.environ["KEFU_SHOTS"], "panel_write_waiting.png"))
    worker.write_waiting.emit(False, 0)
    qtbot.waitUntil(lambda: "已保存" in panel.message_bar._text.text(), timeout=3000)
    worker.write_waiting.emit(True, 0)
    qtbot.waitUntil(lambda: "其他程序" in panel.message_bar._text.text(), timeout=3000)


def test_a_sqlite_error_in_a_job_is_reported_as_a_store_error_not_a_crash(worker, qtbot, monkeypatch):
    """A read meeting a damaged page raises sqlite3.DatabaseError inside the job: the panel shows the
    environment's fault (one line, restore guidance), the crash handler is not involved."""
    import sys

    from assistant.errors import StoreError

    crashes: list[object] = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: crashes.append(info))
    errors: list[object] = []
    worker.submit(lambda s: s.conn.execute("SELECT * FROM no_such_table").fetchall(), None, errors.append)
    qtbot.waitUntil(lambda: bool(errors or crashes), timeout=5000)
    assert crashes == []
    assert len(errors) == 1 and isinstance(errors[0], StoreError)
    assert "no_such_table" not in errors[0].en  # SQLite's message may quote stored text: never shown
