"""What a hotkey (or the panel) does: capture the chat window -> render -> paste -> record.

A reply's hotkey, traced from the key to the usage record, in five modules:

    1. platform/x11/backend.py   the KeyPress on our X connection (QSocketNotifier, GUI thread):
                                 X11Hotkeys dispatches the grabbed key's action id, "paste:<reply id>",
                                 to the callback app.wire_hotkeys set: PasteFlow.on_activated
                                 (Windows: platform/windows/backend.py, via a queued Qt signal)
    2. services/pasteflow.py     on_activated -> _fast_paste: the reply's text from the PasteSnapshot
                                 in hand (never a store read), the target window (asked at the
                                 KeyPress, collected after the chord), a PasteRequest
    3. core/replies.py           render_row(row, paste_values(...)): fill-in fields, pure
    4. platform/paste.py         PasteService runs the sequence: snapshot the clipboard, set our text,
                                 release modifiers, send the chord, restore the clipboard later
    5. services/worker.py        once the chat client has fetched the text: replies.record_use as a
                                 write job on the one StoreWorker -> usage_recorded (and, for an
                                 attributed paste such as a chase script, attributed_paste_done)

The PasteSnapshot comes from HotkeyMap (services/hotkeymap.py), which reads it on the worker after
every change; a reply that has no hotkey (the panel's list, a chase script) is read by a worker job
first - never on the GUI thread.

Composition level below ui: it knows assistant.core, assistant.platform and Qt core/gui, never
assistant.ui. app.py connects the panel to the signals and slots below.

Messages for the agent go to the MessageBridge app.py passes in (services/messages.py), logged in English:
    info  (zh, en)                       short status text, e.g. "已复制，请按 Ctrl+V"
    warning (zh, en)                     something the agent must know (paste failed, store error)
Signals:
    pasted(reply_id)                     text sent into the chat client (usage is being recorded)
    paste_failed(reply_id, zh, en)     (its text also goes to the bridge as a warning)
    fields_needed(reply_id, missing, token)
                                         the reply has fill-in fields without values: show a form,
                                         then call complete_paste(token, values) or cancel_paste(token)
    focus_search_requested()             global action: focus the search box (show the panel)
    star_requested(nick)                 global action: star this buyer (the selected text)
    aftersales_requested(nick)           global action: the after-sales case of this buyer (the
                                         selected text): their open case, or the form to open one
    next_chase_requested(token)          global action: paste the next chase script; answer with
                                         paste_reply_to(token, reply_id, values)
    add_reply_requested(text)            global action: open the reply editor pre-filled
    suggest_requested(text)              global action: the replies for this buyer's message (the
                                         selected text), listed in the panel
    pause_toggle_requested()             global action: the pause key (HotkeyMap.toggle_pause)
    usage_recorded(reply_id)             record_use committed: refresh usage-ranked lists
    attributed_paste_done(attribution, reply_id, ok)
                                         a paste asked for with an attribution (paste_reply_attributed,
                                         paste_reply_to_attributed: a chase script from a reminder)
                                         counted as used: emitted right after its usage_recorded, on
                                         the same rule - the text went into the chat window (ok=True),
                                         or it was left on the clipboard for the agent to paste by
                                         hand (ok=False: the paste failed, or the copy fallback: no
                                         send-keys, no chat window known, a target we must not type
                                         into). Never for a paste that was cancelled (fill-in form) or
                                         failed before any text (deleted reply), nor when the usage
                                         could not be stored. Pastes without one never emit it.
    attributed_values(attribution, values)
                                         the fill-in form's values for an attributed paste, before
                                         its text is pasted (a chase records the {卖点} it sent)
Slots:
    on_activated(action_id)              the backend's hotkey callback
    paste_reply(reply_id, values)        paste into the chat window the agent used last
    paste_reply_attributed(reply_id, values, attribution)
                                         the same, answered by attributed_paste_done(attribution, ...)
    copy_reply(reply_id, values)         copy only (+ message "已复制，请按 Ctrl+V")
    complete_paste(token, values), cancel_paste(token)
    paste_reply_to(token, reply_id, values)
    paste_reply_to_attributed(token, reply_id, values, attribution)
    set_context(values)                  fill-in values of the current buyer ({客户}...)
    set_review_guard(guard)              invites.ReviewGuard of that buyer: a 邀评 reply for a buyer who
                                         may not be asked now is held back with a warning, unless
                                         asked again within CONFIRM_S
    set_snapshot(snapshot)               HotkeyMap.snapshot_changed
    set_capture_suspended(bool)          HotkeyMap.capture_suspended: ignore activations meanwhile
    remember_foreground()                SystemWatch.heartbeat: remember the chat window in use
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core import replies, templates
from ..errors import KnownError
from ..platform.base import Backend, WindowInfo
from ..platform.dummy.backend import COPIED_EN, COPIED_ZH
from ..platform.paste import (
    SET_RETRIES,
    SET_RETRY_MS,
    AppRule,
    PasteRequest,
    PasteResult,
    PasteService,
    choose_method,
    parse_app_rules,
)
from .hotkeymap import ACTION_PREFIX, PASTE_PREFIX
from .messages import MessageBridge

log = logging.getLogger(__name__)

COPY_SELECTION_TIMEOUT_MS = 600
COPY_SELECTION_POLL_MS = 10
RECORD_AFTER_RESTORE_MS = 200
MODIFIER_WAIT_MS = 3000
RENDER_CACHE_MAX = 512
# Tests may set this to a secret: star/add-selection then log an HMAC of the selected text, which
# the test can recompute. Without it only the length is logged (never customer text).
ENV_TEST_LOG_KEY = "KEFU_TEST_LOG_KEY"
CONFIRM_S = 8  # a review invite held back: asked again within this many seconds, it goes out


class QtScheduler:
    """Scheduler protocol on QTimer.singleShot (GUI thread, never sleeps)."""

    def call_later(self, delay_ms: int, fn: Callable[[], None]) -> None:
        QTimer.singleShot(max(0, int(delay_ms)), fn)


def selection_marker(text: str) -> str:
    """Privacy-safe description of selected customer text for the log."""
    key = os.environ.get(ENV_TEST_LOG_KEY)
    if key:
        import hashlib  # tests only (ENV_TEST_LOG_KEY): hmac and hashlib load OpenSSL (~3.7 MB)
        import hmac

        digest = hmac.new(key.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        return f"len={len(text)} hmac={digest}"
    return f"len={len(text)}"


class PasteFlow(QObject):
    #: text for the agent goes through self.messages (the app's MessageBridge): _inform / _warn
    pasted = Signal(int)
    paste_failed = Signal(int, str, str)
    fields_needed = Signal(int, list, int)
    focus_search_requested = Signal()
    star_requested = Signal(str)
    aftersales_requested = Signal(str)
    suggest_requested = Signal(str)
    next_chase_requested = Signal(int)
    add_reply_requested = Signal(str)
    pause_toggle_requested = Signal()
    usage_recorded = Signal(int)
    attributed_paste_done = Signal(str, int, bool)
    #: the agent's fill-in values for an attributed paste (attribution, values), before it is pasted:
    #: a chase records the selling point the agent actually sent ({卖点} typed or retyped)
    attributed_values = Signal(str, dict)

    def __init__(self, backend: Backend, worker: Any, *, clipboard: Any = None, scheduler: Any = None,
                 parent: QObject | None = None, messages: MessageBridge | None = None) -> None:
        super().__init__(parent)
        self.messages = messages if messages is not None else MessageBridge(self)
        self.backend = backend
        self.worker = worker
        paste_clipboard = clipboard
        if clipboard is None:
            from ..platform.qtclipboard import QtClipboard

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
        self.snapshot = replies.PasteSnapshot({}, {})
        self._rules: list[AppRule] = []
        self._reported_rules: set[tuple[str, str]] = set()
        self._context: dict[str, str] = {}
        self._tokens = itertools.count(1)
        self._targets: dict[int, int] = {}  # token -> window handle
        self._pending_fields: dict[int, tuple[int, str, str]] = {}  # token -> (reply id, via, attribution)
        self._capture_suspended = False  # a hotkey field is recording a chord
        self._last_external = 0
        # Rendered hotkey replies for the current snapshot and context: a hotkey press renders nothing.
        self._rendered: dict[tuple[int, tuple[tuple[str, str], ...]], templates.Rendered] = {}
        self._copying = False
        self._just_captured = 0
        self._pending_later: list[Callable[[], None]] = []
        # Review invites (core/invites.py): the buyer in context, the 邀评 replies and whether one may
        # go to that buyer now, computed off the hotkey path whenever the buyer or the data changes.
        self._review_guard: Any = None
        self._confirm: tuple[int, int] | None = None  # (reply, buyer) warned about, and when
        self._confirm_at = 0.0

    # ------------------------------------------------------------------ messages

    def _inform(self, zh: str, en: str) -> None:
        self.messages.post_logged(log, "hotkey", zh, en)

    def _warn(self, zh: str, en: str) -> None:
        self.messages.post_logged(log, "hotkey", zh, en, "warning")

    # ------------------------------------------------------------------ state from HotkeyMap

    @Slot(object)
    def set_snapshot(self, snapshot: replies.PasteSnapshot) -> None:
        self.snapshot = snapshot
        self.paste_clipboard.set_password_hint(bool(snapshot.settings.get("paste.hide_from_history")))
        self._rules, problems = parse_app_rules(snapshot.settings.get("paste.app_rules"))
        for zh, en in problems:
            if (zh, en) not in self._reported_rules:
                self._reported_rules.add((zh, en))
                self._warn(zh, en)
        self._prerender()

    @Slot(bool)
    def set_capture_suspended(self, active: bool) -> None:
        self._capture_suspended = bool(active)

    @Slot(dict)
    def set_context(self, values: dict) -> None:
        """Fill-in values of the buyer in context ({客户}, {商品}...); replaced, not merged."""
        self._context = {str(k): str(v) for k, v in (values or {}).items() if v}
        self._prerender()

    @Slot(object)
    def set_review_guard(self, guard: Any) -> None:
        """invites.ReviewGuard for the buyer in context, or None (no buyer chosen)."""
        self._review_guard = guard

    def _held_back(self, reply_id: int) -> bool:
        """A review invite for the buyer in context where inviting is not allowed now: warned with the
        reason and NOT pasted, unless the agent asks for the same reply again within CONFIRM_S
        seconds (their decision: it goes out then). A set lookup; nothing is read here."""
        guard = self._review_guard
        if guard is None or reply_id not in guard.reply_ids or guard.verdict.allowed:
            return False
        now = time.monotonic()
        key = (reply_id, guard.buyer_id)
        if self._confirm == key and now - self._confirm_at <= CONFIRM_S:
            self._confirm = None
            log.info("review invite %d pasted after a warning (%s)", reply_id, guard.verdict.why)
            return False
        self._confirm, self._confirm_at = key, now
        self._warn(f"这是邀评话术，{guard.verdict.zh}。{CONFIRM_S} 秒内再发一次才会发出",
                   f"This is a review invite and {guard.verdict.en}. Send it again within {CONFIRM_S} s "
                   f"to send it anyway")
        return True

    @Slot()
    def shutdown(self) -> None:
        """Put the clipboard back and submit the uses not yet recorded (before the worker stops)."""
        if self.paste_service is not None:
            self.paste_service.flush_restore()
        self.clipboard.release_tracking()
        for later in list(self._pending_later):
            later()
        log.info("paste flow stopped")

    # ------------------------------------------------------------------ windows

    @Slot()
    def remember_foreground(self) -> int | None:
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

    # ------------------------------------------------------------------ hotkeys fire

    def on_activated(self, action_id: str) -> None:
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
                or windows is None or windows.checks_targets):
            return False
        reply_id = int(action_id[len(PASTE_PREFIX):])
        rendered = self._render_cached(reply_id, self._values(self._context))
        if rendered is None or rendered.missing:
            return False  # not in the snapshot (yet): the slow path reads it on the worker
        if self._held_back(reply_id):
            return True
        blind = not windows.own_focused()

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
        handle = self.remember_foreground()
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
        self.paste_clipboard.hand_over()
        self._inform(COPIED_ZH, COPIED_EN)

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
                self.pause_toggle_requested.emit()
            elif action == "next_chase":
                token = self._new_token(target)
                self.next_chase_requested.emit(token)
            elif action == "star_selection":
                self._copy_selection(target, self._star_from_text, self._hotkey_key(action_id))
            elif action == "aftersales_selection":
                self._copy_selection(target, self._aftersales_from_text, self._hotkey_key(action_id))
            elif action == "add_selection":
                self._copy_selection(target, self._add_from_text, self._hotkey_key(action_id))
            elif action == "suggest_selection":
                self._copy_selection(target, self._suggest_from_text, self._hotkey_key(action_id))
            else:
                log.warning("unknown hotkey action %s", action)
        except KnownError as exc:
            self._warn(exc.zh, exc.en)

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

    # ------------------------------------------------------------------ render

    def _values(self, values: dict | None) -> dict[str, str]:
        return replies.paste_values(self.snapshot.settings.get("agent.name"), self._context, values)

    def _render_cached(self, reply_id: int, values: dict[str, str]) -> templates.Rendered | None:
        """From the snapshot in hand (None: the reply has no hotkey, or not in this snapshot)."""
        key = (reply_id, tuple(sorted(values.items())))
        rendered = self._rendered.get(key)
        if rendered is None:
            row = self.snapshot.rows.get(reply_id)
            if row is None:
                return None
            rendered = replies.render_row(row, values)
            if len(self._rendered) >= RENDER_CACHE_MAX:
                self._rendered.clear()
            self._rendered[key] = rendered
        return templates.Rendered(rendered.text, list(rendered.missing))

    def _prerender(self) -> None:
        """Render the hotkey replies with the current values, off the hotkey path."""
        self._rendered.clear()
        values = self._values(self._context)
        for reply_id in self.snapshot.rows:
            self._render_cached(reply_id, values)

    def _with_rendered(self, reply_id: int, values: dict[str, str],
                       then: Callable[[templates.Rendered], None]) -> None:
        """then(rendered): at once from the snapshot, or after the worker has read the reply (one
        without a hotkey). A reply gone meanwhile: error, nothing pasted."""
        rendered = self._render_cached(reply_id, values)
        if rendered is not None:
            then(rendered)
            return

        def loaded(row: replies.PasteRow) -> None:
            then(replies.render_row(row, values))

        self.worker.submit(lambda store: replies.paste_row(store, reply_id), loaded,
                           lambda exc: self._warn(exc.zh, exc.en))

    # ------------------------------------------------------------------ paste

    def _start_paste(self, reply_id: int, values: dict, target: int, via: str, hotkey_key: str = "",
                     attribution: str = "") -> None:
        if self._held_back(reply_id):
            return

        def rendered_then(rendered: templates.Rendered) -> None:
            if rendered.missing:
                token = self._new_token(target)
                self._pending_fields[token] = (reply_id, via, attribution)
                log.info("reply %d needs %d fill-in values; asking the panel", reply_id, len(rendered.missing))
                self.fields_needed.emit(reply_id, list(rendered.missing), token)
                return
            self._paste_text(reply_id, rendered.text, target, via, hotkey_key, attribution)

        self._with_rendered(reply_id, self._values(values), rendered_then)

    def _paste_text(self, reply_id: int, text: str, target: int, via: str, hotkey_key: str = "",
                    attribution: str = "", resolve: Callable[[], tuple[int, bool] | None] | None = None) -> None:
        if self.paste_service is None or not self.backend.capabilities.send_keys:
            self._copy_text(reply_id, text, via, attribution=attribution)
            return
        windows = self.backend.windows
        if resolve is None and windows is not None and (not target or windows.is_own(target)):
            # No chat window known yet (or only our own panel): keys would land in the panel.
            self._copy_text(reply_id, text, via, attribution=attribution)
            return
        method = self.snapshot.settings.get("paste.chord", "ctrl+v")
        delay = int(self.snapshot.settings.get("paste.restore_delay_ms", 300))
        rule_name = ""
        if windows is not None and target:
            info: WindowInfo | None = None
            if self._rules or windows.checks_targets:
                info = windows.describe(target)
                method, delay, rule_name = choose_method(self._rules, info, method, delay)
                warning = windows.check_target(info)
                if warning:
                    self._warn(*warning)
                    self._copy_text(reply_id, text, via, announce=False, attribution=attribution)
                    return
        if rule_name:
            log.info("paste rule %r applies: %s, restore after %d ms", rule_name, method, delay)

        fired_at = self.backend.hotkeys.fired_at if via == "hotkey" else 0.0

        def done(result: PasteResult) -> None:
            chord_at = time.monotonic()
            if not result.ok:
                # The text stays on the clipboard; the agent pastes by hand, so it still counts.
                self.paste_failed.emit(reply_id, result.zh, result.en)
                self._warn(result.zh, result.en)

            # Log, tell the panel and record once the chat client has fetched the text: a log write,
            # a panel repaint or the worker thread's Python work (GIL) would delay Qt answering the
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
                self._record(reply_id, via, attribution, result.ok)

            self._pending_later.append(later)
            self.scheduler.call_later(delay + RECORD_AFTER_RESTORE_MS, later)

        focused = bool(target) and not self.paste_service.busy and via == "hotkey"
        self.paste_service.paste(PasteRequest(text, target, method, delay, reply_id=reply_id, on_done=done,
                                              focused=focused and self._just_captured == target,
                                              hotkey_key=hotkey_key, resolve=resolve))

    def _copy_text(self, reply_id: int, text: str, via: str, announce: bool = True, attribution: str = "") -> None:
        if self.paste_service is not None:
            self.paste_service.flush_restore()
        self._set_copied(text)
        if announce:
            self._inform(COPIED_ZH, COPIED_EN)
        self._record(reply_id, via, attribution, False)

    def _set_copied(self, text: str, attempts: int = SET_RETRIES) -> None:
        """Copy for the agent; a refusal (the toolkit's timestamp is older than the paste that
        still owns the clipboard on X11) is refreshed and retried, not dropped."""
        if self.clipboard.set_text(text) is False and attempts > 0:
            self.clipboard.refresh()
            self.scheduler.call_later(SET_RETRY_MS, lambda: self._set_copied(text, attempts - 1))

    # ------------------------------------------------------------------ record

    def _record(self, reply_id: int, via: str, attribution: str, ok: bool) -> None:
        """Count the use, as a write job on the one worker (ok: the text went in, not left copied)."""
        def recorded(_reply: Any) -> None:
            self.usage_recorded.emit(reply_id)
            if attribution:
                self.attributed_paste_done.emit(attribution, reply_id, ok)

        def failed(exc: KnownError) -> None:
            log.warning("recording use of reply %d failed: %s", reply_id, exc.en)
            self._warn(f"使用次数未能保存：{exc.zh}", f"Usage not saved: {exc.en}")

        self.worker.submit(lambda store: replies.record_use(store, reply_id, via=via), recorded, failed, write=True)

    # ------------------------------------------------------------------ from the panel

    @Slot(int, dict)
    def paste_reply(self, reply_id: int, values: dict) -> None:
        """From the panel (Enter on a reply): into the chat window used last; copy where we
        cannot paste."""
        self.paste_reply_attributed(reply_id, values, "")

    @Slot(int, dict, str)
    def paste_reply_attributed(self, reply_id: int, values: dict, attribution: str) -> None:
        """paste_reply, answered by attributed_paste_done(attribution, reply_id, ok) once it counts as
        used (a chase script from a reminder: the chase is recorded for exactly this paste)."""
        try:
            self._start_paste(reply_id, values, self._last_external, via="panel", attribution=attribution)
        except KnownError as exc:
            self._warn(exc.zh, exc.en)

    @Slot(int, dict)
    def copy_reply(self, reply_id: int, values: dict) -> None:
        self._with_rendered(reply_id, self._values(values),
                            lambda rendered: self._copy_text(reply_id, rendered.text, "copy"))

    @Slot(int, dict)
    def complete_paste(self, token: int, values: dict) -> None:
        pending = self._pending_fields.pop(token, None)
        if pending is None:
            return
        reply_id, via, attribution = pending
        target = self._targets.pop(token, self._last_external)
        if attribution:
            self.attributed_values.emit(attribution, dict(values))
        # Fields still empty stay visible as {客户}: the agent sees them and edits before sending.
        self._with_rendered(reply_id, self._values(values),
                            lambda rendered: self._paste_text(reply_id, rendered.text, target, via,
                                                              attribution=attribution))

    @Slot(int)
    def cancel_paste(self, token: int) -> None:
        self._pending_fields.pop(token, None)
        self._targets.pop(token, None)

    @Slot(int, int, dict)
    def paste_reply_to(self, token: int, reply_id: int, values: dict) -> None:
        self.paste_reply_to_attributed(token, reply_id, values, "")

    @Slot(int, int, dict, str)
    def paste_reply_to_attributed(self, token: int, reply_id: int, values: dict, attribution: str) -> None:
        """paste_reply_to, answered by attributed_paste_done like paste_reply_attributed."""
        target = self._targets.pop(token, self._last_external)
        try:
            self._start_paste(reply_id, values, target, via="hotkey", attribution=attribution)
        except KnownError as exc:
            self._warn(exc.zh, exc.en)

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
                self._inform("没有读取到选中的文字：请先在聊天窗口中选中买家昵称",
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
                    self._warn(f"请松开 {names} 键后再试", f"Release {names} and try again")
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
                    self._warn("无法接管剪贴板，请重试", "Could not take the clipboard; try again")
                    return
                self.clipboard.refresh()
                self.scheduler.call_later(15, lambda: take_marker(attempt + 1))
                return
            send_copy()

        from ..core.hotkeys import MODIFIERS

        if self.backend.capabilities.release_modifiers:
            keys.release_modifiers(set(MODIFIERS))
        take_marker()

    def _star_from_text(self, text: str) -> None:
        nick = text.splitlines()[0].strip()[:64]
        # The buyers table arrives with the customers issue; until then the panel is told and
        # nothing is stored here.
        log.info("star_selection: nickname read (%s)", selection_marker(nick))
        self.star_requested.emit(nick)

    def _aftersales_from_text(self, text: str) -> None:
        nick = text.splitlines()[0].strip()[:64]
        log.info("aftersales_selection: nickname read (%s)", selection_marker(nick))
        self.aftersales_requested.emit(nick)

    def _suggest_from_text(self, text: str) -> None:
        message = " ".join(text.split())[:replies.MAX_MESSAGE_CHARS]  # one line: the search box's
        log.info("suggest_selection: message read (%s)", selection_marker(message))
        self.suggest_requested.emit(message)

    def _add_from_text(self, text: str) -> None:
        log.info("add_selection: text read (%s)", selection_marker(text))
        self.add_reply_requested.emit(text[: replies.MAX_BODY])
