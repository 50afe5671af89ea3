"""Layering rules from shared/design.md, checked by import-linter (contracts in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports")
    assert exe, "import-linter is not installed (pip install -e .[test])"
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "core is GUI-free KEPT" in proc.stdout
    assert "core layers KEPT" in proc.stdout  # no import circle inside core
    assert "core does not import team KEPT" in proc.stdout  # the app works without psycopg/a server


def test_core_imports_without_qt():
    code = ("import sys; import assistant.core.replies, assistant.core.search, assistant.core.settings, "
            "assistant.core.backup, assistant.cli; "
            "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


def test_ruff_clean():
    exe = shutil.which("ruff")
    assert exe, "ruff is not installed (pip install -e .[test])"
    proc = subprocess.run([exe, "check", "assistant", "tests"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_local_only_kefu_never_loads_the_team_packages(tmp_path):
    """psycopg and keyring are dependencies, but without a team server neither the CLI nor the
    app's composition root imports them (start-up time and memory, issue 17)."""
    code = ("import sys; from assistant import cli; import assistant.app; "
            f"assert cli.main(['--data-dir', {str(tmp_path)!r}, 'replies', 'list']) == 0; "
            f"assert cli.main(['--data-dir', {str(tmp_path)!r}, 'team', 'status']) == 0; "
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'keyring')); "
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120, capture_output=True)
