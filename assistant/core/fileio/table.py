"""Reading a sheet a shop keeps (CSV UTF-8/GBK, tab-separated text, or the first sheet of an XLSX):
rows of cell texts, for the product sheet (core/products.py) and the order export (core/orders.py).

Every function takes fail(zh, en) -> Exception, like reading.py. Formula neutralising a kefu export
added (a leading ' or the CSV tab) is taken off again.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import reading
from .cells import csv_unneutralise, unneutralise

MAX_ZIP_ENTRIES = 1_000
MAX_UNZIPPED_TOTAL = 200 * 1024 * 1024
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # an id typed as a number
    return str(value)  # a float past 15 digits keeps its exponent: its last digits are gone, say so


def csv_rows(path: Path, limit: int, fail: reading.Fail) -> Iterator[list[str]]:
    text = reading.decode_text(reading.read_bytes(path, limit, fail), fail)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            yield [unneutralise(csv_unneutralise(c)) for c in cells]
    except csv.Error as exc:
        raise fail(f"CSV 格式错误（引号不配对）：{exc}", f"malformed CSV (unbalanced quotes): {exc}") from exc


def xlsx_rows(path: Path, fail: reading.Fail, *, max_rows: int, max_cols: int) -> Iterator[list[str]]:
    import openpyxl  # noqa: PLC0415  (only when needed: ~0.2 s)

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except Exception as exc:  # noqa: BLE001 - untrusted bytes
        raise fail("不是有效的 xlsx 文件（压缩包已损坏或不完整）", "not a valid .xlsx file (damaged zip archive)") from exc
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNZIPPED_TOTAL:
        raise fail("xlsx 文件解压后过大，拒绝读取", "the .xlsx would unpack too large; refused")
    with open(path, "rb") as fh:
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception as exc:  # a parser of untrusted input: any failure means "bad file"
            raise fail("无法读取 xlsx 文件（已损坏，或不是 Excel 工作簿）",
                       "cannot read the .xlsx file (damaged, or not an Excel workbook)") from exc
        try:
            ws = wb.worksheets[0] if wb.worksheets else None
            if ws is None:
                return
            for cells in ws.iter_rows(min_row=1, max_row=max_rows + 1, max_col=max_cols, values_only=True):
                yield [cell_text(v) for v in cells]
        except Exception as exc:  # noqa: BLE001
            raise fail("无法读取 xlsx 文件（内容已损坏）", "cannot read the .xlsx file (damaged content)") from exc
        finally:
            wb.close()


def rows(path: Path, fail: reading.Fail, *, limit: int, max_rows: int, max_cols: int) -> Iterator[list[str]]:
    """The rows of a CSV/TSV or XLSX file, by its extension (anything else: refused)."""
    reading.check_file(path, limit, fail)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return csv_rows(path, limit, fail)
    if suffix in XLSX_SUFFIXES:
        return xlsx_rows(path, fail, max_rows=max_rows, max_cols=max_cols)
    raise fail(f"不支持的文件类型“{suffix or '无扩展名'}”（请用 .csv 或 .xlsx）",
               f"unsupported file type '{suffix or 'no extension'}' (use .csv or .xlsx)")
