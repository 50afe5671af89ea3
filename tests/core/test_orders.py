"""core/orders.py and the 催付 cadence: unpaid orders typed, pasted and imported; their reminders tied
to the deadline (FakeClock: 2026-11-10 06:00 UTC = 14:00 in Shanghai), stopping the moment the order
is paid or closed; the parser on realistic order texts; the export/import round trip."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.core import cadence as cad
from assistant.core import customers, orders, reminders, replies, settings, templates
from assistant.core.clock import from_db
from assistant.core.store import open_store
from assistant.errors import ImportFileError, NotFoundError, ValidationError
from assistant.paths import resource_path

SH = ZoneInfo("Asia/Shanghai")
DATA = Path(__file__).parent.parent / "data" / "orders"
HOURS = cad.Hours(SH)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def st(store):
    replies.seed_defaults(store)
    settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    return store


def order_cadence() -> cad.Cadence:
    doc = json.loads(resource_path("cadences", "default.json").read_text("utf-8"))
    return cad.cadences_from_document(doc)["unpaid_order"]


def pending(store, order_id):
    return store.query("SELECT id, step, due_at, moved_for FROM reminders WHERE order_id = ? AND state = 'pending' "
                       "ORDER BY due_at", (order_id,))


# ---------------------------------------------------------------- migration 0015

def test_0015_rebuilds_reminders_with_every_row_link_and_index(tmp_path):
    import sqlite3

    from sqlite_utils import Database

    from assistant.core.migrations import migrations

    t = "2026-11-10T06:00:00.000000Z"
    db = Database(sqlite3.connect(tmp_path / "kefu.db"))
    db.execute("PRAGMA foreign_keys = ON")  # as the store runs it: the rebuild must not null the links
    migrations.apply(db, stop_before="0015_unpaid_orders")
    x = db.execute
    x("INSERT INTO buyers (id, uuid, platform, nickname, created_at, updated_at) VALUES (1, 'b1', 'taobao', '甲', ?, ?)",
      (t, t))
    x("INSERT INTO reminders (id, uuid, buyer_id, cadence_id, due_at, state, created_at) "
      "VALUES (1, 'r1', 1, 'in_chat', ?, 'snoozed', ?)", (t, t))
    x("INSERT INTO reminders (id, uuid, buyer_id, cadence_id, due_at, created_at, snoozed_from) "
      "VALUES (2, 'r2', 1, 'in_chat', ?, ?, 1)", (t, t))
    db.conn.commit()
    rows = db.execute("SELECT * FROM reminders ORDER BY id").fetchall()
    indexes = set(db.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'reminders' AND type = 'index' "
                             "AND sql IS NOT NULL"))
    migrations.apply(db)
    after = db.execute("SELECT * FROM reminders ORDER BY id").fetchall()
    assert [r[:-1] for r in after] == rows and all(r[-1] is None for r in after)  # order_id added last, empty
    assert indexes < set(db.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'reminders' "
                                    "AND type = 'index' AND sql IS NOT NULL"))
    fks = {(f[2], f[3]) for f in db.execute("PRAGMA foreign_key_list(reminders)")}
    assert {("reminders", "snoozed_from"), ("orders", "order_id"), ("aftersales_cases", "case_id")} <= fks
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert {"uuid", "updated_at"} <= set(db["orders"].columns_dict)
    db.conn.close()
    open_store(tmp_path / "kefu.db").close()


# ---------------------------------------------------------------- the cadence (pure)

def test_the_shipped_order_cadence_is_ten_minutes_an_hour_and_two_hours_before_closing():
    c = order_cadence()
    assert c.for_order and [s.to_dict() for s in c.steps] == [
        {"after_created_minutes": 10}, {"after_created_minutes": 60}, {"before_deadline_minutes": 120}]
    assert cad.cadence_from_dict(c.to_dict()) == c
    plan = cad.plan_order(c, created=sh(2026, 11, 10, 14, 0), deadline=sh(2026, 11, 13, 14, 0),
                          now=sh(2026, 11, 10, 14, 0), hours=HOURS)
    assert [(i, s.at) for i, s in plan] == [(0, sh(2026, 11, 10, 14, 10)), (1, sh(2026, 11, 10, 15, 0)),
                                           (2, sh(2026, 11, 13, 12, 0))]


def test_steps_past_the_deadline_are_dropped_and_past_ones_skipped():
    c = order_cadence()
    short = cad.plan_order(c, created=sh(2026, 11, 10, 14, 0), deadline=sh(2026, 11, 10, 14, 30),
                           now=sh(2026, 11, 10, 14, 0), hours=HOURS)
    assert [(i, s.at) for i, s in short] == [(0, sh(2026, 11, 10, 14, 10))]  # +1 h and T-2 h fall outside
    late = cad.plan_order(c, created=sh(2026, 11, 10, 14, 0), deadline=sh(2026, 11, 11, 14, 0),
                          now=sh(2026, 11, 10, 14, 30), hours=HOURS)  # added half an hour after it was placed
    assert [i for i, _ in late] == [1, 2]
    assert cad.plan_order(c, created=sh(2026, 11, 10, 14, 0), deadline=sh(2026, 11, 10, 16, 0),
                          now=sh(2026, 11, 10, 16, 5), hours=HOURS) == []


def test_a_step_quiet_hours_would_push_past_the_deadline_moves_earlier():
    """Placed 21:30, the platform closes it at 00:30: +1 h (22:30) and T-2 h (22:30) fall in the
    buyer's night; the morning is too late, so they become one reminder before the night begins."""
    c = order_cadence()
    plan = cad.plan_order(c, created=sh(2026, 11, 10, 21, 30), deadline=sh(2026, 11, 11, 0, 30),
                          now=sh(2026, 11, 10, 21, 30), hours=HOURS)
    assert [(i, s.at, s.moved_for) for i, s in plan] == [
        (0, sh(2026, 11, 10, 21, 40), ()), (1, sh(2026, 11, 10, 21, 55), (cad.MOVED_BEFORE_DEADLINE,))]
    # with the night ahead and the order closing next evening, the step moves to the morning as usual
    plan = cad.plan_order(c, created=sh(2026, 11, 10, 21, 30), deadline=sh(2026, 11, 11, 21, 30),
                          now=sh(2026, 11, 10, 21, 30), hours=HOURS)
    assert [s.at for _, s in plan] == [sh(2026, 11, 10, 21, 40), sh(2026, 11, 11, 9, 0), sh(2026, 11, 11, 19, 30)]
    assert cad.MOVED_QUIET in plan[1][1].moved_for
    # nothing allowed between now and the deadline: dropped
    assert cad.plan_order(c, created=sh(2026, 11, 10, 22, 30), deadline=sh(2026, 11, 11, 2, 0),
                          now=sh(2026, 11, 10, 22, 30), hours=HOURS) == []


