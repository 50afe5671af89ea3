"""Recording a reply's hotkey in the editor while that chord is a live global hotkey: the chord
must land in the field, not paste the reply, even when pressed right after the click (the real
panel, editor, X11 backend, hotkey map and paste flow in a probe process under Xvfb)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.helpers import desktop

pytestmark = pytest.mark.e2e


def test_chord_pressed_right_after_clicking_the_hotkey_field_is_recorded(xvfb, tmp_path):
    seeded = desktop.seed_data_dir(tmp_path, {"wh2": "Ctrl+Alt+1"})
    chat = desktop.start_chat_client(xvfb, tmp_path)
    probe = subprocess.Popen([sys.executable, str(desktop.REPO / "tests" / "e2e" / "capture_probe.py"),
                              str(tmp_path)], env=xvfb.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert probe.stdin is not None and probe.stdout is not None

    def report() -> dict:
        probe.stdin.write("report\n")
        probe.stdin.flush()
        return json.loads(probe.stdout.readline())

    try:
        line = probe.stdout.readline().split()
        assert line[:1] == ["ready"], probe.stderr.read()[-2000:] if probe.poll() is not None else line
        x, y = line[1], line[2]
        assert report()["registered"] > 0  # the reply's hotkey is grabbed while the editor is open
        # The agent comes from the chat client and clicks the field (Qt has not yet noticed that
        # its dialog lost the focus), then presses the chord 0.3 s later.
        desktop.focus_window(xvfb, chat.window)
        desktop.xdo(xvfb, "mousemove", x, y, "click", "1")
        time.sleep(0.3)
        desktop.press(xvfb, "ctrl+alt+1")
        time.sleep(0.8)
        during = report()
        assert during["pasted"] == [] and chat.text() == ""  # the global hotkey did not fire
        assert during["field"] == "Ctrl+Alt+1" and during["capturing"] and during["registered"] == 0
        # Back to the chat client: the grabs come back and the chord pastes again.
        desktop.focus_window(xvfb, chat.window)
        deadline = time.monotonic() + 3
        while report()["capturing"] and time.monotonic() < deadline:
            time.sleep(0.05)
        after = report()
        assert not after["capturing"] and after["registered"] > 0
        desktop.press(xvfb, "ctrl+alt+1")
        chat.wait(lambda st: st["text"] == seeded["wh2"]["body"])
        deadline = time.monotonic() + 3
        while not report()["pasted"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert report()["pasted"] == [seeded["wh2"]["id"]]
        assert desktop.keys_down(xvfb) == []
    finally:
        if probe.poll() is None:
            probe.stdin.write("quit\n")
            probe.stdin.flush()
            try:
                probe.wait(10)
            except subprocess.TimeoutExpired:
                probe.kill()
                probe.wait(5)
        desktop.close_pipes(probe)
        chat.stop()
