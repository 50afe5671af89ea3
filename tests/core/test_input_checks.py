"""Inputs that used to end in a traceback (issue 11): each is now one line on stderr, a non-zero exit
and an unchanged store -- import files with values the store cannot hold, command-line arguments
that are not UTF-8, malformed JSON already stored in a row, a jieba cache that cannot be written,
hostile XLSX/zip/UTF-32 files."""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import types
import zipfile
from pathlib import Path

import openpyxl
import pytest

from assistant import cli
from assistant.core import checked, replies, search, transfer
from assistant.core.store import open_store
from assistant.errors import ImportFileError
from tests.helpers.stores import dump
from tests.helpers.stores import replies_doc as _replies_doc

HEADER = ["快捷短语编码", "快捷短语", "快捷短语分组"]


# ---------------------------------------------------------------- helpers




@pytest.fixture
def kefu(tmp_path, capsys):
    data = tmp_path / "data"

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = cli.main(["--data-dir", str(data), *args])
        except SystemExit as exc:  # argparse
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    run.data = data  # type: ignore[attr-defined]
    assert run("groups", "list")[0] == 0  # seeds the library
    return run


def assert_one_line_failure(code: int, err: str, exit_code: int) -> None:
    assert code == exit_code, (code, err)
    assert err.endswith("\n") and err.count("\n") == 1 and len(err.splitlines()) == 1, err
    assert "Traceback" not in err and err.startswith("Error: ")


def replies_doc() -> dict:
    return _replies_doc(2, "导入", "imp")


# ---------------------------------------------------------------- replies JSON import


@pytest.mark.parametrize("where,value,named", [
    ("replies.0.body", "前\ud800后", "replies[0].body"),
    ("replies.1.title", "\udcff", "replies[1].title"),
    ("groups.0.name", "组\udfff", "groups[0].name"),
    ("replies.0.use_count", 10 ** 25, "replies[0].use_count"),
    ("replies.0.use_count", 2 ** 63, "replies[0].use_count"),
    ("replies.1.position", 10 ** 20, "replies[1].position"),
    ("replies.1.position", 2 ** 62, "replies[1].position"),  # fits SQLite, but max(position)+1 would not
    ("groups.0.position", -(10 ** 20), "groups[0].position"),
    ("replies.0.created_at", "9999-12-31T23:59:59-05:00", "replies[0].created_at"),  # year 10000 in UTC
    ("replies.0.updated_at", "0001-01-01T00:00:00+05:00", "replies[0].updated_at"),  # year 0 in UTC
    ("replies.0.last_used_at", "0000-01-01T00:00:00Z", "replies[0].last_used_at"),
    ("replies.1.created_at", "10000-01-01T00:00:00Z", "replies[1].created_at"),
])
def test_replies_json_with_unstorable_values(kefu, tmp_path, where, value, named):
    doc = replies_doc()
    obj = doc
    keys = where.split(".")
    for k in keys[:-1]:
        obj = obj[int(k)] if k.isdigit() else obj[k]
    obj[keys[-1]] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")  # ensure_ascii: the surrogate as \ud800
    before = dump(kefu.data)
    for args in (("replies", "import", str(path)), ("replies", "import", str(path), "--dry-run")):
        code, out, err = kefu(*args)
        assert_one_line_failure(code, err, 5)
        assert named in err and out == ""
    assert dump(kefu.data) == before


def test_surrogate_in_a_key_is_refused(tmp_path):
    doc = replies_doc()
    doc["replies"][0]["\ud800"] = 1
    path = tmp_path / "key.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ImportFileError, match="cannot be stored"):
        transfer.read_file(path)


def test_paired_surrogates_are_just_an_emoji(kefu, tmp_path):
    doc = replies_doc()
    doc["replies"][0]["body"] = "好评 \U0001F44D"
    path = tmp_path / "emoji.json"
    path.write_text(json.dumps(doc), encoding="utf-8")  # written as \ud83d\udc4d: a valid pair
    code, _, err = kefu("replies", "import", str(path))
    assert code == 0, err
    code, out, _ = kefu("replies", "show", "imp0", "--json")
    assert json.loads(out)["body"] == "好评 \U0001F44D"


