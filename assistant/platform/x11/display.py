"""Open an X display connection cleanly (no Qt here: `kefu doctor` uses it too)."""

from __future__ import annotations

import gc
import os
import sys
import warnings
from pathlib import Path


class NoDisplay(Exception):
    pass


# The X extensions whose python-xlib modules we use. Display() otherwise imports all 15 of its
# extension modules and asks the server about each present one, one round trip apiece: ~11 ms of
# a cold start on Xvfb, 13 modules never used (issue 17).
EXTENSIONS = ("XTEST",)


def open_display(name: str | None = None, extensions: tuple[str, ...] = EXTENSIONS):
    """Xlib Display for `name` (default $DISPLAY), with only `extensions` set up (has_extension()
    answers for those). Raises NoDisplay with a readable reason.

    A local display whose socket is missing is refused without trying: python-xlib leaves its
    sockets open when a connection fails (ResourceWarning), so failed attempts are also collected
    here, quietly."""
    from Xlib import error, ext
    from Xlib.display import Display

    display = name or os.environ.get("DISPLAY") or ""
    if not display:
        raise NoDisplay("DISPLAY is not set")
    number = display[1:].split(".")[0] if display.startswith(":") else ""
    if number.isdigit() and sys.platform.startswith("linux") and not Path(f"/tmp/.X11-unix/X{number}").exists():
        raise NoDisplay(f"no X server on display {display}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        # Display() reads this module-level list; restored at once so other users see it whole.
        every = ext.__extensions__
        ext.__extensions__ = [(xname, module) for xname, module in every if xname in extensions]
        try:
            return Display(display)
        except (error.DisplayError, error.ConnectionClosedError, OSError) as exc:
            gc.collect()
            raise NoDisplay(f"cannot connect to X display {display}: {exc}") from None
        finally:
            ext.__extensions__ = every
