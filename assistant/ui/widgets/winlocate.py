"""Find another program's top-level window by title or class: the default locator for the
"attach beside the chat client" dock mode (assistant.ui.widgets.docking).

X11 through python-xlib (EWMH _NET_CLIENT_LIST), Windows through user32. Wayland and others have
no such API: `default_locator()` returns None there and the panel docks to the screen edge.
Deliberately small and independent of assistant.platform (app.py may inject the platform's own
WindowTracker instead).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)

Geometry = tuple[int, int, int, int]


class X11Locator:
    """Connects to the X server when first asked (issue 17: ~10 ms before the first frame, and most
    panels dock to the screen edge and never ask)."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import X, display  # noqa: F401 - fails here when python-xlib is missing

        self._display_name = display_name
        self._display = None
        self._root = None
        self._failed = False

    def _atom(self, name: str) -> int:
        return self._display.intern_atom(name)

    def _connect(self) -> bool:
        if self._display is None and not self._failed:
            from Xlib import display

            try:
                self._display = display.Display(self._display_name)
                self._root = self._display.screen().root
            except Exception as exc:  # noqa: BLE001 - no X connection
                self._failed = True
                log.warning("window locator unavailable: %s", exc)
        return self._display is not None

    def _clients(self):
        if not self._connect():
            return []
        prop = self._root.get_full_property(self._atom("_NET_CLIENT_LIST"), 0)
        if prop is None:  # no EWMH window manager: top-level children of the root
            return [w for w in self._root.query_tree().children]
        return [self._display.create_resource_object("window", wid) for wid in prop.value]

    def _describe(self, win) -> tuple[str, str, int | None]:
        from Xlib import X

        title = ""
        prop = win.get_full_property(self._atom("_NET_WM_NAME"), self._atom("UTF8_STRING"))
        if prop is not None:
            raw = prop.value
            title = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        if not title:
            name = win.get_wm_name()
            title = name.decode("utf-8", "replace") if isinstance(name, bytes) else (name or "")
        wm_class = win.get_wm_class() or ()
        pid_prop = win.get_full_property(self._atom("_NET_WM_PID"), X.AnyPropertyType)
        pid = int(pid_prop.value[0]) if pid_prop is not None and len(pid_prop.value) else None
        return title, " ".join(wm_class), pid

    def _geometry(self, win) -> Geometry | None:
        from Xlib import X

        attrs = win.get_attributes()
        if attrs.map_state != X.IsViewable:
            return None
        geo = win.get_geometry()
        pos = win.translate_coords(self._root, 0, 0)
        x, y = -pos.x, -pos.y
        left = right = top = bottom = 0
        extents = win.get_full_property(self._atom("_NET_FRAME_EXTENTS"), X.AnyPropertyType)
        if extents is not None and len(extents.value) == 4:
            left, right, top, bottom = (int(v) for v in extents.value)
        return (x - left, y - top, geo.width + left + right, geo.height + top + bottom)

    def windows(self) -> list[tuple[str, str]]:
        out = []
        for win in self._clients():
            try:
                title, wm_class, pid = self._describe(win)
            except Exception:  # noqa: BLE001 - windows vanish between listing and reading
                continue
            if pid == os.getpid() or not (title or wm_class):
                continue
            out.append((title, wm_class))
        return out

    def __call__(self, pattern: str) -> Geometry | None:
        needle = pattern.strip().lower()
        if not needle:
            return None
        for win in self._clients():
            try:
                title, wm_class, pid = self._describe(win)
                if pid == os.getpid():
                    continue
                if needle in title.lower() or needle in wm_class.lower():
                    geometry = self._geometry(win)
                    if geometry is not None:
                        return geometry
            except Exception:  # noqa: BLE001
                continue
        return None


class WindowsLocator:
    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._ctypes = ctypes
        self._wintypes = wintypes
        self._user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        try:
            self._dwm = ctypes.windll.dwmapi  # type: ignore[attr-defined]
        except OSError:
            self._dwm = None

    def _enum(self) -> list[tuple[int, str, str]]:
        ctypes, wintypes, user32 = self._ctypes, self._wintypes, self._user32
        found: list[tuple[int, str, str]] = []
        own_pid = os.getpid()

        @ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)
        def callback(hwnd, _lparam):
            if not user32.IsWindowVisible(hwnd) or user32.IsIconic(hwnd):
                return True
            pid = wintypes.DWORD()
            user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
            if pid.value == own_pid:
                return True
            length = user32.GetWindowTextLengthW(hwnd)
            title = ctypes.create_unicode_buffer(length + 1)
            user32.GetWindowTextW(hwnd, title, length + 1)
            cls = ctypes.create_unicode_buffer(256)
            user32.GetClassNameW(hwnd, cls, 256)
            if title.value or cls.value:
                found.append((hwnd, title.value, cls.value))
            return True

        user32.EnumWindows(callback, 0)
        return found

    def _rect(self, hwnd: int) -> Geometry | None:
        ctypes, wintypes = self._ctypes, self._wintypes
        rect = wintypes.RECT()
        ok = False
        if self._dwm is not None:  # DWMWA_EXTENDED_FRAME_BOUNDS: the visible frame, no shadow
            ok = self._dwm.DwmGetWindowAttribute(hwnd, 9, ctypes.byref(rect), ctypes.sizeof(rect)) == 0
        if not ok and not self._user32.GetWindowRect(hwnd, ctypes.byref(rect)):
            return None
        # Physical pixels -> Qt's logical pixels.
        from PySide6.QtGui import QGuiApplication

        screen = QGuiApplication.primaryScreen()
        ratio = screen.devicePixelRatio() if screen is not None else 1.0
        return (round(rect.left / ratio), round(rect.top / ratio), round((rect.right - rect.left) / ratio),
                round((rect.bottom - rect.top) / ratio))

    def windows(self) -> list[tuple[str, str]]:
        return [(title, cls) for _h, title, cls in self._enum()]

    def __call__(self, pattern: str) -> Geometry | None:
        needle = pattern.strip().lower()
        if not needle:
            return None
        for hwnd, title, cls in self._enum():
            if needle in title.lower() or needle in cls.lower():
                return self._rect(hwnd)
        return None


def default_locator(platform_name: str) -> Callable[[str], Geometry | None] | None:
    """A locator for Qt's platform plugin name ("xcb", "windows"), or None where none exists."""
    try:
        if platform_name == "xcb" and sys.platform.startswith("linux"):
            return X11Locator()
        if platform_name == "windows" and sys.platform == "win32":
            return WindowsLocator()
    except Exception as exc:  # noqa: BLE001 - no X connection, no python-xlib, ...
        log.warning("window locator unavailable: %s", exc)
    return None
