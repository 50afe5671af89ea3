"""Which global hotkeys are grabbed: the replies' and the global actions', from a PasteSnapshot.

The snapshot (core.replies.load_paste_snapshot: hotkeyed replies + paste settings) is read on the
StoreWorker after every change - a write job, or another process's commit that SystemWatch noticed
(both arrive as worker.data_changed) - and handed here on the GUI thread. HotkeyMap applies it as a
DIFF, so an unchanged hotkey is never ungrabbed (no gap in which a key press could leak), and hands
it on (`snapshot_changed`) to PasteFlow, which renders hotkey replies from it.

What a hotkey does when it fires is PasteFlow's (services/pasteflow.py): app.wire_hotkeys sets it as
the backend's callback.

Messages for the agent (status, problems, conflicts naming both owners) go to the MessageBridge app.py
passes in (services/messages.py).
Signals:
    conflict(hotkey)                     a hotkey could not be grabbed (told once, text on the bridge)
    paused(bool)                         hotkeys paused / resumed (only the pause key stays grabbed)
    hotkeys_changed(dict)                {action id: hotkey} now grabbed ("paste:12", "action:focus_search")
    snapshot_changed(PasteSnapshot)      a fresh snapshot, already applied here
    capture_suspended(bool)              a hotkey field records a chord: activations must be ignored
Slots:
    reload()                             read the snapshot again (after a change)
    set_paused(bool), toggle_pause()
    suspend_for_capture(bool)            ungrab everything (the pause key too) until False, quietly:
                                         no message, no `paused`, the agent's pause untouched
    on_woke(gap)                         SystemWatch saw sleep/wake: re-hook where hooks can die
    retry_failed()                       SystemWatch's heartbeat: a hotkey another program held
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from ..core import replies, settings
from ..errors import KnownError
from ..platform.base import Backend, HotkeyConflict
from .messages import MessageBridge

log = logging.getLogger(__name__)

RETRY_FAILED_S = 10.0
PASTE_PREFIX = "paste:"
ACTION_PREFIX = "action:"
SNAPSHOT_JOB = "hotkeys.snapshot"


class HotkeyMap(QObject):
    #: text for the agent goes through self.messages (the app's MessageBridge): _inform / _warn
    #: a hotkey is held twice (by two owners here, or by another program): the hotkey; the text goes to messages
    conflict = Signal(str)
    paused = Signal(bool)
    hotkeys_changed = Signal(dict)
    snapshot_changed = Signal(object)
    capture_suspended = Signal(bool)

    def __init__(self, backend: Backend, worker: Any, parent: QObject | None = None, *,
                 messages: MessageBridge | None = None) -> None:
        super().__init__(parent)
        self.messages = messages if messages is not None else MessageBridge(self)
        self.backend = backend
        self.worker = worker
        self.snapshot: replies.PasteSnapshot | None = None
        self._paused = False
        self._capture_suspended = False
        self._started = False
        self._reported: set[tuple[str, str, str]] = set()  # (hotkey, owner a, owner b) already told
        self._failed: dict[str, str] = {}  # action id -> hotkey the OS refused
        self._last_retry = 0.0

    # ------------------------------------------------------------------ messages

    def _inform(self, zh: str, en: str) -> None:
        self.messages.post_logged(log, "hotkey", zh, en)

    def _warn(self, zh: str, en: str) -> None:
        self.messages.post_logged(log, "hotkey", zh, en, "warning")

    # ------------------------------------------------------------------ lifecycle

    def start(self, snapshot: replies.PasteSnapshot | None = None) -> None:
        """Grab the hotkeys. With a snapshot already read (app.py reads it before the first frame) they are
        grabbed now, not after a worker round trip that waits for the first paint (issue 17); it is read
        again on the worker either way."""
        self._started = True
        log.info("hotkey controller started: backend=%s (%s)", self.backend.name, self.backend.reason)
        if not self.backend.capabilities.global_hotkeys:
            self._inform("当前环境不支持全局快捷键：在面板中选择回复后按回车复制，再到聊天窗口按 Ctrl+V",
                              "Global hotkeys are not available here: press Enter on a reply in the panel "
                              "to copy it, then Ctrl+V in the chat window")
        if snapshot is not None:
            self._on_snapshot(snapshot)
        self.reload()

    @Slot()
    def shutdown(self) -> None:
        self._started = False
        try:
            self.backend.close()
        except Exception:  # noqa: BLE001 - closing must go on
            log.exception("closing the platform backend failed")

    # ------------------------------------------------------------------ state

    @property
    def is_paused(self) -> bool:
        return self._paused

    @property
    def is_capture_suspended(self) -> bool:
        return self._capture_suspended

    def registered(self) -> dict[str, str]:
        return self.backend.hotkeys.registered()

    @Slot()
    def reload(self) -> None:
        """Read the snapshot again on the worker; applied when it arrives (a newer read supersedes)."""
        if self._started:
            self.worker.submit(replies.load_paste_snapshot, self._on_snapshot, self._on_error, key=SNAPSHOT_JOB)

    def _on_snapshot(self, snapshot: replies.PasteSnapshot) -> None:
        if not self._started:
            return
        self.snapshot = snapshot
        self._apply()
        self.snapshot_changed.emit(snapshot)

    def _on_error(self, exc: KnownError) -> None:
        self._warn(exc.zh, exc.en)

    def _desired(self) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """(action id -> hotkey) to grab, and action id -> (zh, en) name of each owner."""
        snapshot = self.snapshot
        stored_settings = snapshot.settings if snapshot is not None else {}
        names: dict[str, tuple[str, str]] = {}
        wanted: list[tuple[str, str]] = []
        actions = {name: spec[0] for name, spec in settings.ACTIONS.items()}
        stored = stored_settings.get("hotkeys.actions") or {}
        actions.update({k: v for k, v in stored.items() if k in actions})
        for name, key in actions.items():
            if key:
                action_id = ACTION_PREFIX + name
                wanted.append((action_id, key))
                names[action_id] = (f"全局操作“{settings.ACTIONS[name][1]}”", f"global action '{settings.ACTIONS[name][2]}'")
        for row in (snapshot.rows.values() if snapshot is not None else ()):
            action_id = f"{PASTE_PREFIX}{row.id}"
            wanted.append((action_id, row.hotkey))
            names[action_id] = (f"回复“{row.title}”", f"reply '{row.title}'")
        if not stored_settings.get("hotkeys.enabled", True) or self._capture_suspended:
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
        log.warning("hotkey conflict reported: %s", hotkey)
        self.conflict.emit(hotkey)
        self.messages.post(zh, en, "warning")  # not logged: it names the owners (reply titles)

    def _apply(self) -> None:
        """Grab what is wanted now, as a diff against what is grabbed."""
        if self.snapshot is None:
            return  # not loaded yet: nothing to compare with
        desired, names = self._desired()
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
                continue  # retried by retry_failed, reported once already
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
                self._warn(exc.zh, exc.en)
            return False
        self._failed.pop(action_id, None)
        return True

    @Slot()
    def retry_failed(self) -> None:
        """A hotkey another program held: tried again every RETRY_FAILED_S (SystemWatch.heartbeat)."""
        if not self._failed or time.monotonic() - self._last_retry <= RETRY_FAILED_S:
            return
        self._last_retry = time.monotonic()
        changed = False
        for action_id, key in list(self._failed.items()):
            try:
                self.backend.hotkeys.register(key, action_id)
            except KnownError:
                continue
            del self._failed[action_id]
            changed = True
            log.info("hotkey for %s registered after an earlier conflict", action_id.split(":")[0])
            self._inform(f"快捷键 {key} 现已可用", f"Hotkey {key} is now active")
        if changed:
            self.hotkeys_changed.emit(dict(self.backend.hotkeys.registered()))

    @Slot(float)
    def on_woke(self, gap: float) -> None:
        """Resumed from sleep (or the clock jumped): hooks may be gone on some systems."""
        log.info("clock gap of %.0f s: re-hooking hotkeys (a no-op where the OS keeps them)", gap)
        self.backend.hotkeys.rehook()

    # ------------------------------------------------------------------ pause

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        if paused == self._paused:
            return
        self._paused = paused
        self._apply()
        log.info("hotkeys %s", "paused" if paused else "resumed")
        self.paused.emit(paused)
        if paused:
            self._inform("全局快捷键已暂停（暂停/恢复键仍可用）", "Global hotkeys paused (the pause key still works)")
        else:
            self._inform("全局快捷键已恢复", "Global hotkeys resumed")

    @Slot()
    def toggle_pause(self) -> None:
        self.set_paused(not self._paused)

    @Slot(bool)
    def suspend_for_capture(self, active: bool) -> None:
        """A hotkey field (reply editor, settings) records a chord: ungrab every global hotkey so the
        chord reaches the field instead of firing; False grabs again. Quiet: no message, no `paused`
        signal, and the agent's pause is left alone - resuming re-applies whatever is due now (paused:
        the pause key only). Conflicts already reported are not reported again. Synchronous (from the
        snapshot in hand): a chord pressed right after the click is recorded, not fired."""
        active = bool(active)
        if active == self._capture_suspended:
            return
        self._capture_suspended = active
        log.info("hotkeys %s for chord capture", "ungrabbed" if active else "grabbed again")
        self.capture_suspended.emit(active)
        self._apply()
