"""One running panel per data folder: a second launch asks the first to come forward and exits.

A QLockFile in the data folder says who runs (QLockFile removes a stale lock whose process is gone:
stale-lock recovery after a crash or kill -9), and a QLocalServer named after the data folder
carries the "show yourself" message. A leftover socket file of a dead instance is removed before
listening (QLocalServer.removeServer). The panel takes the lock before its first frame and listens
after it (issue 17: QtNetwork is not imported before the hotkeys answer); a second launch meanwhile
retries its connection for up to CONNECT_TIMEOUT_MS.
"""

from __future__ import annotations

import getpass
import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, Signal

from ..core import private

log = logging.getLogger(__name__)

MESSAGE_SHOW = b"show\n"
CONNECT_TIMEOUT_MS = 1500


def server_name(data_dir: Path) -> str:
    import hashlib

    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some sandboxes
        user = "user"
    digest = hashlib.sha1(f"{user}|{Path(data_dir).resolve()}".encode()).hexdigest()[:16]
    return f"kefu-assistant-{digest}"


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
        self.server: Any = None  # a QLocalServer once listening

    @property
    def name(self) -> str:
        return server_name(self.data_dir)

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
        from PySide6.QtNetwork import QLocalServer

        if self.server is not None:
            return
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(self.name)  # a dead instance's socket file
        if not self.server.listen(self.name):
            log.warning("single-instance server could not listen: %s", self.server.errorString())
        self.server.newConnection.connect(self._on_connection)

    def notify_primary(self) -> bool:
        """Ask the running instance to show its panel; False if it did not answer. A primary still
        starting (it listens after its first frame) is retried until CONNECT_TIMEOUT_MS."""
        from PySide6.QtNetwork import QLocalSocket

        deadline = time.monotonic() + CONNECT_TIMEOUT_MS / 1000
        while True:
            socket = QLocalSocket()
            socket.connectToServer(self.name)
            if socket.waitForConnected(CONNECT_TIMEOUT_MS):
                break
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        socket.write(MESSAGE_SHOW)
        ok = socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.waitForReadyRead(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return ok

    def _on_connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            # The other launch writes its one line right after connecting: read it here, briefly.
            data = b""
            if socket.bytesAvailable() or socket.waitForReadyRead(CONNECT_TIMEOUT_MS):
                data = socket.readAll().data()
            if MESSAGE_SHOW.strip() in bytes(data):
                log.info("another launch asked this instance to show itself")
                socket.write(b"ok\n")
                socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
                self.activate_requested.emit()
            socket.disconnectFromServer()
            socket.deleteLater()

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock.isLocked():
            self.lock.unlock()
