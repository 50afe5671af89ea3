"""`kefu orders ...` as a user types them: add / paste / list / show / paid / closed / import / export /
template; one-line bilingual errors with exit codes; order numbers masked unless asked for."""

import io
import json
from pathlib import Path

import pytest

from assistant import cli

DATA = Path(__file__).parent.parent / "data" / "orders"
NUMBER = "3391204857162093345"


@pytest.fixture
def kefu(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"

    def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = cli.main(["--data-dir", str(data), *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("settings", "set", "reminders.agent_tz", "Asia/Shanghai")[0] == 0
    return run


def test_add_list_show_paid(kefu):
    code, out, err = kefu("orders", "add", NUMBER, "--buyer", "小鹿", "--platform", "淘宝", "--amount", "128",
                          "--deadline", "2099-01-01 10:00", "--created", "2098-12-31 10:00")
    assert code == 0 and err == "" and "***************3345" in out and NUMBER not in out
    code, out, _ = kefu("orders", "list")
    assert "小鹿" in out and "128.00" in out and NUMBER not in out and "还剩" in out
    code, out, _ = kefu("orders", "list", "--json")
    [o] = json.loads(out)
    assert o["order_masked"].endswith("3345") and o["amount"] == "128.00" and NUMBER not in out
    code, out, _ = kefu("orders", "show", "3345")
    assert code == 0 and "催付话术" in out and "尾号3345" in out and NUMBER not in out
    code, out, _ = kefu("orders", "show", "3345", "--reveal")
    assert NUMBER in out
    code, out, _ = kefu("orders", "paid", "3345")
    assert code == 0 and "已付款" in out
    code, out, _ = kefu("orders", "list")
    assert "0 orders" in out
    code, out, _ = kefu("orders", "list", "--status", "all")
    assert "已付款" in out
    code, _, err = kefu("orders", "closed", "3345")
    assert code == 2 and len(err.strip().splitlines()) == 1 and " / " in err


def test_paste_from_an_argument_or_stdin(kefu):
    text = (DATA / "jd.txt").read_text("utf-8")
    code, out, err = kefu("orders", "paste", text, "--buyer", "买家A", "--platform", "京东")
    assert code == 0 and "已添加" in out and "金额" in out and "287654321098" not in out
    code, out, _ = kefu("orders", "paste", "--buyer", "买家A", "--json", stdin=text.encode("utf-8"))
    data = json.loads(out)
    assert data["added"] is False and set(data["found"]) >= {"order_no", "amount", "deadline"}
    code, _, err = kefu("orders", "paste", "--buyer", "买家A", stdin=b"\xff\xfe\x00bad")
    assert code == 2 and "UTF-8" in err and len(err.strip().splitlines()) == 1
    code, _, err = kefu("orders", "paste", "您好在吗", "--buyer", "买家A")
    assert code == 2 and "订单号" in err and "order number" in err


@pytest.mark.parametrize("args, exit_code, words", [
    (("orders", "add", "12***34", "--buyer", "甲", "--platform", "jd"), 2, "masked"),
    (("orders", "add", "123456789012", "--buyer", "甲", "--platform", "jd", "--amount", "abc"), 2, "amount"),
    (("orders", "add", "123456789012", "--buyer", "甲", "--platform", "jd", "--deadline", "明天"), 2, "time"),
    (("orders", "add", "123456789012", "--buyer", "没有这个人"), 4, "buyer"),
    (("orders", "show", "#99"), 4, "order"),
    (("orders", "paid", "0000"), 4, "order"),
])
def test_bad_input_is_one_line(kefu, args, exit_code, words):
    code, out, err = kefu(*args)
    assert code == exit_code and len(err.strip().splitlines()) == 1 and words in err.lower(), err


def test_import_export_template_round_trip(kefu, tmp_path):
    template = tmp_path / "t.csv"
    assert kefu("orders", "template", str(template))[0] == 0
    code, out, _ = kefu("orders", "import", str(template), "--json")
    assert code == 0 and json.loads(out) == {"added": 1, "updated": 0, "skipped": 0}
    full = tmp_path / "full.xlsx"
    code, out, _ = kefu("orders", "export", str(full), "--full-numbers")
    assert code == 0 and "Exported 1" in out
    code, out, _ = kefu("orders", "import", str(full))
    assert code == 0 and "更新 1" in out
    masked = tmp_path / "masked.csv"
    code, out, _ = kefu("orders", "export", str(masked))
    assert "masked" in out
    code, _, err = kefu("orders", "import", str(masked))
    assert code == 5 and "row 2" in err and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 broken")
    code, _, err = kefu("orders", "import", str(bad))
    assert code == 5 and len(err.strip().splitlines()) == 1
    code, out, _ = kefu("orders", "list", "--json")
    assert len(json.loads(out)) == 1


def test_cadences_lists_the_order_steps(kefu):
    code, out, _ = kefu("cadences")
    assert "unpaid_order" in out and "order+10m" in out and "close-120m" in out
