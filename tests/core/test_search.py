"""Search: Chinese words and characters, pinyin, initials, short codes, traditional/simplified,
ranking, incremental index, migration, safety for any text. GUI-free."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from assistant.core import lexicon, replies, search, searchtext
from assistant.core.clock import FakeClock
from assistant.core.migrations import migrations
from assistant.core.store import open_store

REPO = Path(__file__).resolve().parents[2]

NASTY = [
    "", " ", '"', '""', "'", "''", "*", "**", "-", "--", ":", "::", "^", "(", ")", "()", "{", "}", "[", "]",
    "AND", "OR", "NOT", "NEAR", "and or not near", "NEAR(a b, 2)", "a AND", "OR b", "NOT NOT", "a:b", "t_chars:快",
    "{t_chars}: 快", '"快递" OR "x"', "-快递", "^快递", "快递*", "*快递", "kuai*", '"kuai"*', "_g1", "_used", "_",
    "%", "%%", "\\", "\\%", "' OR 1=1 --", "\x00", "快\x00递", "\x00\x00", "😀", "😀快递😀", "👍🏽", "\u200b", "\u202e快递",
    "e\u0301", "𠀀", "〇", "①②", "ＫＵＡＩＤＩ", "ｋｄ", "\t\n\r", "a" * 10_000, "快" * 10_000, "kuaidi " * 1500,
    "\"" * 10_000, "(" * 5000, "cd" * 30, "#", "./-_#", "kd1%", "SELECT * FROM replies", "\ufeff优惠券",
]


def _titles(store, hits) -> list[str]:
    return [replies.get_reply(store, h.reply_id).title for h in hits]


def _ids(hits) -> list[int]:
    return [h.reply_id for h in hits]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The shipped default library (152 replies), read-only for the golden queries."""
    search.start_background_loading(tmp_path_factory.mktemp("cache")).join()
    clock = FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))
    s = open_store(tmp_path_factory.mktemp("library") / "kefu.db", clock)
    assert replies.seed_defaults(s) == 152
    yield s
    s.close()


@pytest.fixture
def shop(tmp_path):
    search.start_background_loading(tmp_path / "cache").join()
    clock = FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))
    s = open_store(tmp_path / "kefu.db", clock)
    yield s
    s.close()


# ---------------------------------------------------------------- golden queries

def test_chinese_word_finds_title_first(library):
    hits = search.search(library, "快递")
    titles = _titles(library, hits)
    assert titles[:2] == ["默认快递", "大促快递拥堵"]  # the word in the title beats the body
    assert hits[0].how == "word"
    assert len(hits) >= 8


def test_single_character_inside_a_word(library):
    hits = search.search(library, "快")
    titles = _titles(library, hits)
    assert {"默认快递", "大促快递拥堵"} <= set(titles[:2])
    assert hits[0].how == "chars"
    assert "库存询问" in titles  # 变化快: the character on its own, in a body


def test_two_characters_of_a_longer_word(library):
    assert "领券方法" in _titles(library, search.search(library, "惠券"))  # inside 优惠券


def test_full_pinyin(library):
    hits = search.search(library, "kuaidi")
    assert _titles(library, hits)[:2] == ["默认快递", "大促快递拥堵"]
    assert hits[0].how == "pinyin"


@pytest.mark.parametrize("typed", ["k", "ku", "kua", "kuai", "kuaid", "kuaidi"])
def test_partial_pinyin_while_typing_finds_kuaidi(library, typed):
    titles = _titles(library, search.search(library, typed))
    assert "默认快递" in titles


def test_partial_pinyin_ranks_the_title_match_first(library):
    for typed in ("kuai", "kuaid"):
        assert _titles(library, search.search(library, typed))[:2] == ["默认快递", "大促快递拥堵"]


def test_initials_kd_after_codes(library):
    hits = search.search(library, "kd")
    hows = [h.how for h in hits]
    codes = [replies.get_reply(library, h.reply_id).code for h in hits if h.how.startswith("code")]
    assert codes == ["kd1", "kd2", "kd3", "kd4", "kd5", "kd6", "kd7"]
    assert hows[:7] == ["code-prefix"] * 7
    text_hits = hits[7:]
    assert text_hits and text_hits[0].how == "initials"
    assert "默认快递" in _titles(library, text_hits)


def test_initials_cd_find_cuidan(shop):
    target = replies.create_reply(shop, title="已催仓库", body="亲，已经帮您催单了，今天一定发出", group="售后")
    replies.create_reply(shop, title="无关", body="亲，在的呢", group="售后")
    hits = search.search(shop, "cd")
    assert _ids(hits) == [target.id]
    assert hits[0].how == "initials"
    assert search.search(shop, "cuidan")[0].reply_id == target.id
    assert search.search(shop, "催单")[0].reply_id == target.id


def test_group_name_by_characters_and_pinyin(library):
    for typed, how in (("催单", "group"), ("cuidan", "group"), ("cdcf", "group")):
        hits = search.search(library, typed)
        assert hits, typed
        # the group's replies, then (催单 only) replies that say it in other words (催发货, 还没发)
        by_group = [h for h in hits if h.how != "synonym"]
        assert {replies.get_reply(library, h.reply_id).group_path.split("/")[0] for h in by_group} == {"催单催付"}
        assert hits[:len(by_group)] == by_group
        assert hits[0].how == how


