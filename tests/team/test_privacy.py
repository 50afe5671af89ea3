"""Customer data stays out of logs and wake-ups (acceptance 9): after a realistic team session that
also goes wrong in the usual ways (two agents star the same buyer offline, a chase collides, a
stale shop-reply edit, a refused operation), neither the PostgreSQL server log, nor the client
logs, nor any NOTIFY payload holds a nickname, phone number or note text."""

from __future__ import annotations

import logging
import secrets

import pytest

from assistant.core import customers, reminders, replies
from tests.helpers import pg

psycopg = pg.require_psycopg()
from tests.helpers.team import panel  # noqa: E402 - imports psycopg


@pytest.fixture
def team(shop_team):
    return shop_team


def test_no_nickname_phone_or_note_reaches_a_log_or_a_notification(tmp_path, team, caplog):
    tok = secrets.token_hex(4)
    nick, phone, note, body = f"隐私昵称{tok}", f"139{secrets.randbelow(10**8):08d}", f"隐私备注{tok}", f"话术{tok}"
    secrets_ = [nick, phone, note, body, tok]
    log_before = len(team.db.server.log_path.read_bytes())
    listener = team.login("li")
    listener.execute("LISTEN kefu_changes")
    caplog.set_level(logging.DEBUG)
    try:
        wang, li, sup = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li"), panel(tmp_path, team, "sup")
        reminders.star(wang.store, platform="taobao", nickname=nick, phone=phone, notes=note, marks=["高客单"])
        b = reminders.star(li.store, platform="taobao", nickname=nick, notes=note + "2")
        reminders.record_chase(li.store, b.id, None, angle="price")  # will collide: wang's share lands first
        wang.sync()
        li.sync()
        customers.take_over(li.store, customers.find_buyer(li.store, nick, "taobao").id, reason="下班")
        li.sync()
        assert customers.find_buyer(li.store, nick, "taobao").holder == li.store.query(
            "SELECT value FROM settings WHERE key = 'team.role'")[0]["value"].strip('"')
        # a shop reply with the token, a stale edit by a second supervisor, a forged agent edit
        r = replies.create_reply(sup.store, body=body, title=body)
        replies.share_reply(sup.store, r.id, "旗舰店")
        sup.sync()
        team.add("sup2", supervisor=True)
        sup2 = panel(tmp_path, team, "sup2")
        sup2.sync()
        replies.update_reply(sup.store, r.id, body=body + "甲")
        replies.update_reply(sup2.store, r.uuid, body=body + "乙")
        sup.sync()
        assert sup2.sync().conflicts == 1
        with wang.store.write():
            from assistant.core import outbox

            outbox.add(wang.store, "buyer.phone", "00000000-0000-4000-8000-000000000000", {"phone": phone})
        assert wang.sync().conflicts == 1
        notes = list(listener.notifies(timeout=0.5, stop_after=1000))
    finally:
        listener.close()
    assert notes and {n.payload for n in notes} == {""}
    server_log = team.db.server.log_path.read_bytes()[log_before:].decode(errors="replace")
    assert "ERROR" in server_log  # the refusals were logged (so the check below looks at real lines)
    client_log = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets_:
        assert secret not in server_log, f"server log holds {secret!r}"
        assert secret not in client_log, f"client log holds {secret!r}"
