"""Where the panel sits: against the left or right edge of the work area at full height, beside a
chosen window (the chat client) following it, or wherever the agent put it ("free").

Finding another program's window is the platform's business: app.py injects a locator, a callable
pattern -> (x, y, w, h) of the first window whose title or class contains pattern (outer frame, in
Qt's logical screen coordinates), or None. Without one, or when nothing matches, the panel falls
back to the screen edge and says so once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QRect, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

Locator = Callable[[str], "tuple[int, int, int, int] | None"]
MODES = ("right", "left", "attach", "free")
FOLLOW_MS = 400
# Beside a shorter window the panel keeps this height (search box, groups and a few results),
# growing downwards, or upwards where the work area ends.
MIN_ATTACHED_HEIGHT = 360


def edge_rect(work: QRect, edge: str, width: int) -> QRect:
    width = max(1, min(width, work.width()))
    x = work.left() if edge == "left" else work.right() - width + 1
    return QRect(x, work.top(), width, work.height())


def beside_rect(target: QRect, work: QRect, width: int,
                min_height: int = MIN_ATTACHED_HEIGHT) -> tuple[QRect, str]:
    """The panel's rect beside `target`: right of it if there is room, else left, else overlapping
    the target's right edge. Height follows the target, clamped to the work area, and is at least
    min_height (or the work area's height): never off the bottom of the screen."""
    top = max(work.top(), target.top())
    bottom = min(work.bottom(), target.bottom())
    needed = min(max(1, min_height), work.height())
    if bottom - top + 1 < needed:
        top = min(top, work.bottom() - needed + 1)
        bottom = top + needed - 1
    height = bottom - top + 1
    if target.right() + width <= work.right():
        return QRect(target.right() + 1, top, width, height), "right"
    if target.left() - width >= work.left():
        return QRect(target.left() - width, top, width, height), "left"
    x = min(max(work.left(), target.right() - width + 1), work.right() - width + 1)
    return QRect(x, top, width, height), "inside"


def place(window: QWidget, frame: QRect) -> None:
    """Give the window this outer rect (frame included, when the window manager adds one)."""
    geo, outer = window.geometry(), window.frameGeometry()
    left, top = geo.left() - outer.left(), geo.top() - outer.top()
    right, bottom = outer.right() - geo.right(), outer.bottom() - geo.bottom()
    if not window.isVisible() or min(left, top, right, bottom) < 0 or max(left, top, right, bottom) > 80:
        left = top = right = bottom = 0
    target = frame.adjusted(left, top, -right, -bottom)
    if target != geo:
        window.setGeometry(target)


class Docker(QObject):
    """Keeps a window docked or attached according to the mode."""

    #: the chosen placement is impossible and the panel fell back to the screen edge (a message)
    fallback = Signal(str)
    #: a new outer rect was applied (tests, and the panel to ignore its own resize events)
    placed = Signal(QRect)
    #: placed as asked again after a fallback (the window turned up, or the mode changed)
    recovered = Signal()

    def __init__(self, window: QWidget, locator: Locator | None = None) -> None:
        super().__init__(window)
        self._window = window
        self.locator = locator
        self.mode = "right"
        self.width = 360
        self.pattern = ""
        self._last_target: tuple[int, int, int, int] | None = None
        self._warned = False
        self._timer = QTimer(self)
        self._timer.setInterval(FOLLOW_MS)
        self._timer.timeout.connect(self._follow)

    def configure(self, mode: str, width: int, pattern: str = "") -> None:
        if mode not in MODES:
            mode = "right"
        if (mode, pattern) != (self.mode, self.pattern):
            if self._warned:
                self._warned = False
                self.recovered.emit()
            self._last_target = None
        self.mode, self.width, self.pattern = mode, width, pattern
        if mode == "attach":
            self._timer.start()
        else:
            self._timer.stop()
        self.apply()

    def work_area(self) -> QRect:
        screen = self._window.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def apply(self) -> None:
        if self.mode == "free":
            return
        if self.mode == "attach":
            self._follow(force=True)
            return
        self._set(edge_rect(self.work_area(), self.mode, self.width))

    def _set(self, rect: QRect) -> None:
        place(self._window, rect)
        self.placed.emit(rect)

    def _locate(self) -> tuple[int, int, int, int] | None:
        if self.locator is None or not self.pattern.strip():
            return None
        try:
            return self.locator(self.pattern)
        except Exception:  # noqa: BLE001 - a failing locator must not break the panel
            log.exception("window locator failed")
            return None

    def _follow(self, force: bool = False) -> None:
        if self.mode != "attach":
            return
        found = self._locate()
        if found is None:
            if not self._warned:
                self._warned = True
                if self.locator is None:
                    self.fallback.emit(translate("Docking", "当前系统不支持跟随其他窗口，面板已停靠在屏幕右侧。"))
                elif not self.pattern.strip():
                    self.fallback.emit(translate("Docking", "尚未设置要跟随的窗口（设置 → 窗口），面板已停靠在屏幕右侧。"))
                else:
                    self.fallback.emit(translate("Docking", "没有找到标题含“{pattern}”的窗口，面板暂时停靠在屏幕右侧。")
                                       .replace("{pattern}", self.pattern))
                self._set(edge_rect(self.work_area(), "right", self.width))
            return
        if self._warned:
            self._warned = False
            self.recovered.emit()
        if not force and found == self._last_target:
            return
        self._last_target = found
        # The window's own minimum (its layout's) too: Qt would enlarge a smaller rect downwards.
        minimum = max(MIN_ATTACHED_HEIGHT, self._window.minimumHeight(), self._window.minimumSizeHint().height())
        rect, _side = beside_rect(QRect(*found), self.work_area(), self.width, minimum)
        self._set(rect)
