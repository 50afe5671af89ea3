"""Folders kefu creates are 0700 and files it writes 0600 whatever the umask; a folder that already
exists keeps its mode (a shared 1777 folder stays 1777) and a too-open data folder is reported."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from assistant import app, cli, paths
from assistant.core import backup, handover, private, transfer
from assistant.core.store import open_store


@pytest.fixture(autouse=True)
def open_umask():
    old = os.umask(0o022)  # the usual desktop umask: without explicit modes, files would be 0644
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_data_folder_and_parents_are_private(tmp_path):
    data = paths.data_dir(tmp_path / "a" / "b" / "kefu")
    assert mode(data) == 0o700 and mode(tmp_path / "a") == 0o700 and mode(tmp_path / "a" / "b") == 0o700
    assert mode(paths.cache_dir(data)) == 0o700


def test_existing_shared_folder_is_not_chmodded(tmp_path, caplog):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with caplog.at_level(logging.WARNING):
        assert paths.data_dir(shared) == shared.resolve()
    assert mode(shared) == 0o1777
    assert any("other users" in r.getMessage() for r in caplog.records)


def test_existing_private_folder_is_quiet(tmp_path, caplog):
    own = tmp_path / "own"
    own.mkdir(mode=0o700)
    os.chmod(own, 0o700)
    with caplog.at_level(logging.WARNING):
        paths.data_dir(own)
    assert not caplog.records and mode(own) == 0o700


def test_kefu_home_shared_folder_kept_and_doctor_warns(tmp_path, capsys, monkeypatch):
    shared = tmp_path / "team"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    monkeypatch.setenv("KEFU_HOME", str(shared))
    cli.main(["doctor", "--json"])
    out = capsys.readouterr().out
    assert mode(shared) == 0o1777
    assert "other users can read or write the data folder" in out


def test_log_file_and_rollovers_are_private(tmp_path):
    data = paths.data_dir(tmp_path / "data")
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        log_path = app.setup_logging(data)
        handler = next(h for h in root.handlers if h not in before)
        logging.getLogger("assistant.test").warning("first line")
        assert mode(log_path.parent) == 0o700 and mode(log_path) == 0o600
        handler.doRollover()
        logging.getLogger("assistant.test").warning("after rollover")
        assert mode(log_path) == 0o600 and mode(log_path.with_name("kefu.log.1")) == 0o600
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()
        root.setLevel(level)


def test_exports_and_backups_create_private_folders(tmp_path, clock):
    store = open_store(tmp_path / "kefu.db", clock)
    try:
        result = handover.export_handover(store, tmp_path / "exports" / "handover")
        assert mode(tmp_path / "exports") == 0o700 and mode(tmp_path / "exports" / "handover") == 0o700
        assert all(mode(p) == 0o600 for p in result.files.values())
        transfer.export_file(store, tmp_path / "replies-out" / "r.csv")
        assert mode(tmp_path / "replies-out") == 0o700 and mode(tmp_path / "replies-out" / "r.csv") == 0o600
        made = backup.create_backup(tmp_path / "kefu.db", tmp_path / "bk" / "sub", keep=2)
        assert mode(tmp_path / "bk") == 0o700 and mode(made.parent) == 0o700 and mode(made) == 0o600
        existing = tmp_path / "shared-out"
        existing.mkdir()
        os.chmod(existing, 0o755)
        handover.export_handover(store, existing)
        assert mode(existing) == 0o755  # the user's own folder keeps its mode
    finally:
        store.close()


def test_private_write_text_is_0600_even_with_umask_0(tmp_path):
    os.umask(0)
    private.write_text(tmp_path / "report.txt", "x")
    assert mode(tmp_path / "report.txt") == 0o600
    private.make_dirs(tmp_path / "d")
    assert mode(tmp_path / "d") == 0o700
