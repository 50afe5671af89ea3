"""The sync client against a real server, as real roles: the shop library reaches agents' SQLite
stores, supervisors' edits are version-checked, deletes travel as tombstones, a resend is a no-op,
and the change feed never skips a transaction that committed late."""

from __future__ import annotations

import json

import pytest

from assistant.core import outbox, replies
from assistant.errors import ValidationError
from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import schema, sync  # noqa: E402 - imports psycopg
from tests.helpers.team import local_shop_rows, panel  # noqa: E402 - imports psycopg


@pytest.fixture
def team(shop_team):
    return shop_team


def test_a_supervisors_library_reaches_agents_and_a_second_upload_adds_nothing(tmp_path, team):
    sup = panel(tmp_path, team, "sup", seed=True)
    mine = replies.list_replies(sup.store)
    for reply in mine:
        replies.share_reply(sup.store, reply.id, "旗舰店")
    assert outbox.size(sup.store) == len(mine)
    result = sup.sync()
    assert result.pushed == len(mine) and result.conflicts == 0
    assert outbox.size(sup.store) == 0
    assert len(team.server_rows()) == len(mine)

    for reply in replies.list_replies(sup.store):  # the second upload: already shop replies
        replies.share_reply(sup.store, reply.id, "旗舰店")
    assert outbox.size(sup.store) == 0
    assert sup.sync().pushed == 0
    assert len(team.server_rows()) == len(mine)

    wang = panel(tmp_path, team, "wang")
    got = wang.sync()
    assert got.pulled == len(mine) and got.outcomes == {"added": len(mine)}
    assert local_shop_rows(wang.store) == local_shop_rows(sup.store)
    # searchable and pasteable like any reply
    hit = replies.list_replies(wang.store)[0]
    assert replies.render_for_paste(wang.store, hit.id).text
    # the other shop's agent sees none of it
    zhao = panel(tmp_path, team, "zhao")
    assert zhao.sync().pulled == 0 and local_shop_rows(zhao.store) == {}


def test_an_agent_reads_the_shop_library_and_cannot_change_it_even_by_forging_an_operation(tmp_path, team):
    sup = panel(tmp_path, team, "sup")
    reply = replies.create_reply(sup.store, body="请寄回杭州仓", title="退货地址", code="thdz")
    replies.share_reply(sup.store, reply.id, "旗舰店")
    sup.sync()
    wang = panel(tmp_path, team, "wang")
    wang.sync()
    copy = replies.get_reply(wang.store, reply.uuid)
    assert copy.shop == team.shop and copy.code == "thdz"
    with pytest.raises(ValidationError) as e:
        replies.update_reply(wang.store, copy.id, body="改了")
    assert "店铺话术" in e.value.zh and "shop reply" in e.value.en
    with pytest.raises(ValidationError):
        replies.delete_reply(wang.store, copy.id)
    # the hotkey is this PC's own: allowed, and nothing is queued for the server
    replies.update_reply(wang.store, copy.id, hotkey="ctrl+alt+7")
    assert outbox.size(wang.store) == 0
    # a copy is the agent's own reply, free to edit
    own = replies.copy_to_mine(wang.store, copy.id)
    assert own.shop is None and own.code is None and own.body == copy.body
    replies.update_reply(wang.store, own.id, body="我的版本")

    # a forged operation (as if the local check were bypassed) is refused by the server itself
    with wang.store.write():
        outbox.add(wang.store, "shop_reply.update", copy.uuid,
                   {"expected_version": 1, **replies.shop_payload(copy), "body": "伪造"})
    result = wang.push()
    assert result.conflicts == 1 and result.pushed == 0
    assert [r["body"] for r in team.server_rows()] == ["请寄回杭州仓"]
    [conflict] = outbox.conflicts(wang.store)
    assert conflict.kind == "refused" and conflict.theirs["sqlstate"] == "42501"
    assert replies.get_reply(wang.store, copy.uuid).body == "请寄回杭州仓"
    assert outbox.size(wang.store) == 0


