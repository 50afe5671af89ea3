"""What tests compare a store by."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def dump(data: Path) -> list[str]:
    """Every row of the data folder's kefu.db as SQL: equal before and after = nothing changed."""
    conn = sqlite3.connect(data / "kefu.db")
    try:
        return list(conn.iterdump())
    finally:
        conn.close()
