"""Chinese input on Linux: point Qt at the input method that is really running, before QApplication.

PySide6 wheels ship only the `ibus`, `compose` and `qtvirtualkeyboard` input-context plugins. An
fcitx/fcitx5 desktop sets QT_IM_MODULE=fcitx; Qt finds no such plugin, falls back to `compose`, and
the agent cannot type Chinese into the panel. What works with the wheel's Qt (measured on Debian 12,
fcitx5 5.0.21, PySide6 6.12, Xvfb; see README "Chinese input on Linux"):

- fcitx5's IBus frontend (addon `ibusfrontend`, part of fcitx5 itself and on by default) owns
  org.freedesktop.portal.IBus on the session bus. Qt's own ibus plugin talks to that name when
  IBUS_USE_PORTAL is set: QT_IM_MODULE=ibus + IBUS_USE_PORTAL=1 types 催单 into a Qt 6.12 field.
- Without IBUS_USE_PORTAL, Qt's ibus plugin declares itself invalid unless an `ibus-daemon`
  executable is on PATH - which an fcitx-only desktop does not have.
- Debian's fcitx5-frontend-qt6 (built for Qt 6.4) does not load into the wheel's Qt: undefined
  symbol QWindowSystemInterface::handleExtendedKeyEvent, version Qt_6_PRIVATE_API.
- Qt 6 has no XIM plugin, so QT_IM_MODULE=xim is no way out either.

No Qt import here (`kefu doctor` uses it) and no subprocess: the running input method is read from
the session bus with one ListNames call over the bus socket (a few milliseconds), and the
environment variables a desktop sets for it. Never logs anything the agent types.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import socket
import sys
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from jeepney import HeaderFields, MessageType, Parser, new_method_call
from jeepney.auth import BEGIN, AuthenticationError, Authenticator
from jeepney.bus import get_connectable_addresses
from jeepney.bus_messages import message_bus

log = logging.getLogger(__name__)

FCITX5_NAME = "org.fcitx.Fcitx5"
FCITX4_PREFIX = "org.fcitx.Fcitx-"  # fcitx 4 (fcitx5's fcitx4 frontend registers it too)
IBUS_NAME = "org.freedesktop.IBus"
IBUS_PORTAL_NAME = "org.freedesktop.portal.IBus"
HINT_VARIABLES = ("QT_IM_MODULE", "QT_IM_MODULES", "XMODIFIERS", "GTK_IM_MODULE", "INPUT_METHOD")
BUS_TIMEOUT = 0.3  # seconds for the whole bus query: a wedged bus must not hold up the panel


# ---------------------------------------------------------------- the session bus

def _bus_addresses(env: Mapping[str, str]) -> list[str]:
    """Socket addresses (abstract ones start with NUL) from DBUS_SESSION_BUS_ADDRESS, or the
    systemd default $XDG_RUNTIME_DIR/bus."""
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address and env.get("XDG_RUNTIME_DIR"):
        path = os.path.join(env["XDG_RUNTIME_DIR"], "bus")
        address = f"unix:path={path}" if os.path.exists(path) else ""
    out: list[str] = []
    for entry in address.split(";"):
        if not entry.startswith("unix:"):
            continue
        with contextlib.suppress(RuntimeError, ValueError):  # a malformed entry: try the next
            out.extend(get_connectable_addresses(entry))
    return out


def session_bus_names(env: Mapping[str, str] | None = None, timeout: float = BUS_TIMEOUT) -> set[str] | None:
    """Well-known names on the session bus (org.freedesktop.DBus.ListNames), or None when no
    session bus answers in `timeout` seconds.

    jeepney's sans-I/O parts (auth, message building and parsing) over our own socket: its
    blocking connection says Hello with no time limit, and a wedged bus must not hold up start-up.
    """
    env = os.environ if env is None else env
    deadline = time.monotonic() + timeout
    for address in _bus_addresses(env):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

        def recv(sock: socket.socket = sock) -> bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("session bus did not answer in time")
            sock.settimeout(remaining)
            data = sock.recv(65536)
            if not data:
                raise ConnectionError("session bus closed the connection")
            return data

        try:
            sock.settimeout(timeout)
            sock.connect(address)
            auth = Authenticator()  # sends the leading NUL byte itself
            for request in auth:
                sock.sendall(request)
                auth.feed(recv())
            hello = new_method_call(message_bus, "Hello")
            names_call = new_method_call(message_bus, "ListNames")
            sock.sendall(BEGIN + hello.serialise(serial=1) + names_call.serialise(serial=2))
            parser = Parser()
            while True:
                parser.add_data(recv())
                for msg in iter(parser.get_next_message, None):
                    if msg.header.fields.get(HeaderFields.reply_serial) != 2:
                        continue  # Hello's reply, NameAcquired
                    if msg.header.message_type != MessageType.method_return:
                        raise ConnectionError("ListNames refused")
                    return {n for n in msg.body[0] if not n.startswith(":")}
        except (OSError, AuthenticationError, ValueError) as exc:  # TimeoutError is an OSError
            log.debug("session bus %r: %s", address[:60], exc)
        finally:
            sock.close()
    return None


# ---------------------------------------------------------------- what runs, what Qt has

@dataclass(frozen=True)
class Detection:
    running: str  # "fcitx5" | "fcitx" | "ibus" | "" - seen on the session bus
    configured: str  # what the desktop's variables name ("fcitx", "ibus", ...) or ""
    bus: bool  # a session bus answered
    ibus_portal: bool  # org.freedesktop.portal.IBus is owned (fcitx5's IBus frontend, or ibus)
    ibus_daemon: bool = False  # an `ibus-daemon` on PATH: Qt's ibus plugin needs it unless in portal mode
    hints: dict[str, str] = field(default_factory=dict)  # the relevant variables that are set

    def summary(self) -> str:
        if not self.bus:
            seen = "no session bus"
        elif self.running:
            seen = f"{self.running} running" + (" (IBus frontend on the session bus)" if self.ibus_portal
                                                and self.running == "fcitx5" else "")
        else:
            seen = "no input method on the session bus"
        hints = ", ".join(f"{k}={v}" for k, v in self.hints.items())
        return seen + (f"; {hints}" if hints else "")


def detect(env: Mapping[str, str] | None = None, names: set[str] | None | bool = True) -> Detection:
    """names: the session bus's names (None: no bus); True (default) asks the bus."""
    env = os.environ if env is None else env
    if names is True:
        names = session_bus_names(env)
    bus_names: set[str] = set(names) if isinstance(names, set) else set()
    if FCITX5_NAME in bus_names:
        running = "fcitx5"
    elif IBUS_NAME in bus_names:
        running = "ibus"
    elif any(n.startswith(FCITX4_PREFIX) for n in bus_names):
        running = "fcitx"
    else:
        running = ""
    hints = {k: env[k] for k in HINT_VARIABLES if env.get(k)}
    configured = ""
    for value in (env.get("XMODIFIERS", "").partition("@im=")[2], env.get("INPUT_METHOD", ""),
                  env.get("GTK_IM_MODULE", ""), env.get("QT_IM_MODULE", "")):
        value = value.strip().lower()
        if value.startswith("fcitx"):
            configured = "fcitx"
            break
        if value.startswith("ibus"):
            configured = "ibus"
            break
    return Detection(running, configured, isinstance(names, set), IBUS_PORTAL_NAME in bus_names,
                     shutil.which("ibus-daemon", path=env.get("PATH")) is not None, hints)


