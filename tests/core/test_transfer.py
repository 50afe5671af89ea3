"""Import/export of quick replies: Qianniu CSV/XLSX and our JSON (assistant/core/transfer/).

Every rejected file is checked to leave the library byte-for-byte as it was (a full SQL dump).
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core import replies, search, templates, transfer
from assistant.core import settings as app_settings
from assistant.core.clock import FakeClock
from assistant.core.store import open_store
from assistant.errors import ImportBracesError, ImportFileError, KnownError, ValidationError
from assistant.paths import resource_path
from tests.helpers.stores import replies_doc

DATA = Path(__file__).parent / "data"
HEADER = "快捷短语编码,快捷短语,快捷短语分组"


# ---------------------------------------------------------------- fixtures and helpers


def _clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))


@pytest.fixture
def db(tmp_path):
    s = open_store(tmp_path / "kefu.db", _clock())
    yield s
    s.close()


@pytest.fixture
def fresh(tmp_path):
    s = open_store(tmp_path / "fresh.db", _clock())
    yield s
    s.close()


@pytest.fixture
def lib(db):
    """A small library: nested groups, codes, a hotkey, usage."""
    replies.create_group(db, "售前")
    replies.create_group(db, "问候", parent="售前")
    replies.create_reply(db, body="亲，欢迎光临～有什么可以帮您？", group="售前/问候", code="wh1",
                         hotkey="Ctrl+Alt+1")
    replies.create_reply(db, body="{客户}您好，{商品}今天有活动哦", title="活动提醒", group="售前", code="hd1",
                         platforms=["taobao"], angle="price")
    replies.create_reply(db, body="已经给您催仓库了，今天一定发出", group="售后", code=None)
    replies.record_use(db, "wh1")
    return db


def dump(store) -> list[str]:
    return list(store.conn.iterdump())


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8-sig", header: list[str] | None = None,
              lineterminator: str = "\r\n") -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    writer.writerow(header or HEADER.split(","))
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]], *, header: list[str] | None = None,
               blank_rows_before: int = 0) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(blank_rows_before):
        ws.append([])
    ws.append(header or HEADER.split(","))
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def assert_rejected(store, path: Path, *, match: str | None = None, row: int | None = None,
                    format: str | None = None) -> ImportFileError:
    """plan_import, read_file and import_file all refuse the file and leave the library untouched."""
    before = dump(store)
    with pytest.raises(ImportFileError) as info:
        transfer.read_file(path, format=format)
    with pytest.raises(ImportFileError):
        transfer.plan_import(store, path, format=format)
    with pytest.raises(ImportFileError) as info2:
        transfer.import_file(store, path, format=format)
    assert dump(store) == before
    exc = info2.value
    assert exc.zh and exc.en and exc.zh != exc.en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.zh), exc.zh
    assert "Traceback" not in exc.en
    if match is not None:
        assert match in exc.en or match in exc.zh, (exc.zh, exc.en)
    if row is not None:
        assert exc.row == row, (exc.row, exc.en)
    assert info.value.en == exc.en
    return exc


def reply_view(store, *, with_title: bool = True) -> list[tuple]:
    out = []
    for r in replies.list_replies(store):
        item = (r.group_path, r.body, r.code)
        out.append((*item, r.title) if with_title else item)
    return sorted(out, key=lambda t: (t[0], t[1]))


def full_view(store) -> tuple[list[dict], list[dict]]:
    """Every field of every group and reply, ids replaced by uuids (ids are local to a database)."""
    groups = store.query("SELECT g.uuid, g.name, p.uuid AS parent, g.position FROM groups g "
                         "LEFT JOIN groups p ON p.id = g.parent_id ORDER BY g.uuid")
    rows = store.query("SELECT r.uuid, g.uuid AS grp, r.title, r.body, r.code, r.language, r.platforms, r.hotkey, "
                       "r.angle, r.position, r.created_at, r.updated_at, r.use_count, r.last_used_at "
                       "FROM replies r JOIN groups g ON g.id = r.group_id ORDER BY r.uuid")
    return groups, rows


# ---------------------------------------------------------------- format detection


def test_detect_format_by_extension_and_content(tmp_path):
    csv_file = write_csv(tmp_path / "a.csv", [["x", "你好", "g"]])
    xlsx_file = write_xlsx(tmp_path / "a.xlsx", [["x", "你好", "g"]])
    json_file = tmp_path / "a.json"
    json_file.write_text("{}", encoding="utf-8")
    assert transfer.detect_format(csv_file) == "qianniu-csv"
    assert transfer.detect_format(xlsx_file) == "qianniu-xlsx"
    assert transfer.detect_format(json_file) == "json"
    # content decides when the extension lies or is missing
    renamed = tmp_path / "really-xlsx.csv"
    renamed.write_bytes(xlsx_file.read_bytes())
    assert transfer.detect_format(renamed) == "qianniu-xlsx"
    noext = tmp_path / "phrases"
    noext.write_bytes(csv_file.read_bytes())
    assert transfer.detect_format(noext) == "qianniu-csv"
    jdat = tmp_path / "backup.dat"
    jdat.write_text('  {"format": "x"}', encoding="utf-8")
    assert transfer.detect_format(jdat) == "json"


@pytest.mark.parametrize("name,content,match", [
    ("notes.dat", "随便写的一些字\n第二行".encode(), "Unrecognised file format"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old Excel"),
    ("fake.xlsx", b"this is not a zip at all", "not a zip archive"),
    ("empty.csv", b"", "no quick replies"),
])
def test_detect_format_rejects(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as info:
        transfer.detect_format(path)
    assert match in info.value.en


def test_missing_file_and_folder_and_unknown_format(db, tmp_path):
    assert_rejected(db, tmp_path / "nope.csv", match="not found")
    assert_rejected(db, tmp_path, match="folder")
    path = write_csv(tmp_path / "a.csv", [["x", "你好", "g"]])
    assert_rejected(db, path, format="excel", match="Unknown format")


# ---------------------------------------------------------------- Qianniu CSV: good files


def test_csv_utf8_bom_basic(db, tmp_path):
    path = write_csv(tmp_path / "q.csv", [
        ["wh1", "亲，在的～请问有什么可以帮您？", "售前问候"],
        ["", "这款是纯棉的，不起球，放心穿", "商品"],
        ["fh1", "今天 16 点前下单当天发货", ""],
    ])
    result = transfer.import_file(db, path)
    assert (result.added, result.replaced, result.skipped) == (3, 0, 0)
    got = {r.body: r for r in replies.list_replies(db)}
    assert got["亲，在的～请问有什么可以帮您？"].code == "wh1"
    assert got["亲，在的～请问有什么可以帮您？"].group_path == "售前问候"
    assert got["这款是纯棉的，不起球，放心穿"].code is None
    assert got["今天 16 点前下单当天发货"].group_path == replies.UNGROUPED  # blank group
    # Qianniu has no titles: the first line, at most 20 characters
    assert got["亲，在的～请问有什么可以帮您？"].title == "亲，在的～请问有什么可以帮您？"
    assert result.groups_created == 3


def test_csv_without_bom_and_gbk(db, tmp_path):
    rows = [["a1", "亲，这款羽绒服含绒量90%，零下二十度没问题", "冬季"], ["a2", "鑫淼燚犇（生僻字）", "冬季"]]
    utf8 = write_csv(tmp_path / "utf8.csv", rows, encoding="utf-8")
    gbk = write_csv(tmp_path / "gbk.csv", [["b1", "亲，这款羽绒服含绒量90%，零下二十度没问题", "冬季gbk"]], encoding="gbk")
    gb18030 = write_csv(tmp_path / "gb18030.csv", [["c1", "表情不行但生僻字可以：𠀀", "冬季18030"]], encoding="gb18030")
    assert not utf8.read_bytes().startswith(b"\xef\xbb\xbf")
    transfer.import_file(db, utf8)
    transfer.import_file(db, gbk)
    transfer.import_file(db, gb18030)
    bodies = {r.code: (r.body, r.group_path) for r in replies.list_replies(db)}
    assert bodies["a2"] == ("鑫淼燚犇（生僻字）", "冬季")
    assert bodies["b1"] == ("亲，这款羽绒服含绒量90%，零下二十度没问题", "冬季gbk")
    assert bodies["c1"] == ("表情不行但生僻字可以：𠀀", "冬季18030")


def test_gbk_fixture_file(db):
    """A small file as a Windows Qianniu install writes it: GBK, CRLF, the short header variant."""
    path = DATA / "qianniu_gbk.csv"
    assert path.read_bytes()[:8].decode("gbk").startswith("快捷编码")
    plan = transfer.plan_import(db, path)
    assert [i.code for i in plan.to_add] == ["kf1", "kf2", None]
    transfer.import_file(db, path)
    multi = replies.get_reply(db, "kf2")
    assert multi.body == "亲，发货时间如下：\n现货48小时内发出\n预售按页面时间"
    assert multi.group_path == "物流"


@pytest.mark.parametrize("header", [
    ["快捷短语编码", "快捷短语", "快捷短语分组"],
    ["快捷编码", "快捷短语", "快捷短语分组"],
    ["  快捷短语分组 ", " 快捷短语", "快捷编码  "],  # spaces, other order
    ["\ufeff快捷短语", "快捷短语分组"],  # stray BOM in the cell, no code column
])
def test_csv_header_variants(db, tmp_path, header):
    values = {"code": "x1", "text": "你好呀", "group": "问候"}
    row = []
    for h in header:
        name = h.strip().lstrip("\ufeff").strip()
        row.append(values["code"] if name in ("快捷短语编码", "快捷编码") else
                   values["group"] if name == "快捷短语分组" else values["text"])
    path = write_csv(tmp_path / "h.csv", [row], header=header, encoding="utf-8")
    transfer.import_file(db, path)
    (reply,) = replies.list_replies(db)
    assert reply.body == "你好呀" and reply.group_path == "问候"
    assert reply.code == ("x1" if any("编码" in h for h in header) else None)


def test_csv_multiline_cells_and_entities(db, tmp_path):
    path = write_csv(tmp_path / "m.csv", [
        ["m1", "第一行\r\n第二行\n第三行", "多行"],
        ["m2", "第一行&#13;第二行&#10;第三行&#13;&#10;第四行", "多行"],
        ["m3", "满300减40&#44;可叠加店铺券", "多行"],
        ["m4", "A&#44;B", "分组&#44;带逗号"],
        ["m5", "&#38;#44; 是字面的 &#38;", "多行"],
    ])
    transfer.import_file(db, path)
    got = {r.code: r for r in replies.list_replies(db)}
    assert got["m1"].body == "第一行\n第二行\n第三行"
    assert got["m1"].title == "第一行"
    assert got["m2"].body == "第一行\n第二行\n第三行\n第四行"
    assert got["m3"].body == "满300减40,可叠加店铺券"
    assert got["m4"].group_path == "分组,带逗号"
    assert got["m5"].body == "&#44; 是字面的 &"


def test_csv_group_names_title_and_blank_lines(db, tmp_path):
    long_first_line = "这是一个非常非常非常非常非常非常长的第一行文字，超过二十个字\n第二行"
    text = (HEADER + "\r\n\r\n"
            + f'g1,"{long_first_line}",售前/问候\r\n'
            + ",,\r\n"
            + "g2,  空格开头也可以,  \r\n")
    path = tmp_path / "g.csv"
    path.write_text(text, encoding="utf-8")
    transfer.import_file(db, path)
    got = {r.code: r for r in replies.list_replies(db)}
    assert got["g1"].group_path == "售前／问候"  # "/" is not allowed in a group name
    assert got["g1"].title == long_first_line[:20]
    assert len(got["g1"].title) == 20
    assert got["g2"].group_path == replies.UNGROUPED


def test_csv_tab_separated(db, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("快捷短语编码\t快捷短语\t快捷短语分组\nt1\t用制表符分隔, 内容里有逗号\t分组\n", encoding="utf-8")
    transfer.import_file(db, path)
    assert replies.get_reply(db, "t1").body == "用制表符分隔, 内容里有逗号"


def test_csv_trailing_empty_columns_tolerated(db, tmp_path):
    path = tmp_path / "trail.csv"
    path.write_text(HEADER + ",,\r\nx1,你好,g,,\r\nx2,再见,g\r\n", encoding="utf-8")
    assert transfer.import_file(db, path).added == 2


def test_unneutralise_only_our_quote(db, tmp_path):
    path = write_csv(tmp_path / "q.csv", [
        ["q1", "'=1+1", "g"], ["q2", "'普通撇号开头", "g"], ["q3", "'-_-'", "g"], ["q4", "''+x", "g"],
    ])
    transfer.import_file(db, path)
    got = {r.code: r.body for r in replies.list_replies(db)}
    assert got == {"q1": "=1+1", "q2": "'普通撇号开头", "q3": "-_-'", "q4": "'+x"}



def test_xlsx_quote_prefix_reads_as_typed_and_old_apostrophes_still_go(db, tmp_path):
    """Our XLSX export quotes with the cell style (quotePrefix), older ones with an apostrophe in the text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.split(","))
    rows = [("s1", "=1+1", True), ("s2", "'=1+1", False), ("s3", "'=已有撇号", True), ("s4", "'普通", True),
            ("s5", "'普通撇号", False), ("s6", "''+x", False)]
    for code, body, quoted in rows:
        ws.append([code, body, code])  # a group each: s1 and s2 are the same text
        cell = ws.cell(ws.max_row, 2)
        cell.data_type, cell.quotePrefix = "s", quoted  # text, never a formula
    wb.save(tmp_path / "q.xlsx")
    transfer.import_file(db, tmp_path / "q.xlsx")
    got = {r.code: r.body for r in replies.list_replies(db)}
    assert got == {"s1": "=1+1", "s2": "=1+1", "s3": "'=已有撇号", "s4": "'普通", "s5": "'普通撇号", "s6": "'+x"}


