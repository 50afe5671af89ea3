"""Platform tests: fakes for clipboard, keys, windows and clock; Qt offscreen where Qt is needed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `pytest` run without `python -m`: make tests.helpers importable
    sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from assistant.services import qtfix  # noqa: E402
from tests.helpers.fakes import FakeClipboard, FakeKeys, FakeScheduler, FakeWindows, Recorder  # noqa: E402

qtfix.guard()  # without it, PySide6 6.12.0 aborts the interpreter after enough emits (see qtfix)


@pytest.fixture
def log() -> Recorder:
    return Recorder()


@pytest.fixture
def scheduler(log) -> FakeScheduler:
    return FakeScheduler(log)


@pytest.fixture
def clipboard(log) -> FakeClipboard:
    return FakeClipboard(log, {"text/plain": b"old", "text/html": b"<b>old</b>", "image/png": b"\x89PNG"})


@pytest.fixture
def keys(log) -> FakeKeys:
    return FakeKeys(log)


@pytest.fixture
def windows(log) -> FakeWindows:
    return FakeWindows(log, focused=0x100)
