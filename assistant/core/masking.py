"""Phone and order numbers inside free text, masked for exports and listings: one function, used by
every default (masked) handover export -- HTML, XLSX, JSON, every text field -- and `kefu buyers`.

What is masked: a number of 9 or more digits, or one of 7 or more that starts with + (or ＋), in
any layout -- 13812345678, 138 1234 5678, +86 138-1234-5678, (212) 555-0101, 212.555.0102,
+1-212-555-0101, +7 912 345-67-89, +34 612 34 56 78, 0049 30 1234567, （０２１）６２３４５６７８
(full-width), tb_13812345673 inside a nickname, 18-digit order numbers, 231111-123456789012345.
Its digits become * except the last four (a Chinese mobile also keeps its first three, 138****5678,
and an international number its country code); spaces, dashes, dots and brackets stay.

What stays: dates (2026-11-11, 2026.11.11, 2026年11月11日), times (00:00, 23:59:59), amounts
(199.00, 1,299.00), short numbers and codes (满199减20, cdsp1, 3, 5, 7, 9): a date, time or amount
never joins a neighbouring number into one long run.
"""

from __future__ import annotations

import re

MIN_DIGITS = 9
MIN_DIGITS_PLUS = 7

_D = r"\d"  # any decimal digit: full-width ０-９ too
_SEP = r"[ \u00a0\u3000\-\u2010-\u2015\uff0d.\uff0e]"
_OPEN = r"[(\uff08]"
_CLOSE = r"[)\uff09]"
_DATE = rf"(?:1[6-9]|2[0-2]){_D}{{2}}[-/.\uff0d\uff0e\u5e74]{_D}{{1,2}}[-/.\uff0d\uff0e\u6708]{_D}{{1,2}}\u65e5?(?!{_D})"
_TIME = rf"{_D}{{1,2}}[:：]{_D}{{2}}(?:[:：]{_D}{{2}})?"
_AMOUNT = rf"{_D}+[.\uff0e]{_D}{{1,2}}(?![\d.\uff0e])"
_PROTECTED = rf"{_DATE}|{_TIME}|{_AMOUNT}"
_GROUP = rf"{_OPEN}?{_D}+{_CLOSE}?"
# A candidate: an optional +, then digit groups joined by one or two separators (or nothing after a
# closing bracket); a group that starts a date, time or amount is never joined.
_CANDIDATE = (rf"(?:[+\uff0b]\s?)?{_GROUP}"
              rf"(?:(?:{_SEP}{{1,2}}|(?<={_CLOSE})|(?={_OPEN})){_SEP}?(?!{_PROTECTED}){_GROUP})*")
_TOKEN = re.compile(rf"(?<!\d)(?:(?P<keep>{_PROTECTED})|(?P<num>{_CANDIDATE}))")
_ANY_DIGIT = re.compile(r"\d").search  # most fields (names, marks, shops) have none: skip _TOKEN


_DIGIT = re.compile(r"\d")


def _digit_positions(text: str) -> list[int]:
    return [m.start() for m in _DIGIT.finditer(text)]


def _skip(pos: list[int], lead: int) -> int:
    """Index in the text just after the first `lead` digits."""
    return pos[lead - 1] + 1 if lead else 0


def _mask_number(s: str) -> str:
    pos = _digit_positions(s)
    n = len(pos)
    plus = s[:1] in "+\uff0b"
    if n < (MIN_DIGITS_PLUS if plus else MIN_DIGITS):
        return s
    digits = "".join(str(int(s[i])) for i in pos)  # full-width digits compare as ASCII
    keep = set(pos[-4:])
    lead = 0  # digits of the country code, kept
    if plus or digits.startswith("00"):
        # up to three digits of a first group (+7, +34, 0049); +8613812345678 written in one run: 86
        first = re.match(rf"[+\uff0b]?\s?(?:00)?({_D}{{1,3}})(?={_SEP}|{_OPEN})", s)
        if first is not None:
            lead = sum(1 for ch in first.group(0) if ch.isdecimal())
        elif digits.lstrip("0").startswith("86"):
            lead = len(digits) - len(digits.lstrip("0")) + 2
    elif len(digits) == 13 and digits.startswith("861"):
        lead = 2
    national = digits[lead:]
    if len(national) == 11 and national[0] == "1" and national[1] in "3456789" and not re.search(_OPEN, s) \
            and not re.match(rf"[+\uff0b]?\s?{_D}{_SEP}", s[_skip(pos, lead):]):
        lead += 3  # a Chinese mobile: 138****5678
    keep.update(pos[:lead])
    out = list(s)
    for i in pos:
        if i not in keep:
            out[i] = "*"
    return "".join(out)


def mask_text(text: str) -> str:
    """text with every phone or order number masked (see the module); idempotent."""
    if not text or not _ANY_DIGIT(text):
        return text

    def repl(m: re.Match[str]) -> str:
        found = m.group(0)
        if m.group("keep") is not None or len(found) < MIN_DIGITS_PLUS:  # too short to hold a number
            return found
        return _mask_number(found)

    return _TOKEN.sub(repl, text)


def masks(original: str, shown: str) -> bool:
    """True when shown is original as a masked export writes it (and differs from it): an import
    can tell a masked copy from a real change and keep the original."""
    return shown != original and mask_text(original) == shown


def mask_order(order_no: str) -> str:
    """An order number as shown everywhere (after-sales cases, unpaid orders): like mask_text (a long
    number keeps its last four digits); a short one (a few digits or letters) keeps only its last
    four characters too."""
    if not order_no:
        return ""
    shown = mask_text(order_no)
    if shown != order_no:
        return shown
    return order_no if len(order_no) <= 4 else "*" * (len(order_no) - 4) + order_no[-4:]
