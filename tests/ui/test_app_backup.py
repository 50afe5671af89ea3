"""The running app writes its automatic backup on start (backup.interval_hours)."""

import os
import signal
import subprocess
import sys
import time


def test_app_makes_an_automatic_backup_on_start(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KEFU_HOTKEY_BACKEND": "dummy"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(tmp_path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        log_file = tmp_path / "logs" / "kefu.log"
        logged = False
        while time.monotonic() < deadline and not logged:
            logged = log_file.exists() and "automatic backup written" in log_file.read_text(encoding="utf-8")
            time.sleep(0.2)
        assert logged, "no automatic backup within 60 s of start"
        assert len(list((tmp_path / "backups").glob("kefu-*.db"))) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