def test_order_steps_are_validated():
    bad = [{"id": "x", "steps": [{"after_created_minutes": 10}, {"wait_minutes": 5}]},
           {"id": "x", "steps": [{"before_deadline_minutes": 0}]},
           {"id": "x", "steps": [{"after_created_minutes": 60}, {"after_created_minutes": 10}]},
           {"id": "x", "steps": [{"before_deadline_minutes": 60}, {"before_deadline_minutes": 120}]},
           {"id": "x", "visit_minutes": 30, "steps": [{"after_created_minutes": 10}]},
           {"id": "x", "then": "revisit", "steps": [{"after_created_minutes": 10}]}]
    for data in bad:
        with pytest.raises(ValidationError):
            cad.cadence_from_dict(data)
    with pytest.raises(ValueError):
        cad.schedule_step(order_cadence(), 0, now=sh(2026, 11, 10, 14, 0), started_at=sh(2026, 11, 10, 14, 0),
                          anchor=sh(2026, 11, 10, 14, 0), hours=HOURS)


def test_the_order_cadence_is_edited_like_the_others_and_never_given_to_a_buyer(st, clock):
    edited = {"id": "unpaid_order", "zh": "未付款订单催付", "en": "Unpaid order",
              "steps": [{"after_created_minutes": 5}, {"before_deadline_minutes": 60}]}
    reminders.save_cadence(st, edited)
    order, _ = orders.add_order(st, "1111222233334444", platform="taobao", nickname="甲", amount="50",
                                deadline=clock.now() + timedelta(hours=3))
    assert [from_db(r["due_at"]) for r in pending(st, order.id)] == [clock.now() + timedelta(minutes=5),
                                                                      clock.now() + timedelta(hours=2)]
    with pytest.raises(ValidationError):
        reminders.star(st, platform="taobao", nickname="乙", cadence="unpaid_order")


