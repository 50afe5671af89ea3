"""Chinese input on an fcitx5 desktop, for real: a private session bus, fcitx5 with pinyin, the real
app under Xvfb with the variables an fcitx5 desktop sets (QT_IM_MODULE=fcitx - a plugin the PySide6
wheel does not have). The agent focuses the search box (Ctrl+Alt+F), switches to pinyin (Ctrl+Space),
types `cuidan` and space: 催单 must land in the search box.

Without assistant/platform/inputmethod.py Qt falls back to its `compose` plugin: fcitx5 never sees
the field, Ctrl+Space does nothing and the box gets "cuidan ".
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.helpers import desktop, imsession

pytestmark = pytest.mark.e2e

PROBE = Path(__file__).resolve().parent / "panel_search_probe.py"


@pytest.fixture
def fcitx5(xvfb, tmp_path, request):
    desktop.require_tools(imsession.missing_tools(), imsession.INSTALL_HINT)
    bus = imsession.start_session_bus()
    env = xvfb.env()
    env["DBUS_SESSION_BUS_ADDRESS"] = bus.address
    try:
        # 催单 is not in fcitx5's stock dictionary (its first candidate for cuidan is 催但): an agent's
        # own word, as their user dictionary would hold it.
        fcitx = imsession.start_fcitx5(env, tmp_path / "fcitx5", {"催单": "cui'dan"},
                                       ibus_frontend=getattr(request, "param", True))
    except BaseException:
        bus.stop()
        raise
    try:
        yield fcitx
    finally:
        fcitx.stop()
        bus.stop()


def start_panel(xvfb, fcitx5, tmp_path: Path) -> tuple[desktop.App, Path]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    state_path = tmp_path / "search.json"
    # What im-config sets on an fcitx5 desktop; nothing kefu-specific.
    env = {"DBUS_SESSION_BUS_ADDRESS": fcitx5.env["DBUS_SESSION_BUS_ADDRESS"], "QT_IM_MODULE": "fcitx",
           "GTK_IM_MODULE": "fcitx", "XMODIFIERS": "@im=fcitx", "QT_IM_MODULES": None, "IBUS_USE_PORTAL": None,
           "IBUS_ADDRESS": None}
    return desktop.start_app(xvfb, data_dir, env, timeout=40, probe=[str(PROBE), str(state_path)]), state_path


def read_state(path: Path) -> dict:
    for _ in range(50):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.02)
    raise AssertionError("the probe wrote no state")


def wait_state(path: Path, predicate, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    state = read_state(path)
    while time.monotonic() < deadline and not predicate(state):
        time.sleep(0.05)
        state = read_state(path)
    return state


def test_fcitx5_pinyin_types_chinese_into_the_search_box(xvfb, fcitx5, tmp_path):
    app, state_path = start_panel(xvfb, fcitx5, tmp_path)
    try:
        desktop.press(xvfb, "ctrl+alt+f")
        state = wait_state(state_path, lambda s: s["search_focused"], 5)
        assert state["search_focused"], f"Ctrl+Alt+F did not focus the search box: {state}"
        assert desktop.focused_window(xvfb) == state["window"]

        desktop.press(xvfb, "ctrl+space")  # fcitx5's trigger: keyboard-us -> pinyin
        deadline = time.monotonic() + 5
        while fcitx5.state() != "2" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fcitx5.state() == "2", ("fcitx5 did not switch the search box to pinyin: the field is not "
                                       f"connected to fcitx5\n{app.log_text()[-1500:]}")

        desktop.xdo(xvfb, "type", "--delay", "60", "cuidan")
        desktop.press(xvfb, "space")
        state = wait_state(state_path, lambda s: s["text"] == "催单", 5)
        assert state["text"] == "催单"
        log = app.log_text()  # what kefu saw and did, for `kefu doctor` readers and bug reports
        assert "input method: fcitx5 running" in log and "set QT_IM_MODULE=ibus IBUS_USE_PORTAL=1" in log
    finally:
        app.stop()


@pytest.mark.parametrize("fcitx5", [False], indirect=True, ids=["ibus-frontend-off"])
def test_fcitx5_without_its_ibus_frontend_is_explained_in_the_panel(xvfb, fcitx5, tmp_path):
    """Nothing can reach fcitx5 then: the panel says why and what to do instead of staying silent."""
    app, state_path = start_panel(xvfb, fcitx5, tmp_path)
    try:
        state = wait_state(state_path, lambda s: any("IBus" in zh for _, zh in s["messages"]), 5)
        assert ["warning", "fcitx5 的 IBus 前端（IBus Frontend）未启用，面板里无法输入中文：请在 fcitx5 设置的"
                "附加组件中启用它，然后重启客服助手。"] in state["messages"]
        assert "input method: fcitx5's IBus frontend is off" in app.log_text()
    finally:
        app.stop()
