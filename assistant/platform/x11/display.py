"""Open an X display connection cleanly (no Qt here: `kefu doctor` uses it too)."""

from __future__ import annotations

import gc
import os
import sys
import warnings
from pathlib import Path


class NoDisplay(Exception):
    pass


def open_display(name: str | None = None):
    """Xlib Display for `name` (default $DISPLAY). Raises NoDisplay with a readable reason.

    A local display whose socket is missing is refused without trying: python-xlib leaves its
    sockets open when a connection fails (ResourceWarning), so failed attempts are also collected
    here, quietly."""
    from Xlib import error
    from Xlib.display import Display

    display = name or os.environ.get("DISPLAY") or ""
    if not display:
        raise NoDisplay("DISPLAY is not set")
    number = display[1:].split(".")[0] if display.startswith(":") else ""
    if number.isdigit() and sys.platform.startswith("linux") and not Path(f"/tmp/.X11-unix/X{number}").exists():
        raise NoDisplay(f"no X server on display {display}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return Display(display)
        except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
            gc.collect()
            raise NoDisplay(f"cannot connect to X display {display}: {exc}") from None
