"""The promotion phone list worked by a team (team schema step 8), on the real PostgreSQL fixture:
call outcomes and 勿扰 of a shared buyer are its holder's to write and everyone's in the shop to see;
an agent who does not hold the buyer is refused (by its panel, and by the server when its panel had
not heard) with nothing left half-written; 勿扰 set by a supervisor ends the holder's wave slots."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assistant.core import customers, outbox, reminders
from assistant.errors import ValidationError
from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import schema  # noqa: E402 - imports psycopg
from tests.helpers.team import panel  # noqa: E402

MARKS = ["高客单", "意向明显"]


@pytest.fixture
def team(shop_team):
    with shop_team.admin() as admin:
        for name, display in (("wang", "王五"), ("li", "李四"), ("sup", "张主管")):
            admin.execute("UPDATE agents SET display_name = %s WHERE role = %s",
                          [display, f"kefu_{shop_team.id}_{name}"])
    return shop_team


def role(team, name: str) -> str:
    return schema.agent_role(team.id, name)


def star(client, nickname, phone):
    return reminders.star(client.store, platform="taobao", nickname=nickname, shop="旗舰店", marks=MARKS, phone=phone)


def buyer(client, nickname):
    return customers.find_buyer(client.store, nickname, "taobao")


def server_calls(team) -> list[tuple]:
    with team.admin() as admin:
        return admin.execute("SELECT b.nickname, c.outcome, c.author, c.retry_at IS NOT NULL FROM promotion_calls c "
                             "JOIN buyers b ON b.id = c.buyer ORDER BY c.at, c.id").fetchall()


def server_dnc(team) -> dict[str, bool]:
    with team.admin() as admin:
        return dict(admin.execute("SELECT nickname, do_not_call FROM buyers").fetchall())


@pytest.fixture
def promo(tmp_path, team):
    """The supervisor's shop promotion, and 王五 following two buyers for its phone list."""
    sup, wang, li = (panel(tmp_path, team, n) for n in ("sup", "wang", "li"))
    star(wang, "买家甲", "13800000001")
    star(wang, "买家乙", "13800000002")
    wang.sync()
    sup.sync()
    reminders.add_promotion(sup.store, "双十二", sup.store.clock.now() + timedelta(hours=3, minutes=30),
                            team_shop="旗舰店")
    sup.sync()
    wang.sync()
    return sup, wang, li


def test_call_outcomes_and_do_not_call_are_the_holders_and_everyone_sees_them(team, promo):
    sup, wang, li = promo
    assert {e.nickname for e in reminders.phone_list(wang.store, "双十二")} == {"买家甲", "买家乙"}
    # worked offline: both wait in the outbox, then land with the next sync
    reminders.record_call(wang.store, "双十二", buyer(wang, "买家甲").id, "未接")
    reminders.set_do_not_call(wang.store, buyer(wang, "买家乙").id)
    assert server_calls(team) == [] and not any(server_dnc(team).values())
    wang.sync()
    assert server_calls(team) == [("买家甲", "no_answer", role(team, "wang"), True)]
    assert server_dnc(team) == {"买家甲": False, "买家乙": True}

    li.sync()
    first = buyer(li, "买家甲")
    assert li.store.query("SELECT outcome, agent FROM promotion_calls WHERE buyer_id = ?", (first.id,)) == [
        {"outcome": "no_answer", "agent": role(team, "wang")}]
    assert li.store.query("SELECT do_not_call FROM buyers WHERE nickname = '买家乙'")[0]["do_not_call"] == 1
    # 李四 does not hold them: refused before anything is stored or queued
    with pytest.raises(ValidationError) as e:
        reminders.record_call(li.store, "双十二", first.id, "接通")
    assert "王五 跟进中" in e.value.zh
    with pytest.raises(ValidationError):
        reminders.set_do_not_call(li.store, buyer(li, "买家乙").id, on=False)
    # nor record how the chase went: the buyer's state and cadence are the holder's
    for what in ("paid", "lost", "pause", "replied"):
        with pytest.raises(ValidationError) as e:
            reminders.outcome(li.store, first.id, what)
        assert "王五 跟进中" in e.value.zh and "take over" in e.value.en
    assert buyer(li, "买家甲").state == "following"
    assert outbox.size(li.store) == 0 and li.store.query("SELECT count(*) AS n FROM promotion_calls")[0]["n"] == 1

    # after a take-over the list shows 王五's call: 李四 picks up where he left off, and 王五 sees it
    customers.take_over(li.store, first.id, reason="王五下班")
    [entry] = [e for e in reminders.phone_list(li.store, "双十二", now=li.store.clock.now() + timedelta(hours=1))
               if e.buyer_id == first.id]
    assert (entry.status, entry.last_outcome, entry.calls) == ("retry", "no_answer", 1)
    reminders.record_call(li.store, "双十二", first.id, "接通")
    li.sync()
    wang.sync()
    assert [r["outcome"] for r in wang.store.query(
        "SELECT outcome FROM promotion_calls WHERE buyer_id = ? ORDER BY at, id", (buyer(wang, "买家甲").id,))] == [
        "no_answer", "answered"]
    assert server_calls(team)[-1][:3] == ("买家甲", "answered", role(team, "li"))


