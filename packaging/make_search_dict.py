"""Build resources/search/index_dict_v3.txt (search index format 3's preset deflate dictionary) from the
shipped library. Run once, from the repository root; the file is then frozen: rows stored with it can
only be read with the same bytes (tests/core/test_search.py pins its hash)."""
import collections, sys
sys.path.insert(0, ".")
from assistant.core import replies, search
from assistant.paths import resource_path
search._load_analyzers(None)
count = collections.Counter()
for path, item in replies.load_library_file(resource_path("library", "default.json")):
    toks = set()
    for text, rich in ((item["title"], True), (item["body"], False)):
        _c, w, p, i = search._analyze(search.normalize(text), rich, set())
        for stream in (w, p, i):
            toks.update(stream.split())
    count.update(toks)
# most used last: deflate's nearer matches are cheaper
tokens = [t for t, n in sorted(count.items(), key=lambda kv: (kv[1], kv[0]))]
out, size = [], 0
for t in reversed(tokens):
    b = len(t.encode()) + 1
    if size + b > 32000:
        break
    out.append(t); size += b
text = " ".join(reversed(out))
open("resources/search/index_dict_v3.txt", "w", encoding="utf-8").write(text)
print(len(count), len(out), len(text.encode()))
