"""PasteService: step order, modifier handling, focus, restore-only-if-unchanged, overlaps, typing.
All with fakes: clipboard, key sender, window tracker, and a manual clock for the scheduler."""

from __future__ import annotations

from assistant.platform.base import ClipboardAccess, KeySender, WindowInfo
from assistant.platform.paste import (
    AppRule,
    PasteRequest,
    PasteService,
    choose_method,
    parse_app_rules,
)

OLD = {"text/plain": b"old", "text/html": b"<b>old</b>", "image/png": b"\x89PNG"}


def service(clipboard, keys, windows, scheduler, **kw) -> PasteService:
    return PasteService(clipboard, keys, windows, scheduler, monotonic=lambda: scheduler.now / 1000, **kw)


def steps(log) -> list[str]:
    """The step names, without the read-only probes."""
    return [e[0] for e in log if e[0] not in ("foreground", "held?")]


def test_step_order_and_restore(log, clipboard, keys, windows, scheduler):
    results = []
    keys.held = {"Ctrl", "Alt"}  # the user still holds the hotkey's modifiers
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("亲，在的～", target=0x100, restore_delay_ms=300, reply_id=7, on_done=results.append))
    # Everything up to the chord happens at once, with nothing left to wait for.
    assert steps(log) == ["release", "snapshot", "set_text", "chord"]
    chord = [e for e in log if e[0] == "chord"][0]
    # Only the chord's own Ctrl may still be down when Ctrl+V goes; Alt is up.
    assert chord[1] == "ctrl+v" and chord[2] == frozenset({"Ctrl"})
    assert results and results[0].ok and results[0].reply_id == 7
    assert clipboard.text() == "亲，在的～"  # the chat client fetches it after the chord...
    scheduler.advance(299)
    assert clipboard.text() == "亲，在的～"  # ...so it is not restored early
    scheduler.advance(1)
    assert steps(log)[-1] == "restore"
    assert clipboard.formats == OLD  # every format back, not only the text
    assert not svc.busy and not svc.restore_pending


def test_no_restore_when_the_user_copied_meanwhile(log, clipboard, keys, windows, scheduler):
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100))
    scheduler.advance(100)
    clipboard.user_copies("买家的订单号 123")
    scheduler.advance(1000)
    assert "restore" not in steps(log)
    assert clipboard.text() == "买家的订单号 123"


def test_restore_delay_comes_from_the_request(log, clipboard, keys, windows, scheduler):
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, restore_delay_ms=1200))
    scheduler.advance(1199)
    assert "restore" not in steps(log)
    scheduler.advance(1)
    assert steps(log)[-1] == "restore"


def test_focus_moved_target_is_raised_before_the_chord(log, clipboard, keys, windows, scheduler):
    windows.focused = 0x999  # the agent clicked into our panel since the hotkey fired
    windows.focus_follows_activate = False
    svc = service(clipboard, keys, windows, scheduler, focus_poll_ms=10)
    svc.paste(PasteRequest("回复", target=0x100))
    assert "activate" in steps(log) and "chord" not in steps(log)
    scheduler.advance(30)
    assert "chord" not in steps(log)  # still waiting for the window manager
    windows.focused = 0x100
    scheduler.advance(10)
    order = steps(log)
    assert order.index("activate") < order.index("chord")
    assert order.index("set_text") < order.index("activate")


def test_target_gone_fails_and_keeps_the_text_for_manual_paste(log, clipboard, keys, windows, scheduler):
    results = []
    windows.focused = 0x999
    windows.alive = {0x999}
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, on_done=results.append))
    assert not results[0].ok
    assert "Ctrl+V" in results[0].zh and "Ctrl+V" in results[0].en
    assert "chord" not in steps(log)
    scheduler.advance(5000)
    assert clipboard.text() == "回复"


def test_focus_timeout(log, clipboard, keys, windows, scheduler):
    results = []
    windows.focused = 0x999
    windows.focus_follows_activate = False
    svc = service(clipboard, keys, windows, scheduler, focus_timeout_ms=100, focus_poll_ms=10)
    svc.paste(PasteRequest("回复", target=0x100, on_done=results.append))
    scheduler.advance(200)
    assert results and not results[0].ok and "chord" not in steps(log)


def test_focused_flag_skips_the_focus_query(log, clipboard, keys, windows, scheduler):
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, focused=True))
    assert ("foreground", 0x100) not in log
    assert "chord" in steps(log)


