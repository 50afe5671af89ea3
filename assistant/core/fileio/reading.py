"""Reading a user-supplied file: size limits, text decoding, JSON with readable errors.

Every function takes fail(zh, en) -> Exception and raises what it returns: the reasons are worded
once here (the English as a clause, "the file is empty"), the caller frames them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import checked

Fail = Callable[[str, str], Exception]


def too_large(limit: int, fail: Fail, size: int | None = None) -> Exception:
    mb = limit // 1024 // 1024
    if size is None:
        return fail(f"文件太大（最多 {mb} MB）", f"the file is too large (the limit is {mb} MB)")
    return fail(f"文件太大（{size / 1024 / 1024:.1f} MB，最多 {mb} MB）",
                f"the file is too large ({size / 1024 / 1024:.1f} MB; the limit is {mb} MB)")


def _cannot_read(path: Path, exc: OSError, fail: Fail) -> Exception:
    return fail(f"无法读取文件：{path}（{exc.strerror or exc}）", f"cannot read {path} ({exc.strerror or exc})")


def check_file(path: Path, limit: int, fail: Fail) -> int:
    """The size of a regular file of at most `limit` bytes (0 is the caller's to judge)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise fail(f"文件不存在：{path}", f"file not found: {path}") from None
    except OSError as exc:
        raise _cannot_read(path, exc, fail) from exc
    if path.is_dir():
        raise fail(f"这是一个文件夹，不是文件：{path}", f"this is a folder, not a file: {path}")
    if not path.is_file():  # a FIFO or a device would block or never end
        raise fail(f"不是普通文件：{path}", f"not a regular file: {path}")
    if st.st_size > limit:
        raise too_large(limit, fail, st.st_size)
    return st.st_size


def read_bytes(path: Path, limit: int, fail: Fail, *, head: int | None = None) -> bytes:
    """The file's first `head` bytes, or all of it (a file grown past `limit` since check_file: refused)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(head if head is not None else limit + 1)
    except OSError as exc:
        raise _cannot_read(path, exc, fail) from exc
    if head is None and len(raw) > limit:
        raise too_large(limit, fail)
    return raw


def decode_text(raw: bytes, fail: Fail) -> str:
    """Text from a spreadsheet program: UTF-8 (with or without BOM), else GB18030 (GBK's superset,
    what Chinese Windows saves as "CSV"). UTF-16/32 and binary files are refused with a hint."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16: FF FE starts both
        raise fail("文件是 UTF-32 编码，请另存为“CSV UTF-8（逗号分隔）”后再导入",
                   "the file is UTF-32 encoded; save it as 'CSV UTF-8 (comma delimited)'")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise fail("文件是 UTF-16 编码（Excel 的“Unicode 文本”），请另存为“CSV UTF-8（逗号分隔）”后再导入",
                   "the file is UTF-16 encoded (Excel 'Unicode Text'); save it as 'CSV UTF-8 (comma delimited)'")
    if b"\x00" in raw:
        raise fail("文件中含有 NUL 字节，不是文本格式的 CSV（可能是二进制文件或已损坏）",
                   "the file contains NUL bytes: not a text CSV (binary or damaged?)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise fail("无法识别文件的文字编码（既不是 UTF-8 也不是 GBK/GB18030），可能不是文本文件或已损坏",
                   "cannot decode the file: it is neither UTF-8 nor GBK/GB18030 text (binary or damaged?)") from None


def utf8_text(raw: bytes, fail: Fail) -> str:
    """A JSON file's text: UTF-8, a BOM allowed."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise fail("文件不是 UTF-8 文本（可能已损坏，或不是本软件导出的文件）",
                   "the file is not UTF-8 text (damaged, or not a file this app exported?)") from None


def parse_json(text: str, fail: Fail) -> Any:
    """The parsed document; refused: bad syntax (a cut-off file said so), nesting too deep for
    Python, and values SQLite or the UI cannot hold (core/checked.py)."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise fail("文件嵌套层级过深，拒绝读取", "the file is nested too deeply; refused") from None
    except ValueError as exc:
        body = text.strip()
        if body.startswith(("{", "[")) and not body.endswith(("}", "]")):
            raise fail("文件不完整（可能只复制了一部分或被截断）", "the file is incomplete (truncated)") from None
        line = getattr(exc, "lineno", "?")
        raise fail(f"不是有效的 JSON 文件（第 {line} 行附近出错，可能已损坏）",
                   f"not a valid JSON file (error near line {line}; damaged?)") from None
    bad = checked.unstorable(doc, text)
    if bad is not None:
        raise fail(f"{bad.path}：{bad.zh}", f"{bad.path}: {bad.en}")
    return doc