def test_short_code_exact_beats_prefix_beats_text(shop):
    prefix = replies.create_reply(shop, title="优惠二号", body="满减", code="yh2")
    exact = replies.create_reply(shop, title="优惠一号", body="满减", code="yh")
    text = replies.create_reply(shop, title="优惠", body="今天有优惠")
    hits = search.search(shop, "yh")
    assert _ids(hits) == [exact.id, prefix.id, text.id]
    assert [h.how for h in hits] == ["code", "code-prefix", "initials"]
    assert _ids(search.search(shop, "YH")) == [exact.id, prefix.id, text.id]  # codes ignore case
    assert _ids(search.search(shop, "yh2"))[0] == prefix.id


def test_code_query_with_like_wildcards_is_literal(shop):
    replies.create_reply(shop, title="a", body="a", code="k_1")
    other = replies.create_reply(shop, title="b", body="b", code="kx1")
    assert other.id not in _ids(search.search(shop, "k_"))


def test_traditional_query_finds_simplified_text(library):
    hits = search.search(library, "優惠券")
    assert "领券方法" in _titles(library, hits)
    assert _ids(hits) == _ids(search.search(library, "优惠券"))


def test_simplified_query_finds_traditional_text(shop):
    stored = replies.create_reply(shop, title="運費險說明", body="親，這款下單送運費險，收到不合適換貨的來回運費不用您操心")
    for typed in ("运费险", "運費險", "yunfeixian", "yfx", "换货"):
        assert search.search(shop, typed)[0].reply_id == stored.id, typed


def test_english_and_accents(library):
    assert _titles(library, search.search(library, "ship"))[:2] == ["Unpaid - ship sooner", "Shipping time"]
    assert "Plazo de envío" in _titles(library, search.search(library, "envio"))
    assert "Plazo de envío" in _titles(library, search.search(library, "ENVÍO"))
    assert "Сроки доставки" in _titles(library, search.search(library, "достав"))


def test_full_width_and_case(library):
    assert _ids(search.search(library, "ＫＵＡＩＤＩ")) == _ids(search.search(library, "kuaidi"))


def test_several_terms_all_matched_first(library):
    hits = search.search(library, "快递 延误")
    assert _titles(library, hits)[0] == "物流延误解释"
    assert len(hits) > 1  # then replies with one of the two words
    assert _titles(library, search.search(library, "kuaidi yanwu"))[0] == "物流延误解释"


def test_chinese_run_words_found_apart(shop):
    together = replies.create_reply(shop, title="a", body="这张优惠券叠加后更便宜")
    apart = replies.create_reply(shop, title="b", body="优惠券可以和满减一起叠加")
    one = replies.create_reply(shop, title="c", body="优惠券只能单独使用")
    replies.create_reply(shop, title="d", body="下单后48小时内发货")
    hits = search.search(shop, "优惠券叠加")
    # both words first; a reply with one of them after, still found (issue 16); none of them: not at all
    assert _ids(hits) == [together.id, apart.id, one.id]


def test_question_words_weigh_nothing(shop):
    """The buyer's own question finds the reply that answers it though the reply never says 多久 or 吗;
    a query made of question words only is searched as typed."""
    answer = replies.create_reply(shop, title="退款到账", body="退款原路退回，一般1-3个工作日到账")
    replies.create_reply(shop, title="发货时间", body="下单后48小时内发货")
    asks = replies.create_reply(shop, title="可以吗", body="可以吗？")
    assert _ids(search.search(shop, "退款多久到账"))[:1] == [answer.id]
    assert _ids(search.search(shop, "亲 我的退款多久能到账啊"))[:1] == [answer.id]
    assert _ids(search.search(shop, "可以吗")) == [asks.id]


# ---------------------------------------------------------------- ranking and the index kept current

def test_usage_breaks_a_tie(shop, monkeypatch):
    first = replies.create_reply(shop, title="包邮说明", body="全国包邮")
    second = replies.create_reply(shop, title="包邮说明", body="全国包邮")
    assert _ids(search.search(shop, "包邮")) == [first.id, second.id]
    replies.record_use(shop, second.id)
    assert _ids(search.search(shop, "包邮")) == [second.id, first.id]
    assert _ids(search.search(shop, "by")) == [second.id, first.id]


def test_recent_use_beats_old_use(shop):
    old = replies.create_reply(shop, title="发货时间", body="48小时内发货")
    recent = replies.create_reply(shop, title="发货时间", body="48小时内发货")
    replies.record_use(shop, old.id)
    shop.clock.advance(timedelta(days=30))
    replies.record_use(shop, recent.id)
    assert _ids(search.search(shop, "发货")) == [recent.id, old.id]


def test_match_quality_beats_usage(shop):
    in_title = replies.create_reply(shop, title="退款进度", body="亲，请稍等")
    in_body = replies.create_reply(shop, title="安抚", body="退款已经在处理了")
    for _ in range(5):
        replies.record_use(shop, in_body.id)
    assert _ids(search.search(shop, "退款")) == [in_title.id, in_body.id]


def test_usage_recorded_by_another_connection_is_seen(shop):
    a = replies.create_reply(shop, title="问候", body="您好")
    b = replies.create_reply(shop, title="问候", body="您好")
    assert _ids(search.search(shop, "问候")) == [a.id, b.id]
    with open_store(shop.path, shop.clock) as cli:  # e.g. `kefu paste` from a terminal
        replies.record_use(cli, b.id)
    assert _ids(search.search(shop, "问候")) == [b.id, a.id]


