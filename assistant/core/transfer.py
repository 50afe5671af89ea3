"""Import and export of quick replies: Qianniu (千牛) CSV/XLSX quick-phrase files and our own JSON.

Import runs in three steps:
1. parse: read the whole file and validate every row (fields, templates, codes, hotkeys) without
   touching the store. A bad row raises ImportFileError(zh, en, row) naming the row as a person
   counts it (the header is row 1 in CSV/XLSX; "replies[12]" in JSON).
2. plan: compare the rows with the library: what will be added, what replaced, what skipped and why.
   plan_import() stops here; it is the preview the UI shows, and writes nothing.
3. write: one store.write() transaction (the plan is made again inside it, so nothing can change
   between the check and the write) through replies.create_reply / update_reply. Any error rolls
   everything back: the library is either fully imported or exactly as it was.

Qianniu files carry code, text and a flat group name; titles are derived from the first line.
On export, cells that a spreadsheet would run as a formula (starting with = + - @ tab CR LF) get a
leading apostrophe; on import that apostrophe is removed again exactly when our export would have
added it (see _needs_quote), so export -> import is an exact round trip.
Our JSON ("kefu-assistant.replies", version 1) keeps every field, uuid and timestamp.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import re
import tempfile
import uuid as uuidlib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import (
    ImportBracesError,
    ImportFileError,
    KnownError,
    NotFoundError,
    ValidationError,
)
from . import checked, holder, hotkeys, private, replies, search, templates
from .clock import to_db
from .store import Store

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

# A cell starting with one of these is run as a formula (or DDE) by Excel/WPS/LibreOffice.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Escapes some Qianniu exporters write instead of a real newline or comma. Decoded in one pass, so
# our export can keep a literal "&#44;" by writing "&#38;#44;" ("&#38;" is "&").
_ENTITY_RE = re.compile(r"&#13;&#10;|&#(?:13|10|44|38);")
_ENTITY_CHARS = {"&#13;&#10;": "\n", "&#13;": "\n", "&#10;": "\n", "&#44;": ",", "&#38;": "&"}
_LITERAL_ENTITY_RE = re.compile(r"&#(?=(?:13|10|44|38);)")
# Control characters XML (and so XLSX) cannot hold; tab, LF and CR are fine.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

Progress = Callable[[int, int], None]
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


def _check_file(path: Path) -> int:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise _err(f"文件不存在：{path}", f"File not found: {path}") from None
    except OSError as exc:
        raise _err(f"无法读取文件：{path}（{exc.strerror}）", f"Cannot read {path} ({exc.strerror})") from exc
    if path.is_dir():
        raise _err(f"这是一个文件夹，不是文件：{path}", f"This is a folder, not a file: {path}")
    if st.st_size > MAX_FILE_BYTES:
        raise _err(f"文件太大（{st.st_size / 1024 / 1024:.1f} MB），最多 {MAX_FILE_BYTES // 1024 // 1024} MB",
                   f"The file is too large ({st.st_size / 1024 / 1024:.1f} MB); the limit is "
                   f"{MAX_FILE_BYTES // 1024 // 1024} MB")
    if st.st_size == 0:
        raise _empty()
    return st.st_size


def _empty() -> ImportFileError:
    return _Empty("文件中没有快捷短语", "The file holds no quick replies")


def _too_large() -> ImportFileError:
    return _err(f"文件太大，最多 {MAX_FILE_BYTES // 1024 // 1024} MB",
                f"The file is too large; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB")


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit if limit is not None else MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _err(f"无法读取文件：{path}（{exc.strerror}）", f"Cannot read {path} ({exc.strerror})") from exc


def _old_excel() -> ImportFileError:
    return _err("这是旧版 Excel（.xls）或加密的表格文件，无法读取。请在 Excel/WPS 中另存为 .xlsx 或 CSV（UTF-8）后再导入。",
                "This is an old Excel (.xls) or encrypted workbook, which cannot be read. Save it as .xlsx "
                "or CSV (UTF-8) in Excel/WPS and import that.")


def detect_format(path: Path | str) -> str:
    """"qianniu-csv", "qianniu-xlsx" or "json", from the extension and the first bytes."""
    path = Path(path)
    _check_file(path)
    head = _read_bytes(path, 4096)
    ext = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return QIANNU_XLSX
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _old_excel()
    if ext in (".xlsx", ".xlsm"):
        raise _err("不是有效的 xlsx 文件（文件内容不是 zip 压缩包，可能已损坏或被改了扩展名）",
                   "Not a valid .xlsx file (its content is not a zip archive; damaged or renamed?)")
    if ext in (".csv", ".txt", ".tsv"):
        return QIANNU_CSV
    if ext == ".json":
        return JSON
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return JSON
    for encoding in ("utf-8", "gb18030"):
        with contextlib.suppress(UnicodeDecodeError):
            first = head.decode(encoding, errors="strict" if len(head) < 4096 else "ignore").splitlines()
            if first and TEXT_HEADER in first[0]:
                return QIANNU_CSV
    raise _err(f"无法识别的文件格式：{path.name}。支持千牛快捷短语 CSV/XLSX 和本软件导出的 JSON。",
               f"Unrecognised file format: {path.name}. Supported: Qianniu quick-phrase CSV/XLSX and this "
               "app's JSON export.")


def _resolve_format(path: Path, format: str | None) -> str:
    if format is None:
        return detect_format(path)
    if format not in FORMATS:
        raise _err(f"未知的格式“{format}”，可选：{'、'.join(FORMATS)}",
                   f"Unknown format '{format}'; one of {', '.join(FORMATS)}")
    _check_file(path)
    return format


# ---------------------------------------------------------------- cell helpers (Qianniu)


def _needs_quote(text: str) -> bool:
    """True when our export prefixes an apostrophe: after any leading apostrophes, the text starts
    with a formula character. Prefixing exactly these keeps export -> import a bijection."""
    first = text.lstrip("'")[:1]
    return first != "" and first in _FORMULA_START


def neutralise(text: str) -> str:
    """A cell value safe to open in a spreadsheet: a leading apostrophe stops formula/DDE injection."""
    return "'" + text if _needs_quote(text) else text


def unneutralise(text: str) -> str:
    """Undo neutralise(): remove the apostrophe only where neutralise() would have added it."""
    return text[1:] if text.startswith("'") and _needs_quote(text) else text


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


# CSV only. Excel in a locale whose list separator is ";" (ru, es: our cross-border shops) splits a
# comma-separated file at every ";" - quotes are honoured only at the start of a field, so quoting
# the cell does not help - and a piece starting with = + - @ becomes a formula ("abc;=1+1"). So an
# apostrophe also goes after every , ; tab CR LF followed (past any quotes or apostrophes) by one
# of those: "abc;=1+1" -> "abc;'=1+1". Like the leading apostrophe, import removes exactly these.
_SPLIT_FORMULA = re.compile(r"(?<=[,;\t\r\n])(?=['\"]*[=+\-@])")
_SPLIT_FORMULA_UNDO = re.compile(r"(?<=[,;\t\r\n])'(?=['\"]*[=+\-@])")


def _csv_neutralise(text: str) -> str:
    return _SPLIT_FORMULA.sub("'", text)


def _csv_unneutralise(text: str) -> str:
    """Undo _csv_neutralise(): remove an apostrophe only where it would have added one."""
    return _SPLIT_FORMULA_UNDO.sub("", text)


def _decode_cell(text: str) -> str:
    text = unneutralise(text)
    if "&#" in text:
        text = _ENTITY_RE.sub(lambda m: _ENTITY_CHARS[m.group(0)], text)
    return text


def _encode_cell(text: str) -> str:
    """The exact inverse of _decode_cell: a text that happens to hold "&#44;" survives the import."""
    if "&#" in text:
        text = _LITERAL_ENTITY_RE.sub("&#38;#", text)
    return neutralise(text)


# ---------------------------------------------------------------- Qianniu parsing


def _header_columns(cells: list[str], row: int) -> dict[str, int]:
    cols: dict[str, int] = {}
    for i, cell in enumerate(cells):
        name = cell.replace("\ufeff", "").strip().strip('"').strip()
        key = "code" if name in CODE_HEADERS else "text" if name == TEXT_HEADER else \
            "group" if name == GROUP_HEADER else None
        if key is None:
            continue
        if key in cols:
            raise _row_err(row, f"表头中“{name}”列重复", f"the header names the column '{name}' twice")
        cols[key] = i
    if "text" not in cols:
        shown = ",".join(c.strip() for c in cells[:6])[:80]
        raise _NoHeader(f"第 {row} 行：没有识别到千牛快捷短语的表头（应为“{EXPECTED_HEADER}”，实际是“{shown}”）",
                        f"Row {row}: no Qianniu quick-phrase header found (expected '{EXPECTED_HEADER}', got '{shown}')",
                        row=row)
    return cols


def _group_name(cell: str, row: int) -> tuple[str, str]:
    """(group name, raw cell) for a Qianniu group cell."""
    raw = cell.strip()
    if not raw:
        return replies.UNGROUPED, ""
    name = raw.replace("/", "／")
    if len(name) > MAX_GROUP_NAME:
        raise _row_err(row, f"分组名“{name[:20]}…”过长（最多 {MAX_GROUP_NAME} 字）",
                       f"group name '{name[:20]}…' is too long (max {MAX_GROUP_NAME} characters)")
    if any(ch in name for ch in "\n\r\t"):
        raise _row_err(row, "分组名不能含有换行或制表符", "a group name cannot contain line breaks or tabs")
    return name, raw


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


def _check_fields(data: _FileData, keep_braces: bool) -> int:
    """Qianniu phrases are plain text: a "{…}" in one is usually not meant as a fill-in field. Strict
    (the default): the first such row stops the import, with ImportBracesError. keep_braces: every
    brace that is no known field is doubled, so the text stays exactly as it was; returns how many."""
    escaped = 0
    if data.kind != "qianniu":
        return 0  # our own JSON was validated when it was written
    for item in data.items:
        try:
            templates.validate(item.body)
        except ValidationError as exc:
            if not keep_braces:
                raise ImportBracesError(f"{item.where_zh}：{exc.zh}", f"Row {item.row}: {exc.en}", row=item.row) from exc
            # The title is plain text: it keeps the phrase as written, without the doubled braces.
            item.title, item.title_given = _derived_title(item.body), True
            item.body, n = templates.escape_unknown(item.body)
            escaped += n
    return escaped


def _check_code(code: str | None, where_zh: str, where_en: str, row: int | None) -> str | None:
    code = (code or "").strip() or None
    if code is not None and not replies.CODE_RE.match(code):
        raise ImportFileError(f"{where_zh}：短码“{code[:30]}”无效，只能包含字母、数字和 _ - . / #，最长 24 位",
                              f"{where_en}: invalid short code '{code[:30]}' (letters, digits and _ - . / #, max 24)",
                              row=row)
    return code


def _derived_title(body: str) -> str:
    # The same rule as replies._validate_fields, so the preview shows the title the reply will get.
    return body.strip().splitlines()[0][:20]


def _column(cells: list[str], cols: dict[str, int], key: str) -> str:
    i = cols.get(key)
    return _decode_cell(cells[i]) if i is not None and i < len(cells) else ""


def _parse_qianniu(rows: Iterable[tuple[int, list[Any]]], fmt: str, *, ragged_check: bool) -> _FileData:
    cols: dict[str, int] | None = None
    width = 0
    groups: dict[str, _GroupSpec] = {}
    items: list[ImportItem] = []
    for row, raw_cells in rows:
        cells = [_cell_text(c) for c in raw_cells]
        if not any(c.strip() for c in cells):
            continue
        if cols is None:
            cols = _header_columns(cells, row)
            width = max(i for i, c in enumerate(cells) if c.strip()) + 1  # Excel may pad with empty columns
            continue
        if ragged_check and (len(cells) < width or any(c.strip() for c in cells[width:])):
            raise _row_err(row, f"列数不对（表头有 {width} 列，这一行有 {len(cells)} 列）；可能是内容中的逗号或换行没有用引号括起来",
                           f"wrong number of columns (the header has {width}, this row {len(cells)}); "
                           "probably a comma or line break in the text without quotes")
        if len(items) >= MAX_ROWS:
            raise _err(f"文件超过 {MAX_ROWS} 条快捷短语，请分成几个文件导入",
                       f"The file holds more than {MAX_ROWS} replies; split it into several files")

        text, code_cell, group_cell = (_column(cells, cols, k) for k in ("text", "code", "group"))
        where_zh, where_en = f"第 {row} 行", f"row {row}"
        body = _check_body(text, where_zh, f"Row {row}", row, fields=False)  # _check_fields, after parsing
        code = _check_code(code_cell, where_zh, f"Row {row}", row)
        name, raw_group = _group_name(group_cell, row)
        key = "q:" + name
        if key not in groups:
            groups[key] = _GroupSpec(key=key, name=name, flat=raw_group or None)
        items.append(ImportItem(row=row, where_zh=where_zh, where_en=where_en, group_path=name,
                                title=_derived_title(body), code=code, body=body, group_key=key))
    if cols is None or not items:
        raise _empty()
    return _FileData(fmt, "qianniu", groups, items)


def _decode_text(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16: FF FE starts both
        raise _err("文件是 UTF-32 编码，请另存为“CSV UTF-8（逗号分隔）”后再导入",
                   "The file is UTF-32 encoded; save it as 'CSV UTF-8 (comma delimited)'")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _err("文件是 UTF-16 编码（Excel 的“Unicode 文本”），请另存为“CSV UTF-8（逗号分隔）”后再导入",
                   "The file is UTF-16 encoded (Excel 'Unicode Text'); save it as 'CSV UTF-8 (comma delimited)'")
    if b"\x00" in raw:
        raise _err("文件中含有 NUL 字节，不是文本格式的 CSV（可能是二进制文件或已损坏）",
                   "The file contains NUL bytes: not a text CSV (binary or damaged?)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise _err("无法识别文件的文字编码（既不是 UTF-8 也不是 GBK/GB18030），可能不是文本文件或已损坏",
                   "Cannot decode the file: it is neither UTF-8 nor GBK/GB18030 text (binary or damaged?)") from None


def _parse_csv(path: Path) -> _FileData:
    raw = _read_bytes(path)
    if len(raw) > MAX_FILE_BYTES:
        raise _too_large()
    text = _decode_text(raw)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "," if "," in first or "\t" not in first else "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        row = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _row_err(row + 1, f"CSV 格式错误（引号不配对或单元格过长）：{exc}",
                               f"malformed CSV (unbalanced quotes or an over-long cell): {exc}") from exc
            row += 1
            yield row, [_csv_unneutralise(c) for c in cells]

    return _parse_qianniu(rows(), QIANNU_CSV, ragged_check=True)


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: NotImplementedError for an unknown zip version too
        raise _err("不是有效的 xlsx 文件（压缩包已损坏或不完整）",
                   f"Not a valid .xlsx file (damaged or incomplete zip archive: {exc})") from exc
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _err(f"xlsx 文件中有 {len(infos):,} 个内部文件（最多 {MAX_ZIP_ENTRIES:,} 个），拒绝读取（可能是压缩炸弹）",
                   f"The .xlsx holds {len(infos):,} internal files (at most {MAX_ZIP_ENTRIES:,}); refused (zip bomb?)")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNZIPPED_TOTAL or any(i.file_size > MAX_UNZIPPED_MEMBER for i in infos):
        raise _err(f"xlsx 文件解压后过大（{total / 1024 / 1024:.0f} MB），拒绝读取（可能是压缩炸弹）",
                   f"The .xlsx would unpack to {total / 1024 / 1024:.0f} MB; refused (zip bomb?)")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        raise _err("不是有效的 xlsx 文件（是 zip 压缩包，但不是 Excel 工作簿）",
                   "Not a valid .xlsx file (a zip archive, but not an Excel workbook)")


def _brief(exc: BaseException) -> str:
    """The library's complaint, short and on one line (XML parsers quote the offending markup)."""
    first = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {first[:60]}{'…' if len(first) > 60 else ''}" if first else type(exc).__name__