def test_a_supervisors_edit_and_delete_reach_an_agent_who_was_offline(tmp_path, team):
    sup = panel(tmp_path, team, "sup")
    a = replies.create_reply(sup.store, body="亲，今天下单今天发", title="发货时间")
    b = replies.create_reply(sup.store, body="七天无理由退换", title="退换政策")
    for r in (a, b):
        replies.share_reply(sup.store, r.id, "旗舰店")
    sup.sync()
    wang = panel(tmp_path, team, "wang")
    wang.sync()
    assert set(local_shop_rows(wang.store)) == {a.uuid, b.uuid}

    replies.update_reply(sup.store, a.id, body="亲，16点前下单当天发")
    replies.delete_reply(sup.store, b.id)
    assert outbox.size(sup.store) == 2
    sup.sync()
    rows = {r["id"]: r for r in team.server_rows()}
    assert rows[a.uuid]["version"] == 2 and rows[b.uuid]["deleted"] and rows[b.uuid]["version"] == 2

    got = wang.sync()  # wang was offline while it happened
    assert got.outcomes == {"updated": 1, "deleted": 1}
    assert local_shop_rows(wang.store) == {a.uuid: ("发货时间", "亲，16点前下单当天发", None, 2)}
    assert wang.sync().pulled == 0  # caught up: nothing read twice


def test_a_stale_edit_is_kept_as_a_conflict_with_both_sides_and_the_server_version_wins_locally(tmp_path, team):
    team.add("sup2", supervisor=True)
    sup = panel(tmp_path, team, "sup")
    r = replies.create_reply(sup.store, body="原文", title="问候")
    replies.share_reply(sup.store, r.id, "旗舰店")
    sup.sync()
    sup2 = panel(tmp_path, team, "sup2")
    sup2.sync()
    replies.update_reply(sup.store, r.id, body="甲的修改")
    replies.update_reply(sup2.store, r.uuid, body="乙的修改")
    sup.sync()
    result = sup2.sync()
    assert result.conflicts == 1
    [c] = outbox.conflicts(sup2.store)
    assert c.kind == "stale_edit" and c.mine["body"] == "乙的修改" and c.theirs["body"] == "甲的修改"
    assert replies.get_reply(sup2.store, r.uuid).body == "甲的修改"
    assert [x["body"] for x in team.server_rows()] == ["甲的修改"]
    # re-applying mine on top of the server's version goes through
    replies.update_reply(sup2.store, r.uuid, body=c.mine["body"])
    assert sup2.sync().pushed == 1
    assert [x["body"] for x in team.server_rows()] == ["乙的修改"]


def test_a_resend_after_a_lost_acknowledgement_changes_nothing(tmp_path, team):
    sup = panel(tmp_path, team, "sup")
    r = replies.create_reply(sup.store, body="你好", title="问候")
    replies.share_reply(sup.store, r.id, "旗舰店")
    replies.update_reply(sup.store, r.id, body="你好呀")
    sent = outbox.pending(sup.store)
    assert sup.push().pushed == 2
    with sup.store.write() as db:  # as if the client died before deleting the acknowledged rows
        for op in sent:
            db.conn.execute("INSERT INTO team_outbox (op, kind, target, body, created_at) VALUES (?,?,?,?,?)",
                            (op.op, op.kind, op.target, json.dumps(op.body), op.created_at))
    again = sup.push()
    assert (again.pushed, again.duplicates, again.conflicts) == (0, 2, 0)
    assert [(x["body"], x["version"]) for x in team.server_rows()] == [("你好呀", 2)]
    assert outbox.size(sup.store) == 0


def test_a_transaction_that_took_an_earlier_xid_and_commits_later_is_not_skipped(tmp_path, team):
    with team.admin() as admin:
        ids = [str(admin.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, %s, %s) RETURNING id",
                                 [team.shop, t, t]).fetchone()[0]) for t in ("早", "晚")]
    wang = panel(tmp_path, team, "wang")
    wang.sync()
    early = team.db.connect(autocommit=False)
    late = team.db.connect(autocommit=False)
    try:
        # `early` takes its transaction id first, `late` after it and commits first
        early.execute("SELECT pg_current_xact_id()")
        late.execute("SELECT pg_current_xact_id()")
        late.execute("UPDATE shop_replies SET body = '晚-2', version = version + 1 WHERE id = %s", [ids[1]])
        late.commit()
        early.execute("UPDATE shop_replies SET body = '早-2', version = version + 1 WHERE id = %s", [ids[0]])
        first = wang.sync()
        assert first.pulled == 0  # `late` is above the still-running `early`: it waits, it is not lost
        early.commit()
    finally:
        early.close()
        late.close()
    second = wang.sync()
    assert second.pulled == 2
    assert sorted(v[1] for v in local_shop_rows(wang.store).values()) == ["早-2", "晚-2"]


