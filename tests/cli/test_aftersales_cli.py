"""`kefu aftersales ...` as a user types it: one-line bilingual errors with exit codes, --json, order
numbers masked except on request, offers above the limit escalated with the summary printed."""

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
    assert run("settings", "set", "agent.name", "小美")[0] == 0
    return run


OPEN = ("aftersales", "open", "李女士", "--platform", "千牛", "--shop", "旗舰店", "--problem", "收到破损，要求退款",
        "--category", "质量", "--severity", "中度", "--wants", "退款", "--mood", "生气", "--order", "231111123456789012",
        "--product", "保温杯")


def test_open_list_show_with_the_order_masked(kefu):
    code, out, err = kefu(*OPEN)
    assert code == 0 and err == "" and "#1" in out and "结案前不再催单" in out and "[af1]" in out
    code, out, _ = kefu("aftersales", "list")
    assert "李女士" in out and "新建" in out and "**************9012" in out and "231111" not in out
    code, out, _ = kefu("aftersales", "list", "--json")
    [case] = json.loads(out)
    assert case["status"] == "new" and case["order_masked"].endswith("9012") and "order_no" not in case
    code, out, _ = kefu("aftersales", "show", "#1", "--json")
    data = json.loads(out)
    assert data["steps"][0]["current"] and data["proposal"]["offers"] == ["compensate", "exchange"]
    assert data["followups"][0]["kind"] == "aftersales" and "231111123456789012" not in out
    code, out, _ = kefu("aftersales", "show", "1", "--order")
    assert "231111123456789012" in out and "挽单建议" in out
    code, out, _ = kefu("buyers", "show", "李女士", "--json")
    assert json.loads(out)["marks"] == ["售后中"]


def test_the_whole_flow_with_an_escalation(kefu):
    kefu(*OPEN)
    assert kefu("aftersales", "step", "1", "--note", "听完了")[0] == 0
    code, out, _ = kefu("aftersales", "offer", "1", "compensate", "--amount", "50")
    assert code == 0 and "未提出" in out and "【售后升级】#1" in out and "补偿 ¥50.00" in out and "¥20.00" in out
    code, out, _ = kefu("aftersales", "list", "--status", "待主管", "--json")
    assert [c["status"] for c in json.loads(out)] == ["manager"]
    code, out, err = kefu("aftersales", "resolve", "1", "compensated", "--amount", "50")
    assert code == 2 and "above your limit" in err and "超出你的挽单权限" in err and len(err.splitlines()) == 1
    code, out, _ = kefu("aftersales", "decide", "1", "--approve", "--by", "王主管", "--json")
    assert json.loads(out)["decided_by"] == "王主管"
    assert kefu("aftersales", "resolve", "1", "compensated", "--amount", "50")[0] == 0
    code, out, _ = kefu("aftersales", "show", "1", "--json")
    kinds = [e["kind"] for e in json.loads(out)["history"]]
    assert kinds == ["opened", "step", "offer_blocked", "escalated", "decision", "offer", "resolved"]
    assert kefu("aftersales", "close", "1")[0] == 0
    code, out, _ = kefu("aftersales", "kpi", "--json")
    k = json.loads(out)
    assert (k["closed"], k["compensation_total_yuan"], k["escalations"]) == (1, "50.00", 1)
    code, out, _ = kefu("aftersales", "kpi")
    assert "赔偿金额" in out and "¥50.00" in out


def test_warehouse_callback_followed_up_and_withdrawn(kefu):
    kefu(*OPEN)
    assert kefu("aftersales", "warehouse", "1")[0] == 0
    assert kefu("aftersales", "warehouse", "1", "--findings", "运输破损", "--by", "老张")[0] == 0
    code, out, _ = kefu("aftersales", "callback", "1", "--in", "2h", "--note", "回电")
    assert code == 0 and "已约定回复时间" in out
    code, out, _ = kefu("due", "--within", "1d", "--json")
    assert {r["kind"] for r in json.loads(out)} == {"aftersales"}
    assert kefu("aftersales", "followed-up", "1")[0] == 0
    code, out, _ = kefu("aftersales", "close", "1", "--json")
    assert json.loads(out)["outcome"] == "withdrawn"
    code, out, _ = kefu("due", "--within", "1d", "--json")
    assert json.loads(out) == []


def test_limits_and_categories(kefu):
    code, out, _ = kefu("aftersales", "limits", "--set", "轻度", "--compensation", "30", "--refund", "no",
                        "--agent", "小美", "--json")
    assert code == 0 and json.loads(out)["max_compensation_yuan"] == "30.00"
    code, out, _ = kefu("aftersales", "limits", "--json")
    data = json.loads(out)
    assert [(r["agent"], r["severity"]) for r in data["limits"]] == [("小美", "light")] and len(data["defaults"]) == 3
    code, out, _ = kefu("aftersales", "limits", "--agent", "小美", "--json")
    assert [r["source"] for r in json.loads(out)["limits"]] == ["agent", "default", "default"]
    assert kefu("aftersales", "limits", "--delete", "轻度", "--agent", "小美")[0] == 0
    code, _, err = kefu("aftersales", "limits", "--set", "轻度", "--exchange", "maybe")
    assert code == 2 and "yes or no" in err
    assert kefu("aftersales", "categories", "--add", "赠品漏发", "--shop", "旗舰店")[0] == 0
    code, out, _ = kefu("aftersales", "categories", "--json")
    assert "赠品漏发" in [c["name"] for c in json.loads(out)]


@pytest.mark.parametrize("args,code,needle", [
    (("aftersales", "open", "新人", "--problem", "x", "--category", "质量", "--severity", "中度", "--wants", "退款"),
     2, "--platform"),
    (OPEN[:-6] + ("--order", "1" * 80), 2, "order number"),
    (("aftersales", "offer", "9", "exchange"), 4, "No after-sales case"),
    (("aftersales", "offer", "1", "bribe"), 2, "Unknown offer"),
    (("aftersales", "offer", "1", "compensate", "--amount", "-5"), 2, "Invalid amount"),
    (("aftersales", "resolve", "1", "explained"), 2, "cannot go from 'new' to 'resolved'"),
    (("aftersales", "callback", "1", "--in", "soon"), 2, "Invalid duration"),
    (("aftersales", "decide", "1", "--approve", "--by", "王主管"), 2, "not waiting"),
])
def test_bad_input_is_one_bilingual_line_and_changes_nothing(kefu, args, code, needle):
    kefu(*OPEN)
    before = kefu("aftersales", "show", "1", "--json")[1]
    got, out, err = kefu(*args)
    assert got == code and needle in err and len(err.splitlines()) == 1 and " / " in err
    after = kefu("aftersales", "show", "1", "--json")[1]
    assert json.loads(after)["history"] == json.loads(before)["history"]
