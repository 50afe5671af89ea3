"""Who holds the write lock: a small marker file a long kefu write (an import) leaves in the data
folder while it runs, so that a "database is locked" message can say "kefu is importing replies
(process N)" instead of blaming "another program".

The marker is `<data folder>/import.lock`: one JSON line {"pid", "started", "what"}. It is written
before the writer asks for the lock and removed in a finally; a marker whose process is gone (a
kill -9) is stale and ignored. It is advisory only: SQLite's own lock decides who may write.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = "import.lock"


@dataclass(frozen=True)
class Holder:
    pid: int
    started: float  # time.time() when the import began
    what: str = "import"


def marker_path(db_path: Path) -> Path:
    return Path(db_path).parent / MARKER


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # pragma: no cover - Windows: no signal 0; ask the kernel for the process
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ok = ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    except OSError:
        return False
    return True


def live_holder(db_path: Path) -> Holder | None:
    """The kefu process marked as holding the write lock, if its marker is there and it still runs."""
    try:
        data = json.loads(marker_path(db_path).read_text(encoding="utf-8"))
        holder = Holder(int(data["pid"]), float(data["started"]), str(data.get("what", "import")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return holder if _alive(holder.pid) else None


@contextlib.contextmanager
def marked(db_path: Path, what: str = "import") -> Iterator[None]:
    """Leave the marker for the duration of the block. Never fails the caller: a folder we cannot
    write (read-only) only loses the nicer message."""
    path = marker_path(db_path)
    written = False
    try:
        path.write_text(json.dumps({"pid": os.getpid(), "started": time.time(), "what": what}) + "\n",
                        encoding="utf-8")
        written = True
    except OSError as exc:
        log.info("no lock marker (%s)", exc.strerror)
    try:
        yield
    finally:
        if written:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                # Only our own: the marker of another import that started meanwhile stays.
                if int(json.loads(path.read_text(encoding="utf-8"))["pid"]) == os.getpid():
                    path.unlink()
