"""QtClipboard on the offscreen platform: every format snapshotted and restored; transient marks."""

from __future__ import annotations

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

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
