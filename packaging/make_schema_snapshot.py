"""Build resources/schema/schema.json: what a database with every migration applied contains (each
table, index, trigger, view and column by name), so the integrity check of a backup or of `kefu doctor`
compares against it without migrating an in-memory database with sqlite_utils (issue 17: that import
kept ~20 MB in the panel for the rest of the day after the daily backup).

    python packaging/make_schema_snapshot.py           # write the file
    python packaging/make_schema_snapshot.py --check   # exit 1 when the file is not what the code makes

Run it after adding a migration: tests/core/test_integrity.py runs --check, so a stale file fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.core import integrity  # noqa: E402
from assistant.paths import resource_path  # noqa: E402


def build() -> str:
    names = integrity.registered_migrations()
    objects = sorted(integrity.computed_schema(tuple(names)))
    rows = ",\n".join(json.dumps(list(o), ensure_ascii=False) for o in objects)  # one a line: readable diffs
    return f'{{"migrations": {json.dumps(names)},\n"objects": [\n{rows}\n]}}\n'


def main(argv: list[str]) -> int:
    path = resource_path("schema", integrity.SCHEMA_SNAPSHOT)
    text = build()
    if "--check" in argv:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(f"{path} is stale: run python packaging/make_schema_snapshot.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