def _xlsx_cell(value: Any) -> str:
    text = _cell_text(value)
    if "_x000" in text:  # Excel's escape for a carriage return inside a cell
        text = text.replace("_x000D_\n", "\n").replace("_x000D_", "\n")
    return text


def _parse_xlsx(path: Path) -> _FileData:
    import openpyxl  # noqa: PLC0415  (import only when needed: ~0.2 s)

    _check_zip(path)
    # Our own handle: openpyxl leaves its file open when a damaged workbook fails to load.
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        raise _err(f"无法读取文件：{path}（{exc.strerror}）", f"Cannot read {path} ({exc.strerror})") from exc
    try:
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # a parser of untrusted input: any failure means "bad file", never a traceback
            raise _err("无法读取 xlsx 文件（已损坏，或不是 Excel 工作簿）",
                       f"Cannot read the .xlsx file (damaged, or not an Excel workbook: {_brief(exc)})") from exc
        return _read_workbook(wb)
    finally:
        fh.close()


def _read_workbook(wb: Any) -> _FileData:
    try:
        header_error: ImportFileError | None = None
        for ws in wb.worksheets[:XLSX_MAX_SHEETS]:
            def rows(ws: Any = ws) -> Iterator[tuple[int, list[Any]]]:
                # Read-only mode yields a filler row for every row missing between two stored rows: a
                # 2.5 KB file with one cell at row 1,048,576 gives a million of them. Skipping them by
                # one C-level tuple comparison keeps that to ~0.3 s (converting each took 15 s).
                blank = (None,) * XLSX_MAX_COLUMNS
                for row, values in enumerate(ws.iter_rows(min_row=1, max_row=EXCEL_MAX_ROW, max_col=XLSX_MAX_COLUMNS,
                                                          values_only=True), start=1):
                    if values != blank:
                        yield row, [_xlsx_cell(v) for v in values]
            try:
                return _parse_qianniu(rows(), QIANNU_XLSX, ragged_check=False)
            except _NoHeader as exc:  # another sheet may hold the phrases
                header_error = header_error or exc
            except _Empty:
                pass
        raise header_error or _empty()
    except ImportFileError:
        raise
    except Exception as exc:
        raise _err("无法读取 xlsx 文件（内容已损坏）",
                   f"Cannot read the .xlsx file (damaged content: {_brief(exc)})") from exc
    finally:
        with contextlib.suppress(Exception):
            wb.close()


