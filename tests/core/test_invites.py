"""Review invites (issue 14): a 邀评 only to a pleased buyer; never to one who is angry, unhappy,
confused, unanswered, in after-sales or did not buy; which replies are review invites."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.core import customers, invites, reminders, replies
from assistant.core import settings as app_settings
from assistant.errors import ValidationError


def buyer(store, nickname="小鱼", **kw):
    return reminders.star(store, platform="taobao", nickname=nickname, **kw)


def test_a_pleased_buyer_may_be_invited_and_an_unmarked_one_not_yet(store):
    b = buyer(store)
    v = invites.verdict(store, b.id)
    assert not v.allowed and v.why == "not_marked" and "满意" in v.zh
    b = invites.set_mood(store, b.id, "满意")
    assert b.mood == "pleased" and b.mood_at is not None
    assert invites.verdict(store, b.id) == invites.Verdict(True, "pleased", "买家满意，可以邀评",
                                                           "the buyer is pleased: a review invite is fine")
    assert customers.events(store, b.id, "mood")[-1]["detail"] == "pleased"
    b = invites.set_mood(store, b.id, "clear")
    assert b.mood is None and b.mood_at is None


@pytest.mark.parametrize(("mood", "why"), [("angry", "angry"), ("unhappy", "unhappy"), ("confused", "confused")])
def test_an_upset_buyer_is_never_invited(store, mood, why):
    b = invites.set_mood(store, buyer(store).id, mood)
    v = invites.verdict(store, b.id)
    assert not v.allowed and v.why == why


def test_blocking_facts_beat_a_pleased_mood(store):
    b = invites.set_mood(store, buyer(store, open_questions=True).id, "pleased")
    assert invites.verdict(store, b.id).why == "unanswered"
    b = invites.set_mood(store, buyer(store, "售后买家", marks=["售后中"]).id, "pleased")
    assert invites.verdict(store, b.id).why == "after_sales"
    b = invites.set_mood(store, buyer(store, "没买的").id, "pleased")
    reminders.outcome(store, b.id, "lost")
    assert invites.verdict(store, b.id).why == "did_not_buy"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mood=st.sampled_from([None, *invites.MOODS]), questions=st.booleans(), after_sales=st.booleans(),
       outcome=st.sampled_from([None, "paid", "lost", "pause"]))
def test_allowed_exactly_when_pleased_and_nothing_stands_against_it(store, mood, questions, after_sales, outcome):
    with store.write() as db:
        db.execute("DELETE FROM buyers")
    b = buyer(store, "随机", marks=["售后中"] if after_sales else [], open_questions=questions)
    if outcome:
        reminders.outcome(store, b.id, outcome)
    invites.set_mood(store, b.id, mood or "clear")
    expected = mood == "pleased" and not questions and not after_sales and outcome != "lost"
    assert invites.verdict(store, b.id).allowed is expected


def test_bad_moods_are_one_line_errors_and_change_nothing(store):
    b = invites.set_mood(store, buyer(store).id, "calm")
    with pytest.raises(ValidationError) as e:
        invites.set_mood(store, b.id, "ecstatic")
    assert "心情" in e.value.zh and "Unknown mood" in e.value.en
    assert customers.get_buyer(store, b.id).mood == "calm"


def test_invite_replies_are_those_in_a_review_group_nested_too(store):
    replies.seed_defaults(store)
    shipped = {r["title"] for r in invites.invite_replies(store)}
    assert {"收货满意", "客户夸奖"} <= shipped and len(shipped) == 6
    parent = replies.create_group(store, "回访评价")
    child = replies.create_group(store, "夏季", parent=parent.id)  # under a review group: an invite too
    mine = replies.create_reply(store, body="亲，用得好的话帮忙写个评价～", title="我的邀评", group=child.id)
    other = replies.create_reply(store, body="亲，欢迎再来～", title="回访", group=replies.create_group(store, "回访").id)
    ids = invites.invite_reply_ids(store)
    assert mine.id in ids and other.id not in ids
    app_settings.set(store, "invites.group_words", ["好评"])  # a shop's own naming: only 好评 groups
    kept = replies.create_reply(store, body="亲，满意的话给个评价吧", title="好评", group=replies.create_group(store, "好评模板").id)
    assert invites.invite_reply_ids(store) == {kept.id}


def test_the_guard_carries_the_buyer_the_invite_ids_and_the_verdict(store):
    replies.seed_defaults(store)
    b = buyer(store)
    g = invites.guard(store, b.id)
    assert g.buyer_id == b.id and g.reply_ids == invites.invite_reply_ids(store) and not g.verdict.allowed


def test_an_after_sales_case_blocks_invites_until_solved_with_the_buyer_calm(store):
    from assistant.core import aftersales

    b = buyer(store)
    case = aftersales.open_case(store, buyer_id=b.id, problem="收到破损", category="quality", severity="light",
                                wanted="compensation", mood="upset")
    assert invites.verdict(store, b.id).why == "unhappy"  # one mood per buyer: the case's
    aftersales.advance_step(store, case.id)  # heard out: 安抚中
    aftersales.update_case(store, case.id, mood="calm")
    assert customers.get_buyer(store, b.id).mood == "calm"
    assert invites.verdict(store, b.id).why == "after_sales"  # still open
    aftersales.resolve(store, case.id, "explained")
    v = invites.verdict(store, b.id)
    assert v.allowed and v.why == "case_solved"
    invites.set_mood(store, b.id, "angry")  # the agent's later mark wins
    assert invites.verdict(store, b.id).why == "angry"


def test_one_mood_per_buyer_a_case_and_the_mood_chips_agree(store):
    """A case's mood is the buyer's mood, and a chip clicked while a case is open is the case's (in
    its three words, with a line in its history); confused leaves the case as it was."""
    from assistant.core import aftersales

    b = buyer(store)
    case = aftersales.open_case(store, buyer_id=b.id, problem="发错货", category="wrong_item", severity="medium",
                                wanted="exchange", mood="angry")
    assert customers.get_buyer(store, b.id).mood == "angry"
    invites.set_mood(store, b.id, "unhappy")  # the 不满 chip in the 客户 tab
    assert aftersales.get_case(store, case.id).mood == "upset"
    assert [e.detail for e in aftersales.history(store, case.id) if e.kind == "updated"] == ["mood=upset"]
    invites.set_mood(store, b.id, "confused")
    assert aftersales.get_case(store, case.id).mood == "upset"
    invites.set_mood(store, b.id, "pleased")
    assert aftersales.get_case(store, case.id).mood == "calm"
    aftersales.update_case(store, case.id, mood="不满意")  # the buyer-mood word works for a case too
    assert (aftersales.get_case(store, case.id).mood, customers.get_buyer(store, b.id).mood) == ("upset", "unhappy")
    # a second case of the same buyer follows the first's mood change
    other = aftersales.open_case(store, buyer_id=b.id, problem="少发配件", category="wrong_item",
                                 severity="light", wanted="compensation", mood="calm")
    aftersales.update_case(store, case.id, mood="angry")
    assert aftersales.get_case(store, other.id).mood == "angry"


def test_solved_while_upset_then_marked_calm_may_be_invited(store):
    """The agent solves the case and then clicks 平静: the buyer is calm with a case solved this week."""
    from assistant.core import aftersales

    b = buyer(store)
    case = aftersales.open_case(store, buyer_id=b.id, problem="有划痕", category="quality", severity="light",
                                wanted="compensation", mood="upset")
    aftersales.advance_step(store, case.id)
    aftersales.resolve(store, case.id, "explained")
    assert invites.verdict(store, b.id).why == "unhappy"
    invites.set_mood(store, b.id, "calm")
    v = invites.verdict(store, b.id)
    assert v.allowed and v.why == "case_solved"