def test_update_reindexes(shop):
    reply = replies.create_reply(shop, title="顺丰包邮", body="默认顺丰发货", code="sf")
    assert _ids(search.search(shop, "shunfeng")) == [reply.id]
    replies.record_use(shop, reply.id)  # used replies are also answered from search_used
    replies.update_reply(shop, reply.id, title="圆通发货", body="默认圆通快递")
    for gone in ("顺丰", "shunfeng", "sfby"):
        # 顺丰 still finds it as another courier's reply (a synonym), never as its own text
        assert reply.id not in [h.reply_id for h in search.search(shop, gone) if h.how != "synonym"], gone
    for found in ("圆通", "yuantong", "yt", "圆"):
        assert _ids(search.search(shop, found)) == [reply.id], found
    assert search.search(shop, "sf")[0].how == "code"  # the code did not change


def test_delete_removes_and_restore_brings_back(shop):
    reply = replies.create_reply(shop, title="七天无理由", body="支持七天无理由退换")
    removed = replies.delete_reply(shop, reply.id)
    assert search.search(shop, "无理由") == []
    assert shop.query("SELECT count(*) AS n FROM search_docs")[0]["n"] == 0
    replies.restore_reply(shop, removed)
    assert _ids(search.search(shop, "qtwly")) == [reply.id]


def test_rows_deleted_by_plain_sql_leave_the_index(shop):
    reply = replies.create_reply(shop, title="赠品", body="送小样")
    replies.record_use(shop, reply.id)
    with shop.write() as db:
        db.execute("DELETE FROM replies WHERE id = ?", (reply.id,))
    assert shop.conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 0
    for table in ("search_index", "search_title", "search_used"):
        assert _postings(shop, table) == [], table
    assert search.search(shop, "赠品") == []


def test_group_filter_includes_sub_groups(shop):
    hello = replies.create_reply(shop, title="问候", body="亲，在的", group="售前/问候")
    size = replies.create_reply(shop, title="尺码", body="亲，按平时穿", group="售前/尺码")
    refund = replies.create_reply(shop, title="退款", body="亲，已退", group="售后/退款")
    pre = replies.get_group(shop, "售前").id
    assert sorted(_ids(search.search(shop, "亲", group_id=pre))) == sorted([hello.id, size.id])
    assert _ids(search.search(shop, "亲", group_id=replies.get_group(shop, "售后/退款").id)) == [refund.id]
    assert search.search(shop, "亲", group_id=999_999) == []
    assert _ids(search.search(shop, "wh", group_id=pre)) == [hello.id]  # initials of 问候


def test_group_rename_and_moves(shop):
    reply = replies.create_reply(shop, title="说明", body="亲，稍等", group="物流/延误")
    assert _ids(search.search(shop, "wuliu")) == [reply.id]
    replies.rename_group(shop, "物流", "售后")
    assert search.search(shop, "wuliu") == []
    assert _ids(search.search(shop, "shouhou")) == [reply.id]
    target = replies.create_group(shop, "投诉")
    replies.delete_group(shop, "售后", move_to=target.id)
    assert _ids(search.search(shop, "亲", group_id=target.id)) == [reply.id]
    assert _ids(search.search(shop, "tousu")) == [reply.id]


def _postings(store, table: str) -> list[tuple]:
    """Every (term, row, column, position) an FTS5 table holds: search_title and search_used keep
    no text of their own (contentless), so this is what they are compared by."""
    store.conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_postings "
                       f"USING fts5vocab(main, {table}, instance)")
    return store.conn.execute(f"SELECT term, doc, col, offset FROM temp.{table}_postings "
                              "ORDER BY doc, col, offset, term").fetchall()


def _index_state(store) -> dict[str, list]:
    return {
        "docs": store.conn.execute("SELECT * FROM search_docs ORDER BY id").fetchall(),
        "index": _postings(store, "search_index"),
        "title": _postings(store, "search_title"),
        "used": _postings(store, "search_used"),
        "used rows": store.conn.execute("SELECT id FROM search_used_docsize ORDER BY id").fetchall(),
    }


def test_rebuild_equals_incremental(shop):
    replies.seed_defaults(shop)
    replies.update_reply(shop, 3, body="改过的{客户}回访话术，顺便问问快递")
    replies.update_reply(shop, 4, group="售后/夜间")
    replies.delete_reply(shop, 5)
    replies.record_use(shop, 6)
    replies.rename_group(shop, "售前", "咨询")
    queries = ["快递", "kd", "zixun", "回访", "yh", "優惠券"]
    before = _index_state(shop), [_ids(search.search(shop, q)) for q in queries]
    assert search.rebuild_index(shop) == 151
    after = _index_state(shop), [_ids(search.search(shop, q)) for q in queries]
    assert before == after
    assert shop.conn.execute("INSERT INTO search_index (search_index) VALUES ('integrity-check')").fetchall() == []


def test_edit_that_keeps_the_text_does_not_reanalyse(shop, monkeypatch):
    reply = replies.create_reply(shop, title="发票", body="电子发票", group="售后")
    monkeypatch.setattr(search, "_analyze", lambda *a: pytest.fail("re-analysed unchanged text"))
    replies.update_reply(shop, reply.id, group="售前", code="fp")
    replies.rename_group(shop, "售前", "咨询")
    assert _ids(search.search(shop, "fapiao")) == [reply.id]