def test_checked_parse_time_range():
    assert checked.parse_time("9999-12-31T23:59:59Z").year == 9999
    assert checked.parse_time("0001-01-01T00:00:00Z").year == 1
    for bad in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+00:01", "0000-01-01T00:00:00Z",
                "2026-11-11T00:00:00", "前\ud800"):
        with pytest.raises(ValueError):
            checked.parse_time(bad)


# ---------------------------------------------------------------- handover JSON import


@pytest.fixture
def handover_file(kefu, tmp_path) -> Path:
    assert kefu("buyers", "star", "小王", "--platform", "taobao", "--note", "问了尺码")[0] == 0
    out = tmp_path / "out"
    code, _, err = kefu("handover", "export", "--dir", str(out), "--formats", "json")
    assert code == 0, err
    return next(out.glob("*.json"))


@pytest.mark.parametrize("mutate,named", [
    (lambda d: d["buyers"][0].__setitem__("nickname", "王\ud800"), "buyers[0].nickname"),
    (lambda d: d["buyers"][0].__setitem__("notes", "\udcff"), "buyers[0].notes"),
    (lambda d: d["buyers"][0].__setitem__("updated_at", "9999-12-31T23:00:00-05:00"), "buyers[0].updated_at"),
    (lambda d: d["buyers"][0].__setitem__("created_at", "0000-01-01T00:00:00.000000Z"), "buyers[0].created_at"),
    (lambda d: d["buyers"][0].__setitem__("starred_at", "0001-01-01T00:00:00+08:00"), "buyers[0].starred_at"),
    (lambda d: d.__setitem__("kpis", {"pastes": 10 ** 25}), "kpis.pastes"),
    (lambda d: d["buyers"][0]["reminders"][0].__setitem__("step", 10 ** 20), "buyers[0].reminders[0].step"),
])
def test_handover_json_with_unstorable_values(kefu, handover_file, tmp_path, mutate, named):
    doc = json.loads(handover_file.read_text(encoding="utf-8"))
    mutate(doc)
    bad = tmp_path / "bad-handover.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    before = dump(kefu.data)
    for args in (("handover", "import", str(bad)), ("handover", "import", str(bad), "--dry-run")):
        code, out, err = kefu(*args)
        assert_one_line_failure(code, err, 5)
        assert named in err
    assert dump(kefu.data) == before


# ---------------------------------------------------------------- command-line arguments


@pytest.mark.parametrize("args", [
    ("replies", "add", "--body", "\udcff"),
    ("replies", "add", "--body", "ok", "--title", "标题\udcfe"),
    ("replies", "add", "--body", "ok", "--group", "\udce4\udcb8"),
    ("replies", "edit", "1", "--body", "a\udcffb"),
    ("replies", "search", "\udcff"),
    ("groups", "add", "\udcff"),
    ("groups", "rename", "售前", "\udcff"),
    ("buyers", "star", "小王", "--note", "\udcff"),
    ("buyers", "star", "小王", "--shop", "店\udcff"),
    ("buyers", "star", "\udcff"),
    ("buyers", "note", "小王", "\udcff"),
    ("log", "add", "\udcff"),
    ("settings", "set", "agent.name", "\udcff"),
    ("promo", "add", "--name", "\udcff", "--start", "2026-11-11 00:00"),
    ("replies", "import", "/tmp/\udcff.csv"),
])
def test_arguments_that_are_not_utf8(kefu, args):
    before = dump(kefu.data)
    code, out, err = kefu(*args)
    assert_one_line_failure(code, err, 2)
    assert "UTF-8" in err and out == ""
    assert dump(kefu.data) == before


def test_argument_check_names_the_option(kefu):
    _, _, err = kefu("replies", "add", "--body", "\udcff")
    assert "--body" in err
    _, _, err = kefu("groups", "add", "\udcff")
    assert "argument 5" in err  # --data-dir DIR groups add NAME


