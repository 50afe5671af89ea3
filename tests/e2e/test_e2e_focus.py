"""A paste asked for by the panel goes to the chat window the agent used last, raised again
(the real X11 backend, hotkey map and paste flow, driven in a probe process under Xvfb)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import desktop

pytestmark = pytest.mark.e2e


def test_paste_returns_to_the_last_chat_window(xvfb, tmp_path):
    seeded = desktop.seed_data_dir(tmp_path, {"wh2": "Ctrl+Alt+1"})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    chat_a = desktop.start_chat_client(xvfb, tmp_path / "a")
    chat_b = desktop.start_chat_client(xvfb, tmp_path / "b")
    try:
        desktop.clipboard_set(xvfb, "原来的剪贴板")
        probe = subprocess.run([sys.executable, str(desktop.REPO / "tests" / "e2e" / "panel_paste_probe.py"),
                                str(tmp_path), str(chat_a.window), str(chat_b.window), str(seeded["wh2"]["id"])],
                               env=xvfb.env(), capture_output=True, text=True, timeout=60)
        assert probe.returncode == 0, probe.stderr[-2000:]
        result = json.loads(probe.stdout.strip().splitlines()[-1])
        assert result["backend"] == "x11" and result["errors"] == []
        assert chat_a.text() == seeded["wh2"]["body"]
        assert chat_b.text() == ""
        assert desktop.focused_window(xvfb) == chat_a.window
        assert result["pasted"] == [seeded["wh2"]["id"]]
        assert result["clipboard_after"] == "原来的剪贴板"
        assert desktop.keys_down(xvfb) == []
    finally:
        chat_a.stop()
        chat_b.stop()
