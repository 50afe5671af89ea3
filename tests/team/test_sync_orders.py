"""Unpaid orders in team mode (team schema step 9), two agents and a supervisor on the real PostgreSQL
fixture: an order made on one panel reaches the others masked; the full number is not selectable, only
revealed through the audited function; only the buyer's holder (or a supervisor, or anyone while
nobody holds it) marks it paid or closed, a refusal leaves nothing half-written; made offline it
waits in the outbox; paid on one panel ends the 催付 reminders another panel owns."""

from __future__ import annotations

import pytest

from assistant.core import customers, handover, orders, outbox, reminders, settings
from assistant.errors import ValidationError
from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import schema  # noqa: E402 - imports psycopg
from tests.helpers.team import panel  # noqa: E402

NUMBER = "3391204857162093345"
MASKED = "***************3345"


@pytest.fixture
def team(named_team):
    return named_team


def role(team, name: str) -> str:
    return schema.agent_role(team.id, name)


def add(client, number=NUMBER):
    order, added = orders.add_order(client.store, number, platform="taobao", nickname="小鹿", shop="旗舰店",
                                    amount="128", item="保温杯")
    assert added
    return order


def server_orders(team) -> list[tuple]:
    with team.admin() as admin:
        return admin.execute("SELECT order_masked, status, amount FROM orders ORDER BY ordered_at").fetchall()


def order_reminders(store, state="pending") -> int:
    return store.query("SELECT count(*) AS n FROM reminders WHERE kind = 'order' AND state = ?", (state,))[0]["n"]


def local(client):
    return orders.list_orders(client.store, status="all")