def _library_older_than_the_index(path: Path) -> None:
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="0002_search_index")
    stamp = "2026-01-01T00:00:00.000000Z"
    db.execute("INSERT INTO groups (id, uuid, name, parent_id, position, created_at, updated_at) "
               "VALUES (1, 'g1', '催单催付', NULL, 0, ?, ?)", (stamp, stamp))
    for rid, title, body, uses in ((1, "默认快递", "亲，我们默认发顺丰", 0), (2, "優惠券", "先領券再下單", 3)):
        db.execute("INSERT INTO replies (id, uuid, group_id, title, body, created_at, updated_at, use_count) "
                   "VALUES (?, ?, 1, ?, ?, ?, ?, ?)", (rid, f"u{rid}", title, body, stamp, stamp, uses))
    db.conn.commit()
    db.conn.close()


def test_existing_replies_are_indexed_after_the_migration(tmp_path):
    """Migration 0002 is frozen (it only creates the tables); search notices the empty index and
    rebuilds it where the app already indexes: replies.seed_defaults, on the worker at start and
    before a CLI command's first use of the store."""
    path = tmp_path / "old.db"
    _library_older_than_the_index(path)
    with open_store(path) as store:
        assert "0002_search_index" in [m.name for m in migrations.applied(store.db)]
        assert store.conn.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 0
        assert search.is_stale(store.conn)
        # until the rebuild, a plain scan still finds what was typed
        assert _ids(search.search(store, "默认快递")) == [1]
        assert replies.seed_defaults(store) == 0  # an existing library is not seeded...
        assert not search.is_stale(store.conn)  # ...but its index was rebuilt
        assert _ids(search.search(store, "kuaidi")) == [1]
        assert _ids(search.search(store, "优惠券")) == [2]
        assert sorted(_ids(search.search(store, "cd"))) == [1, 2]
        assert store.conn.execute("SELECT id FROM search_used_docsize").fetchall() == [(2,)]
        assert search.ensure_index(store) == 0  # current: nothing to do, nothing written
        before = store.conn.total_changes
        assert replies.seed_defaults(store) == 0 and store.conn.total_changes == before


def test_stale_index_is_found_and_rebuilt(shop):
    a = replies.create_reply(shop, title="发货时间", body="48小时内发货")
    assert not search.is_stale(shop.conn)
    assert search.ensure_index(shop) == 0
    # a reply written by plain SQL (another tool, a hand repair) has no index row
    stamp = "2026-01-01T00:00:00.000000Z"
    with shop.write() as db:
        db.execute("INSERT INTO replies (uuid, group_id, title, body, created_at, updated_at) "
                   "VALUES ('plain', ?, '包邮', '全场包邮', ?, ?)", (a.group_id, stamp, stamp))
    assert search.is_stale(shop.conn)
    assert search.ensure_index(shop) == 2
    assert len(search.search(shop, "baoyou")) == 1
    # an index made by another format version is rebuilt too
    with shop.write() as db:
        db.execute("UPDATE settings SET value = '0' WHERE key = ?", (search.INDEX_VERSION_KEY,))
    assert search.is_stale(shop.conn)
    assert search.ensure_index(shop) == 2
    assert shop.query("SELECT value FROM settings WHERE key = ?",
                      (search.INDEX_VERSION_KEY,))[0]["value"] == str(search.INDEX_VERSION)
    assert _ids(search.search(shop, "fahuo")) == [a.id]


def test_read_only_store_with_a_stale_index_still_finds_by_scan(tmp_path):
    path = tmp_path / "old.db"
    _library_older_than_the_index(path)
    open_store(path).close()  # migrated, index still empty
    with open_store(path) as store:
        store.read_only = True
        assert search.ensure_index(store) == 0
        assert _ids(search.search(store, "顺丰")) == [1]