# ---------------------------------------------------------------- JSON parsing

_TYPE_NAMES = {str: ("文本", "a string"), int: ("整数", "an integer"), list: ("列表", "a list"),
               dict: ("对象", "an object")}


class _J:
    """Strict typed access to a JSON object, errors naming the path ("replies[3].title")."""

    def __init__(self, obj: Any, where: str, row: int | None) -> None:
        self.where = where
        self.row = row
        if not isinstance(obj, dict):
            raise self.fail("应为对象", "must be an object")
        self.obj = obj

    def fail(self, zh: str, en: str, key: str | None = None) -> ImportFileError:
        loc = f"{self.where}.{key}" if key else self.where
        return ImportFileError(f"{loc}：{zh}", f"{loc}: {en}", row=self.row)

    def get(self, key: str, typ: type, *, nullable: bool = False, required: bool = True, default: Any = None) -> Any:
        if key not in self.obj:
            if required:
                raise self.fail("缺少此项", "is missing", key)
            return default
        value = self.obj[key]
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, typ):
            zh, en = _TYPE_NAMES[typ]
            raise self.fail(f"应为{zh}{'或 null' if nullable else ''}", f"must be {en}{' or null' if nullable else ''}",
                            key)
        return value

    def uuid(self, key: str, *, nullable: bool = False) -> str | None:
        value = self.get(key, str, nullable=nullable)
        if value is not None and not _UUID_RE.match(value):
            raise self.fail(f"“{value[:40]}”不是有效的 UUID（小写，形如 8-4-4-4-12）",
                            f"'{value[:40]}' is not a valid lower-case UUID", key)
        return value

    def timestamp(self, key: str, *, nullable: bool = False) -> str | None:
        value = self.get(key, str, nullable=nullable)
        if value is None:
            return None
        try:
            return to_db(checked.parse_time(value))
        except ValueError:
            raise self.fail(f"“{value[:40]}”不是带时区的 ISO 8601 时间（年份 1–9999）",
                            f"'{value[:40]}' is not an ISO 8601 time with a time zone (years 1-9999)", key) from None


