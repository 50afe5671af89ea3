"""Review invites (邀评): ask for a review only when the buyer is pleased (shared/domain.md, "Inviting
a review"; issue 14).

The agent marks the buyer's mood in one click (pleased / calm / unhappy / angry / confused). A
review invite is allowed when the buyer is pleased (paid and said thanks, the product fits, praised
the agent). Never when the buyer is angry, unhappy, still confused, has a question not yet answered,
is in an after-sales case, or did not buy. Also allowed: an after-sales case solved in the last 7 days
with the buyer calm (and not marked otherwise since). Unmarked: not yet - the agent confirms first.

Which replies are review invites: those in a group (or under a group) whose name holds one of the
words of the setting `invites.group_words` (邀评, 评价, review by default) - the shipped library's
邀评 group, and whatever a shop names its own. The panel offers them only when allowed and the
paste flow warns before one goes out to a buyer for whom it is not (assistant/services/pasteflow.py:
the verdict is computed here, off the hotkey path, whenever the buyer in context changes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import ValidationError
from . import caseguard, caseteam, customers, settings
from .clock import to_db
from .store import Store

log = logging.getLogger(__name__)

# code -> (中文, English) as shown on the one-click buttons
MOODS: dict[str, tuple[str, str]] = {
    "pleased": ("满意", "Happy"),
    "calm": ("平静", "Calm"),
    "unhappy": ("不满", "Upset"),
    "angry": ("生气", "Angry"),
    "confused": ("疑惑", "Confused"),
}
_ALIASES = {"开心": "pleased", "高兴": "pleased", "好评": "pleased", "夸奖": "pleased", "满意": "pleased",
            "平静": "calm", "一般": "calm", "不满": "unhappy", "不满意": "unhappy", "失望": "unhappy",
            "生气": "angry", "愤怒": "angry", "疑惑": "confused", "困惑": "confused", "不懂": "confused"}
CLEAR = ("clear", "none", "清除", "无")
DEFAULT_GROUP_WORDS = ("邀评", "评价", "review")
SOLVED_RECENTLY = timedelta(days=7)  # an after-sales case solved with the buyer calm, this recently


@dataclass(frozen=True)
class Verdict:
    """May a review invite go to this buyer now? `why` is a code; zh/en the reason shown."""

    allowed: bool
    why: str
    zh: str
    en: str

    def to_dict(self) -> dict[str, object]:
        return {"allowed": self.allowed, "why": self.why, "reason_zh": self.zh, "reason": self.en}


@dataclass(frozen=True)
class ReviewGuard:
    """What the paste flow needs to warn on the hotkey path with a set lookup: the buyer in
    context, the review-invite replies and the verdict for that buyer."""

    buyer_id: int
    reply_ids: frozenset[int]
    verdict: Verdict


def normalize_mood(text: str | None) -> str | None:
    raw = str(text or "").strip()
    if raw.lower() in CLEAR:
        return None
    if raw.lower() in MOODS:
        return raw.lower()
    if raw in _ALIASES:
        return _ALIASES[raw]
    choices = "、".join(zh for zh, _ in MOODS.values())
    raise ValidationError(f"心情“{raw}”无效，可选：{choices}（或“清除”）",
                          f"Unknown mood '{raw}'; one of {', '.join(MOODS)} (or clear)", field="mood")


def set_mood(store: Store, buyer_id: int, mood: str | None, now: datetime | None = None) -> customers.Buyer:
    """Mark (or clear, with None/"clear") the buyer's mood: one transaction, logged as an event. One
    mood per buyer: the buyer's open after-sales cases take it too (in their three words)."""
    code = normalize_mood(mood) if mood is not None else None
    now = now or store.clock.now()
    with store.write():
        buyer = customers.get_buyer(store, buyer_id)
        customers.write_mood(store, buyer.id, code, now)
        if code in caseguard.CASE_MOOD:  # the open cases take it; cleared or confused: they keep theirs
            by = customers.team_role(store) or str(settings.get(store, "agent.name") or "")
            mark = caseteam.event_mark(store)
            caseguard.follow_mood(store, buyer.id, caseguard.CASE_MOOD[code], to_db(now), by)
            caseteam.queue_buyer_cases(store, buyer.id, mark)  # team mode: shared cases take it too
    log.info("buyer %s mood %s", buyer_id, code or "cleared")
    return customers.get_buyer(store, buyer_id)


