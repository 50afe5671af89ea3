"""Runs the real app (assistant.app.run, input-method set-up included) for test_e2e_chinese_input.py,
with one addition: the panel's search text, whether it has the focus and the messages it showed are
written to STATE_FILE
(JSON, replaced atomically) on every change. Usage: panel_search_probe.py DATA_DIR STATE_FILE

The app itself has no test hook: the probe subclasses Panel before run() imports it."""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from assistant import app  # noqa: E402
from assistant.ui.panel import panel as panel_module  # noqa: E402


def main() -> int:
    data_dir, state_file = sys.argv[1], Path(sys.argv[2])
    faulthandler.register(signal.SIGUSR1, all_threads=True)

    class ProbedPanel(panel_module.Panel):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._probe_n = 0
            self._probe_messages: list[list[str]] = []
            self.search_box.textChanged.connect(self._probe_write)
            from PySide6.QtWidgets import QApplication

            QApplication.instance().focusChanged.connect(self._probe_write)
            self._probe_write()

        def show_message(self, zh, en=None, level="info", **kwargs) -> None:
            super().show_message(zh, en, level, **kwargs)
            self._probe_messages.append([level, zh])
            self._probe_write()

        def _probe_write(self, *_args) -> None:
            self._probe_n += 1
            state = {"n": self._probe_n, "text": self.search_box.text(),
                     "search_focused": self.search_box.hasFocus(), "messages": self._probe_messages,
                     "window": int(self.winId()) if self.isVisible() else 0}
            tmp = state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, state_file)

    panel_module.Panel = ProbedPanel  # run() imports Panel from the module when it builds the panel
    return app.run(data_dir)


if __name__ == "__main__":
    sys.exit(main())