def _load_json(path: Path) -> Any:
    raw = _read_bytes(path)
    if not raw.strip():
        raise _empty()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _err("JSON 文件不是 UTF-8 编码（可能已损坏或不是 JSON 文件）",
                   "The JSON file is not UTF-8 (damaged, or not a JSON file?)") from None
    try:
        doc = json.loads(text)
    except RecursionError:
        raise _err("JSON 嵌套层数过深，拒绝读取", "The JSON is nested too deeply; refused") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise _err(f"不是有效的 JSON 文件（第 {line} 行附近出错，文件可能不完整或已损坏）" if line else "不是有效的 JSON 文件",
                   f"Not a valid JSON file ({exc}); it may be truncated or damaged") from None
    bad = checked.unstorable(doc, text)
    if bad is not None:
        raise _err(f"{bad.path}：{bad.zh}", f"{bad.path}: {bad.en}")
    return doc


def _check_group_name(name: str, j: _J, key: str = "name") -> str:
    name = name.strip()
    if not name:
        raise j.fail("分组名不能为空", "a group name cannot be empty", key)
    if "/" in name:
        raise j.fail("分组名不能包含“/”", "a group name cannot contain '/'", key)
    if len(name) > MAX_GROUP_NAME:
        raise j.fail(f"分组名最多 {MAX_GROUP_NAME} 字", f"a group name has at most {MAX_GROUP_NAME} characters", key)
    return name


def _reply_fields(j: _J, *, strict: bool) -> dict[str, Any]:
    """Fields shared by both JSON formats. strict: every key must be present (our export)."""
    where_zh = where_en = j.where
    body = _check_body(j.get("body", str), where_zh, where_en, j.row)
    title = j.get("title", str, required=strict, default="")
    if "\x00" in title:
        raise j.fail("标题含有非法字符（NUL）", "the title contains a NUL character", "title")
    code = _check_code(j.get("code", str, nullable=True, required=strict), where_zh, where_en, j.row)
    language = j.get("language", str, required=strict, default="zh")
    if not replies.LANG_RE.match(language):
        raise j.fail(f"语言代码“{language[:20]}”无效", f"invalid language code '{language[:20]}'", "language")
    platforms = j.get("platforms", list, required=strict, default=[])
    clean: list[str] = []
    for tag in platforms:
        if not isinstance(tag, str) or not replies.PLATFORM_RE.match(tag.strip().lower()):
            raise j.fail(f"平台标签“{str(tag)[:30]}”无效", f"invalid platform tag '{str(tag)[:30]}'", "platforms")
        if tag.strip().lower() not in clean:
            clean.append(tag.strip().lower())
    angle = j.get("angle", str, nullable=True, required=strict)
    if angle is not None and angle not in replies.ANGLES:
        raise j.fail(f"催单角度“{angle[:20]}”无效，可选：{'、'.join(replies.ANGLES)}",
                     f"invalid chase angle '{angle[:20]}'; one of {', '.join(replies.ANGLES)}", "angle")
    return {"body": body, "title": title, "code": code, "language": language, "platforms": clean, "angle": angle}


def _parse_replies_json(data: dict, top: _J) -> _FileData:
    version = top.get("version", int)
    if version != JSON_VERSION:
        raise top.fail(f"不支持的版本 {version}（本软件只认识版本 {JSON_VERSION}，请升级软件）",
                       f"unsupported version {version} (this app reads version {JSON_VERSION}; update the app)",
                       "version")
    top.timestamp("exported_at")
    groups_raw = top.get("groups", list)
    replies_raw = top.get("replies", list)
    if len(replies_raw) > MAX_ROWS:
        raise _err(f"文件超过 {MAX_ROWS} 条快捷短语，请分成几个文件导入",
                   f"The file holds more than {MAX_ROWS} replies; split it into several files")
    specs: dict[str, _GroupSpec] = {}
    parents: dict[str, str | None] = {}
    names: set[tuple[str | None, str]] = set()
    for i, g in enumerate(groups_raw):
        j = _J(g, f"groups[{i}]", None)
        gid = j.uuid("uuid")
        assert gid is not None
        if gid in specs:
            raise j.fail(f"分组 ID {gid} 重复", f"duplicate group id {gid}", "uuid")
        name = _check_group_name(j.get("name", str), j)
        parent = j.uuid("parent", nullable=True)
        position = j.get("position", int)
        if not -MAX_COUNT <= position <= MAX_COUNT:
            raise j.fail(f"应在 {-MAX_COUNT} 到 {MAX_COUNT} 之间", f"must be from {-MAX_COUNT} to {MAX_COUNT}", "position")
        if (parent, name) in names:
            raise j.fail(f"同一层中有两个名为“{name}”的分组", f"two groups named '{name}' at the same level", "name")
        names.add((parent, name))
        specs[gid] = _GroupSpec(key=gid, name=name, parent=parent, uuid=gid, position=position)
        parents[gid] = parent
    for i, spec in enumerate(specs.values()):
        if spec.parent is None:
            continue
        j = _J({}, f"groups[{i}]", None)
        if spec.parent not in specs:
            raise j.fail(f"上级分组 {spec.parent} 不在文件中", f"parent group {spec.parent} is not in the file", "parent")
        if parents[spec.parent] is not None:
            raise j.fail("分组最多两层：上级分组本身也是子分组", "groups nest one level only: the parent is a sub-group",
                         "parent")
    ordered = sorted(specs.values(), key=lambda s: (s.parent is not None, s.position or 0))
    groups = {s.key: s for s in ordered}

    items: list[ImportItem] = []
    for i, r in enumerate(replies_raw):
        where = f"replies[{i}]"
        j = _J(r, where, i)
        reply_uuid = j.uuid("uuid")
        group = j.uuid("group")
        if group not in groups:
            raise j.fail(f"分组 {group} 不在文件的 groups 中", f"group {group} is not in the file's groups", "group")
        values = _reply_fields(j, strict=True)
        hotkey = j.get("hotkey", str, nullable=True)
        if hotkey is not None and hotkey.strip():
            try:
                hotkey = hotkeys.normalize(hotkey)
            except ValidationError as exc:
                raise ImportFileError(f"{where}：{exc.zh}", f"{where}: {exc.en}", row=i) from exc
        else:
            hotkey = None
        position = j.get("position", int)
        if not -MAX_COUNT <= position <= MAX_COUNT:
            raise j.fail(f"应在 {-MAX_COUNT} 到 {MAX_COUNT} 之间", f"must be from {-MAX_COUNT} to {MAX_COUNT}", "position")
        use_count = j.get("use_count", int)
        if use_count < 0:
            raise j.fail("不能为负数", "cannot be negative", "use_count")
        if use_count > MAX_COUNT:
            raise j.fail(f"应在 0 到 {MAX_COUNT} 之间", f"must be from 0 to {MAX_COUNT}", "use_count")
        items.append(ImportItem(
            row=i, where_zh=where, where_en=where, group_path="", title=values["title"] or _derived_title(values["body"]),
            code=values["code"], body=values["body"], uuid=reply_uuid, language=values["language"],
            platforms=values["platforms"], hotkey=hotkey, angle=values["angle"], position=position,
            created_at=j.timestamp("created_at"), updated_at=j.timestamp("updated_at"), use_count=use_count,
            last_used_at=j.timestamp("last_used_at", nullable=True), group_key=group or "", title_given=True))
    if not items:
        raise _empty()
    return _FileData(JSON, "json", groups, items)


