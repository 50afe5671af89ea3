"""`kefu products ...` and `kefu buyers product ...` as a user types them: one-line bilingual errors
with exit codes, --json, import/export/template round trip, the proposal naming the selling point."""

import json

import pytest

from assistant import cli


@pytest.fixture
def kefu(tmp_path, capsys):
    data = tmp_path / "data"

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--data-dir", str(data), *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("settings", "set", "reminders.agent_tz", "Asia/Shanghai")[0] == 0
    return run


def test_add_list_show_edit_rm(kefu):
    code, out, err = kefu("products", "add", "不锈钢保温杯", "--short", "保温杯", "--point", "杯盖防漏",
                          "--point", "12 小时保温", "--material", "316 不锈钢", "--gift", "杯套")
    assert code == 0 and err == "" and "不锈钢保温杯" in out
    code, out, _ = kefu("products", "list", "--json")
    [p] = json.loads(out)
    assert p["selling_points"] == ["杯盖防漏", "12 小时保温"] and p["gift"] == "杯套"
    code, out, _ = kefu("products", "edit", "保温杯", "--add-point", "磨砂杯身", "--price", "79元")
    assert code == 0
    code, out, _ = kefu("products", "show", "保温杯")
    assert "3. 磨砂杯身" in out and "79元" in out
    assert kefu("products", "edit", "保温杯")[0] == 2  # nothing to change
    assert kefu("products", "rm", "保温杯")[0] == 0
    code, out, err = kefu("products", "show", "保温杯")
    assert code == 4 and "保温杯" in err and len(err.strip().splitlines()) == 1


def test_a_bad_value_is_one_line_exit_2(kefu):
    code, out, err = kefu("products", "add", "杯" * 61)
    assert code == 2 and "商品名称太长" in err and len(err.strip().splitlines()) == 1


def test_link_a_buyer_and_the_proposal_uses_the_product(kefu):
    kefu("products", "add", "保温杯", "--point", "杯盖防漏", "--point", "12 小时保温")
    assert kefu("buyers", "star", "小王", "--platform", "千牛")[0] == 0
    code, out, _ = kefu("buyers", "product", "小王", "保温杯", "--platform", "千牛")
    assert code == 0 and "保温杯" in out
    code, out, _ = kefu("buyers", "show", "小王", "--platform", "千牛")
    assert "商品 Products: 保温杯" in out and "卖点 Selling point: 杯盖防漏" in out and "通用" not in out
    code, out, _ = kefu("buyers", "show", "小王", "--platform", "千牛", "--json")
    data = json.loads(out)
    assert data["proposal"]["selling_point"] == "杯盖防漏" and data["products"][0]["name"] == "保温杯"
    code, out, _ = kefu("buyers", "product", "小王", "--platform", "千牛", "--json")
    assert json.loads(out)[0]["current"] is True
    assert kefu("buyers", "product", "小王", "保温杯", "--platform", "千牛", "--remove")[0] == 0
    code, out, _ = kefu("buyers", "show", "小王", "--platform", "千牛")
    assert "通用 generic" in out


def test_template_export_import_round_trip(kefu, tmp_path):
    template = tmp_path / "template.csv"
    assert kefu("products", "template", str(template))[0] == 0
    code, out, _ = kefu("products", "import", str(template), "--json")
    assert json.loads(out) == {"added": 1, "updated": 0}
    for name in ("all.xlsx", "all.csv"):
        assert kefu("products", "export", str(tmp_path / name))[0] == 0
        code, out, _ = kefu("products", "import", str(tmp_path / name), "--json")
        assert json.loads(out) == {"added": 0, "updated": 1}
    code, out, _ = kefu("products", "list", "--json")
    [p] = json.loads(out)
    assert len(p["selling_points"]) == 3 and p["gift"] == "杯套一个"


def test_a_malformed_file_is_one_line_exit_5_and_nothing_stored(kefu, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("商品名称,卖点\n好杯子,a\n,缺名字\n", encoding="utf-8")
    code, out, err = kefu("products", "import", str(bad))
    assert code == 5 and "第 3 行" in err and len(err.strip().splitlines()) == 1
    code, out, _ = kefu("products", "list", "--json")
    assert json.loads(out) == []
