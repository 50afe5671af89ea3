"""Start a private Xvfb for end-to-end tests and benchmarks.

`-displayfd` makes Xvfb pick a free display number and write it to a pipe. Read the number up
to its newline BEFORE closing our end of the pipe: closing early makes Xvfb die with "Cannot write
display number to fd" (seen about 40% of the time on this kind of machine).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass


class XvfbError(RuntimeError):
    pass


@dataclass
class Xvfb:
    display: str  # ":12"
    process: subprocess.Popen
    log: object = None  # Xvfb's stderr (a temporary file)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for children that talk to this server only (never the user's session)."""
        env = dict(os.environ if base is None else base)
        env["DISPLAY"] = self.display
        env["QT_QPA_PLATFORM"] = "xcb"
        env["XDG_SESSION_TYPE"] = "x11"
        for name in ("WAYLAND_DISPLAY", "XAUTHORITY", "KEFU_HOTKEY_BACKEND"):
            env.pop(name, None)
        return env

    def stop(self) -> None:
        stop_process(self.process, grace=5)
        if self.log is not None:
            self.log.close()


def stop_process(process: subprocess.Popen, grace: float = 10) -> None:
    """Terminate, wait `grace` seconds, then kill: a test never leaves a child behind."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def start_xvfb(screen: str = "1280x800x24", timeout: float = 10.0) -> Xvfb:
    exe = shutil.which("Xvfb")
    if exe is None:
        raise XvfbError("Xvfb is not installed (apt-get install xvfb)")
    # stderr goes to a file: a pipe nobody reads could fill, and a closed one kills Xvfb (SIGPIPE).
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [exe, "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp", "-noreset",
             "+extension", "XTEST", "+extension", "XFIXES"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=log)
    finally:
        os.close(write_fd)  # our copy of the write end; Xvfb keeps its own
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise XvfbError("Xvfb did not report its display number in time")
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 64)
            if not chunk:  # Xvfb exited before writing its number
                proc.wait(5)
                log.seek(0)
                err = log.read().decode(errors="replace")
                raise XvfbError(f"Xvfb exited (code {proc.returncode}): {err.strip()[-500:]}")
            data += chunk
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        log.close()
        raise
    finally:
        os.close(read_fd)  # only now, after the full line was read
    return Xvfb(f":{int(data.strip())}", proc, log)


@contextlib.contextmanager
def xvfb(screen: str = "1280x800x24") -> Iterator[Xvfb]:
    server = start_xvfb(screen)
    try:
        yield server
    finally:
        server.stop()
