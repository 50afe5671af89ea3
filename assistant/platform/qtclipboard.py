"""The clipboard through QClipboard (never pyperclip inside the app: pyperclip shells out to
xclip/xsel on Linux, and reading the clipboard that way from the Qt thread while Qt owns it
deadlocks, since Qt cannot answer xclip while we wait for xclip).

snapshot() copies every format the clipboard offers (text, HTML, images, file lists, private
formats of the chat client) into a QMimeData we own, so restore() gives all of them back.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QMimeData, qInstallMessageHandler
from PySide6.QtGui import QClipboard, QGuiApplication, QWindow

from .base import ClipboardAccess, ClipboardOwnership

log = logging.getLogger(__name__)

# Windows: formats that ask clipboard history (Win+V), cloud clipboard and clipboard managers to
# skip our transient content. Qt maps "application/x-qt-windows-mime;value=\"NAME\"" to the
# registered clipboard format NAME.
WINDOWS_EXCLUDE_FORMATS: dict[str, bytes] = {
    'application/x-qt-windows-mime;value="ExcludeClipboardContentFromMonitorProcessing"': b"\x00\x00\x00\x00",
    'application/x-qt-windows-mime;value="CanIncludeInClipboardHistory"': b"\x00\x00\x00\x00",
    'application/x-qt-windows-mime;value="CanUploadToCloudClipboard"': b"\x00\x00\x00\x00",
}
# Linux: KDE's Klipper (and managers copying its convention) do not record content carrying this.
X11_PASSWORD_HINT = {"x-kde-passwordManagerHint": b"secret"}
# Formats Qt synthesises itself and that must not be copied back byte for byte.
_SKIP_FORMATS = ("application/x-qt-image",)
REFUSED_WARNING = "Cannot set X11 selection owner"


def transient_formats(platform: str = sys.platform) -> dict[str, bytes]:
    """Extra formats marking our pasted text as transient on this OS."""
    if platform == "win32":
        return dict(WINDOWS_EXCLUDE_FORMATS)
    if platform.startswith("linux"):
        return dict(X11_PASSWORD_HINT)
    return {}


class Snapshot:
    """The clipboard's content at one moment: (format, bytes) pairs, plus image/text for Qt's
    own conversions."""

    def __init__(self, formats: list[tuple[str, bytes]], owned_by_us: bool) -> None:
        self.formats = formats
        self.owned_by_us = owned_by_us

    @property
    def empty(self) -> bool:
        return not self.formats

    def to_mime(self) -> QMimeData:
        mime = QMimeData()
        for fmt, data in self.formats:
            mime.setData(fmt, data)
        return mime


class _PasteMime(QMimeData):
    """Our text on the clipboard, noting when another program fetches it: the old clipboard is
    put back only after the chat client has read ours (or after a long wait), never by a guess
    at how fast it is."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches = 0
        self.first_fetch = 0.0
        self.our_text = ""

    def retrieveData(self, mimetype: str, preferred_type):  # noqa: N802, ANN001 - Qt override
        if not self.fetches:
            self.first_fetch = time.monotonic()
        self.fetches += 1
        return super().retrieveData(mimetype, preferred_type)


_live: list[QtClipboard] = []


@atexit.register
def _release_all() -> None:
    """A Python-made QMimeData (_PasteMime) left in the clipboard would be deleted by Qt while
    Python is finalizing, which aborts the interpreter. Hand Qt a plain copy before that."""
    for clipboard in list(_live):
        clipboard.release_tracking()


class QtClipboard(ClipboardAccess):
    """ClipboardAccess on QClipboard (mode Clipboard, not the X11 selection).

    Qt takes the X selection with the timestamp of the last X event IT processed; when another
    program took the clipboard after that (its XFixes notice still queued: the agent copied just
    before the hotkey), the X server ignores the request, Qt only prints a warning and even
    reports ownsClipboard() == True, and Ctrl+V would paste the OLD text. set_text() returns
    False then (it watches for that warning), and refresh() - through `ownership`, on X11 a
    ClipboardOwnership (x11.backend.X11ClipboardOwnership) - makes Qt see a newer
    timestamp before the caller retries."""

    def __init__(self, clipboard: QClipboard | None = None, platform: str = sys.platform,
                 ownership_factory: Callable[[int], ClipboardOwnership] | None = None,
                 verify_with_server: bool | None = None) -> None:
        self.cb = clipboard or QGuiApplication.clipboard()
        self.platform = platform
        self._extra = transient_formats(platform)
        self._restored: Snapshot | None = None  # what we put back last, while it is still there
        self._paste_mime: _PasteMime | None = None
        self.cb.dataChanged.connect(self._forget_restored)
        self.ownership: ClipboardOwnership | None = None
        # Qt's warning is how a refusal is noticed; if logging rules might silence it, ask the
        # X server instead (one round trip per paste).
        self.verify_with_server = ("clipboard" in os.environ.get("QT_LOGGING_RULES", "")
                                   if verify_with_server is None else verify_with_server)
        _live.append(self)
        if ownership_factory is not None:
            self._probe_window = QWindow()  # never shown: gives Qt's X connection id and a
            self.ownership = ownership_factory(int(self._probe_window.winId()))  # window for refresh()

    def snapshot(self) -> Snapshot:
        # Still holding what we restored last time: reuse that copy (the usual case for repeated
        # pastes, and one conversion pass fewer on the hotkey path).
        if self._restored is not None and (self.cb.ownsClipboard() or not self.cb.supportsSelection()):
            return self._restored
        mime = self.cb.mimeData()
        formats: list[tuple[str, bytes]] = []
        if mime is not None:
            for fmt in mime.formats():
                if fmt in _SKIP_FORMATS or fmt in self._extra:
                    continue
                formats.append((fmt, bytes(mime.data(fmt).data())))
        return Snapshot(formats, self.cb.ownsClipboard())

    def set_text(self, text: str) -> bool:
        """Own the clipboard with text; False when the X server refused (retry after refresh())."""
        self._restored = None
        mime = _PasteMime()
        mime.our_text = text
        mime.setText(text)
        for fmt, data in self._extra.items():
            mime.setData(fmt, data)
        refused = self._set_watching(mime)
        self._paste_mime = mime
        if refused:
            return False
        if self.ownership is not None and self.verify_with_server:
            return bool(self.ownership.owned())
        return True

    def _set_watching(self, mime: QMimeData) -> bool:
        """setMimeData, listening for Qt's warning that the X server refused the selection (Qt
        checked it with its own round trip, so the warning costs us nothing). Other messages go
        on to the handler that was installed before."""
        refused: list[bool] = []
        previous = None

        def watch(mode, context, message: str) -> None:  # noqa: ANN001 - Qt types
            if REFUSED_WARNING in message:
                refused.append(True)
                log.info("the X server refused Qt's clipboard ownership (stale timestamp)")
                return
            if previous is not None:
                previous(mode, context, message)
            else:
                sys.stderr.write(message + "\n")

        previous = qInstallMessageHandler(watch)
        try:
            self.cb.setMimeData(mime)
        finally:
            qInstallMessageHandler(previous)
        return bool(refused)

    def refresh(self) -> None:
        if self.ownership is not None:
            self.ownership.refresh()

    def fetch_state(self) -> tuple[int, float] | None:
        """(times another program read our text, monotonic time of the first read)."""
        mime = self._paste_mime
        return (mime.fetches, mime.first_fetch) if mime is not None else None

    def holds_text(self, text: str) -> bool:
        mime = self._paste_mime
        if mime is not None:
            # Qt keeps presenting our own object for as long as nobody else took the clipboard.
            return shiboken6.isValid(mime) and self._is_current(mime) and mime.our_text == text
        if (self.cb.supportsSelection() or sys.platform == "win32") and not self.cb.ownsClipboard():
            return False
        return self.cb.text() == text

    def _is_current(self, mime: QMimeData) -> bool:
        """Is this very object what the clipboard holds (Qt keeps our object while we own it)?"""
        current = self.cb.mimeData()
        return current is not None and shiboken6.getCppPointer(current)[0] == shiboken6.getCppPointer(mime)[0]

    def _forget_restored(self) -> None:
        self._restored = None

    def restore(self, snapshot: Snapshot) -> bool:
        """False when the X server refused Qt's ownership (its timestamp is older than the current
        owner's): the caller retries after refresh()."""
        self._paste_mime = None
        if snapshot.empty:
            self.cb.clear()
            return True
        if self._set_watching(snapshot.to_mime()):
            return False
        self._restored = snapshot  # after setMimeData: its dataChanged must not clear this
        return True

    def text(self) -> str:
        return self.cb.text()

    def release_tracking(self) -> None:
        """If our tracked text is still on the clipboard, put a plain copy of it there (quitting,
        or a paste that failed and left the text for the agent)."""
        mime = self._paste_mime
        self._paste_mime = None
        if mime is None or QGuiApplication.instance() is None or not shiboken6.isValid(mime):
            return
        if self._is_current(mime):
            plain = QMimeData()
            for fmt in mime.formats():
                plain.setData(fmt, mime.data(fmt))
            self.cb.setMimeData(plain)
