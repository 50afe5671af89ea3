"""`kefu paste CODE`: render, copy through pyperclip (faked here), record the use."""

from __future__ import annotations

import pytest

from assistant.cli.paste import ClipboardUnavailable, _copy, paste_from_cli
from assistant.core import replies
from assistant.core.store import open_store
from assistant.errors import ValidationError


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "kefu.db")
    yield s
    s.close()


def test_copies_and_records(store):
    reply = replies.create_reply(store, body="亲，今天下单明天发货～", code="fh1")
    copied = []
    message = paste_from_cli(store, "fh1", copy=copied.append)
    assert copied == ["亲，今天下单明天发货～"]
    assert "Ctrl+V" in message
    assert replies.get_reply(store, reply.id).use_count == 1
    assert store.query("SELECT via FROM reply_uses")[0]["via"] == "cli"


def test_fill_in_values(store):
    replies.create_reply(store, body="{客户}您好，{商品}有货", code="hy")
    copied = []
    paste_from_cli(store, "hy", {"客户": "小王", "product": "羽绒服"}, copy=copied.append)
    assert copied == ["小王您好，羽绒服有货"]


def test_missing_values_name_the_fields(store):
    reply = replies.create_reply(store, body="{客户}您好，{商品}有货", code="hy")
    with pytest.raises(ValidationError) as info:
        paste_from_cli(store, "hy", {"客户": "小王"}, copy=lambda t: None)
    assert "商品" in info.value.zh and "商品" in info.value.en
    assert replies.get_reply(store, reply.id).use_count == 0


def test_no_clipboard_tool_is_a_known_error(monkeypatch):
    import pyperclip

    def broken(text):
        raise pyperclip.PyperclipException("no mechanism")

    monkeypatch.setattr(pyperclip, "copy", broken)
    with pytest.raises(ClipboardUnavailable) as info:
        _copy("x")
    assert "xclip" in info.value.zh
