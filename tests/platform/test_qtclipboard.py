"""QtClipboard on the offscreen platform: every format snapshotted and restored; transient marks."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from assistant.platform.base import ClipboardOwnership
from assistant.platform.qtclipboard import WINDOWS_EXCLUDE_FORMATS, QtClipboard, transient_formats


def _put(cb, formats: dict[str, bytes]) -> None:
    mime = QMimeData()
    for fmt, data in formats.items():
        mime.setData(fmt, data)
    cb.setMimeData(mime)


def test_snapshot_and_restore_all_formats(qapp):
    cb = QGuiApplication.clipboard()
    original = {"text/plain": "旧的文字".encode(), "text/html": "<b>旧</b>".encode(),
                "application/x-qianniu-private": b"\x00\x01\x02"}
    _put(cb, original)
    clip = QtClipboard(cb, platform="linux")
    snap = clip.snapshot()
    clip.set_text("亲，在的～")
    assert cb.text() == "亲，在的～"
    assert clip.holds_text("亲，在的～")
    clip.restore(snap)
    mime = cb.mimeData()
    for fmt, data in original.items():
        assert bytes(mime.data(fmt).data()) == data
    assert clip.text() == "旧的文字"


def test_holds_text_false_after_another_copy(qapp):
    cb = QGuiApplication.clipboard()
    clip = QtClipboard(cb, platform="linux")
    clip.set_text("回复")
    cb.setText("用户自己复制的")
    assert not clip.holds_text("回复")


def test_empty_clipboard_round_trip(qapp):
    cb = QGuiApplication.clipboard()
    cb.clear()
    clip = QtClipboard(cb, platform="linux")
    snap = clip.snapshot()
    assert snap.empty
    clip.set_text("回复")
    clip.restore(snap)
    assert cb.text() == ""


def test_repeated_snapshot_reuses_what_we_restored(qapp):
    cb = QGuiApplication.clipboard()
    _put(cb, {"text/plain": b"orig"})
    clip = QtClipboard(cb, platform="linux")
    snap = clip.snapshot()
    clip.set_text("a")
    clip.restore(snap)
    assert clip.snapshot() is snap
    cb.setText("changed by the user")
    assert clip.snapshot() is not snap


def test_windows_marks_our_text_transient(qapp):
    assert set(transient_formats("win32")) == set(WINDOWS_EXCLUDE_FORMATS)
    assert any("ExcludeClipboardContentFromMonitorProcessing" in f for f in transient_formats("win32"))
    cb = QGuiApplication.clipboard()
    clip = QtClipboard(cb, platform="win32")
    clip.set_text("回复")
    formats = cb.mimeData().formats()
    for fmt in WINDOWS_EXCLUDE_FORMATS:
        assert fmt in formats
    # ...and a snapshot never carries our own marks back as the user's content
    assert all(fmt not in WINDOWS_EXCLUDE_FORMATS for fmt, _ in clip.snapshot().formats)


def test_no_marks_on_macos():
    assert transient_formats("darwin") == {}


class FakeOwnership(ClipboardOwnership):
    def __init__(self, answers):
        self.answers = list(answers)
        self.refreshed = 0
        self.window = None

    def owned(self):
        return self.answers.pop(0) if self.answers else True

    def refresh(self, flush: bool = True) -> None:
        self.refreshed += 1


def test_set_text_reports_what_the_server_says(qapp):
    cb = QGuiApplication.clipboard()
    ownership = FakeOwnership([False, True])

    def factory(window_id):
        ownership.window = window_id
        return ownership

    clip = QtClipboard(cb, platform="linux", ownership_factory=factory, verify_with_server=True)
    assert ownership.window  # a native window id of ours, for the resource-id check
    assert clip.set_text("回复") is False
    clip.refresh()
    assert ownership.refreshed == 1
    assert clip.set_text("回复") is True
    clip.release_tracking()


def test_fetches_by_others_are_counted_ours_are_not(qapp):
    cb = QGuiApplication.clipboard()
    clip = QtClipboard(cb, platform="linux")
    clip.set_text("亲，在的～")
    assert clip.fetch_state()[0] == 0
    assert clip.holds_text("亲，在的～")  # our own check does not count as the chat client reading
    assert clip.fetch_state()[0] == 0
    assert bytes(cb.mimeData().data("text/plain").data()).decode() == "亲，在的～"  # a reader
    fetches, first = clip.fetch_state()
    assert fetches >= 1 and first > 0
    clip.release_tracking()


def test_release_tracking_leaves_a_plain_copy(qapp):
    cb = QGuiApplication.clipboard()
    clip = QtClipboard(cb, platform="linux")
    clip.set_text("留给客服手动粘贴")
    clip.release_tracking()
    assert cb.text() == "留给客服手动粘贴"
    assert type(cb.mimeData()).__name__ == "QMimeData"


def test_qt_refusal_warning_is_noticed_and_other_messages_pass_on(qapp, monkeypatch):
    from PySide6.QtCore import qInstallMessageHandler, qWarning

    cb = QGuiApplication.clipboard()
    clip = QtClipboard(cb, platform="linux")
    passed = []

    def outer(mode, context, message):
        passed.append(message)

    previous = qInstallMessageHandler(outer)
    try:
        real = cb.setMimeData

        def refusing(mime, *args):
            real(mime, *args)
            qWarning("QXcbClipboard::setMimeData: Cannot set X11 selection owner")
            qWarning("something else")

        monkeypatch.setattr(cb, "setMimeData", refusing)
        assert clip.set_text("回复") is False
        monkeypatch.setattr(cb, "setMimeData", real)
        assert clip.set_text("回复") is True
    finally:
        qInstallMessageHandler(previous)
    assert passed == ["something else"]  # only the refusal was swallowed
    clip.release_tracking()
