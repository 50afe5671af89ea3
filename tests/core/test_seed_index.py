"""The default library's search analysis ships with it (resources/library/default.index.json), so a
first start seeds and indexes the library without loading jieba or pypinyin (issue 17)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from assistant.core import replies, search
from assistant.core.store import open_store
from assistant.paths import resource_path

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_analysis_is_what_the_code_makes():
    """Fails when default.json, the analysis or jieba/pypinyin changed without regenerating the file."""
    proc = subprocess.run([sys.executable, "packaging/make_default_index.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def _index_rows(store) -> tuple[list, list]:
    docs = store.conn.execute("SELECT id, packed, gids, tsig FROM search_docs ORDER BY id").fetchall()
    terms = [r[0] for r in store.conn.execute("SELECT term FROM search_terms ORDER BY term")]
    return docs, terms


def test_seeding_indexes_exactly_as_a_full_analysis(tmp_path):
    seeded = open_store(tmp_path / "a.db")
    analysed = open_store(tmp_path / "b.db")
    try:
        assert replies.seed_defaults(seeded) > 100
        with analysed.write():  # the same replies, analysed by jieba/pypinyin (no shipped analysis)
            for group_path, item in replies.load_library_file(resource_path("library", "default.json")):
                replies.create_reply(analysed, body=item["body"], title=item.get("title", ""),
                                     group="/".join(group_path), code=item.get("code"),
                                     language=item.get("language", "zh"), platforms=item.get("platforms", []),
                                     angle=item.get("angle"))
        assert _index_rows(seeded) == _index_rows(analysed)
        for table in ("search_index", "search_title", "search_used"):
            assert seeded.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')").fetchall() == []
        for query in ("催单", "cd", "kuaidi", "退款多久到账", "優惠券"):
            assert [h.reply_id for h in search.search(seeded, query)] == \
                   [h.reply_id for h in search.search(analysed, query)], query
    finally:
        seeded.close()
        analysed.close()


def test_a_first_start_seeds_without_loading_jieba_or_pypinyin(tmp_path):
    code = ("import sys\n"
            "from assistant.core import replies, search\n"
            "from assistant.core.store import open_store\n"
            f"store = open_store({str(tmp_path / 'kefu.db')!r})\n"
            "added = replies.seed_defaults(store)\n"
            "hits = search.search(store, 'kuaidi')\n"
            "print(added, len(hits), 'jieba' in sys.modules, 'pypinyin' in sys.modules, search.is_ready())\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    added, hits, jieba_loaded, pypinyin_loaded, ready = proc.stdout.split()
    assert int(added) > 100 and int(hits) > 0
    assert (jieba_loaded, pypinyin_loaded, ready) == ("False", "False", "False")


def test_an_analysis_for_another_index_format_is_not_used(tmp_path, caplog):
    data = json.loads(resource_path("library", replies.DEFAULT_INDEX).read_text("utf-8"))
    data["index_version"] = search.INDEX_VERSION + 1
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    with caplog.at_level("WARNING", logger="assistant.core.search"):
        assert search.load_prepared(other) == {}
        assert search.load_prepared(tmp_path / "missing.json") == {}
        (tmp_path / "bad.json").write_bytes(b"\xff\xfe not json")
        assert search.load_prepared(tmp_path / "bad.json") == {}
    assert len(caplog.records) == 3
    assert len(search.load_prepared(resource_path("library", replies.DEFAULT_INDEX))) > 100
