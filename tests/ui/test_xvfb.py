"""Under a real X server (Xvfb): a screenshot of the panel with Chinese results that must not be
blank (kept in artifacts/ui/), and the real app with a tray host — tray icon shown, a second launch
brings the first forward, a killed instance's lock does not block the next start.

These need Xvfb (and trayer for the tray). In CI (CI=true) a missing Xvfb is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.xvfb import XvfbError, start_xvfb

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "ui"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        message = f"{tool} is not installed (bash .ci/install installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def xserver(request):
    need("Xvfb")
    screen = getattr(request, "param", "1920x1080")
    try:
        server = start_xvfb(f"{screen}x24")
    except XvfbError as exc:
        if IN_CI:
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    yield server
    server.stop()


def shoot(xserver, data_dir: Path, out: Path, *args: str) -> dict:
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "ui" / "shoot.py"), str(out), "--data-dir",
                           str(data_dir), *args], env=xserver.env(), capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("xserver", ["1920x1080"], indirect=True)
def test_screenshot_with_chinese_results_is_not_blank(xserver, data_dir):
    out = ARTIFACTS / "panel-zh-1920x1080.png"
    result = shoot(xserver, data_dir, out, "--query", "催单")
    assert out.is_file() and out.stat().st_size > 10_000
    assert result["rows"] > 0
    assert result["variance"] > 300, "the screenshot is blank or a single colour"
    x, y, w, h = result["geometry"]
    assert (w, h) == (360, 1080) and x + w == 1920, "not docked at the right edge at full height"


@pytest.mark.parametrize("xserver", ["1366x768"], indirect=True)
def test_screenshot_in_english_on_a_small_screen(xserver, data_dir):
    out = ARTIFACTS / "panel-en-1366x768.png"
    result = shoot(xserver, data_dir, out, "--query", "", "--lang", "en")
    assert result["rows"] > 0 and result["variance"] > 300
    assert result["geometry"][3] == 768


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_real_app_tray_single_instance_and_stale_lock(xserver, data_dir):
    need("trayer")
    env = xserver.env()
    env["KEFU_HOTKEY_BACKEND"] = "dummy"
    tray = subprocess.Popen(["trayer", "--edge", "top", "--align", "left", "--widthtype", "pixel", "--width", "200"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = data_dir / "logs" / "kefu.log"
    code = "import sys; from assistant.app import run; sys.exit(run(sys.argv[1]))"
    first = subprocess.Popen([sys.executable, "-c", code, str(data_dir)], env=env, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: log.exists() and "hotkey controller started" in log.read_text(encoding="utf-8")), \
            (first.poll(), log.read_text(encoding="utf-8") if log.exists() else "no log")
        text = log.read_text(encoding="utf-8")
        assert "no system tray" not in text, "the tray icon was not shown although a tray host runs"
        started = time.monotonic()
        second = subprocess.run([sys.executable, "-c", code, str(data_dir)], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr[-2000:]
        assert time.monotonic() - started < 20
        assert wait_for(lambda: "another launch asked this instance to show itself" in log.read_text(encoding="utf-8"))
        assert first.poll() is None, "the first instance exited"
        first.kill()  # like a crash: the lock file stays behind
        first.wait(10)
        assert (data_dir / "panel.lock").exists()
        third = subprocess.Popen([sys.executable, "-c", code, str(data_dir)], env=env, cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_for(lambda: log.read_text(encoding="utf-8").count("hotkey controller started") >= 2), \
                "a lock left by a killed instance blocked the next start"
            assert third.poll() is None
        finally:
            third.kill()
            third.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
        tray.terminate()
        tray.wait(10)
