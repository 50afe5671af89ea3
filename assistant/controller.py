"""The hotkey controller: global hotkeys -> replies rendered -> PasteService -> usage recorded.

Composition level (like app.py): it knows assistant.core, assistant.platform and Qt core/gui, never
assistant.ui. The panel talks to it only through the signals and slots below (app.py connects them).

Signals (panel listens):
    message(zh, en)                      short status text, e.g. "已复制，请按 Ctrl+V"
    error(zh, en)                        something the agent must know (paste failed, store error)
    conflict(hotkey, zh, en)             a hotkey could not be registered; names both owners
    pasted(reply_id)                     text sent into the chat client (usage is being recorded)
    paste_failed(reply_id, zh, en)
    fields_needed(reply_id, missing, token)
                                         the reply has fill-in fields without values: show a form,
                                         then call complete_paste(token, values) or cancel_paste(token)
    focus_search_requested()             global action: focus the search box (show the panel)
    star_requested(nick)                 global action: star this buyer (the selected text)
    next_chase_requested(token)          global action: paste the next chase script; answer with
                                         paste_reply_to(token, reply_id, values)
    add_reply_requested(text)            global action: open the reply editor pre-filled
    paused(bool)                         hotkeys paused / resumed
    hotkeys_changed(dict)                {action id: hotkey} now active ("paste:12", "action:focus_search")
    usage_recorded(reply_id)             record_use committed: refresh usage-ranked lists
    tagged_paste_done(tag, reply_id, ok) a paste asked for with a tag (paste_reply_tagged,
                                         paste_reply_to_tagged) counted as used: emitted right after
                                         its usage_recorded, on the same rule - the text went into
                                         the chat window (ok=True), or it was left on the clipboard
                                         for the agent to paste by hand (ok=False: the paste failed,
                                         or the copy fallback: no send-keys, no chat window known,
                                         a target we must not type into). Never for a paste that
                                         was cancelled (fill-in form) or failed before any text
                                         (deleted reply), nor when the usage could not be stored.
                                         Untagged pastes (the quick-replies list) never emit it.
Slots (panel calls):
    paste_reply(reply_id, values)        paste into the chat window the agent used last
    paste_reply_tagged(reply_id, values, tag)
                                         the same, answered by tagged_paste_done(tag, ...)
    copy_reply(reply_id, values)         copy only (+ message "已复制，请按 Ctrl+V")
    complete_paste(token, values), cancel_paste(token)
    paste_reply_to(token, reply_id, values)
    paste_reply_to_tagged(token, reply_id, values, tag)
    set_context(values)                  fill-in values of the current buyer ({客户}...)
    set_paused(bool), toggle_pause(), reload()
    suspend_for_capture(bool)            a hotkey field is recording a chord: every global hotkey
                                         (the pause key too) is ungrabbed until False, quietly: no
                                         message, no `paused` signal, the agent's pause untouched

Threads: everything runs on the GUI thread except record_use, which a QThread worker with its own
Store connection does (a write can wait for the lock up to busy_timeout; the GUI never does).
The GUI thread keeps one read-only Store for quick reads (a reply's body, settings, hotkeys).

CLI changes while running: a 500 ms QTimer polls PRAGMA data_version (changes when any OTHER
connection commits - the CLI, the panel's worker, our own writer) and re-applies the hotkey map as
a diff, so an unchanged hotkey is never ungrabbed (no gap in which a key press could leak).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot

from .core import replies, settings, templates
from .core.store import Store, open_store
from .errors import KnownError
from .platform.base import Backend, HotkeyConflict, WindowInfo
from .platform.dummy.backend import COPIED_EN, COPIED_ZH
from .platform.paste import (
    SET_RETRIES,
    SET_RETRY_MS,
    AppRule,
    PasteRequest,
    PasteResult,
    PasteService,
    choose_method,
    parse_app_rules,
)

log = logging.getLogger(__name__)

POLL_MS = 500
RETRY_FAILED_S = 10.0
CLOCK_GAP_S = 5.0
COPY_SELECTION_TIMEOUT_MS = 600
COPY_SELECTION_POLL_MS = 10
RECORD_AFTER_RESTORE_MS = 200
MODIFIER_WAIT_MS = 3000
USAGE_IMPORT_WAIT_S = 120.0
PASTE_PREFIX = "paste:"
ACTION_PREFIX = "action:"
# Tests may set this to a secret: star/add-selection then log an HMAC of the selected text, which
# the test can recompute. Without it only the length is logged (never customer text).
ENV_TEST_LOG_KEY = "KEFU_TEST_LOG_KEY"


class QtScheduler:
    """Scheduler protocol on QTimer.singleShot (GUI thread, never sleeps)."""

    def call_later(self, delay_ms: int, fn: Callable[[], None]) -> None:
        QTimer.singleShot(max(0, int(delay_ms)), fn)


def selection_marker(text: str) -> str:
    """Privacy-safe description of selected customer text for the log."""
    key = os.environ.get(ENV_TEST_LOG_KEY)
    if key:
        digest = hmac.new(key.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        return f"len={len(text)} hmac={digest}"
    return f"len={len(text)}"


class _UsageWriter(QObject):
    """Records uses on its own thread and its own Store connection."""

    recorded = Signal(int)
    tagged = Signal(str, int, bool)
    failed = Signal(str, str)

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self._db_path = db_path
        self._store: Store | None = None

    @Slot(int, str, str, bool)
    def record(self, reply_id: int, via: str, tag: str, ok: bool) -> None:
        try:
            if self._store is None:
                self._store = open_store(self._db_path)
                # Its own thread: it may simply wait for kefu's import instead of losing the count.
                self._store.import_wait_s = USAGE_IMPORT_WAIT_S
            replies.record_use(self._store, reply_id, via=via)
        except KnownError as exc:
            log.warning("recording use of reply %d failed: %s", reply_id, exc.en)
            self.failed.emit(f"使用次数未能保存：{exc.zh}", f"Usage not saved: {exc.en}")
            return
        self.recorded.emit(reply_id)
        if tag:
            self.tagged.emit(tag, reply_id, ok)

    @Slot()
    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class HotkeyController(QObject):
    message = Signal(str, str)
    error = Signal(str, str)
    conflict = Signal(str, str, str)
    pasted = Signal(int)
    paste_failed = Signal(int, str, str)
    fields_needed = Signal(int, list, int)
    focus_search_requested = Signal()
    star_requested = Signal(str)
    next_chase_requested = Signal(int)
    add_reply_requested = Signal(str)
    paused = Signal(bool)
    hotkeys_changed = Signal(dict)
    usage_recorded = Signal(int)
    tagged_paste_done = Signal(str, int, bool)
    _record = Signal(int, str, str, bool)  # reply id, via, tag ("" = untagged), ok (text sent, not left copied)

    def __init__(self, db_path: Path | str, backend: Backend, *, clipboard: Any = None,
                 scheduler: Any = None, poll_ms: int = POLL_MS, record_in_thread: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.backend = backend
        self.store = open_store(self.db_path)
        paste_clipboard = clipboard
        if clipboard is None:
            from .platform.qtclipboard import QtClipboard

            clipboard = paste_clipboard = QtClipboard(ownership_factory=backend.clipboard_ownership)
            if backend.paste_clipboard is not None:
                # Pasted text served from the backend's own X connection (x11/selection.py).
                paste_clipboard = backend.paste_clipboard(clipboard)
        self.clipboard = clipboard
        # Never read self.clipboard directly while a paste may still own the text on X11: Qt would
        # wait for our own blocked event loop. paste_clipboard answers that case itself.
        self.paste_clipboard = paste_clipboard
        self.scheduler = scheduler or QtScheduler()
        self.paste_service: PasteService | None = None
        if backend.keys is not None:
            self.paste_service = PasteService(paste_clipboard, backend.keys, backend.windows, self.scheduler,
                                              can_release_modifiers=backend.capabilities.release_modifiers)
        backend.hotkeys.set_callback(self._on_activated)
        self._paused = False
        self._context: dict[str, str] = {}
        self._tokens = itertools.count(1)
        self._targets: dict[int, int] = {}  # token -> window handle
        self._pending_fields: dict[int, tuple[int, str, str]] = {}  # token -> (reply id, via, tag)
        self._capture_suspended = False  # a hotkey field is recording a chord: nothing grabbed
        self._last_external = 0
        self._data_version: int | None = None
        # Rendered replies, valid while PRAGMA data_version stays the same (every edit of a reply
        # is a commit by another connection: the CLI, the panel's worker): a hotkey paste needs
        # no read of the reply's row. Filled for the hotkeyed replies on reload and set_context.
        self._rendered: dict[tuple[int, tuple[tuple[str, str], ...]], templates.Rendered] = {}
        self._rendered_version: int | None = None
        self._settings: dict[str, Any] = {}
        self._rules: list[AppRule] = []
        self._reported: set[tuple[str, str, str]] = set()  # (hotkey, owner a, owner b) already told
        self._failed: dict[str, str] = {}  # action id -> hotkey the OS refused
        self._last_retry = 0.0
        self._last_tick_wall = time.time()
        self._copying = False
        self._just_captured = 0
        self._pending_later: list[Callable[[], None]] = []

        self._thread: QThread | None = None
        self._writer = _UsageWriter(self.db_path)
        if record_in_thread:
            self._thread = QThread(self)
            self._thread.setObjectName("kefu-usage-writer")
            self._writer.moveToThread(self._thread)
            self._thread.finished.connect(self._writer.deleteLater)
            self._thread.start()
        self._record.connect(self._writer.record)
        self._writer.recorded.connect(self.usage_recorded)
        # Our own usage write changed data_version: render the hotkey replies again now, not
        # on the next hotkey.
        self._writer.recorded.connect(self._prerender)
        self._writer.tagged.connect(self.tagged_paste_done)
        self._writer.failed.connect(self.error)

        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._tick)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.reload()
        self._timer.start()
        active = self.backend.hotkeys.registered()
        log.info("hotkey controller started: backend=%s (%s); %d hotkeys registered",
                 self.backend.name, self.backend.reason, len(active))
        if not self.backend.capabilities.global_hotkeys:
            self.message.emit("当前环境不支持全局快捷键：在面板中选择回复后按回车复制，再到聊天窗口按 Ctrl+V",
                              "Global hotkeys are not available here: press Enter on a reply in the panel "
                              "to copy it, then Ctrl+V in the chat window")

    @Slot()
    def shutdown(self) -> None:
        self._timer.stop()
        if self.paste_service is not None:
            self.paste_service.flush_restore()
        release = getattr(self.clipboard, "release_tracking", None)
        if release is not None:
            release()
        try:
            self.backend.close()
        except Exception:  # noqa: BLE001 - closing must go on
            log.exception("closing the platform backend failed")
        for later in list(self._pending_later):  # uses not yet recorded: record them now
            later()
        if self._thread is not None:
            # Blocking: runs after the record requests already queued, then the thread stops.
            QMetaObject.invokeMethod(self._writer, "close", Qt.ConnectionType.BlockingQueuedConnection)
            self._thread.quit()
            self._thread.wait(5000)
            self._thread = None
        else:
            self._writer.close()
        self.store.close()
        log.info("hotkey controller stopped")

    # ------------------------------------------------------------------ state

    @property
    def is_paused(self) -> bool:
        return self._paused

    def registered(self) -> dict[str, str]:
        return self.backend.hotkeys.registered()

    def _load_settings(self) -> None:
        self._settings = {name: settings.get(self.store, name) for name in (
            "hotkeys.enabled", "hotkeys.actions", "paste.chord", "paste.restore_delay_ms", "paste.app_rules",
            "paste.hide_from_history", "agent.name")}
        set_hint = getattr(self.paste_clipboard, "set_password_hint", None)
        if set_hint is not None:
            set_hint(bool(self._settings["paste.hide_from_history"]))
        self._rules, problems = parse_app_rules(self._settings["paste.app_rules"])
        for zh, en in problems:
            key = ("rule", zh, en)
            if key not in self._reported:
                self._reported.add(key)
                self.error.emit(zh, en)

    def _desired(self) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """(action id -> hotkey) to register, and action id -> (zh, en) name of each owner."""
        names: dict[str, tuple[str, str]] = {}
        wanted: list[tuple[str, str]] = []
        actions = {name: spec[0] for name, spec in settings.ACTIONS.items()}
        stored = self._settings.get("hotkeys.actions") or {}
        actions.update({k: v for k, v in stored.items() if k in actions})
        for name, key in actions.items():
            if key:
                action_id = ACTION_PREFIX + name
                wanted.append((action_id, key))
                names[action_id] = (f"全局操作“{settings.ACTIONS[name][1]}”", f"global action '{settings.ACTIONS[name][2]}'")
        for row in self.store.query("SELECT id, title, hotkey FROM replies WHERE hotkey IS NOT NULL AND hotkey != '' "
                                    "ORDER BY id"):
            action_id = f"{PASTE_PREFIX}{row['id']}"
            wanted.append((action_id, row["hotkey"]))
            names[action_id] = (f"回复“{row['title']}”", f"reply '{row['title']}'")
        if not self._settings.get("hotkeys.enabled", True) or self._capture_suspended:
            return {}, names
        desired: dict[str, str] = {}
        by_key: dict[str, str] = {}
        for action_id, key in wanted:
            if self._paused and action_id != ACTION_PREFIX + "toggle_pause":
                continue
            if key in by_key:
                first = by_key[key]
                self._report_conflict(key, names[first], names[action_id], (first, action_id))
                continue
            by_key[key] = action_id
            desired[action_id] = key
        return desired, names

    def _report_conflict(self, hotkey: str, first: tuple[str, str], second: tuple[str, str],
                         ids: tuple[str, str] = ("", ""), external: bool = False) -> None:
        """Tell the agent once per pair; the log names the owners by id only."""
        marker = (hotkey, first[1], second[1])
        if marker in self._reported:
            return
        self._reported.add(marker)
        if external:
            zh = (f"{second[0]}的快捷键 {hotkey} 已被{first[0]}占用，暂时无法使用："
                  "请换一个快捷键，或在那个程序里释放它（释放后会自动生效）")
            en = (f"Hotkey {hotkey} of {second[1]} is held by {first[1]}: choose another hotkey or free it "
                  "there (it is picked up automatically once free)")
        else:
            zh = f"快捷键 {hotkey} 冲突：{first[0]} 与 {second[0]} 同时使用它；已保留前者，请为后者换一个快捷键"
            en = (f"Hotkey {hotkey} conflict: {first[1]} and {second[1]} both use it; kept the first, "
                  "give the second another hotkey")
        log.warning("hotkey conflict on %s: %s vs %s", hotkey, ids[0] or "?", ids[1] or "?")
        self.conflict.emit(hotkey, zh, en)

    @Slot()
    def reload(self) -> None:
        """Re-read settings and hotkeys; apply the difference to what is registered."""
        try:
            self._data_version = self.store.data_version()
            self._load_settings()
            desired, names = self._desired()
        except KnownError as exc:
            self.error.emit(exc.zh, exc.en)
            return
        self._apply(desired, names)
        self._prerender()

    def _apply(self, desired: dict[str, str], names: dict[str, tuple[str, str]]) -> None:
        hk = self.backend.hotkeys
        current = hk.registered()
        changed = False
        for action_id, key in current.items():
            if desired.get(action_id) != key:
                hk.unregister(action_id)
                changed = True
        for action_id in list(self._failed):
            if desired.get(action_id) != self._failed[action_id]:
                del self._failed[action_id]
        current = hk.registered()
        for action_id, key in desired.items():
            if current.get(action_id) == key:
                continue
            if self._failed.get(action_id) == key:
                continue  # retried by _retry_failed, reported once already
            if self._register(action_id, key, names):
                changed = True
        if changed:
            log.info("hotkeys registered: %d", len(hk.registered()))
            self.hotkeys_changed.emit(dict(hk.registered()))

    def _register(self, action_id: str, key: str, names: dict[str, tuple[str, str]]) -> bool:
        try:
            self.backend.hotkeys.register(key, action_id)
        except HotkeyConflict as exc:
            self._failed[action_id] = key
            own = names.get(action_id, (action_id, action_id))
            other = (exc.owner_zh or "其他程序", exc.owner_en or "another program")
            self._report_conflict(key, other, own, ("another program", action_id), external=True)
            return False
        except KnownError as exc:
            self._failed[action_id] = key
            marker = (key, "error", exc.en)
            if marker not in self._reported:
                self._reported.add(marker)
                self.error.emit(exc.zh, exc.en)
            return False
        self._failed.pop(action_id, None)
        return True

    def _retry_failed(self) -> None:
        if not self._failed:
            return
        changed = False
        for action_id, key in list(self._failed.items()):
            try:
                self.backend.hotkeys.register(key, action_id)
            except KnownError:
                continue
            del self._failed[action_id]
            changed = True
            log.info("hotkey for %s registered after an earlier conflict", action_id.split(":")[0])
            self.message.emit(f"快捷键 {key} 现已可用", f"Hotkey {key} is now active")
        if changed:
            self.hotkeys_changed.emit(dict(self.backend.hotkeys.registered()))

    def _tick(self) -> None:
        now_wall = time.time()
        gap = now_wall - self._last_tick_wall - self._timer.interval() / 1000
        self._last_tick_wall = now_wall
        if gap > CLOCK_GAP_S:
            # Resumed from sleep (or the clock jumped): hooks may be gone on some systems.
            rehook = getattr(self.backend.hotkeys, "rehook", None)
            log.info("clock gap of %.0f s: %s", gap, "re-hooking hotkeys" if rehook else "checking hotkeys")
            if rehook is not None:
                rehook()
        try:
            version = self.store.data_version()
        except KnownError as exc:
            log.warning("data_version failed: %s", exc.en)
            return
        if version != self._data_version:
            self.reload()
        if self._failed and time.monotonic() - self._last_retry > RETRY_FAILED_S:
            self._last_retry = time.monotonic()
            self._retry_failed()
        self._remember_foreground()

    def _remember_foreground(self) -> int | None:
        """Remember the focused window if it is not ours; returns it (None: unknown)."""
        windows = self.backend.windows
        if windows is None:
            return None
        try:
            handle = windows.foreground()
            if handle and not windows.is_own(handle):
                self._last_external = handle
            return handle
        except Exception:  # noqa: BLE001 - a vanished window is not worth more than a debug line
            log.debug("foreground query failed", exc_info=True)
            return None

    # ------------------------------------------------------------------ pause

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        self._paused = paused
        self.reload()
        log.info("hotkeys %s", "paused" if paused else "resumed")
        self.paused.emit(paused)
        if paused:
            self.message.emit("全局快捷键已暂停（暂停/恢复键仍可用）", "Global hotkeys paused (the pause key still works)")
        else:
            self.message.emit("全局快捷键已恢复", "Global hotkeys resumed")

    @Slot()
    def toggle_pause(self) -> None:
        self.set_paused(not self._paused)

    @Slot(bool)
    def suspend_for_capture(self, active: bool) -> None:
        """A hotkey field (reply editor, settings) records a chord: ungrab every global hotkey so the
        chord reaches the field instead of firing; False grabs again. Quiet: no message, no `paused`
        signal, and the agent's pause is left alone - resuming re-applies whatever is due now (paused:
        the pause key only). Conflicts already reported are not reported again."""
        active = bool(active)
        if active == self._capture_suspended:
            return
        self._capture_suspended = active
        log.info("hotkeys %s for chord capture", "ungrabbed" if active else "grabbed again")
        self.reload()

    # ------------------------------------------------------------------ hotkeys fire

    def _capture(self) -> int:
        """The window the agent is typing in when the hotkey fired (on X11 the answer to the focus
        query the backend sent at the KeyPress, however late it is collected)."""
        windows = self.backend.windows
        if windows is None:
            return 0
        try:
            handle = windows.foreground()
        except Exception:  # noqa: BLE001
            log.debug("capturing the foreground window failed", exc_info=True)
            return self._last_external
        if handle and windows.is_own(handle):
            return self._last_external  # hotkey pressed while our panel had focus
        if handle:
            self._last_external = handle
        self._just_captured = handle
        return handle

    def _on_activated(self, action_id: str) -> None:
        if self._capture_suspended:
            log.debug("hotkey %s ignored: a chord is being recorded", action_id.split(":")[0])
            return  # a key event queued before the ungrab
        if self._fast_paste(action_id):
            return
        target = self._capture()
        try:
            self._dispatch(action_id, target)
        finally:
            self._just_captured = 0

    def _fast_paste(self, action_id: str) -> bool:
        """A reply's hotkey, the usual case: no per-app rules, nothing to fill in, no paste under
        way. The paste does not wait for the X server to say which window has the focus (on this
        machine a round trip at that moment costs ~0.2-0.4 ms): when the window tracker can tell
        without asking that none of OUR windows has it (`own_focused`), the keys go to whichever
        window the agent is typing in, and the focus - asked at the KeyPress - is collected after
        the chord, to remember the chat window. When one of our windows has the focus, the old
        order holds: the target is learnt first and the last chat window raised."""
        windows = self.backend.windows
        if (not action_id.startswith(PASTE_PREFIX) or self._rules or self.paste_service is None
                or self.paste_service.busy or not self.backend.capabilities.send_keys
                or windows is None or getattr(windows, "checks_targets", False)):
            return False
        reply_id = int(action_id[len(PASTE_PREFIX):])
        try:
            rendered = self._render(reply_id, self._values(self._context))
        except KnownError as exc:
            self.error.emit(exc.zh, exc.en)
            return True
        if rendered.missing:
            return False
        own_focused = getattr(windows, "own_focused", None)
        blind = own_focused is not None and not own_focused()

        def resolve() -> tuple[int, bool] | None:
            if blind:
                return 0, True  # the focused window, whichever it is: the agent is typing there
            self._just_captured = 0
            handle = self._capture()
            focused = bool(handle) and self._just_captured == handle  # not our own panel
            self._just_captured = 0
            if not handle:
                return None  # no window to paste into: the text stays copied
            return handle, focused

        self._paste_text(reply_id, rendered.text, 0, "hotkey", self._hotkey_key(action_id), resolve=resolve)
        if blind:
            self._after_blind_paste(reply_id)
        return True

    def _after_blind_paste(self, reply_id: int) -> None:
        """The chord has gone: now collect the focus asked at the KeyPress."""
        handle = self._remember_foreground()
        if handle is None:
            return
        if handle:
            if handle != self._last_external:
                log.warning("a hotkey paste went to one of our own windows")  # focus moved to us unseen
            return
        # Nothing had the focus: the keys went nowhere. Leave the text copied, as the slow path does.
        log.info("hotkey for reply %d fired with no window focused; the reply stays copied", reply_id)
        if self.paste_service is not None:
            self.paste_service.take_pending_snapshot()
        hand_over = getattr(self.paste_clipboard, "hand_over", None)
        if hand_over is not None:
            hand_over()
        self.message.emit(COPIED_ZH, COPIED_EN)

    def _dispatch(self, action_id: str, target: int) -> None:
        try:
            if action_id.startswith(PASTE_PREFIX):
                reply_id = int(action_id[len(PASTE_PREFIX):])
                self._start_paste(reply_id, dict(self._context), target, via="hotkey",
                                  hotkey_key=self._hotkey_key(action_id))
                return
            action = action_id[len(ACTION_PREFIX):]
            log.info("hotkey: action %s", action)
            if action == "focus_search":
                self.focus_search_requested.emit()
            elif action == "toggle_pause":
                self.toggle_pause()
            elif action == "next_chase":
                token = self._new_token(target)
                self.next_chase_requested.emit(token)
            elif action == "star_selection":
                self._copy_selection(target, self._star_from_text, self._hotkey_key(action_id))
            elif action == "add_selection":
                self._copy_selection(target, self._add_from_text, self._hotkey_key(action_id))
            else:
                log.warning("unknown hotkey action %s", action)
        except KnownError as exc:
            self.error.emit(exc.zh, exc.en)

    def _hotkey_key(self, action_id: str) -> str:
        """Main key of the hotkey that fired this action ("1" for Ctrl+Alt+1)."""
        hotkey = self.backend.hotkeys.registered().get(action_id, "")
        return hotkey.rsplit("+", 1)[-1] if hotkey else ""

    def _new_token(self, target: int) -> int:
        token = next(self._tokens)
        self._targets[token] = target
        while len(self._targets) > 50:
            oldest = next(iter(self._targets))
            self._targets.pop(oldest)
            self._pending_fields.pop(oldest, None)
        return token

    # ------------------------------------------------------------------ paste

    def _values(self, values: dict | None) -> dict[str, str]:
        merged: dict[str, str] = {}
        agent = self._settings.get("agent.name")
        if agent:
            merged["客服"] = str(agent)
        merged.update(self._context)
        merged.update({str(k): str(v) for k, v in (values or {}).items() if v is not None})
        return merged

    def _render(self, reply_id: int, values: dict[str, str]) -> templates.Rendered:
        version = self.store.data_version()
        if version != self._rendered_version:
            self._rendered.clear()
            self._rendered_version = version
        key = (reply_id, tuple(sorted(values.items())))
        rendered = self._rendered.get(key)
        if rendered is not None:
            return templates.Rendered(rendered.text, list(rendered.missing))
        rows = self.store.query("SELECT body FROM replies WHERE id = ?", (reply_id,))
        if not rows:
            raise KnownError(f"回复 {reply_id} 已被删除", f"Reply {reply_id} no longer exists")
        rendered = templates.render(rows[0]["body"], values)
        if len(self._rendered) >= 512:
            self._rendered.clear()
        self._rendered[key] = templates.Rendered(rendered.text, list(rendered.missing))
        return rendered

    @Slot()
    def _prerender(self) -> None:
        """Render the replies that have a hotkey with the current values, off the hotkey path."""
        try:
            values = self._values(self._context)
            for row in self.store.query("SELECT id FROM replies WHERE hotkey IS NOT NULL AND hotkey != ''"):
                self._render(int(row["id"]), values)
        except KnownError as exc:
            log.debug("pre-rendering hotkey replies failed: %s", exc.en)

    def _start_paste(self, reply_id: int, values: dict, target: int, via: str, hotkey_key: str = "",
                     tag: str = "") -> None:
        rendered = self._render(reply_id, self._values(values))
        if rendered.missing:
            token = self._new_token(target)
            self._pending_fields[token] = (reply_id, via, tag)
            log.info("reply %d needs %d fill-in values; asking the panel", reply_id, len(rendered.missing))
            self.fields_needed.emit(reply_id, list(rendered.missing), token)
            return
        self._paste_text(reply_id, rendered.text, target, via, hotkey_key, tag)

    def _paste_text(self, reply_id: int, text: str, target: int, via: str, hotkey_key: str = "",
                    tag: str = "", resolve: Callable[[], tuple[int, bool] | None] | None = None) -> None:
        if self.paste_service is None or not self.backend.capabilities.send_keys:
            self._copy_text(reply_id, text, via, tag=tag)
            return
        windows = self.backend.windows
        if resolve is None and windows is not None and (not target or windows.is_own(target)):
            # No chat window known yet (or only our own panel): keys would land in the panel.
            self._copy_text(reply_id, text, via, tag=tag)
            return
        method = self._settings.get("paste.chord", "ctrl+v")
        delay = int(self._settings.get("paste.restore_delay_ms", 300))
        rule_name = ""
        if windows is not None and target:
            info: WindowInfo | None = None
            if self._rules or getattr(windows, "checks_targets", False):
                info = windows.describe(target)
                method, delay, rule_name = choose_method(self._rules, info, method, delay)
                warning = windows.check_target(info)
                if warning:
                    self.error.emit(*warning)
                    self._copy_text(reply_id, text, via, announce=False, tag=tag)
                    return
        if rule_name:
            log.info("paste rule %r applies: %s, restore after %d ms", rule_name, method, delay)

        fired_at = getattr(self.backend.hotkeys, "fired_at", 0.0) if via == "hotkey" else 0.0

        def done(result: PasteResult) -> None:
            chord_at = time.monotonic()
            if not result.ok:
                # The text stays on the clipboard; the agent pastes by hand, so it still counts.
                self.paste_failed.emit(reply_id, result.zh, result.en)
                self.error.emit(result.zh, result.en)

            # Log, tell the panel and record once the chat client has fetched the text: a log write,
            # a panel repaint or the writer thread's Python work (GIL) would delay Qt answering the
            # client's clipboard request (our QMimeData is a Python object), and the paste with it.
            def later() -> None:
                if later not in self._pending_later:
                    return  # already run by shutdown()
                self._pending_later.remove(later)
                since_key = f", {1000 * (chord_at - fired_at):.1f} ms after the key press" if fired_at else ""
                log.info("%s reply %d via %s by %s%s", "pasted" if result.ok else "paste failed for", reply_id,
                         via, result.method, since_key)
                if result.ok:
                    self.pasted.emit(reply_id)
                self._record.emit(reply_id, via, tag, result.ok)

            self._pending_later.append(later)
            self.scheduler.call_later(delay + RECORD_AFTER_RESTORE_MS, later)

        focused = bool(target) and not self.paste_service.busy and via == "hotkey"
        self.paste_service.paste(PasteRequest(text, target, method, delay, tag=reply_id, on_done=done,
                                              focused=focused and self._just_captured == target,
                                              hotkey_key=hotkey_key, resolve=resolve))

    def _copy_text(self, reply_id: int, text: str, via: str, announce: bool = True, tag: str = "") -> None:
        if self.paste_service is not None:
            self.paste_service.flush_restore()
        self._set_copied(text)
        if announce:
            self.message.emit(COPIED_ZH, COPIED_EN)
        self._record.emit(reply_id, via, tag, False)

    def _set_copied(self, text: str, attempts: int = SET_RETRIES) -> None:
        """Copy for the agent; a refusal (the toolkit's timestamp is older than the paste that
        still owns the clipboard on X11) is refreshed and retried, not dropped."""
        if self.clipboard.set_text(text) is False and attempts > 0:
            refresh = getattr(self.clipboard, "refresh", None)
            if refresh is not None:
                refresh()
            self.scheduler.call_later(SET_RETRY_MS, lambda: self._set_copied(text, attempts - 1))

    @Slot(int, dict)
    def paste_reply(self, reply_id: int, values: dict) -> None:
        """From the panel (Enter on a reply): into the chat window used last; copy where we
        cannot paste."""
        self.paste_reply_tagged(reply_id, values, "")

    @Slot(int, dict, str)
    def paste_reply_tagged(self, reply_id: int, values: dict, tag: str) -> None:
        """paste_reply, answered by tagged_paste_done(tag, reply_id, ok) once it counts as used (a
        chase script from a reminder: the chase is recorded for exactly this paste)."""
        try:
            self._start_paste(reply_id, values, self._last_external, via="panel", tag=tag)
        except KnownError as exc:
            self.error.emit(exc.zh, exc.en)

    @Slot(int, dict)
    def copy_reply(self, reply_id: int, values: dict) -> None:
        try:
            rendered = self._render(reply_id, self._values(values))
        except KnownError as exc:
            self.error.emit(exc.zh, exc.en)
            return
        self._copy_text(reply_id, rendered.text, "copy")

    @Slot(int, dict)
    def complete_paste(self, token: int, values: dict) -> None:
        pending = self._pending_fields.pop(token, None)
        if pending is None:
            return
        reply_id, via, tag = pending
        target = self._targets.pop(token, self._last_external)
        try:
            rendered = self._render(reply_id, self._values(values))
            # Fields still empty stay visible as {客户}: the agent sees them and edits before sending.
            self._paste_text(reply_id, rendered.text, target, via, tag=tag)
        except KnownError as exc:
            self.error.emit(exc.zh, exc.en)

    @Slot(int)
    def cancel_paste(self, token: int) -> None:
        self._pending_fields.pop(token, None)
        self._targets.pop(token, None)

    @Slot(int, int, dict)
    def paste_reply_to(self, token: int, reply_id: int, values: dict) -> None:
        self.paste_reply_to_tagged(token, reply_id, values, "")

    @Slot(int, int, dict, str)
    def paste_reply_to_tagged(self, token: int, reply_id: int, values: dict, tag: str) -> None:
        """paste_reply_to, answered by tagged_paste_done(tag, reply_id, ok) like paste_reply_tagged."""
        target = self._targets.pop(token, self._last_external)
        try:
            self._start_paste(reply_id, values, target, via="hotkey", tag=tag)
        except KnownError as exc:
            self.error.emit(exc.zh, exc.en)

    @Slot(dict)
    def set_context(self, values: dict) -> None:
        """Fill-in values of the buyer in context ({客户}, {商品}...); replaced, not merged."""
        self._context = {str(k): str(v) for k, v in (values or {}).items() if v}
        self._prerender()

    # ------------------------------------------------------------------ selection actions

    def _copy_selection(self, target: int, then: Callable[[str], None], hotkey_key: str = "") -> None:
        """Copy the chat client's selected text with its copy chord, read it, give the clipboard
        back. A marker text goes on the clipboard first, so we know when the copy has happened."""
        keys = self.backend.keys
        if keys is None or self._copying:
            return
        self._copying = True
        snapshot = self.paste_service.take_pending_snapshot() if self.paste_service is not None else None
        if snapshot is None:
            snapshot = self.paste_clipboard.snapshot()
        marker = f"kefu-selection-{time.monotonic_ns()}"
        waited = [0]

        def finish(text: str | None) -> None:
            self.clipboard.restore(snapshot)
            self._copying = False
            if not text or not text.strip():
                self.message.emit("没有读取到选中的文字：请先在聊天窗口中选中买家昵称",
                                  "No selected text: select the buyer's nickname in the chat window first")
                return
            then(text.strip())

        def wait_for_copy() -> None:
            if not self.clipboard.holds_text(marker):
                finish(self.clipboard.text())
                return
            if waited[0] >= COPY_SELECTION_TIMEOUT_MS:
                finish(None)
                return
            waited[0] += COPY_SELECTION_POLL_MS
            self.scheduler.call_later(COPY_SELECTION_POLL_MS, wait_for_copy)

        def send_copy() -> None:
            held = keys.held_modifiers()
            if not held and hotkey_key == "C" and keys.key_down("C"):
                held = {"C"}  # a hotkey on C: Ctrl+C while C is still down would be a repeat
            if held:
                if waited[0] >= MODIFIER_WAIT_MS:
                    self.clipboard.restore(snapshot)
                    self._copying = False
                    names = "+".join(sorted(held))
                    self.error.emit(f"请松开 {names} 键后再试", f"Release {names} and try again")
                    return
                waited[0] += COPY_SELECTION_POLL_MS
                self.scheduler.call_later(COPY_SELECTION_POLL_MS, send_copy)
                return
            waited[0] = 0
            keys.send_chord("ctrl+c")
            self.scheduler.call_later(COPY_SELECTION_POLL_MS, wait_for_copy)

        def take_marker(attempt: int = 0) -> None:
            # Without owning the marker we could not tell the copy happened: we would read the
            # old clipboard as the "selection" (see QtClipboard on Qt's stale X timestamps).
            if self.clipboard.set_text(marker) is False:
                if attempt >= 3:
                    self._copying = False
                    self.error.emit("无法接管剪贴板，请重试", "Could not take the clipboard; try again")
                    return
                refresh = getattr(self.clipboard, "refresh", None)
                if refresh is not None:
                    refresh()
                self.scheduler.call_later(15, lambda: take_marker(attempt + 1))
                return
            send_copy()

        from .core.hotkeys import MODIFIERS

        if self.backend.capabilities.release_modifiers:
            keys.release_modifiers(set(MODIFIERS))
        take_marker()

    def _star_from_text(self, text: str) -> None:
        nick = text.splitlines()[0].strip()[:64]
        # The buyers table arrives with the customers issue; until then the panel is told and
        # nothing is stored here.
        log.info("star_selection: nickname read (%s)", selection_marker(nick))
        self.star_requested.emit(nick)

    def _add_from_text(self, text: str) -> None:
        log.info("add_selection: text read (%s)", selection_marker(text))
        self.add_reply_requested.emit(text[: replies.MAX_BODY])


def status_report(controller: HotkeyController) -> str:
    """One JSON line for diagnostics (ids and hotkeys only)."""
    return json.dumps({"backend": controller.backend.name, "paused": controller.is_paused,
                       "registered": controller.registered()}, ensure_ascii=False)