def _parse_library_json(data: dict, top: _J) -> _FileData:
    version = top.get("version", int)
    if version != JSON_VERSION:
        raise top.fail(f"不支持的版本 {version}", f"unsupported version {version}", "version")
    groups: dict[str, _GroupSpec] = {}
    items: list[ImportItem] = []

    def read_replies(j: _J, key: str, path: str) -> None:
        for k, r in enumerate(j.get("replies", list, required=False, default=[])):
            where = f"{j.where}.replies[{k}]"
            rj = _J(r, where, len(items))
            values = _reply_fields(rj, strict=False)
            if len(items) >= MAX_ROWS:
                raise _err(f"文件超过 {MAX_ROWS} 条快捷短语", f"The file holds more than {MAX_ROWS} replies")
            items.append(ImportItem(
                row=len(items), where_zh=where, where_en=where, group_path=path,
                title=values["title"].strip() or _derived_title(values["body"]), code=values["code"],
                body=values["body"], language=values["language"], platforms=values["platforms"],
                angle=values["angle"], group_key=key, title_given=bool(values["title"].strip())))

    for i, g in enumerate(top.get("groups", list)):
        gj = _J(g, f"groups[{i}]", None)
        name = _check_group_name(gj.get("name", str), gj)
        key = "l:" + name
        if key in groups:
            raise gj.fail(f"有两个名为“{name}”的分组", f"two groups named '{name}'", "name")
        groups[key] = _GroupSpec(key=key, name=name)
        read_replies(gj, key, name)
        for c, child in enumerate(gj.get("children", list, required=False, default=[])):
            cj = _J(child, f"groups[{i}].children[{c}]", None)
            cname = _check_group_name(cj.get("name", str), cj)
            ckey = f"l:{name}/{cname}"
            if ckey in groups:
                raise cj.fail(f"有两个名为“{cname}”的子分组", f"two sub-groups named '{cname}'", "name")
            groups[ckey] = _GroupSpec(key=ckey, name=cname, parent=key)
            read_replies(cj, ckey, f"{name}/{cname}")
    if not items:
        raise _empty()
    return _FileData(JSON, "library", groups, items)


def _parse_json(path: Path) -> _FileData:
    data = _load_json(path)
    if not isinstance(data, dict):
        raise _err("JSON 文件的最外层应为对象 {…}，不是本软件导出的快捷短语文件",
                   "The JSON's top level must be an object {…}; not a kefu-assistant replies file")
    top = _J(data, "$", None)
    kind = data.get("format")
    if kind == JSON_FORMAT:
        return _parse_replies_json(data, top)
    if kind == LIBRARY_FORMAT:
        return _parse_library_json(data, top)
    shown = str(kind)[:60] if kind is not None else "（无）"
    raise _err(f"不是本软件导出的快捷短语文件（format 为“{shown}”，应为“{JSON_FORMAT}”）",
               f"Not a kefu-assistant replies file (format is '{shown}', expected '{JSON_FORMAT}')")


def _parse(path: Path, format: str | None) -> _FileData:
    fmt = _resolve_format(path, format)
    if fmt == QIANNU_CSV:
        return _parse_csv(path)
    if fmt == QIANNU_XLSX:
        head = _read_bytes(path, 8)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise _old_excel()
        if not head.startswith(b"PK"):
            raise _err("不是有效的 xlsx 文件（文件内容不是 zip 压缩包，可能已损坏或被改了扩展名）",
                       "Not a valid .xlsx file (its content is not a zip archive; damaged or renamed?)")
        return _parse_xlsx(path)
    return _parse_json(path)


# ---------------------------------------------------------------- planning


