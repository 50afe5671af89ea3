"""The real panel, reply editor, X11 backend and HotkeyController in one process, wired as the
app wires them (app.connect_panel), for test_e2e_capture.py. Usage: capture_probe.py DATA_DIR

Opens the reply editor, then prints "ready X Y" (the hotkey field's centre on the screen). Each
line "report" on stdin prints one JSON line: the chord the field recorded, the replies pasted by a
global hotkey, the field's recording state. "quit" ends it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from assistant import paths  # noqa: E402
from assistant.app import connect_panel, wire_hotkeys  # noqa: E402
from assistant.core import settings  # noqa: E402
from assistant.core.store import open_store  # noqa: E402
from assistant.platform.detect import create_backend  # noqa: E402
from assistant.services.systemwatch import SystemWatch  # noqa: E402
from assistant.services.worker import StoreWorker  # noqa: E402
from assistant.ui.panel.editor_dialog import EditorDialog  # noqa: E402
from assistant.ui.panel.panel import Panel  # noqa: E402


class Tray(QObject):
    """What connect_panel needs of the tray."""

    pause_toggled = Signal(bool)

    def set_paused(self, _paused: bool) -> None:
        pass


def main() -> int:
    data_dir = Path(sys.argv[1])
    app = QApplication(sys.argv[:1])
    db = paths.db_path(data_dir)
    store = open_store(db)
    values = settings.get_all(store)
    store.close()
    worker = StoreWorker(db)
    worker.start()
    panel = Panel(worker, values, data_dir=data_dir, version="probe")
    backend = create_backend("x11", "probe")
    watch = SystemWatch(worker)
    watch.data_changed.connect(worker.data_changed)
    hotkeys, flow = wire_hotkeys(backend, worker, watch)
    tray = Tray()
    connect_panel(panel, tray, hotkeys, flow)
    pasted: list[int] = []
    flow.pasted.connect(pasted.append)
    watch.start()
    hotkeys.start()
    panel.show()
    state: dict = {}

    def open_editor() -> None:
        panel.new_reply()
        state["dialog"] = next(w for w in QApplication.topLevelWidgets()
                               if isinstance(w, EditorDialog) and w.isVisible())
        wait_loaded()

    def wait_loaded() -> None:
        dialog = state["dialog"]
        if not dialog._loaded:
            QTimer.singleShot(20, wait_loaded)
            return
        centre = dialog.hotkey.mapToGlobal(dialog.hotkey.rect().center())
        print(f"ready {centre.x()} {centre.y()}", flush=True)

    def on_stdin() -> None:
        line = sys.stdin.readline().strip()
        if line == "report":
            field = state["dialog"].hotkey
            print(json.dumps({"field": field.hotkey(), "pasted": pasted, "capturing": field.is_capturing(),
                              "registered": len(backend.hotkeys.registered())}), flush=True)
        elif line in ("quit", ""):
            notifier.setEnabled(False)
            watch.stop()
            flow.shutdown()
            hotkeys.shutdown()
            worker.stop()
            app.quit()

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(on_stdin)
    QTimer.singleShot(300, open_editor)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
