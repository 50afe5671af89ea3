"""Terminal output shared by every `kefu` subcommand module: lines, JSON, aligned tables that
count East Asian characters as two columns."""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from ..errors import ValidationError

INT_MAX = 2 ** 31 - 1  # counts, limits and minutes: anything larger is a typo, and SQLite needs 64 bits


def whole_number(low: int = 0, high: int = INT_MAX):
    """An argparse type: a whole number from low to high, else argparse's one-line usage error
    (never an OverflowError or SQLite's "datatype mismatch" further down)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("must be a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value
    return parse


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def json_out(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    result, used = "", 0
    for ch in text:
        w = _width(ch)
        if used + w > width:
            return result + "…"
        result += ch
        used += w
    return result


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def table(rows: list[list[str]], headers: list[str], max_widths: list[int]) -> None:
    clipped = [[_clip(str(c), w) for c, w in zip(row, max_widths)] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in clipped]) for i, h in enumerate(headers)]
    out("  ".join(_pad(h, w) for h, w in zip(headers, widths)).rstrip())
    for row in clipped:
        out("  ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip())


# Everything str.splitlines() breaks on, and other control characters: an error stays one line.
_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def error(text: str) -> None:
    """The one line a failed command prints on stderr ("Error: English / 中文"). Text quoted from a
    file or an argument may hold line breaks; they become spaces."""
    sys.stderr.write("Error: " + _BREAKS.sub(" ", text).strip() + "\n")


def parse_pairs(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """--set FIELD=VALUE options: each field must be a known fill-in field."""
    pairs_out = []
    for pair in pairs:
        if "=" not in pair:
            raise ValidationError(f"“{pair}”应写成 字段=值，例如 客户=小王", f"'{pair}' must be FIELD=VALUE, e.g. 客户=Li")
        key, value = pair.split("=", 1)
        from ..core import templates

        if templates.canonical(key) is None:
            raise ValidationError(f"未知的填空字段“{key}”", f"Unknown fill-in field '{key}'")
        pairs_out.append((key, value))
    return pairs_out
