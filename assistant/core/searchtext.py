"""The search index's text forms that SQLite itself must compute (index format 3).

Below the store: every store connection registers the SQL functions here (``register``), because
the search tables' view and triggers call them:

- ``kefu_search_chars(text)``: a title's or body's "chars" token stream (every Han character on its
  own, other words whole), recomputed from the reply's text instead of being stored;
- ``kefu_search_part(packed, n)``: stream n of a search_docs row's packed streams (jieba words,
  pinyin, initials of title and body), stored zlib-compressed with a preset dictionary.

A connection without them (the sqlite3 shell) cannot update a reply's title or body or delete a
reply: the triggers fail with "no such function" and nothing is changed.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
import unicodedata
import zlib
from typing import Any

from ..paths import resource_path

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
TOKEN_RE = re.compile(rf"([{_HAN}]+)|([^\W_{_HAN}]+)")
_SURROGATES_RE = re.compile("[\ud800-\udfff]")
_MARKS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
MAX_TOKEN_CHARS = 64      # longer "words" (a URL, a hash) are cut

PACK_FORMAT = 3           # first byte of a packed row: which dictionary and layout
PACKED_STREAMS = 6        # t_words, t_py, t_ini, b_words, b_py, b_ini
DICT_FILE = "index_dict_v3.txt"

_local = threading.local()


def _t2s(text: str) -> str:
    converter = getattr(_local, "t2s", None)
    if converter is None:
        import opencc

        converter = _local.t2s = opencc.OpenCC("t2s")
    return converter.convert(text)


def normalize(text: str) -> str:
    """The form index and queries are compared in: NFKC, lower case, no diacritics, simplified
    characters. Never raises on user text (NUL, lone surrogates, emoji)."""
    if not text:
        return ""
    text = _SURROGATES_RE.sub("", str(text).replace("\x00", " "))
    text = unicodedata.normalize("NFKC", text).lower()
    if not text.isascii():
        text = unicodedata.normalize("NFC", _MARKS_RE.sub("", unicodedata.normalize("NFKD", text)))
        text = _t2s(text)
    return text


def chars_of(normalized: str) -> str:
    """The chars stream of normalised text."""
    out: list[str] = []
    for han, other in TOKEN_RE.findall(normalized):
        if other:
            out.append(other[:MAX_TOKEN_CHARS])
        else:
            out.extend(han)
    return " ".join(out)


@functools.lru_cache(maxsize=16_384)  # ~10 us a text: the rows a search shows are read through the view
def search_chars(text: str | None) -> str:
    """kefu_search_chars: the chars stream of a reply's title or body as stored."""
    return chars_of(normalize(text or ""))


@functools.lru_cache(maxsize=1)
def _dictionary() -> bytes:
    return resource_path("search", DICT_FILE).read_bytes()


@functools.lru_cache(maxsize=1)
def _primed() -> Any:
    return zlib.compressobj(9, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, _dictionary())


def pack(streams: tuple[str, ...] | list[str]) -> bytes:
    """The PACKED_STREAMS token streams as one blob: a format byte, then raw deflate with the preset
    dictionary (the tokens the shipped library uses most), streams separated by newlines."""
    if len(streams) != PACKED_STREAMS or any("\n" in s for s in streams):
        raise ValueError("six token streams without newlines expected")
    compressor = _primed().copy()  # setting the dictionary costs ~60 us a row, a copy ~15
    data = "\n".join(streams).encode("utf-8")
    return bytes((PACK_FORMAT,)) + compressor.compress(data) + compressor.flush()


@functools.lru_cache(maxsize=512)
def unpack(packed: bytes) -> tuple[str, ...]:
    if not packed or packed[0] != PACK_FORMAT:
        raise ValueError("not a packed search row of format 3")
    inflater = zlib.decompressobj(-15, _dictionary())
    streams = tuple((inflater.decompress(packed[1:]) + inflater.flush()).decode("utf-8").split("\n"))
    if len(streams) != PACKED_STREAMS:
        raise ValueError("damaged packed search row")
    return streams


def search_part(packed: bytes | None, n: int) -> str:
    """kefu_search_part: stream n of a packed row ('' for NULL)."""
    if packed is None:
        return ""
    return unpack(bytes(packed))[int(n)]


def register(conn: sqlite3.Connection) -> None:
    """Make the search tables' view and triggers work on this connection (every store connection,
    and any other connection that changes replies or reads search_docs_v)."""
    conn.create_function("kefu_search_chars", 1, search_chars, deterministic=True)
    conn.create_function("kefu_search_part", 2, search_part, deterministic=True)
