"""UI tests: pytest-qt on Qt's offscreen platform, an isolated data folder per test.

Typing Chinese: qtbot.keyClicks with non-ASCII text aborts the whole process (qasciikey assert), so
`type_ime` sends a QInputMethodEvent with a commit string — what a real input method sends.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
from pathlib import Path

# Before anything imports Qt: unit UI tests never touch a real display.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pytest  # noqa: E402

from assistant.core import replies, settings  # noqa: E402
from assistant.core.store import open_store  # noqa: E402
from assistant.services import qtfix  # noqa: E402

qtfix.guard()  # without it, PySide6 6.12.0 aborts the interpreter after enough emits (see qtfix)


@pytest.fixture(scope="session")
def library_db(tmp_path_factory) -> Path:
    """The default library, seeded once (indexing it takes seconds); each test gets a copy."""
    path = tmp_path_factory.mktemp("library") / "kefu.db"
    store = open_store(path)
    replies.seed_defaults(store)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture
def data_dir(tmp_path, library_db) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(library_db, data / "kefu.db")
    return data


@pytest.fixture
def db_path(data_dir) -> Path:
    return data_dir / "kefu.db"


@pytest.fixture
def store(db_path):
    """A second connection for the test's own checks and set-up (like the CLI would be)."""
    s = open_store(db_path)
    yield s
    s.close()


@pytest.fixture(scope="session", autouse=True)
def _styled(qapp):
    from assistant.services.gcguard import GuiThreadCollector
    from assistant.ui.widgets import style

    style.apply(qapp)
    collector = GuiThreadCollector()  # as in the app: cycles with widgets are freed on this thread
    yield qapp
    collector.stop()


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread():
    yield
    gc.collect()  # the widgets a test leaves in cycles go now, here, not later in some worker thread


@pytest.fixture(autouse=True)
def _chinese_after_test():
    yield
    from assistant.ui.widgets import i18n

    if i18n.current() != "zh_CN":
        i18n.install("zh_CN")


@pytest.fixture
def worker(db_path, qtbot):
    from assistant.services.worker import StoreWorker

    w = StoreWorker(db_path)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def make_panel(worker, store, data_dir, qtbot):
    from assistant.ui.panel.panel import Panel

    def make(**config):
        values = settings.get_all(store)
        values.update(config)
        panel = Panel(worker, values, data_dir=data_dir, version="test")
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitUntil(lambda: panel.results_model.rowCount() > 0, timeout=10000)
        return panel

    return make


@pytest.fixture
def panel(make_panel):
    return make_panel()
