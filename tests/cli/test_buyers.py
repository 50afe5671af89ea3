"""`kefu buyers|due|promo|cadences` as a user types them: one-line bilingual errors, --json, masked
phones except on explicit request."""

import json

import pytest

from assistant import cli
from assistant.cli.buyers import parse_duration


@pytest.fixture
def kefu(tmp_path, capsys):
    data = tmp_path / "data"

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--data-dir", str(data), *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("settings")[0] == 0
    from assistant.core import settings
    from assistant.core.store import open_store

    with open_store(data / "kefu.db") as store:
        settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    return run


def test_star_list_show_and_masked_phone(kefu):
    code, out, err = kefu("buyers", "star", "小王", "--platform", "千牛", "--shop", "旗舰店", "--mark", "高客单",
                          "--mark", "意向明显", "--phone", "13812345678", "--note", "问了尺码")
    assert code == 0 and "Starred" in out and "已标星" in out and err == ""
    code, out, _ = kefu("buyers", "list")
    assert code == 0 and "138****5678" in out and "13812345678" not in out and "意向明显、高客单" in out
    code, out, _ = kefu("buyers", "list", "--json")
    [buyer] = json.loads(out)
    assert buyer["phone_masked"] == "138****5678" and "13812345678" not in out
    assert buyer["platform"] == "taobao" and buyer["cadence_id"] == "high_ticket"
    code, out, _ = kefu("buyers", "show", "小王")
    assert "138****5678" in out and "13812345678" not in out and "问了尺码" in out and "建议" in out
    code, out, _ = kefu("buyers", "show", "小王", "--phone", "--json")
    data = json.loads(out)
    assert data["phone"] == "13812345678" and data["proposal"]["angle"] == "product"
    assert data["reminders"][0]["cadence_id"] == "high_ticket"


def test_note_mark_set_outcome_unstar(kefu):
    kefu("buyers", "star", "Ivan", "--platform", "AliExpress", "--tz", "Europe/Moscow", "--lang", "ru")
    assert kefu("buyers", "note", "Ivan", "asked about size")[0] == 0
    assert kefu("buyers", "note", "Ivan", "prefers black", "--append")[0] == 0
    code, out, _ = kefu("buyers", "mark", "Ivan", "--add", "意向明显", "--add", "low_ticket", "--json")
    assert json.loads(out)["marks"] == ["意向明显", "低客单"]
    assert kefu("buyers", "mark", "Ivan", "--remove", "低客单")[0] == 0
    assert kefu("buyers", "set", "Ivan", "--questions", "open", "--phone", "+7 912 345 67 89")[0] == 0
    code, out, _ = kefu("buyers", "show", "Ivan", "--json")
    data = json.loads(out)
    assert data["notes"] == "asked about size\nprefers black" and data["open_questions"] is True
    assert data["phone_masked"] == "+791****6789" and "phone" not in data
    assert data["proposal"]["allowed"] is False
    code, out, _ = kefu("buyers", "outcome", "Ivan", "snooze", "--minutes", "30")
    assert code == 0 and "暂缓" in out
    code, out, _ = kefu("buyers", "outcome", "Ivan", "已付款")
    assert code == 0 and "paid" in out
    code, out, _ = kefu("buyers", "list", "--state", "paid", "--json")
    assert [b["nickname"] for b in json.loads(out)] == ["Ivan"]
    assert kefu("buyers", "unstar", "Ivan")[0] == 0
    assert json.loads(kefu("buyers", "list", "--json")[1]) == []
    assert [b["nickname"] for b in json.loads(kefu("buyers", "list", "--all", "--json")[1])] == ["Ivan"]


def test_marks_command(kefu):
    code, out, _ = kefu("buyers", "marks", "--add", "要发票", "--shop", "旗舰店")  # as README documents it
    assert code == 0
    assert kefu("buyers", "marks", "--new", "要收据", "--shop", "旗舰店")[0] == 0  # the old spelling still works
    code, out, _ = kefu("buyers", "marks", "--shop", "旗舰店", "--json")
    assert {"要发票", "要收据"} <= {m["name"] for m in json.loads(out)}
    code, _, err = kefu("buyers", "marks", "--delete", "高客单")
    assert code == 2 and "Built-in" in err


