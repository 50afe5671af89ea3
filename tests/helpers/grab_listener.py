"""A bare XGrabKey listener: the floor of hotkey latency, and "another program holding a hotkey".

    python grab_listener.py ctrl+alt+9        prints "ready", then "press <monotonic time>" per KeyPress

Grabs with the CapsLock/NumLock variants, like the app, and keeps the grab until killed.
"""

from __future__ import annotations

import select
import sys
import time

from Xlib import XK, X, error
from Xlib.display import Display

MASKS = {"ctrl": X.ControlMask, "alt": X.Mod1Mask, "shift": X.ShiftMask, "super": X.Mod4Mask}


def main() -> int:
    parts = sys.argv[1].lower().split("+")
    display = Display()
    root = display.screen().root
    mask = 0
    for mod in parts[:-1]:
        mask |= MASKS[mod]
    keycode = display.keysym_to_keycode(XK.string_to_keysym(parts[-1]))
    catcher = error.CatchError(error.BadAccess)
    for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask):
        root.grab_key(keycode, mask | extra, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
    display.sync()
    if catcher.get_error() is not None:
        print("busy", flush=True)
        return 1
    print("ready", flush=True)
    fd = display.fileno()
    while True:
        while display.pending_events():
            event = display.next_event()
            if event.type == X.KeyPress:
                now = time.monotonic()
                display.ungrab_keyboard(X.CurrentTime)
                display.flush()
                print(f"press {now:.6f}", flush=True)
        select.select([fd], [], [], 1.0)


if __name__ == "__main__":
    sys.exit(main())
