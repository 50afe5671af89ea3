"""A private session bus and a private fcitx5 (pinyin) for the Chinese-input end-to-end test and the
input-method benchmark. Nothing touches the user's own bus, config or input method: every child gets
the private bus address and temporary XDG folders.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.platform import inputmethod

from .xvfb import stop_process

TOOLS = ("dbus-daemon", "fcitx5", "fcitx5-remote", "libime_pinyindict")
PINYIN_ADDON = Path("/usr/share/fcitx5/addon/pinyin.conf")
INSTALL_HINT = "apt-get install dbus-daemon fcitx5 fcitx5-chinese-addons libime-bin"

# keyboard-us first, pinyin second: fcitx5 starts inactive and Ctrl+Space (its default trigger)
# switches to pinyin, as an agent does.
PROFILE = """[Groups/0]
Name=Default
Default Layout=us
DefaultIM=pinyin

[Groups/0/Items/0]
Name=keyboard-us
Layout=

[Groups/0/Items/1]
Name=pinyin
Layout=

[GroupOrder]
0=Default
"""
# Addons that want a tray, Wayland, a notification daemon or X selections: nothing here uses them.
DISABLED_ADDONS = "clipboard,wayland,waylandim,notificationitem,notifications,kimpanel,cloudpinyin"


def missing_tools() -> list[str]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not PINYIN_ADDON.exists():
        missing.append("fcitx5-chinese-addons (pinyin)")
    return missing


@dataclass
class SessionBus:
    process: subprocess.Popen
    address: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)
        with contextlib.suppress(OSError):
            if self.process.stdout is not None:
                self.process.stdout.close()


def start_session_bus() -> SessionBus:
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    address = proc.stdout.readline().decode().strip()
    if not address:
        proc.kill()
        proc.wait(5)
        raise AssertionError("dbus-daemon did not print its address")
    return SessionBus(proc, address)


@dataclass
class Fcitx5:
    process: subprocess.Popen
    env: dict[str, str]
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def state(self) -> str:
        """fcitx5-remote: "2" = the focused field is in pinyin, "1" = inactive, "0" = no field."""
        result = subprocess.run(["fcitx5-remote"], env=self.env, capture_output=True, text=True, timeout=10)
        return result.stdout.strip()

    def stop(self) -> None:
        stop_process(self.process, grace=10)


def start_fcitx5(env: dict[str, str], workdir: Path, words: dict[str, str], timeout: float = 30.0,
                 ibus_frontend: bool = True) -> Fcitx5:
    """fcitx5 with keyboard-us + pinyin, its config in workdir, `words` (word -> pinyin like
    "cui'dan") as an extra pinyin dictionary. Returns once pinyin is loaded and fcitx5 (and, unless
    switched off, its IBus frontend) owns its names on the bus in env["DBUS_SESSION_BUS_ADDRESS"]."""
    env = dict(env)
    for name, folder in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache")):
        env[name] = str(workdir / folder)
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "fcitx5").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "fcitx5" / "profile").write_text(PROFILE, encoding="utf-8")
    dictionaries = workdir / "data" / "fcitx5" / "pinyin" / "dictionaries"
    dictionaries.mkdir(parents=True, exist_ok=True)
    source = workdir / "words.txt"
    source.write_text("".join(f"{word} {pinyin} 0\n" for word, pinyin in words.items()), encoding="utf-8")
    subprocess.run(["libime_pinyindict", str(source), str(dictionaries / "kefu.dict")], check=True, timeout=30,
                   capture_output=True)
    log_path = workdir / "fcitx5.log"
    with open(log_path, "wb") as log:
        disabled = DISABLED_ADDONS + ("" if ibus_frontend else ",ibusfrontend")
        proc = subprocess.Popen(["fcitx5", "-D", f"--disable={disabled}"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    fcitx = Fcitx5(proc, env, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"fcitx5 exited ({proc.returncode}):\n{fcitx.log_text()[-3000:]}")
        names = inputmethod.session_bus_names(env) or set()
        wanted = {inputmethod.FCITX5_NAME, *([inputmethod.IBUS_PORTAL_NAME] if ibus_frontend else [])}
        if (wanted <= names
                and "Loaded addon pinyin" in fcitx.log_text()):
            return fcitx
        time.sleep(0.1)
    fcitx.stop()
    raise AssertionError(f"fcitx5 not ready within {timeout}s:\n{fcitx.log_text()[-3000:]}")