# ---------------------------------------------------------------- the store side, with a FakeClock

def test_an_unpaid_order_is_chased_by_its_deadline_and_stops_when_paid(st, clock):
    buyer = reminders.star(st, platform="taobao", nickname="小鹿", shop="旗舰店")
    assert [r.kind for r in reminders.buyer_reminders(st, buyer.id)] == ["chase"]
    order, added = orders.add_order(st, "3391204857162093345", buyer_id=buyer.id, amount="¥128.00")
    assert added and order.status == "unpaid" and order.amount == 12800
    assert order.order_masked == "***************3345" and order.deadline_at == clock.now() + timedelta(hours=72)
    assert not order.deadline_given
    # the pre-order chase gave way to the order's 催付
    kinds = [(r.kind, r.cadence_id) for r in reminders.buyer_reminders(st, buyer.id)]
    assert kinds == [("order", "unpaid_order")] * 3
    assert st.query("SELECT outcome FROM reminders WHERE kind = 'chase'")[0]["outcome"] == "ordered"

    clock.advance(timedelta(minutes=10))
    fired = reminders.fire_due(st)
    assert len(fired) == 1 and fired[0].kind == "order" and fired[0].order_id == order.id
    card = fired[0]
    assert card.order_masked == "***************3345" and card.order_amount == "128.00"
    assert card.order_deadline == order.deadline_at and card.cadence_name == "未付款订单催付"
    assert card.order_values == {"订单号": "尾号3345", "金额": "128元", "截止时间": "11月13日 14:00"}
    assert "3391204857162093345" not in json.dumps(card.to_dict(), ensure_ascii=False)

    proposal = orders.propose(st, order.id)
    assert "{订单号}" in proposal.reply_body and proposal.values["订单号"] == "尾号3345"
    text = templates.render(proposal.reply_body, {**card.fill_values(), **proposal.values}).text
    assert "尾号3345" in text and "{" not in text.replace("{卖点}", "").replace("{商品}", "").replace("{赠品}", "")
    recorded = orders.record_chase(st, order.id, proposal.reply_id)
    assert recorded.next_due == clock.now() + timedelta(minutes=50)
    assert orders.propose(st, order.id).reply_id != proposal.reply_id  # never the same script twice

    clock.advance(timedelta(minutes=55))
    paid = orders.mark_paid(st, "3345")  # by the end of its number, as the card shows it
    assert paid.status == "paid" and paid.status_at == clock.now() and paid.next_due is None
    states = st.query("SELECT state, outcome FROM reminders WHERE order_id = ? ORDER BY due_at", (order.id,))
    assert [(r["state"], r["outcome"]) for r in states] == [("done", "chased"), ("done", "paid"), ("cancelled", "paid")]
    assert customers.get_buyer(st, buyer.id).state == "paid"  # a conversion
    assert reminders.next_due(st) is None
    with pytest.raises(ValidationError):
        orders.mark_closed(st, order.id)


def test_a_closed_order_ends_its_reminders_and_the_buyer_goes_back_to_the_revisit(st, clock):
    order, _ = orders.add_order(st, "287654321098", platform="京东", nickname="买家A", amount=35990)
    buyer = customers.get_buyer(st, order.buyer_id)
    assert buyer.starred and buyer.state == "following" and order.deadline_at == clock.now() + timedelta(hours=24)
    clock.advance(timedelta(hours=2))
    orders.mark_closed(st, order.id)
    rows = st.query("SELECT state, outcome FROM reminders WHERE order_id = ?", (order.id,))
    assert {r["outcome"] for r in rows} == {"closed"} and not [r for r in rows if r["state"] == "pending"]
    left = reminders.buyer_reminders(st, buyer.id)
    assert [(r.kind, r.cadence_id) for r in left] == [("chase", "revisit")]
    assert "order_closed" in [e["kind"] for e in customers.events(st, buyer.id)]


