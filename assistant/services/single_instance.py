"""One running panel per data folder: a second launch asks the first to come forward and exits.

A QLockFile in the data folder says who runs (QLockFile removes a stale lock whose process is gone:
stale-lock recovery after a crash or kill -9). The "show yourself" message is a file: a second launch
creates `instance/show-<pid>-<n>` in the data folder and waits for it to disappear; the primary
watches that folder (QFileSystemWatcher: inotify on Linux, change notifications on Windows), deletes
each request it sees - the acknowledgement - and comes forward. No socket: QtNetwork and the Kerberos
libraries it links cost the panel ~3 MB of resident memory (issue 17) for one word between two
processes of the same user. The panel takes the lock before its first frame and watches after it; a
request made meanwhile is found when it starts watching, and the second launch waits up to
CONNECT_TIMEOUT_MS for its answer.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, Signal

from ..core import private

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 1500
REQUESTS_DIR = "instance"
REQUEST_PREFIX = "show-"
POLL_S = 0.02
_counter = itertools.count()


class SingleInstance(QObject):
    """primary() is True for the first instance; it then emits activate_requested when another
    launch asks it to show itself. For a second instance, notify_primary() tells the first one."""

    activate_requested = Signal()

    def __init__(self, data_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.lock_path = self.data_dir / "panel.lock"
        self.lock = QLockFile(str(self.lock_path))
        self.lock.setStaleLockTime(0)  # never stale by age: only when its process is gone
        self.requests_dir = self.data_dir / REQUESTS_DIR
        self.watcher: Any = None  # a QFileSystemWatcher on requests_dir once listening

    @property
    def listening(self) -> bool:
        return self.watcher is not None

    def acquire(self, listen: bool = True) -> bool:
        """True when this process is now the primary instance; it listens for others now, or (listen
        False) once listen() is called."""
        if not self.lock.tryLock(100):
            if self.lock.error() == QLockFile.LockError.LockFailedError:
                return False
            # Permission or unknown error: run anyway rather than refusing to start.
            log.warning("single-instance lock unavailable (%s); continuing", self.lock.error())
        else:
            private.set_private(self.lock_path)  # QLockFile creates it 0666 & ~umask
        if listen:
            self.listen()
        return True

    def listen(self) -> None:
        """Answer other launches (the primary instance, after acquire(listen=False))."""
        from PySide6.QtCore import QFileSystemWatcher

        if self.watcher is not None:
            return
        try:
            private.make_dirs(self.requests_dir)
        except OSError as exc:
            log.warning("single-instance requests folder unavailable (%s); a second launch gets no answer",
                        type(exc).__name__)
            return
        self.watcher = QFileSystemWatcher([str(self.requests_dir)], self)
        self.watcher.directoryChanged.connect(self._answer)
        self._answer()  # requests made before the panel listened (it listens after its first frame)

    def notify_primary(self) -> bool:
        """Ask the running instance to show its panel; False if it did not answer within
        CONNECT_TIMEOUT_MS (a primary still starting answers once it listens)."""
        try:
            private.make_dirs(self.requests_dir)
            request = self.requests_dir / f"{REQUEST_PREFIX}{os.getpid()}-{next(_counter)}"
            os.close(private.open_private(request, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        except OSError as exc:
            log.warning("could not ask the running instance to show itself (%s)", type(exc).__name__)
            return False
        deadline = time.monotonic() + CONNECT_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            if not request.exists():
                return True
            time.sleep(POLL_S)
        try:
            request.unlink()  # unanswered: withdrawn, so a later start is not asked to show itself
        except FileNotFoundError:
            return True  # answered at the last moment
        except OSError:
            pass
        return False

    def _answer(self, _path: str = "") -> None:
        try:
            requests = [p for p in self.requests_dir.iterdir() if p.name.startswith(REQUEST_PREFIX)]
        except OSError:
            return
        answered = False
        for request in requests:
            try:
                request.unlink()  # the acknowledgement the other launch waits for
            except OSError:
                continue  # another answer took it, or it was withdrawn
            answered = True
        if answered:
            log.info("another launch asked this instance to show itself")
            self.activate_requested.emit()

    def release(self) -> None:
        if self.watcher is not None:
            self.watcher.deleteLater()
            self.watcher = None
        if self.lock.isLocked():
            self.lock.unlock()
