"""Products in team mode (team schema step 8), on the real PostgreSQL fixture, through the real sync
client: the shop's product list reaches every agent and only a supervisor changes it (a stale edit
is a conflict), a buyer's links to products follow the buyer's holder, and the selling point a chase
sent travels with the chase so that a second agent never proposes it again. Offline changes wait in
the outbox and land with the next sync."""

from __future__ import annotations

import pytest

from assistant.core import outbox, products, reminders, settings
from assistant.errors import ValidationError
from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import schema  # noqa: E402 - imports psycopg
from tests.helpers.team import panel  # noqa: E402

POINTS = ["316 不锈钢内胆，装热水 12 小时还是温的", "杯盖带防漏硅胶圈，放包里不怕洒", "杯身磨砂，手握不打滑"]


@pytest.fixture
def team(named_team):
    return named_team


def role(team, name: str) -> str:
    return schema.agent_role(team.id, name)


def star(client, nickname="买家甲"):
    return reminders.star(client.store, platform="taobao", nickname=nickname, shop="旗舰店")


def cup(client, **kw):
    return products.add_product(client.store, "不锈钢保温杯 500ml", shop="旗舰店", short_name="保温杯",
                                selling_points=POINTS, material="316 不锈钢", **kw)


def server_products(team) -> list[tuple]:
    with team.admin() as admin:
        return admin.execute("SELECT id::text, name, selling_points, version, deleted, updated_by FROM products "
                             "ORDER BY name").fetchall()


def server_links(team) -> list[tuple]:
    with team.admin() as admin:
        return admin.execute("SELECT p.name, l.chosen, l.present, l.updated_by FROM buyer_products l "
                             "JOIN products p ON p.id = l.product ORDER BY p.name").fetchall()


def test_the_shops_products_reach_every_agent_and_only_a_supervisor_changes_them(tmp_path, team):
    sup, wang = panel(tmp_path, team, "sup"), panel(tmp_path, team, "wang")
    zhao = panel(tmp_path, team, "zhao")  # serves 二店 only
    made = cup(sup)
    assert made.team_shop == team.shop and made.shop_version == 1
    sup.sync()
    assert server_products(team) == [(made.uuid, "不锈钢保温杯 500ml", POINTS, 1, False, role(team, "sup"))]

    got = wang.sync()
    assert got.outcomes.get("added") == 1
    seen = products.get_product(wang.store, "保温杯")
    assert (seen.uuid, seen.selling_points, seen.material, seen.team_shop, seen.shop) == (
        made.uuid, tuple(POINTS), "316 不锈钢", team.shop, "旗舰店")
    zhao.sync()
    assert products.list_products(zhao.store) == []  # another shop's list stays there

    # an agent reads the list and may not change it: refused before anything is stored or queued
    assert not products.may_edit(wang.store, seen)
    for change in (lambda: products.edit_product(wang.store, seen.id, gift="杯刷"),
                   lambda: products.delete_product(wang.store, seen.id)):
        with pytest.raises(ValidationError) as e:
            change()
        assert "只有主管" in e.value.zh and "only a supervisor" in e.value.en
    assert products.get_product(wang.store, seen.id).gift == "" and outbox.size(wang.store) == 0
    # an agent's own product stays on its PC
    own = products.add_product(wang.store, "试用装", shop="旗舰店")
    assert own.team_shop is None and outbox.size(wang.store) == 0

    # the supervisor's edit and delete reach the agent who was offline meanwhile
    products.edit_product(sup.store, made.id, selling_points=POINTS[:2] + ["送杯刷一个"])
    sup.sync()
    assert server_products(team)[0][2:4] == (POINTS[:2] + ["送杯刷一个"], 2)
    wang.sync()
    assert products.get_product(wang.store, seen.id).selling_points == (*POINTS[:2], "送杯刷一个")
    products.delete_product(sup.store, made.id)
    sup.sync()
    assert server_products(team)[0][3:5] == (3, True)  # a tombstone
    assert wang.sync().outcomes == {"deleted": 1}
    assert [p.name for p in products.list_products(wang.store)] == ["试用装"]


