"""Write a file atomically: into a temporary file next to it, then moved into place.

Readers never see a half-written file, and a failed write leaves the old file (or none) and no
temporary. The file is 0600 (exports hold buyers' notes and phone numbers; core/private.py).
OSError propagates: each caller words its own message.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .. import private


@contextlib.contextmanager
def atomic_path(path: Path | str, *, make_parent: bool = False) -> Iterator[Path]:
    """Yield a temporary path in path's folder; when the block ends without an error it becomes path."""
    path = Path(path)
    if make_parent:
        private.make_dirs(path.parent)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        private.set_private(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_atomic(path: Path | str, writer: Callable[[Path], None]) -> None:
    """writer(tmp) writes the content; then it replaces path."""
    with atomic_path(path) as tmp:
        writer(tmp)
