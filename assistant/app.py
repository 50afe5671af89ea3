"""Composition root of the desktop app: paths, logging, store, platform backend, widgets, signals.

The only module that knows every layer. core knows no Qt; ui and platform never import each other;
this file wires them together.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, paths

log = logging.getLogger("assistant")


@dataclass
class AppContext:
    data_dir: Path
    db_path: Path
    cache_dir: Path
    log_path: Path


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """RotatingFileHandler whose files (the first one and every one after a rollover) are 0600
    whatever the umask."""

    def _open(self):  # type: ignore[no-untyped-def]
        from .core import private

        fd = private.open_private(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(data_dir: Path, verbose: bool = False) -> Path:
    """Rotating log in the data dir. Never log customer names, phone numbers or message text:
    log ids and counts only."""
    from .core import private

    log_dir = data_dir / "logs"
    private.make_dirs(log_dir)
    log_path = log_dir / "kefu.log"
    handler = PrivateRotatingFileHandler(log_path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
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

    # Chinese input: fcitx desktops name a Qt plugin the PySide6 wheel lacks; point Qt at one that
    # reaches the running input method. Qt reads these variables only while QApplication starts.
    from .platform import inputmethod

    im_decision = inputmethod.apply()
    from PySide6.QtWidgets import QApplication

    _quick_pyside_import_check()
    qapp = QApplication.instance() or QApplication(argv or sys.argv[:1])
    inputmethod.restore(im_decision)  # programs kefu starts get the desktop's own settings
    qapp.setApplicationName("kefu-assistant")
    qapp.setApplicationDisplayName("客服助手")
    qapp.setDesktopFileName("kefu-assistant")
    qapp.setQuitOnLastWindowClosed(False)

    # --- ui wiring (panel, tray, worker) ---
    from .services import qtfix

    qtfix.guard()  # PySide6 6.12.0 + Python 3.11: every emit() leaks a reference to True (see module)
    from .services.gcguard import GuiThreadCollector

    collector = GuiThreadCollector(qapp)  # cycles holding widgets are freed on the GUI thread only

    from .core import settings
    from .core.store import open_store
    from .errors import KnownError
    from .services.messages import MessageBridge
    from .services.single_instance import SingleInstance
    from .services.systemwatch import SystemWatch
    from .services.worker import StoreWorker
    from .ui import crash
    from .ui.panel.panel import Panel
    from .ui.widgets import i18n, style, winlocate
    from .ui.widgets.tray import Tray

    crash_handler = crash.install(ctx.data_dir / "crash", ctx.log_path)
    style.apply(qapp)

    # One panel per data folder: a second launch brings the first one forward and exits. The lock is
    # taken now; the local server (QtNetwork) listens after the first frame.
    instance = SingleInstance(ctx.data_dir, parent=qapp)
    if not instance.acquire(listen=False):
        if instance.notify_primary():
            log.info("already running: asked the running instance to show its panel")
            return 0
        return _fatal(qapp, KnownError("客服助手已在运行，但没有响应。请在任务管理器中结束它后重试。",
                                       "kefu-assistant is already running but does not answer. End it and try again."))

    # Open (and on first start create) the DB and read the settings the window needs to appear:
    # trivial reads, before the event loop. Everything else runs on the worker.
    try:
        store = open_store(ctx.db_path)
        try:
            config = settings.get_all(store)
            storage_warnings = list(store.warnings)
            paste_snapshot = _read_paste_snapshot(store)
        finally:
            store.close()
    except KnownError as exc:
        instance.release()
        return _fatal(qapp, exc)

    i18n.install(str(config["ui.language"]))

    worker = StoreWorker(ctx.db_path, parent=qapp)
    # The one watcher: other processes' commits and clock gaps (sleep/wake), told to everyone from here.
    watch = SystemWatch(worker, parent=qapp)
    watch.data_changed.connect(worker.data_changed)  # views listen to the worker's one "store changed"
    worker.hold_writes()  # until the integrity check after the first frame has passed (see below)
    worker.start()
    watch.start()

    messages = MessageBridge(qapp)  # the one way messages reach the agent: producers post, the panel shows
    # What is posted before the panel exists (a hotkey another program holds) is shown once it listens.
    early: list = []

    def keep_early(message) -> None:  # noqa: ANN001 - a Message
        if early is not None:
            early.append(message)

    messages.message.connect(keep_early)
    before_worker_stops: list = []  # e.g. the paste flow's uses not yet recorded: jobs for the worker

    # --- hotkey wiring (platform backend, hotkey map, paste flow): grabbed before the panel is built, so
    # a press during the rest of the start waits for the event loop instead of going to the chat client
    # as a plain key (issue 17). Nothing is dispatched before qapp.exec(): the panel is shown by then.
    from .platform.detect import create_backend

    hotkey_backend = create_backend()
    log.info("hotkey backend: %s (%s)", hotkey_backend.name, hotkey_backend.reason)
    hotkeys, paste_flow = wire_hotkeys(hotkey_backend, worker, watch, parent=qapp, messages=messages)
    before_worker_stops.extend([paste_flow.shutdown, hotkeys.shutdown])
    hotkeys.start(paste_snapshot)
    # --- end hotkey wiring ---

    locator = winlocate.default_locator(qapp.platformName())
    panel = Panel(worker, config, data_dir=ctx.data_dir, version=__version__, locator=locator,
                  window_lister=locator.windows if locator is not None else None)
    panel.listen(messages)
    for message in early:
        panel.show_bridge_message(message)
    early = None
    tray = Tray(qapp)
    tray.toggle_requested.connect(panel.toggle_visible)
    tray.settings_requested.connect(lambda: (panel.show_panel(), panel.open_settings()))
    tray.quit_requested.connect(qapp.quit)
    tray.pause_toggled.connect(panel.set_hotkeys_paused)
    panel.pause_hotkeys_toggled.connect(tray.set_paused)
    panel.quit_requested.connect(qapp.quit)
    instance.activate_requested.connect(panel.bring_forward)
    if Tray.available():
        tray.show()
    else:
        log.info("no system tray: closing the panel minimises it")
    connect_panel(panel, tray, hotkeys, paste_flow)

    def shutdown() -> None:
        tray.hide()
        watch.stop()
        for stop in before_worker_stops:
            stop()
        worker.stop()
        collector.stop()
        instance.release()
        crash_handler.uninstall()

    qapp.aboutToQuit.connect(shutdown)
    panel.show()
    panel.apply_placement()
    for zh, en in storage_warnings:
        messages.post(zh, en, "warning")
    if im_decision.warning:  # e.g. fcitx 4, or fcitx5 without its IBus frontend: no Chinese input
        messages.post(im_decision.warning_zh, im_decision.warning, "warning")
    wire_store_check(worker, panel)

    # Everything else after the first frame (issue 17): the panel and the hotkeys answer first.
    rest = RestContext(qapp, ctx, config, worker, watch, panel, tray, paste_flow, messages, before_worker_stops)
    after_first_paint(panel, lambda: (instance.listen(), wire_rest(rest)))
    return qapp.exec()


def _read_paste_snapshot(store):  # noqa: ANN001, ANN202 - a Store, a PasteSnapshot or None
    """What the hotkeys paste, read with run()'s own connection: grabbed before the first frame rather
    than after a worker job whose answer waits for the first paint (~60 ms, issue 17). None on an error:
    the worker reads it (and reports the error) as before."""
    from .core import replies
    from .errors import KnownError

    try:
        return replies.load_paste_snapshot(store)
    except KnownError as exc:
        log.warning("paste snapshot not read before the first frame: %s", exc.en)
        return None


@dataclass
class RestContext:
    """What wire_rest needs of run()'s objects."""

    qapp: Any
    ctx: AppContext
    config: dict
    worker: Any
    watch: Any
    panel: Any
    tray: Any
    paste_flow: Any
    messages: Any
    before_worker_stops: list
    keep: list = field(default_factory=list)  # objects that must live as long as the app


