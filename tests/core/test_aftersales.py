"""core/aftersales.py: the case's state machine, the four steps, the retention ladder, limits,
escalation and decisions, follow-ups and KPIs. Time from the FakeClock (06:00 UTC = 14:00 Shanghai)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assistant.core import aftersales as af
from assistant.core import customers, reminders, replies, settings
from assistant.errors import NotFoundError, ValidationError


@pytest.fixture
def st(store):
    replies.seed_defaults(store)
    settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    settings.set(store, "agent.name", "小美")
    return store


def new_case(st, **kw):
    args = {"platform": "千牛", "nickname": "李女士", "shop": "旗舰店", "problem": "收到破损，要求退款",
            "category": "质量/破损", "severity": "中度", "wanted": "退款", "mood": "angry",
            "order_no": "231111123456789012", "product": "保温杯"}
    args.update(kw)
    return af.open_case(st, **args)


def test_open_masks_the_order_marks_the_buyer_and_starts_the_follow_up(st, clock):
    case = new_case(st)
    assert (case.status, case.step, case.severity, case.wanted, case.mood) == ("new", 1, "medium", "refund", "angry")
    assert case.order_masked == "**************9012" and "231111" not in str(case.to_dict())
    assert af.reveal_order(st, case.id) == "231111123456789012"
    assert case.category == "质量/破损" and case.opened_by == "小美"
    buyer = customers.get_buyer(st, case.buyer_id)
    assert "售后中" in buyer.marks
    (follow,) = reminders.buyer_reminders(st, case.buyer_id)
    assert (follow.kind, follow.cadence_id, follow.due_at) == ("aftersales", "as_new", clock.now() + timedelta(minutes=5))
    assert (follow.cadence_name, follow.cadence_name_en) == ("售后跟进", "After-sales follow-up")  # not "as_new"
    assert [e.kind for e in af.history(st, case.id)] == ["opened"]
    assert af.get_case(st, f"#{case.id}").id == af.get_case(st, case.uuid[:8]).id == case.id


@pytest.mark.parametrize("field,value", [("problem", "  "), ("severity", "huge"), ("wanted", "money"),
                                         ("mood", "sleepy"), ("category", "不存在"), ("order_no", "1" * 65)])
def test_bad_input_is_refused_with_both_languages_and_nothing_written(st, field, value):
    with pytest.raises((ValidationError, NotFoundError)) as err:
        new_case(st, **{field: value})
    assert err.value.zh and err.value.en and err.value.zh != err.value.en
    assert st.query("SELECT count(*) AS n FROM aftersales_cases")[0]["n"] == 0
    assert st.query("SELECT count(*) AS n FROM buyers")[0]["n"] == 0


def test_only_valid_transitions(st):
    case = new_case(st)
    with pytest.raises(ValidationError) as err:  # new never jumps to resolved: listen first
        af.resolve(st, case.id, "explained")
    assert "新建" in err.value.zh and "new" in err.value.en
    case = af.advance_step(st, case.id, note="听完了")
    assert (case.status, case.step) == ("calming", 2)
    case = af.resolve(st, case.id, "explained")
    assert case.status == "resolved" and case.closed_at is not None and not case.open
    for action in (lambda: af.make_offer(st, case.id, "exchange"), lambda: af.advance_step(st, case.id),
                   lambda: af.warehouse(st, case.id), lambda: af.escalate(st, case.id)):
        with pytest.raises(ValidationError):
            action()
    case = af.close(st, case.id)
    assert case.status == "closed" and case.outcome == "explained"
    with pytest.raises(ValidationError):
        af.close(st, case.id)
    case = af.reopen(st, case.id, note="买家又来了")
    assert (case.status, case.outcome, case.closed_at) == ("calming", None, None)


def test_every_pair_of_states_follows_the_table():
    for a in af.STATUSES:
        for b in af.STATUSES:
            if b in af.TRANSITIONS[a]:
                af.check_transition(a, b)
            else:
                with pytest.raises(ValidationError):
                    af.check_transition(a, b)
    assert "resolved" not in af.TRANSITIONS["new"] and af.TRANSITIONS["closed"] == {"calming"}


def test_the_four_steps_propose_the_tagged_scripts_and_never_go_back(st):
    case = new_case(st)
    steps = af.checklist(st, case.id)
    assert [(s.step, s.current, s.done) for s in steps] == [(1, True, False), (2, False, False), (3, False, False),
                                                            (4, False, False)]
    assert [s.code for s in steps[0].scripts] == ["af1", "af2", "af4"]
    af.advance_step(st, case.id)
    steps = af.checklist(st, case.id)
    assert steps[0].done and steps[1].current and [s.code for s in steps[1].scripts] == ["af3", "af5", "af6", "af7"]
    with pytest.raises(ValidationError):
        af.advance_step(st, case.id, to=1)
    af.advance_step(st, case.id, to=4)
    with pytest.raises(ValidationError) as err:
        af.advance_step(st, case.id)
    assert "第 4 步" in err.value.zh


def test_a_step_falls_back_to_its_group_when_its_scripts_are_gone(st):
    for code in ("af1", "af2", "af4"):
        replies.delete_reply(st, code)
    titles = [s.title for s in af.scripts_for_step(st, 1)]
    assert titles and "诚恳道歉" in titles  # every reply of 售后安抚


def test_the_ladder_proposal_fits_the_severity(st):
    light = af.proposal(st, new_case(st, nickname="a", severity="轻度", wanted="compensation", mood="calm").id)
    medium = af.proposal(st, new_case(st, nickname="b", severity="中度").id)
    severe = af.proposal(st, new_case(st, nickname="c", severity="严重").id)
    assert (light.offers, light.calm_first) == (["compensate"], True)
    assert medium.offers == ["compensate", "exchange"]
    assert severe.offers == ["exchange"] and "refund" not in severe.allowed
    assert [s.code for s in severe.scripts] == ["wd7", "wd8", "wd9"]
    assert any("退" in zh for zh, _ in medium.notes) and any("生气" in zh for zh, _ in medium.notes)
    check = af.check_offer(st, new_case(st, nickname="d", severity="轻度").id, "refund")
    assert check.warnings and "补偿优先于换货" in check.warnings[0][0]


def test_limits_most_specific_wins_and_defaults_apply(st):
    assert af.get_limit(st, "light").source == "default"
    assert af.get_limit(st, "light").max_compensation == 1000
    af.set_limit(st, "light", max_compensation="15")
    af.set_limit(st, "light", agent="小美", max_compensation="30")
    af.set_limit(st, "light", product="保温杯", max_compensation="5")
    af.set_limit(st, "light", agent="小美", product="保温杯", max_compensation="50", may_refund=True)
    assert af.get_limit(st, "light", agent="小美", product=" 保温杯 ").max_compensation == 5000
    assert af.get_limit(st, "light", agent="小美", product="水壶").max_compensation == 3000
    assert af.get_limit(st, "light", agent="阿强", product="保温杯").max_compensation == 500
    assert af.get_limit(st, "light", agent="阿强").max_compensation == 1500
    limit = af.set_limit(st, "light", agent="小美", product="保温杯", may_exchange=False)
    assert (limit.max_compensation, limit.may_exchange, limit.may_refund) == (5000, False, True)  # the rest kept
    assert len(af.list_limits(st)) == 4
    with pytest.raises(ValidationError):
        af.set_limit(st, "light", max_compensation="-3")
    af.delete_limit(st, "light", agent="小美", product="保温杯")
    with pytest.raises(NotFoundError):
        af.delete_limit(st, "light", agent="小美", product="保温杯")


def test_limits_are_the_supervisors_in_team_mode(st):
    settings.set(st, "team.server", "db.example:5432")
    settings.set(st, "team.role", "agent_li")
    settings.set(st, "team.kind", "agent")
    with pytest.raises(ValidationError):
        af.set_limit(st, "light", max_compensation="99")
    settings.set(st, "team.kind", "supervisor")
    assert af.set_limit(st, "light", agent="agent_li", max_compensation="99").max_compensation == 9900


def test_an_offer_within_the_limit_is_made_by_the_agent(st):
    case = new_case(st)
    result = af.make_offer(st, case.id, "补偿", "12.5")
    assert result.made and result.summary is None
    assert (result.case.status, result.case.step) == ("proposed", 3)
    offer = [e for e in af.history(st, case.id) if e.kind == "offer"][0]
    assert (offer.offer, offer.amount, offer.by_name, offer.by_role) == ("compensate", 1250, "小美", "agent")
    (follow,) = af.followups(st, case.id)
    assert follow.cadence_id == "as_proposed"


def test_an_offer_above_the_limit_is_blocked_and_escalated_with_a_summary(st):
    case = new_case(st)
    result = af.make_offer(st, case.id, "compensate", "88")
    assert not result.made and result.case.status == "manager"
    kinds = [e.kind for e in af.history(st, case.id)]
    assert "offer" not in kinds and kinds[-2:] == ["offer_blocked", "escalated"]
    text = result.summary
    assert "【售后升级】" in text and "李女士" in text and "收到破损，要求退款" in text and "补偿 ¥88.00" in text
    assert "9012" in text and "231111123456789012" not in text
    assert "¥20.00" in text  # the agent's limit
    with pytest.raises(ValidationError):  # resolving with it anyway is refused too
        af.resolve(st, case.id, "compensated", amount="88")


def test_the_supervisors_decision_is_recorded_with_their_name(st):
    case = new_case(st)
    af.make_offer(st, case.id, "refund")
    case = af.decide(st, case.id, approve=True, by="王主管", note="老客户")
    assert case.status == "proposed" and case.decided_by == "王主管" and "批准：退款" in case.manager_decision
    made = [e for e in af.history(st, case.id) if e.kind == "offer"]
    assert [(e.offer, e.by_name, e.by_role) for e in made] == [("refund", "王主管", "supervisor")]
    case = af.resolve(st, case.id, "refunded")  # approved: now within what was allowed
    assert case.outcome == "refunded"
    other = new_case(st, nickname="王先生")
    af.escalate(st, other.id, reason="买家要求主管处理", offer="compensate", amount="50")
    other = af.decide(st, other.id, approve=False, by="王主管", note="先换货")
    assert other.status == "calming"
    with pytest.raises(ValidationError):
        af.decide(st, other.id, approve=True, by="王主管")  # not waiting for a supervisor any more
    with pytest.raises(ValidationError):
        af.resolve(st, other.id, "compensated", amount="50")


def test_warehouse_check_and_findings(st, clock):
    case = new_case(st)
    case = af.warehouse(st, case.id)
    assert case.status == "warehouse"
    (follow,) = af.followups(st, case.id)
    assert follow.cadence_id == "as_warehouse" and follow.due_at == clock.now() + timedelta(minutes=60)
    case = af.warehouse(st, case.id, findings="发货前有质检记录，运输破损", by="仓库老张")
    assert case.status == "calming" and case.warehouse_findings.startswith("发货前")
    last = af.history(st, case.id)[-1]
    assert (last.by_name, last.by_role) == ("仓库老张", "warehouse")


def test_close_as_withdrawn_ends_follow_ups_and_the_mark(st, clock):
    case = new_case(st)
    af.promise_callback(st, case.id, clock.now() + timedelta(hours=2), note="下午回电")
    assert len(af.followups(st, case.id)) == 2
    case = af.close(st, case.id, note="买家说不用了")
    assert (case.status, case.outcome) == ("closed", "withdrawn")
    assert af.followups(st, case.id) == []
    assert "售后中" not in customers.get_buyer(st, case.buyer_id).marks


def test_followed_up_moves_to_the_next_step_and_the_last_repeats(st, clock):
    case = new_case(st)
    af.advance_step(st, case.id)  # calming: 15, 60 minutes, then next shift
    waits = []
    for _ in range(4):
        (f,) = af.followups(st, case.id)
        clock.set(f.due_at)
        waits.append(f.step)
        af.followed_up(st, case.id)
    assert waits == [0, 1, 2, 2]


def test_money_parsing():
    assert af.money("12") == 1200 and af.money("¥12.5") == 1250 and af.money("12元") == 1200
    assert af.money("１２.０５") == 1205 and af.money(3) == 300
    for bad in ("-1", "1.234", "abc", "", "99999999999"):
        with pytest.raises(ValidationError):
            af.money(bad)


def test_categories_a_shop_adds_its_own(st):
    cat = af.add_category(st, "赠品漏发", shop="旗舰店")
    assert af.resolve_category(st, "赠品漏发", "旗舰店").id == cat.id
    with pytest.raises(ValidationError):
        af.add_category(st, "赠品漏发", shop="旗舰店")
    assert af.resolve_category(st, "damage").code == "quality"
    case = new_case(st, category="赠品漏发")
    assert case.category == "赠品漏发" and case.category_code is None


def test_kpis_compare_this_period_with_the_last(st, clock):
    start = clock.now()
    for i, (cat, outcome) in enumerate([("尺码", "returned"), ("尺码", "returned"), ("质量", "refunded")]):
        c = new_case(st, nickname=f"上周{i}", category=cat, severity="轻度")
        af.advance_step(st, c.id)
        if outcome == "refunded":
            af.escalate(st, c.id, offer="refund")
            af.decide(st, c.id, approve=True, by="王主管")
        af.resolve(st, c.id, outcome)
    clock.advance(7 * 24 * 3600)
    c = new_case(st, nickname="本周1", category="质量", severity="轻度")
    clock.advance(3 * 3600)
    af.advance_step(st, c.id)
    af.make_offer(st, c.id, "compensate", "8")
    af.resolve(st, c.id, "compensated", amount="8")
    new_case(st, nickname="本周2", category="物流")
    k = af.kpis(st, start + timedelta(days=7), start + timedelta(days=14))
    assert (k.open_now, k.opened, k.closed, k.refunds) == (1, 2, 1, 0)
    assert k.avg_hours_to_close == 3.0 and k.compensation_total == 800
    p = k.previous
    assert (p.closed, p.refunds, p.escalations) == (3, 3, 1)
    assert p.refund_reasons == [("尺码不合适", 2), ("质量/破损", 1)]
    assert k.to_dict()["previous"]["refund_reasons"][0] == {"category": "尺码不合适", "count": 2}


def test_a_uuid_prefix_of_digits_only_still_finds_its_case(st):
    case = new_case(st)
    with st.write() as db:
        db.execute("UPDATE aftersales_cases SET uuid = ? WHERE id = ?", ("67767979-1234-4abc-8def-0123456789ab", case.id))
    assert af.get_case(st, "67767979").id == case.id  # no case number 67767979: the uuid prefix
    assert af.get_case(st, str(case.id)).id == case.id


def test_history_lines_the_app_writes_read_in_the_agents_language(store):
    """A blocked offer's reason, a supervisor's approval and the outcome are written by the app: the
    history shows them in Chinese or English; a note an agent typed stays as typed in both."""
    b = reminders.star(store, platform="taobao", shop="旗舰店", nickname="双语")
    case = af.open_case(store, buyer_id=b.id, problem="杯子碎了", category="quality", severity="light",
                        wanted="compensation", mood="upset")
    af.advance_step(store, case.id)
    af.make_offer(store, case.id, "compensate", "500")  # above the default light limit
    af.update_case(store, case.id, note="买家说下午有空")
    lines = {lang: [e.describe(lang) for e in af.history(store, case.id)] for lang in ("zh", "en")}
    assert all("\x1f" not in line for lang in lines for line in lines[lang])
    assert any("above your limit" in line for line in lines["en"])
    assert not any("above your limit" in line for line in lines["zh"])
    assert any("买家说下午有空" in line for line in lines["en"])  # typed by the agent: as typed
    (event,) = [e for e in af.history(store, case.id) if e.kind == "offer_blocked"]
    data = event.to_dict()
    assert "above your limit" in data["detail_en"] and "\x1f" not in data["detail"]