def test_a_call_or_do_not_call_the_server_refuses_leaves_nothing_half_written(team, promo):
    sup, wang, li = promo
    reminders.set_do_not_call(wang.store, buyer(wang, "买家乙").id)
    wang.sync()
    li.sync()
    # 李四's panel has not heard of 王五's leases: it lets the call and 勿扰 off through, the server does not
    with li.store.write():
        li.store.conn.execute("UPDATE buyers SET holder = NULL, held_until = NULL")
    reminders.record_call(li.store, "双十二", buyer(li, "买家甲").id, "不需要")
    reminders.set_do_not_call(li.store, buyer(li, "买家乙").id, on=False)
    result = li.sync()
    assert result.conflicts == 2
    assert sorted(c.theirs["sqlstate"] for c in outbox.conflicts(li.store)) == ["KF423", "KF423"]
    assert sorted(c.mine["title"] for c in outbox.conflicts(li.store)) == ["勿扰", "大促电话"]
    assert server_calls(team) == [] and server_dnc(team) == {"买家甲": False, "买家乙": True}
    # the refused call is gone from 李四's list (kept in the conflict), 勿扰 is the server's again
    assert li.store.query("SELECT count(*) AS n FROM promotion_calls")[0]["n"] == 0
    assert li.store.query("SELECT do_not_call FROM buyers WHERE nickname = '买家乙'")[0]["do_not_call"] == 1
    assert li.sync().conflicts == 0 and outbox.size(li.store) == 0
    # and as the real role: no direct write
    with team.login("li") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE buyers SET do_not_call = false")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO promotion_calls (id, promotion, buyer, shop, outcome) "
                         "SELECT gen_random_uuid(), p.id, b.id, b.shop, 'answered' FROM promotions p, buyers b")


def test_do_not_call_set_by_a_supervisor_ends_the_holders_wave_slots(team, promo):
    sup, wang, li = promo
    first = buyer(wang, "买家甲")
    waves = "SELECT count(*) AS n FROM reminders WHERE buyer_id = ? AND kind = 'wave' AND state = 'pending'"
    assert wang.store.query(waves, (first.id,))[0]["n"] == 1
    reminders.set_do_not_call(sup.store, buyer(sup, "买家甲").id)  # a supervisor may, whoever holds the buyer
    assert sup.sync().conflicts == 0
    wang.sync()
    assert wang.store.query(waves, (first.id,))[0]["n"] == 0
    assert wang.store.query("SELECT outcome FROM reminders WHERE buyer_id = ? AND kind = 'wave'", (first.id,)) == [
        {"outcome": "do_not_call"}]
    assert "买家甲" not in {e.nickname for e in reminders.phone_list(wang.store, "双十二")}
    wang.push()  # the next round tells the server the slot ended, from its owner's panel
    with team.admin() as admin:
        assert admin.execute("SELECT state FROM reminders WHERE kind = 'wave' AND buyer = %s",
                             [first.uuid]).fetchone() == ("cancelled",)