def _plugin_keys(filename: str) -> set[str]:
    stem = filename[3:] if filename.startswith("lib") else filename
    stem = stem.split(".")[0]
    for suffix in ("platforminputcontextplugin", "plugin"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    # fcitx5-qt's plugin answers to both keys
    return {"fcitx", "fcitx5"} if stem.startswith("fcitx") else {stem.lower()}


def available_modules(env: Mapping[str, str] | None = None) -> set[str]:
    """Input-context keys this Qt can load: the wheel's plugins plus any in QT_PLUGIN_PATH (found by
    file name, without importing Qt)."""
    env = os.environ if env is None else env
    dirs = []
    spec = importlib.util.find_spec("PySide6")
    for location in (spec.submodule_search_locations or []) if spec else []:
        dirs.append(Path(location) / "Qt" / "plugins")
    dirs += [Path(p) for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    keys = {"none"}  # Qt's own word for "no input method"
    for folder in dirs:
        try:
            names = os.listdir(folder / "platforminputcontexts")
        except OSError:
            continue
        for name in names:
            keys |= _plugin_keys(name)
    return keys


# ---------------------------------------------------------------- the decision

@dataclass
class Decision:
    detection: Detection
    action: str  # "set" | "kept" | "nothing"
    reason: str
    set_env: dict[str, str] = field(default_factory=dict)
    warning: str = ""  # English; warning_zh for the panel and the CLI
    warning_zh: str = ""
    previous: dict[str, str | None] = field(default_factory=dict)  # what set_env replaced

    def summary(self) -> str:
        what = " ".join(f"{k}={v}" for k, v in self.set_env.items())
        return (f"set {what}: " if what else "") + self.reason

    def as_dict(self) -> dict:
        return {"detected": self.detection.summary(), "action": self.action, "did": self.summary(),
                **({"warning": f"{self.warning} / {self.warning_zh}"} if self.warning else {})}


def _qt_platform(env: Mapping[str, str]) -> str:
    qpa = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip().lower()
    if qpa:
        return qpa
    session = env.get("XDG_SESSION_TYPE", "").lower()
    if session == "wayland" or (env.get("WAYLAND_DISPLAY") and session != "x11"):
        return "wayland"
    return "xcb" if env.get("DISPLAY") else ""


def decide(env: Mapping[str, str], found: Detection, modules: set[str], platform: str | None = None
           ) -> Decision:
    """What to set, pure: env is read, never changed."""
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return Decision(found, "nothing", "not Linux: Qt uses the system's input method")
    qpa = _qt_platform(env)
    if qpa != "xcb":
        why = {"wayland": "Wayland: Qt uses the compositor's text-input", "": "no X display"}
        return Decision(found, "nothing", why.get(qpa, f"QT_QPA_PLATFORM={qpa}") + ", nothing changed")
    requested = [m.strip().lower() for m in (env.get("QT_IM_MODULES") or env.get("QT_IM_MODULE") or "")
                 .split(";") if m.strip()]
    usable = [m for m in requested if m.split(":")[0] in modules]
    variable = "QT_IM_MODULES" if env.get("QT_IM_MODULES") else "QT_IM_MODULE"
    if usable:
        kept = f"{variable}={env[variable]} is set and this Qt has it: kept"
        if (usable[0].startswith("ibus") and found.ibus_portal and not found.ibus_daemon
                and env.get("IBUS_USE_PORTAL") is None):
            return Decision(found, "set", kept + "; without ibus-daemon Qt's ibus plugin only works through "
                            "the IBus portal", {"IBUS_USE_PORTAL": "1"})
        return Decision(found, "kept", kept)
    missing = f" ({variable}={env[variable]} names no plugin this Qt has)" if requested else ""
    target = {"QT_IM_MODULE": "ibus"}
    if env.get("QT_IM_MODULES"):
        target["QT_IM_MODULES"] = "ibus"  # it wins over QT_IM_MODULE in Qt >= 6.8
    if found.running == "fcitx5" or (found.running == "fcitx" and found.ibus_portal):
        if found.ibus_portal:
            return Decision(found, "set", f"{found.running} has no plugin in PySide6's Qt{missing}; its IBus "
                            "frontend answers on the session bus, so Qt's ibus plugin talks to it",
                            {**target, "IBUS_USE_PORTAL": "1"})
        return Decision(found, "nothing", f"{found.running} runs without its IBus frontend{missing}",
                        warning="fcitx5's IBus frontend is off: enable the addon 'IBus Frontend' in fcitx5's "
                                "configuration and restart kefu, or Chinese cannot be typed in the panel",
                        warning_zh="fcitx5 的 IBus 前端（IBus Frontend）未启用，面板里无法输入中文：请在 fcitx5 "
                                   "设置的附加组件中启用它，然后重启客服助手。")
    if found.running == "fcitx":
        return Decision(found, "nothing", f"fcitx 4 runs{missing}",
                        warning="fcitx 4 cannot reach Qt 6 programs (no fcitx plugin in PySide6, no XIM in "
                                "Qt 6): switch to fcitx5 (apt install fcitx5 fcitx5-chinese-addons)",
                        warning_zh="fcitx 4 无法向 Qt 6 程序输入中文：请改用 fcitx5"
                                   "（apt install fcitx5 fcitx5-chinese-addons）。")
    if found.running == "ibus":
        return Decision(found, "set", f"ibus is running{missing}", target)
    if found.configured == "fcitx" and found.bus:
        return Decision(found, "nothing", f"fcitx is configured but not running{missing}",
                        warning="fcitx is configured but not on the session bus: start fcitx5 before kefu",
                        warning_zh="已配置 fcitx，但它没有运行：请先启动 fcitx5，再启动客服助手。")
    return Decision(found, "nothing", "no input method to connect to" + missing)


# ---------------------------------------------------------------- for app.py and kefu doctor

def apply(env: MutableMapping[str, str] | None = None) -> Decision:
    """Detect and set the variables Qt reads when QApplication starts. Call before QApplication;
    call restore() once it exists, so programs kefu starts see the desktop's own settings."""
    env = os.environ if env is None else env
    decision = decide(env, detect(env), available_modules(env))
    for key, value in decision.set_env.items():
        decision.previous[key] = env.get(key)
        env[key] = value
    log.info("input method: %s; %s", decision.detection.summary(), decision.summary())
    if decision.warning:
        log.warning("input method: %s", decision.warning)
    return decision


def restore(decision: Decision, env: MutableMapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    for key, value in decision.previous.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value


def describe(env: Mapping[str, str] | None = None) -> dict:
    """For `kefu doctor`: what is running and what the panel does about it at start."""
    env = os.environ if env is None else env
    return decide(env, detect(env), available_modules(env)).as_dict()
