"""Where things live: the data and cache directories, and the shipped resources."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

import platformdirs

from . import APP_NAME
from .core import private
from .core.checked import is_text
from .errors import ValidationError

log = logging.getLogger(__name__)

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
    if not is_text(str(path)):  # SQLite opens files by UTF-8 name
        raise ValidationError("数据目录的路径不是有效的 UTF-8 文字，请换一个文件夹",
                              "The data folder's path is not valid UTF-8 text; choose another folder")
    # Customer notes live here: a folder kefu creates is private to the user (0700). An existing
    # folder keeps its mode (it may be shared on purpose); a too-open one is reported.
    if not private.make_dirs(path) and private.too_open(path):
        log.warning("the data folder can be read or written by other users (mode %o)", path.stat().st_mode & 0o7777)
    return path


def data_dir_too_open(data: Path) -> bool:
    """For `kefu doctor`: other users can read or write the data folder."""
    return private.too_open(data)


def db_path(data: Path) -> Path:
    return data / "kefu.db"


def backup_dir(data: Path) -> Path:
    return data / "backups"


def cache_dir(data: Path) -> Path:
    """jieba's dictionary cache and similar rebuildable files; inside the data dir so that an
    isolated --data-dir (tests, portable installs) never touches shared temp folders."""
    path = data / "cache"
    with contextlib.suppress(OSError):  # a read-only data folder: jieba then works without its cache file
        private.make_dirs(path)
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