def test_modifiers_that_cannot_be_released_are_waited_for(log, clipboard, keys, windows, scheduler):
    keys.held = {"Alt"}
    keys.release_works = False  # e.g. a server that ignores the synthetic release
    svc = service(clipboard, keys, windows, scheduler, modifier_poll_ms=5)
    svc.paste(PasteRequest("回复", target=0x100))
    scheduler.advance(50)
    assert "chord" not in steps(log)
    keys.user_releases()
    scheduler.advance(5)
    chord = [e for e in log if e[0] == "chord"]
    assert chord and chord[0][2] == frozenset()


def test_platform_without_release_only_waits(log, clipboard, keys, windows, scheduler):
    keys.held = {"Ctrl"}
    svc = service(clipboard, keys, windows, scheduler, can_release_modifiers=False, modifier_poll_ms=5)
    svc.paste(PasteRequest("回复", target=0x100))
    assert "release" not in steps(log)
    keys.user_releases()
    scheduler.advance(5)
    assert "chord" in steps(log)


def test_modifier_timeout_fails_without_sending(log, clipboard, keys, windows, scheduler):
    results = []
    keys.held = {"Ctrl", "Alt"}
    keys.release_works = False
    svc = service(clipboard, keys, windows, scheduler, modifier_timeout_ms=100, modifier_poll_ms=5)
    svc.paste(PasteRequest("回复", target=0x100, on_done=results.append))
    scheduler.advance(500)
    assert "chord" not in steps(log)
    assert results and not results[0].ok and "Alt" in results[0].en


def test_overlapping_pastes_keep_the_users_clipboard(log, clipboard, keys, windows, scheduler):
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("第一条", target=0x100, restore_delay_ms=300))
    scheduler.advance(100)
    svc.paste(PasteRequest("第二条", target=0x100, restore_delay_ms=300))
    # The second paste did not snapshot our first text: it took over the original snapshot.
    assert steps(log).count("snapshot") == 1
    scheduler.advance(250)  # the first paste's timer fires: superseded, no restore
    assert "restore" not in steps(log)
    scheduler.advance(50)
    assert steps(log)[-1] == "restore"
    assert clipboard.formats == OLD


def test_queued_paste_waits_for_the_current_one(log, clipboard, keys, windows, scheduler):
    windows.focused = 0x999
    windows.focus_follows_activate = False
    svc = service(clipboard, keys, windows, scheduler, focus_poll_ms=10)
    svc.paste(PasteRequest("一", target=0x100))
    svc.paste(PasteRequest("二", target=0x100))
    assert [e[1] for e in log if e[0] == "set_text"] == ["一"]
    windows.focused = 0x100
    scheduler.advance(10)
    assert [e[1] for e in log if e[0] == "set_text"] == ["一", "二"]
    assert steps(log).count("chord") == 2


def test_shift_insert_method(log, clipboard, keys, windows, scheduler):
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, method="shift+insert"))
    assert [e[1] for e in log if e[0] == "chord"] == ["shift+insert"]


def test_type_method_leaves_the_clipboard_alone_and_types_in_chunks(log, clipboard, keys, windows, scheduler):
    results = []
    keys.held = {"Alt"}
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("亲，欢迎光临本店！", target=0x100, method="type", on_done=results.append))
    scheduler.run_all()
    assert "snapshot" not in steps(log) and "set_text" not in steps(log) and "restore" not in steps(log)
    typed = [e[1] for e in log if e[0] == "type"]
    assert "".join(typed) == "亲，欢迎光临本店！"
    assert all(len(chunk) <= keys.type_chunk for chunk in typed)
    assert steps(log)[0] == "release"
    assert results[0].ok and clipboard.formats == OLD


def test_flush_restore_on_quit(log, clipboard, keys, windows, scheduler):
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100))
    svc.flush_restore()
    assert clipboard.formats == OLD
    scheduler.advance(1000)
    assert steps(log).count("restore") == 1


def test_empty_clipboard_snapshot_round_trips(log, keys, windows, scheduler):
    from tests.helpers.fakes import FakeClipboard

    clipboard = FakeClipboard(log, {})
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100))
    scheduler.advance(300)
    assert clipboard.formats == {}


# ---------------------------------------------------------------- per-app rules