# ---------------------------------------------------------------- Qianniu CSV: malformed files


def _csv(tmp_path: Path, text: str | bytes, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.mark.parametrize("content,match,row", [
    (b"", "no quick replies", None),
    (b"   \r\n\r\n  ", "no quick replies", None),
    (HEADER.encode() + b"\r\n", "no quick replies", None),
    ("\ufeff" + HEADER + "\r\n,,\r\n", "no quick replies", None),
    ("编码,内容,分组\r\na,你好,g\r\n", "no Qianniu quick-phrase header", 1),
    ("name,text\r\na,b\r\n", "no Qianniu quick-phrase header", 1),
    ("快捷短语,快捷短语,快捷短语分组\r\na,b,c\r\n", "twice", 1),
    (HEADER + "\r\na1,你好\r\n", "wrong number of columns", 2),
    (HEADER + "\r\na1,你好,g\r\na2,你好,g,多出来的一列\r\n", "wrong number of columns", 3),
    (HEADER + '\r\na1,你好,g\r\na2,"没有结束的引号,g\r\n', "malformed CSV", 3),
    (HEADER + '\r\na1,"引号"后面还有字,g\r\n', "malformed CSV", 2),
    (HEADER + "\r\na1,你好,g\r\n\r\na3,{客户}您好{不存在的字段},g\r\n", "Unknown fill-in field", 4),
    (HEADER + "\r\na1,单个花括号 { 不行,g\r\n", "Unpaired brace", 2),
    (HEADER + "\r\nbad code,你好,g\r\n", "invalid short code", 2),
    (HEADER + "\r\n" + "x" * 25 + ",你好,g\r\n", "invalid short code", 2),
    (HEADER + "\r\na1,,g\r\n", "text is empty", 2),
    (HEADER + "\r\na1,   ,g\r\n", "text is empty", 2),
    (HEADER + "\r\na1,你好," + "长" * 41 + "\r\n", "too long", 2),
    (HEADER + "\r\na1,你好,\"第一行\n第二行\"\r\n", "line breaks", 2),
])
def test_csv_malformed(lib, tmp_path, content, match, row):
    assert_rejected(lib, _csv(tmp_path, content), match=match, row=row)


def test_csv_body_over_max(lib, tmp_path):
    body = "长" * (replies.MAX_BODY + 1)
    path = write_csv(tmp_path / "long.csv", [["ok", "正常", "g"], ["l1", body, "g"]])
    assert_rejected(lib, path, match="too long", row=3)


def test_csv_cell_over_csv_field_limit(lib, tmp_path):
    path = write_csv(tmp_path / "huge.csv", [["l1", "长" * 200_000, "g"]])
    assert_rejected(lib, path, row=2)


def test_csv_nul_bytes(lib, tmp_path):
    assert_rejected(lib, _csv(tmp_path, HEADER.encode() + b"\r\na1,\xe4\xbd\xa0\x00\xe5\xa5\xbd,g\r\n"), match="NUL")


def test_csv_invalid_utf8_and_gbk(lib, tmp_path):
    # \xff never starts a GB18030 character, and is never valid UTF-8
    assert_rejected(lib, _csv(tmp_path, HEADER.encode() + b"\r\na1,\xff\xfe\xff\xff,g\r\n"), match="GBK")


def test_csv_utf16(lib, tmp_path):
    assert_rejected(lib, _csv(tmp_path, (HEADER + "\r\na,你好,g\r\n").encode("utf-16")), match="UTF-16")


def test_csv_binary_garbage(lib, tmp_path):
    rnd = random.Random(1234)
    garbage = bytes(rnd.randrange(256) for _ in range(4096))
    assert_rejected(lib, _csv(tmp_path, garbage))
    no_nul = garbage.replace(b"\x00", b"\x01")
    assert_rejected(lib, _csv(tmp_path, no_nul, "garbage2.csv"))


def test_csv_too_many_rows(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(transfer.common, "MAX_ROWS", 5)
    path = write_csv(tmp_path / "many.csv", [[f"r{i}", f"第{i}条", "g"] for i in range(6)])
    assert_rejected(lib, path, match="more than 5")
    ok = write_csv(tmp_path / "five.csv", [[f"r{i}", f"第{i}条", "g"] for i in range(5)])
    assert transfer.read_file(ok).total == 5


def test_file_over_50_mb(lib, tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "wb") as fh:
        fh.write((HEADER + "\r\n").encode())
        fh.truncate(transfer.MAX_FILE_BYTES + 1)  # sparse: cheap to create
    assert_rejected(lib, path, match="too large")


def test_late_bad_row_aborts_everything(lib, tmp_path):
    rows = [[f"ok{i}", f"正常的第{i}条", f"新分组{i % 3}"] for i in range(200)]
    rows.append(["bad", "{优惠码}", "新分组0"])
    exc = assert_rejected(lib, write_csv(tmp_path / "late.csv", rows), row=202)
    assert "第 202 行" in exc.zh and "Row 202" in exc.en


def test_error_inside_the_transaction_rolls_back(lib, tmp_path, monkeypatch):
    """A ValidationError inside the transaction (the store checks of the 3rd row, after two rows and
    their groups were written) undoes groups and replies."""
    path = write_csv(tmp_path / "ok.csv", [[f"n{i}", f"第{i}条", f"新组{i}"] for i in range(5)])
    real = replies.check_unique
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ValidationError("模拟的校验失败", "simulated validation failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(replies, "check_unique", flaky)
    before = dump(lib)
    with pytest.raises(ImportFileError) as info:
        transfer.import_file(lib, path)
    assert dump(lib) == before
    assert info.value.row == 4
    assert "simulated validation failure" in info.value.en and "nothing was imported" in info.value.en
    assert "模拟的校验失败" in info.value.zh and "第 4 行" in info.value.zh


def test_crash_inside_the_transaction_rolls_back(lib, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "ok.csv", [[f"n{i}", f"第{i}条", "新组"] for i in range(5)])
    before = dump(lib)

    def boom(*args, **kwargs):  # every reply row is written by now, none of the index rows
        raise RuntimeError("bug")

    monkeypatch.setattr(search, "index_prepared", boom)
    with pytest.raises(RuntimeError):
        transfer.import_file(lib, path)
    assert dump(lib) == before


# ---------------------------------------------------------------- Qianniu XLSX


def test_xlsx_basic_multiline_numbers_and_blank_rows(db, tmp_path):
    path = write_xlsx(tmp_path / "q.xlsx", [
        [123, "第一行\n第二行", "售后"],
        [None, None, None],
        ["x2", "满300减40&#44;可叠加", None],
        [4.0, "数字编码存成浮点", "售后"],
    ], blank_rows_before=2)
    plan = transfer.read_file(path)
    assert [i.row for i in plan.to_add] == [4, 6, 7]  # the header is row 3
    transfer.import_file(db, path)
    got = {r.code: r for r in replies.list_replies(db)}
    assert got["123"].body == "第一行\n第二行" and got["123"].group_path == "售后"
    assert got["x2"].body == "满300减40,可叠加" and got["x2"].group_path == replies.UNGROUPED
    assert got["4"].body == "数字编码存成浮点"


def test_xlsx_carriage_return_escape(db, tmp_path):
    path = write_xlsx(tmp_path / "cr.xlsx", [["c1", "第一行_x000D_\n第二行", "g"]])
    transfer.import_file(db, path)
    assert replies.get_reply(db, "c1").body == "第一行\n第二行"


def test_xlsx_phrases_on_second_sheet(db, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    ws = wb.create_sheet("快捷短语")
    ws.append(HEADER.split(","))
    ws.append(["s1", "在第二个工作表", "g"])
    wb.save(tmp_path / "two.xlsx")
    transfer.import_file(db, tmp_path / "two.xlsx")
    assert replies.get_reply(db, "s1").body == "在第二个工作表"


def test_xlsx_formula_cells_use_cached_value(db, tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [["f1", "=CONCAT(\"a\",\"b\")", "g"], ["f2", "正常", "g"]])
    # openpyxl writes no cached value: the formula cell reads as empty -> the row is bad
    assert_rejected(db, path, match="empty", row=2)


def _rebuild_zip(source: bytes, replace: dict[str, bytes]) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(source))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in zin.infolist():
            z.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
    return out.getvalue()


@pytest.fixture
def good_xlsx(tmp_path) -> bytes:
    return write_xlsx(tmp_path / "good.xlsx", [["a", "你好", "g"]]).read_bytes()


def test_xlsx_not_a_zip(lib, tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text(HEADER + "\r\na,b,c\r\n", encoding="utf-8")
    assert_rejected(lib, path, match="not a zip")


def test_xlsx_truncated(lib, tmp_path, good_xlsx):
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good_xlsx[: len(good_xlsx) // 2])
    assert_rejected(lib, path, match="zip")


def test_xlsx_zip_but_not_workbook(lib, tmp_path):
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    assert_rejected(lib, path, match="not an Excel workbook")


def test_xlsx_corrupt_sheet_xml(lib, tmp_path, good_xlsx):
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(_rebuild_zip(good_xlsx, {"xl/worksheets/sheet1.xml": b"<<< not xml"}))
    assert_rejected(lib, path, match="Cannot read the .xlsx")


def test_xlsx_entity_expansion_refused(lib, tmp_path, good_xlsx):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&c;</t></is></c>'
            b"</row></sheetData></worksheet>")
    path = tmp_path / "lol.xlsx"
    path.write_bytes(_rebuild_zip(good_xlsx, {"xl/worksheets/sheet1.xml": bomb}))
    assert_rejected(lib, path)


def test_xlsx_zip_bomb(lib, tmp_path, good_xlsx, monkeypatch):
    """The declared unpacked size is checked before openpyxl opens anything."""
    monkeypatch.setattr(transfer.common, "MAX_UNZIPPED_MEMBER", 1024 * 1024)
    sheet = zipfile.ZipFile(io.BytesIO(good_xlsx)).read("xl/worksheets/sheet1.xml")
    padded = sheet.replace(b"</worksheet>", b"<!--" + b" " * (3 * 1024 * 1024) + b"--></worksheet>")
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_rebuild_zip(good_xlsx, {"xl/worksheets/sheet1.xml": padded}))
    assert path.stat().st_size < 100_000
    assert_rejected(lib, path, match="zip bomb")


def test_xlsx_old_xls(lib, tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000))
    assert_rejected(lib, path, match="old Excel")


@pytest.mark.parametrize("rows,match,row", [
    ([], "no quick replies", None),
    ([["a", "{不存在}", "g"]], "Unknown fill-in field", 2),
    ([["a", "好", "g"], ["a b", "坏短码", "g"]], "invalid short code", 3),
])
def test_xlsx_malformed_rows(lib, tmp_path, rows, match, row):
    assert_rejected(lib, write_xlsx(tmp_path / "bad.xlsx", rows), match=match, row=row)


def test_xlsx_without_header(lib, tmp_path):
    assert_rejected(lib, write_xlsx(tmp_path / "nohdr.xlsx", [["a", "b", "c"]], header=["编码", "内容", "分组"]),
                    match="no Qianniu quick-phrase header", row=1)


def test_xlsx_too_many_rows(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(transfer.common, "MAX_ROWS", 3)
    assert_rejected(lib, write_xlsx(tmp_path / "many.xlsx", [[f"r{i}", f"第{i}条", "g"] for i in range(4)]),
                    match="more than 3")


# ---------------------------------------------------------------- duplicates


def test_duplicates_skipped(lib, tmp_path):
    path = write_csv(tmp_path / "d.csv", [
        ["WH1", "换了内容但短码相同（大小写不同）", "新组"],  # code clash, case-insensitive
        ["", "已经给您催仓库了，今天一定发出", "售后"],  # same group + text
        ["", "已经给您催仓库了，今天一定发出", "别的组"],  # same text, other group: fine
        ["n1", "新的一条", "新组"],
        ["N1", "同文件里短码重复", "新组"],  # duplicate within the file
        ["n2", "新的一条", "新组"],  # same group+text as row 5 of the file
    ])
    before = dump(lib)
    plan = transfer.plan_import(lib, path)
    assert dump(lib) == before
    assert [i.row for i in plan.to_add] == [4, 5]
    assert [i.row for i in plan.skipped] == [2, 3, 6, 7]
    by_row = {i.row: i for i in plan.skipped}
    assert by_row[2].existing is not None and by_row[2].existing.code == "wh1"
    assert "wh1" not in by_row[2].reason_en and "WH1" in by_row[2].reason_en
    assert by_row[3].existing is not None and by_row[3].existing.group_path == "售后"
    assert by_row[6].existing is None and "row 5" in by_row[6].reason_en and "第 5 行" in by_row[6].reason_zh
    assert "row 5" in by_row[7].reason_en
    result = transfer.import_file(lib, path)
    assert (result.added, result.replaced, result.skipped) == (2, 0, 4)
    assert [i.row for i in result.skipped_items] == [2, 3, 6, 7]
    assert replies.get_reply(lib, "wh1").body == "亲，欢迎光临～有什么可以帮您？"


def test_duplicates_replaced(lib, tmp_path):
    old = replies.get_reply(lib, "wh1")
    old_title = replies.get_reply(lib, "hd1").title
    path = write_csv(tmp_path / "r.csv", [
        ["wh1", "新的欢迎语\n第二行", "新组"],
        ["hd1", "{客户}您好，{商品}今天有活动哦", "售前"],  # same text: the agent's own title stays
        ["wh1", "同一条又被替换一次", "新组"],
    ])
    plan = transfer.plan_import(lib, path, replace=True)
    assert [i.row for i in plan.to_replace] == [2, 3]
    assert plan.to_replace[0].existing.uuid == old.uuid
    assert plan.to_replace[0].reason_en.startswith("replaces:")
    assert [i.row for i in plan.skipped] == [4]
    result = transfer.import_file(lib, path, replace=True)
    assert (result.added, result.replaced, result.skipped) == (0, 2, 1)
    new = replies.get_reply(lib, "wh1")
    assert new.uuid == old.uuid and new.id == old.id
    assert new.body == "新的欢迎语\n第二行" and new.title == "新的欢迎语" and new.group_path == "新组"
    assert new.use_count == 1 and new.hotkey == "Ctrl+Alt+1"
    assert replies.get_reply(lib, "hd1").title == old_title
    assert replies.count_replies(lib) == 3


def test_replace_refused_when_code_belongs_to_another(lib, tmp_path):
    """Same uuid as one reply, but the file gives it the short code of another: not replaced."""
    transfer.export_file(lib, tmp_path / "lib.json")
    doc = json.loads((tmp_path / "lib.json").read_text(encoding="utf-8"))
    doc["replies"] = [dict(r, code="hd1", body="改") for r in doc["replies"] if r["code"] == "wh1"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    plan = transfer.plan_import(lib, path, replace=True)
    assert not plan.to_replace and len(plan.skipped) == 1
    assert "belongs to another reply" in plan.skipped[0].reason_en
    before = dump(lib)
    transfer.import_file(lib, path, replace=True)
    assert dump(lib) == before


def test_plan_import_writes_nothing(lib, tmp_path):
    path = write_csv(tmp_path / "p.csv", [["wh1", "改", "新组A"], ["z1", "全新", "新组B"]])
    before = dump(lib)
    for replace in (False, True):
        plan = transfer.plan_import(lib, path, replace=replace)
        assert dump(lib) == before
        assert plan.new_groups == (["新组A", "新组B"] if replace else ["新组B"])
    assert lib.conn.in_transaction is False


def test_read_file_needs_no_store(tmp_path):
    path = write_csv(tmp_path / "p.csv", [["a", "一", "g"], ["A", "重复", "g"], ["b", "二", ""]])
    plan = transfer.read_file(path)
    assert plan.format == "qianniu-csv" and plan.total == 3
    assert [(i.row, i.code, i.group_path, i.title) for i in plan.to_add] == [(2, "a", "g", "一"),
                                                                          (4, "b", "未分组", "二")]
    assert [i.row for i in plan.skipped] == [3]


# ---------------------------------------------------------------- export and round trips


TRICKY = ["=1+1", "+SUM(A1:A2)", "-2", "@cmd|' /C calc'!A0", "\t制表符开头", "\n换行开头的内容",
          "'=已有撇号", "''-两个撇号", "'普通撇号", "含有,逗号和\"引号\"", "多行\n第二行\n\n第四行",
          "{客户}您好，满{{100}}减10", "  前后空格  ", "字面的实体 &#44; &#13;&#10; &#38; &#x;"]


@pytest.fixture
def tricky_lib(db):
    replies.create_group(db, "售前")
    replies.create_group(db, "问候", parent="售前")
    for i, body in enumerate(TRICKY):
        group = ["售前/问候", "售前", "=危险分组", "售后"][i % 4]
        code = [f"-neg{i}", f"-{i}x", None, f"c{i}"][i % 4]
        replies.create_reply(db, body=body, group=group, code=code)
    return db


def test_csv_export_format(tricky_lib, tmp_path):
    path = tmp_path / "out.csv"
    assert transfer.export_file(tricky_lib, path) == len(TRICKY)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == HEADER.split(",")
    assert raw.count(b"\r\n") == len(rows)  # record ends are CRLF (newlines inside cells stay LF)
    for row in rows[1:]:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r", "\n"), row
    cells = {c for row in rows[1:] for c in row}
    assert {"'=1+1", "'+SUM(A1:A2)", "'-2", "'\t制表符开头", "''=已有撇号", "'''-两个撇号", "'普通撇号",
            "'-neg0", "'-1x", "'=危险分组", "售前-问候"} <= cells


SPLIT = ["abc;=1+1", "运费;+5元", "折扣\t-10", "a,@cmd", '引号;"=HYPERLINK(1)', "撇号;'=已有", "多行\n=第二行",
         "普通;文字", "减号 - 不动"]


def test_csv_export_safe_where_excel_splits_at_semicolons(db, fresh, tmp_path):
    # Excel in a ";"-separator locale (ru, es) splits every line at ";" - and at tabs, commas and
    # line breaks in other set-ups - ignoring quotes that do not open a field: no piece may start
    # (past any quotes) with a formula character.
    for body in SPLIT:
        replies.create_reply(db, body=body, group="g")
    path = tmp_path / "out.csv"
    transfer.export_file(db, path)
    text = path.read_text(encoding="utf-8-sig")
    pieces = re.split(r"[,;\t\r\n]", text)
    assert [p for p in pieces if p.lstrip('"')[:1] in ("=", "+", "-", "@")] == []
    assert "普通;文字" in text and "减号 - 不动" in text  # nothing else changes
    transfer.import_file(fresh, path)  # our own import takes exactly those apostrophes away again
    assert sorted(r.body for r in replies.list_replies(fresh)) == sorted(SPLIT)


def test_xlsx_export_is_text_only(tricky_lib, tmp_path):
    path = tmp_path / "out.xlsx"
    transfer.export_file(tricky_lib, path)
    wb = openpyxl.load_workbook(path)  # not read-only: data_type is reliable
    ws = wb.active
    assert [c.value for c in ws[1]] == HEADER.split(",")
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.value is None:
                continue
            assert cell.data_type == "s", (cell.coordinate, cell.value)
            # a text a spreadsheet would run is kept as written, with the quotePrefix style (no visible ')
            assert bool(cell.quotePrefix) == (transfer.neutralise(cell.value) != cell.value), (cell.coordinate,
                                                                                               cell.value)
            if str(cell.value)[:1] in ("=", "+", "-", "@", "\t", "\r", "\n"):
                assert cell.quotePrefix, (cell.coordinate, cell.value)
    values = {c.value for row in ws.iter_rows(min_row=2) for c in row}
    assert "=1+1" in values and "@cmd|' /C calc'!A0" in values and "'=已有撇号" in values
    assert "'=1+1" not in values


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_qianniu_round_trip_into_fresh_store(tricky_lib, fresh, tmp_path, ext):
    path = tmp_path / f"out.{ext}"
    transfer.export_file(tricky_lib, path)
    result = transfer.import_file(fresh, path)
    assert (result.added, result.skipped) == (len(TRICKY), 0)
    # Qianniu groups are flat: "售前/问候" comes back as the top-level group "售前-问候"
    expected = [(g.replace("/", "-"), b, c, t) for g, b, c, t in reply_view(tricky_lib)]
    assert reply_view(fresh) == sorted(expected, key=lambda t: (t[0], t[1]))


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_qianniu_reimport_into_same_store(tricky_lib, tmp_path, ext):
    """Re-importing our own export finds every reply again (the flattened "售前-问候" maps back)."""
    path = tmp_path / f"out.{ext}"
    transfer.export_file(tricky_lib, path)
    before = full_view(tricky_lib)
    plan = transfer.plan_import(tricky_lib, path)
    assert not plan.to_add and len(plan.skipped) == len(TRICKY) and not plan.new_groups
    assert {i.group_path for i in plan.skipped} == {"售前/问候", "售前", "=危险分组", "售后"}
    result = transfer.import_file(tricky_lib, path, replace=True)
    assert result.replaced == len(TRICKY)
    # replacing with identical content changes nothing but updated_at
    after = full_view(tricky_lib)
    assert after[0] == before[0]
    assert [dict(r, updated_at=None) for r in after[1]] == [dict(r, updated_at=None) for r in before[1]]


def test_titles_are_lost_in_qianniu_formats(lib, fresh, tmp_path):
    transfer.export_file(lib, tmp_path / "out.csv")
    transfer.import_file(fresh, tmp_path / "out.csv")
    assert replies.get_reply(fresh, "hd1").title == "{客户}您好，{商品}今天有活动哦"[:20]


def test_json_round_trip_is_lossless(db, fresh, tmp_path):
    clock = db.clock
    replies.create_group(db, "售前")
    replies.create_group(db, "问候", parent="售前")
    replies.create_group(db, "空分组")
    a = replies.create_reply(db, body="欢迎～{客户}", title="欢迎", group="售前/问候", code="wh1",
                             hotkey="Ctrl+Alt+1", platforms=["taobao", "jd"], language="zh")
    clock.advance(timedelta(minutes=5))
    b = replies.create_reply(db, body="Hello {customer}!", title="Hi", group="售前", language="en", angle="ask")
    clock.advance(timedelta(minutes=5))
    c = replies.create_reply(db, body="中间的会被删掉", group="售前")
    d = replies.create_reply(db, body="多行\n内容", group="售前", code="-x")
    replies.create_reply(db, body="同组同内容", title="一", group="售后")
    replies.create_reply(db, body="同组同内容", title="二", group="售后")
    replies.delete_reply(db, c.uuid)  # leaves a gap in the positions
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        replies.record_use(db, a.uuid)
    replies.update_reply(db, b.uuid, title="Hi there")
    assert d.position == 2
    path = tmp_path / "lib.json"
    assert transfer.export_file(db, path) == 5
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "kefu-assistant.replies" and doc["version"] == 1
    assert set(doc["replies"][0]) == {"uuid", "group", "title", "body", "code", "language", "platforms", "hotkey",
                                      "angle", "position", "created_at", "updated_at", "use_count", "last_used_at"}
    fresh.clock.advance(timedelta(days=30))
    result = transfer.import_file(fresh, path)
    assert (result.added, result.skipped, result.warnings) == (5, 0, [])
    assert full_view(fresh) == full_view(db)
    # and once more: everything is a duplicate by uuid
    again = transfer.import_file(fresh, path)
    assert (again.added, again.skipped) == (0, 5)
    assert "same id" in again.skipped_items[0].reason_en


def test_json_into_non_empty_store_and_replace(lib, fresh, tmp_path):
    transfer.export_file(lib, tmp_path / "lib.json")
    src = full_view(lib)
    # fresh store with its own group "售前": the file's "售前" merges into it
    replies.create_reply(fresh, body="本地已有", group="售前")
    transfer.import_file(fresh, tmp_path / "lib.json")
    assert len(replies.list_groups(fresh)) == 3
    assert replies.count_replies(fresh) == 4
    # edit the file: same uuid, new text -> skipped, or replaced keeping the uuid
    doc = json.loads((tmp_path / "lib.json").read_text(encoding="utf-8"))
    doc["replies"][0]["body"] = "改过的欢迎语"
    doc["replies"][0]["title"] = "改过"
    (tmp_path / "edited.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert transfer.import_file(lib, tmp_path / "edited.json").skipped == 3
    assert full_view(lib) == src
    result = transfer.import_file(lib, tmp_path / "edited.json", replace=True)
    assert result.replaced == 3
    r = replies.get_reply(lib, doc["replies"][0]["uuid"])
    assert (r.body, r.title, r.use_count) == ("改过的欢迎语", "改过", doc["replies"][0]["use_count"])


def test_json_hotkey_clash_is_dropped_not_fatal(lib, tmp_path):
    transfer.export_file(lib, tmp_path / "lib.json")
    doc = json.loads((tmp_path / "lib.json").read_text(encoding="utf-8"))
    (with_hotkey,) = [r for r in doc["replies"] if r["hotkey"]]
    new = dict(with_hotkey, uuid="0b5c8f2e-1111-4222-8333-444455556666", code="other", body="另一条")
    new2 = dict(new, uuid="0b5c8f2e-1111-4222-8333-444455556667", code="other2", body="第三条", hotkey="Ctrl+Alt+F9")
    new3 = dict(new2, uuid="0b5c8f2e-1111-4222-8333-444455556668", code="other3", body="第四条")
    doc["replies"] = [new, new2, new3]
    (tmp_path / "hk.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    plan = transfer.plan_import(lib, tmp_path / "hk.json")
    assert len(plan.to_add) == 3 and [i.code for i in plan.warnings] == ["other", "other3"]
    assert "Ctrl+Alt+1" in plan.warnings[0].warning_en and "Ctrl+Alt+1" in plan.warnings[0].warning_zh
    assert "replies[1]" in plan.warnings[1].warning_zh and "replies[1]" in plan.warnings[1].warning_en
    result = transfer.import_file(lib, tmp_path / "hk.json")
    assert result.added == 3 and len(result.warnings) == 2
    assert replies.get_reply(lib, "other").hotkey is None
    assert replies.get_reply(lib, "other2").hotkey == "Ctrl+Alt+F9"
    assert replies.get_reply(lib, "other3").hotkey is None
    assert replies.get_reply(lib, "wh1").hotkey == "Ctrl+Alt+1"


def test_json_hotkey_clash_with_global_action(db, tmp_path):
    replies.create_reply(db, body="x", code="x1", hotkey="Ctrl+Alt+2")
    transfer.export_file(db, tmp_path / "a.json")
    other = open_store(tmp_path / "other.db", _clock())
    actions = app_settings.get(other, "hotkeys.actions")
    app_settings.set(other, "hotkeys.actions", {**actions, "focus_search": "Ctrl+Alt+2"})
    result = transfer.import_file(other, tmp_path / "a.json")
    assert result.added == 1 and "Focus the search box" in result.warnings[0].warning_en
    assert replies.get_reply(other, "x1").hotkey is None
    other.close()


def test_shipped_library_format(db, tmp_path):
    path = resource_path("library", "default.json")
    expected = replies.load_library_file(path)
    result = transfer.import_file(db, path)
    assert result.added == len(expected) and result.skipped == 0
    first_path, first = expected[0]
    reply = replies.get_reply(db, first["code"])
    assert reply.group_path == "/".join(first_path) and reply.title == first["title"]
    assert transfer.import_file(db, path).skipped == len(expected)


# ---------------------------------------------------------------- malformed JSON


def _valid_doc() -> dict:
    return replies_doc(3, "售前", "c")


def _json_file(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_valid_doc_is_valid(db, tmp_path):
    assert transfer.import_file(db, _json_file(tmp_path, _valid_doc())).added == 3


def _mut(path: str, value: object, delete: bool = False):
    def apply(doc: dict) -> dict:
        keys = path.split(".")
        obj = doc
        for k in keys[:-1]:
            obj = obj[int(k)] if k.isdigit() else obj[k]
        last = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
        if delete:
            del obj[last]
        else:
            obj[last] = value
        return doc
    return apply


@pytest.mark.parametrize("mutate,match,row", [
    (_mut("format", "something.else"), "Not a kefu-assistant replies file", None),
    (_mut("format", None, delete=True), "Not a kefu-assistant replies file", None),
    (_mut("version", 2), "unsupported version 2", None),
    (_mut("version", "1"), "must be an integer", None),
    (_mut("version", True), "must be an integer", None),
    (_mut("exported_at", None, delete=True), "$.exported_at: is missing", None),
    (_mut("groups", {}), "must be a list", None),
    (_mut("replies", None, delete=True), "$.replies: is missing", None),
    (_mut("replies", []), "no quick replies", None),
    (_mut("replies.1.title", None, delete=True), "replies[1].title: is missing", 1),
    (_mut("replies.2.position", "3"), "replies[2].position: must be an integer", 2),
    (_mut("replies.2.position", 1.5), "replies[2].position: must be an integer", 2),
    (_mut("replies.0.use_count", True), "replies[0].use_count: must be an integer", 0),
    (_mut("replies.0.use_count", -1), "negative", 0),
    (_mut("replies.0.platforms", "taobao,jd"), "replies[0].platforms: must be a list", 0),
    (_mut("replies.0.platforms", ["淘宝"]), "invalid platform tag", 0),
    (_mut("replies.0.code", 5), "replies[0].code: must be a string or null", 0),
    (_mut("replies.0.code", "有 空格"), "invalid short code", 0),
    (_mut("replies.1.hotkey", "Ctrl+V"), "replies[1]: Invalid hotkey", 1),
    (_mut("replies.1.hotkey", "Ctrl+Alt+Nope"), "Invalid hotkey", 1),
    (_mut("replies.1.angle", "flattery"), "invalid chase angle", 1),
    (_mut("replies.1.language", "chinese!"), "invalid language code", 1),
    (_mut("replies.1.body", "{坏字段}"), "Unknown fill-in field", 1),
    (_mut("replies.1.body", "a\u0000b"), "NUL", 1),
    (_mut("replies.1.body", ""), "text is empty", 1),
    (_mut("replies.1.body", "长" * (replies.MAX_BODY + 1)), "too long", 1),
    (_mut("replies.1.uuid", "not-a-uuid"), "not a valid lower-case UUID", 1),
    (_mut("replies.1.group", "33333333-3333-4333-8333-333333333333"), "not in the file's groups", 1),
    (_mut("replies.1.created_at", "yesterday"), "ISO 8601", 1),
    (_mut("replies.1.updated_at", "2026-11-10T06:00:00"), "time zone", 1),
    (_mut("replies.1.last_used_at", 12), "must be a string or null", 1),
    (_mut("replies.1", "not an object"), "replies[1]: must be an object", 1),
    (_mut("groups.0.name", "售前/问候"), "cannot contain '/'", None),
    (_mut("groups.0.name", "  "), "cannot be empty", None),
    (_mut("groups.0.parent", "44444444-4444-4444-8444-444444444444"), "not in the file", None),
    (_mut("groups.0.uuid", None, delete=True), "groups[0].uuid: is missing", None),
])
def test_json_malformed(lib, tmp_path, mutate, match, row):
    exc = assert_rejected(lib, _json_file(tmp_path, mutate(_valid_doc())), match=match)
    assert exc.row == row


def test_json_group_nesting_and_duplicates(lib, tmp_path):
    doc = _valid_doc()
    g = doc["groups"][0]["uuid"]
    child = {"uuid": "55555555-5555-4555-8555-555555555555", "name": "子", "parent": g, "position": 1}
    grandchild = {"uuid": "66666666-6666-4666-8666-666666666666", "name": "孙", "parent": child["uuid"],
                  "position": 2}
    doc["groups"] += [child, grandchild]
    assert_rejected(lib, _json_file(tmp_path, doc), match="nest one level only")
    doc = _valid_doc()
    doc["groups"].append(dict(doc["groups"][0], uuid="77777777-7777-4777-8777-777777777777"))
    assert_rejected(lib, _json_file(tmp_path, doc), match="two groups named")
    doc = _valid_doc()
    doc["groups"].append(dict(doc["groups"][0]))
    assert_rejected(lib, _json_file(tmp_path, doc), match="duplicate group id")


@pytest.mark.parametrize("content,match", [
    (b'{"format": "kefu-assistant.replies", "version": 1, "replies": [{"uuid": "', "truncated"),
    (b"[1, 2, 3]", "top level must be an object"),
    (b"null", "top level must be an object"),
    (b"  \n ", "no quick replies"),
    (b"\xff\xfe{\x00}\x00", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"format": "kefu-assistant.replies", "version": NaN}', "must be an integer"),
    ("快捷短语编码,快捷短语\r\n".encode(), "Not a valid JSON"),
])
def test_json_unreadable(lib, tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert_rejected(lib, path, match=match)


def test_json_too_many_replies(lib, tmp_path, monkeypatch):
    monkeypatch.setattr(transfer.common, "MAX_ROWS", 2)
    assert_rejected(lib, _json_file(tmp_path, _valid_doc()), match="more than 2")


def test_json_within_file_duplicate_uuid_and_code(db, tmp_path):
    doc = _valid_doc()
    doc["replies"][1]["uuid"] = doc["replies"][0]["uuid"]
    doc["replies"][2]["code"] = "C0"
    result = transfer.import_file(db, _json_file(tmp_path, doc))
    assert result.added == 1
    assert [(i.where_en, "replies[0]" in i.reason_en) for i in result.skipped_items] == [
        ("replies[1]", True), ("replies[2]", True)]


def test_library_format_malformed(lib, tmp_path):
    doc = {"format": "kefu-assistant.library", "version": 1,
           "groups": [{"name": "售前", "replies": [{"title": "a", "body": "好"}, {"title": 5, "body": "坏"}]}]}
    assert_rejected(lib, _json_file(tmp_path, doc), match="groups[0].replies[1].title: must be a string")


# ---------------------------------------------------------------- progress, export options


def test_progress_callback(db, tmp_path):
    path = write_csv(tmp_path / "p.csv", [[f"p{i}", f"第{i}条", f"组{i % 7}"] for i in range(1234)])
    for call in (transfer.plan_import, transfer.import_file):
        seen: list[tuple[int, int]] = []
        call(db, path, progress=lambda done, total, seen=seen: seen.append((done, total)))
        assert seen[0] == (0, 1234) and seen[-1] == (1234, 1234)
        assert len(seen) <= 102
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    seen = []
    assert transfer.export_file(db, tmp_path / "out.csv", progress=lambda d, t: seen.append((d, t))) == 1234
    assert seen[-1] == (1234, 1234) and len(seen) <= 102


def test_export_group_filter(lib, tmp_path):
    assert transfer.export_file(lib, tmp_path / "g.csv", group="售前") == 2  # with its sub-group
    assert transfer.export_file(lib, tmp_path / "g.json", group="售前/问候") == 1
    doc = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    assert {g["name"] for g in doc["groups"]} == {"售前", "问候"}  # the parent comes along


def test_export_explicit_format_and_bad_names(lib, tmp_path):
    assert transfer.export_file(lib, tmp_path / "data.txt", format="qianniu-csv") == 3
    assert transfer.detect_format(tmp_path / "data.txt") == "qianniu-csv"
    with pytest.raises(KnownError, match="use .csv, .xlsx or .json"):
        transfer.export_file(lib, tmp_path / "data.txt")
    with pytest.raises(KnownError, match="Unknown format"):
        transfer.export_file(lib, tmp_path / "x.csv", format="xls")
    target = tmp_path / "dir.csv"
    target.mkdir()
    with pytest.raises(KnownError, match="Cannot write"):
        transfer.export_file(lib, target)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_xlsx_export_drops_control_characters(db, tmp_path, fresh):
    replies.create_reply(db, body="响铃\x07字符", code="bel")
    transfer.export_file(db, tmp_path / "c.xlsx")
    transfer.import_file(fresh, tmp_path / "c.xlsx")
    assert replies.get_reply(fresh, "bel").body == "响铃字符"


def test_export_empty_library(db, fresh, tmp_path):
    for ext in ("csv", "xlsx", "json"):
        assert transfer.export_file(db, tmp_path / f"e.{ext}") == 0
        with pytest.raises(ImportFileError, match="no quick replies"):
            transfer.import_file(fresh, tmp_path / f"e.{ext}")


# ---------------------------------------------------------------- properties


@given(st.text())
def test_neutralise_is_reversible_and_safe(text):
    safe = transfer.neutralise(text)
    assert transfer.unneutralise(safe) == text
    assert safe[:1] not in ("=", "+", "-", "@", "\t", "\r", "\n")


_TOKENS = ["\n", "\t", "'", "=", "-", "+", "@", ",", ";", '"', "&#13;", "&#10;", "&#44;", "&#38;", "&#", "{{", "}}"]
_body_text = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="{}"), max_size=8)
    | st.sampled_from(_TOKENS), min_size=1, max_size=10,
).map("".join).filter(lambda s: s.strip() and "\r" not in s and len(s) <= 200)


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_text_that_looks_like_an_ooxml_escape_round_trips(tmp_path, ext):
    """Found by the property test below: a reply saying "_x000D_" came back empty from XLSX (read as
    Excel's carriage-return escape). Our export escapes it; the import reads Excel's own escapes."""
    src, dst = open_store(tmp_path / "a.db", _clock()), open_store(tmp_path / "b.db", _clock())
    try:
        for body in ("_x000D_", "a_x0041_b", "行一_x000D_行二", "_x005F_", "x_x000D_\n_x000D_y"):
            replies.create_reply(src, body=body, group="g")
        transfer.export_file(src, tmp_path / f"x.{ext}")
        transfer.import_file(dst, tmp_path / f"x.{ext}")
        assert reply_view(dst) == reply_view(src)
    finally:
        src.close()
        dst.close()


def test_excel_carriage_return_escapes_still_read_as_line_breaks():
    assert transfer._xlsx_cell("第一行_x000D_\n第二行_x000D_第三行") == "第一行\n第二行\n第三行"
    assert transfer._xlsx_cell("a_x005F_x000D_b") == "a_x000D_b"


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
@settings(max_examples=30, deadline=None)
@given(bodies=st.lists(_body_text, min_size=1, max_size=5, unique_by=lambda s: s.strip()))
def test_qianniu_round_trip_property(ext, bodies):
    with tempfile.TemporaryDirectory() as tmp:
        src = open_store(Path(tmp) / "a.db", _clock())
        dst = open_store(Path(tmp) / "b.db", _clock())
        try:
            for body in bodies:
                replies.create_reply(src, body=body, group="g")
            transfer.export_file(src, Path(tmp) / f"x.{ext}")
            transfer.import_file(dst, Path(tmp) / f"x.{ext}")
            assert reply_view(dst) == reply_view(src)
        finally:
            src.close()
            dst.close()


# ---------------------------------------------------------------- braces in Qianniu phrases


BRACES = [["p1", "限时{8折}，{客户}别错过", "促销"], ["p2", "尺码表见详情页 { 左上角", "售前"], ["p3", "普通的一条", "售前"]]


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_a_literal_brace_in_a_qianniu_phrase_stops_the_import_unless_kept(db, tmp_path, ext):
    path = (write_csv if ext == "csv" else write_xlsx)(tmp_path / f"q.{ext}", BRACES)
    before = dump(db)
    with pytest.raises(ImportBracesError) as err:
        transfer.import_file(db, path)
    assert err.value.row == 2 and "{8折}" in err.value.en and "8折" in err.value.zh
    assert dump(db) == before  # nothing written
    plan = transfer.plan_import(db, path, keep_braces=True)
    assert plan.braces_escaped == 2 and len(plan.to_add) == 3
    result = transfer.import_file(db, path, keep_braces=True)
    assert (result.added, result.braces_escaped) == (3, 2)
    one = replies.get_reply(db, "p1")
    assert one.body == "限时{{8折}}，{客户}别错过" and one.fields == ["客户"]  # the known field stays a field
    assert one.title == "限时{8折}，{客户}别错过"  # a title is plain text: as written
    assert templates.render(one.body, {"客户": "小王"}).text == "限时{8折}，小王别错过"  # pasted as written
    assert templates.render(replies.get_reply(db, "p2").body).text == "尺码表见详情页 { 左上角"
    # the editor still refuses an unknown field typed by hand
    with pytest.raises(ValidationError):
        replies.update_reply(db, "p3", body="写错的{字段}")
