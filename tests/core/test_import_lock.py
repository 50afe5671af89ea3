"""A big import and everyone else: the write lock is held only for the inserts, what changed while
indexing is checked again under the lock, kefu's own writers wait for the import, the CLI shows
progress, and the WAL is given back afterwards."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from assistant import cli
from assistant.cli import replies as cli_replies
from assistant.core import holder, replies, search, transfer
from assistant.core import store as store_mod
from assistant.core.store import open_store
from assistant.errors import StoreBusyError

PRODUCTS = ["连衣裙", "羽绒服", "运动鞋", "保温杯", "蓝牙耳机", "电饭煲", "行李箱", "双肩包", "牛仔裤", "卫衣"]


def write_rows(path: Path, n: int, start: int = 0) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["快捷短语编码", "快捷短语", "快捷短语分组"])
        for i in range(start, start + n):
            product = PRODUCTS[i % len(PRODUCTS)]
            w.writerow([f"k{i}" if i % 3 == 0 else "", f"亲，您看中的{product}第{i}款今天下单就能发顺丰，还送运费险～",
                        f"导入-{product}"])
    return path


def can_write(db: Path) -> bool:
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def test_indexing_runs_outside_the_write_lock(store, tmp_path, monkeypatch):
    path = write_rows(tmp_path / "r.csv", 60)
    seen: list[bool] = []
    real = search._analyze

    def analyze(*args, **kwargs):
        if not seen:  # jieba's first word of the import: may another program write meanwhile?
            seen.append(can_write(store.path))
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "_analyze", analyze)
    result = transfer.import_file(store, path)
    assert seen == [True]
    assert result.added == 60
    assert len(search.search(store, "运费险", limit=100)) >= 60  # and the index is complete


def test_import_holds_its_marker_only_while_writing(store, tmp_path, monkeypatch):
    path = write_rows(tmp_path / "r.csv", 20)
    states: dict[str, object] = {}
    real_prepare, real_index = search.prepare_texts, search.index_prepared

    def prepare(*args, **kwargs):
        states["indexing"] = holder.live_holder(store.path)
        return real_prepare(*args, **kwargs)

    def index(*args, **kwargs):
        states["writing"] = holder.live_holder(store.path)
        states["locked"] = not can_write(store.path)
        return real_index(*args, **kwargs)

    monkeypatch.setattr(search, "prepare_texts", prepare)
    monkeypatch.setattr(search, "index_prepared", index)
    transfer.import_file(store, path)
    assert states["indexing"] is None
    assert states["writing"].pid == os.getpid() and states["locked"] is True
    assert not holder.marker_path(store.path).exists()


def test_changes_made_while_indexing_are_checked_again_under_the_lock(store, tmp_path, monkeypatch):
    """Another program saves a reply with short code k3, which the file uses too, between the
    import's planning and its transaction."""
    path = write_rows(tmp_path / "r.csv", 10)
    real = search.prepare_texts

    def prepare_then_someone_writes(*args, **kwargs):
        prepared = real(*args, **kwargs)
        other = open_store(store.path)
        replies.create_reply(other, body="别人刚加的", code="K3")
        other.close()
        return prepared

    monkeypatch.setattr(search, "prepare_texts", prepare_then_someone_writes)
    result = transfer.import_file(store, path)
    assert result.added == 9
    assert [(s.row, "K3" in s.reason_en or "k3" in s.reason_en) for s in result.skipped_items] == [(5, True)]
    assert replies.get_reply(store, "k3").body == "别人刚加的"
    assert search.search(store, "别人刚加的")[0].reply_id == replies.get_reply(store, "k3").id


def test_a_text_that_changed_after_indexing_is_indexed_under_the_lock(store, tmp_path, monkeypatch):
    path = write_rows(tmp_path / "r.csv", 5)
    monkeypatch.setattr(search, "prepare_texts", lambda *a, **k: {})  # nothing prepared at all
    assert transfer.import_file(store, path).added == 5
    hits = search.search(store, "保温杯第3款", limit=5)
    assert hits and replies.get_reply(store, hits[0].reply_id).body.startswith("亲，您看中的保温杯第3款")


