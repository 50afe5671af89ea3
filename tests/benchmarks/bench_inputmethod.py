"""Start-up cost of the input-method detection (assistant/platform/inputmethod.py), which runs on
every panel start before QApplication. Prints figures; asserts only that detection saw the bus.

Each sample is a fresh interpreter (the panel imports the module once), .pyc files in place as in
an installed kefu: import of the module after assistant.app, then apply() (one ListNames over the session bus socket, a listing of Qt's plugin
folder, the decision), beside the baseline of creating the QApplication itself (offscreen).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest

from tests.helpers import desktop, imsession

pytestmark = pytest.mark.benchmark

RUNS = 15
CODE = """
import json, os, time
import assistant.app
t0 = time.perf_counter()
from assistant.platform import inputmethod
t1 = time.perf_counter()
decision = inputmethod.apply()
t2 = time.perf_counter()
from PySide6.QtWidgets import QApplication
t3 = time.perf_counter()
app = QApplication([])
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "apply": t2 - t1, "qapp": t4 - t3, "bus": decision.detection.bus}))
"""


def sample(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=60,
                         check=True, cwd=str(desktop.REPO))
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_detection_costs_little_next_to_qapplication(tmp_path):
    desktop.require_tools([t for t in ("dbus-daemon",) if imsession.shutil.which(t) is None], imsession.INSTALL_HINT)
    bus = imsession.start_session_bus()
    try:
        env = dict(desktop.env_without_display(), QT_QPA_PLATFORM="offscreen", DISPLAY=":0",
                   DBUS_SESSION_BUS_ADDRESS=bus.address, PYTHONPATH=str(desktop.REPO),
                   PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"))
        # An installed kefu has its .pyc files; this checkout may not write them (PYTHONDONTWRITEBYTECODE):
        # the first run writes them to a private folder, so compiling is not counted.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        sample(env)
        samples = [sample(env) for _ in range(RUNS)]
    finally:
        bus.stop()
    assert all(s["bus"] for s in samples)

    def ms(key: str) -> str:
        values = sorted(1000 * s[key] for s in samples)
        return f"median {statistics.median(values):6.2f} ms, max {values[-1]:6.2f} ms"

    print(f"\ninput-method detection, {RUNS} fresh interpreters, private session bus:")
    print(f"  import inputmethod (after assistant.app)  {ms('import')}")
    print(f"  apply(): bus query + plugins + decision   {ms('apply')}")
    print(f"  baseline: QApplication([]) offscreen      {ms('qapp')}")
