"""Whether a buyer is in after-sales: an open after-sales case, or the 售后中 mark (set by hand, or by
core/aftersales.py while a case is open). The one question core/reminders.py asks about after-sales:
such a buyer gets no sales chase and no promotion wave slot. Kept apart from core/aftersales.py,
which sits above reminders, so reminders never imports it."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable, Sequence
from typing import Any

from .store import Store

# The open statuses of aftersales_cases (新建, 安抚中, 方案已提出, 待仓库, 待主管); resolved and closed end a case.
OPEN_STATUSES = ("new", "calming", "proposed", "warehouse", "manager")
_OPEN_SQL = "status IN ('new', 'calming', 'proposed', 'warehouse', 'manager')"
_MARKED_SQL = ("SELECT l.buyer_id FROM buyer_mark_links l JOIN buyer_marks m ON m.id = l.mark_id "
               "WHERE m.code = 'after_sales'")

# One mood per buyer. A case keeps it in three words, the buyer's mood chips (core/invites.py) in five:
# a case's mood sets the buyer's, and a chip clicked sets the open cases' (confused: unchanged).
BUYER_MOOD = {"calm": "calm", "upset": "unhappy", "angry": "angry"}
CASE_MOOD = {"pleased": "calm", "calm": "calm", "unhappy": "upset", "angry": "angry"}

# The chase proposal's block code (message in core/cadence.MESSAGES).
BLOCK_AFTER_SALES = "after_sales_open"


def in_after_sales(store: Store, buyer_id: int) -> bool:
    bid = int(buyer_id)
    return bool(store.query(f"SELECT 1 FROM aftersales_cases WHERE buyer_id = ? AND {_OPEN_SQL} "
                            f"UNION ALL {_MARKED_SQL} AND l.buyer_id = ? LIMIT 1", (bid, bid)))


def buyers_in_after_sales(store: Store, buyer_ids: Iterable[int] | None = None) -> set[int]:
    """The buyers (of buyer_ids, or all) with an open case or the 售后中 mark."""
    found = {r["buyer_id"] for r in store.query(
        f"SELECT buyer_id FROM aftersales_cases WHERE {_OPEN_SQL} UNION {_MARKED_SQL}")}
    return found if buyer_ids is None else found & {int(b) for b in buyer_ids}


def without_after_sales(store: Store, rows: Sequence[Any], key: str = "id") -> list[Any]:
    """rows (buyer rows with an id) less the buyers in after-sales."""
    if not rows:
        return list(rows)
    busy = buyers_in_after_sales(store)
    return [r for r in rows if r[key] not in busy] if busy else list(rows)


def follow_mood(store: Store, buyer_id: int, case_mood: str, stamp: str, by: str, but: int | None = None) -> int:
    """Inside the caller's write: the buyer's open cases (but one) take this mood, each with a line in
    its history. Returns how many changed."""
    rows = store.query(f"SELECT id FROM aftersales_cases WHERE buyer_id = ? AND mood != ? AND id != ? "
                       f"AND {_OPEN_SQL}", (int(buyer_id), case_mood, int(but or 0)))
    for row in rows:
        store.conn.execute("UPDATE aftersales_cases SET mood = ?, updated_at = ? WHERE id = ?",
                           (case_mood, stamp, row["id"]))
        store.conn.execute("INSERT INTO aftersales_events (uuid, case_id, at, kind, by_name, detail) "
                           "VALUES (?, ?, ?, 'updated', ?, ?)",
                           (str(uuidlib.uuid4()), row["id"], stamp, by, f"mood={case_mood}"))
    return len(rows)
