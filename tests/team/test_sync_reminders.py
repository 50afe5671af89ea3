"""Reminders on the team server (schema step 5): each has one owner and fires on one panel. A 交班,
a take-over, a reassignment or a pick-up from the pool moves the SAME reminder (same id, same due
time) to the new holder; a claim of a buyer nobody held cancels earlier owners' reminders; a
supervisor's shop promotion reaches every agent's panel with its own part of the wave, in one
server statement and one wake-up."""

from __future__ import annotations

import time
import uuid as uuidlib
from datetime import timedelta

import pytest

from assistant.core import customers, outbox, reminders, settings
from assistant.core.clock import to_db
from assistant.errors import ValidationError
from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import sync  # noqa: E402
from tests.helpers.team import panel  # noqa: E402 - imports psycopg

PENDING = ("SELECT r.uuid, r.due_at, r.step, r.kind, b.nickname FROM reminders r JOIN buyers b ON b.id = r.buyer_id "
           "WHERE r.state = 'pending' AND r.kind IN ('chase', 'wave') ORDER BY b.nickname, r.kind")


@pytest.fixture
def team(named_team):
    return named_team


def role(team, name):
    return f"kefu_{team.id}_{name}"


def star(client, nickname="买家甲", **kw):
    return reminders.star(client.store, platform="taobao", nickname=nickname, **kw)


def buyer(client, nickname="买家甲"):
    return customers.find_buyer(client.store, nickname, "taobao")


def pending(client):
    return [dict(r) for r in client.store.query(PENDING)]


def server_reminders(team):
    with team.admin() as admin:
        return admin.execute("SELECT id::text, owner, prev_owner, state, outcome, due_at FROM reminders "
                             "ORDER BY id").fetchall()


def test_a_starred_buyers_reminder_is_on_the_server_with_its_owner(tmp_path, team):
    wang = panel(tmp_path, team, "wang")
    star(wang)
    mine = pending(wang)
    assert len(mine) == 1
    wang.sync()
    rows = server_reminders(team)
    assert [(r[0], r[1], r[3]) for r in rows] == [(mine[0]["uuid"], role(team, "wang"), "pending")]
    assert to_db(rows[0][5]) == mine[0]["due_at"]

    # the owner acts on it: the chase closes the step and the next step is planned; both on the server
    reminders.record_chase(wang.store, buyer(wang).id, None, angle="price")
    wang.sync()
    states = {r[0]: r[3] for r in server_reminders(team)}
    assert states[mine[0]["uuid"]] == "done"
    assert sorted(states.values()) == ["done", "pending"]
    assert outbox.size(wang.store) == 0


