"""Where things live: the data and cache directories, and the shipped resources."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import platformdirs

from . import APP_NAME

ENV_HOME = "KEFU_HOME"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir beats KEFU_HOME beats the platform's user data dir."""
    if override:
        path = Path(override)
    elif os.environ.get(ENV_HOME):
        path = Path(os.environ[ENV_HOME])
    else:
        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        # Customer notes live here: keep the folder private to the user. A read-only folder (a
        # mounted backup) can still be read: the store opens it read-only.
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
    return path


def db_path(data: Path) -> Path:
    return data / "kefu.db"


def backup_dir(data: Path) -> Path:
    return data / "backups"


def cache_dir(data: Path) -> Path:
    """jieba's dictionary cache and similar rebuildable files; inside the data dir so that an
    isolated --data-dir (tests, portable installs) never touches shared temp folders."""
    path = data / "cache"
    with contextlib.suppress(OSError):  # a read-only data folder: jieba then works without its cache file
        path.mkdir(parents=True, exist_ok=True)
    return path


def resource_path(*parts: str) -> Path:
    """A file shipped in resources/, from a source checkout, an installed wheel or PyInstaller."""
    here = Path(__file__).resolve().parent
    candidates = []
    frozen_base = getattr(sys, "_MEIPASS", None)
    if frozen_base:
        candidates.append(Path(frozen_base) / "resources")
    candidates.append(here / "resources")  # wheel: shipped as assistant/resources
    candidates.append(here.parent / "resources")  # source checkout / editable install
    for base in candidates:
        if base.is_dir():
            return base.joinpath(*parts)
    raise FileNotFoundError(f"resources folder not found (looked in {', '.join(map(str, candidates))})")