QIANNIU = WindowInfo(1, "StandardFrame", "千牛工作台 - 接待中心", "AliWorkBench.exe", 10)
CHROME = WindowInfo(2, "chromium.Chromium", "AliExpress Seller Center - Chromium", "chromium", 11)


def test_parse_rules_and_choose():
    rules, problems = parse_app_rules([
        {"name": "千牛", "process": "aliworkbench", "method": "shift+insert", "restore_delay_ms": 800},
        {"name": "AliExpress", "class": "chrom", "title": "aliexpress", "method": "type"},
    ])
    assert problems == []
    assert choose_method(rules, QIANNIU, "ctrl+v", 300) == ("shift+insert", 800, "千牛")
    assert choose_method(rules, CHROME, "ctrl+v", 300) == ("type", 300, "AliExpress")
    other = WindowInfo(3, "gedit", "notes", "gedit", 12)
    assert choose_method(rules, other, "ctrl+v", 300) == ("ctrl+v", 300, "")
    assert choose_method(rules, None, "shift+insert", 300) == ("shift+insert", 300, "")


def test_every_given_pattern_must_match():
    rule = AppRule(wm_class="chrom", title="aliexpress")
    assert rule.matches(CHROME)
    assert not rule.matches(WindowInfo(4, "chromium.Chromium", "Amazon Seller Central", "chromium"))


def test_first_matching_rule_wins():
    rules, _ = parse_app_rules([{"class": "chrom", "method": "type"}, {"class": "chromium", "method": "shift+insert"}])
    assert choose_method(rules, CHROME, "ctrl+v", 300)[0] == "type"


def test_bad_rules_are_reported_not_fatal():
    rules, problems = parse_app_rules([
        {"name": "坏表达式", "title": "(unclosed"},
        {"name": "无条件", "method": "type"},
        {"name": "坏方式", "class": "x", "method": "ctrl+alt+v"},
        {"name": "坏延迟", "class": "x", "restore_delay_ms": "soon"},
        "not a dict",
        {"name": "好的", "class": "x", "restore_delay_ms": 99999},
    ])
    assert [r.name for r in rules] == ["好的"]
    assert rules[0].restore_delay_ms == 5000  # clamped like the setting
    assert len(problems) == 5
    assert all(zh and en for zh, en in problems)
    assert parse_app_rules([]) == ([], [])
    assert parse_app_rules({"x": 1})[1]


class LearningKeys(KeySender):
    """A key sender that learns whether its releases work (like the X11 one)."""

    def __init__(self, keys, needed: int = 2) -> None:
        self.keys = keys
        self.results: list[bool] = []
        self.needed = needed

    def held_modifiers(self) -> set[str]:
        return self.keys.held_modifiers()

    def release_modifiers(self, modifiers: set[str]) -> set[str]:
        return self.keys.release_modifiers(modifiers)

    def key_down(self, key: str) -> bool:
        return self.keys.key_down(key)

    def send_chord(self, chord: str) -> None:
        self.keys.send_chord(chord)

    def type_text(self, text: str) -> None:
        self.keys.type_text(text)

    @property
    def releases_trusted(self) -> bool:
        return self.results.count(True) >= self.needed and False not in self.results

    def note_release_result(self, worked: bool) -> None:
        self.results.append(worked)


def test_release_check_is_skipped_once_releases_proved_effective(log, clipboard, keys, windows, scheduler):
    learning = LearningKeys(keys)
    svc = service(clipboard, learning, windows, scheduler)
    for _ in range(3):
        keys.held = {"Ctrl", "Alt"}
        log.clear()
        svc.paste(PasteRequest("回复", target=0x100))
        checked = "held?" in log.names()
        scheduler.advance(300)
    assert learning.results == [True, True]
    assert not checked  # the third paste trusted the release: no extra query
    assert [e for e in log if e[0] == "chord"][0][2] == frozenset({"Ctrl"})


def test_a_failed_release_is_never_trusted_again(log, clipboard, keys, windows, scheduler):
    learning = LearningKeys(keys)
    keys.release_works = False
    keys.held = {"Alt"}
    svc = service(clipboard, learning, windows, scheduler, modifier_poll_ms=5)
    svc.paste(PasteRequest("回复", target=0x100))
    keys.user_releases()
    scheduler.advance(300)
    assert learning.results == [False]
    assert not learning.releases_trusted


