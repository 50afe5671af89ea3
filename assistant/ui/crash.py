"""Unexpected exceptions (bugs) end here: sys.excepthook and threading.excepthook.

The report is saved to <data dir>/crash/ and shown in a dialog that offers to copy it. It holds the
version, the platform and the traceback — never customer data: no local variables, and texts inside
exception messages and log lines (quoted strings, Chinese text, long numbers such as phone or order
numbers, e-mail addresses) are replaced by placeholders.
"""

from __future__ import annotations

import contextlib
import datetime
import faulthandler
import logging
import os
import platform
import re
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, Qt, QThread, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core import private
from .widgets import icons

log = logging.getLogger(__name__)
translate = QCoreApplication.translate

_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|“[^”\n]*”|‘[^’\n]*’|「[^」\n]*」")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_LONG_NUMBER = re.compile(r"\d{5,}")
LOG_TAIL_LINES = 40


def scrub(text: str) -> str:
    """Remove what could be customer data from a free text (exception message, log line)."""
    text = _EMAIL.sub("<email>", text)
    text = _QUOTED.sub(lambda m: f"<text:{len(m.group(0)) - 2}>", text)
    text = _CJK.sub(lambda m: f"<zh:{len(m.group(0))}>", text)
    return _LONG_NUMBER.sub("<number>", text)


def build_report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                 log_path: Path | None = None, thread_name: str | None = None) -> str:
    lines = [
        "kefu-assistant crash report",
        f"time: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"version: {__version__}",
        f"python: {platform.python_version()} ({sys.platform}, {platform.platform(terse=True)})",
        f"qt: {qVersion()} / PySide6 {pyside_version}",
        f"platform plugin: {QGuiApplication.platformName() if QGuiApplication.instance() else '-'}",
        f"thread: {thread_name or threading.current_thread().name}",
        "",
        "traceback (most recent call last):",
    ]
    for frame in traceback.extract_tb(tb):
        # Locals are never included; source lines are scrubbed too, in case a literal holds data.
        where = Path(frame.filename)
        short = "/".join(where.parts[-3:]) if len(where.parts) >= 3 else frame.filename
        lines.append(f"  {short}:{frame.lineno} in {frame.name}")
        if frame.line:
            lines.append(f"    {scrub(frame.line.strip())}")
    chain = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for n, item in enumerate(chain):
        prefix = "error" if n == 0 else "caused by"
        lines.append(f"{prefix}: {type(item).__module__}.{type(item).__qualname__}: {scrub(str(item))}")
    if log_path is not None and log_path.exists():
        try:
            tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
        except OSError:
            tail = []
        if tail:
            lines += ["", f"last {len(tail)} log lines (scrubbed):"] + [scrub(line) for line in tail]
    return "\n".join(lines) + "\n"


class CrashDialog(QDialog):
    def __init__(self, report: str, saved_to: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CrashDialog")
        self.report = report
        self.saved_to = saved_to
        self.setWindowTitle(translate("Crash", "客服助手遇到了问题"))
        self.setWindowIcon(icons.app_icon())
        self.resize(560, 420)
        layout = QVBoxLayout(self)
        head = QLabel(translate("Crash", "程序出现了意外错误。您的数据已经保存，可以继续使用；如果问题反复出现，请把下面的报告发给技术支持。"))
        head.setWordWrap(True)
        layout.addWidget(head)
        where = QLabel()
        where.setObjectName("Hint")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if saved_to is not None:
            where.setText(translate("Crash", "报告已保存（不含客户资料）：") + str(saved_to))
        else:
            where.setText(translate("Crash", "报告未能保存到文件，请用“复制报告”。"))
        layout.addWidget(where)
        self.text = QPlainTextEdit(report)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.text, 1)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton(icons.icon("copy"), translate("Crash", "复制报告"))
        self.copy_button.clicked.connect(self.copy_report)
        self.folder_button = QPushButton(translate("Crash", "打开所在文件夹"))
        self.folder_button.setEnabled(saved_to is not None)
        self.folder_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(saved_to.parent))) if saved_to else None)
        self.quit_button = QPushButton(translate("Crash", "退出程序"))
        self.quit_button.clicked.connect(self._quit)
        self.continue_button = QPushButton(translate("Crash", "继续使用"), objectName="Primary")
        self.continue_button.setDefault(True)
        self.continue_button.clicked.connect(self.accept)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.continue_button)
        layout.addLayout(buttons)

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report)
        self.copy_button.setText(translate("Crash", "已复制"))

    def _quit(self) -> None:
        self.reject()
        app = QCoreApplication.instance()
        if app is not None:
            app.exit(70)


