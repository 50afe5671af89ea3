"""CLI tests: `kefu` run in-process (assistant.cli.main) on a temp data folder; no Qt."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from assistant.core.clock import FakeClock
from assistant.core.store import open_store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 10, 6, 0, tzinfo=timezone.utc))


@pytest.fixture
def store(tmp_path, clock):
    s = open_store(tmp_path / "kefu.db", clock)
    yield s
    s.close()