def test_replace_reindexes_with_the_new_text(store, tmp_path):
    transfer.import_file(store, write_rows(tmp_path / "a.csv", 6))
    with open(tmp_path / "b.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["快捷短语编码", "快捷短语", "快捷短语分组"])
        w.writerow(["k3", "亲，新的文字：今天全场包邮", "导入-蓝牙耳机"])
    result = transfer.import_file(store, tmp_path / "b.csv", replace=True)
    assert result.replaced == 1
    reply = replies.get_reply(store, "k3")
    assert reply.body == "亲，新的文字：今天全场包邮" and reply.title.startswith("亲，新的文字")
    # the new text is found first (replies with some of its words, or their synonyms, come after it)
    assert [h.reply_id for h in search.search(store, "全场包邮")][:1] == [reply.id]
    assert [h.reply_id for h in search.search(store, "今天全场包邮") if h.how != "synonym"][:1] == [reply.id]
    assert all(h.reply_id != reply.id for h in search.search(store, "第3款", limit=50))


def test_the_wal_is_given_back_after_a_big_import_while_the_panel_is_open(tmp_path):
    db = tmp_path / "kefu.db"
    panel = open_store(db)
    panel.query("SELECT count(*) FROM replies")
    importer = open_store(db)
    grew: list[int] = []
    real = search.index_prepared

    def index(*args, **kwargs):
        out = real(*args, **kwargs)
        grew.append(Path(f"{db}-wal").stat().st_size)
        return out

    try:
        search.index_prepared = index
        transfer.import_file(importer, write_rows(tmp_path / "r.csv", 3000))
    finally:
        search.index_prepared = real
    try:
        wal = Path(f"{db}-wal")
        # the transaction did go through a big WAL (the lean index of migration 0018 writes ~250 B a reply)
        assert grew[0] > 500_000
        assert (wal.stat().st_size if wal.exists() else 0) < 100_000  # checkpointed and cut back
        assert replies.count_replies(panel) == 3000
    finally:
        importer.close()
        panel.close()


# ---------------------------------------------------------------- other kefu writers wait for the import


def test_a_write_waits_for_kefus_import_instead_of_failing(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_MS", 200)
    db = tmp_path / "kefu.db"
    s = open_store(db)
    s.import_wait_s = 30
    waited: list[int] = []
    s.on_import_wait = waited.append
    importer = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    with holder.marked(db):
        importer.execute("BEGIN IMMEDIATE")
        threading.Timer(1.0, lambda: importer.execute("ROLLBACK")).start()
        started = time.monotonic()
        reply = replies.create_reply(s, body="导入时保存的")
    assert time.monotonic() - started >= 0.9
    assert waited == [os.getpid()]
    assert replies.get_reply(s, reply.id).body == "导入时保存的"
    # Another program's lock (no live marker): the usual "locked" after the busy timeout.
    importer.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusyError, match="another program"):
            replies.create_reply(s, body="x")
    finally:
        importer.execute("ROLLBACK")
        importer.close()
        s.close()


def _cli(data: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["--data-dir", str(data), *args])
    return code, out.getvalue(), err.getvalue()


def test_cli_write_during_an_import_waits_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT_MS", 200)
    data = tmp_path / "data"
    assert _cli(data, "replies", "list")[0] == 0
    importer = sqlite3.connect(data / "kefu.db", isolation_level=None, check_same_thread=False)
    with holder.marked(data / "kefu.db"):
        importer.execute("BEGIN IMMEDIATE")
        threading.Timer(1.0, lambda: importer.execute("ROLLBACK")).start()
        code, _, err = _cli(data, "replies", "add", "--body", "导入时加的", "--code", "w1")
    importer.close()
    assert code == 0, err
    assert f"Waiting for kefu's import of replies (process {os.getpid()})" in err and "正在等待" in err
    assert _cli(data, "replies", "show", "w1")[0] == 0


# ---------------------------------------------------------------- progress on the CLI


def test_cli_import_progress_lines_when_not_a_terminal(tmp_path):
    data = tmp_path / "data"
    code, out, err = _cli(data, "replies", "import", str(write_rows(tmp_path / "r.csv", 1200)))
    assert code == 0, err
    lines = err.splitlines()
    assert 3 <= len(lines) <= 8 and "\r" not in err
    for phase in ("reading the file / 读取文件", "indexing / 建立搜索索引", "writing / 写入数据库"):
        assert any(line.startswith(phase) and "done / 完成" in line for line in lines), (phase, lines)
    assert "1200 added" in out
    # --json: nothing but the JSON
    code, out, err = _cli(data, "replies", "import", str(write_rows(tmp_path / "s.csv", 1200, start=5000)), "--json")
    assert code == 0 and err == "" and json.loads(out)["added"] == 1200


def test_cli_import_progress_in_place_on_a_terminal(tmp_path):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    shown = cli_replies.ImportProgress(stream)
    shown("reading", 0, 0)
    for done in range(0, 30_001, 300):
        shown("indexing", done, 30_000)
    shown("writing", 30_000, 30_000)
    shown.close()
    text = stream.getvalue()
    assert "\n" not in text  # one line, rewritten
    assert text.count("\r") <= 10  # throttled: the last state of each phase, not 100 redraws
    assert "indexing / 建立搜索索引 30,000/30,000" in text
    assert text.endswith("\r\x1b[K")  # cleared before the summary is printed
