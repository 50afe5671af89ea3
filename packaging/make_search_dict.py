"""Build resources/search/index_dict_v3.txt, search index format 3's preset deflate dictionary, from
the shipped library: its jieba words, pinyin and initials, the most used last (deflate's nearer
matches cost fewer bits). Run once from the repository root; the file is then frozen: packed rows can
only be read with the same bytes (tests/core/test_search.py pins its hash). A new dictionary needs a
new searchtext.PACK_FORMAT, search.INDEX_VERSION and migration."""

from __future__ import annotations

import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.core import replies, search  # noqa: E402
from assistant.paths import resource_path  # noqa: E402

LIMIT = 32_000  # deflate's window is 32 KiB


def main() -> None:
    search._load_analyzers(None)
    count: collections.Counter[str] = collections.Counter()
    for _path, item in replies.load_library_file(resource_path("library", "default.json")):
        tokens: set[str] = set()
        for text, rich in ((item["title"], True), (item["body"], False)):
            _chars, words, pinyin, initials = search._analyze(search.normalize(text), rich, set())
            for stream in (words, pinyin, initials):
                tokens.update(stream.split())
        count.update(tokens)
    kept: list[str] = []
    size = 0
    for token, _n in reversed(sorted(count.items(), key=lambda kv: (kv[1], kv[0]))):
        size += len(token.encode()) + 1
        if size > LIMIT:
            break
        kept.append(token)
    text = " ".join(reversed(kept))
    resource_path("search", "index_dict_v3.txt").write_text(text, encoding="utf-8")
    print(f"{len(kept)} tokens, {len(text.encode())} bytes")


if __name__ == "__main__":
    main()
