"""HotkeyMap: what is grabbed (diff, conflicts, pause, chord capture, re-hook), wired with PasteFlow
as app.wire_hotkeys does, on a real store with a fake backend (tests/helpers/hotkeys.py)."""

from __future__ import annotations

from datetime import timedelta

from assistant.core import replies, settings
from tests.helpers.fakes import Recorder, fake_backend
from tests.helpers.hotkeys import make


def test_registers_actions_and_reply_hotkeys(env, other):
    hk, backend, *_ , signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk.start()
    registered = backend.hotkeys.registered()
    assert registered[f"paste:{reply.id}"] == "Ctrl+Alt+1"
    for name, spec in settings.ACTIONS.items():
        assert registered[f"action:{name}"] == spec[0]
    assert signals.of("hotkeys_changed")[-1][0] == registered


def test_cli_change_takes_effect_on_the_next_poll(env, other):
    hk, backend, *_, signals, log = env
    hk.start()
    assert hk.watch.interval_ms() <= 500  # "within a second"
    reply = replies.update_reply(other, "wh3", hotkey="Ctrl+Alt+3")  # `kefu replies edit ... --hotkey`
    hk.tick()
    assert backend.hotkeys.registered()[f"paste:{reply.id}"] == "Ctrl+Alt+3"
    before = len(log)
    replies.update_reply(other, reply.id, hotkey="Ctrl+Alt+4")
    hk.tick()
    assert backend.hotkeys.registered()[f"paste:{reply.id}"] == "Ctrl+Alt+4"
    # Only the changed hotkey was touched: the others were never ungrabbed.
    assert [e for e in log[before:] if e[0] in ("register", "unregister")] == [
        ("unregister", f"paste:{reply.id}"), ("register", "Ctrl+Alt+4", f"paste:{reply.id}")]
    replies.update_reply(other, reply.id, hotkey="")
    hk.tick()
    assert f"paste:{reply.id}" not in backend.hotkeys.registered()


def test_unchanged_store_re_registers_nothing(env, other):
    hk, backend, *_, log = env
    hk.start()
    before = len(log)
    replies.record_use(other, "wh1")  # another connection commits, hotkeys unchanged
    hk.tick()
    assert not [e for e in log[before:] if e[0] in ("register", "unregister")]


def test_conflict_between_an_action_and_a_reply_names_both(env, other):
    hk, backend, *_, signals, log = env
    # The default of "focus search": replies.update_reply refuses it, but an old database, an import
    # or a hand edit can still hold such a pair, and the panel must say so rather than fail silently.
    with other.write() as db:
        db.execute("UPDATE replies SET hotkey = 'Ctrl+Alt+F' WHERE code = 'wh2'")
    reply = replies.get_reply(other, "wh2")
    hk.start()
    (hotkey,), = signals.of("conflict")
    (zh, en), = signals.of("warning")  # the text goes to the bridge
    assert hotkey == "Ctrl+Alt+F"
    assert "聚焦搜索框" in zh and reply.title in zh
    assert "Focus the search box" in en and reply.title in en
    assert backend.hotkeys.registered()["action:focus_search"] == "Ctrl+Alt+F"
    assert f"paste:{reply.id}" not in backend.hotkeys.registered()
    hk.map.reload()
    assert len(signals.of("conflict")) == 1  # reported once, not on every poll


def test_hotkey_held_by_another_program_is_reported_at_once(qapp, db, other):
    log = Recorder()
    backend = fake_backend(log, taken={"Ctrl+Alt+1"})
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk, _, _, signals = make(db, backend, log)
    try:
        hk.start()
        (hotkey,), = signals.of("conflict")
        (zh, en), = signals.of("warning")  # the text goes to the bridge
        assert hotkey == "Ctrl+Alt+1"
        assert "其他程序" in zh and reply.title in zh
        assert "another program" in en and reply.title in en
        hk.tick()
        hk.map.reload()
        assert len(signals.of("conflict")) == 1
        # The other program lets go: the retry picks the hotkey up.
        backend.hotkeys.taken.clear()
        hk.map._last_retry = 0
        hk.tick()
        assert backend.hotkeys.registered()[f"paste:{reply.id}"] == "Ctrl+Alt+1"
    finally:
        hk.shutdown()


