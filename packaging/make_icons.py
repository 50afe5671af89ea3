"""Render resources/icons/app.svg into the PNG sizes a Linux desktop wants and a Windows .ico.

    python packaging/make_icons.py      # writes resources/icons/app-{16..256}.png and app.ico

On Linux `kefu desktop-install` puts them (and the .desktop file) into the user's menu.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(QByteArray((ICONS / "app.svg").read_bytes())).render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def write_ico(path: Path, images: dict[int, bytes]) -> None:
    """ICO with PNG-compressed entries (Windows Vista and later)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in sorted(images.items()):
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    path.write_bytes(header + entries + blobs)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - needed for QImage text
    images = {size: render(size) for size in SIZES}
    for size in (16, 32, 48, 128, 256):
        (ICONS / f"app-{size}.png").write_bytes(images[size])
    write_ico(ICONS / "app.ico", {s: images[s] for s in (16, 24, 32, 48, 64, 256)})
    print(f"wrote {len(images)} sizes to {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
