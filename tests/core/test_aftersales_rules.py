"""The rules that matter to agents today, as property tests (hypothesis):
- an offer above the agent's limit is never recorded as made by the agent;
- a buyer with an open case (or the 售后中 mark) never gets a sales chase or a promotion wave slot,
  whatever the agent does meanwhile; after the case closes, selling may start again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.core import aftersales as af
from assistant.core import customers, reminders, replies
from assistant.core import settings as app_settings
from assistant.core.caseguard import BLOCK_AFTER_SALES
from assistant.core.clock import FakeClock
from assistant.core.store import open_store
from assistant.errors import ValidationError

START = datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)
_SEEDED: dict[str, bytes] = {}


def _fresh(tmp_path_factory):
    """A seeded store per example (seeding the library once, then copying the file: 10x faster)."""
    clock = FakeClock(START)
    folder = tmp_path_factory.mktemp("as")
    if "db" not in _SEEDED:
        seed = open_store(folder / "seed.db", FakeClock(START))
        replies.seed_defaults(seed)
        app_settings.set(seed, "reminders.agent_tz", "Asia/Shanghai")
        app_settings.set(seed, "agent.name", "小美")
        seed.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        seed.close()
        _SEEDED["db"] = (folder / "seed.db").read_bytes()
    (folder / "kefu.db").write_bytes(_SEEDED["db"])
    return open_store(folder / "kefu.db", clock), clock


offers = st.tuples(st.sampled_from(af.LADDER), st.integers(min_value=0, max_value=20000))
limits = st.tuples(st.sampled_from(tuple(af.SEVERITIES)), st.integers(min_value=0, max_value=10000),
                   st.booleans(), st.booleans(), st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(severity=st.sampled_from(tuple(af.SEVERITIES)), set_limits=st.lists(limits, max_size=3),
       attempts=st.lists(offers, min_size=1, max_size=6), decide=st.lists(st.booleans(), max_size=6))
def test_an_offer_above_the_limit_is_never_recorded_as_made_by_the_agent(tmp_path_factory, severity, set_limits,
                                                                       attempts, decide):
    store, clock = _fresh(tmp_path_factory)
    try:
        for sev, fen, ex, ret, ref in set_limits:
            af.set_limit(store, sev, max_compensation=af.yuan(fen), may_exchange=ex, may_return=ret, may_refund=ref)
        case = af.open_case(store, platform="千牛", nickname="买家", problem="坏了", category="other",
                            severity=severity, wanted="refund")
        decisions = iter(decide)
        for kind, fen in attempts:
            clock.advance(60)
            limit = af.get_limit(store, severity)
            try:
                result = af.make_offer(store, case.id, kind, af.yuan(fen))
            except ValidationError:  # waiting for the supervisor already: refused, nothing recorded as made
                result = None
            allowed = limit.allows(kind, fen)
            if result is not None:
                assert result.made == allowed
                assert (result.summary is not None) == (not allowed)
            if af.get_case(store, case.id).status == "manager":
                af.decide(store, case.id, approve=next(decisions, False), by="王主管")
        for e in af.history(store, case.id):
            if e.kind == "offer" and e.by_role == "agent":
                assert af.get_limit(store, severity).allows(e.offer, e.amount)  # limits are set once, above
                assert e.by_name == "小美"
            if e.kind == "offer" and e.by_role == "supervisor":
                assert e.by_name == "王主管"
    finally:
        store.close()


ACTIONS = st.lists(st.sampled_from(["star", "star_again", "replied", "resume", "cadence", "promo", "chase",
                                    "wait", "fire", "open", "step", "offer", "warehouse", "close", "mark"]),
                   min_size=1, max_size=14)


def _sales_reminders(store, buyer_id):
    return [r for r in reminders.buyer_reminders(store, buyer_id) if r.kind in ("chase", "wave")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS, buyer_count=st.integers(min_value=1, max_value=3), data=st.data())
def test_a_buyer_in_after_sales_never_gets_a_sales_chase_or_a_wave_slot(tmp_path_factory, actions, buyer_count, data):
    store, clock = _fresh(tmp_path_factory)
    try:
        buyers = [reminders.star(store, platform="千牛", nickname=f"买家{i}").id for i in range(buyer_count)]
        n_promo = 0
        for action in actions:
            bid = data.draw(st.sampled_from(buyers))
            open_cases = af.list_cases(store, buyer_id=bid)
            try:
                if action == "star":
                    reminders.star(store, buyer_id=bid, marks=["意向明显"])
                elif action == "star_again":
                    reminders.star(store, buyer_id=bid, cadence="revisit")
                elif action == "replied":
                    reminders.outcome(store, bid, "replied")
                elif action == "resume":
                    reminders.outcome(store, bid, "pause")
                    reminders.outcome(store, bid, "resume")
                elif action == "cadence":
                    reminders.start_cadence(store, bid, "in_chat")
                elif action == "promo":
                    n_promo += 1
                    reminders.add_promotion(store, f"大促{n_promo}", clock.now() + timedelta(hours=3))
                elif action == "chase":
                    reminders.record_chase(store, bid, None, angle="price")
                elif action == "wait":
                    clock.advance(data.draw(st.integers(min_value=60, max_value=6 * 3600)))
                elif action == "fire":
                    reminders.fire_due(store)
                elif action == "open":
                    af.open_case(store, buyer_id=bid, problem="破损", category="quality", severity="中度",
                                 wanted="exchange")
                elif action == "step" and open_cases:
                    af.advance_step(store, open_cases[0].id)
                elif action == "offer" and open_cases:
                    af.make_offer(store, open_cases[0].id, "exchange")
                elif action == "warehouse" and open_cases:
                    af.warehouse(store, open_cases[0].id)
                elif action == "close" and open_cases:
                    af.close(store, open_cases[0].id)
                elif action == "mark":
                    customers.set_marks(store, bid, add=["售后中"])
            except ValidationError:
                pass  # an action that does not apply now (not followed, not waiting ...) changes nothing
            for b in buyers:
                in_after_sales = bool(af.list_cases(store, buyer_id=b)) or "售后中" in customers.get_buyer(store, b).marks
                if af.list_cases(store, buyer_id=b):
                    # an open case: no pending sales reminder at all, whatever happened since it opened
                    assert _sales_reminders(store, b) == [], (action, b)
                if in_after_sales:
                    proposal = reminders.propose(store, b, override=True)
                    assert proposal.blocked == BLOCK_AFTER_SALES and proposal.reply_id is None
                    assert b not in {w.buyer_id for w in reminders._eligible_wave_buyers(store)}
    finally:
        store.close()


def test_the_issue_case_starred_after_sales_gets_no_chase_and_no_wave(tmp_path_factory):
    """Issue 14: a buyer starred 售后中 (收到破损，要求退款) got a sales chase 3 minutes later and joined
    the promotion payment wave."""
    store, clock = _fresh(tmp_path_factory)
    try:
        buyer = reminders.star(store, platform="千牛", nickname="破损买家", marks=["售后中"], notes="收到破损，要求退款")
        other = reminders.star(store, platform="千牛", nickname="普通买家")
        assert _sales_reminders(store, buyer.id) == [] and len(_sales_reminders(store, other.id)) == 1
        reminders.add_promotion(store, "双十一", clock.now() + timedelta(hours=3))
        waves = {r.buyer_id for r in reminders.due(store, within=timedelta(days=1)) if r.kind == "wave"}
        assert waves == {other.id}
        case = af.open_case(store, buyer_id=other.id, problem="发错颜色", category="wrong_item", severity="轻度",
                            wanted="exchange")
        assert _sales_reminders(store, other.id) == []  # the chase and the wave slot ended
        assert [r.kind for r in reminders.buyer_reminders(store, other.id)] == ["aftersales"]
        clock.advance(120)
        af.advance_step(store, case.id)
        af.make_offer(store, case.id, "exchange")
        af.resolve(store, case.id, "exchanged")
        assert "售后中" not in customers.get_buyer(store, other.id).marks
        assert reminders.propose(store, other.id).blocked != BLOCK_AFTER_SALES  # selling may start again
        reminders.start_cadence(store, other.id, "revisit")
        assert len(_sales_reminders(store, other.id)) == 1
    finally:
        store.close()


def test_marking_a_buyer_after_sales_by_hand_ends_their_pending_sales_chases(store):
    """kefu buyers mark --add 售后中 (no case opened): the chase already planned ends now, none follows."""
    from assistant.core import reminders as rem

    b = rem.star(store, platform="taobao", nickname="手动售后")
    assert store.query("SELECT count(*) AS n FROM reminders WHERE buyer_id = ? AND state = 'pending'", (b.id,))[0]["n"] == 1
    rem.set_marks(store, b.id, add=["售后中"])
    assert store.query("SELECT count(*) AS n FROM reminders WHERE buyer_id = ? AND state = 'pending' "
                       "AND kind IN ('chase', 'wave')", (b.id,))[0]["n"] == 0