def test_due_lists_with_proposals(kefu):
    kefu("buyers", "star", "甲", "--platform", "京东")
    code, out, _ = kefu("due", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = kefu("due", "--within", "1h", "--json")
    [item] = json.loads(out)
    assert item["nickname"] == "甲" and item["cadence_id"] == "in_chat" and item["proposal"]["reply_id"]
    assert "phone" not in item or item.get("phone") is None
    code, out, _ = kefu("due", "--within", "1h")
    assert code == 0 and "对话内 1/4" in out and "甲" in out


def test_promotions(kefu):
    kefu("buyers", "star", "大单", "--platform", "千牛", "--mark", "高客单", "--mark", "意向明显",
         "--phone", "13812345678")
    kefu("buyers", "star", "普通", "--platform", "千牛", "--phone", "13900001111")
    code, out, _ = kefu("promo", "add", "--name", "双十一", "--start", "2030-11-11 00:00", "--json")
    promo = json.loads(out)
    assert code == 0 and promo["wave_total"] == 2
    assert promo["phone_at"].startswith("2030-11-10T13:00")  # 21:00 in Shanghai, stored in UTC
    code, out, _ = kefu("promo", "list")
    assert code == 0 and "双十一" in out and "11-10 21:00" in out
    code, out, _ = kefu("promo", "phones", "双十一")
    assert "13812345678" in out and "13900001111" not in out  # only high-ticket + high-intent, in full
    code, _, err = kefu("promo", "add", "--name", "过去", "--start", "2020-01-01 00:00")
    assert code == 2 and "already passed" in err and "已经过去" in err
    code, out, err = kefu("promo", "call", "双十一", "大单", "未接")
    assert code == 0 and "no answer" in out and "未接" in out
    listed = json.loads(kefu("promo", "phones", "双十一", "--json")[1])
    assert listed[0]["status"] == "later" and listed[0]["last_outcome"] == "no_answer"
    code, _, err = kefu("promo", "call", "双十一", "大单", "hung-up")
    assert code == 2 and "接通" in err and err.count("\n") == 1
    assert kefu("buyers", "dnc", "大单")[0] == 0
    assert json.loads(kefu("promo", "phones", "双十一", "--json")[1]) == []
    assert kefu("buyers", "dnc", "大单", "--off")[0] == 0
    code, out, err = kefu("promo", "edit", "双十一", "--start", "2030-11-11 20:00", "--json")
    assert code == 0, err
    assert json.loads(out)["phone_at"].startswith("2030-11-11T09:00")  # 17:00 in Shanghai
    code, _, err = kefu("promo", "edit", "双十一")
    assert code == 2 and "Nothing to change" in err
    assert kefu("promo", "rm", "双十一")[0] == 0


def test_cadences_command(kefu, tmp_path):
    code, out, _ = kefu("cadences")
    assert code == 0 and "3m → 5m → 7m → 9m" in out and "next shift" in out
    code, out, _ = kefu("cadences", "--json")
    doc = json.loads(out)
    doc["cadences"] = [c for c in doc["cadences"] if c["id"] == "in_chat"]
    doc["cadences"][0]["steps"] = [{"wait_minutes": 4}]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert kefu("cadences", "--set", str(path))[0] == 0
    assert "4m" in kefu("cadences")[1]
    assert kefu("cadences", "--reset", "in_chat")[0] == 0
    path.write_text('{"id": "in_chat", "steps": [{"wait_minutes": -1}]}', encoding="utf-8")
    code, _, err = kefu("cadences", "--set", str(path))
    assert code == 2 and err.count("\n") == 1


@pytest.mark.parametrize("args, code, words", [
    (("buyers", "star", "新人"), 2, ["--platform"]),
    (("buyers", "star", "x", "--platform", "微信"), 2, ["Unknown platform", "平台"]),
    (("buyers", "show", "nobody"), 4, ["No such buyer", "没有找到"]),
    (("buyers", "star", "x", "--platform", "jd", "--tz", "Mars/Base"), 2, ["time zone", "时区"]),
    (("buyers", "star", "x", "--platform", "jd", "--phone", "abc"), 2, ["phone", "电话"]),
    (("buyers", "star", "x", "--platform", "jd", "--mark", "不存在"), 4, ["No mark", "没有标记"]),
    (("due", "--within", "soon"), 2, ["Invalid duration", "时长"]),
    (("promo", "add", "--name", "x", "--start", "tomorrow"), 2, ["Invalid time"]),
    (("buyers", "outcome", "x", "maybe"), 4, []),
])
def test_errors_are_one_bilingual_line(kefu, args, code, words):
    got, out, err = kefu(*args)
    assert got == code, err
    assert err.count("\n") == 1 and "Traceback" not in err and " / " in err
    for word in words:
        assert word in err


def test_same_nickname_in_two_shops_needs_a_shop(kefu):
    kefu("buyers", "star", "同名", "--platform", "千牛", "--shop", "一店")
    kefu("buyers", "star", "同名", "--platform", "千牛", "--shop", "二店")
    code, _, err = kefu("buyers", "show", "同名")
    assert code == 2 and "--shop" in err
    assert kefu("buyers", "show", "同名", "--shop", "二店")[0] == 0


def test_parse_duration():
    assert parse_duration("1h").total_seconds() == 3600
    assert parse_duration("2h30m").total_seconds() == 9000
    assert parse_duration("45").total_seconds() == 2700
    assert parse_duration("1d").total_seconds() == 86400


def test_mood_and_review_invite(kefu):
    assert kefu("buyers", "star", "小王", "--platform", "千牛", "--shop", "旗舰店")[0] == 0
    code, out, err = kefu("buyers", "invite", "小王")
    assert code == 1 and "不要邀评" in err and "mark them Happy" in err and len(err.strip().splitlines()) == 1
    code, out, err = kefu("buyers", "mood", "小王", "满意")
    assert code == 0 and "Happy" in out and "满意" in out, err
    code, out, err = kefu("buyers", "invite", "小王")
    assert code == 0 and "可以邀评" in out and "[yp1]" in out and "{客户}" not in out
    code, out, _ = kefu("buyers", "invite", "小王", "--json")
    data = json.loads(out)
    assert data["allowed"] and data["why"] == "pleased" and len(data["scripts"]) == 6
    assert any("小王" in s["text"] for s in data["scripts"])  # filled in for this buyer
    code, _, err = kefu("buyers", "mood", "小王", "ecstatic")
    assert code == 2 and "心情" in err and "Unknown mood" in err
    assert kefu("buyers", "mood", "小王", "生气")[0] == 0
    code, out, _ = kefu("buyers", "invite", "小王", "--json")
    assert code == 1 and json.loads(out)["why"] == "angry" and json.loads(out)["scripts"] == []
