"""Run Python's cyclic garbage collector on the GUI thread only.

Python collects cycles in whichever thread happens to allocate when a threshold is crossed. If that
is the store worker (or any other thread) and the garbage holds Qt widgets — a dialog and a lambda
connected to it form such a cycle — the widgets are destroyed off the GUI thread and the process
crashes (seen in the UI tests: a segfault inside the worker thread, "Garbage-collecting").
The usual cure for PyQt/PySide apps with threads: switch automatic collection off and collect from a
QTimer on the GUI thread, with the same generation thresholds Python would use.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        count0, count1, count2 = gc.get_count()
        if count0 > self.threshold[0]:
            gc.collect(0)
            if count1 > self.threshold[1]:
                gc.collect(1)
                if count2 > self.threshold[2]:
                    gc.collect(2)

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