# Modules of the deferred blocks: imported on a thread while the GUI thread paints and answers hotkeys.
# The 客户 / 售后 / 交接 pages' modules are not among them: imported when those tabs are first opened.
REST_MODULES = ("assistant.core.backup", "assistant.core.replies", "assistant.core.shifts",
                "assistant.services.scheduler", "assistant.ui.reminders.reminders",
                "assistant.ui.reminders.reminders_tab", "assistant.ui.widgets.lazy", "assistant.ui.team.link")


def wire_rest(rest: RestContext) -> None:
    """After the first frame: search's analyzers, seeding, the first backup, then the 客户 / 提醒 / 售后 /
    交接 tabs, the scheduler and team sync, built one block per event-loop turn so that a hotkey pressed
    meanwhile waits for one block at most. The blocks' modules are imported on a thread first."""
    import importlib
    import threading

    from PySide6.QtCore import QTimer

    from .core import search

    search.start_background_loading(rest.ctx.cache_dir)  # full word search within ~1 s, off the GUI thread
    blocks = [_rest_seed_and_backup, _rest_reminders, _rest_handover, _rest_team]
    imported = threading.Event()

    def import_modules() -> None:
        for name in REST_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # the GUI thread imports it again and reports it there
                log.exception("deferred import failed")
        imported.set()

    threading.Thread(target=import_modules, name="rest-imports", daemon=True).start()

    def step() -> None:
        if not imported.is_set():
            QTimer.singleShot(10, step)
            return
        if blocks:
            blocks.pop(0)(rest)
            QTimer.singleShot(0, step)
        else:
            log.info("start-up: deferred wiring done")

    QTimer.singleShot(0, step)


