"""The paste sequence: put a reply into the chat client's text box and leave the clipboard as it was.

    release held modifiers synthetically -> snapshot clipboard (all formats) -> set our text
    -> raise the target if focus moved -> check the modifiers are up (else wait for the user to
    let go) -> send the chord (Ctrl+V / Shift+Insert) or type the text
    -> after restore_delay_ms: restore the old clipboard, only if it still holds our text

A PasteRequest (frozen) is what the caller asks for; the sequence keeps its own state in a
_PasteRun. A hotkey's fast path (PasteRequest.resolve) collects the target (asked at the KeyPress) after the
snapshot; our text, the modifier releases and the chord follow at once.

Every step after the first is scheduled through a Scheduler (QTimer.singleShot in the app, a fake
in tests), so the GUI thread never sleeps: on X11 the pasting app fetches the text FROM our event
loop, so blocking it would make the paste fail. No Qt import here: the clipboard, keys, windows and
scheduler are passed in (protocols in base.py).

Why the delay before restoring: the target asks for the clipboard after it has processed the chord,
at a time we cannot observe. Measured here: restoring at 0 ms always pasted the OLD text, 5-20 ms
did so 1-2 times in 20 under CPU load, 300 ms never.

Overlapping pastes: a second paste while the first one's restore is pending takes over the first
one's snapshot (the user's real clipboard) instead of snapshotting our own text.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.hotkeys import MODIFIERS
from ..errors import KnownError
from .base import ClipboardAccess, KeySender, Scheduler, WindowTracker
from .keys import PASTE_METHODS, parse_chord

log = logging.getLogger(__name__)

SET_RETRIES = 3
SET_RETRY_MS = 15
# Restore only once the chat client has fetched our text (clipboards that can tell) and
# FETCH_SETTLE_MS have passed since that first read (for any further format it asks for);
# without any read, at the latest RESTORE_MAX_WAIT_MS after the chord.
FETCH_SETTLE_MS = 50
RESTORE_POLL_MS = 50
RESTORE_MAX_WAIT_MS = 3000


@dataclass
class PasteResult:
    ok: bool
    reply_id: Any = None  # PasteRequest.reply_id, handed back
    zh: str = ""
    en: str = ""
    method: str = ""
    elapsed_ms: float = 0.0  # start -> chord sent


@dataclass(frozen=True, slots=True)
class PasteRequest:
    """What the caller asks for; never changed by the sequence (its state is a _PasteRun)."""

    text: str
    target: int = 0  # window handle captured when the hotkey fired; 0 = whatever has focus
    method: str = "ctrl+v"  # "ctrl+v" | "shift+insert" | "type"
    restore_delay_ms: int = 300
    reply_id: Any = None  # the caller's id of what is pasted, handed back in PasteResult
    # The caller captured the target as the focused window a moment ago, in this same call (a
    # hotkey): skip the focus check (one X round trip less on the hot path).
    focused: bool = False
    # Main key of the hotkey that triggered the paste ("V" for Ctrl+Alt+V). When the chord uses
    # the same key (Ctrl+V), the chord waits until the user lets go of it: pressing a key that is
    # still down is an auto-repeat, not a fresh press, and the chat client may ignore it.
    hotkey_key: str = ""
    on_done: Callable[[PasteResult], None] | None = None
    # Hotkey fast path: the target is not known yet. Called after the snapshot (the caller's focus
    # query, sent at the KeyPress, travels meanwhile): (target, focused) or None when there is no
    # window to paste into (the text is left copied). Our text, the modifier releases and the chord
    # then follow at once - on X11 in ONE write to the server (each write costs ~50-100 us here).
    resolve: Callable[[], tuple[int, bool] | None] | None = None


@dataclass(slots=True)
class _PasteRun:
    """One request's way through the sequence: the mutable state, apart from the request."""

    request: PasteRequest
    target: int = 0  # the request's, or what resolve() found
    focused: bool = False
    release_late: bool = False
    started: float = 0.0
    snapshot: Any = None
    released: set[str] = field(default_factory=set)  # modifiers we released synthetically
    first_check: bool = True
    activated: bool = False
    waited_ms: int = 0
    focus_waited_ms: int = 0
    typed: int = 0
    set_attempts: int = 0