def test_the_first_sync_pages_and_the_feed_restarts_when_the_shops_served_change(tmp_path, team):
    with team.admin() as admin:
        with admin.cursor().copy("COPY shop_replies (shop, title, body) FROM STDIN") as copy:
            for i in range(1203):
                copy.write_row([team.shop, f"话术{i}", f"内容{i}"])
        admin.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, '二店话术', '二店')", [team.shop2])
    wang = panel(tmp_path, team, "wang", pull_page=500)
    got = wang.sync()
    assert got.pulled == 1203 and len(local_shop_rows(wang.store)) == 1203
    with team.admin() as admin:
        admin.execute("INSERT INTO agent_shops (role, team, shop) VALUES (%s, %s, %s)",
                      [schema.agent_role(team.id, "wang"), team.id, team.shop2])
    got = wang.sync()
    assert len(local_shop_rows(wang.store)) == 1204
    assert {r["name"] for r in wang.store.query("SELECT name FROM team_shops")} == {"旗舰店", "二店"}
    with team.admin() as admin:
        admin.execute("DELETE FROM agent_shops WHERE role = %s AND shop = %s",
                      [schema.agent_role(team.id, "wang"), team.shop])
    wang.sync()
    assert [v[0] for v in local_shop_rows(wang.store).values()] == ["二店话术"]


def test_a_shop_code_already_taken_here_is_left_off_and_an_identical_own_reply_is_adopted(tmp_path, team):
    wang = panel(tmp_path, team, "wang")
    mine = replies.create_reply(wang.store, body="我的退款话术", title="退款", code="tk")
    twin = replies.create_reply(wang.store, body="亲，在的", title="在吗")
    replies.update_reply(wang.store, twin.id, hotkey="ctrl+alt+1")
    with team.admin() as admin:
        ins = "INSERT INTO shop_replies (shop, title, body, code) VALUES (%s, %s, %s, %s) RETURNING id"
        shop_tk = str(admin.execute(ins, [team.shop, "店铺退款", "店铺的退款话术", "tk"]).fetchone()[0])
        shop_twin = str(admin.execute(ins, [team.shop, "在吗", "亲，在的", ""]).fetchone()[0])
    got = wang.sync()
    assert got.outcomes == {"added": 1, "adopted": 1}
    assert replies.get_reply(wang.store, mine.id).code == "tk"  # the agent's own reply is untouched
    assert replies.get_reply(wang.store, shop_tk).code is None
    [c] = outbox.conflicts(wang.store)
    assert c.kind == "code_taken" and c.theirs["code"] == "tk"
    adopted = replies.get_reply(wang.store, shop_twin)
    assert adopted.id == twin.id and adopted.hotkey == "Ctrl+Alt+1" and adopted.shop == team.shop
    assert replies.count_replies(wang.store) == 3
    wang.sync()
    assert len(outbox.conflicts(wang.store)) == 1  # said once, not at every sync


def test_one_notification_per_transaction_and_it_carries_nothing(tmp_path, team):
    listener = team.login("wang")
    sync.listen(listener)
    try:
        with team.admin() as admin, admin.transaction():
            with admin.cursor().copy("COPY shop_replies (shop, title, body) FROM STDIN") as copy:
                for i in range(1000):
                    copy.write_row([team.shop, f"t{i}", f"b{i}"])
            admin.execute("UPDATE shop_replies SET version = version + 1 WHERE title = 't1'")
        got = list(listener.notifies(timeout=2, stop_after=5))
        assert [(n.channel, n.payload) for n in got] == [("kefu_changes", "")]
        assert sync.drain(listener) == 0
    finally:
        listener.close()


def test_pages_follow_transaction_order_when_the_xids_gain_a_digit(tmp_path, team):
    """The feed is ordered by the xid8 column, not by its text form: as text, xid 1000 sorts before
    999, and a full page ending at 1000 moved the cursor past rows of 999 (found by the crash test)."""
    with team.admin() as admin:
        now = int(admin.execute("SELECT pg_current_xact_id()::text").fetchone()[0])
        power = 10 ** len(str(now + 10))
        admin.execute("CREATE TABLE burn (i int)")
        # each block with a write is a subtransaction and takes an xid: the counter moves to just
        # below the next power of ten in one statement
        admin.execute(f"DO $$ BEGIN FOR i IN 1..{max(0, power - now - 6)} LOOP "
                      "BEGIN INSERT INTO burn VALUES (i); EXCEPTION WHEN others THEN NULL; END; END LOOP; END $$")
        admin.execute("DROP TABLE burn")
        xids = [int(admin.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, %s, %s) "
                                  "RETURNING xid::text", [team.shop, f"t{i}", f"b{i}"]).fetchone()[0])
                for i in range(10)]  # one transaction each (autocommit)
    assert min(xids) < power <= max(xids)
    wang = panel(tmp_path, team, "wang", pull_page=3)
    assert wang.sync().pulled == 10
    assert sorted(v[0] for v in local_shop_rows(wang.store).values()) == [f"t{i}" for i in range(10)]
