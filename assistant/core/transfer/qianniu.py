"""Qianniu (千牛) quick-phrase files: cells, CSV and XLSX parsing."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ...errors import (
    ImportBracesError,
    ImportFileError,
    ValidationError,
)
from .. import replies, templates
from ..fileio import reading
from ..fileio.cells import csv_unneutralise, neutralise, unneutralise
from . import common
from .common import (
    _ENTITY_CHARS,
    _ENTITY_RE,
    _LITERAL_ENTITY_RE,
    CODE_HEADERS,
    EXCEL_MAX_ROW,
    EXPECTED_HEADER,
    GROUP_HEADER,
    MAX_GROUP_NAME,
    QIANNU_CSV,
    QIANNU_XLSX,
    TEXT_HEADER,
    XLSX_MAX_COLUMNS,
    XLSX_MAX_SHEETS,
    ImportItem,
    _check_body,
    _check_code,
    _Empty,
    _empty,
    _err,
    _fail,
    _FileData,
    _GroupSpec,
    _NoHeader,
    _read_bytes,
    _row_err,
)


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


def _decode_cell(text: str) -> str:
    text = unneutralise(text)
    if "&#" in text:
        text = _ENTITY_RE.sub(lambda m: _ENTITY_CHARS[m.group(0)], text)
    return text


def _escape_entities(text: str) -> str:
    """A text that happens to hold "&#44;" survives the import (_decode_cell decodes the escapes)."""
    return _LITERAL_ENTITY_RE.sub("&#38;#", text) if "&#" in text else text


def _encode_cell(text: str) -> str:
    """The exact inverse of _decode_cell (CSV: the apostrophe is in the text)."""
    return neutralise(_escape_entities(text))


def qianniu_row(reply: replies.Reply, encode: Callable[[str], str] = _encode_cell) -> list[str]:
    """(code, text, group) as exported; XLSX passes _escape_entities (its quoting is a cell style)."""
    return [encode(reply.code or ""), encode(reply.body), encode(reply.group_path.replace("/", "-"))]


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
            item.title, item.title_given = replies.derived_title(item.body), True
            item.body, n = templates.escape_unknown(item.body)
            escaped += n
    return escaped


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
        if len(items) >= common.MAX_ROWS:
            raise _err(f"文件超过 {common.MAX_ROWS} 条快捷短语，请分成几个文件导入",
                       f"The file holds more than {common.MAX_ROWS} replies; split it into several files")

        text, code_cell, group_cell = (_column(cells, cols, k) for k in ("text", "code", "group"))
        where_zh, where_en = f"第 {row} 行", f"row {row}"
        body = _check_body(text, where_zh, f"Row {row}", row, fields=False)  # _check_fields, after parsing
        code = _check_code(code_cell, where_zh, f"Row {row}", row)
        name, raw_group = _group_name(group_cell, row)
        key = "q:" + name
        if key not in groups:
            groups[key] = _GroupSpec(key=key, name=name, flat=raw_group or None)
        items.append(ImportItem(row=row, where_zh=where_zh, where_en=where_en, group_path=name,
                                title=replies.derived_title(body), code=code, body=body, group_key=key))
    if cols is None or not items:
        raise _empty()
    return _FileData(fmt, "qianniu", groups, items)


def _parse_csv(path: Path) -> _FileData:
    text = reading.decode_text(_read_bytes(path), _fail)
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
            yield row, [csv_unneutralise(c) for c in cells]

    return _parse_qianniu(rows(), QIANNU_CSV, ragged_check=True)


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: NotImplementedError for an unknown zip version too
        raise _err("不是有效的 xlsx 文件（压缩包已损坏或不完整）",
                   f"Not a valid .xlsx file (damaged or incomplete zip archive: {exc})") from exc
    if len(infos) > common.MAX_ZIP_ENTRIES:
        raise _err(f"xlsx 文件中有 {len(infos):,} 个内部文件（最多 {common.MAX_ZIP_ENTRIES:,} 个），拒绝读取（可能是压缩炸弹）",
                   f"The .xlsx holds {len(infos):,} internal files (at most {common.MAX_ZIP_ENTRIES:,}); refused (zip bomb?)")
    total = sum(i.file_size for i in infos)
    if total > common.MAX_UNZIPPED_TOTAL or any(i.file_size > common.MAX_UNZIPPED_MEMBER for i in infos):
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


# OOXML escapes inside cell text, read left to right: "_x000D_" is Excel's carriage return (a line
# break here, with or without the LF after it) and "_x005F_" an escaped "_", which writers put before
# a literal "_xHHHH_" (fileio/xlsx.py does). openpyxl resolves "_x005F_" in shared strings itself,
# not in inline strings (ours): both end up right. Other _xHHHH_ stay as read, as before.
_OOXML_ESCAPE = re.compile(r"_x(005[Ff]|000[Dd])_(\n?)")


def _unescape(match: re.Match[str]) -> str:
    return "_" + match.group(2) if match.group(1) in ("005F", "005f") else "\n"


def _xlsx_cell(value: Any) -> str:
    text = _cell_text(value)
    return _OOXML_ESCAPE.sub(_unescape, text) if "_x" in text else text


def _xlsx_text(cell: Any) -> str:
    text = _xlsx_cell(cell.value)
    if text and isinstance(cell.value, str) and cell.style_array.quotePrefix:
        # Shown and kept as typed: give it the apostrophe a CSV cell carries, which _decode_cell
        # takes away again, so both files import alike (and an old export's apostrophes still go).
        text = neutralise(text)
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
    from openpyxl.cell.read_only import EMPTY_CELL  # noqa: PLC0415
    try:
        header_error: ImportFileError | None = None
        for ws in wb.worksheets[:XLSX_MAX_SHEETS]:
            def rows(ws: Any = ws) -> Iterator[tuple[int, list[Any]]]:
                # Cells, not values: the style tells a quotePrefix cell (text as typed, our export's
                # quoting) from one holding a literal apostrophe.
                # Read-only mode yields a filler row for every row missing between two stored rows: a
                # 2.5 KB file with one cell at row 1,048,576 gives a million of them. They are one and
                # the same tuple: skipping it by identity keeps that to ~0.3 s (converting each took 15 s).
                filler = None
                for row, cells in enumerate(ws.iter_rows(min_row=1, max_row=EXCEL_MAX_ROW, max_col=XLSX_MAX_COLUMNS),
                                            start=1):
                    if cells is filler:
                        continue
                    if all(c is EMPTY_CELL for c in cells):
                        filler = cells
                        continue
                    yield row, [_xlsx_text(c) for c in cells]
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