class PasteService:
    def __init__(self, clipboard: ClipboardAccess, keys: KeySender, windows: WindowTracker | None,
                 scheduler: Scheduler, *, can_release_modifiers: bool = True, focus_timeout_ms: int = 600,
                 focus_poll_ms: int = 10, modifier_timeout_ms: int = 3000, modifier_poll_ms: int = 5,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.clipboard = clipboard
        self.keys = keys
        self.windows = windows
        self.scheduler = scheduler
        self.can_release_modifiers = can_release_modifiers
        self.focus_timeout_ms = focus_timeout_ms
        self.focus_poll_ms = focus_poll_ms
        self.modifier_timeout_ms = modifier_timeout_ms
        self.modifier_poll_ms = modifier_poll_ms
        self._monotonic = monotonic
        self._queue: deque[_PasteRun] = deque()
        self._current: _PasteRun | None = None
        # (generation, snapshot, our text) of the restore that is waiting for its timer
        self._pending_restore: tuple[int, Any, str] | None = None
        self._generation = 0
        self._chord_at = 0.0
        self._restore_attempts = 0

    # ------------------------------------------------------------------ public

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    @property
    def restore_pending(self) -> bool:
        return self._pending_restore is not None

    def paste(self, request: PasteRequest) -> None:
        self._queue.append(_PasteRun(request, target=request.target, focused=request.focused))
        if self._current is None:
            self._next()

    def flush_restore(self) -> None:
        """Restore now (app quitting, or before another clipboard action)."""
        if self._pending_restore is not None:
            self._restore(self._pending_restore[0], force=True)

    def take_pending_snapshot(self) -> Any:
        """The user's clipboard that a pending restore would put back, handed to the caller
        (which restores it itself), the restore cancelled; None when nothing is pending or the
        clipboard no longer holds our text. For another clipboard action right after a paste:
        snapshotting then would copy our own text, not the user's."""
        pending = self._pending_restore
        if pending is None:
            return None
        self._pending_restore = None
        self._generation += 1  # cancels the restore timer
        _, snapshot, text = pending
        return snapshot if self.clipboard.holds_text(text) else None

    # ------------------------------------------------------------------ steps

    def _next(self) -> None:
        if not self._queue:
            self._current = None
            return
        job = self._current = self._queue.popleft()
        request = job.request
        job.started = self._monotonic()
        if self.can_release_modifiers and request.resolve is None:
            # Release first, verify later (in _modifiers): the server handles the synthetic
            # releases while we deal with the clipboard, so the check costs one quick round trip.
            job.released = self.keys.release_modifiers(_to_release(request.method))
        elif request.resolve is not None:
            job.release_late = self.can_release_modifiers
        if request.method != "type":
            if self._pending_restore is not None:
                # The clipboard holds our previous text: keep the user's original snapshot.
                _, job.snapshot, _ = self._pending_restore
                self._pending_restore = None
                self._generation += 1  # cancels the pending restore timer
            else:
                job.snapshot = self.clipboard.snapshot()
        if request.resolve is not None:
            resolved = request.resolve()
            if resolved is None:
                if request.method != "type":
                    self.clipboard.set_text(request.text)  # for the agent to paste by hand
                self._fail(job, "没有找到要粘贴的聊天窗口", "No chat window to paste into")
                return
            job.target, job.focused = resolved
        if request.method != "type":
            self._take_clipboard(job)
            return
        self._clipboard_ready(job)

    def _take_clipboard(self, job: _PasteRun) -> None:
        if self.clipboard.set_text(job.request.text) is False:
            # The X server ignored the request (the toolkit's timestamp predates the current
            # owner's): Ctrl+V now would paste the OLD text. Refresh and retry, or give up.
            job.set_attempts += 1
            if job.set_attempts > SET_RETRIES:
                self._fail(job, "无法接管剪贴板，未粘贴", "Could not take the clipboard; nothing was pasted",
                           copied=False)
                return
            log.info("clipboard not taken (stale timestamp); retrying")
            self.clipboard.refresh()
            self.scheduler.call_later(SET_RETRY_MS, lambda: self._take_clipboard(job))
            return
        self._clipboard_ready(job)

    def _clipboard_ready(self, job: _PasteRun) -> None:
        if job.release_late:
            # Queued right before the chord (same connection: in order, one flush).
            job.released = self.keys.release_modifiers(_to_release(job.request.method))
        self._focus(job)

    def _focus(self, job: _PasteRun) -> None:
        if not job.target or self.windows is None or job.focused:
            self._modifiers(job)
            return
        if self.windows.foreground() == job.target:
            self._modifiers(job)
            return
        if not job.activated:
            job.activated = True
            if not self.windows.activate(job.target):
                self._fail(job, "聊天窗口已关闭或无法切换到它", "The chat window is gone or cannot be activated")
                return
            if self.windows.foreground() == job.target:
                self._modifiers(job)
                return
        if job.focus_waited_ms >= self.focus_timeout_ms:
            self._fail(job, "无法切回聊天窗口", "Could not switch back to the chat window")
            return
        job.focus_waited_ms += self.focus_poll_ms
        self.scheduler.call_later(self.focus_poll_ms, lambda: self._focus(job))

    def _modifiers(self, job: _PasteRun) -> None:
        trusted = self.keys.releases_trusted
        if job.first_check and self.can_release_modifiers and (not job.released or trusted):
            # None was down when the paste started, or this key sender's releases have been
            # verified to work often enough that one more round trip is not worth it.
            held: set[str] = set()
        else:
            held = self.keys.held_modifiers() & _to_release(job.request.method)
            if job.first_check and job.released:
                self.keys.note_release_result(not held)
        if held and job.first_check:
            log.info("%s still down; waiting for the user to let go", "+".join(sorted(held)))
        job.first_check = False
        request = job.request
        if not held and request.hotkey_key and request.method != "type" \
                and request.hotkey_key == _chord_key(request.method) and self.keys.key_down(request.hotkey_key):
            held = {request.hotkey_key}
        if held:
            if job.waited_ms >= self.modifier_timeout_ms:
                names = "+".join(sorted(held))
                self._fail(job, f"请松开 {names} 键后再试", f"Release {names} and try again")
                return
            job.waited_ms += self.modifier_poll_ms
            self.scheduler.call_later(self.modifier_poll_ms, lambda: self._modifiers(job))
            return
        self._send(job)

    def _send(self, job: _PasteRun) -> None:
        request = job.request
        if request.method == "type":
            size = self.keys.type_chunk
            chunk = request.text[job.typed:job.typed + size]
            if chunk:
                self.keys.type_text(chunk)
                job.typed += len(chunk)
            if job.typed < len(request.text):
                # Let the event loop breathe between chunks; a user key press meanwhile would
                # interleave, which is why typing is only for apps that refuse pasting.
                delay = self.keys.type_delay_ms
                self.scheduler.call_later(delay, lambda: self._modifiers(job))
                return
            self._done(job)
            return
        self.keys.send_chord(request.method)
        self._generation += 1
        generation = self._generation
        self._pending_restore = (generation, job.snapshot, request.text)
        self._restore_attempts = 0
        self._chord_at = self._monotonic()
        self.scheduler.call_later(request.restore_delay_ms, lambda: self._restore(generation))
        self._done(job)

    def _restore(self, generation: int, force: bool = False) -> None:
        pending = self._pending_restore
        if pending is None or pending[0] != generation:
            return  # a newer paste took over this snapshot
        state = None if force else self.clipboard.fetch_state()
        if state is not None:
            fetches, first_fetch = state
            now = self._monotonic()
            waited_ms = (now - self._chord_at) * 1000
            if not fetches and waited_ms < RESTORE_MAX_WAIT_MS:
                # Not read yet (a slow or busy chat client): restoring now would paste the OLD text.
                self.scheduler.call_later(RESTORE_POLL_MS, lambda: self._restore(generation))
                return
            since_fetch_ms = (now - first_fetch) * 1000
            if fetches and since_fetch_ms < FETCH_SETTLE_MS:
                # Counted from the FIRST read: a clipboard manager polling us must not hold it forever.
                self.scheduler.call_later(int(FETCH_SETTLE_MS - since_fetch_ms) + 1, lambda: self._restore(generation))
                return
            if not fetches:
                log.info("the text was not fetched within %d ms of the chord; restoring anyway", RESTORE_MAX_WAIT_MS)
        _, snapshot, text = pending
        if not self.clipboard.holds_text(text):
            self._pending_restore = None
            log.info("clipboard changed since the paste; left as it is")
            return
        if self.clipboard.restore(snapshot) is False:
            # Refused (a stale toolkit timestamp): refresh and try again, keeping the snapshot.
            self._restore_attempts += 1
            if self._restore_attempts <= SET_RETRIES:
                self.clipboard.refresh()
                self.scheduler.call_later(SET_RETRY_MS, lambda: self._restore(generation, force=True))
                return
            log.warning("the clipboard could not be restored")
        self._pending_restore = None
        self._restore_attempts = 0
        log.debug("clipboard restored")

    def _done(self, job: _PasteRun) -> None:
        elapsed = (self._monotonic() - job.started) * 1000
        log.debug("paste sent by %s in %.1f ms", job.request.method, elapsed)
        self._finish(job, PasteResult(True, job.request.reply_id, method=job.request.method, elapsed_ms=elapsed))

    def _fail(self, job: _PasteRun, zh: str, en: str, copied: bool = True) -> None:
        log.warning("paste failed: %s", en)
        if copied and job.request.method != "type":
            self.clipboard.hand_over()
            # Our text stays on the clipboard so the agent can still paste it by hand.
            zh, en = f"{zh}；回复已复制，请按 Ctrl+V 粘贴", f"{en}; the reply was copied, press Ctrl+V to paste it"
        self._finish(job, PasteResult(False, job.request.reply_id, zh, en, job.request.method))

    def _finish(self, job: _PasteRun, result: PasteResult) -> None:
        self._current = None
        on_done = job.request.on_done
        if on_done is not None:
            try:
                on_done(result)
            finally:
                self._next()
        else:
            self._next()


@functools.lru_cache(maxsize=32)
def _to_release(method: str) -> frozenset[str]:
    """Modifiers that must be up before `method` is sent: all but the chord's own. A Ctrl the
    agent still holds from Ctrl+Alt+1 can stay down for Ctrl+V - the chord presses and releases it
    anyway - which spares the chat client a Ctrl release and re-press."""
    if method == "type":
        return frozenset(MODIFIERS)
    try:
        return frozenset(MODIFIERS) - frozenset(parse_chord(method).modifiers)
    except KnownError:
        return frozenset(MODIFIERS)


@functools.lru_cache(maxsize=32)
def _chord_key(chord: str) -> str:
    try:
        return parse_chord(chord).key
    except KnownError:
        return ""


# ---------------------------------------------------------------------- per-app rules

@dataclass(frozen=True)
class AppRule:
    """One entry of the 'paste.app_rules' setting, e.g.
    {"name": "千牛", "process": "AliWorkBench", "method": "shift+insert", "restore_delay_ms": 500}.
    class / process / title are case-insensitive regular expressions searched in the window's
    WM_CLASS (or Windows class), executable name and title; every pattern given must match; the
    first matching rule wins."""

    name: str = ""
    wm_class: str = ""
    process: str = ""
    title: str = ""
    method: str | None = None
    restore_delay_ms: int | None = None

    def matches(self, info: Any) -> bool:
        checks = ((self.wm_class, info.wm_class), (self.process, info.process), (self.title, info.title))
        given = [(pattern, value) for pattern, value in checks if pattern]
        if not given:
            return False
        return all(re.search(pattern, value or "", re.IGNORECASE) for pattern, value in given)

    @property
    def needs_title(self) -> bool:
        return bool(self.title)


def parse_app_rules(value: Any) -> tuple[list[AppRule], list[tuple[str, str]]]:
    """Rules from the setting, and a (zh, en) problem for every entry that had to be skipped."""
    rules: list[AppRule] = []
    problems: list[tuple[str, str]] = []
    if not isinstance(value, list):
        return [], [("按程序粘贴规则应为列表", "paste.app_rules must be a list")] if value else []
    for index, raw in enumerate(value, 1):
        if not isinstance(raw, dict):
            problems.append((f"第 {index} 条粘贴规则格式错误", f"Paste rule {index} is not an object"))
            continue
        name = str(raw.get("name") or f"#{index}")
        patterns = {key: str(raw.get(key) or "") for key in ("class", "process", "title")}
        try:
            for pattern in patterns.values():
                re.compile(pattern)
        except re.error as exc:
            problems.append((f"粘贴规则“{name}”的表达式无效：{exc}", f"Paste rule '{name}': bad pattern: {exc}"))
            continue
        if not any(patterns.values()):
            problems.append((f"粘贴规则“{name}”没有匹配条件（class/process/title）",
                             f"Paste rule '{name}' has no class/process/title pattern"))
            continue
        method = raw.get("method", raw.get("chord"))
        if method is not None:
            method = str(method).strip().lower().replace(" ", "")
            if method not in PASTE_METHODS:
                problems.append((f"粘贴规则“{name}”的粘贴方式无效（可选：{'、'.join(PASTE_METHODS)}）",
                                 f"Paste rule '{name}': method must be one of {', '.join(PASTE_METHODS)}"))
                continue
        delay = raw.get("restore_delay_ms")
        if delay is not None:
            try:
                delay = max(50, min(5000, int(delay)))
            except (TypeError, ValueError):
                problems.append((f"粘贴规则“{name}”的延迟应为整数", f"Paste rule '{name}': delay must be a number"))
                continue
        rules.append(AppRule(name, patterns["class"], patterns["process"], patterns["title"], method, delay))
    return rules, problems


def choose_method(rules: list[AppRule], info: Any, default_method: str, default_delay_ms: int
                  ) -> tuple[str, int, str]:
    """(method, restore delay, matching rule name or "") for the target window."""
    for rule in rules:
        if info is not None and rule.matches(info):
            return (rule.method or default_method,
                    rule.restore_delay_ms if rule.restore_delay_ms is not None else default_delay_ms, rule.name)
    return default_method, default_delay_ms, ""
