"""What every test folder shares: a fake clock and a fresh store in a temp folder (a folder's own
conftest may define its own), and the session's end."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import pytest

from assistant.core.clock import FakeClock
from assistant.core.store import open_store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))


@pytest.fixture
def store(tmp_path, clock):
    s = open_store(tmp_path / "kefu.db", clock)
    yield s
    s.close()


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ANN001, ARG001 - pytest hook
    """Python-made QMimeData left on a QClipboard (a paste's text, a restored snapshot) is deleted
    by Qt when the process exits, after Python has finalized: shiboken then crashes the interpreter
    (SIGSEGV, exit 139, after every test passed). The app itself deletes its QApplication before
    Python exits; pytest-qt's lives to the end, so the clipboard is emptied here while Python runs."""
    gui = sys.modules.get("PySide6.QtGui")
    if gui is None or gui.QGuiApplication.instance() is None:
        return
    clipboard = gui.QGuiApplication.clipboard()
    for mode in (clipboard.Mode.Clipboard, clipboard.Mode.Selection):
        clipboard.clear(mode)
    gui.QGuiApplication.processEvents()
