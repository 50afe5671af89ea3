"""Services tests (Qt without widgets): the worker, the watcher, the scheduler, the hotkey map and
the paste flow, on Qt's offscreen platform with fakes for the platform backend."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `pytest` run without `python -m`: make tests.helpers importable
    sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from assistant.core import replies  # noqa: E402
from assistant.core.store import open_store  # noqa: E402
from assistant.services import qtfix  # noqa: E402
from tests.helpers.fakes import FakeClipboard, FakeScheduler, Recorder, fake_backend  # noqa: E402
from tests.helpers.hotkeys import ORIGINAL, Hotkeys, Signals  # noqa: E402

qtfix.guard()  # without it, PySide6 6.12.0 aborts the interpreter after enough emits (see qtfix)


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory):
    """The default library indexed once (jieba is slow to warm up), copied for each test."""
    path = tmp_path_factory.mktemp("seed") / "kefu.db"
    store = open_store(path)
    replies.seed_defaults(store)
    store.close()
    return path


@pytest.fixture
def db(tmp_path, seeded_db):
    path = tmp_path / "kefu.db"
    shutil.copyfile(seeded_db, path)
    return path


@pytest.fixture
def other(db):
    """Another connection to the same file: the CLI, or the panel's worker."""
    store = open_store(db)
    yield store
    store.close()


@pytest.fixture
def env(qapp, db):
    log = Recorder()
    backend = fake_backend(log)
    clipboard = FakeClipboard(log, ORIGINAL)
    scheduler = FakeScheduler(log)
    hk = Hotkeys(db, backend, clipboard=clipboard, scheduler=scheduler)
    signals = Signals(hk)
    yield hk, backend, clipboard, scheduler, signals, log
    hk.shutdown()
