"""Backend choice and `kefu doctor`'s description, without Qt and without a display."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.platform import detect


def test_wayland_gets_the_dummy_backend():
    name, reason = detect.detect({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
                                 "linux")
    assert name == "dummy" and "Wayland" in reason


def test_wayland_display_without_session_type():
    assert detect.detect({"WAYLAND_DISPLAY": "wayland-0"}, "linux")[0] == "dummy"


def test_no_display():
    name, reason = detect.detect({}, "linux")
    assert name == "dummy" and "DISPLAY" in reason


def test_x11_without_probe():
    assert detect.detect({"DISPLAY": ":5", "XDG_SESSION_TYPE": "x11"}, "linux", probe=False)[0] == "x11"


def test_x11_probe_failure_falls_back_with_the_reason():
    name, reason = detect.detect({"DISPLAY": ":4242"}, "linux")
    assert name == "dummy" and ":4242" in reason


def test_override(monkeypatch):
    assert detect.detect({detect.ENV_OVERRIDE: "dummy", "DISPLAY": ":0"}, "linux") == ("dummy",
                                                                                        "KEFU_HOTKEY_BACKEND=dummy")
    assert detect.detect({detect.ENV_OVERRIDE: "x11", "WAYLAND_DISPLAY": "w"}, "linux")[0] == "x11"
    assert detect.detect({detect.ENV_OVERRIDE: "bogus"}, "linux")[0] == "dummy"


def test_windows_needs_keyboard(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "keyboard" else real(name, *a))
    assert detect.detect({}, "win32")[0] == "dummy"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    assert detect.detect({}, "win32")[0] == "windows"


def test_macos():
    assert detect.detect({}, "darwin")[0] == "dummy"


def test_describe_backend_shape():
    info = detect.describe_backend({}, "linux")
    assert info["backend"] == "dummy"
    assert info["global_hotkeys"] is False and info["auto_paste"] is False
    assert "Ctrl+V" in info["fallback"]
    info = detect.describe_backend({detect.ENV_OVERRIDE: "windows"}, "win32")
    assert info["backend"] == "windows" and info["global_hotkeys"] is True


def test_describe_backend_imports_no_qt():
    code = ("import sys; from assistant.platform.detect import describe_backend; describe_backend(); "
            "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt imported'; "
            "assert 'keyboard' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env={"PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("module", ["assistant.platform.detect", "assistant.cli.paste",
                                    "assistant.platform.keys", "assistant.platform.paste"])
def test_light_modules_import_no_qt(module):
    code = f"import sys, {module}; assert not any(m.startswith('PySide6') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_create_backend_falls_back_to_dummy(monkeypatch, qapp):
    monkeypatch.setenv("DISPLAY", ":4243")
    monkeypatch.delenv(detect.ENV_OVERRIDE, raising=False)
    backend = detect.create_backend("x11", "test")
    try:
        assert backend.name == "dummy" and "X11" in backend.reason
        assert not backend.capabilities.global_hotkeys
    finally:
        backend.close()