def _rest_seed_and_backup(rest: RestContext) -> None:
    from PySide6.QtCore import QTimer

    from .core import backup, replies

    worker, messages = rest.worker, rest.messages
    # First start: the default library (~140 replies, indexed with jieba) fills in behind the already
    # visible panel, which refreshes when the write lands.
    worker.submit(replies.seed_defaults, lambda n: n and log.info("seeded %d default replies", n), write=True)

    # Automatic rotating backups (setting backup.interval_hours): checked now and hourly, on the worker,
    # so a large database never stalls the panel.
    def run_auto_backup() -> None:
        worker.submit(lambda store: backup.auto_backup(store, paths.backup_dir(rest.ctx.data_dir)),
                      lambda made: made and log.info("automatic backup written"),
                      on_error=messages.post_error)

    backup_timer = QTimer(rest.qapp, interval=3600 * 1000)
    backup_timer.timeout.connect(run_auto_backup)
    backup_timer.start()
    run_auto_backup()


def _rest_reminders(rest: RestContext) -> None:
    # 客户 / 提醒 / 售后 tabs, reminder scheduler and popup
    rest.keep.append(wire_reminders(rest.qapp, rest.panel, rest.tray, rest.worker, rest.paste_flow, rest.config,
                                    watch=rest.watch, messages=rest.messages))


def _rest_handover(rest: RestContext) -> None:
    from .core import shifts
    from .ui import tabs
    from .ui.widgets.lazy import LazyPage

    worker, messages = rest.worker, rest.messages

    # The day's shift starts on first use (a leftover shift from yesterday is closed first), at start and
    # after a clock jump; a shift found to start in the future (the clock was ahead) is replaced, and said so.
    def open_day() -> None:
        worker.submit(shifts.open_day, lambda fix: fix and messages.post(fix.zh, fix.en, "warning"),
                      on_error=lambda exc: log.warning("shift not started: %s", exc.en), write=True)

    open_day()
    rest.watch.woke.connect(lambda _gap: open_day())

    def build():  # noqa: ANN202 - when the 交接 tab is first opened (issue 17)
        from .ui.handover.handover_tab import HandoverTab

        tab = HandoverTab(worker, messages=messages)
        tab.settings_requested.connect(rest.panel.open_settings)
        return tab

    rest.panel.add_tab(*tabs.HANDOVER, LazyPage(tabs.HANDOVER[0], build))


def _rest_team(rest: RestContext) -> None:
    # team mode: the live sync runs while a server is configured
    from .ui.team.link import TeamLink

    qapp, worker, panel = rest.qapp, rest.worker, rest.panel
    # Joining or leaving from the settings dialog starts or stops the sync at once (ui/team/link.py).
    team_link = TeamLink(worker, lambda: wire_team(qapp, worker, panel, rest.ctx.db_path, rest.messages), parent=qapp)
    team_link.attached.connect(panel.attach_team)  # the supervisor's 团队管理 dialog queries the server through it
    panel.team_link = team_link  # the settings dialog's 团队 page
    rest.before_worker_stops.append(team_link.shutdown)
    if rest.config.get("team.server"):
        team_link.start()


