"""What the handover modules share: the file format's constants, masking, time zones, the import error."""

from __future__ import annotations

import difflib

from ...errors import ImportFileError
from .. import masking
from ..fileio.cells import neutralise  # noqa: F401 - part of the package's API

FORMAT = "kefu-assistant.handover"
VERSION = 1
FORMATS = ("html", "xlsx", "json")
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_BUYERS = 200_000
MAX_CHASES_PER_BUYER = 2_000
MAX_REMINDERS_PER_BUYER = 200
MAX_LOG_ENTRIES = 20_000
MAX_PROMOTIONS = 1_000
MAX_CALLS = 20_000  # per promotion: calls of its phone list
NOTE_MARKER = "【较早的备注 · {who} · {when}】"


def _bad(zh: str, en: str) -> ImportFileError:
    return ImportFileError(f"交接文件无法导入：{zh}。未做任何改动。", f"The handover file cannot be imported: {en}. "
                           "Nothing was changed.")


# ---------------------------------------------------------------- masking

# One masking function for every export and listing (core/masking.py); the name stays for callers.
mask_text = masking.mask_text


def _number_char(ch: str) -> bool:
    return ch.isdigit() or ch in "+-.*()（） \u00a0"


def restore_masked(text: str, source: str) -> str:
    """`text` with the masked numbers that stand for numbers in `source` given their digits back.

    A masked export of a note (edited or not) then loses nothing against the unmasked note it came
    from: masked text never replaces unmasked text. The pairs come from aligning `source` with
    mask_text(source), so this follows whatever mask_text masks; a mask that two different numbers
    share is left masked."""
    if not text or not source:
        return text
    masked = mask_text(source)
    if masked == source:
        return text
    regions: list[list[int]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, source, masked, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # Widen over the rest of the number: inside equal blocks both strings move together.
        while i1 > 0 and j1 > 0 and source[i1 - 1] == masked[j1 - 1] and _number_char(source[i1 - 1]):
            i1, j1 = i1 - 1, j1 - 1
        while i2 < len(source) and j2 < len(masked) and source[i2] == masked[j2] and _number_char(source[i2]):
            i2, j2 = i2 + 1, j2 + 1
        if regions and i1 <= regions[-1][1]:  # the same number as the previous region
            regions[-1][1], regions[-1][3] = max(regions[-1][1], i2), max(regions[-1][3], j2)
        else:
            regions.append([i1, i2, j1, j2])
    pairs: dict[str, set[str]] = {}
    for i1, i2, j1, j2 in regions:
        original, hidden = source[i1:i2].strip(), masked[j1:j2].strip()
        if hidden and hidden != original and "*" in hidden:
            pairs.setdefault(hidden, set()).add(original)
    for hidden in sorted(pairs, key=len, reverse=True):
        if len(pairs[hidden]) == 1 and hidden in text:
            text = text.replace(hidden, next(iter(pairs[hidden])))
    return text



