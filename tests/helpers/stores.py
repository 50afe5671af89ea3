"""What tests compare a store by."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.core import searchtext


def dump(data: Path) -> list[str]:
    """Every row of the data folder's kefu.db as SQL: equal before and after = nothing changed."""
    conn = sqlite3.connect(data / "kefu.db")
    searchtext.register(conn)  # search_index's content is a view that calls them
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def replies_doc(n: int = 3, group: str = "售前", code: str = "c") -> dict:
    """A valid kefu replies JSON document: one group, n replies (codes code0, code1, ...)."""
    g = "11111111-1111-4111-8111-111111111111"
    return {
        "format": "kefu-assistant.replies", "version": 1, "exported_at": "2026-11-10T06:00:00.000000Z",
        "groups": [{"uuid": g, "name": group, "parent": None, "position": 0}],
        "replies": [
            {"uuid": f"22222222-2222-4222-8222-22222222222{i}", "group": g, "title": f"标题{i}", "body": f"内容{i}",
             "code": f"{code}{i}", "language": "zh", "platforms": [], "hotkey": None, "angle": None, "position": i,
             "created_at": "2026-11-10T06:00:00.000000Z", "updated_at": "2026-11-10T06:00:00.000000Z",
             "use_count": 0, "last_used_at": None}
            for i in range(n)],
    }
