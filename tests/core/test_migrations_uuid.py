"""0005_row_uuids: chases, reminders, buyer events, buyer marks, promotions and handovers get a stable
uuid each (team sync keys rows by it). An old library migrates with every row given a distinct uuid and
nothing else changed; every row written afterwards through the public functions carries one."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from assistant.core import customers, handover, reminders, replies, settings
from assistant.core.clock import FakeClock
from assistant.core.migrations import migrations
from assistant.core.store import open_store

TABLES = ("chases", "reminders", "buyer_events", "buyer_marks", "promotions", "handovers")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SH = ZoneInfo("Asia/Shanghai")
T = "2026-11-10T06:00:00.000000Z"


def _old_library(path) -> Database:
    """A library as the release before 0005 left it, with rows in every table 0005 touches."""
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="0005_row_uuids")
    assert [m.name for m in migrations.applied(db)][-1] == "0002_search_index"
    assert all("uuid" not in db[t].columns_dict for t in TABLES)
    x = db.execute
    x("INSERT INTO groups (id, uuid, name, created_at, updated_at) VALUES (1, 'g1', '催单', ?, ?)", (T, T))
    x("INSERT INTO replies (id, uuid, group_id, title, body, created_at, updated_at) "
      "VALUES (1, 'r1', 1, '价格', '亲，今天下单有优惠哦', ?, ?)", (T, T))
    x("INSERT INTO buyer_marks (id, name, shop, position, created_at) VALUES (100, '爱砍价', '', 6, ?)", (T,))
    for bid, nick in ((1, "李女士"), (2, "王先生")):
        x("INSERT INTO buyers (id, uuid, platform, nickname, starred, created_at, updated_at) "
          "VALUES (?, ?, 'qianniu', ?, 1, ?, ?)", (bid, f"b{bid}", nick, T, T))
        x("INSERT INTO buyer_mark_links (buyer_id, mark_id) VALUES (?, 100)", (bid,))
    x("INSERT INTO promotions (id, name, start_at, created_at) VALUES (1, '双十一', '2026-11-10T16:00:00.000000Z', ?)",
      (T,))
    for rid, bid in ((1, 1), (2, 2), (3, 1)):
        x("INSERT INTO reminders (id, buyer_id, cadence_id, step, due_at, created_at) VALUES (?, ?, 'default', ?, ?, ?)",
          (rid, bid, rid, T, T))
    x("INSERT INTO reminders (id, promotion_id, kind, cadence_id, due_at, created_at) "
      "VALUES (4, 1, 'phone', 'promotion', ?, ?)", (T, T))
    for cid, bid, angle in ((1, 1, "price"), (2, 1, None), (3, 2, "gift")):
        x("INSERT INTO chases (id, buyer_id, reply_id, reply_title, angle, reminder_id, sent_at) "
          "VALUES (?, ?, 1, '价格', ?, 1, ?)", (cid, bid, angle, T))
    for eid, kind in enumerate(("created", "starred", "replied"), start=1):
        x("INSERT INTO buyer_events (id, buyer_id, kind, at) VALUES (?, 1, ?, ?)", (eid, kind, T))
    x("INSERT INTO shifts (id, uuid, started_at, ended_at, ended_how) VALUES (1, 's1', ?, ?, 'handover')", (T, T))
    for hid, direction in ((1, "out"), (2, "in")):
        x("INSERT INTO handovers (id, direction, at, shift_id, file_name, counts) VALUES (?, ?, ?, 1, 'x.json', '{}')",
          (hid, direction, T))
    db.conn.commit()
    return db


def _snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every table's rows (without the new uuid column) and every schema object's SQL."""
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'search_%' AND name != '_sqlite_migrations'")]
    snap: dict[str, list[tuple]] = {}
    for name in names:
        cols = [c for c in db[name].columns_dict if c != "uuid"]
        snap[name] = sorted(db.execute(f"SELECT {', '.join(cols)} FROM {name}").fetchall(), key=repr)
    return snap