class _Ticker:
    """Calls progress(done, total) about 100 times at most, and always for the last step."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.step = max(1, math.ceil(total / 100))

    def __call__(self, done: int) -> None:
        if self.progress is not None and (done % self.step == 0 or done == self.total):
            self.progress(done, self.total)


def _body_key(body: str) -> str:
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def _resolve_groups(store: Store | None, data: _FileData) -> dict[str, _Target]:
    existing = replies.list_groups(store) if store is not None else []
    by_uuid = {g.uuid: g for g in existing}
    by_id = {g.id: g for g in existing}
    top_by_name = {g.name: g for g in existing if g.parent_id is None}
    child_by_name = {(g.parent_id, g.name): g for g in existing if g.parent_id is not None}
    flat = {f"{by_id[g.parent_id].name}-{g.name}": g for g in existing
            if g.parent_id is not None and g.parent_id in by_id}
    out: dict[str, _Target] = {}
    for spec in data.groups.values():
        parent = out[spec.parent] if spec.parent else None
        g = by_uuid.get(spec.uuid) if spec.uuid else None
        if g is None:
            if parent is None:
                g = top_by_name.get(spec.name)
            elif parent.id is not None:
                g = child_by_name.get((parent.id, spec.name))
        if g is None and spec.flat:
            g = flat.get(spec.flat)
        if g is not None:
            out[spec.key] = _Target(g.id, g.uuid, g.path)
        else:
            out[spec.key] = _Target(None, spec.uuid, f"{parent.path}/{spec.name}" if parent else spec.name)
    return out


def _skip(plan: ImportPlan, item: ImportItem, zh: str, en: str, existing: replies.Reply | None = None) -> None:
    item.reason_zh, item.reason_en = zh, en
    item.existing = existing
    plan.skipped.append(item)


def _make_plan(store: Store | None, data: _FileData, path: Path, replace: bool,
               progress: Progress | None = None) -> tuple[ImportPlan, dict[str, _Target], set[str]]:
    """The plan, each file group's target, and the file groups the import needs (the rest is not created)."""
    targets = _resolve_groups(store, data)
    plan = ImportPlan(path=str(path), format=data.format, replace=replace, items=data.items)
    existing = replies.list_replies(store) if store is not None else []
    by_uuid = {r.uuid: r for r in existing}
    by_code = {r.code.lower(): r for r in existing if r.code}
    by_body: dict[tuple[int, str], replies.Reply] = {}
    for r in existing:
        by_body.setdefault((r.group_id, _body_key(r.body)), r)
    by_hotkey = {r.hotkey: r for r in existing if r.hotkey}
    file_uuids: dict[str, ImportItem] = {}
    file_codes: dict[str, ImportItem] = {}
    file_bodies: dict[tuple[str, str], ImportItem] = {}
    file_hotkeys: dict[str, ImportItem] = {}
    replaced: dict[int, ImportItem] = {}
    is_json = data.kind == "json"
    tick = _Ticker(progress, len(data.items))
    tick(0)

    for n, item in enumerate(data.items, start=1):
        item.reason_zh = item.reason_en = item.warning_zh = item.warning_en = ""
        item.existing, item.hotkey_dropped = None, False
        target = targets[item.group_key]
        item.group_path = target.path
        code_key = item.code.lower() if item.code else None
        body_key = (item.group_key, _body_key(item.body))
        # 1. duplicates within the file (against rows already accepted)
        earlier = (file_uuids.get(item.uuid) if item.uuid else None) or \
            (file_codes.get(code_key) if code_key else None) or \
            (None if is_json else file_bodies.get(body_key))
        if earlier is not None:
            what_zh, what_en = ("ID", "id") if item.uuid and earlier.uuid == item.uuid else \
                ("短码", "short code") if code_key and earlier.code and earlier.code.lower() == code_key else \
                ("分组和内容", "group and text")
            _skip(plan, item, f"与文件中{earlier.where_zh}重复（{what_zh}相同）",
                  f"duplicate of {earlier.where_en} in the file (same {what_en})")
            tick(n)
            continue
        # 2. clashes with the library
        match, why = None, ""
        if item.uuid and item.uuid in by_uuid:
            match, why = by_uuid[item.uuid], "uuid"
        elif code_key and code_key in by_code:
            match, why = by_code[code_key], "code"
        elif target.id is not None and (target.id, body_key[1]) in by_body:
            match, why = by_body[(target.id, body_key[1])], "body"
        if match is not None:
            if why == "uuid":
                zh, en = f"库中已有同一条回复（ID 相同）：“{match.title}”", f"the library already holds this reply (same id): '{match.title}'"
            elif why == "code":
                zh, en = (f"短码“{item.code}”已被回复“{match.title}”使用",
                          f"short code '{item.code}' is already used by '{match.title}'")
            else:
                zh, en = (f"分组“{match.group_path}”中已有相同内容的回复“{match.title}”",
                          f"group '{match.group_path}' already holds the same text: '{match.title}'")
            if not replace:
                _skip(plan, item, zh, en, match)
                tick(n)
                continue
            if match.id in replaced:
                other = replaced[match.id]
                _skip(plan, item, f"{zh}；该回复已由{other.where_zh}替换", f"{en}; {other.where_en} already replaces it",
                      match)
                tick(n)
                continue
            holder = by_code.get(code_key) if code_key else None
            if holder is not None and holder.id != match.id:
                _skip(plan, item, f"{zh}；但短码“{item.code}”属于另一条回复“{holder.title}”，无法替换",
                      f"{en}; but short code '{item.code}' belongs to another reply '{holder.title}', cannot replace",
                      match)
                tick(n)
                continue
            item.reason_zh, item.reason_en, item.existing = f"将替换：{zh}", f"replaces: {en}", match
            replaced[match.id] = item
            plan.to_replace.append(item)
        else:
            plan.to_add.append(item)
        # 3. hotkeys (JSON only): a taken hotkey is dropped, the reply still imported
        if item.hotkey:
            owner_zh = owner_en = ""
            if item.hotkey in file_hotkeys:
                owner_zh, owner_en = file_hotkeys[item.hotkey].where_zh, file_hotkeys[item.hotkey].where_en
            else:
                holder = by_hotkey.get(item.hotkey)
                if holder is not None and (match is None or holder.id != match.id):
                    owner_zh, owner_en = f"回复：{holder.title}", f"reply: {holder.title}"
                elif holder is None and store is not None:
                    owner = replies.hotkey_owner(store, item.hotkey, exclude_reply=match.id if match else None)
                    if owner:
                        owner_zh, owner_en = owner
            if owner_zh:
                item.warning_zh = f"快捷键 {item.hotkey} 已被“{owner_zh}”使用，未导入该快捷键"
                item.warning_en = f"hotkey {item.hotkey} is already used by '{owner_en}'; imported without it"
                item.hotkey_dropped = True
                plan.warnings.append(item)
            else:
                file_hotkeys[item.hotkey] = item
        if item.uuid:
            file_uuids[item.uuid] = item
        if code_key:
            file_codes[code_key] = item
        file_bodies.setdefault(body_key, item)
        tick(n)
    if data.kind == "json":  # our export keeps empty groups too
        needed = set(data.groups)
    else:
        needed = {i.group_key for i in plan.to_add + plan.to_replace}
        needed |= {p for p in (data.groups[k].parent for k in needed) if p}
    plan.new_groups = [targets[k].path for k in data.groups if k in needed and targets[k].id is None]
    return plan, targets, needed


# ---------------------------------------------------------------- public import API


def read_file(path: Path | str, format: str | None = None, *, keep_braces: bool = False) -> ImportPlan:
    """Parse and validate a file without touching any store: the plan against an empty library."""
    path = Path(path)
    data = _parse(path, format)
    escaped = _check_fields(data, keep_braces)
    plan, _, _ = _make_plan(None, data, path, replace=False)
    plan.braces_escaped = escaped
    return plan


def plan_import(store: Store, path: Path | str, *, replace: bool = False, format: str | None = None,
                progress: Progress | None = None, keep_braces: bool = False) -> ImportPlan:
    """The preview: what import_file would add, replace and skip. Writes nothing."""
    path = Path(path)
    data = _parse(path, format)
    escaped = _check_fields(data, keep_braces)
    plan, _, _ = _make_plan(store, data, path, replace, progress)
    plan.braces_escaped = escaped
    return plan


