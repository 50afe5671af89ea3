"""Search over quick replies: Chinese words, characters, pinyin, initials and short codes.

Index (format 3: tables from migrations 0002, 0018 and 0019; filled by ensure_index/rebuild_index
and every reply write)
---------------------------------------------------------------------------------------------------
Tables keyed by reply id whose text we tokenise in Python and join with spaces (FTS5's
unicode61 tokenizer then only splits on the spaces). Each reply's token streams:
  t_chars  title as a token stream: every Han character on its own, other words whole
  t_words  title's jieba words of 2+ characters, with the sub-words cut_for_search adds
  t_py     full pinyin of those words, of 1-character words and of runs of 2-8 neighbouring
           words: "kuaidi", "lingyouhuiquan"
  t_ini    pinyin initials of the same (2+ letters): "kd", "lyhq", "hygl" (欢迎光临)
  b_*      the same four for the body, but pinyin/initials of words of 2+ characters only
           (pairs and single characters in every body tripled the index for little gain)
  gids     "_g<group id> _g<parent id>": group filter and group-name matches
``search_docs`` (plain table) stores them compactly: the chars streams not at all (SQL function
kefu_search_chars recomputes them from replies.title/body), the six word/pinyin/initials streams
as one deflated blob ("packed", preset dictionary resources/search/index_dict_v3.txt, read back by
kefu_search_part), gids, and tsig (8-byte hash of title + body: an edit changing neither, a move or a
new hotkey, re-uses the packed streams and needs no jieba). The view ``search_docs_v`` shows the
nine streams; ``search_index`` is an external-content FTS5 table over it, without column sizes
(nothing ranks by length) and without a prefix index. The functions live in searchtext.py and are
registered on every store connection; triggers remove a reply's rows when it is deleted or its text
changes (computed from the old text), so a connection without them cannot change a reply's text.
``search_title`` (FTS5, contentless): the title's tokens alone. FTS5 reads a term's whole doclist
whatever columns a query names, so "in the title" is asked here, where doclists are short, rather
than through a column filter on search_index.
``search_used`` (FTS5, contentless; its docsize table says which replies it holds): the replies
used at least once (triggers on replies.use_count keep it), so "which of the agent's used replies
match" costs the size of that set, not the term's doclist over the whole library.
Contentless rows are removed with FTS5's 'delete' command and the values from search_docs_v.
``search_terms``: every latin/pinyin/initials token. A typed prefix is expanded through it into an
OR of at most MAX_EXPANSION whole tokens, the shortest first (prefix_tokens): FTS5 3.40 answers a
prefix query without a prefix index by merging every matching doclist before the first row (28 ms
for "kuai*" at 100k replies), while an OR of tokens is read lazily like everything else we ask, and
prefix indexes (1-3 letters) took half of the index's size.

``_`` is a token character in these FTS5 tables and never part of a query term, so "_g12"
cannot be matched (or prefix-matched) by user text; queries need no column filters except
"title" on search_used, which is small.

Text is normalised the same way on both sides: NFKC (full-width letters), lower case,
diacritics removed, traditional characters converted to simplified (OpenCC t2s).

Matching a query term
---------------------
- a Han term is a phrase of its characters, i.e. a substring, so "快" finds 快递 and 很快
  without jieba; it ranks higher where it is also a whole jieba word;
- any other term (latin, digits, Cyrillic...) matches whole tokens or token prefixes among the
  words, pinyin and initials: "kd", "kuai", "kuaidi", "ship";
- group names are matched in Python (a few hundred at most): characters, or pinyin/initials
  from any character on ("cd" and "cuidan" find the group 催单催付), then as "_g<id>" tokens.

Ranking
-------
Short code exact, short code prefix, then match quality, then usage (log2(1 + use_count) plus
a recency bonus with a two-week half-life), then the older reply. Quality of one term: title
word 6 > title prefix/characters 5 > body word 3 > body prefix/characters 2 > group name 1.
A Chinese run's words found apart: 1.5. Several terms: all in the title > all anywhere > some
of them (more matched first); inside a tier the per-term qualities are summed.

A code of CODE_TYPO_FROM+ letters/digits that no code starts with also finds the codes one edit
away ("code-typo", _code_typo_hits), below every exact text match (level 1+) and above text typos
and synonyms. A buyer's message (LONG_FROM+ meaningful words) is read and ranked apart
(_ranked_long): candidates by its rarest words, then coverage > rarity (IDF, document frequency
counted up to DF_CAP rows) > match quality > usage.

A damaged FTS5 index (sqlite3.DatabaseError while reading it) is never the agent's problem:
search() answers by a plain scan and logs one line without the query (`kefu doctor` finds the
damage, `kefu doctor --reindex` runs repair_index).

Cost is bounded, never proportional to the library: results are read tier by tier, best
first. In each tier the used replies come first (all of them, from search_used, by usage),
then the others in rowid order with LIMIT what is still missing (rows already placed are
skipped). FTS5 reads whole tokens, phrases, AND and OR lazily, so a tier costs about the rows
it returns. For one term this is the exact order; for several terms the order inside a tier
is exact for the used replies and for the rows read.

jieba is needed to index, never to answer: it only splits long Chinese queries into words.
A Chinese run is always searched as one substring (what a LIKE scan would find, from the
index); once jieba has loaded (``start_background_loading``) a run of 3+ characters also
matches, one tier lower, replies holding all its words apart ("优惠券叠加" finds 优惠券可以叠加).
A query with nothing indexable (emoji or punctuation only) is answered by a LIKE scan.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import marshal
import math
import os
import re
import sqlite3
import threading
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..paths import resource_path
from . import digest, private, searchtext
from .clock import from_db, to_db

if TYPE_CHECKING:
    from .store import Store


class Indexable(Protocol):
    """What index_reply reads of a reply (replies.Reply has it; search sits below replies)."""

    id: int
    title: str
    body: str
    group_id: int
    use_count: int

log = logging.getLogger(__name__)

TABLE = "search_index"
DOCS = "search_docs"
DOCS_VIEW = "search_docs_v"  # search_docs as search_index indexed it (format 3: chars recomputed, streams unpacked)
TITLE_TABLE = "search_title"
USED_TABLE = "search_used"
TERMS = "search_terms"
TEXT_COLUMNS = ("t_chars", "t_words", "t_py", "t_ini", "b_chars", "b_words", "b_py", "b_ini")
FTS_COLUMNS = (*TEXT_COLUMNS, "gids")
COLUMNS = (*FTS_COLUMNS, "tsig")  # what _row_values returns
DOC_COLUMNS = ("packed", "gids", "tsig")  # search_docs, after its id
TITLE_COLUMNS = ("chars", "words", "py", "ini", "gids")
INDEX_VERSION = 3

MAX_QUERY_CHARS = 200     # the rest of a pasted essay is ignored
MAX_TERMS = 8
LONE_CHARS_DROPPED_FROM = 4  # multi-character words in a query: from this many, lone characters go
MAX_TERM_CHARS = 40
MAX_TOKEN_CHARS = searchtext.MAX_TOKEN_CHARS  # index side: longer "words" (a URL, a hash) are cut
MAX_EXPANSION = 128       # a typed prefix: an OR of at most this many whole tokens, the shortest
MAX_EXPANSION_ONE = 32    # one letter typed: any 50 replies starting with it do; 128 tokens cost ~4 ms
MAX_NGRAM_WORDS = 8       # titles: pinyin of runs of up to this many words
MAX_USED_PER_TIER = 5000  # used replies read per tier (the agent's own: normally far fewer)
EXPAND_FROM = 4           # typo corrections and joined pinyin: terms of this many letters and more
MAX_CODE_CHARS = 24
CODE_RE = re.compile(r"^[A-Za-z0-9_\-./#]{1,24}$")  # replies.CODE_RE's alphabet

LEVEL_TITLE_WORD, LEVEL_TITLE_PART, LEVEL_BODY_WORD, LEVEL_BODY_PART = 6, 5, 3, 2
LEVEL_SPLIT, LEVEL_GROUP = 1.5, 1
LEVEL_SYN_TITLE, LEVEL_SYN_BODY = 0.9, 0.8  # a synonym (退钱 for 退款): below the word typed and its group
SCORE_CODE, SCORE_CODE_PREFIX = 3e6, 2e6
# a code one edit away: below every exact text match (level 1+, scored level * 1e5), above text typos/synonyms
SCORE_CODE_TYPO = 0.95e5
SCORE_LONG = 1e6          # a buyer's message's hits, ranked in Python (below any code hit)
LONG_FROM = 3             # meaningful words from which a query is read as a buyer's message
DF_CAP = 64               # a word's document frequency is counted up to this many rows
RARE_TERMS = 3            # a message's candidates: every row of its rarest words
MAX_USED_LONG = 50        # used replies holding a message's rarest words, scored (the most used)
CODE_TYPO_FROM = 4        # shorter codes typed (cd, cd1) stay exact/prefix: too many codes are one edit away
_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_-./#"  # CODE_RE's, lower case

_HAN = searchtext._HAN
_TOKEN_RE = searchtext.TOKEN_RE
_SURROGATES_RE = searchtext._SURROGATES_RE
_MARKS_RE = searchtext._MARKS_RE
_t2s = searchtext._t2s


@dataclass
class Hit:
    reply_id: int
    score: float
    # "code", "code-prefix", "code-typo" (a code one edit from the 4+ characters typed), "word",
    # "chars" (Han characters inside a longer word), "prefix", "pinyin", "initials", "group" (only
    # the group name matched) or "scan" (LIKE fallback)
    how: str = "word"


# ---------------------------------------------------------------- jieba and pypinyin, loaded off the GUI thread

_load_lock = threading.Lock()      # held while loading (indexing may wait on it; search never does)
_loader_lock = threading.Lock()    # guards _loader only: start_background_loading never waits on a load
_ready = threading.Event()
_loader: threading.Thread | None = None
_cache_dir: Path | None = None


JIEBA_CACHE = "jieba.cache"


def _init_jieba(jieba: Any, cache_dir: Path | None) -> None:
    """jieba.initialize(), with its dictionary cache in cache_dir written by us: jieba's own write
    prints a traceback and leaves its temp file behind when the disk is full. A cache that cannot be
    read or written costs one log line and ~1 s at the next start, nothing else."""
    dt = jieba.dt
    with dt.lock:
        if dt.initialized:
            return
        cache = cache_dir / JIEBA_CACHE if cache_dir is not None else None
        if cache is not None and cache.is_file():
            try:
                with open(cache, "rb") as fh:
                    dt.FREQ, dt.total = marshal.load(fh)
                dt.initialized = True
                return
            except (OSError, EOFError, ValueError, TypeError):
                log.info("search: jieba's cache is unreadable; rebuilding it")
        dt.FREQ, dt.total = dt.gen_pfdict(dt.get_dict_file())
        dt.initialized = True
        if cache is not None:
            _write_jieba_cache(cache, (dt.FREQ, dt.total))


def _write_jieba_cache(cache: Path, value: Any) -> None:
    tmp = cache.with_name(f".{JIEBA_CACHE}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        private.make_dirs(cache.parent)
        with os.fdopen(private.open_private(tmp), "wb") as fh:
            marshal.dump(value, fh)
        os.replace(tmp, cache)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        log.warning("search: cannot write jieba's cache (%s); continuing without it",
                    exc.strerror or type(exc).__name__)


def _load_analyzers(cache_dir: Path | None) -> None:
    """Import and warm up jieba and pypinyin: ~0.1 s over core/lexicon.py's file (built once per library
    version, in a child process), else in full (about 1 s and 60 MB)."""
    with _load_lock:
        if _ready.is_set():
            return
        from . import lexicon

        # Looked up per word from cache/lexicon-*.sqlite3 (~60 MB and ~0.7 s less); else in full.
        on_disk = lexicon.install(cache_dir or _cache_dir)
        import jieba
        from pypinyin import lazy_pinyin

        jieba.setLogLevel(logging.WARNING)
        if not on_disk:
            _init_jieba(jieba, cache_dir or _cache_dir)
        jieba.lcut("预热分词词典")  # the first cut is slow too: pay for it here
        lazy_pinyin("预热")
        _ready.set()


def _background_load(cache_dir: Path | None) -> None:
    try:
        _load_analyzers(cache_dir)
        log.info("search: jieba and pypinyin ready")
    except Exception:  # the panel keeps answering without them; indexing retries and raises
        log.exception("search: loading jieba/pypinyin failed")


def start_background_loading(cache_dir: Path) -> threading.Thread:
    """Load jieba and pypinyin in a daemon thread, jieba's dictionary cache (jieba.cache) inside
    ``cache_dir``. Calling it again returns the same thread (or a new one if loading failed)."""
    global _loader, _cache_dir
    _cache_dir = Path(cache_dir)
    with _loader_lock:
        if _loader is None or (not _loader.is_alive() and not _ready.is_set()):
            _loader = threading.Thread(target=_background_load, args=(_cache_dir,), name="search-loader",
                                       daemon=True)
            _loader.start()
        return _loader


def is_ready() -> bool:
    """True once jieba and pypinyin are loaded. Until then search() still answers, from the index:
    it only skips splitting long Chinese runs into words and the pinyin of group names."""
    return _ready.is_set()


def _store_cache_dir(conn: sqlite3.Connection) -> Path | None:
    """The configured cache dir, else <folder of the database>/cache (paths.cache_dir's layout)."""
    if _cache_dir is not None:
        return _cache_dir
    with contextlib.suppress(sqlite3.Error):
        for _seq, name, file in conn.execute("PRAGMA database_list"):
            if name == "main" and file:
                return Path(file).parent / "cache"
    return None


def _ensure_jieba(conn: sqlite3.Connection) -> None:
    """Indexing needs jieba: load it now (about 1 s) if the background thread has not finished.
    The CLI adding one reply lands here; the panel's search path never does."""
    if not _ready.is_set():
        _load_analyzers(_store_cache_dir(conn))


# ---------------------------------------------------------------- text analysis

normalize = searchtext.normalize  # the form index and queries are compared in


def _cut_run(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """jieba's words of a run of Han characters, in order, and the sub-words cut_for_search adds."""
    return _cut_run_cached(run) if len(run) <= 200 else _cut_run_uncached(run)


@functools.lru_cache(maxsize=50_000)
def _cut_run_cached(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return _cut_run_uncached(run)


def _cut_run_uncached(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    import jieba

    seq = tuple(jieba.cut(run, HMM=True))
    freq = jieba.dt.FREQ
    extra: list[str] = []
    for word in seq:
        for size in (2, 3):
            if len(word) > size:
                extra.extend(g for g in (word[i:i + size] for i in range(len(word) - size + 1)) if freq.get(g))
    return seq, tuple(extra)


@functools.lru_cache(maxsize=100_000)
def _pinyin(word: str) -> tuple[str, str]:
    """(full pinyin, initials) of a Han word: 快递 -> ("kuaidi", "kd"); ü is written v (lv)."""
    from pypinyin import lazy_pinyin

    syllables = [s for s in lazy_pinyin(word, errors="ignore") if s.isascii() and s.isalpha()]
    return "".join(syllables).lower(), "".join(s[0] for s in syllables).lower()


@functools.lru_cache(maxsize=100_000)
def _run_tokens(run: str, rich: bool) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(words, full pinyin, initials) of one run of Han characters; cached, as runs repeat a lot."""
    seq, extra = _cut_run(run)
    pys = [_pinyin(w) for w in seq]
    words: dict[str, None] = {}
    full: dict[str, None] = {}
    initials: dict[str, None] = {}
    for word, (f, i) in zip(seq, pys, strict=True):
        if len(word) > 1:
            words[word] = None
            if f:
                full[f[:MAX_TOKEN_CHARS]] = None
            if len(i) > 1:
                initials[i[:MAX_TOKEN_CHARS]] = None
        elif rich and f:
            full[f] = None
    for word in extra:
        words[word] = None
        f, i = _pinyin(word)
        if f:
            full[f] = None
        if len(i) > 1:
            initials[i] = None
    if rich:
        for a in range(len(seq) - 1):
            for b in range(a + 2, min(len(seq), a + MAX_NGRAM_WORDS) + 1):
                f = "".join(p[0] for p in pys[a:b])[:MAX_TOKEN_CHARS]
                i = "".join(p[1] for p in pys[a:b])[:MAX_TOKEN_CHARS]
                if f:
                    full[f] = None
                if len(i) > 1:
                    initials[i] = None
    return tuple(words), tuple(full), tuple(initials)


def _analyze(text: str, rich: bool, long_tokens: set[str]) -> tuple[str, str, str, str]:
    """(chars, words, pinyin, initials) token strings of normalised text. ``rich`` (titles, group
    names): also pinyin of single characters and of runs of neighbouring words. Every latin, pinyin
    and initials token is added to ``long_tokens`` (for search_terms: prefixes are expanded there)."""
    chars: list[str] = []
    words: dict[str, None] = {}
    full: dict[str, None] = {}
    initials: dict[str, None] = {}
    for han, other in _TOKEN_RE.findall(text):
        if other:
            token = other[:MAX_TOKEN_CHARS]
            chars.append(token)
            long_tokens.add(token)
            continue
        chars.extend(han)
        w, f, i = (_run_tokens if len(han) <= 200 else _run_tokens.__wrapped__)(han, rich)
        words.update(dict.fromkeys(w))
        full.update(dict.fromkeys(f))
        initials.update(dict.fromkeys(i))
    long_tokens.update(full)
    long_tokens.update(initials)
    return " ".join(chars), " ".join(words), " ".join(full), " ".join(initials)


def _text_sig(title: str, body: str) -> bytes:
    data = f"{INDEX_VERSION}\x00{title}\x00{body}".encode("utf-8", "replace")
    return digest.blake2b(data, digest_size=8).digest()


# ---------------------------------------------------------------- index maintenance (caller's transaction)

_FTS = ", ".join(FTS_COLUMNS)
_INSERT_DOC = f"INSERT INTO {DOCS} (id, {', '.join(DOC_COLUMNS)}) VALUES (?, {', '.join('?' * len(DOC_COLUMNS))})"
_INSERT = f"INSERT INTO {TABLE} (rowid, {_FTS}) VALUES (?, {', '.join('?' * len(FTS_COLUMNS))})"
_INSERT_USED = f"INSERT INTO {USED_TABLE} (rowid, {_FTS}) VALUES (?, {', '.join('?' * len(FTS_COLUMNS))})"
_INSERT_TITLE = (f"INSERT INTO {TITLE_TABLE} (rowid, {', '.join(TITLE_COLUMNS)}) "
                 f"VALUES (?, {', '.join('?' * len(TITLE_COLUMNS))})")
# external content: FTS5 removes a row's tokens given the values it was indexed with
_DELETE_INDEXED = (f"INSERT INTO {TABLE} ({TABLE}, rowid, {_FTS}) "
                   f"SELECT 'delete', id, {_FTS} FROM {DOCS_VIEW} WHERE id = ?")
_INSERT_TERM = f"INSERT OR IGNORE INTO {TERMS} (term) VALUES (?)"
# search_title and search_used are contentless: the same, with search_docs' values; search_used's
# docsize table tells whether it holds the reply (a 'delete' of a row not there corrupts an index)
_DELETE_TITLE = (f"INSERT INTO {TITLE_TABLE} ({TITLE_TABLE}, rowid, {', '.join(TITLE_COLUMNS)}) "
                 f"SELECT 'delete', id, t_chars, t_words, t_py, t_ini, gids FROM {DOCS_VIEW} WHERE id = ?")
_USED_HOLDS = f"SELECT 1 FROM {USED_TABLE}_docsize WHERE id = ?"
_DELETE_USED = (f"INSERT INTO {USED_TABLE} ({USED_TABLE}, rowid, {_FTS}) "
                f"SELECT 'delete', id, {_FTS} FROM {DOCS_VIEW} WHERE id = ? AND EXISTS ({_USED_HOLDS})")


def _group_tokens(conn: sqlite3.Connection, group_ids: Iterable[int] | None = None) -> dict[int, str]:
    """group id -> "_g<id>" or "_g<id> _g<parent id>"."""
    sql = "SELECT id, parent_id FROM groups"
    params: tuple = ()
    if group_ids is not None:
        ids = sorted(set(group_ids))
        sql += f" WHERE id IN ({','.join('?' * len(ids))})"
        params = tuple(ids)
    return {gid: f"_g{gid}" if pid is None else f"_g{gid} _g{pid}" for gid, pid in conn.execute(sql, params)}


def _row_values(title: str, body: str, gids: str,
                old: Sequence[Any] | None = None) -> tuple[tuple, set[str]]:
    """The COLUMNS values of one reply and its tokens for search_terms. The packed streams of ``old``
    (a search_docs row) are re-used when title and body are unchanged (their terms are listed already)."""
    tsig = _text_sig(title, body)
    long_tokens: set[str] = set()
    if old is not None and old[DOC_COLUMNS.index("tsig")] == tsig:
        streams = searchtext.unpack(old[0])
        text = (searchtext.search_chars(title), *streams[:3], searchtext.search_chars(body), *streams[3:])
    else:
        text = (*_analyze(normalize(title), True, long_tokens), *_analyze(normalize(body), False, long_tokens))
    return (*text, gids, tsig), long_tokens


def _title_values(values: Sequence[Any]) -> tuple:
    return (*values[:4], values[COLUMNS.index("gids")])


def _doc_values(values: Sequence[Any]) -> tuple:
    """search_docs' DOC_COLUMNS of COLUMNS values: the chars streams are not stored (the view
    recomputes them from the reply's text), the other six are packed."""
    return (searchtext.pack((*values[1:4], *values[5:8])), values[COLUMNS.index("gids")],
            values[COLUMNS.index("tsig")])


def _delete(conn: sqlite3.Connection, reply_id: int) -> None:
    conn.execute(_DELETE_INDEXED, (reply_id,))
    conn.execute(_DELETE_TITLE, (reply_id,))
    conn.execute(_DELETE_USED, (reply_id, reply_id))
    conn.execute(f"DELETE FROM {DOCS} WHERE id = ?", (reply_id,))


def _write(conn: sqlite3.Connection, reply_id: int, title: str, body: str, group_id: int, used: bool,
           gids: str | None = None) -> None:
    if gids is None:
        gids = _group_tokens(conn, [group_id]).get(group_id, "")
    old = conn.execute(f"SELECT {', '.join(DOC_COLUMNS)} FROM {DOCS} WHERE id = ?", (reply_id,)).fetchone()
    sig = _text_sig(title, body)
    ready = _prepared_in_force.get(sig) if _prepared_in_force else None
    if ready is not None:  # the shipped library's analysis (seeding): no jieba needed
        values, long_tokens = (*ready[0], gids, sig), set(ready[1])
    else:
        if old is None or old[DOC_COLUMNS.index("tsig")] != sig:
            _ensure_jieba(conn)
        values, long_tokens = _row_values(title, body, gids, old)
    doc = _doc_values(values)
    if old is not None and tuple(old) == doc:
        in_used = conn.execute(_USED_HOLDS, (reply_id,)).fetchone() is not None
        if in_used == used:
            return
    _delete(conn, reply_id)
    conn.execute(_INSERT_DOC, (reply_id, *doc))
    conn.execute(_INSERT, (reply_id, *values[:len(FTS_COLUMNS)]))
    conn.execute(_INSERT_TITLE, (reply_id, *_title_values(values)))
    if used:
        conn.execute(_INSERT_USED, (reply_id, *values[:len(FTS_COLUMNS)]))
    conn.executemany(_INSERT_TERM, ((t,) for t in long_tokens))


def index_reply(store: Store, reply: Indexable) -> None:
    """(Re)index one reply. Called inside the write transaction that created or changed it."""
    _write(store.conn, reply.id, reply.title, reply.body, reply.group_id, bool(reply.use_count))


# text signature -> (TEXT_COLUMNS values, their latin/pinyin/initials tokens for search_terms)
Prepared = dict[bytes, tuple[tuple[str, ...], frozenset[str]]]

# index_reply's analysis of texts known in advance (using_prepared); set by one writer at a time,
# inside its write transaction, so a module global is enough
_prepared_in_force: Prepared | None = None
PREPARED_FORMAT = "kefu-search-prepared"


@contextlib.contextmanager
def using_prepared(prepared: Prepared):  # noqa: ANN201 - a context manager
    """Within it, index_reply takes the analysis of a text found in ``prepared`` instead of running
    jieba and pypinyin: the default library is seeded on a first start before they are loaded."""
    global _prepared_in_force
    previous, _prepared_in_force = _prepared_in_force, prepared
    try:
        yield
    finally:
        _prepared_in_force = previous


def dump_prepared(texts: Sequence[tuple[str, str]], prepared: Prepared) -> dict:
    """A JSON-able form of prepare_texts' answer for these (title, body) texts (the shipped
    library's resources/library/default.index.json, made by packaging/make_default_index.py)."""
    rows = []
    for title, body in texts:
        text, tokens = prepared[_text_sig(title, body)]
        rows.append([title, body, list(text), sorted(tokens)])
    return {"format": PREPARED_FORMAT, "index_version": INDEX_VERSION, "rows": rows}


def load_prepared(path: Path) -> Prepared:
    """dump_prepared's file as a Prepared; empty (every text analysed as usual) when it is missing,
    unreadable or made for another index format."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        if data.get("format") != PREPARED_FORMAT or data.get("index_version") != INDEX_VERSION:
            log.warning("search: %s is for another index format; the texts are analysed instead", Path(path).name)
            return {}
        return {_text_sig(title, body): (tuple(text), frozenset(tokens)) for title, body, text, tokens in data["rows"]
                if isinstance(text, list) and len(text) == len(TEXT_COLUMNS)}
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        log.warning("search: cannot read %s (%s); the texts are analysed instead", Path(path).name,
                    type(exc).__name__)
        return {}


def prepare_texts(store: Store, texts: Sequence[tuple[str, str]],
                  progress: Callable[[int, int], None] | None = None) -> Prepared:
    """The jieba/pypinyin analysis of (title, body) pairs, done before any write: an import calls it
    outside its transaction, so the write lock is held for the inserts alone (index_prepared). It
    neither reads nor writes the database (the store only tells where jieba's cache lives)."""
    _ensure_jieba(store.conn)
    out: Prepared = {}
    total = len(texts)
    for n, (title, body) in enumerate(texts, start=1):
        sig = _text_sig(title, body)
        if sig not in out:
            long_tokens: set[str] = set()
            text = (*_analyze(normalize(title), True, long_tokens), *_analyze(normalize(body), False, long_tokens))
            out[sig] = (text, frozenset(long_tokens))
        if progress is not None:
            progress(n, total)
    return out


def index_prepared(store: Store, rows: Iterable[tuple[int, str, str, int, bool]], prepared: Prepared) -> int:
    """(Re)index many replies in the caller's write transaction from prepare_texts(): inserts only.
    A text missing from ``prepared`` (changed after it was prepared) is analysed here: correct, only
    slower. rows: (reply id, title, body, group id, used at least once). Returns the texts analysed
    here."""
    conn = store.conn
    rows = sorted(rows)
    if not rows:
        return 0
    groups = _group_tokens(conn, {r[3] for r in rows})
    # Old rows of replaced replies go first, then every insert in rowid order: FTS5 flushes its
    # pending data whenever a rowid is not above the last one written, which per row (delete N,
    # insert N) made the old per-reply path of a 30k import write 30k tiny segments.
    for (reply_id,) in conn.execute(f"SELECT id FROM {DOCS} WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                                    (json.dumps([r[0] for r in rows]),)).fetchall():
        _delete(conn, reply_id)
    docs: list[tuple] = []
    indexed: list[tuple] = []
    titles: list[tuple] = []
    used: list[tuple] = []
    terms: set[str] = set()
    analysed = 0
    for reply_id, title, body, group_id, is_used in rows:
        gids = groups.get(group_id, "")
        sig = _text_sig(title, body)
        entry = prepared.get(sig)
        if entry is None:
            _ensure_jieba(conn)
            values, long_tokens = _row_values(title, body, gids)
            analysed += 1
        else:
            values, long_tokens = (*entry[0], gids, sig), entry[1]
        docs.append((reply_id, *_doc_values(values)))
        indexed.append((reply_id, *values[:len(FTS_COLUMNS)]))
        titles.append((reply_id, *_title_values(values)))
        if is_used:
            used.append(indexed[-1])
        terms.update(long_tokens)
    conn.executemany(_INSERT_DOC, docs)
    conn.executemany(_INSERT, indexed)
    conn.executemany(_INSERT_TITLE, titles)
    conn.executemany(_INSERT_USED, used)
    conn.executemany(_INSERT_TERM, ((t,) for t in sorted(terms)))
    return analysed


def remove_reply(store: Store, reply_id: int) -> None:
    """Called inside the write transaction that deletes the reply. (search_terms keeps its tokens:
    a stale one only costs an empty branch in a prefix expansion; rebuild_index drops them.)"""
    _delete(store.conn, int(reply_id))


def reindex_group(store: Store, group_id: int) -> None:
    """A group was renamed or replies moved into it. Names are matched from the groups table at
    search time, so only moved replies change: their group tokens. No jieba needed."""
    conn = store.conn
    ids = [r[0] for r in conn.execute("SELECT id FROM groups WHERE id = ? OR parent_id = ?", (group_id, group_id))]
    if not ids:
        return
    tokens = _group_tokens(conn, ids)
    rows = conn.execute(f"SELECT id, title, body, group_id, use_count FROM replies "
                        f"WHERE group_id IN ({','.join('?' * len(ids))})", tuple(ids)).fetchall()
    for reply_id, title, body, gid, use_count in rows:
        _write(conn, reply_id, title, body, gid, bool(use_count), tokens.get(gid, ""))


def _index_rows(conn: sqlite3.Connection, rows: Iterable[tuple[int, str, str, int, int]]) -> int:
    """Bulk-index (id, title, body, group_id, use_count) rows into an EMPTY index (rebuild, the
    benchmark), in the caller's transaction; call ``_optimize`` once afterwards."""
    groups = _group_tokens(conn)
    _ensure_jieba(conn)
    terms: set[str] = set()
    count = 0
    batch: list[tuple] = []

    def flush() -> None:
        # each table gets its rows in rowid order, batch after batch: FTS5 keeps appending
        conn.executemany(_INSERT_DOC, ((r[0], *_doc_values(r[1:])) for r in batch))
        conn.executemany(_INSERT, (r[:1 + len(FTS_COLUMNS)] for r in batch))
        conn.executemany(_INSERT_TITLE, ((r[0], *_title_values(r[1:])) for r in batch))
        conn.executemany(_INSERT_USED, (r[:1 + len(FTS_COLUMNS)] for r in batch if r[-1]))
        batch.clear()

    for reply_id, title, body, group_id, use_count in rows:
        count += 1
        row, long_tokens = _row_values(title, body, groups.get(group_id, ""))
        terms.update(long_tokens)
        batch.append((reply_id, *row, bool(use_count)))
        if len(batch) >= 2000:
            flush()
    flush()
    conn.executemany(_INSERT_TERM, ((t,) for t in sorted(terms)))
    return count


def _indexed_rows(conn: sqlite3.Connection, ids: Sequence[int]) -> list[tuple]:
    """(id, *FTS_COLUMNS values) of these replies as indexed: search_docs_v's rows, unpacked here
    rather than by the view's SQL functions (a third of the cost: 8 calls from SQLite a row)."""
    rows = conn.execute(f"SELECT d.id, r.title, r.body, d.packed, d.gids FROM {DOCS} d JOIN replies r ON r.id = d.id "
                        "WHERE d.id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),))
    chars = searchtext.search_chars
    out = []
    for reply_id, title, body, packed, gids in rows:
        streams = searchtext.unpack(packed)
        out.append((reply_id, chars(title), *streams[:3], chars(body), *streams[3:], gids))
    return out


def prefix_tokens(conn: sqlite3.Connection, text: str, limit: int = MAX_EXPANSION) -> list[str]:
    """The indexed tokens starting with ``text`` (search_terms), at most ``limit``, the shortest
    first: the index has no FTS5 prefix index, so a typed prefix is searched as an OR of these.
    Where more start with it, the longer ones go (pinyin of runs of words, whose own words'
    pinyin is indexed too); reading them length by length costs ~64 index seeks at most."""
    high = text + "\U0010ffff"
    tokens = [r[0] for r in conn.execute(f"SELECT term FROM {TERMS} WHERE term >= ? AND term < ? LIMIT ?",
                                         (text, high, limit + 1))]
    if len(tokens) <= limit:
        return sorted(tokens, key=lambda t: (len(t), t))
    tokens = []
    for size in range(len(text), MAX_TOKEN_CHARS + 1):
        tokens += [r[0] for r in conn.execute(
            f"SELECT term FROM {TERMS} WHERE length(term) = ? AND term >= ? AND term < ? ORDER BY term LIMIT ?",
            (size, text, high, limit - len(tokens)))]
        if len(tokens) >= limit:
            break
    return tokens


def _optimize(conn: sqlite3.Connection) -> None:
    """Merge each index's b-trees into one: fewer segments to read per query."""
    for table in (TABLE, TITLE_TABLE, USED_TABLE):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")


def _rebuild(conn: sqlite3.Connection, stamp: str) -> int:
    for table in (TABLE, TITLE_TABLE, USED_TABLE):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    for table in (DOCS, TERMS):
        conn.execute(f"DELETE FROM {table}")
    count = _index_rows(conn, conn.execute("SELECT id, title, body, group_id, use_count FROM replies ORDER BY id"))
    _optimize(conn)
    conn.execute("INSERT INTO settings (key, value, updated_at) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET "
                 "value = excluded.value, updated_at = excluded.updated_at",
                 (INDEX_VERSION_KEY, json.dumps(INDEX_VERSION), stamp))
    return count


def rebuild_index(store: Store) -> int:
    """Rebuild the whole index in one transaction (`kefu doctor --reindex`). Returns replies indexed."""
    with store.write():
        return _rebuild(store.conn, to_db(store.clock.now()))


# ---------------------------------------------------------------- noticing a stale index
# Migration 0002 only creates the tables (a migration is frozen: it must not run today's indexer), so
# a library older than the index, or an index made by an older format, is rebuilt here instead.
# Every write of ours keeps the index in step inside the same transaction, so two things are checked:
# the format version recorded by the last rebuild (none recorded = 3, the format of the empty tables
# 0019 created: it drops the version an older format recorded) and
# whether the newest reply has its row (max(id) of both tables: two b-tree descents, not a count).

INDEX_VERSION_KEY = "search.index_version"


def is_stale(conn: sqlite3.Connection) -> bool:
    """True when the index lacks replies (a library migrated from before the index, rows added by
    plain SQL) or was made by another index format. Cheap: three indexed lookups."""
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (INDEX_VERSION_KEY,)).fetchone()
        try:
            version = json.loads(row[0]) if row else 3
        except ValueError:
            version = None
        if version != INDEX_VERSION:
            return True
        newest = conn.execute("SELECT max(id) FROM replies").fetchone()[0]
        indexed = conn.execute(f"SELECT max(id) FROM {DOCS}").fetchone()[0]
    except sqlite3.OperationalError:  # no index tables (an unmigrated read-only copy): nothing to rebuild
        return False
    return newest != indexed


def ensure_index(store: Store) -> int:
    """Rebuild the index when it is stale; returns replies indexed (0 when it was current). Reads
    first and takes the write lock only for a rebuild; a read-only store is left as it is (search
    then answers by a plain scan). Runs where the app already indexes: on the worker at start
    (replies.seed_defaults), and before a CLI command's first use of the store."""
    if store.read_only:
        return 0
    if not is_stale(store.conn):
        return _index_missing(store)
    with store.write():
        if not is_stale(store.conn):
            return 0
        count = _rebuild(store.conn, to_db(store.clock.now()))
    log.info("search: index rebuilt (%d replies)", count)
    return count


_MISSING = f"SELECT id FROM replies WHERE id NOT IN (SELECT id FROM {DOCS})"


def _index_missing(store: Store) -> int:
    """Index replies that have no search_docs row: a title or body changed by plain SQL (the
    trigger removes the old rows; only Python can analyse the new text) is not caught by is_stale's
    max(id) test. One anti-join over the rowids (~10 ms at 100k), at start only, never per search."""
    try:
        missing = [r[0] for r in store.conn.execute(_MISSING)]
    except sqlite3.OperationalError:
        return 0
    if not missing:
        return 0
    with store.write():
        conn = store.conn
        ids = json.dumps([r[0] for r in conn.execute(_MISSING)])
        rows = conn.execute("SELECT id, title, body, group_id, use_count FROM replies "
                            "WHERE id IN (SELECT value FROM json_each(?))", (ids,)).fetchall()
        for reply_id, title, body, group_id, use_count in rows:
            _write(conn, reply_id, title, body, group_id, bool(use_count))
    log.info("search: %d replies missing from the index indexed", len(rows))
    return len(rows)


# ---------------------------------------------------------------- per-store snapshot: usage and groups

@dataclass
class _GroupName:
    id: int
    chars: str  # " 催 单 催 付 "
    spell: str  # pinyin and initials from each character on: " cuidancuifu dancuifu ... cdcf dcf cf f "


@dataclass
class _Snapshot:
    key: tuple[int, int, bool]
    usage: dict[int, tuple[int, datetime | None]]
    groups: list[_GroupName]
    scores: dict[int, float]
    scored_at: datetime | None = None
    stale: bool = False  # the index lacks replies until ensure_index runs: answer by a plain scan
    words: QueryWords | None = None  # the shipped query words with the shop's synonyms

    def score(self, reply_id: int) -> float:
        return self.scores.get(reply_id, 0.0)


_snapshots: weakref.WeakKeyDictionary[Any, _Snapshot] = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=4096)
def _group_name(gid: int, name: str, with_pinyin: bool) -> _GroupName:
    text = normalize(name)
    syllables: list[str] = []
    if with_pinyin:  # pypinyin is imported by the background loader, never by a search
        from pypinyin import lazy_pinyin

        han = "".join(run for run, _other in _TOKEN_RE.findall(text))
        syllables = [s for s in lazy_pinyin(han, errors="ignore") if s.isascii() and s.isalpha()]
    chars: list[str] = []
    for han_run, other in _TOKEN_RE.findall(text):
        if han_run:
            chars.extend(han_run)
        else:
            chars.append(other)
    spell = ["".join(syllables[i:]) for i in range(len(syllables))]
    spell += ["".join(x[0] for x in syllables[i:]) for i in range(len(syllables))]
    return _GroupName(gid, " " + " ".join(chars) + " ", " " + " ".join(spell) + " ")


def _snapshot(store: Store, now: datetime) -> _Snapshot:
    """Usage of the used replies and the group names; cached until this or another connection
    writes (data_version counts other connections' commits, total_changes our own writes)."""
    ready = is_ready()
    key = (store.data_version(), store.conn.total_changes, ready)
    snap = _snapshots.get(store)
    if snap is None or snap.key != key:
        usage: dict[int, tuple[int, datetime | None]] = {}
        for reply_id, count, last in store.conn.execute(
                "SELECT id, use_count, last_used_at FROM replies WHERE use_count > 0"):
            try:
                when = from_db(last)
            except (TypeError, ValueError):
                when = None
            usage[reply_id] = (count, when)
        groups = [_group_name(gid, name, ready) for gid, name in store.conn.execute("SELECT id, name FROM groups")]
        snap = _snapshots[store] = _Snapshot(key, usage, groups, {}, stale=is_stale(store.conn),
                                             words=_shop_words(store.conn))
    if snap.scored_at is None or abs((now - snap.scored_at).total_seconds()) > 60:
        snap.scores = {rid: _usage_score(entry, now) for rid, entry in snap.usage.items()}
        snap.scored_at = now
    return snap


def _usage_score(entry: tuple[int, datetime | None] | None, now: datetime) -> float:
    if not entry:
        return 0.0
    count, last = entry
    score = math.log2(1 + max(count, 0))
    if last is not None:
        days = max((now - last).total_seconds(), 0.0) / 86400
        score += 2.0 * 0.5 ** (days / 14)
    return min(score, 99.0)


# ---------------------------------------------------------------- query parsing and FTS5 expressions

def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


@dataclass(frozen=True)
class _Term:
    text: str
    han: bool
    words: tuple[str, ...] = ()  # a Han run's jieba words (2+ of them), once jieba is ready
    alts: tuple[str, ...] = ()  # the trade's other words for it (退钱 for 退款): synonyms, at query time
    typos: tuple[str, ...] = ()  # indexed tokens one letter away from a 4+ letter term nothing starts with


def _query_terms(text: str, use_jieba: bool, words_data: QueryWords | None = None) -> list[_Term]:
    """Terms of a normalised query: each other word, and the meaningful words of each Han run.

    Once jieba is ready a Han run is cut into words and the words of questions and chat (什么, 多久,
    吗, 亲 … resources/search/query_words.json) are dropped: 退款多久到账 asks for 退款 and 到账, and a
    reply need not say 多久 to be found. Neighbouring single characters stay together (我帮您|催单).
    A run made of such words only (可以吗) is searched as typed; before jieba is ready, every run is."""
    words_data = words_data or query_words()
    stop = words_data.stop if use_jieba else frozenset()
    synonyms = words_data.synonyms
    terms: list[_Term] = []
    stopped: list[_Term] = []
    for han, other in _TOKEN_RE.findall(text):
        if other:
            terms.append(_Term(other[:MAX_TERM_CHARS], False, alts=synonyms.get(other, ())))
            continue
        han = han[:MAX_TERM_CHARS]
        if han in stop:
            stopped.append(_Term(han, True))
            continue
        if not use_jieba or len(han) < 2 or han in synonyms:
            terms.append(_Term(han, True, alts=synonyms.get(han, ())))
            continue
        seq = _cut_run(han)[0]
        words: list[str] = []
        pending = ""  # single characters in a row (no stop word between them) make one word
        for word in seq:
            if word in stop or len(word) > 1:
                if pending:
                    words.append(pending)
                    pending = ""
                if word not in stop:
                    words.append(word)
            else:
                pending += word
        if pending:
            words.append(pending)
        if han in synonyms:
            words = [han]  # a phrase of the synonym table (退回来, 多大码) is one term whatever jieba cuts
        if not words:
            stopped.append(_Term(han, True))  # only question words (亲, 可以吗): kept if nothing else is
        else:
            terms.extend(_Term(w, True, alts=synonyms.get(w, ())) for w in words)
    if sum(1 for t in terms if not t.han or len(t.text) > 1) >= LONE_CHARS_DROPPED_FROM:
        # a buyer's message (上周|买|那件|黑色|连衣裙|到|发货): beside several real words a lone
        # character (买, 到) matches nearly every reply, costs the most and tells the least
        terms = [t for t in terms if not t.han or len(t.text) > 1 or t.alts]
    unique: list[_Term] = []
    for term in terms or stopped:  # a query of question words only is searched as typed
        if term not in unique:
            unique.append(term)
    return unique[:MAX_TERMS]


@dataclass(frozen=True)
class QueryWords:
    stop: frozenset[str]
    synonyms: dict[str, tuple[str, ...]]  # word -> the other words of its groups


GAP = "..."  # in a synonym, … (NFKC: ...): any few characters between (满…减 finds 满199减30)
_query_words: QueryWords | None = None


def query_words() -> QueryWords:
    """The shipped words that weigh nothing in a query, and the trade's synonyms (read once; used at
    query time, so the index never depends on them)."""
    global _query_words
    if _query_words is None:
        data = json.loads(resource_path("search", "query_words.json").read_text("utf-8"))
        _query_words = QueryWords(frozenset(normalize(w) for w in data.get("stop", []) if w),
                                  _synonym_map(data.get("synonyms", [])))
    return _query_words


def _synonym_map(groups: Iterable[Iterable[str]], into: dict[str, tuple[str, ...]] | None = None
                 ) -> dict[str, tuple[str, ...]]:
    synonyms: dict[str, list[str]] = {w: list(alts) for w, alts in (into or {}).items()}
    for group in groups:
        words = list(dict.fromkeys(normalize(w).strip() for w in group if str(w).strip()))
        for w in words:
            if GAP in w:
                continue  # a pattern is found through the other words, never typed itself
            have = synonyms.setdefault(w, [])
            have.extend(x for x in words if x != w and x not in have)
    return {w: tuple(alts) for w, alts in synonyms.items()}


def _shop_words(conn: sqlite3.Connection) -> QueryWords:
    """The shipped query words plus the shop's synonym groups (setting search.synonyms, checked when
    it was saved; read here with the snapshot, so a change applies to the next query)."""
    shipped = query_words()
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = 'search.synonyms'").fetchone()
        groups = json.loads(row[0]) if row else []
    except (sqlite3.Error, ValueError):
        groups = []
    if not isinstance(groups, list):
        groups = []
    with contextlib.suppress(sqlite3.Error, ValueError):  # team mode: the groups the shops' supervisors set
        groups = groups + [json.loads(w) for (w,) in conn.execute("SELECT words FROM team_synonyms ORDER BY id")]
    if not groups:
        return shipped
    groups = [g for g in groups if isinstance(g, list) and all(isinstance(w, str) for w in g)]
    return QueryWords(shipped.stop, _synonym_map(groups, shipped.synonyms))


_TITLE_FILTER = "{t_chars t_words t_py t_ini}"


class _Query:
    """FTS5 expressions for one parsed query. Every piece of user text is inside double quotes
    (quotes doubled); everything else is our own syntax, column names and "_g" tokens."""

    def __init__(self, conn: sqlite3.Connection, terms: list[_Term], snap: _Snapshot,
                 group_id: int | None) -> None:
        self.conn = conn
        self._prefix: dict[str, str] = {}
        self.terms = [self._with_typos(t, snap) for t in terms]
        terms = self.terms
        self.group_filter = _quote(f"_g{group_id}") if group_id is not None else None
        self.group_hits = {t: _matching_groups(snap.groups, t) for t in terms}

    def _with_typos(self, term: _Term, snap: _Snapshot) -> _Term:
        """A pinyin, initials or latin term of 4+ letters that no indexed token starts with (tuikun,
        youhuiqun): the indexed tokens one letter away (a wrong, missing, extra or swapped letter),
        searched as well and ranked after exact matches. Shorter terms (cd) stay exact/prefix."""
        text = term.text
        if term.han or len(text) < EXPAND_FROM or not (text.isascii() and text.isalpha()):
            return term
        if self.conn.execute(f"SELECT 1 FROM {TERMS} WHERE term >= ? AND term < ? LIMIT 1",
                             (text, text + "\U0010ffff")).fetchone() or _matching_groups(snap.groups, term):
            return term  # a word of the library, or of a group's name (cdcf: 催单催付)
        joined = self._split_joined(text) or self._split_initials(text)
        if joined:
            return _Term(text, False, term.words, term.alts, (joined,))
        found = [r[0] for r in self.conn.execute(
            f"SELECT term FROM {TERMS} WHERE term IN (SELECT value FROM json_each(?)) ORDER BY term LIMIT ?",
            (json.dumps(sorted(_one_letter_away(text))), MAX_TYPOS))]
        return _Term(text, False, term.words, term.alts, tuple(found)) if found else term

    def _split_initials(self, text: str) -> str | None:
        """Initials typed across word boundaries (ylth: 原路|退回, cfkc: 催付-库存): the indexed words'
        initials are 2+ letters each and stored word by word, so a split of the input into such pieces
        that appears as a phrase is searched (the fewest pieces first, at most MAX_INITIAL_SPLITS
        phrase checks). None when no split appears."""
        if not EXPAND_FROM <= len(text) <= 8:
            return None
        tried = 0
        for pieces in _splits(text, 2):
            if len(pieces) < 2:
                continue
            tried += 1
            if tried > MAX_INITIAL_SPLITS:
                break
            phrase = " ".join(pieces)
            if self.conn.execute(f"SELECT 1 FROM {TABLE} WHERE {TABLE} MATCH ? LIMIT 1",
                                 (f"{{t_ini b_ini}}: {_quote(phrase)}",)).fetchone():
                return phrase
        return None

    def _split_joined(self, text: str) -> str | None:
        """Pinyin typed across word boundaries (dangtianfahuo): the fewest indexed words that spell it
        end to end ("dangtian fahuo"), searched as a phrase - the body's pinyin is indexed word by
        word, so this costs the index nothing. None when no such split exists."""
        if len(text) < 2 * EXPAND_FROM:
            return None
        pieces = {text[a:b] for a in range(len(text)) for b in range(a + EXPAND_FROM, len(text) + 1)
                  if (a, b) != (0, len(text))}
        known = {r[0] for r in self.conn.execute(
            f"SELECT term FROM {TERMS} WHERE term IN (SELECT value FROM json_each(?))", (json.dumps(sorted(pieces)),))}
        best: list[list[str] | None] = [[]] + [None] * len(text)  # best[i]: fewest words spelling text[:i]
        for end in range(EXPAND_FROM, len(text) + 1):
            for start in range(0, end - EXPAND_FROM + 1):
                before, now = best[start], best[end]
                if before is not None and text[start:end] in known and (now is None or len(before) + 1 < len(now)):
                    best[end] = [*before, text[start:end]]
        words = best[len(text)]
        return " ".join(words) if words and len(words) > 1 else None

    def prefix(self, term: _Term) -> str:
        """Prefix match of a non-Han term."""
        text = term.text
        if text not in self._prefix:
            tokens = prefix_tokens(self.conn, text, MAX_EXPANSION_ONE if len(text) == 1 else MAX_EXPANSION)
            # nothing starts with it: only the exact token can match
            expr = "(" + " OR ".join(_quote(t) for t in tokens) + ")" if tokens else _quote(text)
            self._prefix[text] = expr
        return self._prefix[text]

    def word(self, term: _Term) -> str | None:
        """Whole-word match, or None for a single Han character (never a word token)."""
        if term.han and len(term.text) < 2:
            return None
        return _quote(term.text)

    def part(self, term: _Term) -> str:
        """Substring (Han) or prefix (other) match."""
        return _quote(" ".join(term.text)) if term.han else self.prefix(term)

    def syn(self, term: _Term) -> str | None:
        """Any of the term's synonyms, as a substring (Han), a prefix (other) or a pattern (满…减), or
        of the tokens one letter away from it."""
        options = [_quote(t) for t in term.typos]
        for alt in term.alts:
            if GAP in alt:
                pieces = [p for p in alt.split(GAP) if p]
                options.append("NEAR(" + " ".join(_quote(" ".join(p)) for p in pieces) + ", 4)")
            elif _is_han(alt):
                # a word token (one posting list), not a phrase of characters: a synonym of a common
                # word in 100,000 replies would cost a positional intersection per keystroke
                options.append(_quote(alt))
            else:
                options.append(self.prefix(_Term(alt, False)))
        if not options:
            return None
        return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"

    def split(self, term: _Term) -> str | None:
        """A Han run's words anywhere, in any order."""
        if not term.words:
            return None
        return "(" + " AND ".join(_quote(" ".join(w)) for w in term.words) + ")"

    def group(self, term: _Term) -> str | None:
        ids = self.group_hits[term]
        return "(" + " OR ".join(_quote(f"_g{gid}") for gid in ids) + ")" if ids else None

    def any(self, term: _Term) -> str:
        options = [x for x in (self.part(term), self.split(term), self.syn(term), self.group(term)) if x]
        return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"

    def tier_plan(self) -> list[tuple[float, bool, str]]:
        """(level, title only?, expression) from the best tier to the weakest. Tiers overlap:
        rows placed by a tier above are skipped."""
        if len(self.terms) == 1:
            term = self.terms[0]
            word, part = self.word(term), self.part(term)
            plan = [(LEVEL_TITLE_WORD, True, word), (LEVEL_TITLE_PART, True, part),
                    (LEVEL_BODY_WORD, False, word), (LEVEL_BODY_PART, False, part),
                    (LEVEL_SPLIT, False, self.split(term)), (LEVEL_SYN_TITLE, True, self.syn(term)),
                    (LEVEL_SYN_BODY, False, self.syn(term)), (LEVEL_GROUP, False, self.group(term))]
            return [(level, title, expr) for level, title, expr in plan if expr]
        all_title = " AND ".join(f"({self.part(t)})" for t in self.terms)
        all_any = " AND ".join(f"({self.any(t)})" for t in self.terms)
        some = " OR ".join(f"({self.any(t)})" for t in self.terms)
        # 3 > 2 > 1 only order the tiers; inside a tier, rows are ranked by _how
        return [(3, True, all_title), (2, False, all_any), (1, False, some)]

    def ids(self, table: str, expr: str, limit: int) -> list[int]:
        if self.group_filter:
            expr = f"({expr}) AND {self.group_filter}"
        return [r[0] for r in self.conn.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT ?", (expr, limit))]


def _matching_groups(groups: list[_GroupName], term: _Term) -> list[int]:
    if term.han:
        phrase = " " + " ".join(term.text) + " "
        return [g.id for g in groups if phrase in g.chars]
    start = " " + term.text
    return [g.id for g in groups if start in g.chars or start in g.spell]


# ---------------------------------------------------------------- search

def _group_ids(store: Store, group_id: int) -> list[int]:
    return [r[0] for r in store.conn.execute("SELECT id FROM groups WHERE id = ? OR parent_id = ?",
                                             (group_id, group_id))]


def _group_sql(group_ids: list[int] | None) -> tuple[str, list[int]]:
    if group_ids is None:
        return "", []
    return f" AND group_id IN ({','.join('?' * len(group_ids))})", list(group_ids)


def _code_hits(store: Store, snap: _Snapshot, raw: str, limit: int, group_ids: list[int] | None) -> dict[int, Hit]:
    """The whole query as a short code: exact match first, then codes starting with it."""
    code = unicodedata.normalize("NFKC", raw).strip()
    if not CODE_RE.match(code):
        return {}
    where, params = _group_sql(group_ids)
    rows = store.conn.execute(
        f"SELECT id, code FROM replies WHERE code IS NOT NULL AND code >= ? COLLATE NOCASE "
        f"AND code < ? COLLATE NOCASE{where} ORDER BY code COLLATE NOCASE LIMIT ?",
        (code, code + "\x7f", *params, limit * 4)).fetchall()
    # read in code order; shown exact first, then shorter codes (closer to what was typed), then usage
    lowered = code.lower()
    rows.sort(key=lambda r: (r[1].lower() != lowered, len(r[1]), -snap.score(r[0]), r[1].lower()))
    hits: dict[int, Hit] = {}
    for rank, (rid, found) in enumerate(rows[:limit]):
        exact = found.lower() == lowered
        hits[rid] = Hit(rid, (SCORE_CODE if exact else SCORE_CODE_PREFIX) - rank, "code" if exact else "code-prefix")
    return hits


def _code_typo_hits(store: Store, snap: _Snapshot, raw: str, limit: int,
                    group_ids: list[int] | None) -> dict[int, Hit]:
    """A short code of CODE_TYPO_FROM+ letters/digits that no code starts with (tkdzz, tdkz): the codes
    one edit away (a wrong, missing or extra character, two neighbours swapped), labelled
    "code-typo" and scored below every exact text match. Shorter input (cd) is never guessed at."""
    code = unicodedata.normalize("NFKC", raw).strip().lower()
    if not CODE_TYPO_FROM <= len(code) <= MAX_CODE_CHARS + 1 or not code.isascii() or not code.isalnum():
        return {}  # (a code is at most MAX_CODE_CHARS long: nothing longer is one edit from one)
    where, params = _group_sql(group_ids)
    if store.conn.execute("SELECT 1 FROM replies WHERE code IS NOT NULL AND code >= ? COLLATE NOCASE "
                          "AND code < ? COLLATE NOCASE LIMIT 1", (code, code + "\x7f")).fetchone():
        return {}  # a code starts with it: the prefix hits answer (whatever the group filter)
    candidates = sorted(_one_edit_away(code, _CODE_ALPHABET))
    rows = store.conn.execute(
        f"SELECT id, code FROM replies WHERE code IS NOT NULL AND code COLLATE NOCASE IN "
        f"(SELECT value FROM json_each(?)){where} LIMIT ?",
        (json.dumps(candidates), *params, limit)).fetchall()
    rows.sort(key=lambda r: (-snap.score(r[0]), r[1].lower()))
    return {rid: Hit(rid, SCORE_CODE_TYPO - rank, "code-typo") for rank, (rid, _found) in enumerate(rows)}


def _scan(store: Store, raw: str, limit: int, group_ids: list[int] | None) -> list[Hit]:
    """LIKE '%text%' over title, body and code, for queries with nothing the index can match
    (emoji, punctuation). Ordered by usage."""
    text = _SURROGATES_RE.sub("", raw.replace("\x00", "")).strip()[:MAX_QUERY_CHARS]
    if not text:
        return []
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    where, params = _group_sql(group_ids)
    rows = store.conn.execute(
        "SELECT id FROM replies WHERE (title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\' "
        f"OR code LIKE ? ESCAPE '\\'){where} ORDER BY use_count DESC, last_used_at DESC, id LIMIT ?",
        (like, like, like, *params, limit)).fetchall()
    return [Hit(r[0], float(limit - n), "scan") for n, r in enumerate(rows)]


def _how(row: dict[str, str], term: _Term, group_hits: list[int]) -> tuple[float, str]:
    """(level, how) of the best match of one term (or, just below it, one of its synonyms) in one
    stored index row, in Python: the label of the hits shown and the order inside a multi-term tier."""
    level, how = _how_one(row, term, group_hits)
    if level or not (term.alts or term.typos):
        return level, how
    for fixed in term.typos:
        lv, _ = _how_one(row, _Term(fixed, False), [])
        if lv and " " in fixed:  # the words of pinyin or initials typed joined: the text itself, not a guess
            return lv, "pinyin"
        if lv >= LEVEL_TITLE_PART:
            return LEVEL_SYN_TITLE, "typo"
        if lv:
            level, how = LEVEL_SYN_BODY, "typo"
    for alt in term.alts:
        if GAP in alt:
            pieces = [p for p in alt.split(GAP) if p]
            title = all(" " + " ".join(x) + " " in row["t_chars"] for x in pieces)
            found = title or all(" " + " ".join(x) + " " in row["b_chars"] for x in pieces)
        else:
            lv, _ = _how_one(row, _Term(alt, _is_han(alt)), [])
            title, found = lv >= LEVEL_TITLE_PART, lv >= LEVEL_BODY_PART
        if title:
            return LEVEL_SYN_TITLE, "synonym"
        if found:
            level, how = LEVEL_SYN_BODY, "synonym"
    return level, how


_HAN_RE = re.compile(f"[{_HAN}]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
MAX_TYPOS = 16  # corrected tokens searched for one term


MAX_INITIAL_SPLITS = 12


def _splits(text: str, shortest: int) -> list[tuple[str, ...]]:
    """Every way to cut text into pieces of `shortest`+ letters, the fewest pieces first."""
    out: list[tuple[str, ...]] = []

    def cut(rest: str, done: tuple[str, ...]) -> None:
        if not rest:
            out.append(done)
            return
        for size in range(shortest, len(rest) + 1):
            if len(rest) - size == 0 or len(rest) - size >= shortest:
                cut(rest[size:], (*done, rest[:size]))

    cut(text, ())
    return sorted(out, key=len)


def _one_letter_away(text: str) -> set[str]:
    """Every string one edit from text: a letter missing, extra, wrong, or two swapped."""
    return _one_edit_away(text, _LETTERS)


def _one_edit_away(text: str, alphabet: str) -> set[str]:
    """Every string one edit from text over alphabet: a character missing, extra, wrong, or two
    neighbours swapped."""
    splits = [(text[:i], text[i:]) for i in range(len(text) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
    out |= {a + c + b for a, b in splits for c in alphabet}
    out.discard(text)
    return out


def _is_han(text: str) -> bool:
    return _HAN_RE.fullmatch(text) is not None


def _how_one(row: dict[str, str], term: _Term, group_hits: list[int]) -> tuple[float, str]:
    col = row.__getitem__
    if term.han:
        phrase = " " + " ".join(term.text) + " "
        for p, word_level, part_level in (("t_", LEVEL_TITLE_WORD, LEVEL_TITLE_PART),
                                          ("b_", LEVEL_BODY_WORD, LEVEL_BODY_PART)):
            if len(term.text) > 1 and f" {term.text} " in col(p + "words"):
                return word_level, "word"
            if phrase in col(p + "chars"):
                return part_level, "chars"
        if term.words:
            both = col("t_chars") + col("b_chars")
            if all(" " + " ".join(w) + " " in both for w in term.words):
                return LEVEL_SPLIT, "words"
    else:
        exact, start = f" {term.text} ", f" {term.text}"
        for p, word_level, part_level in (("t_", LEVEL_TITLE_WORD, LEVEL_TITLE_PART),
                                          ("b_", LEVEL_BODY_WORD, LEVEL_BODY_PART)):
            for name, label in (("chars", "word"), ("py", "pinyin"), ("ini", "initials")):
                if exact in col(p + name):
                    return word_level, label
            for name, label in (("chars", "prefix"), ("py", "pinyin"), ("ini", "initials")):
                if start in col(p + name):
                    return part_level, label
    if group_hits and any(f" _g{gid} " in col("gids") for gid in group_hits):
        return LEVEL_GROUP, "group"
    return 0, ""


def _stored_rows(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """search_docs rows, each value padded with spaces for _how's " token " tests."""
    if not ids:
        return {}
    rows = _indexed_rows(conn, ids)
    return {row[0]: {c: f" {v} " for c, v in zip(FTS_COLUMNS, row[1:], strict=True)} for row in rows}


def _collect(q: _Query, snap: _Snapshot, limit: int, taken: dict[int, Hit]) -> list[tuple[int, float, float]]:
    """(reply id, tier level, usage score) of the rows that can make the first ``limit``, read
    tier by tier (module docstring). ``taken``: the code hits, placed above every tier."""
    out: list[tuple[int, float, float]] = []
    seen = set(taken)
    multi = len(q.terms) > 1
    for level, title_only, expr in q.tier_plan():
        if len(seen) >= limit:
            break
        used_expr = f"{_TITLE_FILTER}: ({expr})" if title_only else expr
        used = [(rid, snap.score(rid)) for rid in q.ids(USED_TABLE, used_expr, MAX_USED_PER_TIER)]
        skip = len(used)  # used rows come back in the next query too
        used = [r for r in used if r[0] not in seen]
        used.sort(key=lambda r: (-r[1], r[0]))
        # one term: only the first rows can still make it; several: ranked again by _how, bounded
        used = used[:limit * 4] if multi else used[:max(limit - len(seen), 0)]
        for rid, score in used:
            out.append((rid, level, score))
            seen.add(rid)
        need = limit - len(seen)
        if need > 0:
            table = TITLE_TABLE if title_only else TABLE
            for rid in q.ids(table, expr, need + len(seen) + skip):
                if rid not in seen:
                    out.append((rid, level, 0.0))
                    seen.add(rid)
                    need -= 1
                    if need == 0:
                        break
    return out


def search(store: Store, query: str, limit: int = 50, group_id: int | None = None) -> list[Hit]:
    """The best replies for what the agent typed, best first. Never raises for any text and never
    waits for jieba. ``group_id`` keeps that group and its sub-groups."""
    if not query or limit <= 0:
        return []
    raw = str(query)[:MAX_QUERY_CHARS * 4]
    group_ids = _group_ids(store, group_id) if group_id is not None else None
    if group_ids == []:
        return []
    snap = _snapshot(store, store.clock.now())
    hits = _code_hits(store, snap, raw, limit, group_ids)
    typo_codes = {} if hits else _code_typo_hits(store, snap, raw, limit, group_ids)
    terms = _query_terms(normalize(raw)[:MAX_QUERY_CHARS], use_jieba=is_ready(), words_data=snap.words)
    if snap.stale:  # until ensure_index has rebuilt it, a plain scan still finds the text typed
        for hit in _scan(store, raw, limit, group_ids):
            hits.setdefault(hit.reply_id, hit)
        return _with_code_typos(_rank(hits, limit), typo_codes, limit)
    if not terms:
        return _rank(hits, limit) if hits else _with_code_typos(_scan(store, raw, limit, group_ids), typo_codes, limit)
    try:
        ranked = _indexed(store, snap, terms, limit, group_id, hits)
    except sqlite3.DatabaseError as exc:  # a damaged FTS5 index (or a bug in our FTS5 syntax): still answer
        _index_failed(exc)
        for hit in _scan(store, raw, limit, group_ids) or _scan_terms(store, terms, limit, group_ids):
            hits.setdefault(hit.reply_id, hit)
        ranked = _rank(hits, limit)
    return _with_code_typos(ranked, typo_codes, limit)


def _indexed(store: Store, snap: _Snapshot, terms: list[_Term], limit: int, group_id: int | None,
             hits: dict[int, Hit]) -> list[Hit]:
    """search() from the index: the code hits in ``hits`` first, then the text's tiers."""
    q = _Query(store.conn, terms, snap, group_id)
    terms = q.terms  # with the typo corrections found
    if len(_meaningful(terms)) >= LONG_FROM:
        return _ranked_long(store, q, snap, limit, hits)
    rows = _collect(q, snap, limit, hits)
    if len(terms) == 1:
        for rid, level, usage in rows:
            hits[rid] = Hit(rid, level * 1e5 + usage, "")
        ranked = _rank(hits, limit)
        stored = _stored_rows(store.conn, [h.reply_id for h in ranked if not h.how])
    else:
        stored = _stored_rows(store.conn, [rid for rid, _, _ in rows])
        for rid, tier, usage in rows:
            row = stored.get(rid)
            levels = [_how(row, t, q.group_hits[t])[0] for t in terms] if row else []
            matched = sum(1 for lv in levels if lv)
            hits[rid] = Hit(rid, tier * 1e5 + matched * 1e4 + sum(levels) * 100 + usage, "")
        ranked = _rank(hits, limit)
    for hit in ranked:
        if not hit.how:
            row = stored.get(hit.reply_id)
            labels = (_how(row, t, q.group_hits[t]) for t in terms) if row else iter(())
            hit.how = next((label for level, label in labels if level), "word")
    return ranked


def _meaningful(terms: list[_Term]) -> list[_Term]:
    """The terms that say what a message is about: words, not lone characters (买, 到, s)."""
    return [t for t in terms if len(t.text) > 1 or t.alts]


def _idf(df: int, docs: int) -> float:
    """BM25's inverse document frequency; ``df`` is counted up to DF_CAP rows, so every common word
    weighs the same (little)."""
    return math.log(1 + (max(docs, df) - df + 0.5) / (df + 0.5))


def _ranked_long(store: Store, q: _Query, snap: _Snapshot, limit: int, hits: dict[int, Hit]) -> list[Hit]:
    """A buyer's message (LONG_FROM+ meaningful words): read candidates by the rarest words, rank them
    by coverage of the meaningful words, then their rarity (IDF), then match quality, then usage.

    Each term's rows are counted up to DF_CAP (its document frequency, and all its rows when it is
    rarer than that). Candidates: the rows of the RARE_TERMS rarest words; when the two rarest are
    both common (DF_CAP+ rows) the rows holding both (FTS5's AND, LIMIT DF_CAP); and the agent's most
    used replies holding any of the rarest. A term rarer than DF_CAP is matched by membership in its
    rows, a common one by its probes on the stored row; the match quality (_probes: the levels of
    _how) is worked out only for the candidates that can still make the first ``limit``. Cost: about
    ten FTS5 reads of at most DF_CAP rows and a few hundred rows looked at, whatever the library's size."""
    terms = q.terms
    n = len(terms)
    meaningful = [len(t.text) > 1 or bool(t.alts) for t in terms]  # lone characters: rarity and quality only
    rows_of = [q.ids(TABLE, q.any(t), DF_CAP) for t in terms]
    df = [len(ids) for ids in rows_of]
    docs = store.conn.execute("SELECT max(id) FROM replies").fetchone()[0] or 0
    idf = [_idf(d, docs) for d in df]
    found = [i for i in range(n) if df[i]]
    rare = sorted((i for i in found if meaningful[i]), key=lambda i: (df[i], -len(terms[i].text)))[:RARE_TERMS] \
        or sorted(found, key=lambda i: df[i])[:RARE_TERMS]  # only lone characters match: read by them
    candidates: dict[int, None] = {}
    for i in found:  # the rarest words' rows, and every row of a word rarer than DF_CAP (known in full)
        if i in rare or df[i] < DF_CAP:
            candidates.update(dict.fromkeys(rows_of[i]))
    common = [i for i in rare if df[i] >= DF_CAP]  # their rows read so far are only the first ones
    if len(common) > 1:
        expr = " AND ".join(f"({q.any(terms[i])})" for i in common[:2])
        candidates.update(dict.fromkeys(q.ids(TABLE, expr, DF_CAP)))
    if rare:
        used = q.ids(USED_TABLE, " OR ".join(f"({q.any(terms[i])})" for i in rare), MAX_USED_PER_TIER)
        used.sort(key=lambda rid: (-snap.score(rid), rid))
        candidates.update(dict.fromkeys(used[:MAX_USED_LONG]))
    for rid in hits:
        candidates.pop(rid, None)
    probes = [_probes(t, q.group_hits[t]) for t in terms]
    stored = _probe_rows(store.conn, list(candidates), {p[2] for ps in probes for p in ps})
    known = [frozenset(rows_of[i]) if 0 < df[i] < DF_CAP else None for i in range(n)]  # all rows of a rare term
    probed = [i for i in found if known[i] is None]
    looked_up = [i for i in found if known[i] is not None]
    # first pass: coverage and rarity; common terms are probed (their level kept), rare ones looked up
    first: list[tuple[int, float, int, dict[int, tuple[float, str]]]] = []
    for rid in candidates:
        row = stored.get(rid)
        if row is None:
            continue
        coverage, rarity, levels = 0, 0.0, {}
        for i in looked_up:
            if rid in known[i]:  # type: ignore[operator]
                coverage += meaningful[i]
                rarity += idf[i]
        for i in probed:
            level = levels[i] = _probe(row, probes[i])
            if level[0]:
                coverage += meaningful[i]
                rarity += idf[i]
        if rarity:
            first.append((coverage, round(rarity, 6), rid, levels))
    first.sort(key=lambda x: (x[0], x[1]), reverse=True)
    if len(first) > limit:  # only rows tied with the limit-th can still change places
        cut = first[limit - 1][:2]
        first = [x for x in first if x[:2] >= cut]
    scored: list[tuple[tuple[int, float, float, float], int, str]] = []
    for coverage, rarity, rid, levels in first:
        row = stored[rid]
        quality, label = 0.0, ""
        for i in range(n):
            level, how = levels[i] if i in levels else _probe(row, probes[i]) if df[i] else (0.0, "")
            quality += level
            label = label or how
        scored.append(((coverage, rarity, quality, snap.score(rid)), rid, label or "word"))
    scored.sort(key=lambda x: (x[0], -x[1]), reverse=True)
    for rank, (_key, rid, label) in enumerate(scored[:limit]):
        hits[rid] = Hit(rid, SCORE_LONG - rank, label)
    return _rank(hits, limit)


Probe = tuple[float, str, str, tuple[str, ...]]


def _probe_rows(conn: sqlite3.Connection, ids: Sequence[int], columns: set[str]) -> dict[int, dict[str, str]]:
    """The search_docs columns the probes read, padded with spaces (" token " tests), as indexed
    (_indexed_rows: format 3 stores no chars streams and packs the others); "tb_chars" is the
    title's and the body's characters together."""
    names = sorted(c for c in columns if c in FTS_COLUMNS)
    chars = "tb_chars" in columns
    if not ids or not (names or chars):
        return {}
    out: dict[int, dict[str, str]] = {}
    for row in _indexed_rows(conn, ids):
        values = dict(zip(FTS_COLUMNS, row[1:], strict=True))
        picked = {c: f" {values[c]} " for c in names}
        if chars:
            picked["tb_chars"] = f" {values['t_chars']}  {values['b_chars']} "
        out[row[0]] = picked
    return out


def _probes(term: _Term, group_hits: list[int]) -> list[Probe]:
    """_how's tests for one term as data, best level first: (level, label, column, needles); a probe
    matches when every needle is in the column ("tb_chars": title and body characters). Built once
    per query, so scoring hundreds of rows costs a few substring tests each, not _how's strings."""
    out: list[Probe] = []

    def primary(t: _Term) -> list[Probe]:
        found: list[Probe] = []
        if t.han:
            phrase = (" " + " ".join(t.text) + " ",)
            for p, word_level, part_level in (("t_", LEVEL_TITLE_WORD, LEVEL_TITLE_PART),
                                              ("b_", LEVEL_BODY_WORD, LEVEL_BODY_PART)):
                if len(t.text) > 1:
                    found.append((word_level, "word", p + "words", (f" {t.text} ",)))
                found.append((part_level, "chars", p + "chars", phrase))
            if t.words:
                found.append((LEVEL_SPLIT, "words", "tb_chars", tuple(" " + " ".join(w) + " " for w in t.words)))
        else:
            exact, start = (f" {t.text} ",), (f" {t.text}",)
            for p, word_level, part_level in (("t_", LEVEL_TITLE_WORD, LEVEL_TITLE_PART),
                                              ("b_", LEVEL_BODY_WORD, LEVEL_BODY_PART)):
                for name, label in (("chars", "word"), ("py", "pinyin"), ("ini", "initials")):
                    found.append((word_level, label, p + name, exact))
                for name, label in (("chars", "prefix"), ("py", "pinyin"), ("ini", "initials")):
                    found.append((part_level, label, p + name, start))
        return found

    out += primary(term)
    out += [(LEVEL_GROUP, "group", "gids", (f" _g{gid} ",)) for gid in group_hits]
    for fixed in term.typos:
        for level, _label, col, needles in primary(_Term(fixed, False)):
            if " " in fixed:  # the words of pinyin or initials typed joined: the text itself
                out.append((level, "pinyin", col, needles))
            else:
                out.append((LEVEL_SYN_TITLE if level >= LEVEL_TITLE_PART else LEVEL_SYN_BODY, "typo", col, needles))
    for alt in term.alts:
        if GAP in alt:
            pieces = tuple(" " + " ".join(p) + " " for p in alt.split(GAP) if p)
            out += [(LEVEL_SYN_TITLE, "synonym", "t_chars", pieces), (LEVEL_SYN_BODY, "synonym", "b_chars", pieces)]
        else:
            out += [(LEVEL_SYN_TITLE if level >= LEVEL_TITLE_PART else LEVEL_SYN_BODY, "synonym", col, needles)
                    for level, _label, col, needles in primary(_Term(alt, _is_han(alt)))
                    if level >= LEVEL_BODY_PART]
    out.sort(key=lambda p: -p[0])  # stable: _how's order inside a level
    return out


def _probe(row: dict[str, str], probes: list[Probe]) -> tuple[float, str]:
    """(level, label) of the best probe matching the stored row, (0, "") when none does."""
    for level, label, col, needles in probes:
        hay = row[col]
        if needles[0] in hay and (len(needles) == 1 or all(x in hay for x in needles[1:])):
            return level, label
    return 0.0, ""


def _with_code_typos(ranked: list[Hit], typo_codes: dict[int, Hit], limit: int) -> list[Hit]:
    """The codes one edit from what was typed, placed by their score (after every exact text match,
    before text typos and synonyms); a reply found by its text as well keeps the better of the two."""
    if not typo_codes:
        return ranked
    hits = {h.reply_id: h for h in ranked}
    for rid, hit in typo_codes.items():
        if rid not in hits or hits[rid].score < hit.score:
            hits[rid] = hit
    return _rank(hits, limit)


def _rank(hits: dict[int, Hit], limit: int) -> list[Hit]:
    return sorted(hits.values(), key=lambda h: (-h.score, h.reply_id))[:limit]


# ---------------------------------------------------------------- a damaged index

_failure_logged: set[str] = set()


def _index_failed(exc: sqlite3.DatabaseError) -> None:
    """One log line per kind of failure and process, never the query (customers' words)."""
    kind = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    if kind not in _failure_logged:
        _failure_logged.add(kind)
        log.warning("search: the search index cannot be read (%s); answering by a plain scan "
                    "until `kefu doctor --reindex` rebuilds it", kind)


def _scan_terms(store: Store, terms: list[_Term], limit: int, group_ids: list[int] | None) -> list[Hit]:
    """The damaged-index fallback for a query of several words (a buyer's message, which no reply
    contains whole): replies holding every Han/latin term as typed, by usage."""
    words = [t.text for t in terms if t.text][:MAX_TERMS]
    if len(words) < 2:
        return []
    conds, params = [], []
    for word in words:
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append("(title LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')")
        params += [like, like]
    where, group_params = _group_sql(group_ids)
    rows = store.conn.execute(
        f"SELECT id FROM replies WHERE {' AND '.join(conds)}{where} "
        "ORDER BY use_count DESC, last_used_at DESC, id LIMIT ?", (*params, *group_params, limit)).fetchall()
    return [Hit(r[0], float(limit - n), "scan") for n, r in enumerate(rows)]


def repair_index(store: Store) -> int:
    """`kefu doctor --reindex`: rebuild the search index in one transaction, a damaged one too. Each
    FTS5 table first rebuilds its own structures from its content ('rebuild' reads no old segment,
    so a damaged b-tree cannot stop it), then the whole index is made again from the replies.
    Returns replies indexed."""
    from .integrity import fts5_tables

    with store.write():
        for name, content in fts5_tables(store.conn):
            if content != "":  # a contentless table has nothing to rebuild from
                quoted = '"' + name.replace('"', '""') + '"'
                store.conn.execute(f"INSERT INTO {quoted} ({quoted}) VALUES ('rebuild')")
        return rebuild_index(store)
