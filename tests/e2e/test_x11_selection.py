"""X11Selection against a real X server: what other programs read from the clipboard we own on
our own connection (xclip is the other program), and what SelectionClipboard does with Qt."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from assistant.platform.base import ClipboardAccess, ClipboardOwnership  # noqa: E402
from assistant.platform.x11.backend import X11Connection  # noqa: E402
from assistant.platform.x11.selection import MAX_DIRECT_BYTES, SelectionClipboard, X11Selection  # noqa: E402

TEXT = "亲，您好～这款羽绒服今天下单明天发货 ✓"


@pytest.fixture
def conn(qapp, xvfb):
    connection = X11Connection(xvfb.display)
    yield connection
    connection.close()


@pytest.fixture
def selection(conn):
    sel = X11Selection(conn)
    yield sel
    sel.close()


def read(xvfb, conn, *args: str, timeout: float = 5.0) -> subprocess.CompletedProcess:
    """xclip -o in another process, while our connection answers it."""
    proc = subprocess.Popen(["xclip", "-o", "-selection", "clipboard", *args], env=xvfb.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        conn.drain()
        time.sleep(0.001)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def take(selection: X11Selection, text: str) -> None:
    selection.take(text)
    selection.conn.display.flush()


def test_another_program_reads_the_exact_text(xvfb, conn, selection):
    take(selection, TEXT)
    assert selection.owner_is_us()
    result = read(xvfb, conn)
    assert result.stdout.decode("utf-8") == TEXT
    assert selection.fetches == 1 and selection.first_fetch > 0


def test_targets_are_few_and_other_text_targets_still_convert(xvfb, conn, selection):
    take(selection, TEXT)
    targets = read(xvfb, conn, "-t", "TARGETS").stdout.decode().split()
    assert targets == ["UTF8_STRING"]
    assert read(xvfb, conn, "-t", "text/plain;charset=utf-8").stdout.decode("utf-8") == TEXT
    assert read(xvfb, conn, "-t", "TIMESTAMP").returncode == 0
    assert read(xvfb, conn, "-t", "x-kde-passwordManagerHint").returncode != 0  # not asked for
    assert selection.fetches == 1  # TARGETS and TIMESTAMP are not reads of the text


def test_password_hint_is_listed_when_asked_for(xvfb, conn, selection):
    """paste.hide_from_history: clipboard managers that honour KDE's hint skip our text."""
    selection.set_password_hint(True)
    take(selection, TEXT)
    assert read(xvfb, conn, "-t", "TARGETS").stdout.decode().split() == ["UTF8_STRING", "x-kde-passwordManagerHint"]
    assert read(xvfb, conn, "-t", "x-kde-passwordManagerHint").stdout == b"secret"
    assert read(xvfb, conn).stdout.decode("utf-8") == TEXT


def test_unknown_target_is_refused_not_answered_with_text(xvfb, conn, selection):
    take(selection, TEXT)
    result = read(xvfb, conn, "-t", "image/png")
    assert result.returncode != 0 and result.stdout == b""
    assert selection.fetches == 0


