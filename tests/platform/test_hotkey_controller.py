"""HotkeyController with a fake backend, fake clipboard and a manual clock, on a real store."""

from __future__ import annotations

import logging
import shutil

import pytest

from assistant.controller import RECORD_AFTER_RESTORE_MS, HotkeyController
from assistant.core import replies, settings
from assistant.core.store import open_store
from assistant.platform.base import WindowInfo
from assistant.platform.dummy.backend import create as create_dummy
from tests.helpers.fakes import FakeClipboard, FakeScheduler, Recorder, fake_backend

ORIGINAL = {"text/plain": "剪贴板原来的内容".encode(), "text/html": b"<i>orig</i>"}


class Signals:
    def __init__(self, controller: HotkeyController) -> None:
        self.seen: list[tuple] = []
        for name in ("message", "error", "conflict", "pasted", "paste_failed", "fields_needed",
                     "focus_search_requested", "star_requested", "next_chase_requested", "add_reply_requested",
                     "paused", "hotkeys_changed", "usage_recorded", "tagged_paste_done"):
            getattr(controller, name).connect(lambda *args, _n=name: self.seen.append((_n, *args)))

    def of(self, name: str) -> list[tuple]:
        return [s[1:] for s in self.seen if s[0] == name]


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory):
    """The default library indexed once (jieba is slow to warm up), copied for each test."""
    path = tmp_path_factory.mktemp("seed") / "kefu.db"
    store = open_store(path)
    replies.seed_defaults(store)
    store.close()
    return path


@pytest.fixture
def db(tmp_path, seeded_db):
    path = tmp_path / "kefu.db"
    shutil.copyfile(seeded_db, path)
    return path


@pytest.fixture
def other(db):
    """Another connection to the same file: the CLI, or the panel's worker."""
    store = open_store(db)
    yield store
    store.close()


@pytest.fixture
def env(qapp, db):
    log = Recorder()
    backend = fake_backend(log)
    clipboard = FakeClipboard(log, ORIGINAL)
    scheduler = FakeScheduler(log)
    controller = HotkeyController(db, backend, clipboard=clipboard, scheduler=scheduler, record_in_thread=False)
    signals = Signals(controller)
    yield controller, backend, clipboard, scheduler, signals, log
    controller.shutdown()


def make(qapp, db, backend, log=None):
    log = log if log is not None else Recorder()
    clipboard = FakeClipboard(log, ORIGINAL)
    scheduler = FakeScheduler(log)
    controller = HotkeyController(db, backend, clipboard=clipboard, scheduler=scheduler, record_in_thread=False)
    return controller, clipboard, scheduler, Signals(controller)


def test_registers_actions_and_reply_hotkeys(env, other):
    controller, backend, *_ , signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    controller.start()
    registered = backend.hotkeys.registered()
    assert registered[f"paste:{reply.id}"] == "Ctrl+Alt+1"
    for name, spec in settings.ACTIONS.items():
        assert registered[f"action:{name}"] == spec[0]
    assert signals.of("hotkeys_changed")[-1][0] == registered


def test_cli_change_takes_effect_on_the_next_poll(env, other):
    controller, backend, *_, signals, log = env
    controller.start()
    assert controller._timer.interval() <= 500  # "within a second"
    reply = replies.update_reply(other, "wh3", hotkey="Ctrl+Alt+3")  # `kefu replies edit ... --hotkey`
    controller._tick()
    assert backend.hotkeys.registered()[f"paste:{reply.id}"] == "Ctrl+Alt+3"
    before = len(log)
    replies.update_reply(other, reply.id, hotkey="Ctrl+Alt+4")
    controller._tick()
    assert backend.hotkeys.registered()[f"paste:{reply.id}"] == "Ctrl+Alt+4"
    # Only the changed hotkey was touched: the others were never ungrabbed.
    assert [e for e in log[before:] if e[0] in ("register", "unregister")] == [
        ("unregister", f"paste:{reply.id}"), ("register", "Ctrl+Alt+4", f"paste:{reply.id}")]
    replies.update_reply(other, reply.id, hotkey="")
    controller._tick()
    assert f"paste:{reply.id}" not in backend.hotkeys.registered()


