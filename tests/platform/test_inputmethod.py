"""Which input method runs and what kefu sets for Qt (assistant/platform/inputmethod.py), without Qt.
The real thing - fcitx5 typing 催单 into the panel - is tests/e2e/test_e2e_chinese_input.py."""

from __future__ import annotations

import json
import socket

import pytest

from assistant import cli
from assistant.platform import inputmethod as im
from tests.helpers import desktop, imsession

WHEEL = {"ibus", "compose", "qtvirtualkeyboard", "none"}  # what PySide6's wheel ships
X11 = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}
FCITX_DESKTOP = {**X11, "QT_IM_MODULE": "fcitx", "GTK_IM_MODULE": "fcitx", "XMODIFIERS": "@im=fcitx"}
FCITX5_BUS = {im.FCITX5_NAME, im.IBUS_NAME, im.IBUS_PORTAL_NAME, "org.fcitx.Fcitx-0"}


def decide(env, names, modules=WHEEL):
    return im.decide(env, im.detect(env, names), modules, "linux")


def test_fcitx5_desktop_gets_qt_ibus_plugin_through_the_portal():
    decision = decide(FCITX_DESKTOP, FCITX5_BUS)
    assert decision.detection.running == "fcitx5" and decision.detection.configured == "fcitx"
    assert decision.set_env == {"QT_IM_MODULE": "ibus", "IBUS_USE_PORTAL": "1"}
    assert "QT_IM_MODULE=fcitx names no plugin" in decision.reason


def test_fcitx5_without_any_variables_set():
    assert decide(X11, FCITX5_BUS).set_env == {"QT_IM_MODULE": "ibus", "IBUS_USE_PORTAL": "1"}


def test_qt_im_modules_is_replaced_too_because_it_wins_over_qt_im_module():
    env = {**FCITX_DESKTOP, "QT_IM_MODULES": "wayland;fcitx"}
    assert decide(env, FCITX5_BUS).set_env == {"QT_IM_MODULE": "ibus", "QT_IM_MODULES": "ibus",
                                               "IBUS_USE_PORTAL": "1"}


@pytest.mark.parametrize("forced", ["compose", "none", "ibus:extra"])
def test_a_module_this_qt_has_is_left_alone(forced):
    env = {**FCITX_DESKTOP, "QT_IM_MODULE": forced, "PATH": "/nonexistent"}
    decision = decide(env, FCITX5_BUS)
    if forced.startswith("ibus"):  # kept, but it only works through the portal without ibus-daemon
        assert decision.set_env == {"IBUS_USE_PORTAL": "1"} and "kept" in decision.reason
    else:
        assert decision.action == "kept" and decision.set_env == {}


def test_qt_im_module_ibus_with_a_real_ibus_daemon_is_left_alone(tmp_path):
    (tmp_path / "ibus-daemon").write_text("#!/bin/sh\n")
    (tmp_path / "ibus-daemon").chmod(0o755)
    env = {**X11, "QT_IM_MODULE": "ibus", "PATH": str(tmp_path)}
    decision = decide(env, {im.IBUS_NAME, im.IBUS_PORTAL_NAME})
    assert decision.action == "kept" and decision.set_env == {}


def test_fcitx_plugin_in_qt_plugin_path_is_respected(tmp_path):
    folder = tmp_path / "platforminputcontexts"
    folder.mkdir()
    (folder / "libfcitx5platforminputcontextplugin.so").write_bytes(b"")
    env = {**FCITX_DESKTOP, "QT_PLUGIN_PATH": str(tmp_path)}
    modules = im.available_modules(env)
    assert {"fcitx", "fcitx5", "ibus", "compose"} <= modules  # the wheel's own plugins are found too
    assert decide(env, FCITX5_BUS, modules).action == "kept"


def test_ibus_desktop_without_qt_im_module_gets_ibus():
    decision = decide(X11, {im.IBUS_NAME, im.IBUS_PORTAL_NAME})
    assert decision.detection.running == "ibus" and decision.set_env == {"QT_IM_MODULE": "ibus"}