def test_non_utf8_from_a_real_terminal(tmp_path):
    """The bytes as a shell passes them (Python decodes argv with surrogateescape)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "LC_ALL": "C.UTF-8"}
    proc = subprocess.run([sys.executable.encode(), b"-m", b"assistant", b"--data-dir", str(tmp_path).encode(),
                           b"replies", b"add", b"--body", b"\xff"], capture_output=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr and b"--body" in proc.stderr


def test_body_file_stdin_not_utf8(kefu, monkeypatch):
    before = dump(kefu.data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff\xfe\x00abc"), encoding="utf-8"))
    code, _, err = kefu("replies", "add", "--body-file", "-")
    assert_one_line_failure(code, err, 2)
    assert "stdin" in err and "UTF-8" in err
    assert dump(kefu.data) == before


def test_body_file_stdin_utf8_works(kefu, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\ufeff从标准输入".encode()), encoding="utf-8"))
    code, out, err = kefu("replies", "add", "--body-file", "-", "--json")
    assert code == 0, err
    assert json.loads(out)["body"] == "从标准输入"


@pytest.mark.parametrize("content", [b"\xff\xfe\x00\x00abc", b"\xc3\x28 GBK? \xd6\xd0\xce\xc4"])
def test_body_file_not_utf8(kefu, tmp_path, content):
    path = tmp_path / "body.txt"
    path.write_bytes(content)
    before = dump(kefu.data)
    code, _, err = kefu("replies", "add", "--body-file", str(path))
    assert_one_line_failure(code, err, 2)
    assert dump(kefu.data) == before


@pytest.mark.parametrize("args", [
    ("replies", "list", "--limit", "abc"),
    ("replies", "list", "--order", "sideways"),
    ("nosuch",),
    ("replies",),
    ("buyers", "outcome", "小王", "paid", "--minutes", "1e400"),
])
def test_usage_errors_are_one_line(kefu, args):
    code, out, err = kefu(*args)
    assert_one_line_failure(code, err, 2)
    assert "--help" in err


def test_data_dir_from_environment_not_utf8(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KEFU_HOME", str(tmp_path / "\udcff"))
    code = cli.main(["groups", "list"])
    err = capsys.readouterr().err
    assert_one_line_failure(code, err, 2)
    assert not (tmp_path / "\udcff").exists()


def test_error_text_quoting_a_line_break_stays_one_line(kefu, tmp_path):
    doc = replies_doc()
    doc["replies"][0]["language"] = "zh\nTraceback"
    path = tmp_path / "nl.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = kefu("replies", "import", str(path))
    assert code == 5 and err.count("\n") == 1 and len(err.splitlines()) == 1


# ---------------------------------------------------------------- malformed JSON stored in a row


def _corrupt(data: Path, sql: str, params: tuple = ()) -> None:
    conn = sqlite3.connect(data / "kefu.db")
    with conn:
        conn.execute(sql, params)
    conn.close()


@pytest.mark.parametrize("stored", ["{bad", "5", '{"a": 1}', "[1, 2]", '"taobao"', "[" * 100_000],
                         ids=["broken", "number", "object", "numbers", "string", "deep"])
def test_bad_platforms_value_reads_as_empty(kefu, stored):
    code, out, _ = kefu("replies", "add", "--body", "存储损坏测试", "--code", "badjson", "--platform", "taobao", "--json")
    rid = json.loads(out)["id"]
    _corrupt(kefu.data, "UPDATE replies SET platforms = ? WHERE id = ?", (stored, rid))
    for args in (("replies", "show", "badjson", "--json"), ("replies", "list", "--json"),
                 ("replies", "search", "存储损坏", "--json"), ("replies", "export", str(kefu.data / "x.json"))):
        code, out, err = kefu(*args)
        assert code == 0 and "Traceback" not in err, (args, err)
    code, out, _ = kefu("replies", "show", "badjson", "--json")
    assert json.loads(out)["platforms"] == []


def test_bad_stored_json_is_reported_once_without_content(tmp_path, caplog):
    checked.forget_reports()
    store = open_store(tmp_path / "kefu.db")
    try:
        reply = replies.create_reply(store, body="手机 13812345678 的买家", platforms=["jd"])
        store.conn.execute("UPDATE replies SET platforms = '{13812345678' WHERE id = ?", (reply.id,))
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                assert replies.get_reply(store, reply.id).platforms == []
            replies.list_replies(store)
        records = [r for r in caplog.records if "replies.platforms" in r.getMessage()]
        assert len(records) == 1
        assert str(reply.id) in records[0].getMessage() and "13812345678" not in caplog.text
    finally:
        store.close()


def test_bad_chase_warnings_value(kefu):
    assert kefu("buyers", "star", "小李", "--platform", "jd")[0] == 0
    conn = sqlite3.connect(kefu.data / "kefu.db")
    with conn:
        buyer = conn.execute("SELECT id FROM buyers").fetchone()[0]
        reply = conn.execute("SELECT id FROM replies WHERE angle IS NOT NULL LIMIT 1").fetchone()[0]
        conn.execute("INSERT INTO chases (buyer_id, reply_id, angle, sent_at, warnings) "
                     "VALUES (?, ?, 'price', '2026-11-10T06:00:00.000000Z', '[bad')", (buyer, reply))
    conn.close()
    for args in (("buyers", "show", "小李"), ("buyers", "show", "小李", "--json"), ("due",)):
        code, _, err = kefu(*args)
        assert code == 0 and "Traceback" not in err, (args, err)


# ---------------------------------------------------------------- jieba's cache on a full disk


def test_jieba_cache_write_failure_leaves_nothing(tmp_path, monkeypatch, caplog):
    import errno

    import jieba

    def full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    cache = tmp_path / "cache"
    monkeypatch.setattr(search.marshal, "dump", full)
    fake = types.SimpleNamespace(dt=jieba.Tokenizer())
    with caplog.at_level(logging.WARNING, logger="assistant.core.search"):
        search._init_jieba(fake, cache)
    assert fake.dt.initialized and fake.dt.total > 0  # jieba works, without a cache
    assert list(cache.iterdir()) == []  # no temp file left
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "No space left" in lines[0] and not any(r.exc_info for r in caplog.records)


def test_jieba_cache_on_a_disk_that_fills_up(tmp_path):
    """A real failing write: the file-size limit stops the 1.6 MB cache at 64 KB (EFBIG, as a full disk
    gives ENOSPC). Before: jieba printed a traceback and left its 64 KB temp file."""
    script = textwrap.dedent(f"""
        import logging, resource, signal, sys
        from pathlib import Path
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        from assistant.core import search
        search._load_analyzers(Path({str(tmp_path / "cache")!r}))
        import jieba
        print(jieba.lcut("今天发货吗"))
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # two lines: the word lexicon (core/lexicon.py) cannot be built, then jieba's own cache in the fallback
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 2, proc.stderr
    assert "word lexicon unavailable" in proc.stderr and "cannot write jieba's cache" in proc.stderr
    assert "发货" in proc.stdout
    assert [p.name for p in (tmp_path / "cache").iterdir()] == []


