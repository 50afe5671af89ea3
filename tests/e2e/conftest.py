"""End-to-end fixtures: a private Xvfb (started here, -displayfd read properly) shared by a module.

Missing Xvfb/xdotool/xclip: a skip on a developer machine, a FAILURE when CI=true - in CI these
tests must run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.helpers.desktop import require_desktop_tools  # noqa: E402
from tests.helpers.xvfb import start_xvfb  # noqa: E402


@pytest.fixture(scope="module")
def xvfb():
    require_desktop_tools()
    server = start_xvfb()
    try:
        yield server
    finally:
        server.stop()
