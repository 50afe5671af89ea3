"""Schema migrations. A migration is never edited or renamed once it has landed on main:
add a new one below instead (customers, chase history and handover come as later migrations)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from sqlite_utils import Database


class Step(NamedTuple):
    name: str
    fn: Callable[..., Any]


class LazyMigrations:
    """sqlite_utils.Migrations("kefu"), that library imported only when migrations are applied or
    listed (~12 MB and ~40 ms the panel and the CLI no longer pay on every start, issue 17). pending()
    reads the same _sqlite_migrations table with the store's own connection."""

    table = "_sqlite_migrations"

    def __init__(self, name: str) -> None:
        self.name = name
        self._steps: list[tuple[str, Callable[..., Any]]] = []
        self._real: Any = None

    def __call__(self, *, name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def inner(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._steps.append((name or fn.__name__, fn))
            return fn

        return inner

    def names(self) -> list[str]:
        return [name for name, _fn in self._steps]

    def pending(self, db: Any) -> list[Step]:
        """The migrations not applied yet, in order (.name, .fn); read-only."""
        conn: sqlite3.Connection = getattr(db, "conn", db)
        done: set[str] = set()
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self.table,)).fetchone():
            done = {row[0] for row in conn.execute(f"SELECT name FROM {self.table} WHERE migration_set = ?",
                                                   (self.name,))}
        return [Step(name, fn) for name, fn in self._steps if name not in done]

    def _migrations(self) -> Any:
        if self._real is None:
            from sqlite_utils import Migrations

            real = Migrations(self.name)
            for name, fn in self._steps:
                real(name=name)(fn)
            self._real = real
        return self._real

    @staticmethod
    def _database(db: Any) -> Database:
        from sqlite_utils import Database

        return db if isinstance(db, Database) else Database(getattr(db, "conn", db), execute_plugins=False)

    def apply(self, db: Any, **kwargs: Any) -> None:
        self._migrations().apply(self._database(db), **kwargs)

    def applied(self, db: Any) -> list[Any]:
        return self._migrations().applied(self._database(db))


migrations = LazyMigrations("kefu")


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


@migrations(name="0003_buyers")
def m0003_buyers(db: Database) -> None:
    """Starred buyers, their marks, chase history, reminders, promotions and edited cadences."""
    for statement in _BUYERS:
        db.execute(statement)
    now = "1970-01-01T00:00:00.000000Z"  # built-in marks: a fixed stamp keeps the migration deterministic
    for position, (code, name) in enumerate(_DEFAULT_MARKS):
        db.execute("INSERT INTO buyer_marks (code, name, shop, position, created_at) VALUES (?,?,?,?,?)",
                   (code, name, "", position, now))


_DEFAULT_MARKS = (
    ("unpaid", "咨询未付款"),
    ("intent", "意向明显"),
    ("high_ticket", "高客单"),
    ("low_ticket", "低客单"),
    ("after_sales", "售后中"),
    ("returning", "老客户"),
)

