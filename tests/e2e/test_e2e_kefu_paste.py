"""`kefu paste CODE` for real: pyperclip -> xclip on a private Xvfb, usage recorded, and the
command returns even when its output is captured (xclip keeps serving the clipboard)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant import paths
from assistant.core import replies
from assistant.core.store import open_store
from tests.helpers import desktop

pytestmark = pytest.mark.e2e


def test_kefu_paste_copies_and_records(xvfb, tmp_path):
    desktop.seed_data_dir(tmp_path, {})
    result = subprocess.run([sys.executable, "-m", "assistant", "paste", "wh2", "--data-dir", str(tmp_path)],
                            env=xvfb.env(), cwd=str(desktop.REPO), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Ctrl+V" in result.stdout
    store = open_store(paths.db_path(tmp_path))
    try:
        reply = replies.get_reply(store, "wh2")
        assert reply.use_count == 1
    finally:
        store.close()
    assert desktop.clipboard_get(xvfb) == reply.body


def test_kefu_paste_names_missing_fields(xvfb, tmp_path):
    desktop.seed_data_dir(tmp_path, {})
    result = subprocess.run([sys.executable, "-m", "assistant", "paste", "wh3", "--data-dir", str(tmp_path)],
                            env=xvfb.env(), cwd=str(desktop.REPO), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "客户" in result.stdout + result.stderr
