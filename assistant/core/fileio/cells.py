"""Spreadsheet cells: formula-injection neutralising, XML text, display widths.

A cell starting with = + - @ (or tab, CR, LF) is run as a formula (or DDE) by Excel, WPS and
LibreOffice. CSV: a leading apostrophe, removed again on import exactly where neutralise() adds
one, so export -> import is a bijection. XLSX: the text stays as it is and the cell's style
carries quotePrefix (xlsx.py), which the spreadsheet shows without an apostrophe.
"""

from __future__ import annotations

import re
import unicodedata

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")

# Characters XML 1.0 cannot hold (C0 controls but tab, LF, CR; U+FFFE, U+FFFF) are dropped; & < >
# escaped. One C-level translate per text.
XML_TABLE = {**{c: None for c in range(32) if chr(c) not in "\t\n\r"}, 0xFFFE: None, 0xFFFF: None,
             ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def needs_quote(text: str) -> bool:
    """True when a spreadsheet would run the text: after any leading apostrophes, it starts with a
    formula character. Quoting exactly these keeps export -> import a bijection."""
    first = text.lstrip("'")[:1]
    return first != "" and first in FORMULA_START


def neutralise(text: str) -> str:
    """A cell value safe to open in a spreadsheet: a leading apostrophe stops formula/DDE injection."""
    return "'" + text if needs_quote(text) else text


def unneutralise(text: str) -> str:
    """Undo neutralise(): remove the apostrophe only where neutralise() would have added it."""
    return text[1:] if text.startswith("'") and needs_quote(text) else text


# CSV only. Excel in a locale whose list separator is ";" (ru, es: our cross-border shops) splits a
# comma-separated file at every ";" - quotes are honoured only at the start of a field, so quoting
# the cell does not help - and a piece starting with = + - @ becomes a formula ("abc;=1+1"). So an
# apostrophe also goes after every , ; tab CR LF followed (past any quotes or apostrophes) by one
# of those: "abc;=1+1" -> "abc;'=1+1". Like the leading apostrophe, import removes exactly these.
_SPLIT_FORMULA = re.compile(r"(?<=[,;\t\r\n])(?=['\"]*[=+\-@])")
_SPLIT_FORMULA_UNDO = re.compile(r"(?<=[,;\t\r\n])'(?=['\"]*[=+\-@])")


def csv_neutralise(text: str) -> str:
    """An apostrophe before every split-off piece that would run (the leading one: neutralise())."""
    return _SPLIT_FORMULA.sub("'", text)


def csv_unneutralise(text: str) -> str:
    """Undo the split-piece apostrophes of csv_neutralise() (the leading one: unneutralise())."""
    return _SPLIT_FORMULA_UNDO.sub("", text)


def xml_text(text: str) -> str:
    return text.translate(XML_TABLE)


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: East Asian wide characters count two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
