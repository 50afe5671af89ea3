"""The floor of our stack for bench_startup.py: a bare PySide6 + python-xlib program that grabs a key
and pastes a text, nothing else (no store, no panel, no search).

    python startup_floor.py ctrl+alt+1 TEXT

On the KeyPress: TEXT onto the clipboard (Qt owns the selection, as the app does), wait until the
chord's modifiers are up, Ctrl+V through XTEST. Runs until killed.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication
from Xlib import XK, X
from Xlib.display import Display
from Xlib.ext import xtest

MASKS = {"ctrl": X.ControlMask, "alt": X.Mod1Mask, "shift": X.ShiftMask, "super": X.Mod4Mask}


def main() -> int:
    chord, text = sys.argv[1], sys.argv[2]
    app = QApplication(sys.argv[:1])
    display = Display()
    root = display.screen().root
    parts = chord.lower().split("+")
    mask = 0
    for mod in parts[:-1]:
        mask |= MASKS[mod]
    keycode = display.keysym_to_keycode(XK.string_to_keysym(parts[-1]))
    for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask):
        root.grab_key(keycode, mask | extra, False, X.GrabModeAsync, X.GrabModeAsync)
    display.sync()
    ctrl = display.keysym_to_keycode(XK.XK_Control_L)
    v = display.keysym_to_keycode(XK.string_to_keysym("v"))
    modifiers = [display.keysym_to_keycode(XK.string_to_keysym(n)) for n in ("Control_L", "Control_R", "Alt_L",
                                                                              "Alt_R", "Shift_L", "Super_L")]

    def modifiers_down() -> bool:
        keymap = display.query_keymap()
        return any(keymap[k // 8] & (1 << (k % 8)) for k in modifiers if k)

    def paste() -> None:
        if modifiers_down():
            QTimer.singleShot(1, paste)
            return
        for code, kind in ((ctrl, X.KeyPress), (v, X.KeyPress), (v, X.KeyRelease), (ctrl, X.KeyRelease)):
            xtest.fake_input(display, kind, code)
        display.sync()

    def on_events() -> None:
        while display.pending_events():
            event = display.next_event()
            if event.type == X.KeyPress:
                display.ungrab_keyboard(X.CurrentTime)
                app.clipboard().setText(text)
                paste()

    notifier = QSocketNotifier(display.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(on_events)
    QTimer.singleShot(0, on_events)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