def test_losing_the_clipboard_is_noticed(xvfb, conn, selection):
    take(selection, TEXT)
    assert selection.holds(TEXT)
    subprocess.run(["xclip", "-i", "-selection", "clipboard"], input="用户复制的".encode(), env=xvfb.env(),
                   check=True, timeout=10, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 3
    while selection.owned and time.monotonic() < deadline:
        conn.drain()
        time.sleep(0.005)
    assert not selection.holds(TEXT)
    assert not selection.owner_is_us()


def test_a_second_take_replaces_the_text_and_resets_the_count(xvfb, conn, selection):
    take(selection, "第一条")
    assert read(xvfb, conn).stdout.decode("utf-8") == "第一条"
    take(selection, TEXT)
    assert selection.fetches == 0
    assert read(xvfb, conn).stdout.decode("utf-8") == TEXT


class _Inner(ClipboardAccess):
    """The Qt clipboard's part, recorded; reading it while we own the text would hang Qt."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.refuse = 0

    def snapshot(self):
        raise AssertionError("Qt must not be asked while our connection owns the clipboard")

    def text(self):
        raise AssertionError("Qt must not be asked while our connection owns the clipboard")

    def set_text(self, text: str) -> bool:
        self.calls.append(("set_text", text))
        return True

    def restore(self, snapshot) -> bool:
        if self.refuse:
            self.refuse -= 1
            return False
        self.calls.append(("restore", snapshot))
        return True


class _Snap:
    def __init__(self, empty: bool) -> None:
        self.empty = empty


def test_selection_clipboard_answers_reads_itself_while_it_owns(xvfb, conn, selection):
    inner = _Inner()
    clip = SelectionClipboard(inner, selection)
    assert clip.set_text(TEXT) is True
    conn.display.flush()
    snap = clip.snapshot()
    assert snap.formats == [("text/plain", TEXT.encode())]
    assert clip.text() == TEXT and clip.holds_text(TEXT)
    assert clip.fetch_state() == (0, 0.0)
    read(xvfb, conn)
    assert clip.fetch_state()[0] == 1


def test_restore_refused_keeps_our_text_then_succeeds(xvfb, conn, selection):
    inner = _Inner()
    clip = SelectionClipboard(inner, selection)
    clip.set_text(TEXT)
    inner.refuse = 1
    assert clip.restore(_Snap(False)) is False
    assert clip.holds_text(TEXT)  # still ours: PasteService retries
    assert clip.restore(_Snap(False)) is True
    assert not selection.owned


def test_restoring_an_empty_clipboard_gives_it_up(xvfb, conn, selection):
    clip = SelectionClipboard(_Inner(), selection)
    clip.set_text(TEXT)
    conn.display.flush()
    assert clip.restore(_Snap(True)) is True
    assert not selection.owner_is_us()
    assert read(xvfb, conn).returncode != 0  # nobody owns it: xclip reads nothing


def test_a_failed_paste_hands_the_text_to_qt(xvfb, conn, selection):
    inner = _Inner()
    clip = SelectionClipboard(inner, selection)
    clip.set_text(TEXT)
    clip.hand_over()
    assert inner.calls == [("set_text", TEXT)] and not selection.owned


def test_text_too_long_for_one_request_goes_through_qt(xvfb, conn, selection):
    inner = _Inner()
    clip = SelectionClipboard(inner, selection)
    long_text = "字" * (MAX_DIRECT_BYTES // 3 + 10)
    clip.set_text(long_text)
    assert inner.calls == [("set_text", long_text)] and not selection.owned


class _Ownership(ClipboardOwnership):
    def __init__(self) -> None:
        self.refreshes: list[bool] = []

    def refresh(self, flush: bool = True) -> None:
        self.refreshes.append(flush)


def test_qt_time_is_refreshed_when_the_text_is_read_not_with_the_chord(xvfb, conn, selection):
    """Qt's restore would be refused (its timestamp predates our ownership): the refresh goes out
    with our answer to the first read, not while the chat client is still asking."""
    ownership = _Ownership()
    clip = SelectionClipboard(_Inner(), selection, ownership)
    clip.set_text(TEXT)
    conn.display.flush()
    assert ownership.refreshes == []
    read(xvfb, conn)
    assert ownership.refreshes == [False]  # queued, sent with the answer
    read(xvfb, conn)
    assert ownership.refreshes == [False]  # once per paste
    assert clip.restore(_Snap(False)) is True


def test_restore_without_any_read_refreshes_first_and_asks_for_a_retry(xvfb, conn, selection):
    ownership = _Ownership()
    inner = _Inner()
    clip = SelectionClipboard(inner, selection, ownership)
    clip.set_text(TEXT)
    assert clip.restore(_Snap(False)) is False
    assert ownership.refreshes == [True] and inner.calls == []
    assert clip.restore(_Snap(False)) is True
