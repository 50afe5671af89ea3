"""Schema migrations. A migration is never edited or renamed once it has landed on main:
add a new one below instead (customers, chase history and handover come as later migrations)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("kefu")


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    for statement in _INITIAL:
        db.execute(statement)


_INITIAL = [
    """
    CREATE TABLE groups (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL CHECK (length(trim(name)) > 0),
        parent_id INTEGER REFERENCES groups(id) ON DELETE RESTRICT,
        position INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    # NULL parents never compare equal in a UNIQUE index; IFNULL makes top-level names unique too.
    "CREATE UNIQUE INDEX groups_parent_name ON groups (IFNULL(parent_id, 0), name)",
    """
    CREATE TABLE replies (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE RESTRICT,
        title TEXT NOT NULL,
        body TEXT NOT NULL CHECK (length(body) > 0),
        code TEXT,
        language TEXT NOT NULL DEFAULT 'zh',
        platforms TEXT NOT NULL DEFAULT '[]',
        hotkey TEXT,
        angle TEXT CHECK (angle IS NULL OR angle IN ('product', 'price', 'logistics', 'gift', 'ask')),
        position INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        use_count INTEGER NOT NULL DEFAULT 0,
        last_used_at TEXT
    )
    """,
    "CREATE UNIQUE INDEX replies_code ON replies (code COLLATE NOCASE) WHERE code IS NOT NULL",
    "CREATE UNIQUE INDEX replies_hotkey ON replies (hotkey) WHERE hotkey IS NOT NULL",
    "CREATE INDEX replies_group ON replies (group_id, position)",
    """
    CREATE TABLE reply_uses (
        id INTEGER PRIMARY KEY,
        reply_id INTEGER REFERENCES replies(id) ON DELETE SET NULL,
        used_at TEXT NOT NULL,
        via TEXT NOT NULL DEFAULT 'panel'
    )
    """,
    "CREATE INDEX reply_uses_time ON reply_uses (used_at)",
    """
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
]
