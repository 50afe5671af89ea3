"""The shipped default library: what an agent gets on first start."""

import re
from collections import Counter

from assistant.core import replies, templates
from assistant.paths import resource_path

ITEMS = replies.load_library_file(resource_path("library", "default.json"))


def test_enough_replies_in_every_required_group():
    by_top = Counter(path[0] for path, _ in ITEMS)
    for group in ("售前", "催单催付", "提升客单", "大促常规", "大促营销", "售后安抚", "挽单", "邀评"):
        assert by_top[group] >= 5, group
    assert sum(1 for _, r in ITEMS if r["language"] == "zh") >= 80
    for lang in ("en", "ru", "es"):
        assert sum(1 for _, r in ITEMS if r["language"] == lang) >= 8, lang


def test_chase_scripts_cover_all_five_angles_several_times():
    angles = Counter(r["angle"] for path, r in ITEMS if path[0] == "催单催付")
    for angle in replies.ANGLES:
        assert angles[angle] >= 3, angle


def test_every_reply_has_a_unique_code_and_valid_fields():
    codes = [r["code"].lower() for _, r in ITEMS]
    assert len(codes) == len(set(codes))
    for _, r in ITEMS:
        assert re.fullmatch(r"[a-z0-9]{2,6}", r["code"])
        templates.validate(r["body"])
    assert sum(1 for _, r in ITEMS if templates.fields_in(r["body"])) >= 30


def test_review_invitations_are_compliant():
    forbidden = ("返现", "红包", "返钱", "好评返", "五星返", "cashback", "refund for")
    for path, r in ITEMS:
        if path[0] == "邀评" or "review" in r["title"].lower():
            assert not any(word in r["body"].lower() for word in forbidden), r["title"]
