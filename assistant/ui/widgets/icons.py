"""Icons from resources/icons: line icons (stroke="currentColor") tinted on load, and the app logo."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPixmap
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


class _TintedEngine(QIconEngine):
    """A tinted line icon rendered per (size, mode, state) the first time Qt asks for it: rendering
    every size and state up front cost ~200 KB of pixmaps per icon, most never shown, and ~2 ms each
    before the panel's first frame (issue 17)."""

    def __init__(self, normal: str, disabled: str, on: str | None) -> None:
        super().__init__()
        self._svgs = (normal, disabled, on)
        self._pixmaps: dict[tuple, QPixmap] = {}

    def _svg(self, mode: QIcon.Mode, state: QIcon.State) -> str:
        normal, disabled, on = self._svgs
        if mode == QIcon.Mode.Disabled:
            return disabled
        return on if state == QIcon.State.On and on is not None else normal

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:  # noqa: D102 - Qt's
        side = max(1, min(size.width(), size.height()))
        key = (side, mode, state)
        pm = self._pixmaps.get(key)
        if pm is None:
            pm = self._pixmaps[key] = _render(self._svg(mode, state), side)
        return pm

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:  # noqa: N802
        return self.pixmap(size, mode, state)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.drawPixmap(rect, self.pixmap(rect.size(), mode, state))

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:  # noqa: N802
        side = min(size.width(), size.height())
        return QSize(side, side)

    def availableSizes(self, mode: QIcon.Mode = QIcon.Mode.Normal,  # noqa: N802
                       state: QIcon.State = QIcon.State.Off) -> list[QSize]:
        return [QSize(s, s) for s in SIZES]

    def isNull(self) -> bool:  # noqa: N802
        return False

    def clone(self) -> QIconEngine:
        return _keep(_TintedEngine(*self._svgs))


_ENGINES: list[_TintedEngine] = []  # Qt holds the engines; their Python halves must outlive every QIcon


def _keep(engine: _TintedEngine) -> _TintedEngine:
    _ENGINES.append(engine)
    return engine


@cache
def icon(name: str, color: str = style.ICON, active: str | None = None) -> QIcon:
    """A tinted line icon; `active` tints the On/Selected state (checked tool buttons)."""
    text = _svg_text(name)
    return QIcon(_keep(_TintedEngine(text.replace("currentColor", color), text.replace("currentColor", style.DISABLED),
                                     text.replace("currentColor", active) if active else None)))


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