def test_a_second_unpaid_order_keeps_the_buyer_followed(st, clock):
    a, _ = orders.add_order(st, "100000000001", platform="jd", nickname="乙", amount="10")
    b, _ = orders.add_order(st, "100000000002", platform="jd", nickname="乙", amount="20")
    orders.mark_paid(st, a.id)
    assert customers.get_buyer(st, a.buyer_id).state == "following"
    assert [o.id for o in orders.list_orders(st, buyer_id=a.buyer_id)] == [b.id]
    orders.mark_paid(st, b.id)
    assert customers.get_buyer(st, a.buyer_id).state == "paid"


def test_typed_values_are_checked_and_nothing_half_written(st, clock):
    with pytest.raises(ValidationError):
        orders.add_order(st, "12***345", platform="taobao", nickname="丙")
    with pytest.raises(ValidationError):
        orders.add_order(st, "1.2345E+18", platform="taobao", nickname="丙")
    with pytest.raises(ValidationError):
        orders.add_order(st, "123456789012", platform="taobao", nickname="丙", amount="一百")
    with pytest.raises(ValidationError):
        orders.add_order(st, "123456789012", platform="taobao", nickname="丙", deadline=clock.now() - timedelta(hours=1))
    assert st.query("SELECT count(*) AS n FROM orders")[0]["n"] == 0
    assert st.query("SELECT count(*) AS n FROM buyers")[0]["n"] == 0  # the buyer made for it went with it
    orders.add_order(st, "123456789012", platform="taobao", nickname="丙")
    with pytest.raises(ValidationError):
        orders.add_order(st, "123456789012", platform="taobao", nickname="丙")
    with pytest.raises(ValidationError):  # the same number for another buyer of the platform
        orders.add_order(st, "123456789012", platform="taobao", nickname="丁", update=True)
    with pytest.raises(NotFoundError):
        orders.get_order(st, "9999")


def test_the_deadline_default_is_a_setting_per_platform(st, clock):
    settings.set(st, "orders.deadline_hours_pdd", 1)
    order, _ = orders.add_order(st, "261110-084512937650431", platform="pdd", nickname="丁")
    assert order.deadline_at == clock.now() + timedelta(hours=1)
    assert [r["step"] for r in pending(st, order.id)] == [0]  # +1 h is the deadline itself: dropped
    other, _ = orders.add_order(st, "A1B2C3D4E5", platform="amazon", nickname="Ann")
    assert other.deadline_at == clock.now() + timedelta(hours=24)


def test_order_scripts_come_first_and_unknown_fields_stay_an_error(st, clock):
    order, _ = orders.add_order(st, "3391204857162093345", platform="taobao", nickname="戊", amount="99.5")
    seen = []
    for _ in range(6):  # the six 催付 scripts of the default library, each once
        p = orders.propose(st, order.id)
        assert "{订单号}" in p.reply_body and p.values["金额"] == "99.50元"
        seen.append((p.angle, p.reply_id))
        orders.record_chase(st, order.id, p.reply_id)
        clock.advance(timedelta(minutes=5))
    assert len({r for _, r in seen}) == 6 and {a for a, _ in seen} == set(cad.ANGLES)
    # no product linked: the scripts that need nothing of it come first ({卖点}, {赠品} ones last)
    assert {a for a, _ in seen[:4]} == {"price", "logistics", "ask"}
    assert "{订单号}" not in orders.propose(st, order.id).reply_body  # none left: the other chase scripts
    with pytest.raises(ValidationError):
        templates.validate("您的订单{订单编号}还没付款")
    # a buyer's own chase (no order) never gets the order's values
    plain = reminders.propose(st, order.buyer_id)
    assert "订单号" not in plain.values