def _create_groups(store: Store, db: Any, data: _FileData, targets: dict[str, _Target], needed: set[str]) -> int:
    created = 0
    new_json = [s for s in data.groups.values() if targets[s.key].id is None and s.uuid and s.key in needed]
    fresh = not store.query("SELECT 1 FROM groups LIMIT 1")
    base = store.query("SELECT IFNULL(max(position), -1) + 1 AS p FROM groups")[0]["p"]
    rank = {s.key: i for i, s in enumerate(sorted(new_json, key=lambda s: s.position or 0))}
    now = to_db(store.clock.now())
    for spec in data.groups.values():
        target = targets[spec.key]
        if target.id is not None or spec.key not in needed:
            continue
        parent = targets[spec.parent] if spec.parent else None
        if spec.uuid:
            position = spec.position if fresh else base + rank[spec.key]
            db.execute("INSERT INTO groups (uuid, name, parent_id, position, created_at, updated_at) "
                       "VALUES (?,?,?,?,?,?)", (spec.uuid, spec.name, parent.id if parent else None, position, now, now))
            target.id = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        else:
            target.id = replies.ensure_group_path(store, target.path.split("/") if parent else [spec.name])
            target.uuid = store.query("SELECT uuid FROM groups WHERE id = ?", (target.id,))[0]["uuid"]
        created += 1
    return created


@dataclass
class _Op:
    """One add or replace with its checked values, ready for the write transaction."""

    kind: str  # "add" | "replace"
    item: ImportItem
    fields: dict[str, Any]  # normalised reply columns (replies.normalize_fields)
    title: str  # the title the reply ends up with (indexed before the transaction)
    body: str


def _ops(plan: ImportPlan, data: _FileData) -> list[_Op]:
    """The plan's adds and replaces with their values checked and normalised: no store needed, so
    this runs before the write transaction. A bad value raises ImportFileError naming its row."""
    todo = [("add", i) for i in plan.to_add] + [("replace", i) for i in plan.to_replace]
    if data.kind == "json":  # keep the file's order inside each group
        todo.sort(key=lambda op: (op[0] != "add", op[1].position or 0))
    ops: list[_Op] = []
    for kind, item in todo:
        if kind == "add":
            changes: dict[str, Any] = {
                "body": item.body, "title": item.title if item.title_given else "", "code": item.code,
                "language": item.language, "platforms": item.platforms,
                "hotkey": None if item.hotkey_dropped else item.hotkey, "angle": item.angle}
        else:
            assert item.existing is not None
            changes = {"body": item.body}
            if item.title_given:
                changes["title"] = item.title
            elif _body_key(item.body) != _body_key(item.existing.body):
                changes["title"] = ""  # derived again from the new text
            if item.code or data.kind != "qianniu":
                changes["code"] = item.code
            if data.kind in ("json", "library"):
                changes.update(language=item.language, platforms=item.platforms, angle=item.angle)
            if data.kind == "json" and not item.hotkey_dropped:
                changes["hotkey"] = item.hotkey
        try:
            fields = replies.normalize_fields(changes)
        except ValidationError as exc:
            raise _row_failed(item, exc) from exc
        title = fields.get("title", item.existing.title if item.existing is not None else "")
        ops.append(_Op(kind, item, fields, title, fields["body"]))
    return ops


def _row_failed(item: ImportItem, exc: KnownError) -> ImportFileError:
    return ImportFileError(f"{item.where_zh}：{exc.zh}（未导入任何内容）",
                           f"{item.where_en}: {exc.en} (nothing was imported)", row=item.row)


def _stamp(store: Store) -> tuple[int, int]:
    """Changes when anything commits to the database: another connection (data_version) or ours."""
    return store.data_version(), store.conn.total_changes


