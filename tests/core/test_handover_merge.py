"""Handover import never lets masked text replace unmasked text, and a later --include-phones export
brings the numbers to a computer that only had the masked ones. Real export -> import round trips."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.core import customers, handover, reminders
from assistant.core.clock import FakeClock
from assistant.core.store import open_store

NOTE = "电话 13812345678，订单号 231111223344556677，要红色L码"
PHONE = "13812345678"


@pytest.fixture
def two(tmp_path):
    a_clock = FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))
    b_clock = FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))
    a = open_store(tmp_path / "a.db", a_clock)
    b = open_store(tmp_path / "b.db", b_clock)
    yield a, a_clock, b, b_clock
    a.close()
    b.close()


def _phone(store) -> str | None:
    return store.query("SELECT phone FROM buyers WHERE nickname = '李女士'")[0]["phone"]


def _hand_over(a, b, folder, *, include_phones: bool) -> handover.ImportPlan:
    result = handover.export_handover(a, folder, formats=("json",), include_phones=include_phones)
    return handover.import_handover(b, result.files["json"])


def test_a_newer_masked_export_keeps_the_real_numbers(two, tmp_path):
    a, a_clock, b, b_clock = two
    buyer = reminders.star(a, platform="千牛", nickname="李女士", notes=NOTE, phone=PHONE)
    _hand_over(a, b, tmp_path / "1", include_phones=True)
    assert customers.find_buyer(b, "李女士").notes == NOTE

    a_clock.advance(timedelta(hours=1))
    customers.update_buyer(a, buyer.id, notes=NOTE + "\n已付定金，等尾款")  # A's record is newer now
    plan = _hand_over(a, b, tmp_path / "2", include_phones=False)
    assert plan.items[0].newer == "file" and plan.applied

    got = customers.find_buyer(b, "李女士")
    assert "*" not in got.notes, "masked digits replaced the real ones"
    assert got.notes == NOTE + "\n已付定金，等尾款", "the file's new line arrives, with B's digits"
    assert _phone(b) == PHONE
    again = _hand_over(a, b, tmp_path / "3", include_phones=False)
    assert not again.has_changes


def test_a_masked_note_that_cannot_be_restored_never_replaces_the_real_one(two, tmp_path):
    a, a_clock, b, b_clock = two
    twins = "买家 13812345678，家人 13899995678"  # two numbers with the same mask: 138****5678
    buyer = reminders.star(a, platform="千牛", nickname="李女士", notes=twins, phone=PHONE)
    _hand_over(a, b, tmp_path / "1", include_phones=True)
    a_clock.advance(timedelta(hours=1))
    customers.update_buyer(a, buyer.id, notes=twins + "\n已付定金")
    _hand_over(a, b, tmp_path / "2", include_phones=False)
    got = customers.find_buyer(b, "李女士").notes
    assert got.startswith("买家 138****5678，家人 138****5678\n已付定金"), "the newer (file) note comes first"
    assert got.endswith(twins), "B's own note, digits and all, is kept below it"


def test_a_later_export_with_phones_fills_in_an_unchanged_buyer(two, tmp_path):
    a, a_clock, b, b_clock = two
    reminders.star(a, platform="千牛", nickname="李女士", notes=NOTE, phone=PHONE)
    _hand_over(a, b, tmp_path / "1", include_phones=False)
    first = customers.find_buyer(b, "李女士")
    assert _phone(b) is None and "138****5678" in first.notes

    plan = _hand_over(a, b, tmp_path / "2", include_phones=True)  # nothing else changed on A
    assert plan.items[0].newer == "same" and plan.items[0].action == "update"
    got = customers.find_buyer(b, "李女士")
    assert _phone(b) == PHONE
    assert got.notes == NOTE
    assert not _hand_over(a, b, tmp_path / "3", include_phones=True).has_changes


def test_a_newer_local_record_gains_the_numbers_too(two, tmp_path):
    a, a_clock, b, b_clock = two
    reminders.star(a, platform="千牛", nickname="李女士", notes=NOTE, phone=PHONE)
    _hand_over(a, b, tmp_path / "1", include_phones=False)
    b_clock.advance(timedelta(hours=2))
    local = customers.find_buyer(b, "李女士")
    customers.update_buyer(b, local.id, notes=local.notes + "\n本机：已催付")  # B's record is newer
    plan = _hand_over(a, b, tmp_path / "2", include_phones=True)
    assert plan.items[0].newer == "local"
    got = customers.find_buyer(b, "李女士")
    assert _phone(b) == PHONE
    assert got.notes == NOTE + "\n本机：已催付"


@pytest.mark.parametrize("source,text,expected", [
    (NOTE, handover.mask_text(NOTE), NOTE),
    (NOTE, "前言 " + handover.mask_text(NOTE) + " 后记", "前言 " + NOTE + " 后记"),
    ("+86 138 1234 5678 ok", handover.mask_text("+86 138 1234 5678 ok"), "+86 138 1234 5678 ok"),
    ("没有号码", "没有号码", "没有号码"),
    # two numbers that mask alike: which one is meant cannot be known, so it stays masked
    ("13812345678 与 13899995678", "138****5678", "138****5678"),
])
def test_restore_masked(source, text, expected):
    assert handover.restore_masked(text, source) == expected


def test_a_newer_masked_export_keeps_a_real_nickname_and_shop(two, tmp_path):
    """Masked exports mask numbers in nicknames and shops too (tb_138****5673): importing a newer
    one into a store that has the buyer must not rename the buyer to the masked text."""
    a, a_clock, b, b_clock = two
    nick, shop = "tb_13812345673", "店铺13987654321"
    buyer = reminders.star(a, platform="千牛", shop=shop, nickname=nick, notes="要红色")
    _hand_over(a, b, tmp_path / "1", include_phones=True)
    a_clock.advance(timedelta(hours=1))
    customers.update_buyer(a, buyer.id, notes="要红色\n已付定金")  # A's record is newer now
    plan = _hand_over(a, b, tmp_path / "2", include_phones=False)
    assert plan.items[0].newer == "file"
    rows = b.query("SELECT nickname, shop, notes FROM buyers")
    assert rows == [{"nickname": nick, "shop": shop, "notes": "要红色\n已付定金"}]


def test_a_later_export_with_phones_restores_a_masked_nickname(two, tmp_path):
    a, a_clock, b, b_clock = two
    nick = "tb_13812345673"
    reminders.star(a, platform="千牛", nickname=nick)
    _hand_over(a, b, tmp_path / "1", include_phones=False)
    assert b.query("SELECT nickname FROM buyers")[0]["nickname"] == "tb_138****5673"
    plan = _hand_over(a, b, tmp_path / "2", include_phones=True)  # nothing else changed on A
    assert plan.items[0].newer == "same" and "nickname" in plan.items[0].fields
    assert b.query("SELECT nickname FROM buyers")[0]["nickname"] == nick
