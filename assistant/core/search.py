"""Search over quick replies. PLACEHOLDER: a plain LIKE scan until the FTS5 index lands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .replies import Reply
    from .store import Store


@dataclass
class Hit:
    reply_id: int
    score: float


def index_reply(store: Store, reply: Reply) -> None:
    """Called inside the write transaction that created/changed the reply."""


def remove_reply(store: Store, reply_id: int) -> None:
    """Called inside the write transaction that deletes the reply."""


def reindex_group(store: Store, group_id: int) -> None:
    """Called inside the write transaction after a group was renamed or replies moved into it."""


def search(store: Store, query: str, limit: int = 50) -> list[Hit]:
    q = (query or "").replace("\x00", "").strip()
    if not q:
        return []
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = store.query(
        "SELECT id FROM replies WHERE code LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\' "
        "ORDER BY use_count DESC LIMIT ?", (like, like, like, limit))
    return [Hit(r["id"], 1.0) for r in rows]