def _schema(db: Database) -> set[tuple]:
    return set(db.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex%'"))


def test_an_old_library_gets_a_distinct_uuid_on_every_row_and_nothing_else_changes(tmp_path):
    db = _old_library(tmp_path / "kefu.db")
    rows_before, schema_before = _snapshot(db), _schema(db)
    migrations.apply(db, stop_before="0006_team_sync")
    assert [m.name for m in migrations.applied(db)][-1] == "0005_row_uuids"
    assert [m.name for m in migrations.pending(db)] == ["0006_team_sync", "0007_team_buyers", "0008_team_reminders",
                                                       "0009_aftersales", "0010_reply_compliance", "0011_buyer_mood",
                                                       "0012_team_aftersales", "0013_products",
                                                       "0014_promotion_calls", "0015_unpaid_orders",
                                                       "0016_team_products_synonyms", "0017_team_orders",
                                                       "0018_lean_search_index", "0019_packed_search_docs"]
    assert _snapshot(db) == rows_before
    added = _schema(db) - schema_before
    assert {(kind, name) for kind, name, _ in added} == (
        {("index", f"{t}_uuid") for t in TABLES} | {("table", t) for t in TABLES})
    assert not {name for _, name, _ in schema_before} - {name for _, name, _ in _schema(db)}
    every: list[str] = []
    for t in TABLES:
        uuids = [r[0] for r in db.execute(f"SELECT uuid FROM {t}")]
        assert uuids and all(UUID4.match(u) for u in uuids), (t, uuids)
        every += uuids
    assert len(every) == len(set(every)) == sum(len(rows_before[t]) for t in TABLES)
    db.conn.close()
    open_store(tmp_path / "kefu.db").close()  # the migrated library opens as usual


def test_the_uuids_are_unique_and_the_built_in_marks_have_the_same_one_everywhere(tmp_path):
    a, b = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")
    try:
        for t in TABLES:
            index = a.db[t].indexes
            assert any(i.name == f"{t}_uuid" and i.unique and i.columns == ["uuid"] for i in index), (t, index)
        builtin = "SELECT code, uuid FROM buyer_marks WHERE code IS NOT NULL ORDER BY code"
        marks = a.query(builtin)
        assert len(marks) == 6 and all(UUID4.match(m["uuid"]) for m in marks)
        assert b.query(builtin) == marks, "two panels' built-in marks are one mark once synced"
        a.conn.execute("INSERT INTO promotions (uuid, name, start_at, created_at) VALUES ('u', 'a', ?, ?)", (T, T))
        try:
            a.conn.execute("INSERT INTO promotions (uuid, name, start_at, created_at) VALUES ('u', 'b', ?, ?)", (T, T))
        except sqlite3.IntegrityError as exc:
            assert "uuid" in str(exc)
        else:
            raise AssertionError("a duplicate uuid was accepted")
    finally:
        a.close()
        b.close()


def _uuids(store, table: str) -> list[str]:
    return [r["uuid"] for r in store.query(f"SELECT uuid FROM {table}")]


def test_rows_written_through_the_public_functions_carry_a_uuid(tmp_path):
    clock = FakeClock(datetime(2026, 11, 10, 4, 0, tzinfo=SH))
    a, b = open_store(tmp_path / "a.db", clock), open_store(tmp_path / "b.db", clock)
    try:
        replies.seed_defaults(a)
        settings.set(a, "reminders.agent_tz", "Asia/Shanghai")
        customers.create_mark(a, "爱砍价")
        buyer = reminders.star(a, platform="千牛", nickname="李女士", marks=["爱砍价", "意向明显"],
                               phone="13812345678")
        reminders.record_chase(a, buyer.id, None, angle="price")
        clock.advance(timedelta(minutes=5))
        due = reminders.buyer_reminders(a, buyer.id)[0]
        reminders.snooze(a, due.id, 30)
        reminders.add_promotion(a, "双十一", datetime(2026, 11, 11, 0, 0, tzinfo=SH))
        result = handover.export_handover(a, tmp_path / "out", formats=("json",))
        for t in TABLES:
            got = _uuids(a, t)
            assert got and all(UUID4.match(u) for u in got), (t, got)
            assert len(got) == len(set(got)), t
        # The receiving panel creates marks, promotions, chases, reminders and a handover row from the file.
        plan = handover.import_handover(b, result.files["json"])
        assert plan.applied
        for t in TABLES:
            got = _uuids(b, t)
            assert (got or t == "buyer_events") and all(UUID4.match(u) for u in got), (t, got)  # import logs no event
            assert len(got) == len(set(got)), t
        assert b.query("SELECT count(*) AS n FROM buyer_marks WHERE name = '爱砍价'")[0]["n"] == 1
        assert b.query("SELECT count(*) AS n FROM chases")[0]["n"] == 1
        assert b.query("SELECT count(*) AS n FROM handovers WHERE direction = 'in'")[0]["n"] == 1
    finally:
        a.close()
        b.close()