def test_marks_paid_from_the_buyer_card_leave_the_order_to_its_own_buttons(st, clock):
    order, _ = orders.add_order(st, "555566667777", platform="taobao", nickname="己")
    reminders.outcome(st, order.buyer_id, "lost")
    assert len(pending(st, order.id)) == 3  # the order is still unpaid on the platform


# ---------------------------------------------------------------- pasted order text

@pytest.mark.parametrize("name, number, fen, placed, closes, platform", [
    ("taobao", "3391204857162093345", 12800, sh(2026, 11, 10, 14, 2, 31), sh(2026, 11, 13, 14, 1), None),
    ("jd", "287654321098", 35990, sh(2026, 11, 10, 14, 5, 12), sh(2026, 11, 11, 14, 5), "jd"),
    ("pdd", "261110-084512937650431", 3990, sh(2026, 11, 10, 14, 8), sh(2026, 11, 10, 14, 39, 47), "pdd"),
    ("bare", "3391204857160011223", 8900, None, sh(2026, 11, 11, 14, 9), None),
])
def test_the_parser_reads_what_the_chat_clients_show(name, number, fen, placed, closes, platform):
    now = sh(2026, 11, 10, 14, 10)
    p = orders.parse_order_text((DATA / f"{name}.txt").read_text("utf-8"), tz=SH, now=now)
    assert (p.order_no, p.amount, p.ordered_at, p.deadline, p.platform) == (number, fen, placed, closes, platform)


def test_the_parser_takes_what_it_can_and_no_more():
    now = sh(2026, 11, 10, 14, 10)
    p = orders.parse_order_text("亲 帮我看看 2026-11-10 14:00 拍的那个", tz=SH, now=now)
    assert p.order_no is None and p.amount is None and p.deadline is None
    p = orders.parse_order_text("Order ID: 8812345678901\nTotal: ¥1,299.00\nwill close in 1 h 30 min", tz=SH, now=now)
    assert (p.order_no, p.amount, p.deadline) == ("8812345678901", 129900, now + timedelta(hours=1, minutes=30))
    assert orders.parse_order_text("", tz=SH, now=now).found == []


def test_pasting_adds_then_updates_the_same_order(st, clock):
    text = (DATA / "taobao.txt").read_text("utf-8")
    order, added, parsed = orders.paste_order(st, text, platform="taobao", nickname="小鹿")
    assert added and order.source == "pasted" and order.deadline_given and order.item.startswith("不锈钢保温杯")
    first_plan = [r["due_at"] for r in pending(st, order.id)]
    clock.advance(timedelta(hours=1))
    again, added, _ = orders.paste_order(st, text.replace("剩余2天23小时51分", "剩余2天22小时51分"),
                                         buyer_id=order.buyer_id)
    assert not added and again.id == order.id
    assert st.query("SELECT count(*) AS n FROM orders")[0]["n"] == 1
    assert [r["due_at"] for r in pending(st, order.id)] == first_plan  # the same deadline: nothing replanned
    clock.advance(timedelta(minutes=1))
    orders.paste_order(st, text.replace("剩余2天23小时51分", "剩余1小时"), buyer_id=order.buyer_id)
    # closing in an hour now: the reminders not yet due are planned again, T-2 h (already past) is gone
    assert orders.get_order(st, order.id).deadline_at == clock.now() + timedelta(hours=1)
    assert [r["due_at"] for r in pending(st, order.id)] == first_plan[:2]
    with pytest.raises(ValidationError):
        orders.paste_order(st, "帮我改下地址", buyer_id=order.buyer_id)


# ---------------------------------------------------------------- import / export

