"""`kefu` as a user types it: exit codes, one-line errors on stderr, --json output."""

import json
import subprocess
import sys

import pytest

from assistant import cli


@pytest.fixture
def kefu(tmp_path, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(["--data-dir", str(tmp_path / "data"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_first_use_seeds_default_library(kefu):
    code, out, _ = kefu("replies", "list", "--json")
    assert code == 0
    items = json.loads(out)
    assert len(items) >= 100
    assert {"售前/问候", "催单催付/价格优惠", "English"} <= {i["group_path"] for i in items}


def test_add_show_edit_rm(kefu):
    code, out, _ = kefu("replies", "add", "--body", "{客户}您好，{商品}今天下单送{赠品}", "--group", "测试/新",
                        "--code", "t1", "--hotkey", "ctrl+alt+7", "--json")
    assert code == 0
    reply = json.loads(out)
    assert reply["hotkey"] == "Ctrl+Alt+7" and reply["fields"] == ["客户", "商品", "赠品"]
    code, out, err = kefu("replies", "show", "t1", "--set", "客户=小王", "--set", "商品=围巾")
    assert code == 0 and "小王您好，围巾今天下单送{赠品}" in out and "{赠品}" in err
    code, out, _ = kefu("replies", "edit", "t1", "--title", "新标题", "--clear-hotkey", "--json")
    assert json.loads(out)["title"] == "新标题" and json.loads(out)["hotkey"] is None
    assert kefu("replies", "rm", "t1")[0] == 0
    code, _, err = kefu("replies", "show", "t1")
    assert code == 4 and "No reply" in err and "没有找到" in err


def test_errors_are_one_bilingual_line(kefu):
    code, out, err = kefu("replies", "add", "--body", "您的{运单}已发货")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Unknown fill-in field {运单}" in err and "未知的填空字段" in err
    assert "Traceback" not in err


def test_duplicate_code_and_bad_hotkey(kefu):
    kefu("replies", "add", "--body", "a", "--code", "dup")
    code, _, err = kefu("replies", "add", "--body", "b", "--code", "DUP")
    assert code == 2 and "dup" in err.lower()
    code, _, err = kefu("replies", "add", "--body", "b", "--hotkey", "ctrl+v")
    assert code == 2 and "快捷键" in err


def test_search_finds_chinese_and_pinyin(kefu):
    code, out, _ = kefu("replies", "search", "快递", "--json")
    assert code == 0 and json.loads(out)
    code, out, _ = kefu("replies", "search", "\"*)(AND NEAR -", "--json")
    assert code == 0 and isinstance(json.loads(out), list)


def test_groups_commands(kefu):
    assert kefu("groups", "add", "双十一")[0] == 0
    assert kefu("groups", "add", "预售", "--parent", "双十一")[0] == 0
    assert kefu("groups", "rename", "双十一/预售", "定金")[0] == 0
    code, out, _ = kefu("groups", "list", "--json")
    assert "双十一/定金" in {g["path"] for g in json.loads(out)}
    code, _, err = kefu("groups", "rm", "售前")
    assert code == 2 and "条回复" in err
    assert kefu("groups", "rm", "双十一")[0] == 0


def test_backup_restore_round_trip(kefu, tmp_path):
    kefu("replies", "add", "--body", "备份前", "--code", "b1")
    code, out, _ = kefu("backup")
    assert code == 0
    backup_file = out.split("Backup written: ")[1].split(" / ")[0]
    kefu("replies", "rm", "b1")
    code, out, _ = kefu("restore", backup_file)
    assert code == 0 and "kept at" in out
    assert kefu("replies", "show", "b1")[0] == 0
    code, out, _ = kefu("backup", "--list", "--json")
    assert len(json.loads(out)) == 2


def test_corrupt_database_is_reported_not_replaced(tmp_path, kefu):
    data = tmp_path / "data"
    data.mkdir()
    (data / "kefu.db").write_bytes(b"\x00garbage" * 100)
    code, _, err = kefu("replies", "list")
    assert code == 3 and "corrupt" in err and "损坏" in err
    assert (data / "kefu.db").read_bytes() == b"\x00garbage" * 100


def test_doctor_reports_paths_and_integrity(kefu):
    code, out, _ = kefu("doctor", "--json")
    report = json.loads(out)
    assert code == 0, report["problems"]
    assert report["integrity"] == ["ok"] and report["journal_mode"] == "wal"
    assert "hotkey_backend" in report and report["replies"] >= 100
    from importlib.metadata import version

    assert report["sqlite_utils_version"] == version("sqlite-utils")  # it has no __version__: not "installed"


def test_doctor_finds_a_damaged_search_index_and_reindex_repairs_it(kefu, tmp_path):
    import sqlite3

    assert kefu("replies", "add", "--title", "退款到账", "--body", "退款原路退回", "--code", "tk9")[0] == 0
    conn = sqlite3.connect(tmp_path / "data" / "kefu.db")
    with conn:
        conn.execute("DELETE FROM search_index_data WHERE id > 10")
    conn.close()
    code, out, _ = kefu("doctor", "--json")
    report = json.loads(out)
    assert code == 1 and report["search_index"] and report["search_index"] != "ok"
    assert any("kefu doctor --reindex" in p and "搜索索引已损坏" in p for p in report["problems"])
    code, out, _ = kefu("doctor")
    assert code == 1 and "kefu doctor --reindex" in out
    code, out, _ = kefu("replies", "search", "退款", "--json")  # meanwhile: a plain scan
    assert code == 0 and "退款到账" in {r["title"] for r in json.loads(out)}
    code, out, _ = kefu("doctor", "--reindex", "--json")
    report = json.loads(out)
    assert code == 0, report["problems"]
    assert report["search_index"] == "ok" and report["reindexed"] >= 100
    code, out, _ = kefu("replies", "search", "tuikuan", "--json")  # pinyin: from the index again
    assert code == 0 and "退款到账" in {r["title"] for r in json.loads(out)}


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_a_subcommand_to_stderr(kefu, where):
    args = ["buyers", "star", "甲", "--platform", "京东"]
    code, _, err = kefu(*(["-v", *args] if where == "before" else [*args, "-v"]))
    assert code == 0
    assert "INFO assistant.core.reminders: buyer 1 starred" in err and "甲" not in err  # ids, never names
    code, _, err = kefu("buyers", "star", "乙", "--platform", "京东")
    assert code == 0 and err == ""  # without -v: quiet


def test_settings_set_and_reject(kefu):
    assert kefu("settings", "set", "ui.width", "420")[0] == 0
    code, out, _ = kefu("settings", "--json")
    assert json.loads(out)["ui.width"] == 420
    code, _, err = kefu("settings", "set", "ui.width", "abc")
    assert code == 2 and "整数" in err


@pytest.mark.parametrize("argv", [["--help"], ["replies", "--help"], ["replies", "import", "--help"],
                                  ["groups", "rm", "--help"], ["doctor", "--help"], ["restore", "--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 0
    assert "--data-dir" in capsys.readouterr().out


def test_module_entry_point_runs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(tmp_path), "groups", "list"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "售前" in proc.stdout


def test_reader_leaving_early_is_not_an_error(tmp_path):
    """`kefu replies list | head -1`: the closed pipe gives no error message."""
    import shlex

    cmd = (f"{shlex.quote(sys.executable)} -m assistant --data-dir {shlex.quote(str(tmp_path))} replies list "
           "| head -1")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=60)
    assert proc.stdout.startswith("ID")
    assert proc.stderr == "" and proc.returncode == 0


def test_import_with_literal_braces_suggests_keep_braces(kefu, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("快捷短语编码,快捷短语,快捷短语分组\r\nz1,满{300}减40,促销\r\n", encoding="utf-8-sig")
    code, _, err = kefu("replies", "import", str(path))
    assert code == 5 and "{300}" in err and "--keep-braces" in err
    code, out, _ = kefu("replies", "import", str(path), "--dry-run", "--keep-braces", "--json")
    assert code == 0 and json.loads(out)["braces_kept"] == 1
    code, out, _ = kefu("replies", "import", str(path), "--keep-braces")
    assert code == 0 and "1 brace(s)" in out
    code, out, _ = kefu("replies", "show", "z1")
    assert "满{{300}}减40" in out


def test_replies_suggest_from_a_buyers_message(kefu, monkeypatch):
    """`kefu replies suggest`: the buyer's message as written (particles, question words) gives the
    replies that answer it, best first; from stdin too; bad input is one line."""
    code, out, _ = kefu("replies", "add", "--title", "退款到账", "--body", "退款原路退回，一般1-3个工作日到账",
                        "--code", "tkdz", "--json")
    assert code == 0
    refund = json.loads(out)["id"]
    code, out, err = kefu("replies", "suggest", "亲 我的退款多久能到账啊", "--json")
    assert code == 0, err
    found = json.loads(out)
    assert found[0]["id"] == refund and found[0]["rank"] == 1 and len(found) <= 3
    code, out, _ = kefu("replies", "suggest", "亲 我的退款多久能到账啊")
    first = next(line for line in out.splitlines() if line.startswith("1 "))
    assert code == 0 and "退款到账" in first
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO("退款多久到账？".encode())))
    code, out, _ = kefu("replies", "suggest", "-", "--json")
    assert code == 0 and json.loads(out)[0]["id"] == refund
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"\xff\xfe bad")))
    code, out, err = kefu("replies", "suggest", "-")
    assert code != 0 and "UTF-8" in err and len(err.strip().splitlines()) == 1
    code, out, err = kefu("replies", "suggest", "  ")
    assert code != 0 and "买家的消息" in err
    code, out, _ = kefu("replies", "suggest", "tkdz", "--json")  # a message is never read as a short code
    assert code == 0 and all(r["id"] != refund or r["how"] != "code" for r in json.loads(out))


def test_the_shops_own_synonyms(kefu):
    """`kefu replies synonyms add`: the shop's words for the same thing apply to the next search, no
    reindex; bad groups are one line and change nothing; rm takes them away again."""
    code, out, _ = kefu("replies", "add", "--title", "亲子装尺码", "--body", "亲子装按大人尺码拍", "--json")
    assert code == 0
    rid = json.loads(out)["id"]
    assert all(r["id"] != rid for r in json.loads(kefu("replies", "search", "家庭装", "--json")[1]))
    code, out, err = kefu("replies", "synonyms", "add", "亲子装", "家庭装")
    assert code == 0, err
    found = json.loads(kefu("replies", "search", "家庭装", "--json")[1])
    assert found[0]["id"] == rid and found[0]["how"] == "synonym"
    listed = json.loads(kefu("replies", "synonyms", "--json")[1])
    assert listed["shop"] == [["亲子装", "家庭装"]] and ["发货", "发出", "寄出", "出库", "发走", "寄"] in listed["shipped"]
    for bad in (["add", "一个词"], ["add", 'a"b', "c"], ["rm", "7"], ["rm", "x"]):
        code, _, err = kefu("replies", "synonyms", *bad)
        assert code != 0 and len(err.strip().splitlines()) == 1, (bad, err)
    assert json.loads(kefu("replies", "synonyms", "--json")[1])["shop"] == [["亲子装", "家庭装"]]
    assert kefu("replies", "synonyms", "rm", "1")[0] == 0
    assert all(r["id"] != rid for r in json.loads(kefu("replies", "search", "家庭装", "--json")[1]))