def _quick_pyside_import_check() -> None:
    """PySide6 (6.11) asks, for every module imported after it, whether its source names PySide6 -
    through inspect.getsource, which tokenises the file and keeps every line in linecache: ~70 ms of
    the start and ~9 MB that stay (issue 17). Same answer from one read of the file; anything but a
    plain .py file still goes the library's way."""
    feature = sys.modules.get("shibokensupport.feature")
    slow = getattr(feature, "_mod_uses_pyside", None)
    if slow is None or getattr(slow, "kefu_quick", False):
        return

    def quick(module) -> bool:  # noqa: ANN001 - a module
        file = getattr(module, "__file__", None)
        if not isinstance(file, str) or not file.endswith(".py"):
            return slow(module)
        try:
            with open(file, "rb") as fh:
                return b"PySide6" in fh.read()
        except OSError:
            return False  # as the library: no source, no PySide6

    quick.kefu_quick = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = quick


def wire_team(qapp, worker, panel, db_path, messages, open_client=None):  # noqa: ANN001, ANN201 - Qt, lazily
    """The live team sync (services/teamsync.py): its state on the panel's quiet line, a problem
    it cannot solve by retrying (no password in the keyring, ...) told once, and every write of the
    store (the agent's or another process's) as a prompt to push."""
    from .services.teamsync import TeamSync

    if open_client is None:
        from .team import connection

        open_client = connection.open_client
    team_sync = TeamSync(worker, db_path, open_client, parent=qapp)
    panel.set_team_state("syncing")
    team_sync.state_changed.connect(panel.set_team_state)
    team_sync.problem.connect(messages.post_error)
    team_sync.picked_up.connect(lambda n: messages.post(
        f"已从店铺待接池接手 {n} 位买家，他们的提醒在本机响起",
        f"Buyers picked up from the shop's pool: {n}; their reminders now ring on this panel"))
    worker.data_changed.connect(team_sync.wake)
    return team_sync


def wire_store_check(worker, panel, check=None) -> None:  # noqa: ANN001 - Qt objects, imported lazily
    """The database's pages are checked once per start (core/integrity.py: ~0.85 s at 100k replies), after
    the first frame and on a thread of its own; the worker's writes wait for it (hold_writes() was called
    before the first one), reads do not. Damage shows as a lasting error in the message bar."""
    from .core import integrity

    worker.checked.connect(lambda exc: exc is not None and panel.show_known_error(exc))
    after_first_paint(panel, lambda: worker.check_then_release_writes(check or integrity.raise_if_damaged))


