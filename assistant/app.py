"""Composition root of the desktop app: paths, logging, store, platform backend, widgets, signals.

The only module that knows every layer. core knows no Qt; ui and platform never import each other;
this file wires them together.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from dataclasses import dataclass
from pathlib import Path

from . import __version__, paths

log = logging.getLogger("assistant")


@dataclass
class AppContext:
    data_dir: Path
    db_path: Path
    cache_dir: Path
    log_path: Path


def setup_logging(data_dir: Path, verbose: bool = False) -> Path:
    """Rotating log in the data dir. Never log customer names, phone numbers or message text:
    log ids and counts only."""
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "kefu.log"
    handler = logging.handlers.RotatingFileHandler(log_path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if verbose:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(stream)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    return log_path


def run(data_dir: str | None = None, verbose: bool = False, argv: list[str] | None = None) -> int:
    data = paths.data_dir(data_dir)
    ctx = AppContext(data, paths.db_path(data), paths.cache_dir(data), setup_logging(data, verbose))
    log.info("kefu-assistant %s starting, data dir set", __version__)

    from PySide6.QtWidgets import QApplication

    from .core import replies
    from .core.store import open_store

    qapp = QApplication.instance() or QApplication(argv or sys.argv[:1])
    qapp.setApplicationName("kefu-assistant")
    qapp.setQuitOnLastWindowClosed(False)

    # First start: create the DB and fill the default library (fast: ~140 replies).
    store = open_store(ctx.db_path)
    seeded = replies.seed_defaults(store)
    if seeded:
        log.info("seeded %d default replies", seeded)
    store.close()

    # --- ui wiring (panel, tray, worker) ---
    from PySide6.QtWidgets import QLabel

    window = QLabel(f"客服助手 {__version__}")
    window.resize(360, 600)
    window.show()
    # --- end ui wiring ---

    # --- hotkey wiring (platform backend, paste controller) ---
    from .controller import HotkeyController
    from .platform.detect import create_backend

    hotkey_backend = create_backend()
    log.info("hotkey backend: %s (%s)", hotkey_backend.name, hotkey_backend.reason)
    hotkey_controller = HotkeyController(ctx.db_path, hotkey_backend, parent=qapp)
    qapp.aboutToQuit.connect(hotkey_controller.shutdown)
    hotkey_controller.message.connect(lambda zh, en: log.info("hotkey message: %s", en))
    hotkey_controller.error.connect(lambda zh, en: log.warning("hotkey problem: %s", en))
    hotkey_controller.conflict.connect(lambda key, zh, en: log.warning("hotkey conflict reported: %s", key))
    hotkey_controller.start()
    # --- end hotkey wiring ---

    return qapp.exec()
