"""PasteFlow: capture -> render -> PasteService -> record, wired with HotkeyMap as app.wire_hotkeys
does, with a fake backend, fake clipboard and a manual clock on a real store; store jobs run inline
(tests/helpers/hotkeys.py), or on the real StoreWorker where a test says threaded=True."""

from __future__ import annotations

import logging

from assistant.core import replies, settings
from assistant.platform.base import WindowInfo
from assistant.platform.dummy.backend import create as create_dummy
from assistant.services.pasteflow import RECORD_AFTER_RESTORE_MS
from tests.helpers.fakes import FakeClipboard, FakeScheduler, Recorder, fake_backend
from tests.helpers.hotkeys import ORIGINAL, Hotkeys, make


def test_hotkey_paste_order_and_usage(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    backend.keys.held = {"Ctrl", "Alt"}
    hk.start()
    log.clear()
    backend.hotkeys.press("Ctrl+Alt+1")
    names = log.names()
    # Fast path: none of our windows has the focus (the tracker knows without asking), so the
    # chord goes to the focused window at once; the focus (asked at the KeyPress by the real
    # backend) is collected after the chord, to remember the chat window.
    assert names.index("snapshot") < names.index("set_text") < names.index("release") \
        < names.index("chord") < names.index("foreground")
    assert hk.flow._last_external == 0x100
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
    hk, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    settings.set(other, "paste.chord", "shift+insert")
    settings.set(other, "paste.restore_delay_ms", 800)
    hk.start()
    backend.hotkeys.press("Ctrl+Alt+1")
    assert [e[1] for e in log if e[0] == "chord"] == ["shift+insert"]
    scheduler.advance(799)
    assert "restore" not in log.names()
    scheduler.advance(1)
    assert "restore" in log.names()


def test_app_rule_picks_the_method(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    settings.set(other, "paste.app_rules", [{"name": "千牛", "process": "AliWorkBench", "method": "type"}])
    backend.windows.info[0x100] = WindowInfo(0x100, "StandardFrame", "千牛", "AliWorkBench.exe", 5)
    hk.start()
    backend.hotkeys.press("Ctrl+Alt+1")
    scheduler.run_all()
    assert "chord" not in log.names() and "set_text" not in log.names()
    assert "type" in log.names()


def test_bad_app_rule_is_reported(env, other):
    hk, *_, signals, log = env
    settings.set(other, "paste.app_rules", [{"name": "坏", "title": "(("}])
    hk.start()
    assert any("坏" in zh for zh, en in signals.of("warning"))


def test_fill_in_fields_ask_the_panel_then_paste_into_the_captured_window(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh3", hotkey="Ctrl+Alt+3")  # "{客户}，欢迎回来！...{商品}..."
    hk.start()
    backend.hotkeys.press("Ctrl+Alt+3")
    (reply_id, missing, token), = signals.of("fields_needed")
    assert reply_id == reply.id and missing == ["客户", "商品"]
    assert "chord" not in log.names()
    backend.windows.focused = 0x999  # the agent typed into the panel's form
    hk.flow.complete_paste(token, {"客户": "小王", "商品": "羽绒服"})
    assert ("activate", 0x100) in log
    text = [e[1] for e in log if e[0] == "set_text"][0]
    assert text.startswith("小王，欢迎回来") and "羽绒服" in text
    assert "chord" in log.names()


def test_cancelled_form_pastes_nothing(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh3", hotkey="Ctrl+Alt+3")
    hk.start()
    backend.hotkeys.press("Ctrl+Alt+3")
    (_, _, token), = signals.of("fields_needed")
    hk.flow.cancel_paste(token)
    hk.flow.complete_paste(token, {"客户": "x", "商品": "y"})
    assert "chord" not in log.names()


def test_agent_name_and_context_fill_fields(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.create_reply(other, body="我是客服{客服}，{客户}您好", hotkey="Ctrl+Alt+9")
    settings.set(other, "agent.name", "小美")
    hk.start()
    hk.flow.set_context({"客户": "老李"})
    backend.hotkeys.press("Ctrl+Alt+9")
    assert ("set_text", "我是客服小美，老李您好") in log
    scheduler.run_all()
    assert signals.of("pasted") == [(reply.id,)]


def test_hotkey_while_the_panel_has_focus_goes_to_the_last_chat_window(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk.start()
    hk.tick()  # remembers 0x100, the chat window
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
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk.start()
    backend.windows.focused = 0
    backend.hotkeys.press("Ctrl+Alt+1")
    names = log.names()
    assert names.index("chord") < names.index("foreground") < names.index("hand_over")
    assert any("Ctrl+V" in m[1] for m in signals.of("info"))
    scheduler.run_all()
    assert clipboard.text() == reply.body  # not restored: the agent pastes it by hand
    assert "restore" not in log.names()


def test_hide_from_history_setting_reaches_the_clipboard(env, other):
    hk, backend, clipboard, *_ = env
    hk.start()
    assert clipboard.password_hint is False  # default: the fastest paste
    settings.set(other, "paste.hide_from_history", True)
    hk.tick()
    assert clipboard.password_hint is True


def test_hotkey_with_app_rules_learns_the_target_first(env, other):
    """With per-app rules the method depends on the window, so the old order holds."""
    hk, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    settings.set(other, "paste.app_rules", [{"name": "x", "title": "nothing-matches-this", "method": "shift+insert"}])
    hk.start()
    log.clear()
    backend.hotkeys.press("Ctrl+Alt+1")
    names = log.names()
    assert names[0] == "foreground"
    assert names.index("foreground") < names.index("set_text") < names.index("chord")


def test_panel_paste_goes_to_the_last_chat_window(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh1")
    hk.start()
    hk.tick()
    backend.windows.own = {0x999}
    backend.windows.focused = 0x999
    hk.flow.paste_reply(reply.id, {"店铺": "小鹿家居", "客服": "小美"})
    assert ("activate", 0x100) in log and "chord" in log.names()
    scheduler.run_all()
    assert other.query("SELECT via FROM reply_uses")[-1]["via"] == "panel"


def test_elevated_target_is_told_and_the_text_copied(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    backend.windows.checks_targets = True
    backend.windows.warning = ("以管理员身份运行", "runs as administrator")
    hk.start()
    backend.hotkeys.press("Ctrl+Alt+1")
    assert "chord" not in log.names()
    assert ("以管理员身份运行", "runs as administrator") in signals.of("warning")
    assert clipboard.text().startswith("您好，现在咨询的朋友")


def test_dummy_backend_copies_and_says_press_ctrl_v(qapp, db, other):
    backend = create_dummy("Wayland")
    hk, clipboard, scheduler, signals = make(db, backend)
    try:
        hk.start()
        assert signals.of("info")  # tells the agent hotkeys are unavailable
        reply = replies.get_reply(other, "wh2")
        hk.flow.paste_reply(reply.id, {})
        assert clipboard.text() == reply.body
        assert ("已复制，请按 Ctrl+V", "Copied; press Ctrl+V") in signals.of("info")
        scheduler.run_all()
        assert replies.get_reply(other, reply.id).use_count == 1
    finally:
        hk.shutdown()


def test_copy_reply(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh2")
    hk.flow.copy_reply(reply.id, {})
    assert clipboard.text() == reply.body and "chord" not in log.names()


def test_focus_search_and_next_chase(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    hk.start()
    backend.hotkeys.press("Ctrl+Alt+F")
    assert signals.of("focus_search_requested") == [()]
    backend.hotkeys.press("Ctrl+Alt+N")
    (token,), = signals.of("next_chase_requested")
    backend.windows.focused = 0x999
    reply = replies.get_reply(other, "wh2")
    hk.flow.paste_reply_to(token, reply.id, {})
    assert ("activate", 0x100) in log and "chord" in log.names()


def _selection_env(env, selected: str | None):
    hk, backend, clipboard, scheduler, signals, log = env

    def on_chord(chord: str) -> None:
        if chord == "ctrl+c" and selected is not None:
            clipboard.user_copies(selected)  # the chat client copies its selection

    backend.keys.on_chord = on_chord
    hk.start()
    return hk, backend, clipboard, scheduler, signals, log


def test_star_from_selection(env, caplog):
    nick = "tb_买家小李2026"
    hk, backend, clipboard, scheduler, signals, log = _selection_env(env, nick + "\n")
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
    hk, backend, clipboard, scheduler, signals, log = _selection_env(env, "小李")
    with caplog.at_level(logging.INFO):
        backend.hotkeys.press("Ctrl+Alt+X")
        scheduler.advance(100)
    digest = hmac.new(b"k3y", "小李".encode(), hashlib.sha256).hexdigest()[:16]
    assert f"hmac={digest}" in caplog.text and "小李" not in caplog.text


def test_aftersales_case_from_selection(env, caplog):
    """The after-sales hotkey copies the selected nickname like the star hotkey and asks for its case."""
    nick = "tb_收到破损的买家"
    hk, backend, clipboard, scheduler, signals, log = _selection_env(env, nick + "\n")
    backend.keys.held = {"Ctrl", "Alt"}
    with caplog.at_level(logging.INFO):
        backend.hotkeys.press("Ctrl+Alt+H")
        scheduler.advance(100)
    chord = [e for e in log if e[0] == "chord"][0]
    assert chord[1] == "ctrl+c" and chord[2] == frozenset()  # the hotkey's Ctrl+Alt released first
    assert signals.of("aftersales_requested") == [(nick,)]
    assert signals.of("star_requested") == []  # not a star
    assert clipboard.formats == ORIGINAL
    assert nick not in caplog.text and "aftersales_selection: nickname read (len=" in caplog.text


def test_suggestions_for_the_selected_message(env, caplog):
    """The suggestion hotkey copies the buyer's selected message like the star hotkey, as one line,
    and asks the panel for its replies; the clipboard is as it was and the text is never logged."""
    message = "亲 我的退款\n多久能到账啊"
    hk, backend, clipboard, scheduler, signals, log = _selection_env(env, message)
    with caplog.at_level(logging.INFO):
        backend.hotkeys.press("Ctrl+Alt+S")
        scheduler.advance(100)
    assert signals.of("suggest_requested") == [("亲 我的退款 多久能到账啊",)]
    assert signals.of("star_requested") == []
    assert clipboard.formats == ORIGINAL
    assert "退款" not in caplog.text and "suggest_selection: message read (len=" in caplog.text


def test_star_with_nothing_selected(env):
    hk, backend, clipboard, scheduler, signals, log = _selection_env(env, None)
    backend.hotkeys.press("Ctrl+Alt+X")
    scheduler.advance(2000)
    assert signals.of("star_requested") == []
    assert any("选中" in zh for zh, en in signals.of("info"))
    assert clipboard.formats == ORIGINAL


def test_add_selection_as_reply(env):
    text = "亲，这款是加厚款，零下十度也不怕冷～"
    hk, backend, clipboard, scheduler, signals, log = _selection_env(env, text)
    backend.hotkeys.press("Ctrl+Alt+R")
    scheduler.advance(100)
    assert signals.of("add_reply_requested") == [(text,)]
    assert clipboard.formats == ORIGINAL


def test_selection_copy_after_a_paste_keeps_the_users_clipboard(env, other):
    hk, backend, clipboard, scheduler, signals, log = _selection_env(env, "小王")
    replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk.map.reload()
    backend.hotkeys.press("Ctrl+Alt+1")
    scheduler.advance(50)  # restore still pending
    backend.hotkeys.press("Ctrl+Alt+X")
    scheduler.advance(2000)
    assert signals.of("star_requested") == [("小王",)]
    assert clipboard.formats == ORIGINAL


def test_deleted_reply_hotkey_is_dropped(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk.start()
    replies.delete_reply(other, reply.id)  # `kefu replies delete` in a terminal
    hk.tick()  # the watcher's next round: a fresh snapshot, the hotkey ungrabbed
    assert f"paste:{reply.id}" not in backend.hotkeys.registered()
    hk.flow.on_activated(f"paste:{reply.id}")  # a press queued before the ungrab
    assert signals.of("warning") and "chord" not in log.names()


def test_reply_deleted_elsewhere_pastes_its_last_text_until_the_next_round(env, other):
    """The hotkey path never reads the store: between another process's delete and the watcher's
    next round (<= 500 ms) the snapshot's text is pasted; its use cannot be counted, and is said so."""
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    hk.start()
    replies.delete_reply(other, reply.id)
    backend.hotkeys.press("Ctrl+Alt+1")  # pressed before the next round
    assert ("set_text", reply.body) in log and "chord" in log.names()
    scheduler.run_all()
    assert any(en.startswith("Usage not saved") for _zh, en in signals.of("warning"))
    assert signals.of("usage_recorded") == []


def test_usage_recorded_on_the_store_worker_thread(qapp, qtbot, db, other):
    log = Recorder()
    backend = fake_backend(log)
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    clipboard = FakeClipboard(log, ORIGINAL)
    scheduler = FakeScheduler(log)
    hk = Hotkeys(db, backend, clipboard=clipboard, scheduler=scheduler, threaded=True)
    try:
        hk.start()
        qtbot.waitUntil(lambda: f"paste:{reply.id}" in backend.hotkeys.registered(), timeout=5000)
        backend.hotkeys.press("Ctrl+Alt+1")
        with qtbot.waitSignal(hk.flow.usage_recorded, timeout=5000):
            scheduler.run_all()
        assert replies.get_reply(other, reply.id).use_count == 1
    finally:
        hk.shutdown()


def test_shutdown_records_pending_uses(qapp, qtbot, db, other):
    log = Recorder()
    backend = fake_backend(log)
    reply = replies.update_reply(other, "wh2", hotkey="Ctrl+Alt+1")
    clipboard = FakeClipboard(log, ORIGINAL)
    scheduler = FakeScheduler(log)
    hk = Hotkeys(db, backend, clipboard=clipboard, scheduler=scheduler, threaded=True)
    hk.start()
    qtbot.waitUntil(lambda: f"paste:{reply.id}" in backend.hotkeys.registered(), timeout=5000)
    backend.hotkeys.press("Ctrl+Alt+1")
    hk.shutdown()  # the app quits right after the paste
    assert replies.get_reply(other, reply.id).use_count == 1
    assert clipboard.formats == ORIGINAL  # restored at once, not left holding our text
    scheduler.run_all()  # the timers firing later change nothing
    assert replies.get_reply(other, reply.id).use_count == 1


def test_panel_paste_with_no_chat_window_known_copies(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    backend.windows.own = {0x100}  # only our own panel has ever had focus
    hk.start()
    hk.tick()
    reply = replies.get_reply(other, "wh2")
    hk.flow.paste_reply(reply.id, {})
    assert "chord" not in log.names()
    assert clipboard.text() == reply.body
    assert ("已复制，请按 Ctrl+V", "Copied; press Ctrl+V") in signals.of("info")


# ------------------------------------------------------------------ tagged pastes (chase attribution)

def test_tagged_paste_is_answered_once_and_an_untagged_one_never(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh2")
    hk.start()
    hk.tick()  # remembers 0x100, the chat window
    hk.flow.paste_reply(reply.id, {})  # the quick-replies list: same reply, no tag
    scheduler.run_all()
    assert signals.of("usage_recorded") == [(reply.id,)]
    assert signals.of("attributed_paste_done") == []
    hk.flow.paste_reply_attributed(reply.id, {"客户": "小鱼"}, "chase:1")
    assert signals.of("attributed_paste_done") == []  # not before the use is recorded
    scheduler.run_all()
    assert signals.of("pasted") == [(reply.id,), (reply.id,)]
    assert signals.of("attributed_paste_done") == [("chase:1", reply.id, True)]
    # emitted right after its usage_recorded
    names = [s[0] for s in signals.seen if s[0] in ("usage_recorded", "attributed_paste_done")]
    assert names == ["usage_recorded", "usage_recorded", "attributed_paste_done"]
    assert replies.get_reply(other, reply.id).use_count == 2


def test_tagged_paste_that_failed_leaves_the_text_and_still_counts(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh2")
    hk.start()
    hk.tick()
    backend.windows.focused = 0x200  # the agent is elsewhere; the chat window 0x100 has gone
    backend.windows.alive = {0x200}
    hk.flow.paste_reply_attributed(reply.id, {}, "chase:2")
    scheduler.run_all()
    assert signals.of("paste_failed") and signals.of("pasted") == []
    assert clipboard.text() == reply.body
    assert signals.of("usage_recorded") == [(reply.id,)]
    assert signals.of("attributed_paste_done") == [("chase:2", reply.id, False)]


def test_tagged_copy_fallback_counts_with_ok_false(qapp, db, other):
    hk, clipboard, scheduler, signals = make(db, create_dummy("Wayland"))
    try:
        hk.start()
        reply = replies.get_reply(other, "wh2")
        hk.flow.paste_reply_attributed(reply.id, {}, "chase:3")
        assert clipboard.text() == reply.body
        assert signals.of("attributed_paste_done") == [("chase:3", reply.id, False)]
        hk.flow.copy_reply(reply.id, {})  # untagged
        assert signals.of("attributed_paste_done") == [("chase:3", reply.id, False)]
    finally:
        hk.shutdown()


def test_tagged_paste_to_through_the_fill_in_form(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    reply = replies.get_reply(other, "wh3")  # needs {客户} and {商品}
    hk.start()
    backend.hotkeys.press("Ctrl+Alt+N")
    (token,), = signals.of("next_chase_requested")
    hk.flow.paste_reply_to_attributed(token, reply.id, {"客户": "小王"}, "chase:4")
    (_, missing, form), = signals.of("fields_needed")
    assert missing == ["商品"]
    hk.flow.cancel_paste(form)  # cancelled: never answered
    scheduler.run_all()
    assert signals.of("attributed_paste_done") == []
    backend.hotkeys.press("Ctrl+Alt+N")
    token = signals.of("next_chase_requested")[-1][0]
    hk.flow.paste_reply_to_attributed(token, reply.id, {"客户": "小王"}, "chase:5")
    form = signals.of("fields_needed")[-1][2]
    hk.flow.complete_paste(form, {"客户": "小王", "商品": "羽绒服"})
    scheduler.run_all()
    assert signals.of("attributed_paste_done") == [("chase:5", reply.id, True)]
    assert other.query("SELECT via FROM reply_uses")[-1]["via"] == "hotkey"


def test_attributed_paste_through_the_store_worker_thread(qapp, qtbot, db, other):
    log = Recorder()
    backend = fake_backend(log)
    hk = Hotkeys(db, backend, clipboard=FakeClipboard(log, ORIGINAL), scheduler=FakeScheduler(log), threaded=True)
    scheduler = hk.flow.scheduler
    try:
        hk.start()
        hk.tick()
        reply = replies.get_reply(other, "wh2")
        hk.flow.paste_reply_attributed(reply.id, {}, "chase:6")
        # a reply without a hotkey: read by a worker job first, then pasted
        qtbot.waitUntil(lambda: "chord" in log.names(), timeout=5000)
        with qtbot.waitSignal(hk.flow.attributed_paste_done, timeout=5000) as done:
            scheduler.run_all()
        assert done.args == ["chase:6", reply.id, True]
    finally:
        hk.shutdown()



def _invite_guard(other, mood=None):
    from assistant.core import invites, reminders

    buyer = reminders.star(other, platform="taobao", nickname="小鱼")
    if mood:
        invites.set_mood(other, buyer.id, mood)
    return invites.guard(other, buyer.id)


def test_a_review_invite_for_a_buyer_who_may_not_be_asked_is_held_back_once(env, other, monkeypatch):
    """邀评 to a buyer not marked pleased: the first press warns with the reason and sends nothing;
    the same press again within CONFIRM_S sends it (the agent's decision); after that, it warns again."""
    from assistant.services import pasteflow

    hk, backend, clipboard, scheduler, signals, log = env
    invite = replies.get_reply(other, "yp2")  # no fill-in field: straight to the chat
    replies.update_reply(other, invite.id, hotkey="Ctrl+Alt+1")
    hk.start()
    guard = _invite_guard(other)
    assert invite.id in guard.reply_ids and not guard.verdict.allowed
    hk.flow.set_review_guard(guard)
    backend.keys.held = {"Ctrl", "Alt"}
    now = [1000.0]
    monkeypatch.setattr(pasteflow.time, "monotonic", lambda: now[0])
    log.clear()
    backend.hotkeys.press("Ctrl+Alt+1")
    assert "chord" not in log.names() and "set_text" not in log.names()
    warning = signals.of("warning")[-1]
    assert "邀评" in warning[0] and "满意" in warning[0] and "review invite" in warning[1]
    now[0] += pasteflow.CONFIRM_S - 1
    backend.hotkeys.press("Ctrl+Alt+1")
    assert "chord" in log.names()
    scheduler.run_all()
    log.clear()
    now[0] += 1
    backend.hotkeys.press("Ctrl+Alt+1")  # a new attempt: warned again
    assert "chord" not in log.names()
    now[0] += pasteflow.CONFIRM_S + 1
    backend.hotkeys.press("Ctrl+Alt+1")  # too late to count as the confirmation
    assert "chord" not in log.names()


def test_a_review_invite_for_a_pleased_buyer_and_other_replies_go_at_once(env, other):
    hk, backend, clipboard, scheduler, signals, log = env
    invite = replies.get_reply(other, "yp2")  # no fill-in field: straight to the chat
    hk.start()
    hk.tick()
    hk.flow.set_review_guard(_invite_guard(other, "pleased"))
    hk.flow.paste_reply(invite.id, {"客户": "小鱼"})
    assert "chord" in log.names()
    scheduler.run_all()
    log.clear()
    hk.flow.set_review_guard(_invite_guard(other, "angry"))
    hk.flow.paste_reply(replies.get_reply(other, "wh1").id, {"店铺": "小鹿家居", "客服": "小美"})  # never held back
    assert "chord" in log.names()
    scheduler.run_all()
    log.clear()
    hk.flow.paste_reply(invite.id, {"客户": "小鱼"})  # from the panel too
    assert "chord" not in log.names() and "生气" in signals.of("warning")[-1][0]
    hk.flow.set_review_guard(None)  # no buyer chosen: nothing to check against
    hk.flow.paste_reply(invite.id, {"客户": "小鱼"})
    assert "chord" in log.names()
