"""Handover of unpaid orders (催付): the open ones and those paid or closed during the shift travel in
the file (numbers masked unless phones are included), show in the report (HTML, XLSX); the next panel
imports each once by uuid and chases the open ones from there; a newer file marks one paid there."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import openpyxl
import pytest

from assistant.core import handover, orders, reminders, replies, settings
from assistant.core.clock import FakeClock
from assistant.core.store import open_store

NUMBER = "3391204857162093345"


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


def pending_orders(store):
    return store.query("SELECT o.order_no, count(r.id) AS n FROM orders o LEFT JOIN reminders r ON r.order_id = o.id "
                       "AND r.state = 'pending' GROUP BY o.id ORDER BY o.order_no")


def test_unpaid_orders_travel_to_the_next_shift(two, tmp_path):
    a, b, clock = two
    open_one, _ = orders.add_order(a, NUMBER, platform="taobao", nickname="小鹿", amount="128", item="保温杯")
    paid, _ = orders.add_order(a, "287654321098", platform="jd", nickname="买家A", amount="359.9")
    clock.advance(timedelta(minutes=20))
    orders.mark_paid(a, paid.id)
    clock.advance(60)
    result = handover.export_handover(a, tmp_path / "out", formats=("json", "html", "xlsx"))
    doc = result.doc
    assert doc["counts"]["orders_unpaid"] == 1
    assert [(o["order_no"], o["status"]) for o in doc["orders"]] == [("***************3345", "unpaid"),
                                                                      ("********1098", "paid")]
    assert all(r["kind"] != "order" for buyer in doc["buyers"] for r in buyer["reminders"])
    page = result.files["html"].read_text(encoding="utf-8")
    assert 'id="orders"' in page and "本班已付款" in page and NUMBER not in page and "128.00" in page
    book = openpyxl.load_workbook(result.files["xlsx"], read_only=True)
    rows = list(book["未付款订单"].iter_rows(values_only=True))
    book.close()
    assert [r[:3] for r in rows[1:]] == [("小鹿", "***************3345", "128.00"), ("买家A", "********1098", "359.90")]

    clock.advance(timedelta(minutes=5))
    preview = handover.import_handover(b, result.files["json"], dry_run=True)
    assert (preview.orders_added, preview.orders_updated) == (2, 0) and b.query("SELECT 1 FROM orders") == []
    plan = handover.import_handover(b, result.files["json"])
    assert plan.applied and plan.orders_added == 2 and "未付款订单：新增 2 单" in plan.summary()
    here = orders.get_order(b, "3345")
    assert here.uuid == open_one.uuid and here.source == "handover" and here.status == "unpaid"
    assert here.deadline_at == open_one.deadline_at and here.amount == 12800
    # the open one is chased here from now: +10 min is past, +1 h and T-2 h remain; the paid one is not
    assert sorted((r["order_no"][-4:], r["n"]) for r in pending_orders(b)) == [("1098", 0), ("3345", 2)]
    twice = handover.import_handover(b, result.files["json"])
    assert (twice.orders_added, twice.orders_updated) == (0, 0)
    assert b.query("SELECT count(*) AS n FROM orders")[0]["n"] == 2
    assert len(reminders.buyer_reminders(b, here.buyer_id)) == 2


def test_a_newer_file_ends_the_order_there_and_full_numbers_fill_in(two, tmp_path):
    a, b, clock = two
    orders.add_order(a, NUMBER, platform="taobao", nickname="小鹿", amount="128")
    first = handover.export_handover(a, tmp_path / "one", formats=("json",))
    handover.import_handover(b, first.files["json"])
    assert "*" in b.query("SELECT order_no FROM orders")[0]["order_no"]
    clock.advance(timedelta(minutes=30))
    orders.mark_paid(a, "3345")
    second = handover.export_handover(a, tmp_path / "two", formats=("json",), include_phones=True)
    plan = handover.import_handover(b, second.files["json"])
    assert plan.orders_updated == 1
    assert b.query("SELECT order_no, status FROM orders")[0] == {"order_no": NUMBER, "status": "paid"}
    assert reminders.next_due(b) is None  # its 催付 ended there too


def test_a_bad_order_in_the_file_is_refused(two, tmp_path):
    import json

    from assistant.errors import ImportFileError

    a, b, clock = two
    orders.add_order(a, NUMBER, platform="taobao", nickname="小鹿")
    result = handover.export_handover(a, tmp_path / "out", formats=("json",))
    path = result.files["json"]
    doc = json.loads(path.read_text("utf-8"))
    doc["orders"][0]["status"] = "maybe"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    with pytest.raises(ImportFileError, match=r"orders\[0\]\.status"):
        handover.import_handover(b, path)
    assert b.query("SELECT count(*) AS n FROM buyers")[0]["n"] == 0
