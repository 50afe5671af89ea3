"""After-sales cases in team mode (team schema step 7), on the real PostgreSQL fixture: a case of a
shared buyer, its history and the supervisor's limits sync like the rest; an offer above a limit the
supervisor set becomes an escalation the supervisor's panel decides; a 交班 moves the case with the
buyer; history lines are never duplicated; and the rules hold for real roles over TCP."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from assistant.core import aftersales, customers, outbox, reminders
from assistant.errors import ValidationError
from tests.helpers import pg

psycopg = pg.require_psycopg()
from assistant.team import schema  # noqa: E402 - imports psycopg
from tests.helpers.team import panel  # noqa: E402


@pytest.fixture
def team(named_team):
    return named_team


def role(team, name: str) -> str:
    return schema.agent_role(team.id, name)


def open_case(client, nickname="买家甲", **kw):
    args = dict(problem="收到破损，要求退款", category="quality", severity="medium", wanted="refund", mood="upset",
                platform="taobao", nickname=nickname, order_no="123456789012345678", product="保温杯")
    args.update(kw)
    return aftersales.open_case(client.store, **args)


def server_events(team, case_uuid: str) -> list[tuple]:
    with team.admin() as admin:
        return admin.execute('SELECT id::text, kind, by_role, author FROM aftersales_events WHERE "case" = %s '
                             "ORDER BY at, id", [case_uuid]).fetchall()


def local_event_uuids(client, case_uuid: str) -> list[str]:
    return [r["uuid"] for r in client.store.query(
        "SELECT e.uuid FROM aftersales_events e JOIN aftersales_cases c ON c.id = e.case_id WHERE c.uuid = ?",
        (case_uuid,))]


def test_an_offer_above_the_synced_limit_is_escalated_decided_handed_over_and_resolved(tmp_path, team):
    sup, wang, li = (panel(tmp_path, team, n) for n in ("sup", "wang", "li"))
    # the supervisor sets 王五's limit for medium problems: compensation up to ¥5, no refund
    aftersales.set_limit(sup.store, "medium", agent=role(team, "wang"), max_compensation="5", may_refund=False)
    sup.sync()
    wang.sync()
    limit = aftersales.get_limit(wang.store, "medium", team_shop=team.shop)
    assert (limit.max_compensation, limit.source, limit.set_by) == (500, "agent", "张主管")

    case = open_case(wang)
    assert case.team_shop == team.shop
    assert customers.get_buyer(wang.store, case.buyer_id).holder == role(team, "wang")  # opening follows the buyer
    result = aftersales.make_offer(wang.store, case.id, "compensate", "20", note="买家很生气")
    assert not result.made and result.case.status == "manager" and "¥5.00" in result.check.reason("zh")
    wang.sync()
    with team.admin() as admin:
        assert admin.execute("SELECT status, step, opened_by FROM aftersales_cases").fetchone() == (
            "manager", 1, role(team, "wang"))
    kinds = [k for _, k, _, _ in server_events(team, case.uuid)]
    assert sorted(kinds) == ["escalated", "offer_blocked", "opened"]  # the blocked offer was never recorded as made

    # the supervisor's panel sees the escalation and decides
    started = time.perf_counter()
    sup.sync()
    [seen] = aftersales.list_cases(sup.store, status="manager")
    assert seen.uuid == case.uuid and seen.order_masked.endswith("5678") and seen.problem == "收到破损，要求退款"
    aftersales.decide(sup.store, seen.uuid, approve=True, by="张主管", note="给20元")
    sup.sync()
    wang.sync()
    mine = aftersales.get_case(wang.store, case.id)
    assert mine.status == "proposed" and mine.decided_by == "张主管" and mine.manager_decision.startswith("批准")
    assert time.perf_counter() - started < 5
    history = aftersales.history(wang.store, case.id)
    decision = [e for e in history if e.kind == "decision"]
    assert len(decision) == 1 and decision[0].by_role == "supervisor"
    assert [e.by_role for e in history if e.kind == "offer"] == ["supervisor"]

    # 交班: the buyer goes to 李四 and the case with it; 李四 resolves it within the approval
    assert reminders.hand_over_team(wang.store, role(team, "li"), "李四") >= 1
    wang.sync()
    li.sync()
    theirs = aftersales.get_case(li.store, case.uuid)
    assert theirs.status == "proposed" and customers.get_buyer(li.store, theirs.buyer_id).holder == role(team, "li")
    assert aftersales.followups(li.store, theirs.id)  # the follow-up fires on the receiver's panel now
    wang.sync()
    assert not aftersales.followups(wang.store, case.id)  # and no longer on the giver's
    done = aftersales.resolve(li.store, theirs.id, "compensated", amount="20")
    assert done.status == "resolved"
    li.sync()
    with team.admin() as admin:
        status, outcome, amount, closed = admin.execute(
            "SELECT status, outcome, outcome_amount, closed_at IS NOT NULL FROM aftersales_cases").fetchone()
    assert (status, outcome, amount, closed) == ("resolved", "compensated", 2000, True)
    wang.sync()
    sup.sync()
    # the same history everywhere, every line once
    server = [e[0] for e in server_events(team, case.uuid)]
    assert len(server) == len(set(server))
    for client in (wang, li, sup):
        assert aftersales.get_case(client.store, case.uuid).status == "resolved"
        assert sorted(local_event_uuids(client, case.uuid)) == sorted(server)
    # 王五 no longer follows the buyer: the case is 李四's to work on
    with pytest.raises(ValidationError) as e:
        aftersales.reopen(wang.store, case.id)
    assert "李四 跟进中" in e.value.zh


def test_history_lines_are_never_duplicated_by_resends(tmp_path, team):
    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    case = open_case(wang)
    aftersales.update_case(wang.store, case.id, note="买家发来照片")
    aftersales.advance_step(wang.store, case.id)
    ops = wang.store.query("SELECT op, kind, target, body, created_at FROM team_outbox ORDER BY id")
    first = wang.sync()
    assert first.conflicts == 0
    count = len(server_events(team, case.uuid))
    assert count == 3
    # a lost acknowledgement: the same operations again
    with wang.store.write() as db:
        db.conn.executemany("INSERT INTO team_outbox (op, kind, target, body, created_at) VALUES (?,?,?,?,?)",
                            [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in ops])
    again = wang.sync()
    assert again.duplicates == len(ops) and again.pushed == 0
    # the same history lines under new operation ids (a panel restored from a backup): stored once
    note_ops = [r for r in ops if r["kind"] == "aftersales.case" and json.loads(r["body"])["from"] == "new"
                and json.loads(r["body"])["case"]["status"] == "new"]
    with wang.store.write() as db:
        for r in note_ops:
            db.conn.execute("INSERT INTO team_outbox (op, kind, target, body, created_at) VALUES (?,?,?,?,?)",
                            (str(uuid.uuid4()), r["kind"], r["target"], r["body"], r["created_at"]))
    assert wang.sync().pushed == len(note_ops) >= 1
    assert len(server_events(team, case.uuid)) == count
    li.sync()
    li.sync()
    assert sorted(local_event_uuids(li, case.uuid)) == sorted(e[0] for e in server_events(team, case.uuid))


def test_two_moves_of_the_same_case_at_once_the_later_is_refused_and_kept_as_a_conflict(tmp_path, team):
    """The supervisor approves while 王五, offline, closes the case (the buyer withdrew): both from
    待主管. The supervisor's lands first; 王五's would move a status the server no longer has, so the
    server refuses it (KF409) instead of silently undoing the decision. 王五's panel gets the
    server's case back and the refused change, history lines and all, as a conflict."""
    sup, wang = panel(tmp_path, team, "sup"), panel(tmp_path, team, "wang")
    case = open_case(wang)
    aftersales.escalate(wang.store, case.id, reason="买家要求找主管", offer="refund")
    wang.sync()
    sup.sync()
    aftersales.decide(sup.store, case.uuid, approve=True, by="张主管")
    aftersales.close(wang.store, case.id, note="买家撤回")
    sup.sync()
    result = wang.sync()
    assert result.conflicts == 1
    [c] = [c for c in outbox.conflicts(wang.store) if c.kind == "refused"]
    assert c.target == case.uuid and c.theirs["sqlstate"] == "KF409" and c.theirs["status"] == "proposed"
    assert [e["kind"] for e in c.mine["events"]] == ["closed"] and c.mine["title"] == f"售后单 #{case.id}"
    mine = aftersales.get_case(wang.store, case.id)
    assert mine.status == "proposed" and mine.decided_by == "张主管"
    assert "closed" not in [e.kind for e in aftersales.history(wang.store, case.id)]
    assert "closed" not in [k for _, k, _, _ in server_events(team, case.uuid)]
    # a change that leaves the status alone goes through whatever the status is now
    aftersales.update_case(wang.store, case.id, note="买家改主意了")
    assert wang.sync().conflicts == 0


