"""A stand-in chat client for the end-to-end tests: one text box in its OWN process.

It reports every change of its text to a JSON file (text, monotonic time of the change, a counter)
and obeys one-line commands on stdin:
    clear            empty the box
    select TEXT      put TEXT in the box and select it all (for the copy-selection actions)
    title TEXT       set the window title (per-app paste rules match titles)
    focus            activate the window and focus the box
    quit
On start it prints "ready <window id>" once the window is shown and focused.

Run: python chat_client.py STATE_FILE [qt]
"""

from __future__ import annotations

import json
import os
import sys
import time

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QPlainTextEdit


def main() -> int:
    state_path = sys.argv[1]
    app = QApplication(sys.argv[:1])
    box = QPlainTextEdit()
    box.setWindowTitle("fake chat client 聊天窗口")
    box.resize(500, 300)
    counter = [0]

    def write_state() -> None:
        counter[0] += 1
        data = {"text": box.toPlainText(), "t": time.monotonic(), "n": counter[0]}
        tmp = state_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
        os.replace(tmp, state_path)

    box.textChanged.connect(write_state)
    buffer = b""

    def on_stdin() -> None:
        nonlocal buffer
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            app.quit()
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command, _, arg = line.decode("utf-8").partition(" ")
            if command == "clear":
                box.clear()
                write_state()
            elif command == "select":
                box.setPlainText(arg)
                box.selectAll()
                write_state()
            elif command == "title":
                box.setWindowTitle(arg)
            elif command == "focus":
                box.activateWindow()
                box.setFocus()
            elif command == "quit":
                app.quit()

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(on_stdin)
    box.show()
    box.activateWindow()
    box.setFocus()

    def announce() -> None:
        write_state()
        print(f"ready {int(box.winId())}", flush=True)

    QTimer.singleShot(200, announce)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
