"""Screenshot of the panel with Chinese results, in a real X server (run under Xvfb).

    python tests/ui/shoot.py OUT.png [--query 催单] [--data-dir DIR] [--lang zh_CN|en] [--dialog editor|settings|import]
        [--tab buyers|reminders|aftersales|handover]

Builds the panel as the app does (style, language, worker) on an isolated data folder, types the
query through a QInputMethodEvent (what an input method sends), waits for the results, saves a PNG
of the whole screen, and prints one JSON line: {"png": ..., "rows": n, "variance": v, "geometry": [...]}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def pixel_variance(image) -> float:  # noqa: ANN001 - QImage
    """Variance of grey levels over a grid of samples: ~0 for a blank or single-colour picture."""
    values = []
    step_x = max(1, image.width() // 160)
    step_y = max(1, image.height() // 160)
    for y in range(0, image.height(), step_y):
        for x in range(0, image.width(), step_x):
            c = image.pixelColor(x, y)
            values.append(0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue())
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--query", default="催")
    parser.add_argument("--data-dir")
    parser.add_argument("--lang", default="zh_CN")
    parser.add_argument("--dialog", default=None, help="editor | settings[:page] | import | fill | crash")
    parser.add_argument("--dock", default="right")
    parser.add_argument("--tab", default=None, help="buyers | reminders | aftersales | handover: opened last")
    args = parser.parse_args()

    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
    from PySide6.QtGui import QGuiApplication, QInputMethodEvent
    from PySide6.QtWidgets import QApplication

    from assistant.core import replies, settings
    from assistant.core.store import open_store
    from assistant.services.worker import StoreWorker
    from assistant.ui.panel.panel import Panel
    from assistant.ui.widgets import i18n, style

    app = QApplication([sys.argv[0]])
    data = Path(args.data_dir or tempfile.mkdtemp(prefix="kefu-shot-"))
    db = data / "kefu.db"
    store = open_store(db)
    replies.seed_defaults(store)
    settings.set(store, "ui.dock", args.dock)
    config = settings.get_all(store)
    # A little usage so 常用/最近 are not empty and badges show up.
    for code in ("wh1", "cd1", "cd2"):
        with contextlib.suppress(Exception):  # codes of the default library may change
            replies.record_use(store, code)
    try:
        first = replies.list_replies(store, limit=1)[0]
        if not first.hotkey:
            replies.update_reply(store, first.id, hotkey="Ctrl+Alt+1")
    except Exception:  # noqa: BLE001
        pass
    store.close()
    style.apply(app)
    i18n.install(args.lang)
    from assistant.core import search

    search.start_background_loading(data / "cache")
    worker = StoreWorker(db)
    worker.start()
    panel = Panel(worker, config, data_dir=data)
    # The other tabs as app.py adds them: 提醒 built now, 客户 / 售后 / 交接 as LazyPages (built when opened).
    from assistant.ui import tabs
    from assistant.ui.reminders.reminders import ChaseActions
    from assistant.ui.reminders.reminders_tab import RemindersTab
    from assistant.ui.widgets.lazy import LazyPage

    actions = ChaseActions(worker, parent=app)

    def buyers():  # noqa: ANN202
        from assistant.ui.buyers.buyers_tab import BuyersTab

        return BuyersTab(worker, actions)

    def aftersales():  # noqa: ANN202
        from assistant.ui.aftersales.aftersales_tab import AftersalesTab

        return AftersalesTab(worker, actions.messages)

    def handover():  # noqa: ANN202
        from assistant.ui.handover.handover_tab import HandoverTab

        return HandoverTab(worker)

    panel.add_tab(*tabs.BUYERS, LazyPage(tabs.BUYERS[0], buyers))
    panel.add_tab(*tabs.REMINDERS, RemindersTab(worker, actions))
    panel.add_tab(*tabs.AFTERSALES, LazyPage(tabs.AFTERSALES[0], aftersales))
    panel.add_tab(*tabs.HANDOVER, LazyPage(tabs.HANDOVER[0], handover))
    panel.show()
    panel.apply_placement()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    deadline = time.monotonic() + 15
    while panel.results_model.rowCount() == 0 and time.monotonic() < deadline:
        wait(50)
    if args.query:
        panel.search_box.setFocus()
        event = QInputMethodEvent()
        event.setCommitString(args.query)
        QCoreApplication.sendEvent(panel.search_box, event)
        deadline = time.monotonic() + 15
        while (panel._results is None or panel._results.query != args.query) and time.monotonic() < deadline:
            wait(50)
    # Show a reply with fill-in fields in the preview (they are highlighted there).
    with_fields = next((n for n, r in enumerate(panel.results_model.rows()[:6]) if r.fields), 1)
    panel.select_row(with_fields)
    wait(300)
    if args.dialog == "editor":
        panel.edit_current()
    elif args.dialog and args.dialog.startswith("settings"):
        panel.open_settings()
        if ":" in args.dialog:
            from assistant.ui.settings.settings_dialog import SettingsDialog

            dialog = next(w for w in app.topLevelWidgets() if isinstance(w, SettingsDialog))
            dialog.nav.setCurrentRow(int(args.dialog.split(":")[1]))
    elif args.dialog == "fill":
        row = next((r for r in panel.results_model.rows() if r.fields), None)
        if row is not None:
            panel.activate_row(panel.results_model.index_of(row.id), copy_only=True)
    elif args.dialog == "crash":
        from assistant.ui.crash import CrashHandler

        handler = CrashHandler(data / "crash")
        try:
            raise ValueError("客户 王小明 13800138000 wrote 'hello'")
        except ValueError:
            handler.handle(*sys.exc_info())
    elif args.dialog == "import":
        sample = data / "sample.csv"
        sample.write_text("快捷短语编码,快捷短语,快捷短语分组\r\nwh1,亲，欢迎光临～,售前-问候\r\n"
                          "x9,新的一条回复：{客户}您好,新分组\r\n", encoding="utf-8-sig")
        panel.open_import(str(sample))
    if args.tab:
        panel.show_tab(args.tab)
    wait(900)
    screen = QGuiApplication.primaryScreen()
    shot = screen.grabWindow(0)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shot.save(str(out))
    variance = pixel_variance(shot.toImage())
    g = panel.frameGeometry()
    print(json.dumps({"png": str(out), "rows": panel.results_model.rowCount(), "variance": round(variance, 1),
                      "geometry": [g.x(), g.y(), g.width(), g.height()],
                      "screen": [screen.geometry().width(), screen.geometry().height()]}))
    worker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
