"""jieba's and pypinyin's dictionaries on disk, looked up one word at a time (issue 17).

Loaded in full, jieba's prefix dictionary (~500k entries), its HMM emission table and pypinyin's
phrase and character dictionaries are ~60 MB of Python objects and ~0.7 s, for a reply library that
uses a few thousand words. Here they live in ``cache/lexicon-<key>.sqlite3`` (~12 MB on disk),
written once per library version by a short-lived child process (the full load's memory dies with
it), and the libraries are handed read-only mappings that ask SQLite for the words they actually
meet, remembering the answers. The results are identical to the full load
(tests/core/test_lexicon.py); if the file cannot be built or opened, install() says so once and the
caller loads the libraries the ordinary way.

No Qt, no store: stdlib only, so that the build can run this file in a bare interpreter.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import types
from collections.abc import Iterator, Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the tables below change
_MISSING = object()
_CACHE_MAX = 200_000  # remembered answers per table; cleared (not evicted) past that: rare, cheap

_installed: Lexicon | None = None
_install_lock = threading.Lock()


def _sources() -> list[Path]:
    """The files the lexicon is made from, found without importing the libraries."""
    jieba_spec = find_spec("jieba")
    pinyin_spec = find_spec("pypinyin")
    if jieba_spec is None or pinyin_spec is None or not jieba_spec.origin or not pinyin_spec.origin:
        raise FileNotFoundError("jieba or pypinyin is not installed")
    jieba_dir = Path(jieba_spec.origin).parent
    pinyin_dir = Path(pinyin_spec.origin).parent
    return [jieba_dir / "dict.txt", jieba_dir / "finalseg" / "prob_emit.py", jieba_dir / "__init__.py",
            pinyin_dir / "phrases_dict.json", pinyin_dir / "pinyin_dict.json", pinyin_dir / "__init__.py"]


def cache_key() -> str:
    """Changes whenever an installed dictionary changes (library upgrade) or the format does."""
    from . import digest  # here: the build child loads this file alone, outside the package

    h = digest.sha1(f"{FORMAT}".encode())
    paths = _sources()
    if getattr(sys, "frozen", False):  # a packaged app: its modules are inside it; a new build, a new key
        paths.append(Path(sys.executable))
    for path in paths:
        try:
            st = path.stat()
            h.update(f"{path.name}:{st.st_size}:{int(st.st_mtime)}".encode())
        except OSError:  # e.g. prob_emit.py compiled into a packaged app's archive
            h.update(f"{path.name}:-".encode())
    return h.hexdigest()[:12]


def lexicon_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / f"lexicon-{cache_key()}.sqlite3"


# ---------------------------------------------------------------- build (in a child process)

def build(out: str | os.PathLike[str]) -> None:
    """Load jieba and pypinyin in full and write their tables to ``out`` (replaced atomically)."""
    import jieba
    from jieba.finalseg import emit_P
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
    from pypinyin.seg import mmseg

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.initialize()
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    conn = sqlite3.connect(tmp)
    ok = False
    try:
        conn.executescript("""
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = 4096;
            CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
            CREATE TABLE freq (word TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE emit (ch TEXT PRIMARY KEY, b REAL, e REAL, m REAL, s REAL) WITHOUT ROWID;
            CREATE TABLE han (cp INTEGER PRIMARY KEY, py TEXT NOT NULL);
            -- phrases and every prefix of one (py NULL: a prefix only), for pypinyin's segmenter
            CREATE TABLE phrase (p TEXT PRIMARY KEY, py TEXT) WITHOUT ROWID;
        """)
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [("total", str(jieba.dt.total)), ("format", str(FORMAT))])
        conn.executemany("INSERT INTO freq VALUES (?, ?)", sorted(jieba.dt.FREQ.items()))
        chars = sorted(set().union(*(emit_P[s].keys() for s in "BEMS")))
        conn.executemany("INSERT INTO emit VALUES (?, ?, ?, ?, ?)",
                         ((c, *(emit_P[s].get(c) for s in "BEMS")) for c in chars))
        conn.executemany("INSERT INTO han VALUES (?, ?)", sorted(PINYIN_DICT.items()))
        rows = {p: None for p in mmseg.p_set._set}
        rows.update((p, json.dumps(v, ensure_ascii=False)) for p, v in PHRASES_DICT.items())
        conn.executemany("INSERT INTO phrase VALUES (?, ?)", sorted(rows.items()))
        conn.commit()  # written in key order into a fresh file: nothing for VACUUM to do
        ok = True
    finally:
        conn.close()
        if not ok:  # a full disk leaves nothing behind
            with contextlib.suppress(OSError):
                tmp.unlink()
    os.replace(tmp, out)


def _child_argv(out: Path) -> list[str]:
    code = ("import importlib.util, sys\n"
            "spec = importlib.util.spec_from_file_location('kefu_lexicon_build', sys.argv[1])\n"
            "mod = importlib.util.module_from_spec(spec)\n"
            "spec.loader.exec_module(mod)\n"
            "mod.build(sys.argv[2])\n")
    return [sys.executable, "-c", code, __file__, str(out)]


def _build_in_child(out: Path) -> None:
    """A short-lived interpreter runs build(): the ~60 MB of the full load never reach this process."""
    if getattr(sys, "frozen", False):  # a packaged app has no bare interpreter to start: pay it here
        build(out)
        return
    done = subprocess.run(_child_argv(out), cwd=out.parent, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=120, check=False)
    if done.returncode != 0 or not out.is_file():
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise OSError(f"lexicon build exited {done.returncode}: {tail[0][:200]}")


# ---------------------------------------------------------------- lookups

class Lexicon:
    """One read-only connection shared by every thread (a lock around each lookup)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        # a small page cache: the answers are remembered per word above it (_Lookup), and the file is
        # in the OS's cache anyway; SQLite's default 2 MB would grow for nothing
        self._conn.execute("PRAGMA cache_size = -256")
        row = self._conn.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
        if row is None or int(row[0]) != FORMAT:
            self._conn.close()
            raise sqlite3.DatabaseError("lexicon: unexpected format")
        self.total = int(self._conn.execute("SELECT value FROM meta WHERE name = 'total'").fetchone()[0])

    def one(self, sql: str, key: Any) -> tuple | None:
        with self._lock:
            return self._conn.execute(sql, (key,)).fetchone()


class _Lookup(Mapping):
    """A read-only dict answered from one table. Only what the libraries use: in, [], get, truthiness;
    iterating yields nothing (pypinyin trains its segmenter on keys(): the prefixes are in the table)."""

    _sql = ""

    def __init__(self, lex: Lexicon) -> None:
        self._lex = lex
        self._memo: dict[Any, Any] = {}

    def _fetch(self, key: Any) -> Any:
        row = self._lex.one(self._sql, key)
        return _MISSING if row is None else row[0]

    def _value(self, key: Any) -> Any:
        value = self._memo.get(key, _MISSING)
        if value is _MISSING and key not in self._memo:
            if len(self._memo) > _CACHE_MAX:
                self._memo.clear()
            value = self._memo[key] = self._fetch(key)
        return value

    def __getitem__(self, key: Any) -> Any:
        value = self._value(key)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return self._value(key) is not _MISSING

    def get(self, key: Any, default: Any = None) -> Any:
        value = self._value(key)
        return default if value is _MISSING else value

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 1  # never empty: pypinyin tests `if PHRASES_DICT:` before segmenting

    def copy(self) -> _Lookup:
        return self  # read-only: pypinyin's defensive copy would otherwise materialise nothing

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("the lexicon is read-only (kefu never adds words to jieba or pypinyin)")

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("the lexicon is read-only (kefu never adds words to jieba or pypinyin)")


class _Freq(_Lookup):
    _sql = "SELECT n FROM freq WHERE word = ?"


class _Han(_Lookup):
    _sql = "SELECT py FROM han WHERE cp = ?"


class _Phrases(_Lookup):
    """Phrase -> [[pinyin], ...]; a fresh list per read, as callers may deepcopy or change it."""

    _sql = "SELECT py FROM phrase WHERE p = ?"

    def _fetch(self, key: Any) -> Any:
        row = self._lex.one(self._sql, key)
        return _MISSING if row is None or row[0] is None else row[0]

    def __getitem__(self, key: Any) -> Any:
        return json.loads(super().__getitem__(key))

    def get(self, key: Any, default: Any = None) -> Any:
        value = self._value(key)
        return default if value is _MISSING else json.loads(value)


class _Prefixes:
    """pypinyin's PrefixSet._set: every prefix of a phrase."""

    def __init__(self, lex: Lexicon) -> None:
        self._lookup = _Lookup(lex)
        self._lookup._sql = "SELECT 1 FROM phrase WHERE p = ?"

    def __contains__(self, key: object) -> bool:
        return key in self._lookup

    def add(self, key: Any) -> None:
        pass  # retrain() on the built-in words: they are all in the table already


class _Emit(dict):
    """jieba.finalseg's emit_P: {'B': {char: logp}, ...}; one row answers all four states of a char."""

    def __init__(self, lex: Lexicon) -> None:
        rows = _Lookup(lex)
        rows._sql = "SELECT b, e, m, s FROM emit WHERE ch = ?"
        rows._fetch = lambda key: (lex.one(rows._sql, key) or _MISSING)  # type: ignore[method-assign]
        super().__init__({state: _EmitState(rows, i) for i, state in enumerate("BEMS")})


class _EmitState:
    def __init__(self, rows: _Lookup, index: int) -> None:
        self._rows = rows
        self._index = index

    def get(self, key: Any, default: Any = None) -> Any:
        row = self._rows._value(key)
        if row is _MISSING or row[self._index] is None:
            return default
        return row[self._index]

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __getitem__(self, key: Any) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value


# ---------------------------------------------------------------- install

def _stub(name: str, **attrs: Any) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module


def install(cache_dir: Path | None) -> bool:
    """Make jieba and pypinyin use the lexicon in cache_dir (built now if missing). Call it before
    anything imports them. False (and one log line) if that cannot be done: the caller then loads the
    libraries in full, as before."""
    global _installed
    with _install_lock:
        if _installed is not None:
            return True
        if cache_dir is None or any(m in sys.modules for m in ("jieba", "pypinyin")):
            return False
        try:
            path = lexicon_path(cache_dir)
            if not path.is_file():
                Path(cache_dir).mkdir(parents=True, exist_ok=True)
                _build_in_child(path)
                _remove_stale(path)
            lex = Lexicon(path)
        except (OSError, sqlite3.Error, subprocess.SubprocessError, ValueError, TypeError) as exc:
            log.warning("search: word lexicon unavailable (%s); loading the dictionaries in full",
                        getattr(exc, "strerror", None) or type(exc).__name__)
            return False
        _wire(lex)
        _installed = lex
        return True


def _wire(lex: Lexicon) -> None:
    # pypinyin: its dictionary modules replaced before pypinyin.constants imports them
    _stub("pypinyin.phrases_dict", phrases_dict=_Phrases(lex))
    _stub("pypinyin.pinyin_dict", pinyin_dict=_Han(lex))
    # jieba: the HMM's emission table replaced before jieba.finalseg imports it
    _stub("jieba.finalseg.prob_emit", P=_Emit(lex))
    jieba = _import_jieba()
    import pypinyin.seg.mmseg as mmseg

    mmseg.p_set._set = _Prefixes(lex)  # type: ignore[assignment]
    dt = jieba.dt
    with dt.lock:
        dt.FREQ, dt.total = _Freq(lex), lex.total
        dt.initialized = True


def _import_jieba() -> types.ModuleType:
    """jieba's module runs `from hashlib import md5` (to name a custom dictionary's cache file, which
    the lexicon never writes); hashlib loads OpenSSL, ~3.6 MB of the panel's resident memory (issue 17).
    While jieba imports, and only if nothing imported hashlib before, `hashlib` resolves to a module of
    CPython's own implementations (the ones hashlib falls back to: same digests)."""
    if "jieba" in sys.modules or "hashlib" in sys.modules:
        import jieba

        return jieba
    shim = types.ModuleType("hashlib")
    shim.__doc__ = "CPython's builtin digests, standing in for hashlib while jieba imports"
    for module, names in (("_md5", ("md5",)), ("_sha1", ("sha1",)), ("_sha2", ("sha256", "sha512")),
                          ("_sha256", ("sha256",)), ("_sha512", ("sha512",)), ("_blake2", ("blake2b", "blake2s"))):
        try:
            mod = __import__(module)
        except ImportError:
            continue
        for name in names:
            if hasattr(mod, name) and not hasattr(shim, name):
                setattr(shim, name, getattr(mod, name))
    if not hasattr(shim, "md5"):
        import jieba

        return jieba
    sys.modules["hashlib"] = shim
    try:
        import jieba
    finally:
        if sys.modules.get("hashlib") is shim:
            del sys.modules["hashlib"]  # the real one loads for whoever imports it next
    return jieba


def _remove_stale(keep: Path) -> None:
    """Lexicons of earlier library versions (and a jieba.cache from before them) are dead weight."""
    for old in [*keep.parent.glob("lexicon-*.sqlite3"), keep.parent / "jieba.cache"]:
        if old != keep:
            with contextlib.suppress(OSError):
                old.unlink()


def installed() -> bool:
    return _installed is not None