def test_chord_waits_while_the_hotkey_key_is_the_chord_key(log, clipboard, keys, windows, scheduler):
    """Ctrl+Alt+V as the hotkey: Ctrl+V must not go out while V is still down."""
    keys.held = {"Ctrl", "Alt"}
    keys.down = {"V"}
    svc = service(clipboard, keys, windows, scheduler, modifier_poll_ms=5)
    svc.paste(PasteRequest("回复", target=0x100, hotkey_key="V"))
    scheduler.advance(20)
    assert "chord" not in steps(log)
    keys.down.clear()
    scheduler.advance(5)
    assert "chord" in steps(log)


def test_other_hotkey_keys_do_not_wait(log, clipboard, keys, windows, scheduler):
    keys.down = {"1"}
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, hotkey_key="1"))
    assert "chord" in steps(log)
    assert ("key_down?", "1") not in log  # no extra query on the usual path


class RefusingClipboard(ClipboardAccess):
    """Wraps FakeClipboard: the server ignores the first `refusals` set_text calls (a toolkit
    with a stale timestamp), and another program's reads are counted (fetch_state)."""

    def __init__(self, inner, refusals: int = 0) -> None:
        self.inner = inner
        self.refusals = refusals
        self.refreshes = 0
        self.fetches = 0
        self.first_fetch = 0.0

    def snapshot(self):
        return self.inner.snapshot()

    def holds_text(self, text: str) -> bool:
        return self.inner.holds_text(text)

    def restore(self, snapshot) -> bool:
        return self.inner.restore(snapshot)

    def text(self) -> str:
        return self.inner.text()

    def hand_over(self) -> None:
        self.inner.hand_over()

    def set_text(self, text: str) -> bool:
        if self.refusals:
            self.refusals -= 1
            self.inner.log.append(("set_refused",))
            return False
        self.inner.set_text(text)
        self.fetches = 0
        return True

    def refresh(self) -> None:
        self.refreshes += 1

    def fetch_state(self):
        return self.fetches, self.first_fetch


def test_refused_clipboard_is_retried_before_any_chord(log, clipboard, keys, windows, scheduler):
    clip = RefusingClipboard(clipboard, refusals=2)
    svc = service(clip, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100))
    assert "chord" not in steps(log)  # never Ctrl+V while the old text is still the clipboard
    scheduler.advance(50)
    assert clip.refreshes == 2
    order = steps(log)
    assert order.count("set_refused") == 2 and order.index("set_text") < order.index("chord")


def test_clipboard_refused_for_good_pastes_nothing(log, clipboard, keys, windows, scheduler):
    results = []
    clip = RefusingClipboard(clipboard, refusals=99)
    svc = service(clip, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, on_done=results.append))
    scheduler.advance(500)
    assert "chord" not in steps(log)
    assert results and not results[0].ok and "Ctrl+V" not in results[0].zh
    assert clipboard.formats == OLD


def test_restore_waits_until_the_chat_client_fetched_the_text(log, clipboard, keys, windows, scheduler):
    clip = RefusingClipboard(clipboard)
    svc = service(clip, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, restore_delay_ms=300))
    scheduler.advance(800)  # a busy chat client has not asked for the text yet
    assert "restore" not in steps(log)
    clip.fetches, clip.first_fetch = 1, scheduler.now / 1000
    scheduler.advance(30)
    assert "restore" not in steps(log)  # a moment for any further format it asks for
    scheduler.advance(100)
    assert steps(log)[-1] == "restore" and clipboard.formats == OLD


def test_restore_after_the_max_wait_when_never_fetched(log, clipboard, keys, windows, scheduler):
    from assistant.platform.paste import RESTORE_MAX_WAIT_MS

    clip = RefusingClipboard(clipboard)
    svc = service(clip, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100))
    scheduler.advance(RESTORE_MAX_WAIT_MS - 100)
    assert "restore" not in steps(log)
    scheduler.advance(200)
    assert clipboard.formats == OLD


def test_fetched_early_restores_at_the_delay(log, clipboard, keys, windows, scheduler):
    clip = RefusingClipboard(clipboard)
    svc = service(clip, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, restore_delay_ms=300))
    scheduler.advance(5)
    clip.fetches, clip.first_fetch = 1, scheduler.now / 1000
    scheduler.advance(295)
    assert steps(log)[-1] == "restore"


