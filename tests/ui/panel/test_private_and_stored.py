"""The panel's side of issue 11: crash reports and panel.lock are 0600 whatever the umask, and a
reply whose stored platforms column is malformed is shown (as untagged) instead of crashing."""

from __future__ import annotations

import logging
import os
import stat
import sys

from assistant.core import checked, replies, search
from assistant.core.store import open_store
from assistant.services.single_instance import SingleInstance
from assistant.ui.crash import CrashHandler
from assistant.ui.panel import queries


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_crash_report_and_its_folder_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        handler = CrashHandler(tmp_path / "data" / "crash", show_dialog=False)
        try:
            raise ValueError("boom")
        except ValueError:
            handler.handle(*sys.exc_info())
    finally:
        os.umask(old)
    assert handler.last_path is not None
    assert mode(handler.last_path) == 0o600 and mode(tmp_path / "data" / "crash") == 0o700


def test_panel_lock_is_private(tmp_path):
    old = os.umask(0o022)
    instance = SingleInstance(tmp_path)
    try:
        assert instance.acquire()
        assert mode(tmp_path / "panel.lock") == 0o600
    finally:
        instance.release()
        os.umask(old)


def test_reply_with_malformed_platforms_is_shown(tmp_path, caplog):
    checked.forget_reports()
    store = open_store(tmp_path / "kefu.db")
    try:
        reply = replies.create_reply(store, body="平台字段损坏的回复", platforms=["taobao"], code="brk")
        store.conn.execute("UPDATE replies SET platforms = '{bad' WHERE id = ?", (reply.id,))
        search.start_background_loading(tmp_path / "cache").join()
        with caplog.at_level(logging.WARNING):
            for _ in range(3):  # shown again and again: one report
                rows = queries.find(store, "平台字段损坏", queries.GroupFilter()).rows
                assert [r.id for r in rows][:1] == [reply.id] and rows[0].platforms == ()
                assert queries.get_row(store, reply.id).platforms == ()
                assert queries.find(store, "", queries.GroupFilter()).rows
        warnings = [r for r in caplog.records if "replies.platforms" in r.getMessage()]
        assert len(warnings) == 1 and "{bad" not in caplog.text
    finally:
        store.close()
