"""Folders and files readable by the user only (0700 / 0600), whatever the umask.

kefu's data holds buyers' notes and phone numbers. Folders it creates (the data folder and its
subfolders, export folders) get 0700 and files it writes 0600, set with an explicit chmod after
creation because mkdir(mode=) and open() are filtered by the umask. A folder that already exists is
never re-moded -- it may be the user's own or a shared one (a 1777 folder must stay 1777); a too-open
existing data folder is only reported (too_open(), logged and shown by `kefu doctor`).
Windows: modes do not apply (the profile folder is private); the calls still create the folders.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

POSIX = os.name == "posix"
DIR_MODE = 0o700
FILE_MODE = 0o600


def make_dirs(path: Path | str) -> bool:
    """Create path and any missing parents as 0700; True when path itself was created. An existing
    folder keeps its mode."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            continue  # created meanwhile by another kefu process
        if POSIX:
            with contextlib.suppress(OSError):
                os.chmod(folder, DIR_MODE)
    if not path.is_dir():
        # exists but is a file (mkdir's own error, so callers see the usual OSError)
        raise FileExistsError(17, "not a folder", str(path))
    return bool(missing)


def open_private(path: Path | str, flags: int = os.O_WRONLY | os.O_CREAT | os.O_TRUNC) -> int:
    """os.open with 0600 from the start (no moment where another user could open it)."""
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    if POSIX:
        with contextlib.suppress(OSError):
            os.fchmod(fd, FILE_MODE)
    return fd


def write_text(path: Path | str, text: str) -> None:
    """Write a small text file (a crash report) as 0600."""
    with os.fdopen(open_private(path), "w", encoding="utf-8") as fh:
        fh.write(text)


def set_private(path: Path | str) -> None:
    """0600 on a file another library created (Qt's lock file)."""
    if POSIX:
        with contextlib.suppress(OSError):
            os.chmod(path, FILE_MODE)


def too_open(path: Path | str) -> bool:
    """True when group or others may read, write or enter the folder (POSIX only)."""
    if not POSIX:
        return False
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(stat.S_IMODE(mode) & 0o077)
