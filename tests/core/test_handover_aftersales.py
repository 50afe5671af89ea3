"""Handover round trip of after-sales cases: an open case travels to the next shift with its step,
history and follow-ups (JSON), shows in the report (HTML, XLSX) and is counted; the buyer gets no
sales chase on the next panel either; importing twice changes nothing; a newer file updates it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import openpyxl
import pytest

from assistant.core import aftersales as af
from assistant.core import customers, handover, reminders, replies, settings
from assistant.core.clock import FakeClock
from assistant.core.store import open_store
from assistant.errors import ImportFileError


@pytest.fixture
def two(tmp_path):
    clock = FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))
    a, b = open_store(tmp_path / "a.db", clock), open_store(tmp_path / "b.db", clock)
    for s in (a, b):
        replies.seed_defaults(s)
        settings.set(s, "reminders.agent_tz", "Asia/Shanghai")
    settings.set(a, "agent.name", "白班小美")
    yield a, b, clock
    a.close()
    b.close()


def _day_shift(a, clock):
    reminders.star(a, platform="千牛", nickname="普通买家")
    case = af.open_case(a, platform="千牛", nickname="李女士", shop="旗舰店", problem="杯盖裂了，要退款",
                        category="quality", severity="medium", wanted="refund", mood="angry",
                        order_no="231111123456789012", product="保温杯")
    clock.advance(600)
    af.advance_step(a, case.id, note="听完了，很生气")
    af.make_offer(a, case.id, "compensate", "80")  # above the limit: escalated
    af.promise_callback(a, case.id, clock.now() + timedelta(hours=3), note="晚上回电")
    closed = af.open_case(a, platform="千牛", nickname="王先生", problem="发错颜色", category="wrong_item",
                          severity="light", wanted="exchange")
    af.advance_step(a, closed.id)
    af.make_offer(a, closed.id, "exchange")
    af.resolve(a, closed.id, "exchanged")
    clock.advance(60)
    return case


def test_open_cases_travel_with_step_history_and_follow_ups(two, tmp_path):
    a, b, clock = two
    case = _day_shift(a, clock)
    result = handover.export_handover(a, tmp_path / "out", formats=("json", "html", "xlsx"))
    doc = result.doc
    assert doc["counts"]["cases_open"] == 1 and [c["uuid"] for c in doc["cases"]] == [case.uuid]
    sent = doc["cases"][0]
    assert sent["order_no"] == "**************9012" and sent["status"] == "manager" and sent["step"] == 2
    assert [e["kind"] for e in sent["events"]] == ["opened", "step", "offer_blocked", "escalated", "callback"]
    assert {f["cadence_id"] for f in sent["followups"]} == {"as_manager", "as_callback"}
    assert doc["aftersales_kpis"]["closed"] == 1 and doc["aftersales_kpis"]["escalations"] == 1
    nick = next(x for x in doc["buyers"] if x["uuid"] == sent["buyer_uuid"])
    assert nick["reminders"] == [], "after-sales follow-ups travel with the case, not as chases"

    page = result.files["html"].read_text(encoding="utf-8")
    assert 'id="cases"' in page and "杯盖裂了，要退款" in page and "待主管" in page and "231111123456789012" not in page
    assert "升级主管 1" in page
    book = openpyxl.load_workbook(result.files["xlsx"], read_only=True)
    rows = list(book["售后单"].iter_rows(values_only=True))
    assert rows[1][0] == "李女士" and rows[1][3] == "待主管" and rows[1][4] == 2
    summary = {r[0]: r[1] for r in book["概况"].iter_rows(values_only=True)}
    assert summary["售后单未结（单）"] == 1 and summary["升级主管（次）"] == 1
    book.close()

    plan = handover.import_handover(b, result.files["json"])
    assert plan.applied and (plan.cases_added, plan.case_events_added) == (1, 5)
    assert "售后单：新增 1 单" in plan.summary("zh")
    got = af.get_case(b, case.uuid[:8])
    assert (got.status, got.step, got.problem, got.order_masked) == ("manager", 2, "杯盖裂了，要退款", "**************9012")
    assert [e.kind for e in af.history(b, got.id)] == ["opened", "step", "offer_blocked", "escalated", "callback"]
    assert {r.cadence_id for r in af.followups(b, got.id)} == {"as_manager", "as_callback"}
    buyer = customers.find_buyer(b, "李女士")
    assert "售后中" in buyer.marks
    assert [r.kind for r in reminders.buyer_reminders(b, buyer.id)] == ["aftersales", "aftersales"]
    assert reminders.propose(b, buyer.id).blocked == "after_sales_open"
    # the night shift carries on: the supervisor's decision, then the case closes here
    got = af.decide(b, got.id, approve=True, by="王主管")
    assert got.status == "proposed"

    again = handover.import_handover(b, result.files["json"])
    assert not again.has_changes, again.counts()


def test_a_newer_file_updates_the_case_and_adds_its_events(two, tmp_path):
    a, b, clock = two
    case = _day_shift(a, clock)
    first = handover.export_handover(a, tmp_path / "1", formats=("json",))
    handover.import_handover(b, first.files["json"])
    clock.advance(1800)
    af.decide(a, case.id, approve=False, by="王主管", note="先换货")
    af.warehouse(a, case.id, findings="库存有货，可换", by="仓库老张")
    second = handover.export_handover(a, tmp_path / "2", formats=("json",), include_phones=True)
    plan = handover.import_handover(b, second.files["json"])
    assert (plan.cases_added, plan.cases_updated, plan.case_events_added) == (0, 1, 2)
    got = af.get_case(b, case.uuid)
    assert got.status == "calming" and got.warehouse_findings == "库存有货，可换" and got.decided_by == "王主管"
    assert af.reveal_order(b, got.id) == "231111123456789012"  # the --include-phones file brings the number
    third = handover.export_handover(a, tmp_path / "3", formats=("json",))  # masked again: digits stay
    clock.advance(60)
    af.update_case(a, case.id, mood="calm")
    third = handover.export_handover(a, tmp_path / "4", formats=("json",))
    handover.import_handover(b, third.files["json"])
    got = af.get_case(b, case.uuid)
    assert got.mood == "calm" and af.reveal_order(b, got.id) == "231111123456789012"
    assert len(af.followups(b, got.id)) == 2  # replaced, not doubled


def test_a_file_with_a_bad_case_is_refused_whole(two, tmp_path):
    import json

    a, b, clock = two
    _day_shift(a, clock)
    result = handover.export_handover(a, tmp_path / "out", formats=("json",))
    doc = json.loads(result.files["json"].read_text(encoding="utf-8"))
    doc["cases"][0]["status"] = "resolved"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ImportFileError) as err:
        handover.import_handover(b, bad)
    assert "cases[0].status" in str(err.value.en)
    assert b.query("SELECT count(*) AS n FROM buyers")[0]["n"] == 0


def test_the_promotion_phone_list_travels_to_the_next_shift(two, tmp_path):
    """How the day shift worked the T-3h list goes with the handover: the night shift calls the 未接
    again and the 改约 at its time, leaves the done alone, keeps 勿扰; shown in the report; importing
    twice adds nothing."""
    a, b, clock = two
    marks = ["高客单", "意向明显"]
    done = reminders.star(a, platform="千牛", nickname="接通了", marks=marks, phone="13800000001")
    again = reminders.star(a, platform="千牛", nickname="没接", marks=marks, phone="13800000002")
    quiet = reminders.star(a, platform="千牛", nickname="别打了", marks=marks, phone="13800000003")
    promo = reminders.add_promotion(a, "双十一", clock.now() + timedelta(hours=4))
    clock.advance(timedelta(hours=1))
    reminders.record_call(a, promo.id, done.id, "answered")
    reminders.record_call(a, promo.id, again.id, "no_answer")
    reminders.set_do_not_call(a, quiet.id)
    clock.advance(60)
    result = handover.export_handover(a, tmp_path / "out", formats=("json", "html", "xlsx"))
    (sent,) = [p for p in result.doc["promotions"] if p["name"] == "双十一"]
    book = openpyxl.load_workbook(result.files["xlsx"], read_only=True)
    rows = list(book["大促电话"].iter_rows(values_only=True))
    book.close()
    assert [r[1:3] for r in rows[1:]] == [("接通了", "接通"), ("没接", "未接")] and rows[2][4] is not None
    assert [c["outcome"] for c in sent["calls"]] == ["answered", "no_answer"]
    page = result.files["html"].read_text(encoding="utf-8")
    assert 'id="calls"' in page and "未接" in page and "13800000002" not in page

    plan = handover.import_handover(b, result.files["json"])
    assert plan.applied and plan.calls_added == 2
    listed = {e.nickname: e.status for e in reminders.phone_list(b, "双十一", clock.now())}
    assert listed == {"接通了": "done", "没接": "later"}  # 别打了: 勿扰 travelled too
    assert b.query("SELECT do_not_call FROM buyers WHERE nickname = '别打了'")[0]["do_not_call"] == 1
    twice = handover.import_handover(b, result.files["json"])
    assert twice.calls_added == 0 and b.query("SELECT count(*) AS n FROM promotion_calls")[0]["n"] == 2
