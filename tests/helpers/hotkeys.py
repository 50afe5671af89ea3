"""The hotkey map and the paste flow as app.wire_hotkeys builds them, for tests: on a real store,
with a fake backend/clipboard/scheduler. InlineWorker runs each store job at once on the calling
thread (its own connection), so a press, its render, its record and the next snapshot happen in
order, like the app's worker but without waiting; `threaded=True` uses the real StoreWorker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from assistant.app import wire_hotkeys
from assistant.core.store import open_store
from assistant.errors import KnownError
from assistant.services.systemwatch import SystemWatch
from assistant.services.worker import StoreWorker


class InlineWorker(QObject):
    """StoreWorker.submit(), run synchronously: same signals, same order (data_changed before on_done)."""

    data_changed = Signal()
    known_error = Signal(object)

    def __init__(self, db_path: Path | str, clock: Any = None) -> None:
        super().__init__()
        self.store = open_store(db_path, clock)
        self.jobs = 0

    def start(self) -> None:
        pass

    def submit(self, fn: Callable[..., Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[KnownError], None] | None = None, *, key: str | None = None,
               write: bool = False, on_progress: Callable[[int, int], None] | None = None) -> int:
        self.jobs += 1
        try:
            value = fn(self.store, lambda *_: None) if on_progress is not None else fn(self.store)
        except KnownError as exc:
            if on_error is not None:
                on_error(exc)
            else:
                self.known_error.emit(exc)
            return self.jobs
        if write:
            self.data_changed.emit()
        if on_done is not None:
            on_done(value)
        return self.jobs

    def stop(self) -> None:
        self.store.close()


class Hotkeys:
    """map (HotkeyMap), flow (PasteFlow), worker, watch: wired as in the app."""

    def __init__(self, db_path: Path | str, backend: Any, *, clipboard: Any = None, scheduler: Any = None,
                 threaded: bool = False) -> None:
        self.backend = backend
        self.worker: Any = StoreWorker(db_path) if threaded else InlineWorker(db_path)
        self.watch = SystemWatch(self.worker, interval_ms=0)
        self.watch.data_changed.connect(self.worker.data_changed)  # as app.run relays it
        self.map, self.flow = wire_hotkeys(backend, self.worker, self.watch, clipboard=clipboard, scheduler=scheduler)
        self.worker.start()
        self._stopped = False

    def start(self) -> None:
        self.watch.start()
        self.map.start()

    def tick(self) -> None:
        """One round of the app's watcher timer (CLI changes, clock gaps, heartbeat)."""
        self.watch.check()

    def shutdown(self) -> None:
        """As the app quits: the flow submits what is not recorded yet, then the worker stops."""
        if self._stopped:
            return
        self._stopped = True
        self.watch.stop()
        self.flow.shutdown()
        self.map.shutdown()
        self.worker.stop()


ORIGINAL = {"text/plain": "剪贴板原来的内容".encode(), "text/html": b"<i>orig</i>"}


class Signals:
    """Every signal of the map and the flow, in the order they came: seen, of(name). Messages on their
    shared bridge are recorded under their level: of("info"), of("warning") -> [(zh, en), ...]."""

    def __init__(self, hk: Hotkeys) -> None:
        self.seen: list[tuple] = []
        hk.map.messages.message.connect(lambda m: self.seen.append((m.level, m.zh, m.en)))
        for name in ("conflict", "pasted", "paste_failed", "fields_needed",
                     "focus_search_requested", "star_requested", "aftersales_requested", "suggest_requested", "next_chase_requested",
                     "add_reply_requested",
                     "paused", "hotkeys_changed", "usage_recorded", "attributed_paste_done"):
            for source in (hk.map, hk.flow):
                if hasattr(source, name):
                    getattr(source, name).connect(lambda *args, _n=name: self.seen.append((_n, *args)))

    def of(self, name: str) -> list[tuple]:
        return [s[1:] for s in self.seen if s[0] == name]


def make(db: Path | str, backend: Any, log: Any = None) -> tuple[Hotkeys, Any, Any, Signals]:
    from tests.helpers.fakes import FakeClipboard, FakeScheduler, Recorder

    log = log if log is not None else Recorder()
    clipboard = FakeClipboard(log, ORIGINAL)
    scheduler = FakeScheduler(log)
    hk = Hotkeys(db, backend, clipboard=clipboard, scheduler=scheduler)
    return hk, clipboard, scheduler, Signals(hk)
