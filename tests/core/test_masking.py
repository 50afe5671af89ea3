"""Phone and order numbers masked in every text field of a default handover export and in
`kefu buyers list` (core/masking.py) -- and dates, times, amounts and codes left alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest

from assistant import cli
from assistant.core import handover, masking, reminders
from assistant.core.store import open_store

MUST_MASK = [
    ("13812345678", "138****5678"),
    ("电话 138 1234 5678", "电话 138 **** 5678"),
    ("+86 138-1234-5678", "+86 138-****-5678"),
    ("8613812345678", "86138****5678"),
    ("tb_13812345673", "tb_138****5673"),
    ("(212) 555-0101", "(***) ***-0101"),
    ("212.555.0102", "***.***.0102"),
    ("（０２１）６２３４５６７８", "（***）****５６７８"),
    ("+7 912 345-67-89", "+7 *** ***-67-89"),
    ("+34 612 34 56 78", "+34 *** ** 56 78"),
    ("+1-212-555-0101", "+1-***-***-0101"),
    ("0049 30 1234567", "0049 ** ***4567"),
    ("1 (212) 555-0101", "* (***) ***-0101"),
    ("+44 20 7946 0958", "+44 ** **** 0958"),
    ("0755-12345678", "****-****5678"),
    ("订单号 2611101234567890 少发", "订单号 ************7890 少发"),
    ("拼多多 231111-123456789012345", "拼多多 ******-***********2345"),
    ("SF1234567890123", "SF*********0123"),
    ("手机13812345678，199.00元", "手机138****5678，199.00元"),
    ("13812345678 2026-11-11 00:00", "138****5678 2026-11-11 00:00"),
]

MUST_STAY = [
    "2026-11-11 00:00", "2026-11-11 10:00 发货，满199减20", "2026/11/11", "2026.11.11", "2026年11月11日 20:00",
    "11.11.2026", "199.00", "¥1,299.00", "12345678.90", "23:59:59", "20:00-22:00", "cdsp1", "3, 5, 7, 9 分钟",
    "2025-2026 新款", "满 1000 减 100", "v1.2.3", "12345678", "M码 165-170cm", "138****5678", "",
    "123 2026-11-11", "第 3 步 / 共 5 步",
]


@pytest.mark.parametrize("text,masked", MUST_MASK)
def test_masked(text, masked):
    assert masking.mask_text(text) == masked
    assert masking.mask_text(masked) == masked  # idempotent: a masked file can be exported again


@pytest.mark.parametrize("text", MUST_STAY)
def test_left_alone(text):
    assert masking.mask_text(text) == text


def test_masks_tells_a_masked_copy_from_a_change():
    assert masking.masks("电话 13812345678", "电话 138****5678")
    assert not masking.masks("电话 13812345678", "电话 13812345678")
    assert not masking.masks("电话 13812345678", "电话 139****5678")


SECRETS = ["13812345673", "2125550101", "2125550102", "62345678", "9123456789", "612345678", "1234567",
           "13899995673", "13811112222", "2611101234567890"]
NOTES = ("US (212) 555-0101, dotted 212.555.0102, 上海 （０２１）６２３４５６７８, RU +7 912 345-67-89, "
         "ES +34 612 34 56 78, DE 0049 30 1234567, 订单 2611101234567890；2026-11-11 00:00 付 199.00")


@pytest.fixture
def exported(tmp_path, clock):
    store = open_store(tmp_path / "kefu.db", clock)
    reminders.star(store, platform="千牛", shop="店13811112222", nickname="tb_13812345673", notes=NOTES,
                   phone="13812345678")
    reminders.star(store, platform="千牛", shop="店13811112222", nickname="tb_13899995673", notes="同一个店")
    masked = handover.export_handover(store, tmp_path / "masked")
    full = handover.export_handover(store, tmp_path / "full", include_phones=True)
    yield store, masked, full
    store.close()


def _texts(result) -> dict[str, str]:
    wb = openpyxl.load_workbook(result.files["xlsx"])
    return {"json": result.files["json"].read_text(encoding="utf-8"),
            "html": result.files["html"].read_text(encoding="utf-8"),
            "xlsx": "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)}


def _digits(text: str) -> str:
    """Digits only, full-width ones as ASCII, so no layout hides a leaked number."""
    return "".join(str(int(ch)) if ch.isdecimal() else ("|" if not ch.isspace() and ch not in "-.()（）" else "")
                   for ch in text)


def test_default_export_masks_every_text_field(exported):
    _, masked, full = exported
    for fmt, text in _texts(masked).items():
        flat = _digits(text)
        for secret in SECRETS:
            assert secret not in flat, (fmt, secret)
        assert "2026-11-11 00:00" in text or fmt == "xlsx" and "2026-11-11 00:00" in text.replace("T", " ")
        assert "199.00" in text and "tb_138****5673" in text, fmt
    for fmt, text in _texts(full).items():
        assert "tb_13812345673" in text and "(212) 555-0101" in text and "店13811112222" in text, fmt


def test_masked_export_with_lookalike_nicknames_imports(exported, tmp_path, clock):
    """tb_13812345673 and tb_13899995673 both mask to tb_138****5673: the file numbers the second so
    that it stays importable."""
    _, masked, _ = exported
    doc = json.loads(masked.files["json"].read_text(encoding="utf-8"))
    assert sorted(b["nickname"] for b in doc["buyers"]) == ["tb_138****5673", "tb_138****5673（2）"]
    other = open_store(tmp_path / "other.db", clock)
    try:
        plan = handover.import_handover(other, masked.files["json"])
        assert plan.applied and len(other.query("SELECT id FROM buyers")) == 2
    finally:
        other.close()


def test_buyers_list_masks_notes(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert cli.main(["--data-dir", data, "buyers", "star", "小王", "--platform", "taobao", "--note", NOTES,
                     "--phone", "13812345678"]) == 0
    capsys.readouterr()
    for args in (["buyers", "list"], ["buyers", "list", "--json"], ["buyers", "show", "小王"],
                 ["buyers", "show", "小王", "--json"]):
        assert cli.main(["--data-dir", data, *args]) == 0
        out = capsys.readouterr().out
        flat = _digits(out)
        for secret in ("2125550101", "2125550102", "62345678", "2611101234567890", "13812345678"):
            assert secret not in flat, (args, secret)
        assert "199.00" in out or args == ["buyers", "list"]  # the table clips long notes
        assert "(***) ***-0101" in out
    assert cli.main(["--data-dir", data, "buyers", "show", "小王", "--phone"]) == 0
    out = capsys.readouterr().out
    assert "(212) 555-0101" in out and "13812345678" in out


def test_one_masking_function():
    """handover's name for it is the same function (the merge and every export use it)."""
    assert handover.mask_text is masking.mask_text
    for path in (*Path(handover.__file__).parent.glob("*.py"), *Path(cli.__file__).parent.glob("*.py")):
        assert not re.search(r"def mask_text", Path(path).read_text(encoding="utf-8"))
