"""What the reply import and export share: formats, limits, the plan's data classes, errors, field checks."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import (
    ImportFileError,
    ValidationError,
)
from .. import compliance, replies, templates
from ..fileio import reading
from ..fileio.progress import Progress  # noqa: F401 - part of the package's API

log = logging.getLogger(__name__)

QIANNU_CSV = "qianniu-csv"
QIANNU_XLSX = "qianniu-xlsx"
JSON = "json"
FORMATS = (QIANNU_CSV, QIANNU_XLSX, JSON)
EXTENSIONS = {".csv": QIANNU_CSV, ".xlsx": QIANNU_XLSX, ".json": JSON}

JSON_FORMAT = "kefu-assistant.replies"
LIBRARY_FORMAT = "kefu-assistant.library"
JSON_VERSION = 1

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
# XLSX is a zip: refuse archives that would unpack to far more than any real phrase list (zip bombs).
MAX_UNZIPPED_MEMBER = 200 * 1024 * 1024
MAX_UNZIPPED_TOTAL = 300 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
XLSX_MAX_COLUMNS = 64
XLSX_MAX_SHEETS = 20
EXCEL_MAX_ROW = 1_048_576
MAX_GROUP_NAME = 40
# Positions and use counts: far beyond any real library, far below SQLite's 64-bit limit (max()+1 stays exact).
MAX_COUNT = 2 ** 31 - 1

CODE_HEADERS = ("快捷短语编码", "快捷编码")
TEXT_HEADER = "快捷短语"
GROUP_HEADER = "快捷短语分组"
EXPORT_HEADER = ("快捷短语编码", "快捷短语", "快捷短语分组")
EXPECTED_HEADER = "快捷短语编码,快捷短语,快捷短语分组"

# Escapes some Qianniu exporters write instead of a real newline or comma. Decoded in one pass, so
# our export can keep a literal "&#44;" by writing "&#38;#44;" ("&#38;" is "&").
_ENTITY_RE = re.compile(r"&#13;&#10;|&#(?:13|10|44|38);")
_ENTITY_CHARS = {"&#13;&#10;": "\n", "&#13;": "\n", "&#10;": "\n", "&#44;": ",", "&#38;": "&"}
_LITERAL_ENTITY_RE = re.compile(r"&#(?=(?:13|10|44|38);)")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

Phases = Callable[[str, int, int], None]  # (phase, done, total)


# ---------------------------------------------------------------- results


@dataclass
class ImportItem:
    """One reply read from the file, with what the import will do with it.

    row: CSV/XLSX row as a spreadsheet shows it (header = 1); JSON: index in "replies".
    where_zh / where_en: the same as text ("第 3 行" / "row 3", "replies[12]").
    reason_zh / reason_en: why it is skipped or replaced (empty for a plain add).
    existing: the reply in the library it clashes with (skipped) or will overwrite (replaced).
    warning_zh / warning_en: something dropped but not fatal (a hotkey already taken).
    """

    row: int | None
    where_zh: str
    where_en: str
    group_path: str
    title: str
    code: str | None
    body: str
    uuid: str | None = None
    language: str = "zh"
    platforms: list[str] = field(default_factory=list)
    hotkey: str | None = None
    angle: str | None = None
    position: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    use_count: int = 0
    last_used_at: str | None = None
    reason_zh: str = ""
    reason_en: str = ""
    existing: replies.Reply | None = None
    warning_zh: str = ""
    warning_en: str = ""
    group_key: str = field(default="", repr=False)
    hotkey_dropped: bool = field(default=False, repr=False)
    title_given: bool = field(default=False, repr=False)
    # compliance findings of the text as it will be saved (imported all the same, and flagged)
    findings: list[compliance.Finding] = field(default_factory=list, repr=False)


@dataclass
class ImportPlan:
    """What an import would do. read_file() gives one against an empty library."""

    path: str
    format: str
    replace: bool
    items: list[ImportItem]  # every reply in the file, in file order
    to_add: list[ImportItem] = field(default_factory=list)
    to_replace: list[ImportItem] = field(default_factory=list)
    skipped: list[ImportItem] = field(default_factory=list)
    warnings: list[ImportItem] = field(default_factory=list)  # imported, but a hotkey was dropped
    new_groups: list[str] = field(default_factory=list)  # paths of groups the import creates
    braces_escaped: int = 0  # keep_braces: braces in Qianniu phrases kept as literal text
    flagged: list[ImportItem] = field(default_factory=list)  # to add or replace, with compliance findings

    @property
    def total(self) -> int:
        return len(self.items)


@dataclass
class ImportResult:
    added: int
    replaced: int
    skipped: int
    skipped_items: list[ImportItem]
    warnings: list[ImportItem]
    groups_created: int
    braces_escaped: int = 0
    flagged: list[ImportItem] = field(default_factory=list)  # imported with compliance findings


# ---------------------------------------------------------------- parsed file (internal)


@dataclass
class _GroupSpec:
    key: str
    name: str
    parent: str | None = None  # key of the parent spec
    uuid: str | None = None  # JSON: the group's uuid
    position: int | None = None  # JSON: the group's position
    flat: str | None = None  # Qianniu: the raw cell, matched against "parent-child" of existing groups


@dataclass
class _FileData:
    format: str
    kind: str  # "qianniu" | "json" | "library"
    groups: dict[str, _GroupSpec]  # parents before children
    items: list[ImportItem]


@dataclass
class _Target:
    id: int | None  # None: the import creates it
    uuid: str | None
    path: str


class _NoHeader(ImportFileError):
    """The first non-blank row is not a Qianniu header (XLSX: another sheet may still have one)."""


class _Empty(ImportFileError):
    """No replies in the file."""


def _err(zh: str, en: str, row: int | None = None) -> ImportFileError:
    return ImportFileError(zh, en, row=row)


def _row_err(row: int, zh: str, en: str) -> ImportFileError:
    return ImportFileError(f"第 {row} 行：{zh}", f"Row {row}: {en}", row=row)



# ---------------------------------------------------------------- format detection


def _fail(zh: str, en: str) -> ImportFileError:
    """fileio.reading's reasons (English as a clause) as this module's sentences."""
    return _err(zh, en[:1].upper() + en[1:])


def _check_file(path: Path) -> int:
    size = reading.check_file(path, MAX_FILE_BYTES, _fail)
    if size == 0:
        raise _empty()
    return size


def _empty() -> ImportFileError:
    return _Empty("文件中没有快捷短语", "The file holds no quick replies")


def _read_bytes(path: Path, head: int | None = None) -> bytes:
    """The whole file (at most MAX_FILE_BYTES, else "too large"), or its first `head` bytes."""
    return reading.read_bytes(path, MAX_FILE_BYTES, _fail, head=head)


def _old_excel() -> ImportFileError:
    return _err("这是旧版 Excel（.xls）或加密的表格文件，无法读取。请在 Excel/WPS 中另存为 .xlsx 或 CSV（UTF-8）后再导入。",
                "This is an old Excel (.xls) or encrypted workbook, which cannot be read. Save it as .xlsx "
                "or CSV (UTF-8) in Excel/WPS and import that.")


def _check_body(body: str, where_zh: str, where_en: str, row: int | None, *, fields: bool = True) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if not body.strip():
        raise ImportFileError(f"{where_zh}：快捷短语内容为空", f"{where_en}: the reply text is empty", row=row)
    if len(body) > replies.MAX_BODY:
        raise ImportFileError(f"{where_zh}：内容过长（{len(body)} 字，最多 {replies.MAX_BODY} 字）",
                              f"{where_en}: the text is too long ({len(body)} characters, max {replies.MAX_BODY})",
                              row=row)
    if "\x00" in body:
        raise ImportFileError(f"{where_zh}：内容含有非法字符（NUL）", f"{where_en}: the text contains a NUL character",
                              row=row)
    if fields:
        try:
            templates.validate(body)
        except ValidationError as exc:
            raise ImportFileError(f"{where_zh}：{exc.zh}", f"{where_en}: {exc.en}", row=row) from exc
    return body


def _check_code(code: str | None, where_zh: str, where_en: str, row: int | None) -> str | None:
    code = (code or "").strip() or None
    if code is not None and not replies.CODE_RE.match(code):
        raise ImportFileError(f"{where_zh}：短码“{code[:30]}”无效，只能包含字母、数字和 _ - . / #，最长 24 位",
                              f"{where_en}: invalid short code '{code[:30]}' (letters, digits and _ - . / #, max 24)",
                              row=row)
    return code