class CrashHandler:
    """Saves a report and shows the dialog for every unexpected exception."""

    def __init__(self, crash_dir: Path, log_path: Path | None = None, show_dialog: bool = True) -> None:
        self.crash_dir = Path(crash_dir)
        self.log_path = log_path
        self.show_dialog = show_dialog
        self.dialogs: list[CrashDialog] = []
        self.last_report: str | None = None
        self.last_path: Path | None = None
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self._handling = False

    NATIVE = "native-crash.txt"

    def install(self) -> None:
        sys.excepthook = self.handle
        threading.excepthook = self._thread_hook
        self._enable_faulthandler()

    def uninstall(self) -> None:
        sys.excepthook = self._previous_hook
        threading.excepthook = self._previous_thread_hook
        self._disable_faulthandler()

    def _enable_faulthandler(self) -> None:
        """A native crash (a segfault in Qt, an abort) never reaches sys.excepthook: faulthandler
        writes every thread's Python stack (file and function names only, no values) into the crash
        folder instead. The file is appended to, so an earlier crash's trace is kept, and removed at
        a clean exit when nothing was written."""
        self._native: Any = None
        self._faulthandler_was_on = faulthandler.is_enabled()  # pytest's, for one
        try:
            private.make_dirs(self.crash_dir)
            fd = private.open_private(self.crash_dir / self.NATIVE, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            self._native = os.fdopen(fd, "a", encoding="utf-8")
            faulthandler.enable(self._native, all_threads=True)
        except OSError:
            log.warning("no native crash trace: the crash folder cannot be written")

    def _disable_faulthandler(self) -> None:
        native, self._native = getattr(self, "_native", None), None
        if native is None:
            return
        faulthandler.disable()
        if self._faulthandler_was_on and sys.__stderr__ is not None:
            faulthandler.enable(sys.__stderr__, all_threads=True)
        path = self.crash_dir / self.NATIVE
        with contextlib.suppress(OSError):
            empty = os.fstat(native.fileno()).st_size == 0
            native.close()
            if empty:
                path.unlink()

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        self.handle(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback,
                    thread_name=args.thread.name if args.thread else None)

    def save(self, report: str) -> Path | None:
        try:
            private.make_dirs(self.crash_dir)
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            path = self.crash_dir / f"crash-{stamp}.txt"
            private.write_text(path, report)  # 0600: a traceback may still show local values
            return path
        except OSError:
            log.exception("could not save the crash report")
            return None

    def handle(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
               thread_name: str | None = None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            if QCoreApplication.instance() is not None:
                QCoreApplication.exit(130)
            return
        log.critical("unexpected error: %s", exc_type.__name__, exc_info=(exc_type, exc, tb))
        try:
            report = build_report(exc_type, exc, tb, self.log_path, thread_name)
        except Exception:  # noqa: BLE001 - the handler itself must never raise
            report = "".join(traceback.format_exception_only(exc_type, exc))
        self.last_report = report
        self.last_path = self.save(report)
        app = QApplication.instance()
        on_gui_thread = app is not None and QThread.currentThread() is app.thread()
        if not self.show_dialog or self._handling:
            return
        if not on_gui_thread:
            return  # the worker delivers its errors to the GUI thread; other threads: saved and logged
        self._handling = True
        try:
            dialog = CrashDialog(report, self.last_path)
            self.dialogs.append(dialog)
            dialog.finished.connect(lambda *_: self.dialogs.remove(dialog) if dialog in self.dialogs else None)
            dialog.show()
            dialog.raise_()
        finally:
            self._handling = False


def install(crash_dir: Path, log_path: Path | None = None) -> CrashHandler:
    handler = CrashHandler(crash_dir, log_path)
    handler.install()
    return handler