def test_jieba_cache_is_written_and_read_back(tmp_path):
    import jieba

    cache = tmp_path / "cache"
    first = types.SimpleNamespace(dt=jieba.Tokenizer())
    search._init_jieba(first, cache)
    assert [p.name for p in cache.iterdir()] == ["jieba.cache"]
    assert (cache / "jieba.cache").stat().st_mode & 0o777 == 0o600
    second = types.SimpleNamespace(dt=jieba.Tokenizer())
    search._init_jieba(second, cache)
    assert second.dt.total == first.dt.total
    (cache / "jieba.cache").write_bytes(b"garbage")
    third = types.SimpleNamespace(dt=jieba.Tokenizer())
    search._init_jieba(third, cache)  # unreadable cache: rebuilt
    assert third.dt.total == first.dt.total


# ---------------------------------------------------------------- XLSX, zip and encodings


def _xlsx(path: Path, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_zip_with_too_many_entries_says_so(kefu, tmp_path):
    good = _xlsx(tmp_path / "good.xlsx", [["a", "你好", "g"]]).read_bytes()
    path = tmp_path / "many.xlsx"
    src = zipfile.ZipFile(io.BytesIO(good))
    with zipfile.ZipFile(path, "w") as z:
        for info in src.infolist():
            z.writestr(info.filename, src.read(info.filename))
        for i in range(10_051 - len(src.infolist())):
            z.writestr(f"pad/{i}", b"")
    before = dump(kefu.data)
    code, _, err = kefu("replies", "import", str(path), "--dry-run")
    assert_one_line_failure(code, err, 5)
    assert "10,051" in err and "0 MB" not in err
    assert dump(kefu.data) == before


def test_utf32_is_not_called_utf16(kefu, tmp_path):
    for name, data in (("le.csv", ("\ufeff" + ",".join(HEADER) + "\r\na,你好,g\r\n").encode("utf-32-le")),
                       ("be.csv", ("\ufeff" + ",".join(HEADER) + "\r\na,你好,g\r\n").encode("utf-32-be"))):
        path = tmp_path / name
        path.write_bytes(data)
        code, _, err = kefu("replies", "import", str(path))
        assert_one_line_failure(code, err, 5)
        assert "UTF-32" in err and "UTF-16" not in err
    path = tmp_path / "16.csv"
    path.write_bytes(("\ufeff" + ",".join(HEADER)).encode("utf-16-le"))
    assert "UTF-16" in kefu("replies", "import", str(path))[2]


def test_openpyxl_message_becomes_one_short_line(kefu, tmp_path, monkeypatch):
    import openpyxl as lib

    def broken(*_a, **_k):
        raise ValueError("Unable to read workbook: could not read stylesheet from None.\n"
                         "This is most probably because the workbook source files contain some invalid XML.\n"
                         + "<styleSheet " * 200)

    monkeypatch.setattr(lib, "load_workbook", broken)
    path = _xlsx(tmp_path / "evil.xlsx", [["a", "你好", "g"]])
    code, _, err = kefu("replies", "import", str(path))
    assert_one_line_failure(code, err, 5)
    assert len(err) < 400 and err.count("<styleSheet") <= 4
    with pytest.raises(ImportFileError) as info:
        transfer.read_file(path)
    assert "\n" not in info.value.en and "\n" not in info.value.zh


def test_malicious_sheet_xml_is_one_line(kefu, tmp_path):
    good = _xlsx(tmp_path / "good.xlsx", [["a", "你好", "g"]]).read_bytes()
    src = zipfile.ZipFile(io.BytesIO(good))
    path = tmp_path / "evil.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/styles.xml":
                body = b"<?xml version='1.0'?>\n<styleSheet>\n<numFmts count='x'>\n" + b"<numFmt/>\n" * 50
            z.writestr(info.filename, body)
    code, _, err = kefu("replies", "import", str(path))
    assert_one_line_failure(code, err, 5)


def test_one_cell_at_the_last_row_is_not_a_million_rows(tmp_path, monkeypatch):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.cell(row=1_048_576, column=2, value="最后一行的短语")
    path = tmp_path / "far.xlsx"
    wb.save(path)
    assert path.stat().st_size < 10_000
    calls = 0
    real = transfer.qianniu._xlsx_cell

    def counting(value):
        nonlocal calls
        calls += 1
        if calls > 10_000:  # before: 64 cells x 1,048,576 rows converted (~15 s of CPU)
            raise AssertionError("the filler rows are converted cell by cell")
        return real(value)

    monkeypatch.setattr(transfer.qianniu, "_xlsx_cell", counting)
    plan = transfer.read_file(path)
    assert [(i.row, i.body) for i in plan.items] == [(1_048_576, "最后一行的短语")]
    assert calls <= 2 * transfer.XLSX_MAX_COLUMNS


@pytest.mark.parametrize("args", [
    ("replies", "edit", "10" * 30, "--body", "x"),
    ("replies", "search", "快递", "--limit", "10" * 30),
    ("replies", "list", "--limit", "10" * 30),
    ("due", "--within", "1" * 40 + "m"),
    ("buyers", "list", "--limit", "10" * 30),  # SQLite "datatype mismatch", exit 3, before
    ("due", "--limit", "10" * 30),
    ("buyers", "outcome", "小王", "snooze", "--minutes", "10" * 30),
    ("backup", "--keep", "10" * 30),  # accepted before
])
def test_numbers_beyond_64_bits_in_arguments(kefu, args):
    """Found by the fuzz test: SQLite and timedelta raised OverflowError (a traceback)."""
    before = dump(kefu.data)
    code, _, err = kefu(*args)
    assert_one_line_failure(code, err, 2)
    assert dump(kefu.data) == before


def test_zip_of_an_unknown_version(kefu, tmp_path):
    """Found by the fuzz test: zipfile raises NotImplementedError ("zip file version 23.5")."""
    raw = bytearray(_xlsx(tmp_path / "good.xlsx", [["a", "你好", "g"]]).read_bytes())
    at = raw.find(b"PK\x01\x02")
    raw[at + 6:at + 8] = (235).to_bytes(2, "little")  # "version needed to extract" of the first entry
    path = tmp_path / "v235.xlsx"
    path.write_bytes(bytes(raw))
    code, _, err = kefu("replies", "import", str(path))
    assert_one_line_failure(code, err, 5)
