"""The shared file toolkit (assistant/core/fileio): the one XLSX writer, cells, atomic writes, reading."""

from __future__ import annotations

import os
import re
import zipfile
from datetime import datetime, timedelta
from fractions import Fraction

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.fileio import atomic, cells, reading, xlsx
from assistant.errors import ImportFileError


def _write(path, columns, rows) -> None:
    w = xlsx.XlsxWriter(title="t")
    w.sheet("表", columns, rows)
    w.save(path)


def _raw_cells(path) -> list[str]:
    """The <v> of every value cell of sheet 1, as written (no reader's rounding in between)."""
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode("utf-8")
    return re.findall(r'<c s="2"><v>([^<]*)</v></c>', xml)


def test_date_cells_are_written_at_full_precision(tmp_path):
    """A serial rounded down (the old "%.8f") shows 17:00 as 16:59 and 20:00 as 19:59 in LibreOffice."""
    times = [datetime(2026, 11, 10, 17, 0), datetime(2026, 11, 10, 20, 0), datetime(2026, 11, 11, 0, 0),
             datetime(2026, 11, 10, 23, 59, 59), datetime(1900, 3, 1, 8, 0), datetime(2026, 11, 10, 9, 30, 0, 500_000)]
    path = tmp_path / "t.xlsx"
    _write(path, [("时间", "date")], [[t] for t in times])
    days = (datetime(2026, 11, 10) - datetime(1899, 12, 30)).days
    assert days == 46336
    expected = [repr(46336 + 17 / 24), repr(46336 + 20 / 24), "46337.0", repr(46336 + 86399 / 86400),
                repr(61 + 8 / 24), repr(float(Fraction(46336 * 86400_000_000 + 34200_500_000, 86400_000_000)))]
    assert _raw_cells(path) == expected
    # each the float nearest the exact serial (days + seconds / 86400 as a fraction)
    exact = [Fraction((t - datetime(1899, 12, 30)) // timedelta(microseconds=1), 86400_000_000) for t in times]
    assert [float(x) for x in exact] == [float(v) for v in expected]
    assert float(expected[0]) * 24 % 24 >= 17  # never below the hour it stands for
    assert float(expected[1]) * 24 % 24 >= 20
    wb = openpyxl.load_workbook(path)
    assert [c.value for c in wb.active["A"][1:5]] == times[:4]


def test_formula_like_text_carries_quote_prefix_not_an_apostrophe(tmp_path):
    texts = ["=1+1", "+SUM(A1:A2)", "-2", "@cmd|' /C calc'!A0", "\t制表符", "\n换行\n第二行", "'=已有撇号", "'普通撇号",
             "普通文字", "减号 - 不动"]
    path = tmp_path / "q.xlsx"
    _write(path, [("文本", "wrap")], [[t] for t in texts])
    styles = zipfile.ZipFile(path).read("xl/styles.xml").decode("utf-8")
    xfs = re.search(r"<cellXfs [^>]*>(.*)</cellXfs>", styles).group(1)
    xf = re.findall(r"<xf [^>]*?/?>", xfs)
    assert 'quotePrefix="1"' in xf[xlsx.S_QUOTED] and 'quotePrefix="1"' in xf[xlsx.S_WRAP_QUOTED]
    assert 'wrapText="1"' in xfs.split("<xf ")[xlsx.S_WRAP_QUOTED + 1]
    assert sum('quotePrefix="1"' in x for x in xf) == 2
    sheet = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert '<c t="inlineStr" s="5"><is><t>=1+1</t></is></c>' in sheet  # the raw text, no apostrophe
    assert "'=1+1" not in sheet
    wb = openpyxl.load_workbook(path)
    got = [(c.value, bool(c.quotePrefix), c.data_type) for c in wb.active["A"][1:]]
    assert got == [(t, cells.needs_quote(t), "s") for t in texts]
    assert wb.active["A7"].alignment.wrap_text  # "\n换行\n第二行": wrapped and quoted


def test_cell_kinds_and_xml_illegal_characters(tmp_path):
    path = tmp_path / "k.xlsx"
    _write(path, [("a", "text"), ("b", "int"), ("c", "percent"), ("d", "mixed")],
           [["x\x00y\x1b\ufffez&<>", 3, 0.25, (True, "text")], [" 空格 ", -4, None, (1.5, "num")]])
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert [c.value for c in ws[2]] == ["xyz&<>", 3, 0.25, True]
    assert [c.value for c in ws[3]] == [" 空格 ", -4, None, 1.5]
    assert ws["C2"].number_format == "0.0%" and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D3"
    assert not ws["B3"].quotePrefix  # a negative number is a number, not text


@given(st.text())
def test_neutralise_is_reversible_and_safe(text):
    safe = cells.neutralise(text)
    assert cells.unneutralise(safe) == text
    assert safe[:1] not in cells.FORMULA_START
    split = cells.csv_neutralise(safe)
    assert cells.csv_unneutralise(split) == safe


def test_atomic_write_replaces_or_leaves_nothing(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    atomic.write_atomic(target, lambda p: p.write_bytes(b"new"))
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600


def _fail(zh: str, en: str) -> ImportFileError:
    return ImportFileError(zh, en)


def test_reading_reasons(tmp_path):
    with pytest.raises(ImportFileError, match="file not found"):
        reading.check_file(tmp_path / "nope", 10, _fail)
    with pytest.raises(ImportFileError, match="folder"):
        reading.check_file(tmp_path, 10, _fail)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    with pytest.raises(ImportFileError, match="too large"):
        reading.check_file(big, 10, _fail)
    with pytest.raises(ImportFileError, match="too large"):
        reading.read_bytes(big, 10, _fail)
    assert reading.read_bytes(big, 10, _fail, head=4) == b"xxxx"
    assert reading.decode_text("你好".encode("gb18030"), _fail) == "你好"
    assert reading.decode_text(b"\xef\xbb\xbfok", _fail) == "ok"
    for raw, reason in ((b"\xff\xfe\x00\x00a", "UTF-32"), (b"\xff\xfea\x00", "UTF-16"), (b"a\x00b", "NUL")):
        with pytest.raises(ImportFileError, match=reason):
            reading.decode_text(raw, _fail)
    with pytest.raises(ImportFileError, match="truncated"):
        reading.parse_json('{"a": [1, 2', _fail)
    with pytest.raises(ImportFileError, match="not a valid JSON file"):
        reading.parse_json("a,b", _fail)
    with pytest.raises(ImportFileError, match="nested too deeply"):
        reading.parse_json("[" * 100_000 + "]" * 100_000, _fail)
    assert reading.parse_json('{"a": 1}', _fail) == {"a": 1}


def test_text_that_looks_like_an_ooxml_escape_is_escaped(tmp_path):
    """OOXML reads "_x000D_" in a string as a carriage return: a literal one gets its "_" escaped as
    "_x005F_" (what Excel writes), in cells and headers; anything else is written as it is."""
    path = tmp_path / "e.xlsx"
    _write(path, [("_x0041_ 标题", "text")], [["_x000D_"], ["a_x0041_b"], ["_X000D_"], ["_x00_"], ["x000D_"]])
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode("utf-8")
    texts = re.findall(r"<t[^>]*>([^<]*)</t>", xml)
    assert texts == ["_x005F_x0041_ 标题", "_x005F_x000D_", "a_x005F_x0041_b", "_X000D_", "_x00_", "x000D_"]
