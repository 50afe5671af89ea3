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
    keys.conn.in_dispatch = True
    keys.conn.dispatch_state = state
    keys.conn._dispatch_keymap = None


def test_trusted_release_uses_the_keypress_state_without_a_round_trip(sender):
    sender._verified_releases = VERIFY_RELEASES
    conn = sender.conn
    dispatching(sender, X.ControlMask | conn.masks["Alt"])
    asked = []
    conn.keymap = lambda: asked.append(1) or [0] * 32  # type: ignore[method-assign]
    released = sender.release_modifiers({"Alt", "Shift", "Meta"})  # Ctrl+V keeps Ctrl
    assert released == {"Alt"} and asked == []
    alt_codes = conn.modifier_keycodes["Alt"]
    assert sender.sent == [pair for code in alt_codes for pair in ((X.KeyPress, code), (X.KeyRelease, code))]


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
