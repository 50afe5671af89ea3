"""One way for a message to reach the agent: a producer (hotkey map, paste flow, chase actions, a tab)
posts a Message on the MessageBridge that app.py (the composition root) creates and passes in; the panel
listens once (Panel.listen) and shows it in its message bar. Logic never touches widgets."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ..errors import KnownError

LEVELS = ("info", "success", "warning", "error")


@dataclass(frozen=True)
class Message:
    zh: str
    #: "" when zh is already in the current language (a translate()d text): shown as it is
    en: str = ""
    level: str = "info"

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"message level {self.level!r} is not one of {LEVELS}")


class MessageBridge(QObject):
    message = Signal(object)  # Message

    def post(self, zh: str, en: str = "", level: str = "info") -> None:
        self.message.emit(Message(zh, en, level))

    def post_error(self, exc: KnownError, level: str = "warning") -> None:
        self.post(exc.zh, exc.en, level)

    def post_logged(self, logger: logging.Logger, what: str, zh: str, en: str, level: str = "info") -> None:
        """Show a message and log it as "<what> message/problem: <English>" - the English text only,
        which never holds customer text (the hotkey services' notices)."""
        if level == "warning":
            logger.warning("%s problem: %s", what, en)
        else:
            logger.info("%s message: %s", what, en)
        self.post(zh, en, level)
