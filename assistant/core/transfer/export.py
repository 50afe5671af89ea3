"""Exporting the library (or one group) as Qianniu CSV / XLSX or our JSON."""

from __future__ import annotations

import contextlib
import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from ...errors import (
    KnownError,
)
from .. import replies
from ..clock import to_db
from ..fileio.atomic import atomic_path
from ..fileio.cells import XML_ILLEGAL, csv_neutralise
from ..fileio.progress import Ticker
from ..fileio.xlsx import XlsxWriter
from ..store import Store
from .common import (
    EXPORT_HEADER,
    EXTENSIONS,
    FORMATS,
    JSON_FORMAT,
    JSON_VERSION,
    QIANNU_CSV,
    QIANNU_XLSX,
    Progress,
)
from .qianniu import _escape_entities, qianniu_row

log = logging.getLogger(__name__)


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
    """fileio's atomic write (never a half-written file, 0600), its OSError worded for the user."""
    try:
        with atomic_path(path, make_parent=True) as tmp:
            yield tmp
    except OSError as exc:
        raise KnownError(f"无法写入文件：{path}（{exc.strerror}）", f"Cannot write {path} ({exc.strerror})") from exc


def export_file(store: Store, path: Path | str, *, format: str | None = None, group: str | int | None = None,
                progress: Progress | None = None) -> int:
    """Write the library (or one group with its sub-groups) to path; returns the number of replies."""
    path = Path(path)
    fmt = _export_format(path, format)
    items, groups = _ordered_replies(store, group)
    tick = Ticker(progress, len(items))
    tick(0)
    with _atomic_target(path) as tmp:
        if fmt == QIANNU_CSV:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh, lineterminator="\r\n")
                writer.writerow(EXPORT_HEADER)
                for n, reply in enumerate(items, start=1):
                    writer.writerow([csv_neutralise(cell) for cell in qianniu_row(reply)])
                    tick(n)
        elif fmt == QIANNU_XLSX:
            _write_xlsx(tmp, items, tick)
        else:
            _write_json(store, tmp, items, groups, tick)
    return len(items)


def _write_xlsx(tmp: Path, items: list[replies.Reply], tick: Ticker) -> None:
    """One sheet of text cells (the shared writer: formula-like text gets the quotePrefix style)."""
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        tick(done)

    rows = [qianniu_row(reply, _escape_entities) for reply in items]
    stripped = sum(1 for row in rows for cell in row if XML_ILLEGAL.search(cell))
    if stripped:
        log.warning("xlsx export: removed control characters XML cannot hold from %d cells", stripped)
    writer = XlsxWriter(advance, title="快捷短语", every=tick.step)
    writer.sheet("快捷短语", [(EXPORT_HEADER[0], "text"), (EXPORT_HEADER[1], "wrap"), (EXPORT_HEADER[2], "text")], rows)
    tick(len(items))
    writer.save(tmp)


def _write_json(store: Store, tmp: Path, items: list[replies.Reply], groups: list[replies.Group],
                tick: Ticker) -> None:
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