def test_pause_keeps_only_the_pause_key(env):
    hk, backend, *_, signals, log = env
    hk.start()
    backend.hotkeys.press("Ctrl+Alt+P")
    assert signals.of("paused") == [(True,)]
    assert backend.hotkeys.registered() == {"action:toggle_pause": "Ctrl+Alt+P"}
    backend.hotkeys.press("Ctrl+Alt+P")
    assert signals.of("paused") == [(True,), (False,)]
    assert len(backend.hotkeys.registered()) == len(settings.ACTIONS)


def test_hotkeys_disabled_in_settings(env, other):
    hk, backend, *_ = env
    settings.set(other, "hotkeys.enabled", False)
    hk.start()
    assert backend.hotkeys.registered() == {}


def test_clock_gap_rehooks(env):
    hk, backend, *_ = env
    calls = []
    backend.hotkeys.rehook = lambda: calls.append(1)
    hk.start()
    hk.watch._wall0 -= timedelta(seconds=120)  # as if the machine slept two minutes
    hk.tick()
    assert calls == [1]


# ------------------------------------------------------------------ chord capture

def test_capture_ungrabs_everything_quietly_and_restores(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk.start()
    before = backend.hotkeys.registered()
    assert before[f"paste:{reply.id}"] == "Ctrl+Alt+1"
    seen = len(signals.seen)
    hk.map.suspend_for_capture(True)
    assert backend.hotkeys.registered() == {}  # the pause key too: the field may record it
    hk.map.suspend_for_capture(True)  # focus moving between fields: idempotent
    hk.tick()
    replies.update_reply(other, "wh3", hotkey="Ctrl+Alt+3")  # a poll while capturing grabs nothing
    hk.tick()
    assert backend.hotkeys.registered() == {}
    log.clear()
    hk.flow.on_activated(f"paste:{reply.id}")  # a key event queued before the ungrab
    assert log == []  # ignored: not even the foreground window asked for
    hk.map.suspend_for_capture(False)
    after = backend.hotkeys.registered()
    assert {k: v for k, v in after.items() if k in before} == before
    assert not hk.map.is_paused
    quiet = [s[0] for s in signals.seen[seen:]]
    assert set(quiet) <= {"hotkeys_changed"}  # no message, no error, no paused
    backend.hotkeys.press("Ctrl+Alt+1")  # works again
    assert "chord" in log.names()


def test_capture_keeps_the_agents_pause(env):
    hk, backend, clipboard, scheduler, signals, log = env
    hk.start()
    hk.map.set_paused(True)
    paused_map = backend.hotkeys.registered()
    assert paused_map == {"action:toggle_pause": "Ctrl+Alt+P"}
    seen = len(signals.seen)
    hk.map.suspend_for_capture(True)
    assert backend.hotkeys.registered() == {} and hk.map.is_paused
    hk.map.suspend_for_capture(False)
    assert backend.hotkeys.registered() == paused_map and hk.map.is_paused
    assert [s for s in signals.seen[seen:] if s[0] in ("message", "error", "paused", "conflict")] == []
    # the agent resumes while a chord is recorded (tray): nothing grabbed until the capture ends
    hk.map.suspend_for_capture(True)
    hk.map.set_paused(False)
    assert backend.hotkeys.registered() == {}
    hk.map.suspend_for_capture(False)
    assert len(backend.hotkeys.registered()) == len(settings.ACTIONS) and not hk.map.is_paused


def test_capture_does_not_repeat_a_conflict(qapp, db, other):
    log = Recorder()
    backend = fake_backend(log, taken={"Ctrl+Alt+1"})
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk, _, _, signals = make(db, backend, log)
    try:
        hk.start()
        assert len(signals.of("conflict")) == 1
        hk.map.suspend_for_capture(True)
        hk.map.suspend_for_capture(False)
        assert len(signals.of("conflict")) == 1 and signals.of("info") == []
    finally:
        hk.shutdown()


def test_a_snapshot_read_before_the_first_frame_is_grabbed_at_start(env, other):
    """app.run reads the paste snapshot with its own connection and hands it to start(): the keys are
    grabbed at once (issue 17), before the worker's own read of it comes back."""
    hk, backend, *_, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    snapshot = replies.load_paste_snapshot(other)
    jobs = []
    hk.worker.submit = lambda *args, **kwargs: jobs.append(args[0])  # the worker answers later: not here
    hk.watch.start()
    hk.map.start(snapshot)
    assert backend.hotkeys.registered()[f"paste:{reply.id}"] == "Ctrl+Alt+1"
    assert hk.flow.snapshot is snapshot  # the paste flow pastes from it at once
    assert replies.load_paste_snapshot in jobs  # and it is read again on the worker