def verdict(store: Store, buyer_id: int) -> Verdict:
    """The rules, first match wins (see the module docstring)."""
    b = customers.get_buyer(store, buyer_id)
    if b.mood == "angry":
        return Verdict(False, "angry", "买家在生气：先安抚，现在不要邀评", "the buyer is angry: calm them first, no review invite now")
    if b.mood == "unhappy":
        return Verdict(False, "unhappy", "买家不满意：先把问题解决，再谈评价",
                       "the buyer is unhappy: solve the problem before asking for a review")
    if b.mood == "confused":
        return Verdict(False, "confused", "买家还有疑惑：先讲清楚，不要邀评",
                       "the buyer is still confused: explain first, no review invite")
    if b.open_questions:
        return Verdict(False, "unanswered", "买家的问题还没答复：先答疑", "the buyer's question has no answer yet")
    if caseguard.in_after_sales(store, b.id):  # an open case, or the 售后中 mark
        return Verdict(False, "after_sales", "售后还没处理完：结案且买家满意后再邀评",
                       "an after-sales problem is still open: invite once it is solved and the buyer is pleased")
    if b.state == "lost":
        return Verdict(False, "did_not_buy", "买家没有下单：不邀评", "the buyer did not buy: no review invite")
    if b.mood == "pleased":
        return Verdict(True, "pleased", "买家满意，可以邀评", "the buyer is pleased: a review invite is fine")
    # one mood per buyer: calm now (a chip, or the case's mood), or unmarked with the case closed calm
    if b.mood in (None, "calm") and store.query(
            "SELECT 1 FROM aftersales_cases WHERE buyer_id = ? AND status IN ('resolved', 'closed') "
            "AND (? = 'calm' OR mood = 'calm') AND IFNULL(outcome, '') != 'withdrawn' AND closed_at >= ? LIMIT 1",
            (b.id, b.mood or "", to_db(store.clock.now() - SOLVED_RECENTLY))):
        return Verdict(True, "case_solved", "售后已解决，买家平静，可以邀评",
                       "the after-sales problem was solved and the buyer is calm: a review invite is fine")
    return Verdict(False, "not_marked", "还不确定买家是否满意：确认满意后点“满意”再邀评",
                   "not known whether the buyer is pleased: mark them Happy first")


def _group_words(store: Store) -> tuple[str, ...]:
    words = settings.get(store, "invites.group_words")
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        return DEFAULT_GROUP_WORDS
    return tuple(w for w in (x.strip() for x in words) if w) or DEFAULT_GROUP_WORDS


def invite_groups(store: Store) -> set[int]:
    """Ids of the groups whose name, or an ancestor's, holds a review word."""
    words = [w.lower() for w in _group_words(store)]
    rows = {r["id"]: (r["name"], r["parent_id"]) for r in store.query("SELECT id, name, parent_id FROM groups")}
    out = set()
    for gid in rows:
        seen, cur = set(), gid
        while cur is not None and cur not in seen:
            seen.add(cur)
            name, parent = rows[cur]
            if any(w in name.lower() for w in words):
                out.add(gid)
                break
            cur = parent if parent in rows else None
    return out


def invite_reply_ids(store: Store) -> frozenset[int]:
    groups = sorted(invite_groups(store))
    if not groups:
        return frozenset()
    marks = ",".join("?" * len(groups))
    return frozenset(r["id"] for r in store.query(f"SELECT id FROM replies WHERE group_id IN ({marks})", tuple(groups)))


def invite_replies(store: Store) -> list[dict]:
    """The review-invite scripts (id, title, code), most used first: what the 邀评 button offers."""
    ids = sorted(invite_reply_ids(store))
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [dict(r) for r in store.query(
        f"SELECT id, title, code, language FROM replies WHERE id IN ({marks}) "
        f"ORDER BY use_count DESC, position, id", tuple(ids))]


def guard(store: Store, buyer_id: int) -> ReviewGuard:
    return ReviewGuard(int(buyer_id), invite_reply_ids(store), verdict(store, buyer_id))
