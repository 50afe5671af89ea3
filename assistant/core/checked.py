"""Values from outside (import files, stored JSON columns) checked before anything uses them.

Import files: json.loads accepts things the store cannot hold -- a lone surrogate ("\\ud800", which
UTF-8 cannot encode), integers beyond SQLite's 64-bit range -- and datetime gives OverflowError, not
ValueError, for a time that leaves years 1..9999 when converted to UTC. transfer (replies JSON) and
handover (handover JSON) both call unstorable() right after parsing and parse_time() for each time,
so every such value becomes a one-line ImportFileError naming its place in the file.

Stored JSON: a column holding JSON (replies.platforms, chases.warnings, settings.value ...) that was
hand-edited or damaged is read as its empty value; stored_json() logs the row and column once per
process -- never the content, which may be customer text.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)

SQLITE_INT_MIN = -(2 ** 63)
SQLITE_INT_MAX = 2 ** 63 - 1

# Only a \uD800-\uDFFF escape in the JSON text can produce a lone surrogate (the text itself was
# decoded strictly from UTF-8), and only a run of 19+ digits can exceed 64 bits: without either,
# the document needs no walk (a 10k-buyer handover file holds ~400k values).
_SUSPECT = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\d{19}")


class Unstorable(ValueError):
    """A value of a parsed document the store cannot hold; path names it ("replies[3].body")."""

    def __init__(self, path: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.path, self.zh, self.en = path, zh, en


def is_text(value: str) -> bool:
    """True when value can be written as UTF-8 (no lone surrogate, e.g. from surrogateescape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unstorable(doc: Any, text: str | None = None) -> Unstorable | None:
    """The first value (or key) of a parsed JSON document that cannot be stored, as an Unstorable
    to raise, or None. text: the JSON source, to skip the walk when nothing can be wrong."""
    if text is not None and not _SUSPECT.search(text):
        return None
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if not is_text(value):
                return Unstorable(path or "$", "含有无法保存的字符（单独的代理码位 \\ud800–\\udfff）",
                                  "contains a character that cannot be stored (a lone surrogate \\ud800-\\udfff)")
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if not SQLITE_INT_MIN <= value <= SQLITE_INT_MAX:
                return Unstorable(path or "$", "数字太大，无法保存（超出 64 位整数范围）",
                                  "the number is too large to store (beyond a 64-bit integer)")
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                if not is_text(key):
                    return Unstorable(f"{path}.{key!a}" if path else repr(key),
                                      "键名含有无法保存的字符", "a key contains a character that cannot be stored")
                stack.append((item, f"{path}.{key}" if path else key))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with a zone, as aware UTC. ValueError for anything else, including a year
    outside 1..9999 before or after the conversion to UTC (datetime raises OverflowError there)."""
    if not isinstance(text, str) or not is_text(text):
        raise ValueError("not text")
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if when.tzinfo is None:
            raise ValueError("no time zone")
        return when.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("out of range") from None


# ---------------------------------------------------------------- stored JSON columns

_reported: set[tuple[str, str, Any]] = set()
_reported_lock = threading.Lock()


def stored_json(raw: str | None, *, table: str, column: str, row_id: Any, default: Any,
                valid: Callable[[Any], bool] | None = None) -> Any:
    """A JSON column's value. A malformed one, or one valid() refuses, is read as default and
    reported once per process and row/column. An empty or NULL column is simply default."""
    if raw is None or raw == "":
        return _fresh(default)
    try:
        value = json.loads(raw)
        if valid is None or valid(value):
            return value
    except (ValueError, RecursionError):
        pass
    key = (table, column, row_id)
    with _reported_lock:
        first = key not in _reported
        _reported.add(key)
    if first:
        log.warning("stored %s.%s of row %s is not valid JSON of the expected kind; read as empty",
                    table, column, row_id)
    return _fresh(default)


def forget_reports() -> None:
    """Report every bad stored value again (tests open many stores in one process)."""
    with _reported_lock:
        _reported.clear()


def _fresh(default: Any) -> Any:
    return type(default)(default) if isinstance(default, (list, dict)) else default


def is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def text_list(raw: str | None, *, table: str, column: str, row_id: Any) -> list[str]:
    """A column holding a JSON list of strings (replies.platforms, chases.warnings)."""
    return stored_json(raw, table=table, column=column, row_id=row_id, default=[], valid=is_text_list)
