"""Drives the real X11 backend + HotkeyController in-process, as the panel would, for
test_e2e_focus.py. Usage: panel_paste_probe.py DATA_DIR WINDOW_A WINDOW_B REPLY_ID

The agent last typed in window A, then something else (B, standing in for our panel's form) got
the focus; the panel asks to paste: the text must land in A, which gets the focus back.
Prints one JSON line with what happened."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from assistant import paths  # noqa: E402
from assistant.app import wire_hotkeys  # noqa: E402
from assistant.platform.detect import create_backend  # noqa: E402
from assistant.services.systemwatch import SystemWatch  # noqa: E402
from assistant.services.worker import StoreWorker  # noqa: E402


def main() -> int:
    data_dir, window_a, window_b, reply_id = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    app = QApplication(sys.argv[:1])
    backend = create_backend("x11", "probe")
    worker = StoreWorker(paths.db_path(data_dir))
    worker.start()
    watch = SystemWatch(worker)
    hotkeys, flow = wire_hotkeys(backend, worker, watch)
    result: dict = {"backend": backend.name, "pasted": [], "errors": []}
    flow.pasted.connect(lambda rid: result["pasted"].append(rid))
    hotkeys.messages.message.connect(lambda m: m.level == "warning" and result["errors"].append(m.en))
    watch.start()
    hotkeys.start()

    def focus(window: int) -> None:
        subprocess.run(["xdotool", "windowfocus", "--sync", str(window)], check=True, timeout=10)

    def step1() -> None:
        focus(window_a)
        watch.check()  # the watcher's 500 ms round: its heartbeat notices the chat window the agent uses
        focus(window_b)
        flow.paste_reply(reply_id, {})
        QTimer.singleShot(1200, finish)

    def finish() -> None:
        result["focus_after"] = backend.windows.foreground()
        # Read here, by the owner: after this process exits X11 forgets what it owned (no
        # clipboard manager runs under Xvfb), and asking xclip from this thread would deadlock.
        result["clipboard_after"] = QApplication.clipboard().text()
        watch.stop()
        flow.shutdown()
        hotkeys.shutdown()
        worker.stop()
        print(json.dumps(result), flush=True)
        app.quit()

    QTimer.singleShot(300, step1)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
