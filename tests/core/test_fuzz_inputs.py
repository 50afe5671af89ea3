"""Fuzzing the ways data gets into kefu: import files (replies JSON, handover JSON, Qianniu CSV,
Qianniu XLSX) and command-line arguments, through the real `kefu` entry point (in process).

For every input: never a traceback; a refused input gives exactly one line on stderr, a non-zero
exit and a store identical to before (a dump of every table); an input that is malformed for sure
(undecodable, unstorable, broken JSON, wrong type) must be refused. An accepted input may change
the store -- that is not malformed (a literal brace kept by the user, a flagged script ...).

CI runs a fixed, derandomised sample (KEFU_FUZZ_EXAMPLES, default 40 per target: well under a
minute); a long run: KEFU_FUZZ_EXAMPLES=2000 python -m pytest tests/core/test_fuzz_inputs.py
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import cli
from tests.helpers.stores import dump

EXAMPLES = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])
HEADER = ["快捷短语编码", "快捷短语", "快捷短语分组"]

# ---------------------------------------------------------------- values

SURROGATES = st.sampled_from(["\ud800", "\udcff", "\udfff", "\udc80", "\ud83d"])
NASTY_CHARS = st.sampled_from(["\x00", "\n", "\r", "\t", "\u2028", "\x1b", "{", "}", "{{", "'", '"', "\\", "=",
                               "\ufeff", "\U0001F44D", "前", "%s", "\x7f", "\ufffe"])
TEXT = st.lists(st.one_of(st.characters(), NASTY_CHARS), max_size=40).map("".join)
BAD_TEXT = st.builds(lambda a, s, b: a + s + b, TEXT, SURROGATES, TEXT)  # cannot be stored
HUGE_INT = st.one_of(st.integers(min_value=2 ** 63, max_value=10 ** 30), st.integers(max_value=-(2 ** 63) - 1,
                                                                                      min_value=-(10 ** 30)))
BAD_TIME = st.sampled_from(["0000-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00",
                            "10000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-11T25:00:00Z", "yesterday",
                            "2026-11-11T00:00:00", "", "2026-11-11T00:00:00+24:00"])
ANY_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT),
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(TEXT, inner, max_size=3)), max_leaves=6)
# (value, certainly malformed?)
MUTATION_VALUE = st.one_of(
    BAD_TEXT.map(lambda v: (v, True)),
    HUGE_INT.map(lambda v: (v, True)),
    BAD_TIME.map(lambda v: (v, False)),  # "" or a bad time in an optional text field may be fine
    ANY_JSON.map(lambda v: (v, False)),
    st.text(min_size=6000, max_size=7000).map(lambda v: (v, False)),
)


# ---------------------------------------------------------------- running kefu


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> dict:
    """One seeded data folder for the module (seeding takes a second), plus valid sample files."""
    root = tmp_path_factory.mktemp("fuzz")
    data = root / "data"
    assert cli.main(["--data-dir", str(data), "buyers", "star", "小王", "--platform", "taobao", "--note",
                     "电话 13812345678", "--mark", "高客单"]) == 0
    assert cli.main(["--data-dir", str(data), "log", "add", "--kind", "今日问题", "缺货"]) == 0
    assert cli.main(["--data-dir", str(data), "replies", "export", str(root / "replies.json")]) == 0
    assert cli.main(["--data-dir", str(data), "handover", "export", "--dir", str(root / "ho"),
                     "--formats", "json"]) == 0
    replies_doc = json.loads((root / "replies.json").read_text(encoding="utf-8"))
    replies_doc["replies"] = replies_doc["replies"][:5]
    handover_doc = json.loads(next((root / "ho").glob("*.json")).read_text(encoding="utf-8"))
    return {"root": root, "data": data, "replies": replies_doc, "handover": handover_doc, "n": 0}




def kefu(home: dict, capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main(["--data-dir", str(home["data"]), *args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    # Any other exception propagates: a traceback is a failure of this test.
    out, err = capsys.readouterr()
    return code, out, err


def check(home: dict, capsys, args: list[str], must_fail: bool) -> None:
    before = dump(home["data"])
    code, out, err = kefu(home, capsys, *args)
    assert "Traceback" not in err and "Traceback" not in out
    if code == 0 and not must_fail:
        return  # accepted: not malformed after all
    assert code != 0, f"accepted a malformed input: {args!r}"
    assert err.endswith("\n") and len(err.splitlines()) == 1 and err.count("\n") == 1, err
    assert err.startswith("Error: "), err
    assert dump(home["data"]) == before, "a refused input changed the store"


def _file(home: dict, suffix: str, data: bytes) -> Path:
    home["n"] += 1
    path = home["root"] / f"in{home['n']}{suffix}"
    path.write_bytes(data)
    return path


def _paths(doc, prefix=()):
    """Every (path, value) in a JSON document."""
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _unstorable(doc) -> bool:
    """A lone surrogate (in a value or a key) or an integer beyond 64 bits anywhere in the document."""
    for path, value in _paths(doc):
        if any(isinstance(k, str) and not _utf8(k) for k in path):
            return True
        if isinstance(value, str) and not _utf8(value):
            return True
        if isinstance(value, int) and not isinstance(value, bool) and not -(2 ** 63) <= value < 2 ** 63:
            return True
    return False


def _certainly_bad(raw: bytes) -> bool:
    """Not UTF-8, not JSON, or holding a value no store can hold: must be refused."""
    try:
        return _unstorable(json.loads(raw.decode("utf-8-sig")))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return True


def _set(doc, path, value):
    obj = doc
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


@st.composite
def json_bytes(draw, doc: dict) -> tuple[bytes, bool]:
    """A valid document with one to three mutations, or its text broken at the byte level."""
    doc = copy.deepcopy(doc)
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "bytes", "key"]))
    must_fail = False
    if kind in ("mutate", "key"):
        places = [p for p, _ in _paths(doc) if p]
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.sampled_from(places))
            if kind == "key" and isinstance(path[-1], str):
                try:
                    parent = doc
                    for k in path[:-1]:
                        parent = parent[k]
                    parent[path[-1] + draw(SURROGATES)] = parent.pop(path[-1])
                    must_fail = True
                except (KeyError, IndexError, TypeError):
                    pass
                places = [p for p, _ in _paths(doc) if p]
                continue
            try:
                value, certain = draw(MUTATION_VALUE)
                _set(doc, path, value)
                must_fail |= certain
            except (KeyError, IndexError, TypeError):
                continue
            places = [p for p, _ in _paths(doc) if p]
        raw = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
        return raw, must_fail and _certainly_bad(raw)
    raw, _ = draw(_broken(json.dumps(doc, ensure_ascii=False).encode("utf-8")))
    return raw, _certainly_bad(raw)


@st.composite
def _broken(draw, raw: bytes) -> tuple[bytes, bool]:
    how = draw(st.sampled_from(["truncate", "garbage", "encode", "bom", "splice"]))
    if how == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))], True
    if how == "garbage":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"}", b"[["])) \
            + raw[at:], True
    if how == "encode":
        return raw.decode("utf-8").encode(draw(st.sampled_from(["utf-16", "utf-32", "gb18030"]))), \
            any(ord(c) > 127 for c in raw.decode("utf-8"))
    if how == "bom":
        return b"\xef\xbb\xbf" + raw, False
    return raw + draw(st.binary(max_size=20)), False


# ---------------------------------------------------------------- targets


@FUZZ
@given(data=st.data())
def test_fuzz_replies_json(home, capsys, data):
    raw, must_fail = data.draw(json_bytes(home["replies"]))
    path = _file(home, ".json", raw)
    check(home, capsys, ["replies", "import", str(path), *data.draw(st.sampled_from([[], ["--replace"]]))],
          must_fail)


@FUZZ
@given(data=st.data())
def test_fuzz_handover_json(home, capsys, data):
    raw, must_fail = data.draw(json_bytes(home["handover"]))
    path = _file(home, ".json", raw)
    check(home, capsys, ["handover", "import", str(path)], must_fail)


CELL = st.one_of(TEXT, BAD_TEXT, st.just(""), st.integers(), st.floats(allow_nan=True), st.booleans(),
                 st.text(min_size=3000, max_size=6000))


@FUZZ
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=5), min_size=0, max_size=6),
       encoding=st.sampled_from(["utf-8-sig", "utf-8", "gb18030", "utf-16", "utf-32", "latin-1"]),
       tail=st.binary(max_size=8), header=st.sampled_from([HEADER, ["快捷编码", "快捷短语"], ["a", "b"], []]))
def test_fuzz_qianniu_csv(home, capsys, rows, encoding, tail, header):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if header:
        writer.writerow(header)
    writer.writerows([[str(c) for c in row] for row in rows])
    text = buf.getvalue()
    raw = text.encode(encoding, "surrogatepass" if encoding in ("utf-8", "utf-8-sig") else "replace") + tail
    check(home, capsys, ["replies", "import", str(_file(home, ".csv", raw))], must_fail=False)


XCELL = st.one_of(TEXT.map(lambda s: s.replace("\x00", "")), st.integers(-(10 ** 20), 10 ** 20),
                  st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none(),
                  st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)),
                  st.dates(min_value=date(1900, 3, 1)), st.timedeltas(max_value=timedelta(days=3000)))


@FUZZ
@given(rows=st.lists(st.lists(XCELL, max_size=5), max_size=6), far=st.sampled_from([None, 5000, 1_048_576]),
       corrupt=st.sampled_from([None, "flip", "truncate", "sheet"]), seed=st.integers(0, 10 ** 6))
def test_fuzz_qianniu_xlsx(home, capsys, rows, far, corrupt, seed):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        try:
            ws.append(row)
        except Exception:  # noqa: BLE001 - openpyxl refuses control characters: leave the row out
            ws.append([])
    if far:
        ws.cell(row=far, column=2, value="远处的短语")
    buf = io.BytesIO()
    wb.save(buf)
    raw = buf.getvalue()
    if corrupt == "flip":
        at = seed % len(raw)
        raw = raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1:]
    elif corrupt == "truncate":
        raw = raw[: seed % len(raw)]
    elif corrupt == "sheet":
        src = zipfile.ZipFile(io.BytesIO(raw))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for info in src.infolist():
                body = src.read(info.filename)
                if info.filename.startswith("xl/worksheets/"):
                    body = body[: seed % max(len(body), 1)] + b"\n<c r='A1' t='s'><v>999</v></c>\n"
                z.writestr(info.filename, body)
        raw = out.getvalue()
    check(home, capsys, ["replies", "import", str(_file(home, ".xlsx", raw)), "--dry-run"], must_fail=False)


ARG = st.one_of(TEXT, BAD_TEXT, st.sampled_from(["-", "--", "-x", "", " ", "0", "-1", "1e400", "nan", "10" * 30,
                                                  "2026-13-45", "25:00", "售前/问候", "a/b/c", "{客户}", "{{", "}"]))
COMMANDS = [
    lambda v: ["replies", "add", "--body", v[0], "--title", v[1]],
    lambda v: ["replies", "add", "--body", "正文", "--group", v[0], "--code", v[1]],
    lambda v: ["replies", "add", "--body", "正文", "--lang", v[0], "--platform", v[1], "--angle", v[2]],
    lambda v: ["replies", "add", "--body", "正文", "--hotkey", v[0]],
    lambda v: ["replies", "edit", v[0], "--body", v[1]],
    lambda v: ["replies", "edit", "10" * 30, "--body", v[0]],
    lambda v: ["replies", "search", v[0], "--limit", v[1]],
    lambda v: ["replies", "show", v[0], "--set", v[1]],
    lambda v: ["replies", "list", "--group", v[0], "--limit", v[1]],
    lambda v: ["groups", "add", v[0], "--parent", v[1]],
    lambda v: ["groups", "rename", v[0], v[1]],
    lambda v: ["buyers", "star", v[0], "--platform", v[1], "--shop", v[2]],
    lambda v: ["buyers", "star", "小王", "--note", v[0], "--phone", v[1], "--tz", v[2]],
    lambda v: ["buyers", "star", "小王", "--mark", v[0], "--cadence", v[1]],
    lambda v: ["buyers", "note", "小王", v[0]],
    lambda v: ["buyers", "outcome", v[0], v[1], "--minutes", v[2]],
    lambda v: ["log", "add", "--kind", v[0], v[1]],
    lambda v: ["settings", "set", v[0], v[1]],
    lambda v: ["settings", "set", "ui.width", v[0]],
    lambda v: ["promo", "add", "--name", v[0], "--start", v[1], "--tz", v[2]],
    lambda v: ["due", "--within", v[0]],
    lambda v: ["kpi", "--day", v[0]],
    lambda v: ["calc", "sales", "--inquiries", v[0], "--conversion", v[1], "--aov", v[2]],
    lambda v: ["handover", "export", "--formats", v[0], "--dir", str(Path("/nonexistent-root-dir") / "x")],
]


@FUZZ
@given(command=st.sampled_from(COMMANDS), values=st.lists(ARG, min_size=3, max_size=3))
def test_fuzz_cli_arguments(home, capsys, command, values):
    args = command(values)
    must_fail = any(not _utf8(a) for a in args)
    check(home, capsys, args, must_fail)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
