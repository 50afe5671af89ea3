"""Issue 17's fast paths: `kefu` alone starts the panel without building the CLI (no argparse tree),
and `kefu replies search` answers from the on-disk word lexicon (core/lexicon.py) without loading
jieba's and pypinyin's dictionaries or sqlite_utils. Figures: tests/benchmarks/bench_startup.py."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


def test_kefu_alone_starts_the_panel_without_the_cli():
    out = _run("""
        import json, sys
        import assistant.app
        seen = {}
        def run(*args, **kwargs):
            seen["args"] = [args, kwargs]
            seen["cli"] = sorted(m for m in sys.modules if m.startswith("assistant.cli") or m == "argparse")
            return 7
        assistant.app.run = run
        from assistant.__main__ import main
        seen["code"] = main([])
        print(json.dumps(seen))
    """)
    seen = json.loads(out)
    assert seen == {"args": [[], {}], "cli": [], "code": 7}


def test_kefu_with_arguments_still_goes_through_the_cli():
    out = _run("""
        import assistant.cli
        assistant.cli.main = lambda argv: 5 if argv == ["replies", "list"] else 6
        from assistant.__main__ import main
        print(main(["replies", "list"]))
    """)
    assert out == "5"


def test_cli_search_uses_the_lexicon(tmp_path):
    data = str(tmp_path / "data")
    first = subprocess.run([sys.executable, "-m", "assistant", "replies", "list", "--data-dir", data], cwd=REPO,
                           capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr  # first use: creates, seeds and builds the lexicon
    out = _run("""
        import io, json, sys
        from contextlib import redirect_stdout
        from assistant.__main__ import main
        with redirect_stdout(io.StringIO()) as found:
            code = main(["replies", "search", "催单", "--data-dir", sys.argv[1]])
        from assistant.core import lexicon
        import jieba
        print(json.dumps({"code": code, "found": bool(found.getvalue().strip()), "lexicon": lexicon.installed(),
                          "freq": type(jieba.dt.FREQ).__name__, "sqlite_utils": "sqlite_utils" in sys.modules}))
    """, data)
    got = json.loads(out)
    assert got == {"code": 0, "found": True, "lexicon": True, "freq": "_Freq", "sqlite_utils": False}, got
