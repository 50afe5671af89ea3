"""Helpers for the UI tests."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QInputMethodEvent


def type_ime(widget, text: str) -> None:
    """Commit text into a widget the way a Chinese input method does."""
    event = QInputMethodEvent()
    event.setCommitString(text)
    QCoreApplication.sendEvent(widget, event)


def search(qtbot, panel, text: str) -> None:
    """Type into the search box (through the input method) and wait for the results of that text."""
    panel.search_box.setFocus()
    type_ime(panel.search_box, text)
    qtbot.waitUntil(lambda: panel._results is not None and panel._results.query == panel.search_box.text(),
                    timeout=10000)
