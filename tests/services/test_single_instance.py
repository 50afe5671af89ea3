"""One panel per data folder: a second launch makes the first come forward, a lock left by a dead
process does not block the next start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

from assistant.services import single_instance
from assistant.services.single_instance import SingleInstance

SECOND = textwrap.dedent("""
    import sys
    from pathlib import Path
    from PySide6.QtCore import QCoreApplication
    from assistant.services.single_instance import SingleInstance
    app = QCoreApplication([])
    other = SingleInstance(Path(sys.argv[1]))
    if other.acquire():
        print("primary")
    else:
        print("notified" if other.notify_primary() else "no answer")
""")


def run_second(data_dir) -> str:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", SECOND, str(data_dir)], capture_output=True, text=True, env=env,
                          timeout=60, check=True).stdout.strip()


def test_second_launch_asks_the_first_to_show_itself(qtbot, tmp_path):
    first = SingleInstance(tmp_path)
    assert first.acquire()
    try:
        with qtbot.waitSignal(first.activate_requested, timeout=20000):
            proc = subprocess.Popen([sys.executable, "-c", SECOND, str(tmp_path)], stdout=subprocess.PIPE,
                                    text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        out, _ = proc.communicate(timeout=30)
        assert out.strip() == "notified"
        # In the same process too: the lock is held.
        assert not SingleInstance(tmp_path).acquire()
    finally:
        first.release()
    assert run_second(tmp_path) == "primary"


def test_a_lock_left_by_a_dead_process_is_recovered(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "panel.lock").write_text(f"{dead.pid}\n{sys.executable}\n{socket.gethostname()}\n")
    instance = SingleInstance(tmp_path)
    try:
        assert instance.acquire()
        assert instance.listening
    finally:
        instance.release()


def test_different_data_folders_are_different_instances(qtbot, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    one, two = SingleInstance(a), SingleInstance(b)
    try:
        assert one.acquire() and two.acquire()
        shown: list[str] = []
        two.activate_requested.connect(lambda: shown.append("b"))
        with qtbot.waitSignal(one.activate_requested, timeout=20000):
            proc = subprocess.Popen([sys.executable, "-c", SECOND, str(a)], stdout=subprocess.PIPE, text=True,
                                    env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        out, _ = proc.communicate(timeout=30)
        assert out.strip() == "notified"
        qtbot.wait(100)
        assert shown == []
    finally:
        one.release()
        two.release()


def test_an_unanswered_request_is_withdrawn(tmp_path, monkeypatch):
    """The folder is locked but nobody answers (a hung primary): the launch gives up after the timeout
    and leaves no request behind that would make the next start jump forward."""
    monkeypatch.setattr(single_instance, "CONNECT_TIMEOUT_MS", 200)
    second = SingleInstance(tmp_path)
    assert not second.notify_primary()
    assert list((tmp_path / single_instance.REQUESTS_DIR).iterdir()) == []


def test_the_request_folder_is_private(tmp_path):
    instance = SingleInstance(tmp_path)
    try:
        assert instance.acquire()
        if os.name == "posix":
            assert (tmp_path / single_instance.REQUESTS_DIR).stat().st_mode & 0o077 == 0
    finally:
        instance.release()


def test_a_second_launch_waits_for_a_primary_that_listens_after_its_first_frame(qtbot, tmp_path):
    """The panel takes the lock before its first frame and listens after it (issue 17): a launch in
    between retries its connection instead of reporting a hung instance."""
    first = SingleInstance(tmp_path)
    assert first.acquire(listen=False) and not first.listening
    try:
        proc = subprocess.Popen([sys.executable, "-c", SECOND, str(tmp_path)], stdout=subprocess.PIPE,
                                text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        qtbot.wait(800)  # the second launch is up and retrying by now
        with qtbot.waitSignal(first.activate_requested, timeout=20000):
            first.listen()
        out, _ = proc.communicate(timeout=30)
        assert out.strip() == "notified"
    finally:
        first.release()