def test_a_polling_reader_does_not_hold_the_restore_forever(log, clipboard, keys, windows, scheduler):
    clip = RefusingClipboard(clipboard)
    svc = service(clip, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, restore_delay_ms=300))
    clip.fetches, clip.first_fetch = 1, scheduler.now / 1000
    for _ in range(10):  # e.g. a clipboard manager reading every 20 ms
        scheduler.advance(20)
        clip.fetches += 1
    scheduler.advance(100)
    assert steps(log)[-1] == "restore"


def test_resolve_runs_after_the_snapshot_and_before_our_text(log, clipboard, keys, windows, scheduler):
    """Hotkey fast path: the target is collected after the snapshot; our text, the releases and
    the chord follow at once (one write to the X server)."""
    keys.held = {"Ctrl", "Alt"}
    seen = []

    def resolve():
        seen.append(steps(log))
        return 0x100, True

    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("亲，在的～", resolve=resolve))
    assert seen == [["snapshot"]]
    assert steps(log) == ["snapshot", "set_text", "release", "chord"]
    assert [e for e in log if e[0] == "chord"][0][2] == frozenset({"Ctrl"})


def test_resolve_to_another_window_raises_it(log, clipboard, keys, windows, scheduler):
    """The panel had focus: resolve names the last chat window, not focused - it is activated."""
    windows.focused = 0x999
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", resolve=lambda: (0x100, False)))
    assert ("activate", 0x100) in log
    assert steps(log).index("activate") < steps(log).index("chord")


def test_resolve_without_a_window_keeps_the_text_copied(log, clipboard, keys, windows, scheduler):
    results = []
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", resolve=lambda: None, on_done=results.append))
    assert not results[0].ok and "Ctrl+V" in results[0].zh
    assert steps(log) == ["snapshot", "set_text", "hand_over"]
    scheduler.advance(5000)
    assert clipboard.text() == "回复" and not svc.restore_pending


def test_refused_restore_is_retried_after_a_refresh(log, clipboard, keys, windows, scheduler):
    """The toolkit's timestamp predates our ownership: the restore is refused, refreshed and
    retried - never dropped with our text left on the clipboard."""
    clipboard.refuse_restores = 2
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, focused=True, restore_delay_ms=300))
    scheduler.advance(300)
    assert steps(log)[-2:] == ["restore_refused", "refresh"]
    assert svc.restore_pending
    scheduler.advance(100)
    assert steps(log).count("restore_refused") == 2 and steps(log)[-1] == "restore"
    assert clipboard.formats == OLD and not svc.restore_pending


def test_a_paste_that_failed_hands_its_text_over(log, clipboard, keys, windows, scheduler):
    windows.focused = 0x999
    windows.alive = {0x999}
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100))
    assert "hand_over" in steps(log) and clipboard.text() == "回复"


def test_pending_snapshot_is_handed_over_and_the_restore_cancelled(log, clipboard, keys, windows, scheduler):
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, focused=True))
    snapshot = svc.take_pending_snapshot()
    assert snapshot == OLD and not svc.restore_pending
    scheduler.advance(5000)
    assert "restore" not in steps(log)  # the caller restores it
    assert svc.take_pending_snapshot() is None


def test_no_pending_snapshot_once_the_user_copied(log, clipboard, keys, windows, scheduler):
    svc = service(clipboard, keys, windows, scheduler)
    svc.paste(PasteRequest("回复", target=0x100, focused=True))
    clipboard.user_copies("新的")
    assert svc.take_pending_snapshot() is None


def test_the_chords_own_modifier_may_stay_down_but_no_other(log, clipboard, keys, windows, scheduler):
    """Ctrl+Alt+1 -> Ctrl+V: Alt is released, Ctrl is not (the chord presses it anyway); for
    Shift+Insert it is the other way round; typing needs every modifier up."""
    svc = service(clipboard, keys, windows, scheduler)
    for method, released, kept in (("ctrl+v", {"Alt"}, {"Ctrl"}), ("shift+insert", {"Ctrl", "Alt"}, set()),
                                   ("type", {"Ctrl", "Alt"}, set())):
        keys.held = {"Ctrl", "Alt"}
        log.clear()
        svc.paste(PasteRequest("回复", target=0x100, focused=True, method=method))
        assert [e for e in log if e[0] == "release"][0][1] == frozenset(released)
        sent = [e for e in log if e[0] in ("chord", "type")]
        if method != "type":
            assert sent[0][2] == frozenset(kept)
        svc.flush_restore()
