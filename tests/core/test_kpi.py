"""KPIs (core/kpi.py) over a scripted shift with a FakeClock, and the two pure calculators."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from assistant.core import kpi, reminders, replies, settings, shifts
from assistant.errors import ValidationError

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE_STEP = {"id": "kpi_one_step", "zh": "测试单步", "en": "one step", "steps": [{"wait_minutes": 3}]}


@pytest.fixture
def shift_store(store, clock):
    """A shift from 06:00 UTC (14:00 in Shanghai) to 07:40: pastes, three starred buyers, two chases
    (one late, one early), a payment, a loss and a reminder that was missed and then snoozed."""
    settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    reminders.save_cadence(store, ONE_STEP)
    start = clock.now()
    shifts.start_shift(store)
    greet = replies.create_reply(store, body="亲，在的", title="问候", group="售前")
    ship = replies.create_reply(store, body="今天下单今天发", title="发货", group="售前")
    product = replies.create_reply(store, body="这款面料是新疆长绒棉", title="卖点", group="催单", angle="product")
    price = replies.create_reply(store, body="今晚下单立减20", title="立减", group="催单", angle="price")
    b1, b2, b3 = (reminders.star(store, platform="千牛", nickname=f"买家{i}", cadence="kpi_one_step").id
                  for i in (1, 2, 3))

    def at(minutes: float) -> None:
        clock.set(start + timedelta(minutes=minutes))

    at(2)
    reminders.record_chase(store, b2, price.id)  # before its reminder fell due: no delay counted
    at(5)
    reminders.record_chase(store, b1, product.id)  # 2 minutes late
    at(10)
    replies.record_use(store, greet.id)
    reminders.fire_due(store)  # b3's reminder shows 7 minutes late: missed
    at(12)
    reminders.outcome(store, b3, "snooze", minutes=10)  # acted 9 minutes after due
    at(20)
    replies.record_use(store, greet.id)
    at(30)
    reminders.outcome(store, b1, "paid")
    at(40)
    reminders.outcome(store, b2, "lost")
    at(65)
    replies.record_use(store, greet.id)
    at(90)
    replies.record_use(store, ship.id)
    at(100)
    return store


def test_shift_kpis(shift_store, clock):
    shift = shifts.current_shift(shift_store)
    k = kpi.for_shift(shift_store, shift, tz=SHANGHAI)
    assert (k.since, k.until) == (shift.started_at, clock.now())
    assert k.pastes == 4
    assert [(t.title, t.count) for t in k.top_replies] == [("问候", 3), ("发货", 1)]
    assert [(h.label, h.count) for h in k.pastes_by_hour] == [("14", 2), ("15", 2)]
    assert k.starred == 3
    assert k.chases == 2
    assert k.chases_by_angle == {"product": 1, "price": 1, "logistics": 0, "gift": 0, "ask": 0, "none": 0}
    assert (k.chased_buyers, k.paid_after_chase, k.conversion) == (2, 1, 0.5)
    assert (k.paid, k.lost) == (1, 1)
    assert k.reminders_acted == 2  # the early chase is not a delay
    assert k.avg_delay_seconds == pytest.approx((120 + 540) / 2)
    assert k.median_delay_seconds == pytest.approx(330)
    assert k.missed == 1
    assert k.overdue_open == 1  # b3's snoozed reminder, due 06:22, never acted on
    data = k.to_dict()
    assert data["conversion"] == 0.5 and data["since"].endswith("Z")


def test_day_kpis_and_an_empty_day(shift_store):
    day = kpi.for_day(shift_store, date(2026, 11, 10), SHANGHAI)
    assert day.pastes == 4 and day.chases == 2 and day.paid == 1
    assert len(day.pastes_by_hour) == 24
    empty = kpi.for_day(shift_store, date(2026, 11, 12), SHANGHAI)
    assert empty.pastes == 0 and empty.conversion is None and empty.avg_delay_seconds is None
    assert empty.top_replies == []


def test_payment_after_the_window_does_not_count_in_it(shift_store, clock):
    k = kpi.compute(shift_store, clock.now() - timedelta(minutes=100), clock.now() - timedelta(minutes=80))
    assert k.chased_buyers == 2 and k.paid_after_chase == 0  # b1 paid at minute 30


def test_deleted_reply_still_counts(store, clock):
    reply = replies.create_reply(store, body="临时话术", title="临时", group="售前")
    replies.record_use(store, reply.id)
    replies.delete_reply(store, reply.id)
    k = kpi.compute(store, clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1))
    assert k.pastes == 1 and k.top_replies[0].title == "（已删除的回复）"


# ---------------------------------------------------------------- calculators

def test_sales_formula():
    est = kpi.sales(1000, 0.12, 199)
    assert est.orders == pytest.approx(120)
    assert est.sales == pytest.approx(23880)
    assert kpi.sales(0, 0.5, 99).sales == 0


@pytest.mark.parametrize("args", [(-1, 0.1, 10), (10, 1.5, 10), (10, -0.1, 10), (10, 0.1, -5), ("x", 0.1, 1),
                                  (math.nan, 0.1, 1), (10, math.inf, 1), (True, 0.1, 1)])
def test_sales_rejects_bad_input(args):
    with pytest.raises(ValidationError):
        kpi.sales(*args)


@pytest.mark.parametrize("text,rate", [("0.12", 0.12), ("12%", 0.12), ("12", 0.12), ("12％", 0.12), (0.5, 0.5),
                                       ("100%", 1.0), ("1", 1.0)])
def test_parse_rate(text, rate):
    assert kpi.parse_rate(text) == pytest.approx(rate)


def test_staffing_by_shop_type():
    ka = kpi.staffing(300, "ka", shops=2)
    assert ka.multiplier == 45 and ka.promo_inquiries_per_shop == 13_500 and ka.promo_inquiries == 27_000
    assert ka.normal_agents == 1 and ka.promo_agents == 4  # two agents per KA shop in a promotion
    assert ka.extra_help  # 45× is above 25×
    est = kpi.staffing(300, "成熟", shops=5)
    assert (est.shop_type, est.multiplier, est.extra_help) == ("established", 22, False)
    assert est.normal_agents == 1 and est.promo_agents == 1
    ordinary = kpi.staffing(100, "ordinary", shops=12)
    assert ordinary.multiplier == 15 and ordinary.normal_agents == 3 and not ordinary.extra_help
    assert any("5" in zh for zh, _ in ordinary.notes)


def test_staffing_with_capacity_and_multiplier():
    plan = kpi.staffing(200, "ordinary", shops=3, agent_capacity=1000)
    assert plan.promo_inquiries == 9000 and plan.promo_agents == 9
    custom = kpi.staffing(200, "established", shops=1, multiplier=30)
    assert custom.extra_help and custom.promo_inquiries == 6000
    assert kpi.staffing(200, "KA").shop_type == "ka"


@pytest.mark.parametrize("kwargs", [{"daily_inquiries": -1, "shop_type": "ka"},
                                    {"daily_inquiries": 10, "shop_type": "mega"},
                                    {"daily_inquiries": 10, "shop_type": "ka", "shops": 0},
                                    {"daily_inquiries": 10, "shop_type": "ka", "shops": 2.5},
                                    {"daily_inquiries": 10, "shop_type": "ka", "agent_capacity": 0}])
def test_staffing_rejects_bad_input(kwargs):
    with pytest.raises(ValidationError):
        kpi.staffing(**kwargs)


def test_kpis_are_utc_instants(store):
    with pytest.raises(ValueError):
        kpi.compute(store, datetime(2026, 1, 1), datetime(2026, 1, 2, tzinfo=timezone.utc))


# ---------------------------------------------------------------- the CLI

def test_cli_calculators(tmp_path, capsys):
    from assistant import cli

    def kefu(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--data-dir", str(tmp_path / "data"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = kefu("calc", "sales", "--inquiries", "1000", "--conversion", "12%", "--aov", "199", "--json")
    assert code == 0 and json.loads(out)["sales"] == pytest.approx(23880)
    code, out, _ = kefu("calc", "sales", "--inquiries", "1000", "--conversion", "0.12", "--aov", "199")
    assert code == 0 and "23,880.00" in out
    code, out, _ = kefu("calc", "staffing", "--daily-inquiries", "300", "--shop-type", "ka", "--shops", "2", "--json")
    plan = json.loads(out)
    assert code == 0 and plan["promo_agents"] == 4 and plan["extra_help"] is True
    code, out, _ = kefu("calc", "staffing", "--daily-inquiries", "300", "--shop-type", "ordinary", "--shops", "12")
    assert code == 0 and "15" in out
    code, _, err = kefu("calc", "staffing", "--daily-inquiries", "300", "--shop-type", "huge")
    assert code == 2 and "ka, established, ordinary" in err and "店铺类型" in err
    code, _, err = kefu("calc", "sales", "--inquiries", "10", "--conversion", "150%", "--aov", "9")
    assert code == 2 and "conversion" in err.lower()
