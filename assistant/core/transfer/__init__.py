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
leading apostrophe in CSV and the quotePrefix style in XLSX (core/fileio); on import that apostrophe
is removed again exactly when our export would have added it (fileio.cells.needs_quote), and a
quotePrefix cell reads as typed, so export -> import is an exact round trip.
Our JSON ("kefu-assistant.replies", version 1) keeps every field, uuid and timestamp.

Modules: common (formats, limits, the plan's data classes, field checks), detect, qianniu (CSV and
XLSX cells and parsing), jsonfile, plan, importer (read_file, plan_import, import_file), export.
"""

from __future__ import annotations

from ..fileio.cells import neutralise, unneutralise
from .common import (
    EXTENSIONS,
    FORMATS,
    JSON,
    JSON_FORMAT,
    JSON_VERSION,
    LIBRARY_FORMAT,
    MAX_FILE_BYTES,
    MAX_ROWS,
    QIANNU_CSV,
    QIANNU_XLSX,
    XLSX_MAX_COLUMNS,
    ImportItem,
    ImportPlan,
    ImportResult,
    Phases,
    Progress,
)
from .detect import detect_format
from .export import export_file
from .importer import _create_groups, _parse, import_file, plan_import, read_file
from .plan import _make_plan
from .qianniu import _xlsx_cell

__all__ = ["EXTENSIONS", "FORMATS", "JSON", "JSON_FORMAT", "JSON_VERSION", "LIBRARY_FORMAT", "MAX_FILE_BYTES",
           "MAX_ROWS", "QIANNU_CSV", "QIANNU_XLSX", "XLSX_MAX_COLUMNS", "ImportItem", "ImportPlan", "ImportResult",
           "Phases", "Progress", "_create_groups", "_make_plan", "_parse", "_xlsx_cell", "detect_format",
           "export_file", "import_file", "neutralise", "plan_import", "read_file", "unneutralise"]
