"""Known errors become a non-modal message in the panel; bugs reach the crash dialog, whose saved
report carries no customer data and can be copied."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QGuiApplication

from assistant.errors import StoreError, ValidationError
from assistant.ui.crash import CrashDialog, CrashHandler, build_report, scrub


def test_a_known_error_from_the_worker_shows_in_the_message_bar(qtbot, panel):
    def fails(store):
        raise StoreError("数据库正被其他程序占用", "The database is locked")

    panel.worker.submit(fails)
    qtbot.waitUntil(panel.message_bar.isVisible)
    assert panel.message_bar.text() == "数据库正被其他程序占用"
    assert panel.message_bar.level() == "error"
    assert panel.isVisible() and panel.search_box.isEnabled()


def test_a_validation_error_is_a_warning_that_can_be_dismissed(qtbot, panel):
    panel.show_known_error(ValidationError("快捷键已被占用", "Hotkey taken", field="hotkey"))
    assert panel.message_bar.level() == "warning"
    panel.message_bar._close.click()
    assert not panel.message_bar.isVisible()


def test_controller_messages_follow_the_language(qtbot, panel):
    from assistant.ui.widgets import i18n

    panel.show_message("已复制，请按 Ctrl+V", "Copied; press Ctrl+V")
    assert panel.message_bar.text() == "已复制，请按 Ctrl+V"
    i18n.install("en")
    qtbot.waitUntil(lambda: panel.message_bar.text() == "Copied; press Ctrl+V")


def test_a_bug_in_a_job_reaches_the_excepthook(qtbot, worker, monkeypatch):
    caught = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: caught.append(info))

    def buggy(store):
        return 1 / 0

    worker.submit(buggy, lambda value: caught.append("delivered"))
    qtbot.waitUntil(lambda: bool(caught))
    assert caught[0][0] is ZeroDivisionError


def test_scrub_removes_customer_text():
    text = scrub("KeyError: '王小明' phone 13800138000 mail li@example.com 订单 “急” ok")
    assert "王小明" not in text and "13800138000" not in text and "li@example.com" not in text
    assert "订单" not in text and "急" not in text
    assert "KeyError" in text and "ok" in text


def test_crash_report_is_saved_without_customer_data_and_can_be_copied(qtbot, tmp_path):
    log = tmp_path / "kefu.log"
    log.write_text("2026 INFO assistant: pasted reply 12 for 买家张三 13912345678\n", encoding="utf-8")
    handler = CrashHandler(tmp_path / "crash", log, show_dialog=True)
    try:
        customer = {"name": "王小明", "phone": "13800138000"}
        raise ValueError(f"cannot star {customer['name']} {customer['phone']}")
    except ValueError:
        handler.handle(*sys.exc_info())
    assert handler.last_path is not None and handler.last_path.is_file()
    saved = handler.last_path.read_text(encoding="utf-8")
    for secret in ("王小明", "13800138000", "张三", "13912345678"):
        assert secret not in saved
    assert "ValueError" in saved and "test_errors.py" in saved and "version:" in saved
    assert "pasted reply 12" in saved
    assert len(handler.dialogs) == 1
    dialog = handler.dialogs[0]
    qtbot.addWidget(dialog)
    assert isinstance(dialog, CrashDialog) and dialog.isVisible()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == saved
    assert dialog.copy_button.text() == "已复制"
    dialog.accept()


def test_report_of_a_chained_exception_names_the_cause():
    try:
        try:
            raise OSError("disk")
        except OSError as inner:
            raise RuntimeError("save failed") from inner
    except RuntimeError:
        report = build_report(*sys.exc_info())
    assert "RuntimeError: save failed" in report and "caused by: builtins.OSError: disk" in report


def test_install_and_uninstall_the_hooks(tmp_path):
    handler = CrashHandler(tmp_path, show_dialog=False)
    before = sys.excepthook
    handler.install()
    try:
        assert sys.excepthook == handler.handle
    finally:
        handler.uninstall()
    assert sys.excepthook is before


def test_many_signal_emits_do_not_exhaust_true(qtbot):
    """PySide6 6.12.0 drops a reference to True per emit; qtfix.guard() (applied in conftest and
    app.run) keeps a long-running panel alive. 20 000 emits is a day of typing for the panel."""
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        ping = Signal(int)

    emitter = Emitter()
    for n in range(20_000):
        emitter.ping.emit(n)
    assert sys.getrefcount(True) > 1000


NATIVE_CRASH = """
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from assistant.ui import crash
app = QApplication([])
handler = crash.install(Path(sys.argv[1]))
if sys.argv[2] == "crash":
    import faulthandler
    faulthandler._sigsegv()  # what a segfault inside Qt looks like to Python
handler.uninstall()
"""


@pytest.mark.parametrize("how", ["crash", "clean"])
def test_a_native_crash_leaves_a_trace_in_the_crash_folder(tmp_path, how):
    """A segfault never reaches sys.excepthook: faulthandler writes the stacks into crash/ (0600);
    a clean exit leaves no empty file behind."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", NATIVE_CRASH, str(tmp_path / "crash"), how], env=env,
                          capture_output=True, text=True, timeout=60)
    native = tmp_path / "crash" / "native-crash.txt"
    if how == "clean":
        assert proc.returncode == 0, proc.stderr
        assert not native.exists()
        return
    assert proc.returncode != 0
    text = native.read_text()
    assert "Fatal Python error: Segmentation fault" in text and "<module>" in text
    assert native.stat().st_mode & 0o777 == 0o600
