"""0009_aftersales: the after-sales tables (uuid on every row), the built-in categories, and the
reminders table rebuilt for kind 'aftersales' + case_id with every row, link and index kept."""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlite_utils import Database

from assistant.core.migrations import migrations
from assistant.core.store import open_store

T = "2026-11-10T06:00:00.000000Z"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _before_0009(path) -> Database:
    db = Database(sqlite3.connect(path))
    db.execute("PRAGMA foreign_keys = ON")  # as the store runs it: the rebuild must not null the links
    migrations.apply(db, stop_before="0009_aftersales")
    x = db.execute
    x("INSERT INTO buyers (id, uuid, platform, nickname, starred, created_at, updated_at) "
      "VALUES (1, 'b1', 'qianniu', '李女士', 1, ?, ?)", (T, T))
    x("INSERT INTO promotions (id, uuid, name, start_at, created_at) VALUES (1, 'p1', '双十一', ?, ?)", (T, T))
    x("INSERT INTO reminders (id, uuid, buyer_id, cadence_id, step, due_at, state, created_at) "
      "VALUES (1, 'r1', 1, 'in_chat', 0, ?, 'snoozed', ?)", (T, T))
    x("INSERT INTO reminders (id, uuid, buyer_id, cadence_id, step, due_at, created_at, snoozed_from) "
      "VALUES (2, 'r2', 1, 'in_chat', 0, ?, ?, 1)", (T, T))
    x("INSERT INTO reminders (id, uuid, promotion_id, kind, cadence_id, due_at, created_at) "
      "VALUES (3, 'r3', 1, 'phone', 'promo', ?, ?)", (T, T))
    db.conn.commit()
    return db


def _indexes(db: Database) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in db.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'reminders' "
                                             "AND type = 'index' AND sql IS NOT NULL")}


def test_reminders_are_rebuilt_with_every_row_link_and_index(tmp_path):
    db = _before_0009(tmp_path / "kefu.db")
    rows = db.execute("SELECT * FROM reminders ORDER BY id").fetchall()
    indexes = _indexes(db)
    migrations.apply(db, stop_before="0010_reply_compliance")  # 0015_unpaid_orders adds a column after case_id
    assert "0009_aftersales" in [m.name for m in migrations.applied(db)]
    after = db.execute("SELECT * FROM reminders ORDER BY id").fetchall()
    assert [r[:-1] for r in after] == rows and all(r[-1] is None for r in after)  # case_id added last, empty
    assert indexes < _indexes(db)
    assert db.execute("SELECT snoozed_from FROM reminders WHERE id = 2").fetchone()[0] == 1
    fks = {(f[2], f[3]) for f in db.execute("PRAGMA foreign_key_list(reminders)")}
    assert ("reminders", "snoozed_from") in fks and ("aftersales_cases", "case_id") in fks
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.conn.close()
    open_store(tmp_path / "kefu.db").close()


def test_new_tables_categories_and_the_aftersales_kind(store):
    cats = store.query("SELECT code, name, uuid, shop FROM aftersales_categories ORDER BY position")
    assert [c["code"] for c in cats] == ["quality", "wrong_item", "size", "logistics", "mismatch", "changed_mind",
                                         "other"]
    assert all(UUID4.match(c["uuid"]) and c["shop"] == "" for c in cats)
    for table in ("aftersales_categories", "aftersales_cases", "aftersales_events", "aftersales_limits"):
        assert "uuid" in store.db[table].columns_dict
        assert any(i.unique and i.columns == ["uuid"] for i in store.db[table].indexes), table
    c = store.conn
    c.execute("INSERT INTO buyers (id, uuid, platform, nickname, created_at, updated_at) VALUES (1, 'b', 'qianniu', 'x', ?, ?)",
              (T, T))
    c.execute("INSERT INTO aftersales_cases (id, uuid, buyer_id, problem, category_id, severity, wanted, opened_at, "
              "updated_at) VALUES (7, 'c', 1, '破了', 1, 'light', 'refund', ?, ?)", (T, T))
    c.execute("INSERT INTO reminders (id, uuid, buyer_id, kind, cadence_id, due_at, created_at, case_id) "
              "VALUES (1, 'r1', 1, 'aftersales', 'as_new', ?, ?, 7)", (T, T))
    # a snoozed after-sales reminder (reminders.snooze knows nothing of cases) keeps its case
    c.execute("INSERT INTO reminders (id, uuid, buyer_id, kind, cadence_id, due_at, created_at, snoozed_from) "
              "VALUES (2, 'r2', 1, 'aftersales', 'as_new', ?, ?, 1)", (T, T))
    assert store.query("SELECT case_id FROM reminders WHERE id = 2")[0]["case_id"] == 7
    with pytest.raises(sqlite3.IntegrityError):
        c.execute("INSERT INTO reminders (uuid, buyer_id, kind, cadence_id, due_at, created_at) "
                  "VALUES ('r3', 1, 'other', 'x', ?, ?)", (T, T))
    with pytest.raises(sqlite3.IntegrityError):  # closed_at goes with a closed status, and only with one
        c.execute("UPDATE aftersales_cases SET status = 'resolved' WHERE id = 7")
    with pytest.raises(sqlite3.IntegrityError):
        c.execute("UPDATE aftersales_cases SET severity = 'huge' WHERE id = 7")
    c.execute("DELETE FROM aftersales_cases WHERE id = 7")
    assert store.query("SELECT count(*) AS n FROM reminders WHERE case_id IS NOT NULL")[0]["n"] == 0
