"""Build resources/library/default.index.json: search's analysis (jieba words, pinyin, initials) of the
shipped library, so that a first start seeds the default library before jieba and pypinyin are loaded
(replies.seed_defaults; issue 17: the panel usable within a second of a first start).

    python packaging/make_default_index.py           # write the file
    python packaging/make_default_index.py --check   # exit 1 when the file is not what the code makes

Run it after changing resources/library/default.json, the analysis in core/search.py or the jieba /
pypinyin versions: tests/core/test_seed_index.py runs --check, so a stale file fails the suite."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.core import replies, search  # noqa: E402
from assistant.core.store import open_store  # noqa: E402
from assistant.paths import resource_path  # noqa: E402


def build() -> str:
    """The file's text: the library's replies created as seed_defaults creates them (their stored
    title and body), then analysed by search.prepare_texts, in full (no shipped analysis used)."""
    with tempfile.TemporaryDirectory(prefix="kefu-default-index-") as tmp:
        store = open_store(Path(tmp) / "kefu.db")
        try:
            with store.write():
                for group_path, item in replies.load_library_file(resource_path("library", "default.json")):
                    replies.create_reply(store, body=item["body"], title=item.get("title", ""),
                                         group="/".join(group_path), code=item.get("code"),
                                         language=item.get("language", "zh"), platforms=item.get("platforms", []),
                                         angle=item.get("angle"))
            texts = [(r["title"], r["body"]) for r in store.query("SELECT title, body FROM replies ORDER BY id")]
            data = search.dump_prepared(texts, search.prepare_texts(store, texts))
        finally:
            store.close()
    # one row a line: a change to the library shows as a readable diff
    rows = ",\n".join(json.dumps(row, ensure_ascii=False) for row in data.pop("rows"))
    head = json.dumps(data, ensure_ascii=False)[:-1]
    return f'{head}, "rows": [\n{rows}\n]}}\n'


def main(argv: list[str]) -> int:
    path = resource_path("library", replies.DEFAULT_INDEX)
    text = build()
    if "--check" in argv:
        current = path.read_text("utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is stale: run python packaging/make_default_index.py", file=sys.stderr)
            return 1
        print(f"{path.name} is current")
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"{path}: {len(text.encode()):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