def test_export_then_import_round_trips(st, clock, tmp_path):
    orders.add_order(st, "3391204857162093345", platform="taobao", nickname="=小鹿", shop="旗舰店", amount="128",
                     item="保温杯")
    orders.add_order(st, "261110-084512937650431", platform="pdd", nickname="乙", amount="39.9",
                     deadline=clock.now() + timedelta(minutes=30))
    closed, _ = orders.add_order(st, "287654321098", platform="jd", nickname="丙")
    orders.mark_closed(st, closed.id)
    for suffix in ("csv", "xlsx"):
        path = tmp_path / f"orders.{suffix}"
        assert orders.export_file(st, path, full_numbers=True) == 3
        other = open_store(tmp_path / f"other-{suffix}.db", clock)
        settings.set(other, "reminders.agent_tz", "Asia/Shanghai")
        result = orders.import_file(other, path)
        assert (result.added, result.updated, result.skipped) == (2, 0, 1)  # a closed order never tracked: skipped

        def view(s):
            return sorted((o.nickname, o.platform, o.shop, o.order_masked, o.amount, o.ordered_at, o.deadline_at,
                           o.status, o.item) for o in orders.list_orders(s))

        assert view(other) == view(st)
        again = orders.import_file(other, path)
        assert (again.added, again.updated) == (0, 2)
        assert other.query("SELECT count(*) AS n FROM orders")[0]["n"] == 2
        other.close()
    masked = tmp_path / "masked.csv"
    orders.export_file(st, masked)
    assert "3391204857162093345" not in masked.read_text("utf-8-sig")
    with pytest.raises(ImportFileError, match="row 2"):
        orders.import_file(st, masked)


def test_an_import_marks_orders_paid_and_bad_files_store_nothing(st, clock, tmp_path):
    order, _ = orders.add_order(st, "3391204857162093345", platform="taobao", nickname="小鹿")
    good = tmp_path / "paid.csv"
    good.write_text("订单编号,买家会员名,实付款,订单状态\n=\"3391204857162093345\",小鹿,128.00,买家已付款\n"
                    "3391204857160011223,新买家,89,等待买家付款\n", encoding="gbk")
    result = orders.import_file(st, good, platform="淘宝")
    assert (result.added, result.updated) == (1, 1)
    assert orders.get_order(st, f"#{order.id}").status == "paid" and not pending(st, order.id)
    before = st.query("SELECT count(*) AS n FROM orders")[0]["n"]
    bad_files = {
        "no_header.csv": "3391204857160099999,某人\n",
        "bad_amount.csv": "订单号,买家,平台,金额\n3391204857160099998,甲,taobao,1百\n",
        "twice.csv": "订单号,买家,平台\n3391204857160099997,甲,taobao\n3391204857160099997,乙,taobao\n",
        "excel_number.csv": "订单号,买家,平台\n3.39120485716E+18,甲,taobao\n",
        "no_platform.csv": "订单号,买家\n3391204857160099996,甲\n",
        "broken.xlsx": "not a zip",
        "quotes.csv": '订单号,买家,平台\n"3391204857160099995,甲,taobao\n',
        "empty.csv": "",
        "notes.txt.doc": "x",
    }
    for name, content in bad_files.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(ImportFileError) as info:
            orders.import_file(st, path)
        assert "\n" not in info.value.zh and "\n" not in info.value.en, name
    assert st.query("SELECT count(*) AS n FROM orders")[0]["n"] == before


def test_the_template_imports(st, clock, tmp_path):
    path = tmp_path / "template.xlsx"
    assert orders.export_file(st, path, template=True) == 1
    result = orders.import_file(st, path)
    assert result.added == 1 and orders.list_orders(st)[0].nickname == "小鹿爱喝茶"


def test_order_numbers_never_reach_the_log(st, clock, caplog, tmp_path):
    import logging

    caplog.set_level(logging.DEBUG)
    order, _, _ = orders.paste_order(st, (DATA / "jd.txt").read_text("utf-8"), platform="jd", nickname="隐私买家")
    orders.record_chase(st, order.id, None)
    orders.mark_paid(st, order.id)
    assert "287654321098" not in caplog.text and "隐私买家" not in caplog.text


def test_a_stored_time_is_utc():
    assert orders.parse_time("2026-11-10 14:00", SH, sh(2026, 11, 10, 15, 0)).astimezone(timezone.utc) == \
        datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc)
    assert orders.parse_time("11月9日 23:00", SH, sh(2026, 1, 1, 1, 0)) == sh(2025, 11, 9, 23, 0)