def test_unchanged_store_re_registers_nothing(env, other):
    controller, backend, *_, log = env
    controller.start()
    before = len(log)
    replies.record_use(other, "wh1")  # another connection commits, hotkeys unchanged
    controller._tick()
    assert not [e for e in log[before:] if e[0] in ("register", "unregister")]


def test_conflict_between_an_action_and_a_reply_names_both(env, other):
    controller, backend, *_, signals, log = env
    # The default of "focus search": replies.update_reply refuses it, but an old database, an import
    # or a hand edit can still hold such a pair, and the panel must say so rather than fail silently.
    with other.write() as db:
        db.execute("UPDATE replies SET hotkey = 'Ctrl+Alt+F' WHERE code = 'wh2'")
    reply = replies.get_reply(other, "wh2")
    controller.start()
    (hotkey, zh, en), = signals.of("conflict")
    assert hotkey == "Ctrl+Alt+F"
    assert "聚焦搜索框" in zh and reply.title in zh
    assert "Focus the search box" in en and reply.title in en
    assert backend.hotkeys.registered()["action:focus_search"] == "Ctrl+Alt+F"
    assert f"paste:{reply.id}" not in backend.hotkeys.registered()
    controller.reload()
    assert len(signals.of("conflict")) == 1  # reported once, not on every poll


def test_hotkey_held_by_another_program_is_reported_at_once(qapp, db, other):
    log = Recorder()
    backend = fake_backend(log, taken={"Ctrl+Alt+1"})
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    controller, _, _, signals = make(qapp, db, backend, log)
    try:
        controller.start()
        (hotkey, zh, en), = signals.of("conflict")
        assert hotkey == "Ctrl+Alt+1"
        assert "其他程序" in zh and reply.title in zh
        assert "another program" in en and reply.title in en
        controller._tick()
        controller.reload()
        assert len(signals.of("conflict")) == 1
        # The other program lets go: the retry picks the hotkey up.
        backend.hotkeys.taken.clear()
        controller._last_retry = 0
        controller._tick()
        assert backend.hotkeys.registered()[f"paste:{reply.id}"] == "Ctrl+Alt+1"
    finally:
        controller.shutdown()


def test_pause_keeps_only_the_pause_key(env):
    controller, backend, *_, signals, log = env
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+P")
    assert signals.of("paused") == [(True,)]
    assert backend.hotkeys.registered() == {"action:toggle_pause": "Ctrl+Alt+P"}
    backend.hotkeys.press("Ctrl+Alt+P")
    assert signals.of("paused") == [(True,), (False,)]
    assert len(backend.hotkeys.registered()) == len(settings.ACTIONS)


def test_hotkeys_disabled_in_settings(env, other):
    controller, backend, *_ = env
    settings.set(other, "hotkeys.enabled", False)
    controller.start()
    assert backend.hotkeys.registered() == {}


