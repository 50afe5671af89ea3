"""Writing the handover files (the 交班 button, `kefu handover export`) and recording the export."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import uuid as uuidlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ...errors import KnownError
from .. import digest, private, shifts
from ..clock import to_db
from ..fileio.atomic import write_atomic
from ..fileio.progress import Budget, Progress, Steps
from ..store import Store, read_only_error
from ..zones import zone_from_name
from .common import FORMATS
from .document import _OPEN_BUYERS, _cadence_names, build, render_json, sections
from .html import render_html
from .sheets import render_xlsx

log = logging.getLogger(__name__)


@dataclass
class ExportResult:
    folder: Path
    files: dict[str, Path]
    counts: dict[str, int]
    seconds: float
    shift: shifts.Shift | None
    doc: dict[str, Any] = field(repr=False, default_factory=dict)


def _safe_name(text: str) -> str:
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", unicodedata.normalize("NFC", text)).strip(" ._")
    return cleaned[:24]


def _write_error(folder: Path, exc: OSError) -> KnownError:
    return KnownError(f"无法写入交接文件到 {folder}：{exc.strerror or exc}",
                      f"Cannot write the handover files to {folder}: {exc.strerror or exc}")


def export_handover(store: Store, folder: Path | str, *, formats: Iterable[str] = FORMATS, include_phones: bool = False,
                    end_shift: bool = False, now: datetime | None = None, shift: shifts.Shift | None = None,
                    progress: Progress | None = None) -> ExportResult:
    """Write the handover files into `folder` (created if missing). end_shift=True is 交班: the open
    shift ends now and the report covers it up to now. progress(done, total) is called from the
    calling thread as the work advances. Returns the paths written."""
    import time as _time

    started = _time.perf_counter()
    wanted = []
    for f in formats:
        name = str(f).strip().lower()
        if name not in FORMATS:
            raise KnownError(f"未知的导出格式“{name}”，可选：html、xlsx、json",
                             f"Unknown export format '{name}'; one of html, xlsx, json")
        if name not in wanted:
            wanted.append(name)
    if not wanted:
        raise KnownError("请至少选择一种导出格式", "Choose at least one export format")
    if end_shift and store.read_only:
        raise read_only_error(store.path)
    if not store.read_only:
        store.check_before_writes()  # it records the export: a damaged file gets no files and no row
    now = (now or store.clock.now()).astimezone(timezone.utc)
    target = Path(folder).expanduser()
    try:
        private.make_dirs(target)  # a folder created here is 0700; an existing one keeps its mode
    except OSError as exc:
        raise _write_error(target, exc) from exc
    shift = shift or shifts.current_shift(store) or shifts.last_shift(store)
    if end_shift and shift is not None and shift.open:
        shift = shifts.Shift(shift.id, shift.uuid, shift.agent, shift.started_at, max(now, shift.started_at),
                             shift.started_how, "handover")
    n_buyers = store.query(f"SELECT count(*) AS n FROM ({_OPEN_BUYERS})")[0]["n"]
    steps = Steps(n_buyers * (1 + len(wanted)) + 2 + len(wanted), progress)
    doc = build(store, now=now, shift=shift, include_phones=include_phones, _steps=steps)
    names = _cadence_names(store)
    sec = sections(doc, names) if {"html", "xlsx"} & set(wanted) else None
    tz = zone_from_name(doc["timezone"])
    stem = "交接班_" + "_".join(x for x in (_safe_name(doc["agent"] or ""), now.astimezone(tz).strftime("%Y%m%d-%H%M")) if x)
    stem = _unique_stem(target, stem, wanted)
    files: dict[str, Path] = {}
    sha = None
    try:
        for fmt in wanted:
            path = target / f"{stem}.{fmt}"
            if fmt == "json":
                data = render_json(doc)
                sha = digest.sha256(data).hexdigest()
                write_atomic(path, lambda p, d=data: p.write_bytes(d))
                steps.add(n_buyers + 1)
            elif fmt == "html":
                page = render_html(doc, names, sec)
                write_atomic(path, lambda p, t=page: p.write_text(t, encoding="utf-8"))
                steps.add(n_buyers + 1)
            else:
                budget = Budget(steps, n_buyers + 1)
                write_atomic(path, lambda p, b=budget: render_xlsx(doc, p, names, b.add, sec))
                budget.close()
            files[fmt] = path
    except OSError as exc:
        raise _write_error(target, exc) from exc
    if store.read_only:  # a mounted backup: the files are all that was asked for; the export is not recorded
        log.info("handover export not recorded: the data folder is read-only")
    else:
        with store.write() as db:
            if end_shift and shift is not None and shift.ended_how == "handover":
                current = shifts.current_shift(store)
                if current is not None and current.id == shift.id:
                    shifts.end_shift(store, now)
            db.execute("INSERT INTO handovers (uuid, direction, at, shift_id, file_name, sha256, source_agent, "
                       "source_shift_uuid, exported_at, counts) VALUES (?, 'out', ?, ?, ?, ?, ?, ?, ?, ?)",
                       (str(uuidlib.uuid4()), to_db(now), shift.id if shift else None, f"{stem}.*", sha, doc["agent"],
                        shift.uuid if shift else None, doc["generated_at"], json.dumps(doc["counts"])))
    if shift is not None:
        shift = shifts.get_shift(store, shift.id)
    steps.finish()
    seconds = _time.perf_counter() - started
    log.info("handover exported: %s buyers, formats %s, %.2f s", doc["counts"]["buyers"], ",".join(wanted), seconds)
    return ExportResult(target, files, doc["counts"], seconds, shift, doc)


def _unique_stem(folder: Path, stem: str, formats: Sequence[str]) -> str:
    candidate, n = stem, 1
    while any((folder / f"{candidate}.{fmt}").exists() for fmt in formats):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate
