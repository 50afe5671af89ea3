"""The clipboard through QClipboard (never pyperclip inside the app: pyperclip shells out to
xclip/xsel on Linux, and reading the clipboard that way from the Qt thread while Qt owns it
deadlocks, since Qt cannot answer xclip while we wait for xclip).

snapshot() copies every format the clipboard offers (text, HTML, images, file lists, private
formats of the chat client) into a QMimeData we own, so restore() gives all of them back.
"""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QClipboard, QGuiApplication

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


class QtClipboard:
    """ClipboardAccess on QClipboard (mode Clipboard, not the X11 selection)."""

    def __init__(self, clipboard: QClipboard | None = None, platform: str = sys.platform) -> None:
        self.cb = clipboard or QGuiApplication.clipboard()
        self.platform = platform
        self._extra = transient_formats(platform)
        self._restored: Snapshot | None = None  # what we put back last, while it is still there
        self.cb.dataChanged.connect(self._forget_restored)

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

    def set_text(self, text: str) -> None:
        self._restored = None
        mime = QMimeData()
        mime.setText(text)
        for fmt, data in self._extra.items():
            mime.setData(fmt, data)
        self.cb.setMimeData(mime)

    def holds_text(self, text: str) -> bool:
        # ownsClipboard: nobody else took it since (on X11 this is exact; on Windows Qt checks
        # the clipboard owner window). The text check covers platforms where it is unsupported.
        if self.cb.supportsSelection() or sys.platform == "win32":
            if not self.cb.ownsClipboard():
                return False
        return self.cb.text() == text

    def _forget_restored(self) -> None:
        self._restored = None

    def restore(self, snapshot: Snapshot) -> None:
        if snapshot.empty:
            self.cb.clear()
        else:
            self.cb.setMimeData(snapshot.to_mime())
            self._restored = snapshot  # after setMimeData: its dataChanged must not clear this

    def text(self) -> str:
        return self.cb.text()