def after_first_paint(widget, fn, fallback_ms: int = 1500) -> None:  # noqa: ANN001 - Qt types, imported lazily
    """fn() once, as soon as the widget has painted its first frame (or after fallback_ms if it never
    does, e.g. started hidden)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    done = []

    def fire() -> None:
        if not done:
            done.append(True)
            widget.removeEventFilter(watcher)
            fn()

    class _Watcher(QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: ANN001, N802 - Qt's name
            if event.type() == QEvent.Type.Paint:
                QTimer.singleShot(0, fire)  # after this paint has reached the screen
            return False

    watcher = _Watcher(widget)
    widget.installEventFilter(watcher)
    QTimer.singleShot(fallback_ms, fire)


def _fatal(qapp, exc) -> int:  # noqa: ANN001 - Qt types are imported lazily
    """A KnownError before the panel exists: a message box (no terminal when started from a menu)."""
    from PySide6.QtWidgets import QMessageBox

    log.error("cannot start: %s", exc.en)
    print(exc.bilingual(), file=sys.stderr)
    box = QMessageBox(QMessageBox.Icon.Critical, "客服助手 / kefu-assistant", f"{exc.zh}\n\n{exc.en}")
    if qapp.platformName() not in ("offscreen", "minimal"):
        box.exec()
    return exc.exit_code


def wire_hotkeys(backend, worker, watch, *, clipboard=None, scheduler=None, parent=None,  # noqa: ANN001, ANN201
                 messages=None):  # noqa: ANN001
    """The hotkey map (what is grabbed) and the paste flow (what a hotkey does), wired to the platform
    backend, the one StoreWorker, the one SystemWatch and one MessageBridge (a new one if none is given:
    hotkeys.messages). Returns (HotkeyMap, PasteFlow); call HotkeyMap.start() once the panel is
    connected (connect_panel)."""
    from .services.hotkeymap import HotkeyMap
    from .services.messages import MessageBridge
    from .services.pasteflow import PasteFlow

    messages = messages if messages is not None else MessageBridge(parent)
    hotkeys = HotkeyMap(backend, worker, parent=parent, messages=messages)
    flow = PasteFlow(backend, worker, clipboard=clipboard, scheduler=scheduler, parent=parent, messages=messages)
    backend.hotkeys.set_callback(flow.on_activated)  # KeyPress -> PasteFlow: the paste path's step 2
    hotkeys.snapshot_changed.connect(flow.set_snapshot)
    hotkeys.capture_suspended.connect(flow.set_capture_suspended)
    flow.pause_toggle_requested.connect(hotkeys.toggle_pause)
    worker.data_changed.connect(hotkeys.reload)  # a write here, or another process's (relayed from watch)
    watch.woke.connect(hotkeys.on_woke)
    watch.heartbeat.connect(hotkeys.retry_failed)
    watch.heartbeat.connect(flow.remember_foreground)
    return hotkeys, flow


def connect_panel(panel, tray, hotkeys, flow) -> None:  # noqa: ANN001 - Qt objects, imported lazily
    """Every connection between the panel/tray and the hotkey map / paste flow. app.run calls it once the
    panel exists, after hotkeys.start() (what start() says goes to the shared bridge, which run() keeps
    until the panel listens); nothing the hotkeys do in answer to a key runs before the event loop."""
    # panel -> paste flow
    panel.paste_requested.connect(flow.paste_reply)  # Enter / double-click / Alt+n on a reply
    panel.fields_filled.connect(flow.complete_paste)  # the form asked for by fields_needed
    panel.fields_cancelled.connect(flow.cancel_paste)
    panel.context_changed.connect(flow.set_context)  # fill-in values of the current buyer
    # panel -> hotkey map
    panel.pause_hotkeys_toggled.connect(hotkeys.set_paused)
    tray.pause_toggled.connect(hotkeys.set_paused)
    panel.replies_changed.connect(hotkeys.reload)  # per-reply hotkeys may have changed
    panel.settings_saved.connect(lambda _values: hotkeys.reload())
    # a hotkey field records a chord: nothing grabbed meanwhile (quiet; the agent's pause is kept)
    panel.hotkey_capture_active.connect(hotkeys.suspend_for_capture)
    # paste flow -> panel
    flow.focus_search_requested.connect(panel.focus_search)
    flow.suggest_requested.connect(panel.suggest_for)
    flow.add_reply_requested.connect(panel.add_reply_with_text)
    flow.fields_needed.connect(panel.ask_fields)
    flow.usage_recorded.connect(lambda _reply_id: panel.refresh_soon())
    # both -> panel
    panel.listen(hotkeys.messages)  # the bridge they share (app.run's, already listened to there)
    hotkeys.paused.connect(panel.set_hotkeys_paused)
    hotkeys.paused.connect(tray.set_paused)
    panel.set_paste_available(True)


def wire_reminders(qapp, panel, tray, worker, flow, config, clock=None, watch=None,  # noqa: ANN001, ANN201
                   messages=None):  # noqa: ANN001
    """客户 / 提醒 / 售后 tabs, the reminder scheduler and its popup, and their links to the paste flow
    (paste a chase script, record it once pasted, star-selection, next-chase, after-sales-selection, a
    case's proposed script). Their messages go to
    `messages` (a new MessageBridge if none is given), which the panel listens to.
    The 客户 and 售后 pages are LazyPages (issue 17): built, their modules imported, when first opened or
    when an entry point (a reminder card, the after-sales hotkey) needs them; page() gives the page."""
    from .services.scheduler import ReminderScheduler
    from .ui import tabs
    from .ui.reminders.reminders import ChaseActions, ReminderPopup
    from .ui.reminders.reminders_tab import RemindersTab
    from .ui.widgets.lazy import LazyPage

    actions = ChaseActions(worker, clock, parent=qapp, messages=messages)
    panel.listen(actions.messages)

    def build_buyers():  # noqa: ANN202 - a BuyersTab
        from .ui.buyers.buyers_tab import BuyersTab

        tab = BuyersTab(worker, actions, clock)
        # a shared order's full number is revealed by the team server (audited), through the live sync
        tab.orders_box.team_sync = lambda: getattr(panel, "team_sync", None)
        tab.context_changed.connect(panel.set_context)
        if flow is not None:
            tab.review_guard_changed.connect(flow.set_review_guard)  # 邀评 held back when unfitting
            tab.invite_paste_requested.connect(flow.paste_reply)
        return tab

    buyers_tab = LazyPage(tabs.BUYERS[0], build_buyers)
    reminders_tab = RemindersTab(worker, actions, clock)
    panel.add_tab(*tabs.BUYERS, buyers_tab)
    panel.add_tab(*tabs.REMINDERS, reminders_tab)

    # 售后: the cases; every entry point (客户 tab, reminder cards, the hotkey) goes through ChaseActions
    def show_aftersales() -> None:
        panel.show_tab(tabs.AFTERSALES[0])
        panel.show_panel()  # never activateWindow(): the chat client keeps the focus

    def build_aftersales():  # noqa: ANN202 - an AftersalesTab
        from .ui.aftersales.aftersales_tab import AftersalesTab

        tab = AftersalesTab(worker, actions.messages, clock)
        tab.show_requested.connect(show_aftersales)
        if flow is not None:
            tab.paste_requested.connect(flow.paste_reply)  # a proposed script, as the list pastes
            tab.set_paste_available(True)
        return tab

    aftersales_tab = LazyPage(tabs.AFTERSALES[0], build_aftersales)
    panel.add_tab(*tabs.AFTERSALES, aftersales_tab)
    actions.open_case.connect(lambda case_id: aftersales_tab.page().show_case(case_id))
    actions.open_aftersales.connect(lambda buyer_id: aftersales_tab.page().open_for_buyer(buyer_id))
    actions.new_case_for.connect(lambda nick, platform, shop: aftersales_tab.page().new_case_for(nick, platform, shop))
    scheduler = ReminderScheduler(worker, clock, parent=qapp)
    if watch is not None:
        watch.woke.connect(scheduler.on_woke)  # sleep/wake: the missed reminders, once

    def anchor():  # noqa: ANN202
        return panel.frameGeometry() if panel.isVisible() and not panel.isMinimized() else None

    popup = ReminderPopup(actions, clock, anchor=anchor)
    popup.sound = bool((config or {}).get("reminders.sound", False))

    def open_buyer(buyer_id: int) -> None:
        built = buyers_tab.is_built()
        panel.show_tab(tabs.BUYERS[0])  # builds the page, whose own open_buyer is connected from then on
        if not built:
            buyers_tab.page().open_buyer(buyer_id)
        panel.show_panel()

    actions.open_buyer.connect(open_buyer)

    def on_due(items: list, missed: bool) -> None:
        popup.add(items, missed)
        if not panel.isVisible() and tray.icon.isVisible():
            names = "、".join(i.nickname or i.promotion_name or "" for i in items[:3])
            from PySide6.QtCore import QCoreApplication

            # Reuses the popup's translated titles (context "Reminders"), count included.
            title = QCoreApplication.translate("Reminders", "错过的催单提醒（%n）" if missed else "该催单了（%n）",
                                               None, len(items))
            tray.icon.showMessage(title, names)
        log.info("reminder popup shows %d reminders", popup.count())

    scheduler.due.connect(on_due)
    if flow is not None:
        actions.set_paste_available(True)
        # Attributed: the chase is recorded for exactly the paste it asked for, never for the same
        # reply pasted from the quick-replies list.
        actions.paste_chase.connect(flow.paste_reply_attributed)
        actions.paste_chase_to.connect(flow.paste_reply_to_attributed)
        flow.attributed_paste_done.connect(actions.on_attributed_paste_done)
        flow.attributed_values.connect(actions.on_attributed_values)  # the {卖点} the agent actually sent
        flow.star_requested.connect(actions.star_nickname)
        flow.aftersales_requested.connect(actions.aftersales_nickname)
        flow.next_chase_requested.connect(actions.next_chase)
    qapp.aboutToQuit.connect(scheduler.stop)
    qapp.aboutToQuit.connect(popup.dismiss)
    scheduler.start()
    return {"actions": actions, "scheduler": scheduler, "popup": popup, "buyers_tab": buyers_tab,
            "reminders_tab": reminders_tab, "aftersales_tab": aftersales_tab}