def test_fcitx5_without_its_ibus_frontend_warns_and_sets_nothing():
    decision = decide(FCITX_DESKTOP, {im.FCITX5_NAME, "org.fcitx.Fcitx-0"})
    assert decision.set_env == {} and "IBus Frontend" in decision.warning


def test_fcitx4_warns():
    decision = decide(FCITX_DESKTOP, {"org.fcitx.Fcitx-0"})
    assert decision.detection.running == "fcitx" and decision.set_env == {} and "fcitx5" in decision.warning


def test_fcitx_configured_but_not_running_warns():
    decision = decide(FCITX_DESKTOP, set())
    assert decision.set_env == {} and "not on the session bus" in decision.warning


@pytest.mark.parametrize("env", [{"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
                                 {**X11, "QT_QPA_PLATFORM": "offscreen"}, {}])
def test_not_xcb_changes_nothing(env):
    decision = decide({**env, "QT_IM_MODULE": "fcitx"}, FCITX5_BUS)
    assert decision.action == "nothing" and decision.set_env == {}


def test_not_linux_changes_nothing():
    assert im.decide(FCITX_DESKTOP, im.detect(FCITX_DESKTOP, FCITX5_BUS), WHEEL, "win32").set_env == {}


def test_apply_then_restore_leaves_the_environment_as_it_was(monkeypatch):
    monkeypatch.setattr(im, "session_bus_names", lambda env: set(FCITX5_BUS))
    env = dict(FCITX_DESKTOP)
    decision = im.apply(env)
    assert env["QT_IM_MODULE"] == "ibus" and env["IBUS_USE_PORTAL"] == "1"
    im.restore(decision, env)
    assert env == FCITX_DESKTOP


def test_doctor_reports_the_input_method(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(im, "session_bus_names", lambda env: set(FCITX5_BUS))
    for key, value in FCITX_DESKTOP.items():
        monkeypatch.setenv(key, value)
    for key in ("QT_QPA_PLATFORM", "QT_IM_MODULES", "WAYLAND_DISPLAY", "IBUS_USE_PORTAL", "QT_PLUGIN_PATH"):
        monkeypatch.delenv(key, raising=False)
    assert cli.main(["--data-dir", str(tmp_path), "doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["input_method"]
    assert report["detected"].startswith("fcitx5 running (IBus frontend on the session bus)")
    assert report["did"].startswith("set QT_IM_MODULE=ibus IBUS_USE_PORTAL=1: fcitx5 has no plugin")
    cli.main(["--data-dir", str(tmp_path), "doctor"])
    assert "input_method" in capsys.readouterr().out


# ---------------------------------------------------------------- the bus client

def test_bus_addresses():
    env = {"DBUS_SESSION_BUS_ADDRESS": "tcp:host=x;unix:abstract=/tmp/dbus-A%2c,guid=1;unix:path=/run/b"}
    assert im._bus_addresses(env) == ["\0/tmp/dbus-A,", "/run/b"]
    assert im._bus_addresses({}) == []


def test_a_real_session_bus_answers():
    desktop.require_tools([t for t in ("dbus-daemon",) if im.shutil.which(t) is None], imsession.INSTALL_HINT)
    bus = imsession.start_session_bus()
    try:
        assert im.session_bus_names({"DBUS_SESSION_BUS_ADDRESS": bus.address}) == {"org.freedesktop.DBus"}
    finally:
        bus.stop()


def test_no_bus_is_none(tmp_path):
    assert im.session_bus_names({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/none"}) is None
    assert im.session_bus_names({}) is None


def test_a_bus_that_never_answers_gives_up(tmp_path):
    """Start-up must not hang on a wedged bus: connect works (backlog), nothing ever answers."""
    path = str(tmp_path / "bus")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    try:
        # without the timeout this would block for ever
        assert im.session_bus_names({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={path}"}, timeout=0.2) is None
    finally:
        server.close()