def test_handover_moves_the_same_reminders_to_the_receiver_and_they_leave_the_sender(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    for nick in ("买家甲", "买家乙"):
        star(wang, nickname=nick)
    reminders.record_chase(wang.store, buyer(wang, "买家甲").id, None, angle="price")
    wang.sync()
    li.sync()
    before = pending(wang)
    assert len(before) == 2 and pending(li) == []

    reminders.hand_over_team(wang.store, role(team, "li"), "李四")
    wang.sync()
    start = time.monotonic()
    li.sync()
    took = time.monotonic() - start
    after = pending(li)
    # the same reminders: same ids, same due times, same steps — moved, not re-planned
    assert [(r["uuid"], r["due_at"], r["step"]) for r in after] == [(r["uuid"], r["due_at"], r["step"]) for r in before]
    assert pending(wang) == []
    assert {r[1] for r in server_reminders(team) if r[3] == "pending"} == {role(team, "li")}
    print(f"handover: receiver's pull took {took * 1000:.0f} ms for 2 buyers")

    # the sender's next pull reads the moves once and changes nothing more
    wang.sync()
    assert pending(wang) == []
    states = {r["uuid"]: r["state"] for r in wang.store.query("SELECT uuid, state FROM reminders")}
    assert all(states[r["uuid"]] == "cancelled" for r in before)


def test_the_pool_is_picked_up_by_the_next_agent_to_sign_in(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    star(wang)
    wang.sync()
    before = pending(wang)
    reminders.hand_over_team(wang.store, None)  # 交班 to the shop's pool
    wang.sync()
    with team.admin() as admin:
        assert admin.execute("SELECT holder, (SELECT owner FROM reminders) FROM buyers").fetchone() == (None, None)

    li.sync()
    assert pending(li) == []  # nobody's yet: the pool waits for a sign-in
    assert li.pick_up_pool() == 1
    assert li.pick_up_pool() == 0  # nothing left
    li.sync()
    assert buyer(li).holder == role(team, "li")
    assert [(r["uuid"], r["due_at"]) for r in pending(li)] == [(r["uuid"], r["due_at"]) for r in before]
    with team.admin() as admin:
        assert admin.execute("SELECT kind, to_role FROM claim_log ORDER BY id DESC LIMIT 1").fetchone() == (
            "pickup", role(team, "li"))
    wang.sync()
    assert pending(wang) == [] and customers.held_by_other(wang.store, buyer(wang)) is not None


def test_a_disabled_agents_reminders_go_to_the_pool_with_their_buyers(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    star(wang)
    wang.sync()
    with team.login("sup") as sup:
        sup.execute("SELECT kefu_disable_agent(%s)", [role(team, "wang")])
        sup.commit()
    assert [r[1] for r in server_reminders(team)] == [None]
    assert li.pick_up_pool() == 1
    li.sync()
    assert len(pending(li)) == 1


def test_take_over_and_reassign_move_the_reminders(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    star(wang)
    wang.sync()
    li.sync()
    first = pending(wang)
    customers.take_over(li.store, buyer(li).id, reason="王五请假")
    li.sync()
    assert [r["uuid"] for r in pending(li)] == [r["uuid"] for r in first]
    wang.sync()
    assert pending(wang) == []

    with team.login("sup") as sup:
        sup.execute("SELECT * FROM kefu_reassign(%s, %s, now() + interval '2 hours')",
                    [buyer(li).uuid, role(team, "wang")])
        sup.commit()
    wang.sync()
    li.sync()
    assert [r["uuid"] for r in pending(wang)] == [r["uuid"] for r in first] and pending(li) == []


def test_a_claim_of_an_expired_lease_cancels_the_old_owners_reminders(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    star(wang)
    wang.sync()
    with team.admin() as admin:  # wang went home without a 交班; the lease ran out
        admin.execute("UPDATE buyers SET held_until = now() - interval '1 minute'")
    li.sync()
    star(li)  # free again: li stars the buyer and plans its own cadence
    li.sync()
    rows = server_reminders(team)
    assert {(r[1], r[3]) for r in rows} == {(role(team, "li"), "cancelled"), (role(team, "li"), "pending")}
    wang.sync()
    assert pending(wang) == []
    assert len(pending(li)) == 1


def test_a_reminder_of_a_buyer_someone_else_holds_is_refused_and_ends_here(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    star(wang)
    wang.sync()
    li.sync()
    # li's panel, offline, thought the buyer free and planned a reminder (the collision case)
    with li.store.write() as db:
        db.conn.execute("UPDATE buyers SET holder = NULL, held_until = NULL")
    b = buyer(li)
    assert b.starred and b.cadence_id
    reminders.start_cadence(li.store, b.id, b.cadence_id)
    assert len(pending(li)) == 1
    li.sync()
    assert pending(li) == []  # the server said: someone else's
    assert {r[1] for r in server_reminders(team)} == {role(team, "wang")}


def test_an_agent_cannot_touch_reminders_except_through_the_functions(tmp_path, team):
    wang = panel(tmp_path, team, "wang")
    star(wang)
    wang.sync()
    rid = server_reminders(team)[0][0]
    with team.login("li") as li:
        assert li.execute("SELECT count(*) FROM reminders").fetchone() == (0,)  # not li's
        assert li.execute("SELECT kefu_put_reminder(%s, %s, 'chase', NULL, 'unpaid', 0, now(), now(), "
                          "'cancelled', 'x')", [rid, buyer(wang).uuid]).fetchone() == ("not_owner",)
        for statement in ("UPDATE reminders SET state = 'cancelled'", "DELETE FROM reminders",
                          "INSERT INTO reminders (id, buyer, shop, kind, cadence_id, due_at) "
                          "SELECT gen_random_uuid(), id, shop, 'chase', 'x', now() FROM buyers"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                li.execute(statement)
            li.rollback()
    with team.login("zhao") as zhao, pytest.raises(psycopg.errors.NoDataFound):  # another shop
        zhao.execute("SELECT kefu_put_reminder(%s, %s, 'chase', NULL, 'unpaid', 0, now(), now(), 'done', NULL)",
                     [str(uuidlib.uuid4()), buyer(wang).uuid])
    assert [r[3] for r in server_reminders(team)] == ["pending"]


def test_a_supervisors_shop_promotion_reaches_every_agent_with_their_own_wave(tmp_path, team):
    wang, li, sup = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li"), panel(tmp_path, team, "sup")
    star(wang, nickname="王的买家")
    star(li, nickname="李的买家")
    wang.sync()
    li.sync()
    sup.sync()
    assert settings.get(sup.store, "team.kind") == "supervisor"
    start = sup.store.clock.now() + timedelta(hours=6)
    with pytest.raises(ValidationError) as e:
        reminders.add_promotion(wang.store, "双十二", start, team_shop="旗舰店")
    assert "只有主管" in e.value.zh

    listener = sup.open_listener()
    try:
        sync.drain(listener)
        reminders.add_promotion(sup.store, "双十二", start, team_shop="旗舰店")
        assert sup.store.query("SELECT count(*) AS n FROM reminders WHERE kind = 'wave'")[0]["n"] == 0  # none are its
        sup.push()
        listener.execute("SELECT 1")
        time.sleep(0.2)
        got = list(listener.notifies(timeout=0.5, stop_after=10))
        assert len(got) == 1  # one wake-up for the promotion and its whole wave
    finally:
        listener.close()
    with team.admin() as admin:
        owners = dict(admin.execute("SELECT b.nickname, r.owner FROM reminders r JOIN buyers b ON b.id = r.buyer "
                                    "WHERE r.kind = 'wave'").fetchall())
    assert owners == {"王的买家": role(team, "wang"), "李的买家": role(team, "li")}
    for client, nick in ((wang, "王的买家"), (li, "李的买家")):
        client.sync()
        promo = reminders.list_promotions(client.store)
        assert [p.name for p in promo] == ["双十二"] and promo[0].wave_total == 1
        assert [r["nickname"] for r in pending(client) if r["kind"] == "wave"] == [nick]
        phone = client.store.query("SELECT count(*) AS n FROM reminders WHERE kind = 'phone' AND state = 'pending'")
        assert phone[0]["n"] == 1  # each agent's own phone-list reminder

    # an agent may not delete the shop's promotion; the supervisor withdraws it for everyone
    with pytest.raises(ValidationError):
        reminders.delete_promotion(wang.store, "双十二")
    reminders.delete_promotion(sup.store, "双十二")
    sup.sync()
    wang.sync()
    assert reminders.list_promotions(wang.store) == [] and [r for r in pending(wang) if r["kind"] == "wave"] == []
    with team.admin() as admin:
        assert admin.execute("SELECT count(*) FROM reminders WHERE kind = 'wave' AND state = 'pending'").fetchone() == (0,)


def test_a_promotion_refused_by_the_server_stays_this_pcs_own(tmp_path, team):
    wang = panel(tmp_path, team, "wang")
    star(wang)
    wang.sync()
    with wang.store.write():  # as if the supervisor's right was withdrawn after the panel last heard
        settings.set(wang.store, "team.kind", "supervisor")
    reminders.add_promotion(wang.store, "年货节", wang.store.clock.now() + timedelta(hours=6), team_shop="旗舰店")
    result = wang.push()
    assert result.conflicts == 1
    assert wang.store.query("SELECT team_shop FROM promotions")[0]["team_shop"] is None


def test_signing_in_with_an_empty_pool_wakes_nobody(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    star(wang)
    wang.sync()
    listener = wang.open_listener()
    try:
        sync.drain(listener)
        assert li.pick_up_pool() == 0
        listener.execute("SELECT 1")
        assert list(listener.notifies(timeout=0.3, stop_after=1)) == []
    finally:
        listener.close()
