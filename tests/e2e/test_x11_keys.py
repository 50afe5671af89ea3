"""X11KeySender's modifier release on the hotkey fast path, against a real X server: from the
KeyPress's modifier state, with no round trip - except for Shift and Super, whose lone taps mean
something to input methods and desktops."""

from __future__ import annotations

import os

import pytest
from Xlib import X

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from assistant.platform.x11.backend import VERIFY_RELEASES, X11Connection, X11KeySender  # noqa: E402


@pytest.fixture
def sender(qapp, xvfb):
    conn = X11Connection(xvfb.display)
    keys = X11KeySender(conn)
    sent: list[tuple[int, int]] = []
    keys._fake = lambda kind, code: sent.append((kind, code))  # type: ignore[method-assign]
    keys.sent = sent  # type: ignore[attr-defined]
    yield keys
    conn.close()


def dispatching(keys: X11KeySender, state: int) -> None:
    keys.conn.begin_dispatch(state)


def test_trusted_release_uses_the_keypress_state_without_a_round_trip(sender):
    sender._verified_releases = VERIFY_RELEASES
    conn = sender.conn
    dispatching(sender, X.ControlMask | conn.masks["Alt"])
    asked = []
    conn.keymap = lambda: asked.append(1) or [0] * 32  # type: ignore[method-assign]
    released = sender.release_modifiers({"Alt", "Shift", "Meta"})  # Ctrl+V keeps Ctrl
    assert released == {"Alt"} and asked == []
    alt_codes = conn.modifier_keycodes["Alt"]
    mask = [(X.KeyPress, sender.mask_keycode), (X.KeyRelease, sender.mask_keycode)]
    assert sender.sent == ([(X.KeyPress, code) for code in alt_codes] + mask
                           + [(X.KeyRelease, code) for code in alt_codes])


def test_shift_in_the_hotkey_reads_the_key_state_instead(sender):
    """A press+release of a Shift key the agent is not holding would switch the input method."""
    sender._verified_releases = VERIFY_RELEASES
    conn = sender.conn
    dispatching(sender, X.ControlMask | X.ShiftMask)
    asked = []
    conn.keymap = lambda: asked.append(1) or [0] * 32  # type: ignore[method-assign]
    assert sender.release_modifiers({"Shift", "Alt", "Meta"}) == set()  # nothing down per the keymap
    assert asked == [1] and sender.sent == []


def test_untrusted_release_reads_the_key_state(sender):
    conn = sender.conn
    dispatching(sender, conn.masks["Alt"])
    asked = []
    conn.keymap = lambda: asked.append(1) or [0] * 32  # type: ignore[method-assign]
    sender.release_modifiers({"Alt"})
    assert asked == [1]


def test_a_meaningless_key_goes_before_any_modifier_release(sender):
    """Alt (or Shift) pressed by the agent and released by us with nothing in between would be
    a lone tap for the chat client: Firefox opens its menu bar, input methods switch 中/英. A
    keycode with no keysym is tapped between our presses and our releases, once."""
    conn = sender.conn
    assert sender.mask_keycode
    d = conn.display
    first = d.display.info.min_keycode
    syms = d.get_keyboard_mapping(sender.mask_keycode, 1)[0]
    assert not any(syms)  # types nothing anywhere
    assert sender.mask_keycode not in sender._spare_keycodes()  # typing never maps it
    dispatching(sender, X.ShiftMask | conn.masks["Alt"])
    keymap = [0] * 32
    for code in (conn.modifier_keycodes["Shift"][0], conn.modifier_keycodes["Alt"][0]):
        keymap[code // 8] |= 1 << (code % 8)
    conn._dispatch_keymap = keymap
    assert sender.release_modifiers({"Shift", "Alt"}) == {"Shift", "Alt"}
    shift, alt = conn.modifier_keycodes["Shift"][0], conn.modifier_keycodes["Alt"][0]
    mask = sender.mask_keycode
    # Our press of each held key, then the mask key, then the releases: no release directly
    # follows a press of the same key.
    assert sorted(sender.sent[:2]) == sorted([(X.KeyPress, shift), (X.KeyPress, alt)])
    assert sender.sent[2:4] == [(X.KeyPress, mask), (X.KeyRelease, mask)]
    assert sorted(sender.sent[4:]) == sorted([(X.KeyRelease, shift), (X.KeyRelease, alt)])
    assert first <= sender.mask_keycode


def test_nothing_held_sends_nothing(sender):
    sender._verified_releases = VERIFY_RELEASES
    dispatching(sender, 0)
    assert sender.release_modifiers({"Alt", "Shift", "Meta"}) == set()
    assert sender.sent == []


def test_the_display_sets_up_only_the_extensions_we_use(xvfb):
    """Display() would import and query every X extension python-xlib knows (~11 ms at start);
    ours asks for XTEST alone, and python-xlib's own list is left whole for anyone else."""
    from Xlib import ext

    from assistant.platform.x11.display import open_display

    every = list(ext.__extensions__)
    conn = open_display(xvfb.display)
    try:
        assert conn.extensions == ["XTEST"] and conn.has_extension("XTEST")
        assert hasattr(conn, "xtest_fake_input")
        assert "XFIXES" in conn.list_extensions()  # the server has more; we did not set them up
        assert not conn.has_extension("XFIXES")
    finally:
        conn.close()
    assert ext.__extensions__ == every
    plain = open_display(xvfb.display, extensions=())
    try:
        assert plain.extensions == [] and not plain.has_extension("XTEST")
    finally:
        plain.close()