def test_an_agents_product_change_is_refused_by_the_server_and_nothing_is_half_written(tmp_path, team):
    sup, wang = panel(tmp_path, team, "sup"), panel(tmp_path, team, "wang")
    made = cup(sup)
    sup.sync()
    wang.sync()
    # as if wang's panel still thought it was a supervisor (its right withdrawn after the last sync)
    with wang.store.write():
        settings.set(wang.store, "team.kind", "supervisor")
    mine = products.get_product(wang.store, "保温杯")
    products.edit_product(wang.store, mine.id, promotion="第二件半价")
    products.add_product(wang.store, "保温壶", shop="旗舰店")  # shared as a supervisor's would be
    result = wang.push()
    assert result.conflicts == 2 and result.pushed == 0
    assert server_products(team) == [(made.uuid, "不锈钢保温杯 500ml", POINTS, 1, False, role(team, "sup"))]
    # the server's product is back on the PC; the refused new one stays the PC's own
    back = products.get_product(wang.store, mine.id)
    assert (back.promotion, back.shop_version) == ("", 1)
    assert products.get_product(wang.store, "保温壶").team_shop is None
    reasons = {c.mine["title"]: c.theirs["sqlstate"] for c in outbox.conflicts(wang.store)}
    assert reasons == {"商品：不锈钢保温杯 500ml": "42501", "商品：保温壶": "42501"}
    # and as the real role, without kefu in between
    with team.login("wang") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE products SET gift = 'x'")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT kefu_put_product(gen_random_uuid(), %s, NULL, '{\"name\": \"x\"}', false)",
                         [team.shop])


def test_a_stale_product_edit_and_a_name_the_shop_has_become_conflicts(tmp_path, team):
    team.add("sup2", supervisor=True)
    sup, sup2 = panel(tmp_path, team, "sup"), panel(tmp_path, team, "sup2")
    made = cup(sup)
    sup.sync()
    sup2.sync()
    mine = products.get_product(sup2.store, "保温杯")
    products.edit_product(sup.store, made.id, gift="杯套")
    products.edit_product(sup2.store, mine.id, gift="杯刷")  # from the same version, offline
    sup.sync()
    result = sup2.sync()
    assert result.conflicts == 1
    [conflict] = outbox.conflicts(sup2.store)
    assert conflict.kind == "stale_edit" and conflict.mine["product"]["gift"] == "杯刷"
    assert conflict.theirs["gift"] == "杯套" and conflict.theirs["sqlstate"] == "KF409"
    assert products.get_product(sup2.store, mine.id).gift == "杯套"  # the server's version wins locally
    assert server_products(team)[0][3] == 2

    # two supervisors adding a product of the same name offline: the second becomes the shop's one
    products.add_product(sup.store, "保温壶", shop="旗舰店", selling_points=["一壶装 1.5 升"])
    twin = products.add_product(sup2.store, "保温壶", shop="旗舰店", selling_points=["壶嘴防烫"])
    sup.sync()
    assert sup2.sync().conflicts == 1
    [adopted] = [p for p in products.list_products(sup2.store) if p.name == "保温壶"]
    assert adopted.id == twin.id and adopted.selling_points == ("一壶装 1.5 升",) and adopted.team_shop == team.shop
    assert sorted(n for _, n, *_ in server_products(team)) == ["不锈钢保温杯 500ml", "保温壶"]
    assert sup2.sync().conflicts == 0 and outbox.size(sup2.store) == 0  # nothing is sent again