_BUYERS = [
    # Marks are data: built-in ones carry a code the cadence rules refer to; a shop adds its own
    # (shop = '' for marks every shop sees).
    """
    CREATE TABLE buyer_marks (
        id INTEGER PRIMARY KEY,
        code TEXT UNIQUE,
        name TEXT NOT NULL CHECK (length(trim(name)) > 0),
        shop TEXT NOT NULL DEFAULT '',
        position INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX buyer_marks_shop_name ON buyer_marks (shop, name)",
    # platform is validated in Python (customers.PLATFORMS), so a new platform needs no table rebuild.
    """
    CREATE TABLE buyers (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        platform TEXT NOT NULL,
        shop TEXT NOT NULL DEFAULT '',
        nickname TEXT NOT NULL CHECK (length(trim(nickname)) > 0),
        notes TEXT NOT NULL DEFAULT '',
        phone TEXT,
        tz TEXT,
        language TEXT,
        open_questions INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'following' CHECK (state IN ('following', 'paid', 'lost', 'paused')),
        starred INTEGER NOT NULL DEFAULT 0,
        starred_by TEXT,
        starred_at TEXT,
        cadence_id TEXT,
        cadence_started_at TEXT,
        visit_started_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX buyers_identity ON buyers (platform, shop, nickname)",
    "CREATE INDEX buyers_starred ON buyers (starred, state)",
    """
    CREATE TABLE buyer_mark_links (
        buyer_id INTEGER NOT NULL REFERENCES buyers(id) ON DELETE CASCADE,
        mark_id INTEGER NOT NULL REFERENCES buyer_marks(id) ON DELETE CASCADE,
        PRIMARY KEY (buyer_id, mark_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX buyer_mark_links_mark ON buyer_mark_links (mark_id)",
    # One row a chase sent. reply_title and angle are kept so the history still reads well after
    # the reply is deleted (reply_id then becomes NULL).
    """
    CREATE TABLE chases (
        id INTEGER PRIMARY KEY,
        buyer_id INTEGER NOT NULL REFERENCES buyers(id) ON DELETE CASCADE,
        reply_id INTEGER REFERENCES replies(id) ON DELETE SET NULL,
        reply_title TEXT,
        angle TEXT CHECK (angle IS NULL OR angle IN ('product', 'price', 'logistics', 'gift', 'ask')),
        reminder_id INTEGER,
        sent_at TEXT NOT NULL,
        buyer_replied INTEGER NOT NULL DEFAULT 0,
        replied_at TEXT,
        warnings TEXT NOT NULL DEFAULT '[]'
    )
    """,
    "CREATE INDEX chases_buyer ON chases (buyer_id, sent_at)",
    """
    CREATE TABLE promotions (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL CHECK (length(trim(name)) > 0),
        start_at TEXT NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX promotions_name_start ON promotions (name, start_at)",
    # kind: chase (a cadence step for one buyer), wave (the promotion wave, one buyer),
    # phone (the promotion phone list, no buyer). fired_at: shown to the agent; acted_at: the agent
    # acted (chased, snoozed, closed) -- KPIs read the delay between due_at and acted_at.
    """
    CREATE TABLE reminders (
        id INTEGER PRIMARY KEY,
        buyer_id INTEGER REFERENCES buyers(id) ON DELETE CASCADE,
        promotion_id INTEGER REFERENCES promotions(id) ON DELETE CASCADE,
        kind TEXT NOT NULL DEFAULT 'chase' CHECK (kind IN ('chase', 'wave', 'phone')),
        cadence_id TEXT NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        due_at TEXT NOT NULL,
        planned_at TEXT,
        moved_for TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'snoozed', 'cancelled')),
        outcome TEXT,
        created_at TEXT NOT NULL,
        fired_at TEXT,
        missed INTEGER NOT NULL DEFAULT 0,
        acted_at TEXT,
        snoozed_from INTEGER REFERENCES reminders(id) ON DELETE SET NULL,
        CHECK (buyer_id IS NOT NULL OR promotion_id IS NOT NULL)
    )
    """,
    # The timer asks for the earliest unfired pending reminder; listings ask for pending by time.
    "CREATE INDEX reminders_next ON reminders (due_at) WHERE state = 'pending' AND fired_at IS NULL",
    "CREATE INDEX reminders_pending ON reminders (due_at) WHERE state = 'pending'",
    "CREATE INDEX reminders_buyer ON reminders (buyer_id, state)",
    "CREATE INDEX reminders_promotion ON reminders (promotion_id)",
    # What happened to a buyer (starred, paid, lost, replied, ...): conversions and order loss.
    """
    CREATE TABLE buyer_events (
        id INTEGER PRIMARY KEY,
        buyer_id INTEGER NOT NULL REFERENCES buyers(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        reminder_id INTEGER,
        detail TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX buyer_events_kind_at ON buyer_events (kind, at)",
    "CREATE INDEX buyer_events_buyer ON buyer_events (buyer_id)",
    # Cadences the user edited; a cadence not here is the shipped default (resources/cadences).
    """
    CREATE TABLE cadences (
        id TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
]


@migrations(name="0004_handover")
def m0004_handover(db: Database) -> None:
    """Shifts, the agent's own work-log entries and handover records (core/shifts.py, core/handover.py).

    Only what no other table records: pastes (reply_uses), chases (chases) and buyer outcomes
    (buyer_events) are read where they already are. The two indexes on chases and reminders serve the
    KPI queries by time range (core/kpi.py)."""
    for statement in _HANDOVER:
        db.execute(statement)


_HANDOVER = [
    # started_how: auto (first use of the day) or explicit; ended_how: handover (交班), explicit, or
    # auto (an open shift left over from an earlier day, closed at its last activity).
    """
    CREATE TABLE shifts (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        agent TEXT NOT NULL DEFAULT '',
        started_at TEXT NOT NULL,
        ended_at TEXT,
        started_how TEXT NOT NULL DEFAULT 'auto' CHECK (started_how IN ('auto', 'explicit')),
        ended_how TEXT CHECK (ended_how IS NULL OR ended_how IN ('handover', 'explicit', 'auto')),
        CHECK (ended_at IS NULL OR ended_at >= started_at)
    )
    """,
    "CREATE INDEX shifts_started ON shifts (started_at)",
    # At most one open shift: every open row has the same indexed value.
    "CREATE UNIQUE INDEX shifts_one_open ON shifts ((ended_at IS NULL)) WHERE ended_at IS NULL",
    # One row per handover file written (out) or imported (in); counts is a JSON object.
    """
    CREATE TABLE handovers (
        id INTEGER PRIMARY KEY,
        direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
        at TEXT NOT NULL,
        shift_id INTEGER REFERENCES shifts(id) ON DELETE SET NULL,
        file_name TEXT NOT NULL DEFAULT '',
        sha256 TEXT,
        source_agent TEXT,
        source_shift_uuid TEXT,
        exported_at TEXT,
        counts TEXT NOT NULL DEFAULT '{}'
    )
    """,
    "CREATE INDEX handovers_at ON handovers (direction, at)",
    # The agent's own entries: problem (今日问题), request (顾客需求), note. handover_id is set on the
    # entries that came in with the previous shift's handover file.
    """
    CREATE TABLE work_log (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        shift_id INTEGER REFERENCES shifts(id) ON DELETE SET NULL,
        handover_id INTEGER REFERENCES handovers(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('problem', 'request', 'note')),
        text TEXT NOT NULL CHECK (length(trim(text)) > 0),
        agent TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX work_log_at ON work_log (at)",
    "CREATE INDEX work_log_shift ON work_log (shift_id)",
    "CREATE INDEX work_log_handover ON work_log (handover_id) WHERE handover_id IS NOT NULL",
    # KPIs count chases and acted reminders by time range.
    "CREATE INDEX chases_sent ON chases (sent_at)",
    "CREATE INDEX reminders_acted ON reminders (acted_at) WHERE acted_at IS NOT NULL",
]


@migrations(name="0002_search_index")
def m0002_search_index(db: Database) -> None:
    """The search index's tables (assistant/core/search.py explains them), created as they were.
    Frozen like every migration: it never calls today's indexer. A library that already had replies
    gets an empty index here, which search.ensure_index notices and rebuilds (on the worker at start,
    before a CLI command's first use of the store). Registered after 0003/0004, so it runs after them."""
    for statement in _SEARCH_INDEX:
        db.execute(statement)


_SEARCH_INDEX = [
    # Token strings per reply (search.py makes them: Han characters, jieba words, pinyin,
    # initials, "_g<id>" group tokens) and a hash of the text they were made from.
    """
    CREATE TABLE search_docs (
        id INTEGER PRIMARY KEY,
        t_chars TEXT NOT NULL, t_words TEXT NOT NULL, t_py TEXT NOT NULL, t_ini TEXT NOT NULL,
        b_chars TEXT NOT NULL, b_words TEXT NOT NULL, b_py TEXT NOT NULL, b_ini TEXT NOT NULL,
        gids TEXT NOT NULL,
        tsig TEXT NOT NULL
    )
    """,
    # "_" is a token character here and never part of a query term: "_g12" can only be asked
    # for by search.py itself.
    """
    CREATE VIRTUAL TABLE search_index USING fts5(
        t_chars, t_words, t_py, t_ini, b_chars, b_words, b_py, b_ini, gids,
        content = 'search_docs', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
        prefix = '1 2 3'
    )
    """,
    # The title alone: "in the title" is asked here, where doclists are short.
    """
    CREATE VIRTUAL TABLE search_title USING fts5(
        chars, words, py, ini, gids,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
        prefix = '1 2 3'
    )
    """,
    # The replies used at least once: ranked first inside each tier without reading the whole
    # library's doclists.
    """
    CREATE VIRTUAL TABLE search_used USING fts5(
        t_chars, t_words, t_py, t_ini, b_chars, b_words, b_py, b_ini, gids,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
        prefix = '1 2 3'
    )
    """,
    # Latin/pinyin/initials tokens of 4+ letters: a typed prefix that long is expanded through it.
    "CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID",
    # The usage part of the ranking reads only the replies that were ever used.
    "CREATE INDEX replies_used ON replies (use_count, last_used_at) WHERE use_count > 0",
    """
    CREATE TRIGGER search_used_add AFTER UPDATE OF use_count ON replies
    WHEN OLD.use_count <= 0 AND NEW.use_count > 0
    BEGIN
        DELETE FROM search_used WHERE rowid = NEW.id;
        INSERT INTO search_used (rowid, t_chars, t_words, t_py, t_ini, b_chars, b_words, b_py, b_ini, gids)
        SELECT id, t_chars, t_words, t_py, t_ini, b_chars, b_words, b_py, b_ini, gids
        FROM search_docs WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER search_used_drop AFTER UPDATE OF use_count ON replies
    WHEN OLD.use_count > 0 AND NEW.use_count <= 0
    BEGIN
        DELETE FROM search_used WHERE rowid = NEW.id;
    END
    """,
    # search.remove_reply does the same; this also covers replies deleted by plain SQL.
    """
    CREATE TRIGGER search_docs_reply_deleted AFTER DELETE ON replies
    BEGIN
        INSERT INTO search_index (search_index, rowid, t_chars, t_words, t_py, t_ini, b_chars, b_words,
                                  b_py, b_ini, gids)
        SELECT 'delete', id, t_chars, t_words, t_py, t_ini, b_chars, b_words, b_py, b_ini, gids
        FROM search_docs WHERE id = OLD.id;
        DELETE FROM search_docs WHERE id = OLD.id;
        DELETE FROM search_title WHERE rowid = OLD.id;
        DELETE FROM search_used WHERE rowid = OLD.id;
    END
    """,
]


@migrations(name="0005_row_uuids")
def m0005_row_uuids(db: Database) -> None:
    """A stable uuid on every row a team server will sync that had none (replies, groups, buyers, shifts
    and the work log were born with one). Existing rows get a fresh random uuid4 here, made by SQLite:
    migrations import nothing live (and no uuid module), so a later change elsewhere cannot alter this step.
    The column stays nullable (ALTER TABLE cannot add NOT NULL without a default); every insert in
    assistant.core sets one, and the UNIQUE index lets NULLs through for rows written by plain SQL."""
    for table in _UUID_TABLES:
        db.execute(f"ALTER TABLE {table} ADD COLUMN uuid TEXT")
        db.execute(f"UPDATE {table} SET uuid = {_SQL_UUID4}")
    # The built-in marks are the same marks on every panel: one fixed uuid each, so that two panels'
    # "咨询未付款" are one row once synced, not fifty.
    for code, fixed in _BUILTIN_MARK_UUIDS.items():
        db.execute("UPDATE buyer_marks SET uuid = ? WHERE code = ?", (fixed, code))
    for table in _UUID_TABLES:
        db.execute(f"CREATE UNIQUE INDEX {table}_uuid ON {table} (uuid)")


_UUID_TABLES = ("chases", "reminders", "buyer_events", "buyer_marks", "promotions", "handovers")

# A canonical lower-case uuid4 (version nibble 4, variant 8/9/a/b), like str(uuid.uuid4()) in the code.
# randomblob() and random() are evaluated once per row.
_SQL_UUID4 = ("lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
              "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || "
              "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))")

_BUILTIN_MARK_UUIDS = {
    "unpaid": "7bebe210-cd84-4308-9c7d-4bb0e6d55139",
    "intent": "3addbc5b-3677-4297-9395-73995e4e7c70",
    "high_ticket": "6ed67339-f70b-42a3-828c-2db1bfe6bdd4",
    "low_ticket": "c09faba4-6b9d-416b-952e-3d6d89ee78b5",
    "after_sales": "06fe76c6-0bfb-4302-87ec-fcb7b0d63ee9",
    "returning": "b5c75a99-7383-4b6f-98ea-f37cde0213d5",
}


@migrations(name="0006_team_sync")
def m0006_team_sync(db: Database) -> None:
    """Team mode's local side (assistant/core/outbox.py explains it). Without a team server these
    tables stay empty and every reply keeps shop = NULL: the app behaves exactly as before.
    - replies.shop / shop_version: a reply of a shop library (the shop's uuid, the server's version
      this copy was read at). NULL shop = the agent's own reply.
    - team_outbox: changes made here that the server has not acknowledged, written in the same
      transaction as the change itself.
    - team_cursors: how far each change feed has been pulled (an xid watermark and the last row).
    - team_conflicts: what the server refused or what a pull could not apply as it came (a stale
      shop-reply edit, a short code already taken here), kept for the agent to see and settle.
    - team_shops: names of the shops the agent serves, for display."""
    for statement in _TEAM_SYNC:
        db.execute(statement)


_TEAM_SYNC = [
    "ALTER TABLE replies ADD COLUMN shop TEXT",
    "ALTER TABLE replies ADD COLUMN shop_version INTEGER",
    "CREATE INDEX replies_shop ON replies (shop) WHERE shop IS NOT NULL",
    """
    CREATE TABLE team_outbox (
        id INTEGER PRIMARY KEY,
        op TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX team_outbox_target ON team_outbox (target)",
    """
    CREATE TABLE team_cursors (
        feed TEXT PRIMARY KEY,
        xid TEXT NOT NULL,
        last_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        synced_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE team_conflicts (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        mine TEXT,
        theirs TEXT,
        created_at TEXT NOT NULL,
        resolved_at TEXT
    )
    """,
    """
    CREATE TABLE team_shops (
        uuid TEXT PRIMARY KEY,
        name TEXT NOT NULL
    )
    """,
]


@migrations(name="0007_team_buyers")
def m0007_team_buyers(db: Database) -> None:
    """Buyers shared through a team server (assistant/core/customers.py, "team mode" section).
    - buyers.team_shop: the server shop this buyer is shared in (NULL: this PC only).
    - buyers.holder / holder_name / held_until: who follows the buyer (a lease the server grants;
      this is the copy last heard of, so an offline panel still knows). NULL: nobody.
    - chases.author / author_name: a chase another agent sent (NULL: this PC's own).
    - chases.collision: the server found the buyer held by someone else when this chase arrived."""
    for statement in _TEAM_BUYERS:
        db.execute(statement)


_TEAM_BUYERS = [
    "ALTER TABLE buyers ADD COLUMN team_shop TEXT",
    "ALTER TABLE buyers ADD COLUMN holder TEXT",
    "ALTER TABLE buyers ADD COLUMN holder_name TEXT",
    "ALTER TABLE buyers ADD COLUMN held_until TEXT",
    "ALTER TABLE chases ADD COLUMN author TEXT",
    "ALTER TABLE chases ADD COLUMN author_name TEXT",
    "ALTER TABLE chases ADD COLUMN collision INTEGER NOT NULL DEFAULT 0",
]


@migrations(name="0008_team_reminders")
def m0008_team_reminders(db: Database) -> None:
    """Reminders and promotions kept by a team server (assistant/core/reminders.py, "team mode").
    - promotions.team_shop: a shop's promotion a supervisor added for the whole team (the server
      shop's uuid); NULL: this PC's own promotion. Reminders need no new column: a reminder of a
      shared buyer is on the server under its uuid, and only its owner's panel keeps it pending."""
    db.execute("ALTER TABLE promotions ADD COLUMN team_shop TEXT")


@migrations(name="0009_aftersales")
def m0009_aftersales(db: Database) -> None:
    """After-sales cases (assistant/core/aftersales.py explains them). Every new table has a uuid
    (team sync keys rows by it).
    - aftersales_categories: what went wrong, as data; built-in ones carry a code and a fixed uuid
      (the same row on every panel once synced), a shop adds its own (shop = '' for every shop).
    - aftersales_cases: one problem of one buyer; the order number is stored as given (shown masked).
      Amounts are whole fen (分), never floats.
    - aftersales_events: the case's history (who did what when: steps, offers, escalations, decisions).
    - aftersales_limits: 挽单权限, what an agent may offer alone, per severity and optionally per
      product; agent '' = every agent, product '' = any product.
    - reminders: kind 'aftersales' (the case's follow-up: call-backs promised, the warehouse check)
      and case_id. SQLite cannot change a CHECK in place, so the table is rebuilt from its own SQL
      (whatever columns earlier steps gave it), rows, ids and indexes kept."""
    for statement in _AFTERSALES:
        db.execute(statement)
    now = "1970-01-01T00:00:00.000000Z"  # built-in categories: a fixed stamp keeps the migration deterministic
    for position, (code, name, fixed) in enumerate(_CATEGORIES):
        db.execute("INSERT INTO aftersales_categories (uuid, code, name, shop, position, created_at) "
                   "VALUES (?,?,?,'',?,?)", (fixed, code, name, position, now))
    _rebuild_reminders_for_aftersales(db)
    db.execute("ALTER TABLE reminders ADD COLUMN case_id INTEGER REFERENCES aftersales_cases(id) ON DELETE CASCADE")
    db.execute("CREATE INDEX reminders_case ON reminders (case_id) WHERE case_id IS NOT NULL")
    # 稍后 on an after-sales reminder inserts its successor through reminders.snooze, which knows
    # nothing of cases: the successor inherits the case here.
    db.execute("""
        CREATE TRIGGER reminders_case_snoozed AFTER INSERT ON reminders
        WHEN NEW.kind = 'aftersales' AND NEW.case_id IS NULL AND NEW.snoozed_from IS NOT NULL
        BEGIN
            UPDATE reminders SET case_id = (SELECT case_id FROM reminders WHERE id = NEW.snoozed_from)
            WHERE id = NEW.id;
        END
    """)


_CATEGORIES = (
    ("quality", "质量/破损", "fe6690f4-1914-4ce5-88b4-78d3d2421717"),
    ("wrong_item", "发错货", "f680f412-f1ce-42ae-b47e-95bdace7c118"),
    ("size", "尺码不合适", "9b4ae3ec-afd2-4873-bb22-3f4f3e592799"),
    ("logistics", "物流问题", "d6da2616-e2bc-48f8-acdc-4cfc4ec3b351"),
    ("mismatch", "与描述不符", "ce95dc19-a55a-4179-98bb-5702cbac856d"),
    ("changed_mind", "不想要了", "e3e13a78-3bf6-4371-a10e-78a75e901b57"),
    ("other", "其他", "007227f1-a47e-4a49-a568-237f3f0f9d5e"),
)

_AFTERSALES = [
    """
    CREATE TABLE aftersales_categories (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        code TEXT UNIQUE,
        name TEXT NOT NULL CHECK (length(trim(name)) > 0),
        shop TEXT NOT NULL DEFAULT '',
        position INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX aftersales_categories_shop_name ON aftersales_categories (shop, name)",
    # status: new 新建, calming 安抚中, proposed 方案已提出, warehouse 待仓库, manager 待主管, resolved 已解决,
    # closed 已关闭. step: the calming step the agent is on (1-4). closed_at is set exactly when the
    # case is resolved or closed (time to close).
    """
    CREATE TABLE aftersales_cases (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        buyer_id INTEGER NOT NULL REFERENCES buyers(id) ON DELETE CASCADE,
        order_no TEXT NOT NULL DEFAULT '',
        product TEXT NOT NULL DEFAULT '',
        problem TEXT NOT NULL CHECK (length(trim(problem)) > 0),
        category_id INTEGER NOT NULL REFERENCES aftersales_categories(id) ON DELETE RESTRICT,
        severity TEXT NOT NULL CHECK (severity IN ('light', 'medium', 'severe')),
        wanted TEXT NOT NULL CHECK (wanted IN ('refund', 'return', 'exchange', 'compensation', 'explanation')),
        mood TEXT NOT NULL DEFAULT 'calm' CHECK (mood IN ('calm', 'upset', 'angry')),
        feelings TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'new'
            CHECK (status IN ('new', 'calming', 'proposed', 'warehouse', 'manager', 'resolved', 'closed')),
        step INTEGER NOT NULL DEFAULT 1 CHECK (step BETWEEN 1 AND 4),
        outcome TEXT CHECK (outcome IS NULL OR outcome IN
            ('compensated', 'exchanged', 'returned', 'refunded', 'withdrawn', 'explained')),
        outcome_amount INTEGER CHECK (outcome_amount IS NULL OR outcome_amount >= 0),
        warehouse_findings TEXT NOT NULL DEFAULT '',
        manager_decision TEXT NOT NULL DEFAULT '',
        decided_by TEXT,
        opened_by TEXT NOT NULL DEFAULT '',
        opened_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        closed_at TEXT,
        CHECK ((status IN ('resolved', 'closed')) = (closed_at IS NOT NULL))
    )
    """,
    "CREATE INDEX aftersales_cases_buyer ON aftersales_cases (buyer_id, status)",
    "CREATE INDEX aftersales_cases_status ON aftersales_cases (status)",
    "CREATE INDEX aftersales_cases_closed ON aftersales_cases (closed_at) WHERE closed_at IS NOT NULL",
    "CREATE INDEX aftersales_cases_opened ON aftersales_cases (opened_at)",
    # by_role: who acted (the agent, the supervisor deciding, the warehouse reporting). offer and
    # amount: what was offered (compensate/exchange/return/refund), in fen.
    """
    CREATE TABLE aftersales_events (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        case_id INTEGER NOT NULL REFERENCES aftersales_cases(id) ON DELETE CASCADE,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        by_name TEXT NOT NULL DEFAULT '',
        by_role TEXT NOT NULL DEFAULT 'agent' CHECK (by_role IN ('agent', 'supervisor', 'warehouse')),
        status_from TEXT,
        status_to TEXT,
        step INTEGER,
        offer TEXT CHECK (offer IS NULL OR offer IN ('compensate', 'exchange', 'return', 'refund')),
        amount INTEGER CHECK (amount IS NULL OR amount >= 0),
        detail TEXT NOT NULL DEFAULT ''
    )
    """,
    "CREATE INDEX aftersales_events_case ON aftersales_events (case_id, at)",
    "CREATE INDEX aftersales_events_kind_at ON aftersales_events (kind, at)",
    """
    CREATE TABLE aftersales_limits (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        agent TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL CHECK (severity IN ('light', 'medium', 'severe')),
        product TEXT NOT NULL DEFAULT '',
        max_compensation INTEGER NOT NULL DEFAULT 0 CHECK (max_compensation >= 0),
        may_exchange INTEGER NOT NULL DEFAULT 0 CHECK (may_exchange IN (0, 1)),
        may_return INTEGER NOT NULL DEFAULT 0 CHECK (may_return IN (0, 1)),
        may_refund INTEGER NOT NULL DEFAULT 0 CHECK (may_refund IN (0, 1)),
        set_by TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX aftersales_limits_key ON aftersales_limits (agent, severity, product)",
]

_OLD_KINDS = "CHECK (kind IN ('chase', 'wave', 'phone'))"
_NEW_KINDS = "CHECK (kind IN ('chase', 'wave', 'phone', 'aftersales'))"


def _rebuild_reminders_for_aftersales(db: Database) -> None:
    """SQLite's documented table rebuild (create new, copy, drop, rename), from the table's own SQL.
    The copy names itself in its self-reference (snoozed_from) so that dropping the old table cannot
    null the copy's links; RENAME then rewrites it back to `reminders`."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'reminders'").fetchone()[0]
    if _OLD_KINDS not in sql:
        raise RuntimeError("0009_aftersales: the reminders table is not as 0003_buyers made it")
    others = [r[0] for r in db.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'reminders' "
                                       "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid")]
    new_sql = (sql.replace(_OLD_KINDS, _NEW_KINDS).replace("REFERENCES reminders(id)", "REFERENCES reminders_new(id)")
               .replace("CREATE TABLE reminders", "CREATE TABLE reminders_new", 1))
    db.execute(new_sql)
    db.execute("INSERT INTO reminders_new SELECT * FROM reminders")
    db.execute("DROP TABLE reminders")
    db.execute("ALTER TABLE reminders_new RENAME TO reminders")
    for statement in others:
        db.execute(statement)


@migrations(name="0010_reply_compliance")
def m0010_reply_compliance(db: Database) -> None:
    """replies.compliance: the findings of the compliance check (assistant/core/compliance.py) made
    when the reply was saved, as a JSON list ("[]": checked, nothing found). NULL: not checked yet.
    Frozen like every migration, so it checks nothing itself: replies.ensure_compliance (run where
    search.ensure_index runs, after the store is open) checks the NULL rows once, and every reply
    again whenever the rules change (their signature is kept in settings)."""
    db.execute("ALTER TABLE replies ADD COLUMN compliance TEXT")
    db.execute("CREATE INDEX replies_unchecked ON replies (id) WHERE compliance IS NULL")


@migrations(name="0011_buyer_mood")
def m0011_buyer_mood(db: Database) -> None:
    """The buyer's mood as the agent last marked it (one click in the 客户 tab, `kefu buyers mood`):
    a review invite (邀评) is offered only to a pleased buyer (assistant/core/invites.py).
    NULL: not marked. mood_at: when, so a mood from an old conversation can be told apart."""
    db.execute("ALTER TABLE buyers ADD COLUMN mood TEXT CHECK (mood IS NULL OR mood IN "
               "('pleased', 'calm', 'unhappy', 'angry', 'confused'))")
    db.execute("ALTER TABLE buyers ADD COLUMN mood_at TEXT")


@migrations(name="0012_team_aftersales")
def m0012_team_aftersales(db: Database) -> None:
    """After-sales cases and limits kept by a team server (assistant/core/caseteam.py).
    - aftersales_cases.team_shop: the server shop the case is shared in (its buyer's); NULL: this
      PC only (the buyer is not shared). The first change of a case whose buyer became shared sends
      the whole case with its history.
    - aftersales_limits.team_shop: a limit the shop's supervisor set on the server for that shop;
      NULL: this PC's own (single-agent mode). The key now includes the shop, so one agent serving two
      shops can hold a limit per shop."""
    db.execute("ALTER TABLE aftersales_cases ADD COLUMN team_shop TEXT")
    db.execute("ALTER TABLE aftersales_limits ADD COLUMN team_shop TEXT")
    db.execute("DROP INDEX aftersales_limits_key")
    db.execute("CREATE UNIQUE INDEX aftersales_limits_key ON aftersales_limits "
               "(IFNULL(team_shop, ''), agent, severity, product)")


@migrations(name="0013_products")
def m0013_products(db: Database) -> None:
    """Products (商品资料, assistant/core/products.py explains them). Every new table has a uuid (team
    sync keys rows by it).
    - products: one product of a shop (shop = '' when the agent serves one shop). selling_points is
      a JSON list of sentences, in the order the agent wants them used.
    - buyer_products: the product(s) a buyer asked about; the fields fill from the one marked chosen,
      else from the latest linked.
    - chases.product_id / selling_point: the selling point a chase sent (the sentence as sent), so
      the product angle never proposes it to that buyer again."""
    for statement in _PRODUCTS:
        db.execute(statement)


_PRODUCTS = [
    """
    CREATE TABLE products (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        shop TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL CHECK (length(trim(name)) > 0),
        short_name TEXT NOT NULL DEFAULT '',
        item_ref TEXT NOT NULL DEFAULT '',
        price_band TEXT NOT NULL DEFAULT '',
        selling_points TEXT NOT NULL DEFAULT '[]',
        material TEXT NOT NULL DEFAULT '',
        size TEXT NOT NULL DEFAULT '',
        care TEXT NOT NULL DEFAULT '',
        gift TEXT NOT NULL DEFAULT '',
        promotion TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX products_shop_name ON products (shop, name)",
    """
    CREATE TABLE buyer_products (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        buyer_id INTEGER NOT NULL REFERENCES buyers(id) ON DELETE CASCADE,
        product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
        chosen INTEGER NOT NULL DEFAULT 0 CHECK (chosen IN (0, 1)),
        linked_at TEXT NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX buyer_products_pair ON buyer_products (buyer_id, product_id)",
    "CREATE INDEX buyer_products_product ON buyer_products (product_id)",
    "ALTER TABLE chases ADD COLUMN product_id INTEGER REFERENCES products(id) ON DELETE SET NULL",
    "ALTER TABLE chases ADD COLUMN selling_point TEXT",
]


@migrations(name="0014_promotion_calls")
def m0014_promotion_calls(db: Database) -> None:
    """The T−3h phone list worked call by call (core/reminders.py: phone_list, record_call).
    - buyers.do_not_call: 勿扰, set by the agent; such a buyer is left off every later phone list
      and promotion wave.
    - promotion_calls: each call of a promotion's list and how it went (接通, 未接 - tried again
      later, 改约 - at the time the buyer asked, 不需要); retry_at is when the buyer is due again."""
    db.execute("ALTER TABLE buyers ADD COLUMN do_not_call INTEGER NOT NULL DEFAULT 0 CHECK (do_not_call IN (0, 1))")
    db.execute("""
    CREATE TABLE promotion_calls (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        promotion_id INTEGER NOT NULL REFERENCES promotions(id) ON DELETE CASCADE,
        buyer_id INTEGER NOT NULL REFERENCES buyers(id) ON DELETE CASCADE,
        outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'no_answer', 'rescheduled', 'not_needed')),
        at TEXT NOT NULL,
        retry_at TEXT,
        agent TEXT NOT NULL DEFAULT ''
    )
    """)
    db.execute("CREATE INDEX promotion_calls_promotion ON promotion_calls (promotion_id, buyer_id, at)")


@migrations(name="0015_unpaid_orders")
def m0015_unpaid_orders(db: Database) -> None:
    """Unpaid orders (催付, assistant/core/orders.py explains them). Rows carry a uuid and updated_at
    like every table a team server will sync.
    - orders: an order a buyer placed and has not paid: its number (stored as given, shown masked),
      amount in fen (NULL: not known), when it was placed, when the platform closes it unpaid
      (deadline_given = 0: the platform's default from the settings, not read from the order), and
      its status (unpaid, paid, closed; status_at exactly when not unpaid). Unique per platform.
    - reminders.kind 'order' and reminders.order_id: the 催付 cadence's reminders of one order (the
      table rebuilt to widen the kind check, as 0009 did)."""
    db.execute("""
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        buyer_id INTEGER NOT NULL REFERENCES buyers(id) ON DELETE CASCADE,
        platform TEXT NOT NULL,
        order_no TEXT NOT NULL CHECK (length(trim(order_no)) > 0),
        amount INTEGER CHECK (amount IS NULL OR amount >= 0),
        ordered_at TEXT NOT NULL,
        deadline_at TEXT NOT NULL,
        deadline_given INTEGER NOT NULL DEFAULT 0 CHECK (deadline_given IN (0, 1)),
        status TEXT NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'paid', 'closed')),
        status_at TEXT,
        item TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'typed' CHECK (source IN ('typed', 'pasted', 'imported', 'handover')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK ((status = 'unpaid') = (status_at IS NULL))
    )
    """)
    db.execute("CREATE UNIQUE INDEX orders_number ON orders (platform, order_no)")
    db.execute("CREATE INDEX orders_buyer ON orders (buyer_id, status)")
    db.execute("CREATE INDEX orders_open ON orders (deadline_at) WHERE status = 'unpaid'")
    _rebuild_reminders_for_orders(db)
    db.execute("ALTER TABLE reminders ADD COLUMN order_id INTEGER REFERENCES orders(id) ON DELETE CASCADE")
    db.execute("CREATE INDEX reminders_order ON reminders (order_id) WHERE order_id IS NOT NULL")


_KINDS_0009 = "CHECK (kind IN ('chase', 'wave', 'phone', 'aftersales'))"
_KINDS_0015 = "CHECK (kind IN ('chase', 'wave', 'phone', 'aftersales', 'order'))"


def _rebuild_reminders_for_orders(db: Database) -> None:
    """0015's copy of 0009's rebuild (frozen apart from it): only the kind check changes."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'reminders'").fetchone()[0]
    if _KINDS_0009 not in sql:
        raise RuntimeError("0015_unpaid_orders: the reminders table is not as 0009_aftersales made it")
    others = [r[0] for r in db.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'reminders' "
                                       "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid")]
    # after 0009's RENAME, SQLite writes the table's own name quoted
    new_sql = (sql.replace(_KINDS_0009, _KINDS_0015).replace('REFERENCES "reminders"(id)', "REFERENCES reminders_new(id)")
               .replace('CREATE TABLE "reminders"', "CREATE TABLE reminders_new", 1))
    if "reminders_new(id)" not in new_sql or not new_sql.startswith("CREATE TABLE reminders_new"):
        raise RuntimeError("0015_unpaid_orders: the reminders table is not as 0009_aftersales made it")
    db.execute(new_sql)
    db.execute("INSERT INTO reminders_new SELECT * FROM reminders")
    db.execute("DROP TABLE reminders")
    db.execute("ALTER TABLE reminders_new RENAME TO reminders")
    for statement in others:
        db.execute(statement)
@migrations(name="0016_team_products_synonyms")
def m0016_team_products_synonyms(db: Database) -> None:
    """Products and the shop's search synonyms kept by a team server (team schema step 8).
    - products.team_shop / shop_version: a product of a shop's product list (the server shop's uuid,
      the server's version this copy was read at), written by supervisors; NULL: this PC's own.
    - team_synonyms: the shop synonym groups a supervisor set on the server (one row a group, by its
      uuid), used by search beside this PC's own groups (setting search.synonyms)."""
    db.execute("ALTER TABLE products ADD COLUMN team_shop TEXT")
    db.execute("ALTER TABLE products ADD COLUMN shop_version INTEGER")
    db.execute("""
    CREATE TABLE team_synonyms (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        team_shop TEXT NOT NULL,
        words TEXT NOT NULL
    )
    """)


@migrations(name="0017_team_orders")
def m0017_team_orders(db: Database) -> None:
    """Unpaid orders kept by a team server (team schema step 9).
    - orders.team_shop: the server shop an order of a shared buyer is synced in (NULL: this PC's own;
      '': refused by the server, kept on this PC only).
    - an order pulled from the server, or imported from a handover, may hold only the masked number
      (其余 '*'): two orders may be masked alike, so the number is unique only when it is full."""
    db.execute("ALTER TABLE orders ADD COLUMN team_shop TEXT")
    db.execute("DROP INDEX orders_number")
    db.execute("CREATE UNIQUE INDEX orders_number ON orders (platform, order_no) WHERE instr(order_no, '*') = 0")
    db.execute("CREATE INDEX orders_number_any ON orders (platform, order_no)")


@migrations(name="0018_lean_search_index")
def m0018_lean_search_index(db: Database) -> None:
    """A leaner search index (index format 2, assistant/core/search.py explains it): no FTS5 prefix
    indexes (a typed prefix becomes an OR of whole tokens listed in search_terms), search_index's
    per-row sizes dropped (columnsize=0: nothing ranks by length), and search_title/search_used
    contentless (their text is search_docs'). Their rows are removed with FTS5's 'delete' command
    and the values from search_docs, hence the new triggers. The tables come back empty and the
    recorded index version is dropped: search.ensure_index rebuilds the index (at start, before a
    CLI command's first use of the store)."""
    for statement in _LEAN_SEARCH_INDEX:
        db.execute(statement)


_SEARCH_COLS = "t_chars, t_words, t_py, t_ini, b_chars, b_words, b_py, b_ini, gids"
_LEAN_SEARCH_INDEX = [
    "DROP TRIGGER IF EXISTS search_used_add",
    "DROP TRIGGER IF EXISTS search_used_drop",
    "DROP TRIGGER IF EXISTS search_docs_reply_deleted",
    "DROP TABLE IF EXISTS search_index",
    "DROP TABLE IF EXISTS search_title",
    "DROP TABLE IF EXISTS search_used",
    "DELETE FROM search_docs",
    "DELETE FROM search_terms",
    "DELETE FROM settings WHERE key = 'search.index_version'",
    f"""
    CREATE VIRTUAL TABLE search_index USING fts5(
        {_SEARCH_COLS},
        content = 'search_docs', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
        columnsize = 0
    )
    """,
    # Contentless; a row is there iff search_docs has it. Its sizes (~14 bytes a reply) are kept: a
    # contentless table without them cannot even be scanned (Python's iterdump, count(*)).
    """
    CREATE VIRTUAL TABLE search_title USING fts5(
        chars, words, py, ini, gids,
        content = '',
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
    )
    """,
    # Contentless; its (small) docsize table tells which replies it holds.
    f"""
    CREATE VIRTUAL TABLE search_used USING fts5(
        {_SEARCH_COLS},
        content = '',
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
    )
    """,
    # The shortest tokens starting with a typed prefix, read length by length.
    "CREATE INDEX search_terms_length ON search_terms (length(term), term)",
    f"""
    CREATE TRIGGER search_used_add AFTER UPDATE OF use_count ON replies
    WHEN OLD.use_count <= 0 AND NEW.use_count > 0
    BEGIN
        INSERT INTO search_used (search_used, rowid, {_SEARCH_COLS})
        SELECT 'delete', id, {_SEARCH_COLS} FROM search_docs
        WHERE id = NEW.id AND EXISTS (SELECT 1 FROM search_used_docsize WHERE id = NEW.id);
        INSERT INTO search_used (rowid, {_SEARCH_COLS})
        SELECT id, {_SEARCH_COLS} FROM search_docs WHERE id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER search_used_drop AFTER UPDATE OF use_count ON replies
    WHEN OLD.use_count > 0 AND NEW.use_count <= 0
    BEGIN
        INSERT INTO search_used (search_used, rowid, {_SEARCH_COLS})
        SELECT 'delete', id, {_SEARCH_COLS} FROM search_docs
        WHERE id = NEW.id AND EXISTS (SELECT 1 FROM search_used_docsize WHERE id = NEW.id);
    END
    """,
    # search.remove_reply does the same; this also covers replies deleted by plain SQL.
    f"""
    CREATE TRIGGER search_docs_reply_deleted AFTER DELETE ON replies
    BEGIN
        INSERT INTO search_index (search_index, rowid, {_SEARCH_COLS})
        SELECT 'delete', id, {_SEARCH_COLS} FROM search_docs WHERE id = OLD.id;
        INSERT INTO search_title (search_title, rowid, chars, words, py, ini, gids)
        SELECT 'delete', id, t_chars, t_words, t_py, t_ini, gids FROM search_docs WHERE id = OLD.id;
        INSERT INTO search_used (search_used, rowid, {_SEARCH_COLS})
        SELECT 'delete', id, {_SEARCH_COLS} FROM search_docs
        WHERE id = OLD.id AND EXISTS (SELECT 1 FROM search_used_docsize WHERE id = OLD.id);
        DELETE FROM search_docs WHERE id = OLD.id;
    END
    """,
]


@migrations(name="0019_packed_search_docs")
def m0019_packed_search_docs(db: Database) -> None:
    """Index format 3 (assistant/core/search.py explains it): search_docs keeps no Han-character
    streams (recomputed from the reply's title and body by kefu_search_chars) and stores the other
    token streams packed (kefu_search_part reads them: zlib with a preset dictionary,
    assistant/core/searchtext.py); the view search_docs_v shows the rows as search_index indexed them.
    Those SQL functions are registered on every store connection; the triggers that remove a reply's
    index rows (its text edited or the reply deleted) call them. Empty tables, no recorded version:
    search.ensure_index rebuilds the index."""
    for statement in _PACKED_SEARCH_DOCS:
        db.execute(statement)


def _old_values(reply: str) -> str:
    """The search_index columns of search_docs d as indexed for the replies row ``reply`` (OLD)."""
    return (f"kefu_search_chars({reply}.title), kefu_search_part(d.packed, 0), kefu_search_part(d.packed, 1), "
            f"kefu_search_part(d.packed, 2), kefu_search_chars({reply}.body), kefu_search_part(d.packed, 3), "
            "kefu_search_part(d.packed, 4), kefu_search_part(d.packed, 5), d.gids")


_TITLE_COLS = "chars, words, py, ini, gids"
_DROP_INDEX_ROWS = f"""
        INSERT INTO search_index (search_index, rowid, {_SEARCH_COLS})
        SELECT 'delete', d.id, {_old_values("OLD")} FROM search_docs d WHERE d.id = OLD.id;
        INSERT INTO search_title (search_title, rowid, {_TITLE_COLS})
        SELECT 'delete', d.id, kefu_search_chars(OLD.title), kefu_search_part(d.packed, 0),
               kefu_search_part(d.packed, 1), kefu_search_part(d.packed, 2), d.gids
        FROM search_docs d WHERE d.id = OLD.id;
        INSERT INTO search_used (search_used, rowid, {_SEARCH_COLS})
        SELECT 'delete', d.id, {_old_values("OLD")} FROM search_docs d
        WHERE d.id = OLD.id AND EXISTS (SELECT 1 FROM search_used_docsize WHERE id = OLD.id);
        DELETE FROM search_docs WHERE id = OLD.id;
"""
_PACKED_SEARCH_DOCS = [
    "DROP TRIGGER IF EXISTS search_used_add",
    "DROP TRIGGER IF EXISTS search_used_drop",
    "DROP TRIGGER IF EXISTS search_docs_reply_deleted",
    "DROP TABLE IF EXISTS search_index",
    "DROP TABLE IF EXISTS search_title",
    "DROP TABLE IF EXISTS search_used",
    "DROP TABLE IF EXISTS search_docs",
    "DELETE FROM search_terms",
    "DELETE FROM settings WHERE key = 'search.index_version'",
    # packed: searchtext.pack of the six word/pinyin/initials streams; tsig: 8-byte hash of the text
    """
    CREATE TABLE search_docs (
        id INTEGER PRIMARY KEY,
        packed BLOB NOT NULL,
        gids TEXT NOT NULL,
        tsig BLOB NOT NULL
    )
    """,
    """
    CREATE VIEW search_docs_v AS
    SELECT d.id AS id, kefu_search_chars(r.title) AS t_chars, kefu_search_part(d.packed, 0) AS t_words,
           kefu_search_part(d.packed, 1) AS t_py, kefu_search_part(d.packed, 2) AS t_ini,
           kefu_search_chars(r.body) AS b_chars, kefu_search_part(d.packed, 3) AS b_words,
           kefu_search_part(d.packed, 4) AS b_py, kefu_search_part(d.packed, 5) AS b_ini, d.gids AS gids
    FROM search_docs d JOIN replies r ON r.id = d.id
    """,
    f"""
    CREATE VIRTUAL TABLE search_index USING fts5(
        {_SEARCH_COLS},
        content = 'search_docs_v', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'",
        columnsize = 0
    )
    """,
    f"""
    CREATE VIRTUAL TABLE search_title USING fts5(
        {_TITLE_COLS},
        content = '',
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
    )
    """,
    f"""
    CREATE VIRTUAL TABLE search_used USING fts5(
        {_SEARCH_COLS},
        content = '',
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_'"
    )
    """,
    f"""
    CREATE TRIGGER search_used_add AFTER UPDATE OF use_count ON replies
    WHEN OLD.use_count <= 0 AND NEW.use_count > 0
    BEGIN
        INSERT INTO search_used (search_used, rowid, {_SEARCH_COLS})
        SELECT 'delete', id, {_SEARCH_COLS} FROM search_docs_v
        WHERE id = NEW.id AND EXISTS (SELECT 1 FROM search_used_docsize WHERE id = NEW.id);
        INSERT INTO search_used (rowid, {_SEARCH_COLS})
        SELECT id, {_SEARCH_COLS} FROM search_docs_v WHERE id = NEW.id;
    END
    """,
    f"""
    CREATE TRIGGER search_used_drop AFTER UPDATE OF use_count ON replies
    WHEN OLD.use_count > 0 AND NEW.use_count <= 0
    BEGIN
        INSERT INTO search_used (search_used, rowid, {_SEARCH_COLS})
        SELECT 'delete', id, {_SEARCH_COLS} FROM search_docs_v
        WHERE id = NEW.id AND EXISTS (SELECT 1 FROM search_used_docsize WHERE id = NEW.id);
    END
    """,
    # search.remove_reply does the same; this also covers replies deleted by plain SQL.
    f"""
    CREATE TRIGGER search_docs_reply_deleted AFTER DELETE ON replies
    BEGIN{_DROP_INDEX_ROWS}
    END
    """,
    # The chars streams are computed from the reply's text: once it changes, the rows indexed from
    # the old text can only be removed now (search.index_reply then indexes the new text).
    f"""
    CREATE TRIGGER search_docs_reply_edited BEFORE UPDATE OF title, body ON replies
    WHEN OLD.title IS NOT NEW.title OR OLD.body IS NOT NEW.body
    BEGIN{_DROP_INDEX_ROWS}
    END
    """,
]