def test_hotkey_paste_order_and_usage(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    backend.keys.held = {"Ctrl", "Alt"}
    controller.start()
    log.clear()
    backend.hotkeys.press("Ctrl+Alt+1")
    names = log.names()
    # Fast path: none of our windows has the focus (the tracker knows without asking), so the
    # chord goes to the focused window at once; the focus (asked at the KeyPress by the real
    # backend) is collected after the chord, to remember the chat window.
    assert names.index("snapshot") < names.index("set_text") < names.index("release") \
        < names.index("chord") < names.index("foreground")
    assert controller._last_external == 0x100
    chord = [e for e in log if e[0] == "chord"][0]
    assert chord[1] == "ctrl+v" and chord[2] == frozenset({"Ctrl"})  # Alt up; the chord's own Ctrl may stay
    assert ("set_text", reply.body) in log
    # The panel hears of it, and the use is recorded, after the chat client fetched the text.
    assert signals.of("pasted") == []
    assert replies.get_reply(other, reply.id).use_count == 0
    scheduler.advance(300)
    assert clipboard.formats == ORIGINAL
    scheduler.advance(RECORD_AFTER_RESTORE_MS)
    assert signals.of("pasted") == [(reply.id,)]
    used = replies.get_reply(other, reply.id)
    assert used.use_count == 1
    assert other.query("SELECT via FROM reply_uses")[-1]["via"] == "hotkey"
    assert signals.of("usage_recorded") == [(reply.id,)]


def test_settings_choose_chord_and_delay(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    settings.set(other, "paste.chord", "shift+insert")
    settings.set(other, "paste.restore_delay_ms", 800)
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+1")
    assert [e[1] for e in log if e[0] == "chord"] == ["shift+insert"]
    scheduler.advance(799)
    assert "restore" not in log.names()
    scheduler.advance(1)
    assert "restore" in log.names()


def test_app_rule_picks_the_method(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    settings.set(other, "paste.app_rules", [{"name": "千牛", "process": "AliWorkBench", "method": "type"}])
    backend.windows.info[0x100] = WindowInfo(0x100, "StandardFrame", "千牛", "AliWorkBench.exe", 5)
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+1")
    scheduler.run_all()
    assert "chord" not in log.names() and "set_text" not in log.names()
    assert "type" in log.names()


def test_bad_app_rule_is_reported(env, other):
    controller, *_, signals, log = env
    settings.set(other, "paste.app_rules", [{"name": "坏", "title": "(("}])
    controller.start()
    assert any("坏" in zh for zh, en in signals.of("error"))


def test_fill_in_fields_ask_the_panel_then_paste_into_the_captured_window(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh3", hotkey="Ctrl+Alt+3")  # "{客户}，欢迎回来！...{商品}..."
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+3")
    (reply_id, missing, token), = signals.of("fields_needed")
    assert reply_id == reply.id and missing == ["客户", "商品"]
    assert "chord" not in log.names()
    backend.windows.focused = 0x999  # the agent typed into the panel's form
    controller.complete_paste(token, {"客户": "小王", "商品": "羽绒服"})
    assert ("activate", 0x100) in log
    text = [e[1] for e in log if e[0] == "set_text"][0]
    assert text.startswith("小王，欢迎回来") and "羽绒服" in text
    assert "chord" in log.names()


def test_cancelled_form_pastes_nothing(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh3", hotkey="Ctrl+Alt+3")
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+3")
    (_, _, token), = signals.of("fields_needed")
    controller.cancel_paste(token)
    controller.complete_paste(token, {"客户": "x", "商品": "y"})
    assert "chord" not in log.names()


def test_agent_name_and_context_fill_fields(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.create_reply(other, body="我是客服{客服}，{客户}您好", hotkey="Ctrl+Alt+9")
    settings.set(other, "agent.name", "小美")
    controller.start()
    controller.set_context({"客户": "老李"})
    backend.hotkeys.press("Ctrl+Alt+9")
    assert ("set_text", "我是客服小美，老李您好") in log
    scheduler.run_all()
    assert signals.of("pasted") == [(reply.id,)]


def test_hotkey_while_the_panel_has_focus_goes_to_the_last_chat_window(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    controller.start()
    controller._tick()  # remembers 0x100, the chat window
    backend.windows.own = {0x999}
    backend.windows.focused = 0x999
    log.clear()
    backend.hotkeys.press("Ctrl+Alt+1")
    # No blind chord into our own window: the target is learnt first, the chat window raised.
    names = log.names()
    assert ("activate", 0x100) in log
    assert names.index("foreground") < names.index("activate") < names.index("chord")


def test_hotkey_with_no_window_anywhere_leaves_the_text_copied(env, other):
    """Fast path with the focus on nothing: the chord went nowhere, which is learnt right after
    it; the text then stays on the clipboard (handed to the toolkit, not restored) and the agent
    is told to paste by hand."""
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    controller.start()
    backend.windows.focused = 0
    backend.hotkeys.press("Ctrl+Alt+1")
    names = log.names()
    assert names.index("chord") < names.index("foreground") < names.index("hand_over")
    assert any("Ctrl+V" in m[1] for m in signals.of("message"))
    scheduler.run_all()
    assert clipboard.text() == reply.body  # not restored: the agent pastes it by hand
    assert "restore" not in log.names()


def test_hide_from_history_setting_reaches_the_clipboard(env, other):
    controller, backend, clipboard, *_ = env
    controller.start()
    assert clipboard.password_hint is False  # default: the fastest paste
    settings.set(other, "paste.hide_from_history", True)
    controller._tick()
    assert clipboard.password_hint is True


def test_hotkey_with_app_rules_learns_the_target_first(env, other):
    """With per-app rules the method depends on the window, so the old order holds."""
    controller, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    settings.set(other, "paste.app_rules", [{"name": "x", "title": "nothing-matches-this", "method": "shift+insert"}])
    controller.start()
    log.clear()
    backend.hotkeys.press("Ctrl+Alt+1")
    names = log.names()
    assert names[0] == "foreground"
    assert names.index("foreground") < names.index("set_text") < names.index("chord")


def test_panel_paste_goes_to_the_last_chat_window(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh1")
    controller.start()
    controller._tick()
    backend.windows.own = {0x999}
    backend.windows.focused = 0x999
    controller.paste_reply(reply.id, {"店铺": "小鹿家居", "客服": "小美"})
    assert ("activate", 0x100) in log and "chord" in log.names()
    scheduler.run_all()
    assert other.query("SELECT via FROM reply_uses")[-1]["via"] == "panel"


def test_elevated_target_is_told_and_the_text_copied(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    backend.windows.checks_targets = True
    backend.windows.warning = ("以管理员身份运行", "runs as administrator")
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+1")
    assert "chord" not in log.names()
    assert ("以管理员身份运行", "runs as administrator") in signals.of("error")
    assert clipboard.text().startswith("亲，现在咨询的朋友")


def test_dummy_backend_copies_and_says_press_ctrl_v(qapp, db, other):
    backend = create_dummy("Wayland")
    controller, clipboard, scheduler, signals = make(qapp, db, backend)
    try:
        controller.start()
        assert signals.of("message")  # tells the agent hotkeys are unavailable
        reply = replies.get_reply(other, "wh2")
        controller.paste_reply(reply.id, {})
        assert clipboard.text() == reply.body
        assert ("已复制，请按 Ctrl+V", "Copied; press Ctrl+V") in signals.of("message")
        scheduler.run_all()
        assert replies.get_reply(other, reply.id).use_count == 1
    finally:
        controller.shutdown()


def test_copy_reply(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh2")
    controller.copy_reply(reply.id, {})
    assert clipboard.text() == reply.body and "chord" not in log.names()


def test_focus_search_and_next_chase(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+F")
    assert signals.of("focus_search_requested") == [()]
    backend.hotkeys.press("Ctrl+Alt+N")
    (token,), = signals.of("next_chase_requested")
    backend.windows.focused = 0x999
    reply = replies.get_reply(other, "wh2")
    controller.paste_reply_to(token, reply.id, {})
    assert ("activate", 0x100) in log and "chord" in log.names()


def _selection_env(env, selected: str | None):
    controller, backend, clipboard, scheduler, signals, log = env

    def on_chord(chord: str) -> None:
        if chord == "ctrl+c" and selected is not None:
            clipboard.user_copies(selected)  # the chat client copies its selection

    backend.keys.on_chord = on_chord
    controller.start()
    return controller, backend, clipboard, scheduler, signals, log


def test_star_from_selection(env, caplog):
    nick = "tb_买家小李2026"
    controller, backend, clipboard, scheduler, signals, log = _selection_env(env, nick + "\n")
    backend.keys.held = {"Ctrl", "Alt"}
    with caplog.at_level(logging.INFO):
        backend.hotkeys.press("Ctrl+Alt+X")
        scheduler.advance(100)
    chord = [e for e in log if e[0] == "chord"][0]
    assert chord[1] == "ctrl+c" and chord[2] == frozenset()
    assert signals.of("star_requested") == [(nick,)]
    assert clipboard.formats == ORIGINAL  # the agent's clipboard is back
    assert nick not in caplog.text and "买家" not in caplog.text  # never customer text in the log
    assert f"len={len(nick)}" in caplog.text


def test_star_marker_for_tests_is_an_hmac(env, caplog, monkeypatch):
    import hashlib
    import hmac

    monkeypatch.setenv("KEFU_TEST_LOG_KEY", "k3y")
    controller, backend, clipboard, scheduler, signals, log = _selection_env(env, "小李")
    with caplog.at_level(logging.INFO):
        backend.hotkeys.press("Ctrl+Alt+X")
        scheduler.advance(100)
    digest = hmac.new(b"k3y", "小李".encode(), hashlib.sha256).hexdigest()[:16]
    assert f"hmac={digest}" in caplog.text and "小李" not in caplog.text


def test_star_with_nothing_selected(env):
    controller, backend, clipboard, scheduler, signals, log = _selection_env(env, None)
    backend.hotkeys.press("Ctrl+Alt+X")
    scheduler.advance(2000)
    assert signals.of("star_requested") == []
    assert any("选中" in zh for zh, en in signals.of("message"))
    assert clipboard.formats == ORIGINAL


def test_add_selection_as_reply(env):
    text = "亲，这款是加厚款，零下十度也不怕冷～"
    controller, backend, clipboard, scheduler, signals, log = _selection_env(env, text)
    backend.hotkeys.press("Ctrl+Alt+R")
    scheduler.advance(100)
    assert signals.of("add_reply_requested") == [(text,)]
    assert clipboard.formats == ORIGINAL


def test_selection_copy_after_a_paste_keeps_the_users_clipboard(env, other):
    controller, backend, clipboard, scheduler, signals, log = _selection_env(env, "小王")
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    controller.reload()
    backend.hotkeys.press("Ctrl+Alt+1")
    scheduler.advance(50)  # restore still pending
    backend.hotkeys.press("Ctrl+Alt+X")
    scheduler.advance(2000)
    assert signals.of("star_requested") == [("小王",)]
    assert clipboard.formats == ORIGINAL


def test_clock_gap_rehooks(env):
    controller, backend, *_ = env
    calls = []
    backend.hotkeys.rehook = lambda: calls.append(1)
    controller.start()
    controller._last_tick_wall -= 120  # as if the machine slept two minutes
    controller._tick()
    assert calls == [1]


def test_deleted_reply_hotkey_is_dropped(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    controller.start()
    replies.delete_reply(other, reply.id)
    backend.hotkeys.press("Ctrl+Alt+1")  # pressed before the next poll
    assert signals.of("error") and "chord" not in log.names()
    controller._tick()
    assert f"paste:{reply.id}" not in backend.hotkeys.registered()


def test_usage_writer_thread_records(qapp, qtbot, db, other):
    log = Recorder()
    backend = fake_backend(log)
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    clipboard = FakeClipboard(log, ORIGINAL)
    scheduler = FakeScheduler(log)
    controller = HotkeyController(db, backend, clipboard=clipboard, scheduler=scheduler)
    try:
        controller.start()
        backend.hotkeys.press("Ctrl+Alt+1")
        with qtbot.waitSignal(controller.usage_recorded, timeout=5000):
            scheduler.run_all()
        assert replies.get_reply(other, reply.id).use_count == 1
    finally:
        controller.shutdown()


def test_shutdown_records_pending_uses(qapp, db, other):
    log = Recorder()
    backend = fake_backend(log)
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    clipboard = FakeClipboard(log, ORIGINAL)
    scheduler = FakeScheduler(log)
    controller = HotkeyController(db, backend, clipboard=clipboard, scheduler=scheduler)
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+1")
    controller.shutdown()  # the app quits right after the paste
    assert replies.get_reply(other, reply.id).use_count == 1
    assert clipboard.formats == ORIGINAL  # restored at once, not left holding our text
    scheduler.run_all()  # the timers firing later change nothing
    assert replies.get_reply(other, reply.id).use_count == 1


def test_panel_paste_with_no_chat_window_known_copies(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    backend.windows.own = {0x100}  # only our own panel has ever had focus
    controller.start()
    controller._tick()
    reply = replies.get_reply(other, "wh2")
    controller.paste_reply(reply.id, {})
    assert "chord" not in log.names()
    assert clipboard.text() == reply.body
    assert ("已复制，请按 Ctrl+V", "Copied; press Ctrl+V") in signals.of("message")


# ------------------------------------------------------------------ tagged pastes (chase attribution)

def test_tagged_paste_is_answered_once_and_an_untagged_one_never(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh2")
    controller.start()
    controller._tick()  # remembers 0x100, the chat window
    controller.paste_reply(reply.id, {})  # the quick-replies list: same reply, no tag
    scheduler.run_all()
    assert signals.of("usage_recorded") == [(reply.id,)]
    assert signals.of("tagged_paste_done") == []
    controller.paste_reply_tagged(reply.id, {"客户": "小鱼"}, "chase:1")
    assert signals.of("tagged_paste_done") == []  # not before the use is recorded
    scheduler.run_all()
    assert signals.of("pasted") == [(reply.id,), (reply.id,)]
    assert signals.of("tagged_paste_done") == [("chase:1", reply.id, True)]
    # emitted right after its usage_recorded
    names = [s[0] for s in signals.seen if s[0] in ("usage_recorded", "tagged_paste_done")]
    assert names == ["usage_recorded", "usage_recorded", "tagged_paste_done"]
    assert replies.get_reply(other, reply.id).use_count == 2


def test_tagged_paste_that_failed_leaves_the_text_and_still_counts(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh2")
    controller.start()
    controller._tick()
    backend.windows.focused = 0x200  # the agent is elsewhere; the chat window 0x100 has gone
    backend.windows.alive = {0x200}
    controller.paste_reply_tagged(reply.id, {}, "chase:2")
    scheduler.run_all()
    assert signals.of("paste_failed") and signals.of("pasted") == []
    assert clipboard.text() == reply.body
    assert signals.of("usage_recorded") == [(reply.id,)]
    assert signals.of("tagged_paste_done") == [("chase:2", reply.id, False)]


def test_tagged_copy_fallback_counts_with_ok_false(qapp, db, other):
    controller, clipboard, scheduler, signals = make(qapp, db, create_dummy("Wayland"))
    try:
        controller.start()
        reply = replies.get_reply(other, "wh2")
        controller.paste_reply_tagged(reply.id, {}, "chase:3")
        assert clipboard.text() == reply.body
        assert signals.of("tagged_paste_done") == [("chase:3", reply.id, False)]
        controller.copy_reply(reply.id, {})  # untagged
        assert signals.of("tagged_paste_done") == [("chase:3", reply.id, False)]
    finally:
        controller.shutdown()


def test_tagged_paste_to_through_the_fill_in_form(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh3")  # needs {客户} and {商品}
    controller.start()
    backend.hotkeys.press("Ctrl+Alt+N")
    (token,), = signals.of("next_chase_requested")
    controller.paste_reply_to_tagged(token, reply.id, {"客户": "小王"}, "chase:4")
    (_, missing, form), = signals.of("fields_needed")
    assert missing == ["商品"]
    controller.cancel_paste(form)  # cancelled: never answered
    scheduler.run_all()
    assert signals.of("tagged_paste_done") == []
    backend.hotkeys.press("Ctrl+Alt+N")
    token = signals.of("next_chase_requested")[-1][0]
    controller.paste_reply_to_tagged(token, reply.id, {"客户": "小王"}, "chase:5")
    form = signals.of("fields_needed")[-1][2]
    controller.complete_paste(form, {"客户": "小王", "商品": "羽绒服"})
    scheduler.run_all()
    assert signals.of("tagged_paste_done") == [("chase:5", reply.id, True)]
    assert other.query("SELECT via FROM reply_uses")[-1]["via"] == "hotkey"


def test_tagged_paste_through_the_writer_thread(qapp, qtbot, db, other):
    log = Recorder()
    backend = fake_backend(log)
    controller = HotkeyController(db, backend, clipboard=FakeClipboard(log, ORIGINAL), scheduler=FakeScheduler(log))
    scheduler = controller.scheduler
    try:
        controller.start()
        controller._tick()
        reply = replies.get_reply(other, "wh2")
        controller.paste_reply_tagged(reply.id, {}, "chase:6")
        with qtbot.waitSignal(controller.tagged_paste_done, timeout=5000) as done:
            scheduler.run_all()
        assert done.args == ["chase:6", reply.id, True]
    finally:
        controller.shutdown()


# ------------------------------------------------------------------ chord capture

def test_capture_ungrabs_everything_quietly_and_restores(env, other):
    controller, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    controller.start()
    before = backend.hotkeys.registered()
    assert before[f"paste:{reply.id}"] == "Ctrl+Alt+1"
    seen = len(signals.seen)
    controller.suspend_for_capture(True)
    assert backend.hotkeys.registered() == {}  # the pause key too: the field may record it
    controller.suspend_for_capture(True)  # focus moving between fields: idempotent
    controller._tick()
    replies.update_reply(other, "wh3", hotkey="Ctrl+Alt+3")  # a poll while capturing grabs nothing
    controller._tick()
    assert backend.hotkeys.registered() == {}
    log.clear()
    controller._on_activated(f"paste:{reply.id}")  # a key event queued before the ungrab
    assert log == []  # ignored: not even the foreground window asked for
    controller.suspend_for_capture(False)
    after = backend.hotkeys.registered()
    assert {k: v for k, v in after.items() if k in before} == before
    assert not controller.is_paused
    quiet = [s[0] for s in signals.seen[seen:]]
    assert set(quiet) <= {"hotkeys_changed"}  # no message, no error, no paused
    backend.hotkeys.press("Ctrl+Alt+1")  # works again
    assert "chord" in log.names()


def test_capture_keeps_the_agents_pause(env):
    controller, backend, clipboard, scheduler, signals, log = env
    controller.start()
    controller.set_paused(True)
    paused_map = backend.hotkeys.registered()
    assert paused_map == {"action:toggle_pause": "Ctrl+Alt+P"}
    seen = len(signals.seen)
    controller.suspend_for_capture(True)
    assert backend.hotkeys.registered() == {} and controller.is_paused
    controller.suspend_for_capture(False)
    assert backend.hotkeys.registered() == paused_map and controller.is_paused
    assert [s for s in signals.seen[seen:] if s[0] in ("message", "error", "paused", "conflict")] == []
    # the agent resumes while a chord is recorded (tray): nothing grabbed until the capture ends
    controller.suspend_for_capture(True)
    controller.set_paused(False)
    assert backend.hotkeys.registered() == {}
    controller.suspend_for_capture(False)
    assert len(backend.hotkeys.registered()) == len(settings.ACTIONS) and not controller.is_paused


def test_capture_does_not_repeat_a_conflict(qapp, db, other):
    log = Recorder()
    backend = fake_backend(log, taken={"Ctrl+Alt+1"})
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    controller, _, _, signals = make(qapp, db, backend, log)
    try:
        controller.start()
        assert len(signals.of("conflict")) == 1
        controller.suspend_for_capture(True)
        controller.suspend_for_capture(False)
        assert len(signals.of("conflict")) == 1 and signals.of("message") == []
    finally:
        controller.shutdown()