def test_a_buyers_product_links_follow_the_holder(tmp_path, team):
    sup, wang, li = (panel(tmp_path, team, n) for n in ("sup", "wang", "li"))
    made = cup(sup)
    pot = products.add_product(sup.store, "保温壶", shop="旗舰店")
    sup.sync()
    wang.sync()
    b = star(wang)
    products.link(wang.store, b.id, "保温壶")
    products.link(wang.store, b.id, "保温杯", choose=True)
    wang.sync()
    assert server_links(team) == [("不锈钢保温杯 500ml", True, True, role(team, "wang")),
                                  ("保温壶", False, True, role(team, "wang"))]

    li.sync()
    seen = customers_buyer(li)
    assert products.current(li.store, seen.id).uuid == made.uuid  # the chosen one, as on wang's panel
    assert {link.product.uuid for link in products.links(li.store, seen.id)} == {made.uuid, pot.uuid}
    with pytest.raises(ValidationError) as e:
        products.unlink(li.store, seen.id, "保温杯")
    assert "王五 跟进中" in e.value.zh and outbox.size(li.store) == 0

    # li's panel has not heard of wang's lease: the server refuses (KF423) and li's link comes back
    with li.store.write():
        li.store.conn.execute("UPDATE buyers SET holder = NULL, held_until = NULL WHERE id = ?", (seen.id,))
    products.unlink(li.store, seen.id, "保温杯")
    result = li.sync()
    assert result.conflicts == 1 and outbox.conflicts(li.store)[0].theirs["sqlstate"] == "KF423"
    assert server_links(team)[0][2] is True
    assert products.current(li.store, seen.id).uuid == made.uuid

    # the holder unlinks; a supervisor may too
    products.unlink(wang.store, b.id, "保温壶")
    wang.sync()
    li.sync()
    assert [link.product.name for link in products.links(li.store, seen.id)] == ["不锈钢保温杯 500ml"]
    sup.sync()
    products.link(sup.store, customers_buyer(sup).id, "保温壶", choose=True)
    assert sup.sync().conflicts == 0
    assert server_links(team) == [("不锈钢保温杯 500ml", False, True, role(team, "sup")),  # no longer chosen
                                  ("保温壶", True, True, role(team, "sup"))]


def test_a_selling_point_one_agent_sent_is_never_proposed_by_another(tmp_path, team):
    sup, wang, li = (panel(tmp_path, team, n) for n in ("sup", "wang", "li"))
    cup(sup)
    sup.sync()
    wang.sync()
    # offline: star, link and chase with the first selling point, all queued; nothing sent yet
    b = star(wang)
    products.link(wang.store, b.id, "保温杯")
    reminders.record_chase(wang.store, b.id, None, angle="product", selling_point=POINTS[0])
    assert reminders.propose(wang.store, b.id).values["卖点"] == POINTS[1]
    li.sync()
    assert customers_buyer(li, missing=True) is None  # not on the server yet
    wang.sync()  # back online: everything lands
    with team.admin() as admin:
        assert admin.execute("SELECT selling_point, author FROM chases").fetchall() == [(POINTS[0], role(team, "wang"))]

    li.sync()
    seen = customers_buyer(li)
    assert products.sent_points(li.store, seen.id) == {POINTS[0]}
    from assistant.core import customers

    customers.take_over(li.store, seen.id, reason="王五下班")
    point = reminders.propose(li.store, seen.id, override=True).values["卖点"]
    assert point == POINTS[1]  # {卖点} fills with the next one: never the one wang sent
    reminders.record_chase(li.store, seen.id, None, angle="product", selling_point=point)
    li.sync()
    wang.sync()
    assert products.sent_points(wang.store, b.id) == {POINTS[0], POINTS[1]}
    assert products.next_point(products.current(wang.store, b.id), products.sent_points(wang.store, b.id)) == POINTS[2]


def test_offline_product_changes_wait_in_the_outbox_and_land_once_the_server_answers(tmp_path, team):
    sup = panel(tmp_path, team, "sup")
    online = sup._connect
    sup.close()

    def unreachable():
        raise psycopg.OperationalError("connection refused")

    sup._connect = unreachable
    made = cup(sup)
    products.edit_product(sup.store, made.id, gift="杯套")
    with pytest.raises(psycopg.OperationalError):
        sup.sync()
    assert outbox.size(sup.store) == 2 and server_products(team) == []
    sup._connect = online
    result = sup.sync()
    assert (result.pushed, result.conflicts) == (2, 0) and outbox.size(sup.store) == 0
    assert server_products(team)[0][3] == 2


def customers_buyer(client, nickname="买家甲", missing=False):
    from assistant.core import customers
    from assistant.errors import NotFoundError

    try:
        return customers.find_buyer(client.store, nickname, "taobao")
    except NotFoundError:
        if missing:
            return None
        raise
