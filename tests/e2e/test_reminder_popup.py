"""A reminder falls due in the real app (subprocess, Xvfb): the popup appears WITHOUT taking the focus
from a separate chat client, and a click on 粘贴催单 puts the proposed script in the chat client's box
and records the chase."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import desktop

pytestmark = pytest.mark.e2e

NICK = "等付款的小鱼"


def seed_due_buyer(data_dir):
    """The default library, and a starred buyer whose first chase is due now (via the core API; the
    due time is then set to 'now' directly, so shift and quiet hours of the test's wall clock do not
    move it to tomorrow)."""
    from assistant import paths
    from assistant.core import reminders, replies, templates
    from assistant.core.clock import to_db
    from assistant.core.store import open_store

    desktop.seed_data_dir(data_dir, {})
    store = open_store(paths.db_path(data_dir))
    try:
        buyer = reminders.star(store, platform="taobao", shop="旗舰店", nickname=NICK, marks=["意向明显"])
        proposal = reminders.propose(store, buyer.id)
        assert proposal.reply_id is not None
        # The agent's own wording of this script, without fields other than {客户}: no fill-in form.
        body = "{客户}您好，这款今天下单还送收纳袋，库存不多了，需要的话尽快拍下哦～"
        replies.update_reply(store, proposal.reply_id, body=body)
        with store.write() as db:
            db.execute("UPDATE reminders SET due_at = ?, planned_at = ? WHERE buyer_id = ? AND state = 'pending'",
                       (to_db(datetime.now(timezone.utc) - timedelta(seconds=5)),) * 2 + (buyer.id,))
        return buyer.id, proposal.reply_id, templates.render(body, {"客户": NICK}).text
    finally:
        store.close()


def test_popup_appears_without_focus_and_pastes_the_chase(xvfb, tmp_path):
    from assistant import paths
    from assistant.core import customers
    from assistant.core.store import open_store

    data = tmp_path / "data"
    data.mkdir()
    buyer_id, reply_id, expected = seed_due_buyer(data)
    chat = desktop.start_chat_client(xvfb, tmp_path)
    app = None
    try:
        assert desktop.focused_window(xvfb) == chat.window
        app = desktop.start_app(xvfb, data)
        log = app.wait_log("ready in popup; paste button at", timeout=20)
        x, y = map(int, re.findall(r"paste button at (\d+),(\d+) \(enabled=True\)", log)[-1])
        popups = desktop.xdo(xvfb, "search", "--onlyvisible", "--name", "催单提醒", check=False).stdout.split()
        assert popups, "the reminder popup is not on screen"
        # the popup did not take the focus: the chat client is still the active window
        time.sleep(0.5)
        assert desktop.focused_window(xvfb) == chat.window
        assert chat.text() == ""

        mark = app.mark()
        desktop.xdo(xvfb, "mousemove", str(x), str(y))
        desktop.xdo(xvfb, "click", "1")
        state = chat.wait(lambda s: s["text"] == expected, timeout=10)
        geometry = desktop.xdo(xvfb, "getwindowgeometry", popups[0], check=False).stdout
        assert state["text"] == expected, (state, (x, y), geometry, app.log_text()[-2500:])
        assert desktop.focused_window(xvfb) == chat.window
        app.wait_log("chase recorded for buyer", timeout=10, since=mark)
        store = open_store(paths.db_path(data))
        try:
            history = customers.chase_history(store, buyer_id)
        finally:
            store.close()
        assert [h.reply_id for h in history] == [reply_id]
    finally:
        if app is not None:
            app.stop()
        chat.stop()
