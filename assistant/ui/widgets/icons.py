"""Icons from resources/icons: line icons (stroke="currentColor") tinted on load, and the app logo."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from ...paths import resource_path
from . import style

SIZES = (16, 20, 24, 32, 48)


@cache
def _svg_text(name: str) -> str:
    return resource_path("icons", f"{name}.svg").read_text(encoding="utf-8")


def _render(svg: str, size: int) -> QPixmap:
    ratio = 2.0
    app = QGuiApplication.instance()
    if app is not None and QGuiApplication.primaryScreen() is not None:
        ratio = max(ratio, QGuiApplication.primaryScreen().devicePixelRatio())
    pm = QPixmap(int(size * ratio), int(size * ratio))
    pm.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pm.width(), pm.height()))
    painter.end()
    pm.setDevicePixelRatio(ratio)
    return pm


@cache
def icon(name: str, color: str = style.ICON, active: str | None = None) -> QIcon:
    """A tinted line icon; `active` tints the On/Selected state (checked tool buttons)."""
    text = _svg_text(name)
    result = QIcon()
    for size in SIZES:
        result.addPixmap(_render(text.replace("currentColor", color), size), QIcon.Mode.Normal, QIcon.State.Off)
        result.addPixmap(_render(text.replace("currentColor", style.DISABLED), size), QIcon.Mode.Disabled)
        if active:
            result.addPixmap(_render(text.replace("currentColor", active), size), QIcon.Mode.Normal, QIcon.State.On)
    return result


def pixmap(name: str, size: int, color: str = style.ICON) -> QPixmap:
    return _render(_svg_text(name).replace("currentColor", color), size)


@cache
def app_icon(paused: bool = False) -> QIcon:
    text = _svg_text("app-paused" if paused else "app")
    result = QIcon()
    for size in (16, 22, 24, 32, 48, 64, 128, 256):
        result.addPixmap(_render(text, size))
    return result


def color(name: str) -> QColor:
    return QColor(name)
