"""The compliance check (assistant/core/compliance.py): the rules over a corpus of scripts with known
verdicts, the default library, allowed contexts, the after-sales scope, a shop's own rules (merged,
and malformed), and the flags stored when a reply is saved, imported or pulled from a shop library."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from sqlite_utils import Database

from assistant.core import compliance, outbox, replies, transfer
from assistant.core.migrations import migrations
from assistant.core.store import open_store
from assistant.paths import resource_path

CORPUS = json.loads((Path(__file__).parent / "data" / "compliance_corpus.json").read_text(encoding="utf-8"))["scripts"]
SHIPPED = compliance.load_rules()


def categories(text: str, group: str = "", angle: str | None = None, language: str = "zh",
               rules: compliance.RuleSet = SHIPPED) -> set[str]:
    return {f.category for f in compliance.check(text, rules, group_path=group, angle=angle, language=language)}


# ---------------------------------------------------------------- the corpus


def test_the_corpus_is_big_enough_and_has_both_kinds_in_every_category():
    assert len(CORPUS) >= 60
    flagged = [s for s in CORPUS if s["expect"]]
    clean = [s for s in CORPUS if not s["expect"]]
    assert len(flagged) >= 30 and len(clean) >= 30
    by_category = Counter(c for s in flagged for c in s["expect"])
    assert set(by_category) == {"review_reward", "refusal", "absolute", "urgency"}
    assert min(by_category.values()) >= 6
    assert sum(1 for s in CORPUS if s["set"] == "holdout") >= 30


@pytest.mark.parametrize("script", CORPUS, ids=[f"{n}-{s['set']}" for n, s in enumerate(CORPUS)])
def test_each_corpus_script_gets_its_expected_verdict(script):
    got = categories(script["text"], script["group"], script.get("angle"), script.get("language", "zh"))
    assert got == set(script["expect"]), script["text"]


def test_precision_and_recall_on_the_corpus_and_the_default_library(capsys):
    """Script-level figures (a script is flagged or not), printed; each set must stay at 100 %
    precision (no compliant script flagged) and recall (no bad script let through)."""
    lines = []
    for name in ("dev", "holdout"):
        tp = fp = fn = tn = 0
        for s in (s for s in CORPUS if s["set"] == name):
            flagged = bool(categories(s["text"], s["group"], s.get("angle"), s.get("language", "zh")))
            tp += flagged and bool(s["expect"])
            fp += flagged and not s["expect"]
            fn += not flagged and bool(s["expect"])
            tn += not flagged and not s["expect"]
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        lines.append(f"compliance corpus {name}: {tp + fp + fn + tn} scripts, {tp + fn} non-compliant; "
                     f"precision {precision:.1%}, recall {recall:.1%} (tp {tp}, fp {fp}, fn {fn}, tn {tn})")
        assert (fp, fn) == (0, 0), lines[-1]
    library = replies.load_library_file(resource_path("library", "default.json"))
    flagged = [item["title"] for path, item in library
               if compliance.check(item["body"], SHIPPED, group_path="/".join(path), angle=item.get("angle"),
                                   language=item.get("language", "zh"))]
    lines.append(f"default library: {len(library)} replies, {len(flagged)} flagged (false positives)")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert flagged == []


# ---------------------------------------------------------------- the default library


def test_the_default_library_passes_its_own_check():
    for path, item in replies.load_library_file(resource_path("library", "default.json")):
        found = compliance.check(item["body"], SHIPPED, group_path="/".join(path), angle=item.get("angle"),
                                 language=item.get("language", "zh"))
        assert found == [], (item["title"], compliance.summary(found))


@pytest.mark.parametrize("old", [
    "{活动}这个价已经是今年最低了",
    "这款是我们店回购率最高的",
    "券的数量有限，领完就没有了～",
    "预售期的价格是最实惠的",
    "{商品}卖得最好的是黑色和燕麦色",
    "补贴名额用完就回到原价",
    "现在付款还能赶上今天最后一批发货",
])
def test_what_the_old_library_said_is_flagged(old):
    """The phrases the rewrite removed from resources/library (issue 14) are findings."""
    assert categories(old, "催单催付/价格优惠")


def test_findings_carry_the_rule_the_span_and_a_suggested_wording():
    text = "亲，给个五星好评，截图找客服返现10元哦"
    [f] = compliance.check(text, SHIPPED, group_path="邀评")
    assert (f.rule, f.category, f.category_zh, f.category_en) == ("review-reward", "review_reward", "好评返现",
                                                                  "Reward for a review")
    assert text[f.start:f.end] == f.text == "五星好评，截图找客服返现"
    assert "好评" in f.message_zh and "review" in f.message_en
    assert f.suggestion_zh and f.suggestion_en and "返现" not in f.suggestion_zh
    assert compliance.loads(compliance.dumps([f])) == [f]
    assert compliance.loads("not json") == [] and compliance.loads(None) == []


# ---------------------------------------------------------------- contexts and scope


@pytest.mark.parametrize("text", [
    "有异常我第一时间联系您",
    "最好在{截止时间}前下单，活动结束就恢复原价",
    "最好在{deadline}前下单",
    "这款是100%纯棉的",
    "付款后第一批安排出库",
    "{活动}最后一天，今晚24点结束",
    "{promotion}期间名额有限，先到先得",
])
def test_allowed_contexts_are_not_flagged(text):
    assert categories(text, "售前") == set()


def test_urgency_is_fine_only_in_the_sentence_that_names_the_promotion_or_deadline():
    assert categories("{活动}到{截止时间}结束。仅剩最后3件！", "催单") == {"urgency"}
    assert categories("{活动}到{截止时间}结束，仅剩最后3件！", "催单") == set()


def test_flat_refusals_count_only_in_after_sales_replies():
    text = "亲，这个不支持退换哦"
    assert categories(text, "售前/商品咨询") == set()
    for group in ("售后安抚", "挽单", "售后/退换货", "店铺A/售后"):
        assert categories(text, group) == {"refusal"}, group
    assert categories(text, "未分组", angle="aftersales") == {"refusal"}


def test_full_width_and_emoji_keep_the_spans_of_the_saved_text():
    text = "😊亲，５星好评返现２元"
    [f] = compliance.check(text, SHIPPED)
    assert text[f.start:f.end] == f.text and f.text.startswith("５星")


def test_strict_error_is_a_validation_error_with_its_own_exit_code():
    found = compliance.check("全网最低价", SHIPPED)
    exc = compliance.FlaggedError(found)
    assert exc.exit_code == 7 and exc.field == "body"
    assert "绝对化用语“全网最低价”" in exc.zh and 'Absolute claim "全网最低价"' in exc.en


# ---------------------------------------------------------------- a shop's own rules


def write_rules(path: Path, rules: list, **extra) -> Path:
    path.write_text(json.dumps({"format": compliance.FORMAT, "version": 1, "rules": rules, **extra},
                               ensure_ascii=False), encoding="utf-8")
    return path


OWN_RULE = {"id": "shop-wechat", "category": "off_platform", "patterns": ["加(微信|vx|V信)"],
            "allow": ["加微信支付"],
            "message": {"zh": "引导买家加微信属于站外导流", "en": "Taking buyers off the platform"},
            "suggestion": {"zh": "有问题随时在这里找我", "en": "Message me here anytime"}}


def test_a_shop_adds_a_rule_and_a_category_overrides_one_and_turns_one_off(tmp_path):
    own = write_rules(tmp_path / compliance.USER_FILE, [
        OWN_RULE,
        {"id": "absolute-percent", "enabled": False},
        {**OWN_RULE, "id": "refusal-flat", "category": "refusal", "scope": "after_sales", "patterns": ["不行"],
         "allow": []},
    ], categories={"off_platform": {"zh": "站外导流", "en": "Off-platform contact"}},
        after_sales={"groups": ["客诉"]})
    rules = compliance.load_rules(own)
    assert rules.problem is None
    [f] = compliance.check("亲，加微信发您优惠", rules)
    assert (f.rule, f.category_zh, f.message_en) == ("shop-wechat", "站外导流", "Taking buyers off the platform")
    assert categories("加微信支付也可以", rules=rules) == set()
    assert categories("100%正品", rules=rules) == set()  # turned off
    assert categories("100%正品") == {"absolute"}  # still on without the shop's file
    assert categories("不支持退换", "售后", rules=rules) == set()  # the shop's refusal-flat only has 不行
    assert categories("这个不行", "客诉处理", rules=rules) == {"refusal"}  # its own after-sales group
    assert categories("全网最低价", rules=rules) == {"absolute"}  # the rest of the shipped rules apply
    assert rules.signature != SHIPPED.signature


@pytest.mark.parametrize(("content", "says"), [
    ("{oops", "not valid JSON (line 1"),
    (json.dumps({"format": "something else", "rules": []}), "not a compliance rules file"),
    (json.dumps({"format": compliance.FORMAT, "rules": [{**OWN_RULE, "category": "absolute", "patterns": ["加(微信"]}]}),
     "not a valid regular expression"),
    (json.dumps({"format": compliance.FORMAT, "rules": [OWN_RULE]}), "category 'off_platform' is not defined"),
    (json.dumps({"format": compliance.FORMAT, "rules": [{**OWN_RULE, "category": "absolute", "message": "x"}]}),
     None),
    (json.dumps({"format": compliance.FORMAT, "rules": [{**OWN_RULE, "category": "absolute",
                                                          "unless_fields": ["运单"]}]}), "not a fill-in field"),
    (json.dumps({"format": compliance.FORMAT, "rules": [{**OWN_RULE, "category": "absolute", "patern": ["x"]}]}),
     "unknown keys: patern"),
    ("\ufeff" + json.dumps({"format": compliance.FORMAT, "rules": "all"}), "rules must be a list"),
])
def test_a_malformed_shop_file_is_one_bilingual_message_and_the_shipped_rules_still_apply(tmp_path, content, says):
    path = tmp_path / compliance.USER_FILE
    path.write_text(content, encoding="utf-8")
    rules = compliance.load_rules(path)
    if says is None:  # a one-language message is accepted: the same text is shown in both languages
        assert rules.problem is None
        return
    assert rules.problem is not None
    zh, en = rules.problem
    assert str(path) in zh and str(path) in en
    assert "自定义合规规则文件" in zh and "仍按内置规则检查" in zh and "\n" not in zh
    assert says in en and "built-in rules still apply" in en
    assert rules.signature == SHIPPED.signature
    assert categories("全网最低价", rules=rules) == {"absolute"}


def test_a_shop_file_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / compliance.USER_FILE
    path.write_bytes("{\"format\": \"好\"}".encode("gbk"))
    assert "not UTF-8" in compliance.load_rules(path).problem[1]


# ---------------------------------------------------------------- stored with the reply


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "data" / "kefu.db")
    yield s
    s.close()


def test_saving_stores_the_findings_and_strict_saves_nothing(store):
    reply = replies.create_reply(store, body="亲，给个五星好评，截图找客服返现10元哦", group="邀评")
    assert [f.rule for f in reply.compliance] == ["review-reward"]
    assert [f.rule for f in replies.get_reply(store, reply.id).compliance] == ["review-reward"]
    stored = store.query("SELECT compliance FROM replies WHERE id = ?", (reply.id,))[0]["compliance"]
    assert json.loads(stored)[0]["text"] == "五星好评，截图找客服返现"
    count = replies.count_replies(store)
    with pytest.raises(compliance.FlaggedError):
        replies.create_reply(store, body="全网最低价", code="low", strict=True)
    assert replies.count_replies(store) == count and not store.query("SELECT 1 FROM replies WHERE code = 'low'")
    clean = replies.create_reply(store, body="亲，欢迎光临～", strict=True)
    assert clean.compliance == [] and store.query("SELECT compliance FROM replies WHERE id = ?",
                                                  (clean.id,))[0]["compliance"] == "[]"
    with pytest.raises(compliance.FlaggedError):
        replies.update_reply(store, clean.id, body="仅剩最后3件，手慢无", strict=True)
    assert replies.get_reply(store, clean.id).body == "亲，欢迎光临～"
    fixed = replies.update_reply(store, reply.id, body="亲，用着满意的话，欢迎在订单里分享真实感受～")
    assert fixed.compliance == [] and replies.flagged_replies(store) == []


def test_moving_a_reply_or_renaming_its_group_into_after_sales_checks_it_again(store):
    reply = replies.create_reply(store, body="亲，这个真的不行", group="常用")
    assert reply.compliance == []
    assert [f.rule for f in replies.update_reply(store, reply.id, group="售后安抚").compliance] == ["refusal-flat"]
    replies.update_reply(store, reply.id, group="常用")
    assert replies.get_reply(store, reply.id).compliance == []
    replies.rename_group(store, "常用", "售后常用")
    assert [f.rule for f in replies.get_reply(store, reply.id).compliance] == ["refusal-flat"]
    other = replies.create_reply(store, body="不可以哦", group="杂项")
    replies.delete_group(store, "杂项", move_to="售后常用")
    assert [f.rule for f in replies.get_reply(store, other.id).compliance] == ["refusal-flat"]


def test_a_pulled_shop_reply_is_checked_on_the_receiving_side(store):
    row = {"id": "0d5e5a4e-9c7e-4a55-8a0b-0b5f3c1e2d11", "deleted": False, "body": "全网最低价，放心拍", "title": "底价",
           "code": None, "language": "zh", "platforms": [], "angle": None, "group_path": "大促营销",
           "shop": "7f1c0d9e-1111-4222-8333-944455556666", "version": 3}
    with store.write():
        assert replies.apply_shop_row(store, row) == "added"
    reply = replies.get_reply(store, row["id"])
    assert reply.shop == row["shop"] and [f.rule for f in reply.compliance] == ["absolute-price"]
    with store.write():
        assert replies.apply_shop_row(store, {**row, "body": "活动价到{截止时间}结束", "version": 4}) == "updated"
    assert replies.get_reply(store, row["id"]).compliance == []
    assert not outbox.has_pending(store, row["id"])


def test_the_shop_file_in_the_data_folder_applies_and_a_change_rechecks_every_reply_once(store):
    reply = replies.create_reply(store, body="亲，加微信发您优惠", group="售前")
    assert reply.compliance == []
    write_rules(compliance.user_rules_path(store), [OWN_RULE],
                categories={"off_platform": {"zh": "站外导流", "en": "Off-platform contact"}})
    assert replies.ensure_compliance(store) == 1
    assert [f.rule for f in replies.get_reply(store, reply.id).compliance] == ["shop-wechat"]
    assert replies.ensure_compliance(store) == 0  # signature stored: nothing to do
    compliance.user_rules_path(store).write_text("{broken", encoding="utf-8")
    assert replies.ensure_compliance(store) == 1  # back to the shipped rules
    assert replies.get_reply(store, reply.id).compliance == []


def test_an_old_library_is_checked_once_after_the_migration(tmp_path):
    path = tmp_path / "kefu.db"
    db = Database(sqlite3.connect(str(path)))
    migrations.apply(db, stop_before="0010_reply_compliance")
    db.execute("INSERT INTO groups (id, uuid, name, created_at, updated_at) VALUES (1, 'g', '大促营销', 'x', 'x')")
    for n, body in enumerate(("这个价已经是今年最低了", "亲，欢迎光临～")):
        db.execute("INSERT INTO replies (uuid, group_id, title, body, created_at, updated_at) "
                   "VALUES (?, 1, ?, ?, 'x', 'x')", (f"r{n}", f"t{n}", body))
    db.conn.commit()
    db.conn.close()
    store = open_store(path)
    try:
        assert [r["compliance"] for r in store.query("SELECT compliance FROM replies ORDER BY id")] == [None, None]
        replies.seed_defaults(store)  # where the app and the CLI run the one-time step
        values = [r["compliance"] for r in store.query("SELECT compliance FROM replies ORDER BY id")]
        assert json.loads(values[0])[0]["rule"] == "absolute-price" and values[1] == "[]"
        assert replies.ensure_compliance(store) == 0
    finally:
        store.close()


def test_the_paste_path_runs_no_rule(store, monkeypatch):
    replies.create_reply(store, body="亲，{客户}您好", hotkey="Ctrl+Alt+5", code="p1")

    def refuse(*args, **kwargs):
        raise AssertionError("the compliance check ran on the paste path")

    monkeypatch.setattr(compliance, "check", refuse)
    monkeypatch.setattr(compliance, "load_rules", refuse)
    snapshot = replies.load_paste_snapshot(store)
    row = next(r for r in snapshot.rows.values() if r.hotkey == "Ctrl+Alt+5")
    assert replies.render_row(row, {"客户": "小王"}).text == "亲，小王您好"
    replies.record_use(store, row.id, via="hotkey")


# ---------------------------------------------------------------- import


def test_an_import_flags_replies_lists_them_and_imports_everything(store, tmp_path):
    csv_file = tmp_path / "phrases.csv"
    csv_file.write_text("快捷短语编码,快捷短语,快捷短语分组\n"
                        "a1,亲，给个五星好评，截图找客服返现10元哦,邀评\n"
                        "a2,亲，欢迎光临～,问候\n"
                        "a3,这个不支持退换,售后\n"
                        "a4,这个不支持退换,售前\n"
                        "a5,\"全网最低价\n仅剩最后3件\",大促\n", encoding="utf-8")
    plan = transfer.plan_import(store, csv_file)
    assert [i.code for i in plan.flagged] == ["a1", "a3", "a5"]
    result = transfer.import_file(store, csv_file)
    assert result.added == 5
    assert [(i.code, sorted({f.category for f in i.findings})) for i in result.flagged] == [
        ("a1", ["review_reward"]), ("a3", ["refusal"]), ("a5", ["absolute", "urgency"])]
    stored = {r.code: [f.rule for f in r.compliance] for r in replies.list_replies(store) if r.code in
              ("a1", "a2", "a3", "a4", "a5")}
    assert stored == {"a1": ["review-reward"], "a2": [], "a3": ["refusal-flat"], "a4": [],
                      "a5": ["absolute-price", "urgency-scarcity"]}
    span = replies.get_reply(store, "a5").compliance[1]
    assert replies.get_reply(store, "a5").body[span.start:span.end] == "仅剩最后3件"
    # replacing a Qianniu phrase checks the new text in the reply's group
    csv_file.write_text("快捷短语编码,快捷短语,快捷短语分组\na5,活动价到{截止时间}结束,大促\n", encoding="utf-8")
    result = transfer.import_file(store, csv_file, replace=True)
    assert result.replaced == 1 and result.flagged == [] and replies.get_reply(store, "a5").compliance == []


def test_the_readme_example_is_a_working_shop_rules_file(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Compliance check"):]
    example = section[section.index("```json") + len("```json"):section.index("```\n", section.index("```json"))]
    path = tmp_path / compliance.USER_FILE
    path.write_text(example, encoding="utf-8")
    rules = compliance.load_rules(path)
    assert rules.problem is None
    assert categories("亲，加vx发您优惠", rules=rules) == {"off_platform"}
    assert categories("100%正品", rules=rules) == set()
    assert categories("这个不行", "客诉", rules=rules) == {"refusal"}