def test_an_order_reaches_the_other_panel_masked_and_its_number_is_revealed_only_audited(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    order = add(wang)
    # made offline: it waits in the outbox with its reminders, the server has nothing yet
    assert {op.kind for op in outbox.pending(wang.store)} >= {"buyer.upsert", "order.put", "reminder.put"}
    assert server_orders(team) == []
    assert wang.sync().conflicts == 0 and outbox.size(wang.store) == 0
    assert server_orders(team) == [(MASKED, "unpaid", 12800)]
    li.sync()
    [theirs] = local(li)
    assert (theirs.uuid, theirs.order_masked, theirs.amount, theirs.status) == (order.uuid, MASKED, 12800, "unpaid")
    assert li.store.query("SELECT order_no FROM orders") == [{"order_no": MASKED}]  # not even on 李四's disk
    # 李四's role cannot select the full number: no privilege on the numbers, nothing full on the shared row
    with team.login("li") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT number FROM order_numbers")
        conn.rollback()
        assert NUMBER not in repr(conn.execute("SELECT * FROM orders").fetchall())
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM order_reveals")  # the audit is the supervisors'
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE orders SET status = 'paid'")
    # the explicit reveal works, and is audited without the number
    assert orders.reveal_order_text(li.store, theirs.id, li.reveal_order_number) == NUMBER
    assert orders.reveal_order_text(wang.store, order.id, wang.reveal_order_number) == NUMBER  # its own copy
    with team.admin() as admin:
        audit = admin.execute("SELECT \"order\"::text, by_role FROM order_reveals").fetchall()
    assert audit == [(order.uuid, role(team, "li"))]
    assert NUMBER not in repr(audit)
    sup = panel(tmp_path, team, "sup")
    with team.login("sup") as conn:
        assert conn.execute("SELECT count(*) FROM order_reveals").fetchone() == (1,)
    sup.sync()
    assert [o.order_masked for o in local(sup)] == [MASKED]


def test_a_non_holders_paid_is_refused_and_nothing_is_half_written(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    add(wang)
    wang.sync()
    li.sync()
    [theirs] = local(li)
    # 李四's panel knows 王五 holds the buyer: refused before anything is stored or queued
    with pytest.raises(ValidationError) as e:
        orders.mark_paid(li.store, theirs.id)
    assert "王五 跟进中" in e.value.zh
    assert outbox.size(li.store) == 0 and local(li)[0].status == "unpaid"
    # a panel that has not heard of the lease lets it through; the server does not
    with li.store.write():
        li.store.conn.execute("UPDATE buyers SET holder = NULL, held_until = NULL")
    orders.mark_closed(li.store, theirs.id)
    result = li.sync()
    assert result.conflicts == 1
    [conflict] = outbox.conflicts(li.store)
    assert conflict.theirs["sqlstate"] == "KF423" and conflict.mine["title"] == f"订单：{MASKED}"
    assert server_orders(team) == [(MASKED, "unpaid", 12800)]
    with team.admin() as admin:  # 王五's 催付 reminders are untouched on the server
        assert admin.execute("SELECT count(*) FROM reminders WHERE kind = 'order' AND state = 'pending'").fetchone()[0] > 0
    assert local(li)[0].status == "unpaid"  # back to the server's
    assert li.sync().conflicts == 0 and outbox.size(li.store) == 0
    # 王五 (the holder) may
    orders.mark_paid(wang.store, local(wang)[0].id)
    assert wang.sync().conflicts == 0
    assert server_orders(team) == [(MASKED, "paid", 12800)]
    li.sync()
    assert local(li)[0].status == "paid"


def test_paid_on_one_panel_ends_the_reminders_another_panel_owns(tmp_path, team):
    wang, li, sup = (panel(tmp_path, team, n) for n in ("wang", "li", "sup"))
    # starred as 咨询未付款 first (a pre-order chase), then the buyer ordered: 催付 takes over
    reminders.star(wang.store, platform="taobao", nickname="小鹿", shop="旗舰店", marks=["咨询未付款"])
    assert wang.store.query("SELECT cadence_id FROM buyers")[0]["cadence_id"]
    add(wang)
    wang.sync()
    li.sync()
    sup.sync()
    planned = order_reminders(wang.store)
    assert planned > 0
    # 李四 takes the buyer over: the server moves 王五's 催付 reminders to 李四, with their order
    customers.take_over(li.store, customers.find_buyer(li.store, "小鹿", "taobao").id, reason="王五下班")
    li.sync()
    wang.sync()
    assert order_reminders(li.store) == planned and order_reminders(wang.store) == 0
    assert li.store.query("SELECT count(*) AS n FROM reminders WHERE kind = 'order' AND order_id IS NULL")[0]["n"] == 0
    # the buyer has an unpaid order: the take-over does not bring back the pre-order 咨询未付款 chase
    assert li.store.query("SELECT count(*) AS n FROM reminders WHERE kind = 'chase' AND state = 'pending'")[0]["n"] == 0
    # the supervisor marks it paid (a supervisor may, whoever holds the buyer)
    orders.mark_paid(sup.store, local(sup)[0].id)
    assert sup.sync().conflicts == 0
    with team.admin() as admin:
        assert admin.execute("SELECT count(*) FROM reminders WHERE kind = 'order' AND state = 'pending'").fetchone() == (0,)
    li.sync()
    assert local(li)[0].status == "paid" and order_reminders(li.store) == 0


def test_a_handover_import_in_team_mode_carries_the_orders(tmp_path, team):
    wang = panel(tmp_path, team, "wang")
    add(wang)
    wang.sync()
    paid = add(wang, "287654321098")  # not synced yet: only the file carries it
    orders.mark_paid(wang.store, paid.id)
    result = handover.export_handover(wang.store, tmp_path / "out", formats=("json",))
    assert len(result.doc["orders"]) == 2
    with team.admin() as admin:  # 王五 signs off (交班): the shop's buyers are free
        admin.execute("UPDATE buyers SET holder = NULL, held_until = NULL")
    # 李四's panel imports the file, then syncs: the orders join the team through the outbox
    li = panel(tmp_path, team, "li")
    handover.import_handover(li.store, result.files["json"])
    assert li.sync().conflicts == 0 and outbox.size(li.store) == 0
    assert {(o.order_masked, o.status) for o in local(li)} == {("********1098", "paid"), (MASKED, "unpaid")}
    assert set(server_orders(team)) == {("********1098", "paid", 12800), (MASKED, "unpaid", 12800)}
    with team.admin() as admin:
        ids = {r[0] for r in admin.execute("SELECT id::text FROM orders").fetchall()}
        # the file held masked numbers only: the server has no full number to reveal for the new one
        assert admin.execute("SELECT count(*) FROM order_numbers WHERE \"order\" = %s", [paid.uuid]).fetchone() == (0,)
    assert paid.uuid in ids


def test_an_outcome_recorded_in_team_mode_reaches_the_server(tmp_path, team):
    """Regression: 已付款/流失 from the reminder popup changed the buyer here but never queued it."""
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    buyer = reminders.star(wang.store, platform="taobao", nickname="小鹿", shop="旗舰店", marks=["咨询未付款"])
    wang.sync()
    reminders.outcome(wang.store, buyer.id, "lost")
    assert "buyer.update" in {op.kind for op in outbox.pending(wang.store)}
    wang.sync()
    with team.admin() as admin:
        assert admin.execute("SELECT state FROM buyers").fetchone() == ("lost",)
    li.sync()
    assert customers.find_buyer(li.store, "小鹿", "taobao").state == "lost"
    assert settings.get(li.store, "team.kind") == "agent"


def test_the_full_number_pasted_on_a_panel_with_the_masked_order_fills_it(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    add(wang)
    wang.sync()
    li.sync()
    with team.admin() as admin:  # 王五's lease ran out: 李四 may work the buyer
        admin.execute("UPDATE buyers SET holder = NULL, held_until = NULL")
    li.sync()
    order, added, _ = orders.paste_order(li.store, f"订单号：{NUMBER} 实付款：¥128.00",
                                         buyer_id=customers.find_buyer(li.store, "小鹿", "taobao").id)
    assert not added and li.store.query("SELECT order_no FROM orders") == [{"order_no": NUMBER}]
    assert li.sync().conflicts == 0
    assert len(server_orders(team)) == 1


def test_a_full_number_already_anothers_is_refused_without_the_number_anywhere(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    add(wang)
    wang.sync()
    # 李四, not synced since, types the same number for another buyer
    orders.add_order(li.store, NUMBER, platform="taobao", nickname="小狐", shop="旗舰店", amount="99")
    result = li.sync()
    assert result.conflicts == 1
    [conflict] = outbox.conflicts(li.store)
    assert conflict.theirs["sqlstate"] == "23505" and conflict.mine["title"] == f"订单：{MASKED}"
    assert NUMBER not in repr(conflict.mine) and NUMBER not in repr(conflict.theirs)
    assert server_orders(team) == [(MASKED, "unpaid", 12800)]
    with team.admin() as admin:
        assert admin.execute("SELECT count(*) FROM order_numbers").fetchone() == (1,)
    assert "另一个订单" in conflict.theirs["reason_zh"]
    assert li.sync().conflicts == 0 and outbox.size(li.store) == 0  # not offered again: it stays 李四's own
    assert li.sync().conflicts == 0 and len(local(li)) == 2
