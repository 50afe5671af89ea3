"""services/messages: one Message type (zh, en, level) on one MessageBridge; the panel listens once."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.errors import KnownError
from assistant.services.messages import LEVELS, Message, MessageBridge


def test_a_message_is_frozen_and_knows_its_levels():
    message = Message("已复制", "Copied", "success")
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.zh = "x"  # type: ignore[misc]
    assert LEVELS == ("info", "success", "warning", "error")
    assert Message("只有中文") == Message("只有中文", "", "info")
    with pytest.raises(ValueError):
        Message("坏", "bad", "fatal")


def test_the_bridge_carries_messages_and_known_errors(qapp):
    bridge = MessageBridge()
    seen: list[Message] = []
    bridge.message.connect(seen.append)
    bridge.post("已交班", "Shift ended", "success")
    bridge.post_error(KnownError("数据库忙", "database busy"))
    bridge.post_error(KnownError("坏了", "broken"), "error")
    assert seen == [Message("已交班", "Shift ended", "success"), Message("数据库忙", "database busy", "warning"),
                    Message("坏了", "broken", "error")]
