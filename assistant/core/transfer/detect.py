"""Which format a file is: from the extension and the first bytes."""

from __future__ import annotations

import contextlib
from pathlib import Path

from .common import (
    FORMATS,
    JSON,
    QIANNU_CSV,
    QIANNU_XLSX,
    TEXT_HEADER,
    _check_file,
    _err,
    _old_excel,
    _read_bytes,
)


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