def test_agents_cannot_write_limits_or_decisions_and_the_server_keeps_the_rules(tmp_path, team):
    sup, wang = panel(tmp_path, team, "sup"), panel(tmp_path, team, "wang")
    aftersales.set_limit(sup.store, "medium", max_compensation="5")
    sup.sync()
    case = open_case(wang)
    wang.sync()
    body = json.loads(wang.store.query("SELECT body FROM team_outbox")[0]["body"]) if outbox.size(wang.store) else None
    assert body is None
    with team.admin() as admin:
        server_case = admin.execute("SELECT buyer::text FROM aftersales_cases").fetchone()[0]
    fields = {"problem": "收到破损", "category": {"id": "fe6690f4-1914-4ce5-88b4-78d3d2421717"}, "severity": "medium",
              "wanted": "refund", "mood": "upset", "status": "new", "step": 1}

    def put(conn, status_from, case_fields, events=()):
        conn.execute("SELECT kefu_put_case(%s, %s, %s, %s::jsonb, %s::jsonb)",
                     [case.uuid, server_case, status_from, json.dumps(case_fields), json.dumps(list(events))])

    def event(kind, **kw):
        return {"id": str(uuid.uuid4()), "kind": kind, **kw}

    with team.login("wang") as agent:
        for statement, args in (
            ("INSERT INTO aftersales_limits (id, shop, severity, max_compensation) VALUES (%s, %s, 'light', 99900)",
             [str(uuid.uuid4()), team.shop]),
            ("UPDATE aftersales_limits SET max_compensation = 99900", []),
            ("UPDATE aftersales_cases SET manager_decision = '批准'", []),
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                agent.execute(statement, args)
        refused = {
            "a decision on the case": lambda: put(agent, "new", {**fields, "manager_decision": "批准", "decided_by": "王五"}),
            "a decision event": lambda: put(agent, "new", fields, [event("decision", by_role="agent")]),
            "a supervisor's offer": lambda: put(agent, "new", fields, [event("offer", by_role="supervisor",
                                                                             offer="refund")]),
            "an offer above the limit": lambda: put(agent, "new", fields, [event("offer", offer="compensate",
                                                                                 amount=2000)]),
        }
        for what, attempt in refused.items():
            with pytest.raises(psycopg.Error) as e:
                attempt()
            assert e.value.sqlstate == "42501", what
        put(agent, "new", fields, [event("offer", offer="compensate", amount=500)])  # within it: fine
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor as the case's outcome, by any path
            agent.execute("UPDATE aftersales_cases SET status = 'closed', outcome = 'compensated', "
                          "outcome_amount = 2000")
        with pytest.raises(psycopg.Error) as e:
            put(agent, "new", {**fields, "status": "resolved"})  # new -> resolved is not a move
        assert e.value.sqlstate == "KF400"
        with pytest.raises(psycopg.Error) as e:
            put(agent, "warehouse", {**fields, "status": "closed"})  # from a status the server does not have
        assert e.value.sqlstate == "KF409"
        with pytest.raises(psycopg.Error) as e:
            agent.execute("DELETE FROM aftersales_events")
        assert e.value.sqlstate == "42501"  # history is append-only
        assert agent.execute("SELECT count(*) FROM aftersales_limits").fetchone()[0] == 1  # the shop's default
    # li does not hold the buyer: the case is not li's to change
    with team.login("li") as other, pytest.raises(psycopg.Error) as e:
        put(other, "new", {**fields, "status": "calming"})
    assert e.value.sqlstate == "KF423"
    # locally the agent's panel refuses too, before anything is queued
    with pytest.raises(ValidationError, match="supervisor"):
        aftersales.set_limit(wang.store, "light", max_compensation="999")
    with pytest.raises(ValidationError, match="supervisor"):
        aftersales.decide(wang.store, case.id, approve=True, by="王五", offer="refund")
    assert outbox.size(wang.store) == 0


def test_limits_replace_the_local_ones_and_an_agent_reads_only_the_shop_defaults_and_its_own(tmp_path, team):
    sup = panel(tmp_path, team, "sup")
    aftersales.set_limit(sup.store, "light", max_compensation="8")
    aftersales.set_limit(sup.store, "light", agent=role(team, "li"), max_compensation="15")
    sup.sync()
    wang = panel(tmp_path, team, "wang")
    with wang.store.write() as db:  # set before joining: this PC's own
        db.conn.execute("INSERT INTO aftersales_limits (uuid, agent, severity, product, max_compensation, updated_at) "
                        "VALUES ('local-1', '', 'light', '', 100000, 'x')")
    wang.sync()
    rows = wang.store.query("SELECT agent, max_compensation, team_shop FROM aftersales_limits")
    assert [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in rows] == [("", 800, team.shop)]
    aftersales.delete_limit(sup.store, "light")
    sup.sync()
    wang.sync()
    assert wang.store.query("SELECT count(*) AS n FROM aftersales_limits")[0]["n"] == 0


def test_the_step_loads_idempotently(pg_db):
    with pg_db.connect() as admin:
        assert schema.apply(admin) == [s.number for s in schema.STEPS]
        assert schema.apply(admin) == []
        name = admin.execute("SELECT name FROM kefu_schema WHERE step = 7").fetchone()[0]
    assert name == "after-sales cases, events, limits"


def test_the_builtin_categories_are_the_panels_own(tmp_path, pg_db):
    from assistant.core.store import Store

    with pg_db.connect() as admin:
        schema.apply(admin)
        server = {r[0]: r[1] for r in admin.execute("SELECT id::text, code FROM aftersales_categories")}
    store = Store(tmp_path / "kefu.db")
    try:
        assert server == {c.uuid: c.code for c in aftersales.list_categories(store) if c.code}
    finally:
        store.close()


def test_a_shops_own_category_and_the_buyers_mood_travel_with_the_case(tmp_path, team):
    from assistant.core import invites

    wang, li = panel(tmp_path, team, "wang"), panel(tmp_path, team, "li")
    aftersales.add_category(wang.store, "色差")
    case = open_case(wang, category="色差", mood="calm")
    invites.set_mood(wang.store, case.buyer_id, "angry")  # one mood per buyer: the open case follows it
    wang.sync()
    with team.admin() as admin:
        assert admin.execute("SELECT c.mood, k.name, k.shop::text FROM aftersales_cases c "
                             "JOIN aftersales_categories k ON k.id = c.category").fetchone() == ("angry", "色差", team.shop)
    li.sync()
    seen = aftersales.get_case(li.store, case.uuid)
    assert (seen.category, seen.mood, seen.category_code) == ("色差", "angry", None)
    assert customers.get_buyer(li.store, seen.buyer_id).mood == "angry"
    assert [e.detail for e in aftersales.history(li.store, case.uuid) if e.kind == "updated"] == ["mood=angry"]
    assert not aftersales.followups(li.store, seen.id)  # 王五 follows the buyer: the follow-up rings on his panel
    assert aftersales.followups(wang.store, case.id)
