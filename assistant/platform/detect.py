"""Pick the platform backend and say why. No Qt import: `kefu doctor` calls describe_backend().

    windows  sys.platform == "win32" and the `keyboard` package is installed
    x11      an X11 session (DISPLAY set, not Wayland), python-xlib installed, the server answers
             and has the XTEST extension
    dummy    everything else: Wayland (apps may not grab keys or type into other apps there),
             macOS, no display; the panel copies and says "press Ctrl+V"

KEFU_HOTKEY_BACKEND=x11|windows|dummy overrides the choice (e.g. x11 under XWayland, where grabs
only see keys typed into X11 windows).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections.abc import Mapping

log = logging.getLogger(__name__)

ENV_OVERRIDE = "KEFU_HOTKEY_BACKEND"
BACKENDS = ("x11", "windows", "dummy")
_X11_REASON = "X11 session on {display}: XGrabKey hotkeys, XTest paste"


def _probe_x11(display: str) -> tuple[bool, str]:
    if importlib.util.find_spec("Xlib") is None:
        return False, "python-xlib is not installed (pip install python-xlib)"
    from .x11.display import NoDisplay, open_display

    try:
        conn = open_display(display)
    except NoDisplay as exc:
        return False, str(exc)
    try:
        if not conn.has_extension("XTEST"):
            return False, f"X display {display} has no XTEST extension (needed to send the paste keys)"
    finally:
        conn.close()
    return True, _X11_REASON.format(display=display)


def detect(env: Mapping[str, str] | None = None, platform: str | None = None, probe: bool = True
           ) -> tuple[str, str]:
    """(backend name, reason in English)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    forced = (env.get(ENV_OVERRIDE) or "").strip().lower()
    if forced:
        if forced in BACKENDS:
            return forced, f"{ENV_OVERRIDE}={forced}"
        log.warning("ignoring %s=%r (one of %s)", ENV_OVERRIDE, forced, ", ".join(BACKENDS))
    if platform == "win32":
        if importlib.util.find_spec("keyboard") is None:
            return "dummy", "Windows, but the `keyboard` package is not installed"
        return "windows", "Windows: `keyboard` hooks for hotkeys, SendInput paste"
    if platform == "darwin":
        return "dummy", "macOS: global hotkeys are not supported yet"
    session = (env.get("XDG_SESSION_TYPE") or "").lower()
    if session == "wayland" or (env.get("WAYLAND_DISPLAY") and session != "x11"):
        return "dummy", ("Wayland session: apps may not grab global keys or type into other windows; "
                         f"copy, then Ctrl+V (set {ENV_OVERRIDE}=x11 to try XWayland)")
    display = env.get("DISPLAY")
    if not display:
        return "dummy", "no X display (DISPLAY is not set)"
    if probe:
        ok, reason = _probe_x11(display)
        if not ok:
            return "dummy", reason
        return "x11", reason
    return "x11", f"X11 session on {display}"


def describe_backend(env: Mapping[str, str] | None = None, platform: str | None = None) -> dict:
    """For `kefu doctor`: which backend the panel would use, why, and what it can do."""
    name, reason = detect(env, platform)
    capabilities = {
        "x11": {"global_hotkeys": True, "auto_paste": True, "release_modifiers": True},
        "windows": {"global_hotkeys": True, "auto_paste": True, "release_modifiers": True},
        "dummy": {"global_hotkeys": False, "auto_paste": False, "release_modifiers": False},
    }[name]
    return {"backend": name, "reason": reason, **capabilities,
            "fallback": "" if capabilities["auto_paste"] else "已复制，请按 Ctrl+V / copied, press Ctrl+V"}


def create_backend(name: str | None = None, reason: str = ""):
    """Build the chosen backend (imports Qt and the OS modules). Falls back to dummy, with the
    reason, when the chosen one cannot start."""
    from ..errors import KnownError

    probe_here = False
    if name is None:
        name, reason = detect(probe=False)
        # The backend's own connection is the probe: one X connection at start, not two (issue 17).
        probe_here = name == "x11" and not os.environ.get(ENV_OVERRIDE, "").strip()
    if name == "x11":
        display = os.environ.get("DISPLAY", "")
        if probe_here and importlib.util.find_spec("Xlib") is None:
            return _dummy("python-xlib is not installed (pip install python-xlib)")
        try:
            from .x11.backend import create

            backend = create(None, _X11_REASON.format(display=display) if probe_here else reason)
        except (KnownError, ImportError) as exc:
            log.warning("X11 backend failed to start: %s", exc)
            reason = f"X11 backend failed: {exc}"
            name = "dummy"
        else:
            if not probe_here or backend.capabilities.send_keys:
                return backend
            backend.close()
            return _dummy(f"X display {display} has no XTEST extension (needed to send the paste keys)")
    elif name == "windows":
        try:
            from .windows.backend import create as create_windows

            return create_windows(reason)
        except (KnownError, ImportError, OSError) as exc:
            log.warning("Windows backend failed to start: %s", exc)
            reason = f"Windows backend failed: {exc}"
            name = "dummy"
    return _dummy(reason)


def _dummy(reason: str):  # noqa: ANN202 - a Backend, imported lazily
    from .dummy.backend import create as create_dummy

    return create_dummy(reason)
