"""`kefu replies add/edit/import/check` and the compliance check: a warning line and exit 0, or with
--strict exit 7 and nothing saved; an import lists what it flagged and imports everything; a
malformed shop rules file is said once and the shipped rules still apply."""

import json

import pytest

from assistant import cli
from assistant.core import compliance

FLAGGED = "亲，给个五星好评，截图找客服返现10元哦"


@pytest.fixture
def kefu(tmp_path, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--data-dir", str(tmp_path / "data"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def count(kefu) -> int:
    return len(json.loads(kefu("replies", "list", "--json")[1]))


def test_add_warns_and_saves_strict_refuses_and_saves_nothing(kefu):
    code, out, err = kefu("replies", "add", "--body", FLAGGED, "--group", "邀评", "--code", "r1")
    assert code == 0 and "Added reply" in out
    [line] = err.splitlines()
    assert line.startswith("Warning: compliance [review-reward] Reward for a review \"五星好评，截图找客服返现\"")
    assert "Try:" in line and "好评返现“五星好评，截图找客服返现”" in line and "建议：" in line
    before = count(kefu)
    code, out, err = kefu("replies", "add", "--body", "全网最低价，仅剩最后3件", "--code", "r2", "--strict")
    assert code == 7 and out == ""
    assert err.count("Flagged: ") == 2 and err.splitlines()[-1].startswith("Error: Compliance: Absolute claim")
    assert "--strict" in err and "未保存" in err
    assert count(kefu) == before
    assert kefu("replies", "show", "r2")[0] == 4
    code, out, err = kefu("replies", "add", "--body", "亲，欢迎光临～", "--strict", "--json")
    assert code == 0 and err == "" and json.loads(out)["compliance"] == []


def test_edit_strict_leaves_the_reply_as_it_was(kefu):
    kefu("replies", "add", "--body", "亲，欢迎光临～", "--code", "e1")
    code, _, err = kefu("replies", "edit", "e1", "--body", "今天是最后一天了，明天就涨价", "--strict")
    assert code == 7 and "Invented urgency" in err
    assert "欢迎光临" in kefu("replies", "show", "e1")[1]
    code, out, err = kefu("replies", "edit", "e1", "--body", "今天是最后一天了，明天就涨价", "--json")
    assert code == 0 and [f["text"] for f in json.loads(out)["compliance"]] == ["最后一天", "明天就涨价"]
    assert err.count("Warning: compliance [urgency-scarcity]") == 2
    # moving it into an after-sales group brings the after-sales rules in
    kefu("replies", "edit", "e1", "--body", "这个不支持退换")
    code, _, err = kefu("replies", "edit", "e1", "--group", "售后安抚", "--strict")
    assert code == 7 and "Flat refusal" in err


def test_import_reports_the_count_and_the_list_and_imports_everything(kefu, tmp_path):
    phrases = tmp_path / "phrases.csv"
    phrases.write_text("快捷短语编码,快捷短语,快捷短语分组\n"
                       f"i1,{FLAGGED},邀评\n"
                       "i2,亲，欢迎光临～,问候\n"
                       "i3,这款销量第一,商品\n", encoding="utf-8")
    code, out, _ = kefu("replies", "import", str(phrases), "--dry-run")
    assert code == 0 and "2 would be flagged" in out
    code, out, _ = kefu("replies", "import", str(phrases))
    assert code == 0 and "3 added" in out
    assert "2 imported with compliance findings / 2 条已导入，但有合规提示" in out
    assert "flagged row 2 " in out and "flagged row 4 这款销量第一: Absolute claim \"第一\"" in out
    assert "row 3" not in out.split("compliance findings")[1]
    code, out, _ = kefu("replies", "check")
    assert code == 0 and "2 flagged replies" in out
    assert kefu("replies", "check", "--strict")[0] == 7
    phrases.write_text("快捷短语编码,快捷短语,快捷短语分组\ni4,全网最低,商品\n", encoding="utf-8")
    code, out, _ = kefu("replies", "import", str(phrases), "--json")
    data = json.loads(out)
    assert data["added"] == 1 and data["flagged"] == 1
    assert data["flagged_items"][0]["findings"][0]["rule"] == "absolute-price"


def test_check_a_text_without_saving_it(kefu):
    before = count(kefu)
    code, out, _ = kefu("replies", "check", "--body", "这个不行", "--group", "售后安抚")
    assert code == 0 and out.startswith("[refusal-flat] Flat refusal \"不行\"")
    assert kefu("replies", "check", "--body", "这个不行", "--group", "售前")[1].startswith("No compliance findings")
    code, out, _ = kefu("replies", "check", "--body", "这个不行", "--group", "售后", "--strict", "--json")
    assert code == 7 and json.loads(out)[0]["suggestion_zh"]
    assert count(kefu) == before


def test_a_malformed_shop_rules_file_is_said_once_and_the_shipped_rules_still_apply(kefu, tmp_path):
    kefu("replies", "list")
    (tmp_path / "data" / compliance.USER_FILE).write_text("{oops", encoding="utf-8")
    code, _, err = kefu("replies", "add", "--body", "全网最低价")
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Warning: The shop's compliance rules file") and "自定义合规规则文件" in lines[0]
    assert lines[1].startswith("Warning: compliance [absolute-price]")