def test_new_database_does_not_load_jieba_for_the_migration(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from assistant.core.store import open_store
        with open_store({str(tmp_path / 'new.db')!r}) as store:
            pass
        print("jieba" in sys.modules, "pypinyin" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------- before jieba is ready

def test_search_answers_before_jieba_and_pypinyin_are_loaded(library, monkeypatch):
    expected = {q: _ids(search.search(library, q)) for q in ("kuaidi", "快", "ship", "優惠券")}
    monkeypatch.setattr(search, "is_ready", lambda: False)

    def boom(*args, **kwargs):
        raise AssertionError("search waited for jieba/pypinyin")

    import jieba
    import pypinyin

    monkeypatch.setattr(search, "_cut_run", boom)
    monkeypatch.setattr(jieba, "cut", boom)
    monkeypatch.setattr(pypinyin, "lazy_pinyin", boom)
    for query, ids in expected.items():
        assert _ids(search.search(library, query)) == ids, query
    # a long Chinese run is one substring until jieba can split it
    assert "领券方法" in _titles(library, search.search(library, "优惠券在商品页面"))
    assert search.search(library, "cuidan") == []  # group-name pinyin waits for pypinyin...
    assert search.search(library, "催单")  # ...characters do not


def test_fresh_process_searches_without_importing_jieba(library, tmp_path):
    """The panel's first keystrokes: no jieba, no pypinyin import on the search path. Then the
    CLI case: adding a reply loads jieba synchronously, its word lexicon next to the database."""
    db = tmp_path / "data" / "kefu.db"
    db.parent.mkdir()
    library.conn.execute("VACUUM INTO ?", (str(db),))
    code = textwrap.dedent(f"""
        import json, sys
        from assistant.core import replies, search
        from assistant.core.store import open_store
        store = open_store({str(db)!r})
        found = {{q: len(search.search(store, q)) for q in ("kuaidi", "快递", "kd", "優惠券", "ship")}}
        loaded = ["jieba" in sys.modules, "pypinyin" in sys.modules, search.is_ready()]
        reply = replies.create_reply(store, title="新到货", body="羽绒服今天到货")
        after = [h.reply_id for h in search.search(store, "yurongfu")] == [reply.id]
        print(json.dumps([found, loaded, after]))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    found, loaded, after = json.loads(out.stdout)
    assert all(found.values()), found
    assert loaded == [False, False, False]
    assert after
    assert list((db.parent / "cache").glob("lexicon-*.sqlite3"))  # core/lexicon.py, not jieba.cache


def test_background_loading_keeps_the_lexicon_in_cache_dir(tmp_path):
    code = textwrap.dedent(f"""
        from pathlib import Path
        from assistant.core import search
        thread = search.start_background_loading(Path({str(tmp_path / 'cache')!r}))
        assert thread.daemon and search.start_background_loading(Path({str(tmp_path / 'cache')!r})) is thread
        thread.join()
        assert search.is_ready()
    """)
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"lexicon-{lexicon.cache_key()}.sqlite3"]


# ---------------------------------------------------------------- any text is safe

@pytest.mark.parametrize("text", NASTY, ids=range(len(NASTY)))
def test_nasty_strings_never_raise(library, text):
    hits = search.search(library, text)
    assert isinstance(hits, list) and all(isinstance(h, search.Hit) for h in hits)
    search.search(library, text, limit=3, group_id=1)


def test_some_nasty_strings_still_find(library):
    assert search.search(library, "快递*")
    assert search.search(library, '"快递" OR "x"')
    assert search.search(library, "😀快递😀")
    assert search.search(library, "\ufeff优惠券")
    assert search.search(library, "kuaidi " * 1500)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_any_text_never_raises(library, text):
    hits = search.search(library, text, limit=10)
    assert all(isinstance(h.reply_id, int) for h in hits)


MESSAGE_PARTS = ["亲", "我", "前天", "拍的", "白色", "运动鞋", "还没", "发货", "能不能", "帮我", "看看", "退款", "多久",
                 "到账", "优惠券", "满减", "包邮", "kuaidi", "tkdzz", "cd12", " ", "，", "？", "😀", '"', "*", "-", "NEAR",
                 "退貨", "料子", "快", "s", "m", "160", "(", "满…减", "_g1"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(MESSAGE_PARTS), min_size=1, max_size=30), limit=st.integers(1, 60))
def test_any_buyers_message_never_raises(library, parts, limit):
    """Messages of several real words (the long-message path, code typos, synonyms, syntax) never raise."""
    hits = search.search(library, "".join(parts), limit=limit)
    assert len(hits) <= limit and len({h.reply_id for h in hits}) == len(hits)
    assert all(h.how for h in hits)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_can_be_analysed_for_the_index(library, text):
    values, _terms = search._row_values(text, text, "_g1")
    assert len(values) == len(search.COLUMNS)
    *text_values, tsig = values
    assert all("\x00" not in v and '"' not in v for v in text_values) and len(tsig) == 8
    # format 3: what search_docs_v gives back is what was indexed
    packed, _gids, _sig = search._doc_values(values)
    streams = searchtext.unpack(packed)
    assert (searchtext.search_chars(text), *streams[:3], searchtext.search_chars(text), *streams[3:]) == \
        tuple(values[:len(search.TEXT_COLUMNS)])


def test_the_trades_synonyms_find_the_reply_below_the_word_typed(shop):
    """resources/search/query_words.json's synonym groups, used when the query is read: 退钱 finds a
    reply about 退款, 满减 finds 满199减30; the word typed itself still ranks first."""
    refund = replies.create_reply(shop, title="退款到账", body="退款原路退回，1-3个工作日到账")
    money = replies.create_reply(shop, title="退钱说明", body="钱会退到您的支付账户")
    promo = replies.create_reply(shop, title="店铺活动", body="全店满199减30，可与优惠券叠加")
    replies.create_reply(shop, title="发货时间", body="下单后48小时内发货")
    assert _ids(search.search(shop, "退钱"))[:2] == [money.id, refund.id]  # the word typed, then the synonym
    hits = search.search(shop, "钱什么时候退回来")
    assert refund.id in _ids(hits)[:2]
    assert _ids(search.search(shop, "满减"))[:1] == [promo.id]
    assert search.search(shop, "满减")[0].how == "synonym"
    assert _ids(search.search(shop, "有满减吗"))[:1] == [promo.id]


def test_one_wrong_or_missing_letter_in_pinyin_still_finds_the_reply(shop):
    refund = replies.create_reply(shop, title="退款到账", body="退款原路退回")
    coupon = replies.create_reply(shop, title="优惠券使用", body="下单时勾选即可")
    for typed in ("tuikun", "tuokuan", "tiukuan", "tuikuann"):  # missing, wrong, swapped, extra
        hits = search.search(shop, typed)
        assert _ids(hits)[:1] == [refund.id], typed
        assert hits[0].how == "typo"
    assert _ids(search.search(shop, "youhuiqun"))[:1] == [coupon.id]
    assert search.search(shop, "tuikuan")[0].how != "typo"  # spelled right: an exact match
    assert search.search(shop, "tuk") == []  # 3 letters: prefix only, no guessing
    assert search.search(shop, "qqqqqq") == []


def test_pinyin_typed_across_word_boundaries_finds_a_body(shop):
    """dangtianfahuo spells two indexed words of a body (dangtian fahuo): searched as a phrase of them,
    no extra index; the reply is found as its own text, not as a guess."""
    same_day = replies.create_reply(shop, title="发货说明", body="下午四点前付款当天发货")
    replies.create_reply(shop, title="发货时间", body="一般两天内发货，当天不一定")  # both words, not together
    hits = search.search(shop, "dangtianfahuo")
    assert _ids(hits)[:1] == [same_day.id] and hits[0].how == "pinyin"
    assert search.search(shop, "dangtianfahuoo")[:1] == []  # no split spells it, nothing one letter away


def test_initials_typed_across_word_boundaries_find_a_body_or_a_split_title(shop):
    """ylth = 原路|退回 in a body, cfkc = 催付-库存 (a title cut in two by the hyphen): the initials of
    indexed words, searched as a phrase; a string no split spells finds nothing."""
    body = replies.create_reply(shop, title="退款到账", body="退款会原路退回您的支付账户")
    title = replies.create_reply(shop, title="催付-库存", body="库存不多了，喜欢的话早点拍下哦")
    assert _ids(search.search(shop, "ylth"))[:1] == [body.id]
    assert _ids(search.search(shop, "cfkc"))[:1] == [title.id]
    assert search.search(shop, "xqzmwk") == []


def test_a_code_one_edit_away_is_found_after_the_exact_text_matches(shop):
    """4+ letters/digits that no code starts with: codes one edit away (wrong, missing, extra, swapped),
    labelled code-typo, below replies whose text matches exactly; short input is never guessed at."""
    refund = replies.create_reply(shop, title="退款到账", body="退款原路退回", code="tkdz")
    other = replies.create_reply(shop, title="催单", body="已帮您催促仓库", code="cd12")
    for typed in ("tkdzz", "tkd", "tkdx", "tdkz", "tkz", "TKDZZ", "ｔｋｄｚｘ"):
        hits = search.search(shop, typed)
        if len(typed.strip()) < 4:
            assert all(h.how != "code-typo" for h in hits), typed
            continue
        assert _ids(hits)[:1] == [refund.id], typed
        assert hits[0].how == "code-typo", typed
    assert [h.how for h in search.search(shop, "tkdz")][:1] == ["code"]  # exact: no guessing
    assert search.search(shop, "tkd")[0].how == "code-prefix"
    assert all(h.how != "code-typo" for h in search.search(shop, "cd1"))  # 3 characters: prefix only
    assert _ids(search.search(shop, "cd13"))[:1] == [other.id]  # one wrong digit
    assert search.search(shop, "cd13")[0].how == "code-typo"
    assert search.search(shop, "xyzw") == []
    # a reply whose text matches exactly ranks above a code one edit away
    text = replies.create_reply(shop, title="cd13 说明", body="型号 cd13 的使用方法")
    hits = search.search(shop, "cd13")
    assert _ids(hits)[:2] == [text.id, other.id] and hits[1].how == "code-typo"
    assert search.search(shop, "cd13", group_id=text.group_id)  # group filter still answers
    assert not any(h.how.startswith("code") for h, _r in replies.suggest(shop, "tkdzz"))


@pytest.mark.parametrize("table", ["search_index", "search_title", "search_used"])
def test_a_damaged_index_is_found_repaired_and_searched_meanwhile(shop, table, caplog):
    """Rows deleted from an FTS5 shadow table: FTS5's integrity-check names the table, search still
    answers (a plain scan, one log line without the query), repair_index makes it whole again."""
    from assistant.core import integrity

    refund = replies.create_reply(shop, title="退款到账", body="退款原路退回，1-3个工作日到账")
    replies.create_reply(shop, title="发货时间", body="下单后48小时内发货")
    replies.record_use(shop, refund.id)
    assert integrity.fts_problems(shop.conn) == []
    with shop.write():
        shop.conn.execute(f"DELETE FROM {table}_data WHERE id > 10")
    assert not shop.conn.in_transaction
    problems = integrity.fts_problems(shop.conn)
    assert problems and problems[0].startswith(table + ":"), problems
    assert not shop.conn.in_transaction  # the check leaves no transaction open

    search._failure_logged.clear()
    with caplog.at_level("WARNING", logger="assistant.core.search"):
        for query in ("退款", "退款到账", "退款 到账 工作日", "tuikuan"):
            hits = search.search(shop, query)
            if query != "tuikuan":  # pinyin needs the index
                assert _ids(hits)[:1] == [refund.id], query
        assert replies.suggest(shop, "亲 退款 多久 到账")
    lines = [r.getMessage() for r in caplog.records if r.name == "assistant.core.search"]
    assert len(lines) == 1 and "kefu doctor --reindex" in lines[0]
    assert "退款" not in lines[0] and "tuikuan" not in lines[0]

    assert search.repair_index(shop) == 2
    assert integrity.fts_problems(shop.conn) == []
    hits = search.search(shop, "tuikuan")
    assert _ids(hits)[:1] == [refund.id] and hits[0].how == "pinyin"


def test_a_buyers_message_ranks_by_coverage_then_rarity(shop):
    """3+ meaningful words: the reply holding more of them first, then the one holding the rarer ones
    (a word in 40 replies tells less than one in 2), then match quality, then usage."""
    for n in range(40):  # 发货 is everywhere, as in a real shop
        replies.create_reply(shop, title=f"发货说明{n}", body=f"第{n}款下单后48小时内发货")
    late = replies.create_reply(shop, title="延迟发货", body="白色运动鞋缺货，补货后马上发货")
    shoes = replies.create_reply(shop, title="运动鞋尺码", body="运动鞋偏大半码")
    message = "亲 我前天拍的白色运动鞋还没发货 能不能帮我看看"
    terms = search._query_terms(search.normalize(message), True)
    assert len(search._meaningful(terms)) >= 3
    hits = search.search(shop, message, limit=10)
    # late holds 白色, 运动鞋 and 发货; shoes only 运动鞋 (rare), a 发货说明 only 发货 (common)
    assert _ids(hits)[:2] == [late.id, shoes.id]
    assert all(h.how for h in hits)
    top = [h.reply_id for h, _r in replies.suggest(shop, message)]
    assert top[:2] == [late.id, shoes.id]


def test_a_buyers_message_prefers_the_rarer_word_and_then_usage(shop):
    common = [replies.create_reply(shop, title=f"物流{n}", body="快递已经发出，请耐心等待") for n in range(30)]
    rare = replies.create_reply(shop, title="发票", body="电子发票在订单详情里申请")
    message = "快递 发出 了吗 发票 怎么 开 还有 等待"
    hits = search.search(shop, message, limit=5)
    # every 物流 reply covers 快递, 发出, 等待 (3 words) and beats 发票 (1 word, however rare)
    assert rare.id not in _ids(hits)[:3]
    replies.record_use(shop, common[7].id)
    assert _ids(search.search(shop, message, limit=5))[:1] == [common[7].id]  # a tie: usage decides
    assert _ids(search.search(shop, "发票 电子 订单 详情", limit=3))[:1] == [rare.id]


def test_probes_agree_with_how(library):
    """_probes/_probe (the long-message scorer) give _how's level for every term of a few queries."""
    store = library
    snap = search._snapshot(store, store.clock.now())
    rows = search._stored_rows(store.conn, [r[0] for r in store.conn.execute("SELECT id FROM replies")])
    for text in ("快递 发货 yanwu", "退款多久到账 退钱 kuaidi", "满减 优惠券 tuikun cd", "退貨 衣服 起球 s"):
        terms = search._query_terms(search.normalize(text), True, snap.words)
        q = search._Query(store.conn, terms, snap, None)
        for term in q.terms:
            probes = search._probes(term, q.group_hits[term])
            for row in rows.values():
                row = {**row, "tb_chars": row["t_chars"] + row["b_chars"]}
                assert search._probe(row, probes)[0] == search._how(row, term, q.group_hits[term])[0], term


# ---------------------------------------------------------------- index format 3 (migration 0019)

INDEX_DICT_SHA256 = "6c702e7d4f5da597ec6fd5618947eac832f1f352103078375ffa690870cd578d"


def test_the_packed_rows_dictionary_is_frozen():
    """Rows in search_docs are deflated with this preset dictionary and can only be read with the same
    bytes: a new dictionary needs a new PACK_FORMAT byte, INDEX_VERSION and migration (a rebuild)."""
    data = (Path(searchtext.__file__).parents[2] / "resources" / "search" / searchtext.DICT_FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == INDEX_DICT_SHA256


def test_pack_round_trip_and_bad_rows():
    streams = ("快递 顺丰", "kuaidi shunfeng", "kd sf", "", "fahuo", "fh")
    packed = searchtext.pack(streams)
    assert packed[0] == searchtext.PACK_FORMAT and searchtext.unpack(packed) == streams
    assert searchtext.search_part(packed, 4) == "fahuo" and searchtext.search_part(None, 0) == ""
    with pytest.raises(ValueError):
        searchtext.unpack(b"\x02" + packed[1:])
    with pytest.raises(ValueError):
        searchtext.pack(("a\nb", "", "", "", "", ""))


def test_edits_by_plain_sql_leave_a_consistent_index(shop):
    """The chars streams are recomputed from the reply's text, so a text edit removes the reply's index
    rows (trigger search_docs_reply_edited) before the text changes; index_reply puts them back."""
    reply = replies.create_reply(shop, title="顺丰包邮", body="默认顺丰发货")
    replies.record_use(shop, reply.id)
    with shop.write() as db:
        db.execute("UPDATE replies SET body = '默认圆通发货' WHERE id = ?", (reply.id,))
    for table in ("search_index", "search_title", "search_used"):
        assert shop.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')").fetchall() == []
        assert _postings(shop, table) == [], table
    assert search.is_stale(shop.conn)  # the newest reply lacks its row: the next start rebuilds
    replies.update_reply(shop, reply.id, title="圆通包邮")
    assert not search.is_stale(shop.conn)
    assert _ids(search.search(shop, "圆通")) == [reply.id]
    assert _ids(search.search(shop, "yuantong")) == [reply.id]
    assert shop.conn.execute("INSERT INTO search_index (search_index) VALUES ('integrity-check')").fetchall() == []


def test_an_older_reply_edited_by_plain_sql_is_indexed_again_at_the_next_start(shop, caplog):
    """Not the newest reply, so is_stale's max(id) test cannot see it: ensure_index (start, a CLI
    command) indexes the replies that have no search_docs row, and logs a count, never text."""
    older = replies.create_reply(shop, title="顺丰包邮", body="默认顺丰发货")
    newest = replies.create_reply(shop, title="发票", body="电子发票")
    with shop.write() as db:
        db.execute("UPDATE replies SET body = '默认圆通发货' WHERE id = ?", (older.id,))
    assert not search.is_stale(shop.conn)
    assert _ids(search.search(shop, "yuantong")) == []  # out of the index until then
    with caplog.at_level("INFO", logger="assistant.core.search"):
        assert search.ensure_index(shop) == 1
    assert search.ensure_index(shop) == 0  # nothing missing now
    assert _ids(search.search(shop, "yuantong")) == [older.id]
    assert _ids(search.search(shop, "dianzifapiao")) == [newest.id]
    assert "圆通" not in caplog.text and "顺丰" not in caplog.text
    for table in ("search_index", "search_title", "search_used"):
        assert shop.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')").fetchall() == []


def test_a_connection_without_the_functions_cannot_change_a_replys_text(shop):
    """The sqlite3 shell (or any connection that did not call searchtext.register) gets "no such
    function" and changes nothing, instead of leaving index rows that can no longer be removed."""
    reply = replies.create_reply(shop, title="发票", body="电子发票")
    raw = sqlite3.connect(shop.path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function"):
            raw.execute("UPDATE replies SET title = '收据' WHERE id = ?", (reply.id,))
        raw.rollback()
        raw.execute("UPDATE replies SET code = 'fp' WHERE id = ?", (reply.id,))  # other columns: fine
        raw.commit()
        searchtext.register(raw)
        raw.execute("DELETE FROM replies WHERE id = ?", (reply.id,))
        raw.commit()
    finally:
        raw.close()
    assert search.search(shop, "发票") == []
    assert shop.conn.execute("INSERT INTO search_index (search_index) VALUES ('integrity-check')").fetchall() == []


def test_an_index_of_an_older_format_is_replaced_on_upgrade(tmp_path):
    """A library indexed in format 1 (migrations up to 0017): 0018/0019 drop its index tables and the
    version it recorded; the first ensure_index rebuilds the index in format 3."""
    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="0018_lean_search_index")
    stamp = "2026-01-01T00:00:00.000000Z"
    db.execute("INSERT INTO groups (id, uuid, name, parent_id, position, created_at, updated_at) "
               "VALUES (1, 'g1', '售后', NULL, 0, ?, ?)", (stamp, stamp))
    db.execute("INSERT INTO replies (id, uuid, group_id, title, body, created_at, updated_at, use_count) "
               "VALUES (1, 'u1', 1, '默认快递', '亲，我们默认发顺丰', ?, ?, 2)", (stamp, stamp))
    db.execute("INSERT INTO search_docs VALUES (1, '默 认 快 递', '默认 快递', 'moren kuaidi', 'mr kd', '', '', '', '', "
               "'_g1', 'oldsig')")
    db.execute("INSERT INTO search_index (rowid, t_chars, t_words, t_py, t_ini, b_chars, b_words, b_py, b_ini, gids) "
               "SELECT id, t_chars, t_words, t_py, t_ini, b_chars, b_words, b_py, b_ini, gids FROM search_docs")
    db.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, '1', ?)", (search.INDEX_VERSION_KEY, stamp))
    db.conn.commit()
    db.conn.close()
    with open_store(path) as store:
        assert [m.name for m in migrations.applied(store.db)][-2:] == ["0018_lean_search_index",
                                                                       "0019_packed_search_docs"]
        assert search.is_stale(store.conn)
        assert search.ensure_index(store) == 1
        assert not search.is_stale(store.conn)
        assert _ids(search.search(store, "women")) == [1]  # the body, which the old rows lacked
        assert _ids(search.search(store, "k")) == [1]
        assert store.conn.execute("SELECT id FROM search_used_docsize").fetchall() == [(1,)]
        assert store.conn.execute("INSERT INTO search_index (search_index) VALUES ('integrity-check')").fetchall() == []


def test_rows_read_for_ranking_are_the_views(shop):
    """search reads the indexed rows unpacked in Python; they are what search_docs_v (search_index's
    content) shows."""
    replies.seed_defaults(shop)
    replies.update_reply(shop, 3, title="運費險說明")
    ids = [r[0] for r in shop.conn.execute("SELECT id FROM search_docs ORDER BY id")]
    view = shop.conn.execute(f"SELECT id, {', '.join(search.FTS_COLUMNS)} FROM search_docs_v ORDER BY id").fetchall()
    assert sorted(search._indexed_rows(shop.conn, ids)) == view and len(view) == len(ids) > 100
