"""Buyers shared through the team server, end to end through the real sync client: who stars a
buyer follows them, the others see "王五 跟进中" and cannot chase without a logged take-over, two
agents who starred the same buyer offline end with one row, marks merge as sets, chases are
shared, and an offline chase of a buyer someone else held is flagged to both."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assistant.core import customers, outbox, reminders
from assistant.core.clock import to_db
from assistant.errors import NotFoundError, ValidationError
from tests.helpers import pg

psycopg = pg.require_psycopg()
from tests.helpers.team import panel  # noqa: E402 - imports psycopg


@pytest.fixture
def team(named_team):
    return named_team


def star(client, nickname="买家甲", **kw):
    return reminders.star(client.store, platform="taobao", nickname=nickname, **kw)


def buyer(client, nickname="买家甲"):
    return customers.find_buyer(client.store, nickname, "taobao")


def test_who_stars_a_buyer_follows_them_and_the_others_must_take_over(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    b = star(wang)
    assert b.team_shop == team.shop and b.holder == f"kefu_{team.id}_wang"
    wang.sync()
    with team.admin() as admin:
        holder, n = admin.execute("SELECT holder, (SELECT count(*) FROM claim_log c WHERE c.buyer = b.id) "
                                  "FROM buyers b").fetchone()
    assert holder == f"kefu_{team.id}_wang" and n == 1

    li.sync()
    seen = buyer(li)
    assert seen.uuid == b.uuid and seen.holder_name == "王五" and seen.starred
    assert customers.held_by_other(li.store, seen) == (f"kefu_{team.id}_wang", "王五")
    with pytest.raises(ValidationError) as e:
        reminders.record_chase(li.store, seen.id, None, angle="price")
    assert "王五 跟进中" in e.value.zh and "王五 is following" in e.value.en
    with pytest.raises(ValidationError):
        reminders.star(li.store, buyer_id=seen.id)
    assert outbox.size(li.store) == 0  # refused before anything was queued

    customers.take_over(li.store, seen.id, reason="王五下班")
    reminders.record_chase(li.store, seen.id, None, angle="price")
    li.sync()
    with team.admin() as admin:
        log = admin.execute("SELECT kind, from_role, to_role, reason FROM claim_log ORDER BY id").fetchall()
    assert log[-1] == ("takeover", f"kefu_{team.id}_wang", f"kefu_{team.id}_li", "王五下班")
    wang.sync()
    mine = buyer(wang)
    assert mine.holder_name == "李四" and customers.held_by_other(wang.store, mine) is not None
    history = customers.chase_history(wang.store, mine.id)
    assert len(history) == 1 and history[0].angle == "price"


def test_two_agents_who_starred_the_same_buyer_offline_end_with_one_row_and_a_collision(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    a = star(wang, marks=["高客单"])
    b = star(li, marks=["意向明显"])
    assert a.uuid != b.uuid
    reminders.record_chase(li.store, b.id, None, angle="product")  # li believes the buyer is free
    wang.sync()  # wang's share lands first: wang holds the buyer
    li.sync()
    with team.admin() as admin:
        rows = admin.execute("SELECT id::text, holder FROM buyers").fetchall()
        collisions = admin.execute("SELECT holder, chaser FROM collisions").fetchall()
    assert rows == [(a.uuid, f"kefu_{team.id}_wang")]
    assert collisions == [(f"kefu_{team.id}_wang", f"kefu_{team.id}_li")]
    assert buyer(li).uuid == a.uuid  # re-keyed to the server's id
    assert buyer(li).holder_name == "王五"
    # wang follows the buyer: li's reminders for it are withdrawn, so one panel reminds, not two
    pending = "SELECT count(*) AS n FROM reminders WHERE buyer_id = ? AND state = 'pending'"
    assert li.store.query(pending, (buyer(li).id,))[0]["n"] == 0
    assert wang.store.query(pending, (buyer(wang).id,))[0]["n"] >= 1
    wang.sync()
    li.sync()
    for client in (wang, li):
        seen = buyer(client)
        assert sorted(seen.marks) == ["意向明显", "高客单"]  # marks merged as a set
        [c] = [c for c in outbox.conflicts(client.store) if c.kind == "collision"]
        assert c.theirs["holder"] == "王五" and c.theirs["chaser"] == "李四"
    assert len(customers.chase_history(wang.store, buyer(wang).id)) == 1


def test_another_agents_buyer_stays_out_of_my_promotion_wave(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    star(wang, nickname="王的买家")
    star(li, nickname="李的买家")
    wang.sync()
    li.sync()
    assert {b.nickname for b in customers.list_buyers(li.store)} == {"王的买家", "李的买家"}
    start = li.store.clock.now() + timedelta(hours=5)
    reminders.add_promotion(li.store, "双十二", start)
    waved = li.store.query("SELECT b.nickname FROM reminders r JOIN buyers b ON b.id = r.buyer_id "
                           "WHERE r.kind = 'wave'")
    assert {r["nickname"] for r in waved} == {"李的买家"}


PENDING = "SELECT count(*) AS n FROM reminders WHERE state = 'pending' AND kind = 'chase'"


def test_handover_moves_the_buyers_and_their_reminders_to_the_receiver(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    for nick in ("买家甲", "买家乙"):
        star(wang, nickname=nick)
    reminders.record_chase(wang.store, buyer(wang, "买家甲").id, None, angle="price")
    wang.sync()
    li.sync()
    assert wang.store.query(PENDING)[0]["n"] == 2 and li.store.query(PENDING)[0]["n"] == 0

    assert reminders.hand_over_team(wang.store, f"kefu_{team.id}_li", "李四") == 2
    assert wang.store.query(PENDING)[0]["n"] == 0  # they fire on the receiver's panel now
    wang.sync()
    li.sync()
    for nick in ("买家甲", "买家乙"):
        assert buyer(li, nick).holder == f"kefu_{team.id}_li"
        assert customers.held_by_other(wang.store, buyer(wang, nick)) == (f"kefu_{team.id}_li", "李四")
    assert li.store.query(PENDING)[0]["n"] == 2
    # the chased buyer continues its cadence at the next step, not from the start
    steps = {r["nickname"]: r["step"] for r in li.store.query(
        "SELECT b.nickname, r.step FROM reminders r JOIN buyers b ON b.id = r.buyer_id WHERE r.state = 'pending'")}
    assert steps == {"买家甲": 1, "买家乙": 0}
    with team.admin() as admin:
        kinds = admin.execute("SELECT kind, to_role FROM claim_log WHERE kind = 'handover'").fetchall()
    assert kinds == [("handover", f"kefu_{team.id}_li")] * 2

    # li hands over to the pool: nobody holds them, anyone may star or chase them next
    reminders.hand_over_team(li.store, None)
    li.sync()
    wang.sync()
    assert all(customers.held_by_other(wang.store, buyer(wang, n)) is None for n in ("买家甲", "买家乙"))
    reminders.record_chase(wang.store, buyer(wang, "买家乙").id, None, angle="gift")  # free again: allowed


def test_a_handover_to_someone_outside_the_team_is_refused_and_nothing_moves(tmp_path, team):
    wang = panel(tmp_path, team, "wang")
    star(wang)
    wang.sync()
    reminders.hand_over_team(wang.store, "kefu_nosuchteam_x")
    result = wang.sync()
    assert result.conflicts == 1
    assert [c.kind for c in outbox.conflicts(wang.store)] == ["refused"]
    assert buyer(wang).holder == f"kefu_{team.id}_wang"  # heard again from the server
    assert wang.store.query(PENDING)[0]["n"] == 1  # and the reminder is back


def test_a_lease_is_renewed_only_when_it_nears_its_end(tmp_path, team):
    wang = panel(tmp_path, team, "wang")
    star(wang)
    wang.sync()
    with team.admin() as admin:
        first = admin.execute("SELECT held_until FROM buyers").fetchone()[0]
    wang.sync()  # far from its end: no renewal (a renewal wakes every panel)
    with team.admin() as admin:
        assert admin.execute("SELECT held_until FROM buyers").fetchone()[0] == first
        admin.execute("UPDATE buyers SET held_until = now() + interval '20 minutes'")
    with wang.store.write() as db:
        db.conn.execute("UPDATE buyers SET held_until = ?", (to_db(wang.store.clock.now() + timedelta(minutes=20)),))
    wang.sync()
    with team.admin() as admin:
        assert admin.execute("SELECT held_until > now() + interval '100 minutes' FROM buyers").fetchone()[0]


def test_the_team_members_are_kept_for_the_handover_list(tmp_path, team):
    from assistant.core import settings

    wang = panel(tmp_path, team, "wang")
    members = {role: (name, active) for role, name, active in settings.get(wang.store, "team.agents")}
    assert members[f"kefu_{team.id}_li"] == ("李四", True) and f"kefu_{team.id}_sup" in members


def test_a_chase_is_never_read_before_its_buyer(tmp_path, team):
    """A buyer and its chase that commit while a pull is between its buyers feed and its chases
    feed: both wait for the next pull (one snapshot for every feed), neither is lost. Run with the
    usual page and with pages of one row (every feed then reads further pages one by one)."""
    import uuid as uuidlib

    for page_rows in (500, 1):
        (tmp_path / str(page_rows)).mkdir()
        li = panel(tmp_path / str(page_rows), team, "li")
        li.sync()
        li.pull_page = page_rows
        wang = team.login("wang")
        original = li._advance
        nick = f"插队的买家{page_rows}"

        injected: list = []

        def advance(feed, rows, cursor, xmin, nick=nick, original=original, injected=injected, wang=wang):
            if feed.name == "buyers" and not injected:  # the buyers page is read, the chases not yet
                injected.append(1)
                bid = str(uuidlib.uuid4())
                wang.execute("SELECT kefu_upsert_buyer(%s, %s, 'taobao', %s)", [bid, team.shop, nick])
                wang.execute("INSERT INTO chases (id, buyer, angle) VALUES (%s, %s, 'price')",
                             [str(uuidlib.uuid4()), bid])
            return original(feed, rows, cursor, xmin)

        li._advance = advance
        try:
            li.pull()
            assert injected
            with pytest.raises(NotFoundError):  # committed after this pull's snapshot: the next one
                buyer(li, nick)
            li.pull()
        finally:
            wang.close()
        seen = buyer(li, nick)
        assert [c.angle for c in customers.chase_history(li.store, seen.id)] == ["price"]


def test_the_buyers_mood_is_shared_like_its_other_fields(tmp_path, team):
    from assistant.core import invites

    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    b = star(wang)
    invites.set_mood(wang.store, b.id, "pleased")
    wang.sync()
    li.sync()
    seen = buyer(li)
    assert seen.mood == "pleased" and seen.mood_at is not None
    assert invites.verdict(li.store, seen.id).allowed
    with team.admin() as admin:
        assert admin.execute("SELECT mood FROM buyers").fetchone() == ("pleased",)
    invites.set_mood(wang.store, b.id, None)
    wang.sync()
    li.sync()
    assert buyer(li).mood is None and buyer(li).mood_at is None
