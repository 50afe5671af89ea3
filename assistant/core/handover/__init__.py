"""Shift handover (交接班): build the report, render it as HTML / XLSX / JSON, and import the JSON.

Export (the 交班 button, `kefu handover export`)::

    result = export_handover(store, folder, formats=("html", "xlsx", "json"), include_phones=False,
                             end_shift=False, progress=callback)   # callback(done, total), any thread

writes into `folder`: a self-contained HTML report (inline CSS and SVG charts, A4 print layout), an
XLSX workbook (one sheet per section, frozen headers, real dates) and the JSON file the next shift
imports (format "kefu-assistant.handover", version 1). build() returns the document alone and
render_html / render_xlsx / render_json render it, so the UI can preview without writing files.

What goes in: the shift (agent, start, end) and its KPIs (core/kpi.py); every buyer still open --
starred and followed or paused, carrying the 售后中 mark, or with a pending reminder -- with marks,
notes, chase history and pending reminders; the promotions those reminders belong to; the agent's
own log entries of the shift (core/shifts.py).

Privacy: phone numbers and order numbers (core/masking.py: in every text field -- nicknames, shops,
notes, log entries, titles) are masked unless include_phones=True; XLSX text cells that begin with = + - @
(or tab / CR / LF) carry the quotePrefix style (shown as typed, never run; fileio.xlsx); every text in
the HTML is escaped. Nothing about a buyer is logged.

Import (`kefu handover import FILE [--dry-run]`, the 交接 tab)::

    plan = preview_import(store, path)      # reads and checks the file, writes nothing
    plan.summary() / plan.items             # what would be added / updated
    plan = apply_import(store, plan)        # all or nothing, in one transaction

Merging: a buyer is matched by uuid, then by platform + shop + nickname. A new buyer is added with
marks, chases and pending reminders (never shown yet on this computer, so they fire in this panel).
For a known buyer the newer record (updated_at) wins; when the notes differ, the older note is kept
below the newer one under a marker line. Chase history is merged (union); pending reminders follow
the newer record. Importing the same file twice changes nothing. A malformed or foreign file
(truncated, another format or version, wrong types, over 50 MB) raises ImportFileError with a zh +
en reason before anything is written.

Modules: common (format constants, masking, zones), document (build, sections, render_json), html,
sheets (render_xlsx over fileio.xlsx), export, checking (read_file, parse), merge (the import).
"""

from __future__ import annotations

from ..fileio.progress import Progress
from ..zones import zone_from_name
from .checking import parse, read_file
from .common import (
    FORMAT,
    FORMATS,
    MAX_BUYERS,
    MAX_CHASES_PER_BUYER,
    MAX_FILE_BYTES,
    MAX_LOG_ENTRIES,
    MAX_PROMOTIONS,
    MAX_REMINDERS_PER_BUYER,
    NOTE_MARKER,
    VERSION,
    mask_text,
    neutralise,
    restore_masked,
)
from .document import Sections, _cadence_names, build, render_json, sections
from .export import ExportResult, export_handover
from .html import render_html
from .merge import ImportPlan, PlanItem, _Merge, apply_import, import_handover, new_uuid, preview_import
from .sheets import render_xlsx

__all__ = [
    "FORMAT", "FORMATS", "MAX_BUYERS", "MAX_CHASES_PER_BUYER", "MAX_FILE_BYTES", "MAX_LOG_ENTRIES", "MAX_PROMOTIONS",
    "MAX_REMINDERS_PER_BUYER", "NOTE_MARKER", "VERSION", "ExportResult", "ImportPlan", "PlanItem", "Progress",
    "Sections", "_Merge", "_cadence_names", "apply_import", "build", "export_handover", "import_handover",
    "mask_text", "neutralise", "new_uuid", "parse", "preview_import", "read_file", "render_html", "render_json",
    "render_xlsx", "restore_masked", "sections", "zone_from_name",
]