def _write_ops(store: Store, db: Any, ops: list[_Op], targets: dict[str, _Target], new_group_ids: set[str],
               prepared: search.Prepared, tick: _Ticker) -> None:
    """Inside the write transaction: per row, the checks that read the store (short code, hotkey,
    id already taken: rows written just before count too) and the insert or update; then every
    index row at once from the analysis made before the transaction."""
    now = to_db(store.clock.now())
    conn = store.conn
    next_position = {gid: p for gid, p in conn.execute(
        "SELECT group_id, max(position) + 1 FROM replies GROUP BY group_id")}
    to_index: list[tuple[int, str, str, int, bool]] = []
    for n, op in enumerate(ops, start=1):
        item, fields = op.item, op.fields
        target_id = targets[item.group_key].id
        assert target_id is not None
        try:
            replies.check_unique(store, fields, item.existing.id if op.kind == "replace" and item.existing else None)
            if op.kind == "add":
                reply_uuid = item.uuid or str(uuidlib.uuid4())
                if item.uuid and conn.execute("SELECT 1 FROM replies WHERE uuid = ?", (reply_uuid,)).fetchone():
                    raise ValidationError(f"已存在 ID 为 {reply_uuid} 的回复", f"A reply with id {reply_uuid} exists")
                position = next_position.get(target_id, 0)
                if item.position is not None and item.group_key in new_group_ids:
                    position = item.position  # a group new from our JSON: the file's order
                cur = conn.execute(
                    "INSERT INTO replies (uuid, group_id, title, body, code, language, platforms, hotkey, angle, "
                    "position, created_at, updated_at, use_count, last_used_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (reply_uuid, target_id, fields["title"], fields["body"], fields["code"], fields["language"],
                     fields["platforms"], fields["hotkey"], fields["angle"], position, item.created_at or now,
                     item.updated_at or now, int(item.use_count or 0), item.last_used_at))
                next_position[target_id] = max(next_position.get(target_id, 0), position + 1)
                to_index.append((cur.lastrowid, op.title, op.body, target_id, bool(item.use_count)))
            else:
                assert item.existing is not None
                values = {**fields, "group_id": target_id, "updated_at": now}
                db.execute(f"UPDATE replies SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                           (*values.values(), item.existing.id))
                to_index.append((item.existing.id, op.title, op.body, target_id, bool(item.existing.use_count)))
        except (ValidationError, NotFoundError) as exc:
            raise _row_failed(item, exc) from exc
        tick(n)
    analysed = search.index_prepared(store, to_index, prepared)
    if analysed:
        log.info("import: %d texts changed after indexing; analysed inside the transaction", analysed)


def import_file(store: Store, path: Path | str, *, replace: bool = False, format: str | None = None,
                progress: Progress | None = None, phases: Phases | None = None,
                keep_braces: bool = False) -> ImportResult:
    """Import all or nothing. progress(done, total) follows the writing of replies; phases(name,
    done, total) every phase: "reading" the file, "indexing" (jieba and pypinyin), "writing".
    keep_braces: braces in Qianniu phrases that are no fill-in field are kept as literal text (else
    they stop the import with ImportBracesError).

    Only the writing holds the database's write lock: the file is read, checked, planned and indexed
    before it, and the transaction plans again only if something was committed meanwhile (texts
    that then differ are indexed inside it). A 30k-row file holds the lock for seconds instead of
    the whole import (tests/benchmarks/bench_import.py)."""
    path = Path(path)

    def phase(name: str, done: int = 0, total: int = 0) -> None:
        if phases is not None:
            phases(name, done, total)

    phase("reading")
    data = _parse(path, format)
    escaped = _check_fields(data, keep_braces)
    phase("reading", len(data.items), len(data.items))
    stamp = _stamp(store)
    plan, targets, needed = _make_plan(store, data, path, replace)
    ops = _ops(plan, data)
    phase("indexing", 0, len(ops))
    step = max(1, len(ops) // 100)
    prepared = search.prepare_texts(store, [(op.title, op.body) for op in ops],
                                    lambda done, total: (done % step == 0 or done == total)
                                    and phase("indexing", done, total))
    with holder.marked(store.path):
        with store.write() as db:
            if _stamp(store) != stamp:  # another program wrote since the plan: plan again, under the lock
                log.info("import: the library changed while indexing; planning again")
                plan, targets, needed = _make_plan(store, data, path, replace)
                ops = _ops(plan, data)
            phase("writing", 0, len(ops))
            new_group_ids = {k for k, t in targets.items() if t.id is None}
            groups_created = _create_groups(store, db, data, targets, needed)

            def ticked(done: int, total: int) -> None:
                if progress is not None:
                    progress(done, total)
                phase("writing", done, total)

            tick = _Ticker(ticked, len(ops))
            tick(0)
            _write_ops(store, db, ops, targets, new_group_ids, prepared, tick)
        if ops:
            # The transaction went through the WAL: give its space back now, not at the next reset.
            store.checkpoint()
    log.info("imported %s: %d added, %d replaced, %d skipped, %d groups created", path.name, len(plan.to_add),
             len(plan.to_replace), len(plan.skipped), groups_created)
    return ImportResult(added=len(plan.to_add), replaced=len(plan.to_replace), skipped=len(plan.skipped),
                        skipped_items=plan.skipped, warnings=plan.warnings, groups_created=groups_created,
                        braces_escaped=escaped)


# ---------------------------------------------------------------- export


def _export_format(path: Path, format: str | None) -> str:
    if format is not None:
        if format not in FORMATS:
            raise KnownError(f"未知的格式“{format}”，可选：{'、'.join(FORMATS)}",
                             f"Unknown format '{format}'; one of {', '.join(FORMATS)}")
        return format
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise KnownError(f"无法从扩展名判断导出格式：{path.name}（请用 .csv、.xlsx 或 .json）",
                         f"Cannot tell the export format from the name {path.name} (use .csv, .xlsx or .json)")
    return fmt


def _ordered_replies(store: Store, group: str | int | None) -> tuple[list[replies.Reply], list[replies.Group]]:
    all_groups = replies.list_groups(store)
    if group in (None, ""):
        chosen = all_groups
    else:
        g = replies.get_group(store, group)  # type: ignore[arg-type]
        ids = {g.id, g.parent_id} | {c.id for c in all_groups if c.parent_id == g.id}
        chosen = [x for x in all_groups if x.id in ids]
    order = {g.id: i for i, g in enumerate(all_groups)}
    items = replies.list_replies(store) if group in (None, "") else replies.list_replies(store, group)
    items.sort(key=lambda r: (order.get(r.group_id, 1 << 30), r.position, r.id))
    return items, chosen


@contextlib.contextmanager
def _atomic_target(path: Path) -> Iterator[Path]:
    """Write to a temporary file next to path, then move it into place: never a half-written file."""
    try:
        private.make_dirs(path.parent)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise KnownError(f"无法写入文件：{path}（{exc.strerror}）", f"Cannot write {path} ({exc.strerror})") from exc
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise KnownError(f"无法写入文件：{path}（{exc.strerror}）", f"Cannot write {path} ({exc.strerror})") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _qianniu_row(reply: replies.Reply) -> list[str]:
    return [_encode_cell(reply.code or ""), _encode_cell(reply.body), _encode_cell(reply.group_path.replace("/", "-"))]


def export_file(store: Store, path: Path | str, *, format: str | None = None, group: str | int | None = None,
                progress: Progress | None = None) -> int:
    """Write the library (or one group with its sub-groups) to path; returns the number of replies."""
    path = Path(path)
    fmt = _export_format(path, format)
    items, groups = _ordered_replies(store, group)
    tick = _Ticker(progress, len(items))
    tick(0)
    with _atomic_target(path) as tmp:
        if fmt == QIANNU_CSV:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\r\n")
                writer.writerow(EXPORT_HEADER)
                for n, reply in enumerate(items, start=1):
                    writer.writerow([_csv_neutralise(cell) for cell in _qianniu_row(reply)])
                    tick(n)
        elif fmt == QIANNU_XLSX:
            _write_xlsx(tmp, items, tick)
        else:
            _write_json(store, tmp, items, groups, tick)
    return len(items)


def _write_xlsx(tmp: Path, items: list[replies.Reply], tick: _Ticker) -> None:
    import openpyxl  # noqa: PLC0415
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("快捷短语")
    stripped = 0

    def text_cell(value: str) -> WriteOnlyCell:
        nonlocal stripped
        clean = _XML_ILLEGAL.sub("", value)
        stripped += clean != value
        cell = WriteOnlyCell(ws, value=clean)
        cell.data_type = "s"  # always text, never a formula
        return cell

    ws.append([text_cell(h) for h in EXPORT_HEADER])
    for n, reply in enumerate(items, start=1):
        ws.append([text_cell(v) for v in _qianniu_row(reply)])
        tick(n)
    if stripped:
        log.warning("xlsx export: removed control characters XML cannot hold from %d cells", stripped)
    wb.save(tmp)


def _write_json(store: Store, tmp: Path, items: list[replies.Reply], groups: list[replies.Group],
                tick: _Ticker) -> None:
    uuid_of = {g.id: g.uuid for g in replies.list_groups(store)}
    doc = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "exported_at": to_db(store.clock.now()),
        "groups": [{"uuid": g.uuid, "name": g.name, "parent": uuid_of.get(g.parent_id) if g.parent_id else None,
                    "position": g.position} for g in groups],
        "replies": [],
    }
    for n, r in enumerate(items, start=1):
        doc["replies"].append({
            "uuid": r.uuid, "group": uuid_of[r.group_id], "title": r.title, "body": r.body, "code": r.code,
            "language": r.language, "platforms": r.platforms, "hotkey": r.hotkey, "angle": r.angle,
            "position": r.position, "created_at": r.created_at, "updated_at": r.updated_at,
            "use_count": r.use_count, "last_used_at": r.last_used_at})
        tick(n)
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


__all__ = ["FORMATS", "ImportItem", "ImportPlan", "ImportResult", "detect_format", "export_file", "import_file",
           "neutralise", "plan_import", "read_file", "unneutralise"]
