"""core/lexicon.py: jieba and pypinyin answered from the on-disk lexicon give exactly what the full
load gives, on ~3,000 varied texts (the shipped library, generated service sentences, traditional and
rare characters, mixed scripts). Each path runs in its own interpreter (a process holds one of them)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from assistant.core import lexicon, search
    cache = sys.argv[1]
    search._load_analyzers(Path(cache) if cache else None)
    import jieba
    from pypinyin import Style, lazy_pinyin, pinyin
    texts = json.load(open(sys.argv[2], encoding="utf-8"))
    out = []
    for text in texts:
        norm = search.normalize(text)
        out.append([jieba.lcut(text), jieba.lcut(text, HMM=False), jieba.lcut_for_search(text),
                    lazy_pinyin(text), pinyin(text, style=Style.TONE3, heteronym=True),
                    list(search._analyze(norm, True, set())), list(search._analyze(norm, False, set()))])
    print(json.dumps({"lexicon": lexicon.installed(), "out": out}, ensure_ascii=False))
""")


def _texts() -> list[str]:
    library = json.loads((REPO / "resources" / "library" / "default.json").read_text(encoding="utf-8"))
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and any("\u4e00" <= c <= "\u9fff" for c in node):
            texts.append(node)

    walk(library)
    rng = random.Random(17)
    pool = "".join(dict.fromkeys("".join(texts)))  # the library's own characters
    words = ["亲", "您好", "快递", "发货", "退款", "退货", "优惠券", "尺码", "链接", "包邮", "顺丰", "圆通",
             "羽绒服", "连衣裙", "催单", "售后", "好评", "七天无理由", "运费险", "拍下", "改地址", "缺货",
             "預售", "優惠", "發貨", "謝謝", "衣服", "质量", "颜色", "尺寸", "客服", "掌柜", "旗舰店", "正品"]
    rare = "龘靐齉爩鱻麤乂丨丶乛亍冫冖卩廴彳氵灬爫犭纟钅饣讠辶阝"
    mixed = ["iPhone15", "XL码", "2件8折", "A4纸", "100%棉", "😀", "ｑｑ群", "Ω", "—", "，", "。", " "]
    for size in (2, 4, 8, 16, 40):
        for _ in range(120):
            texts.append("".join(rng.choice(pool) for _ in range(size)))
    for _ in range(1500):
        parts = rng.choices(words, k=rng.randint(1, 8)) + rng.choices(mixed, k=rng.randint(0, 2))
        parts += [rng.choice(rare)] if rng.random() < 0.2 else []
        rng.shuffle(parts)
        texts.append("".join(parts))
    for _ in range(700):  # random CJK, including characters no dictionary knows
        texts.append("".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(rng.randint(1, 12))))
    return texts


def _run(cache: str, texts_file: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", PROBE, cache, str(texts_file)], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_lexicon_segments_and_spells_like_the_full_load(tmp_path):
    texts = _texts()
    assert len(texts) >= 3000
    texts_file = tmp_path / "texts.json"
    texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    full = _run("", texts_file)
    on_disk = _run(str(tmp_path / "cache"), texts_file)
    again = _run(str(tmp_path / "cache"), texts_file)  # the second start reads the file built by the first
    assert not full["lexicon"] and on_disk["lexicon"] and again["lexicon"]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"lexicon-{_key()}.sqlite3"]
    for text, a, b, c in zip(texts, full["out"], on_disk["out"], again["out"], strict=True):
        assert a == b == c, text


def _key() -> str:
    from assistant.core import lexicon

    return lexicon.cache_key()


def test_install_refuses_once_the_libraries_are_loaded(tmp_path):
    """A process that already imported jieba keeps it: install() says False, nothing is built."""
    code = textwrap.dedent(f"""
        import jieba
        from pathlib import Path
        from assistant.core import lexicon
        assert lexicon.install(Path({str(tmp_path / 'cache')!r})) is False
    """)
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)
    assert not (tmp_path / "cache").exists()


def test_unbuildable_lexicon_falls_back_to_the_full_load(tmp_path):
    """A cache folder that cannot exist (a file is in its place): one log line for the lexicon, jieba and
    pypinyin work as before."""
    cache = tmp_path / "cache"
    cache.write_text("not a folder")
    code = textwrap.dedent(f"""
        import logging
        from pathlib import Path
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        from assistant.core import lexicon, search
        search._load_analyzers(Path({str(cache)!r}))
        import jieba
        from pypinyin import lazy_pinyin
        assert not lexicon.installed()
        print(jieba.lcut("今天发货吗"), lazy_pinyin("发货"))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "发货" in proc.stdout and "fa" in proc.stdout
    assert proc.stderr.count("word lexicon unavailable") == 1 and "Traceback" not in proc.stderr
    assert cache.read_text() == "not a folder"


def test_a_first_start_builds_the_lexicon_on_the_loader_thread_and_the_next_reuses_it(tmp_path):
    """No lexicon yet (a first start, an upgrade): the loader builds it in a child and uses it - the
    dictionaries are never loaded in full (~140 MB that would stay for the whole session)."""
    cache = tmp_path / "cache"
    code = textwrap.dedent(f"""
        from pathlib import Path
        from assistant.core import lexicon, search
        search._load_analyzers(Path({str(cache)!r}))
        import jieba
        assert lexicon.installed() and not isinstance(jieba.dt.FREQ, dict)
        assert "发货" in jieba.lcut("今天发货吗")
    """)
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=180)
    assert [p.name for p in cache.iterdir()] == [f"lexicon-{_key()}.sqlite3"]
    built = (cache / f"lexicon-{_key()}.sqlite3").stat().st_mtime_ns
    again = textwrap.dedent(f"""
        from pathlib import Path
        from assistant.core import lexicon, search
        search._load_analyzers(Path({str(cache)!r}))
        assert lexicon.installed()
    """)
    subprocess.run([sys.executable, "-c", again], cwd=REPO, check=True, timeout=60)
    assert (cache / f"lexicon-{_key()}.sqlite3").stat().st_mtime_ns == built  # reused, not rebuilt
    # memory (issue 17): loading over the lexicon leaves OpenSSL unloaded (jieba's `from hashlib import
    # md5` is served by CPython's own md5); hashlib imported afterwards is the real, complete module
    openssl = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from assistant.core import lexicon, search
        search._load_analyzers(Path({str(cache)!r}))
        import jieba
        assert lexicon.installed() and "发货" in jieba.lcut("今天发货吗")
        assert "_hashlib" not in sys.modules and "hashlib" not in sys.modules, sorted(sys.modules)
        assert jieba.md5(b"x").hexdigest() == "9dd4e461268c8034f5c8564e155c67a6"
        import hashlib
        assert hashlib.sha256(b"x").hexdigest().startswith("2d711642") and hasattr(hashlib, "pbkdf2_hmac")
    """)
    subprocess.run([sys.executable, "-c", openssl], cwd=REPO, check=True, timeout=60)
