"""The end-to-end and benchmark tests skip without Xvfb/xdotool/xclip, except in CI where they fail."""

from __future__ import annotations

import pytest

from tests.helpers import desktop


def test_missing_tools_fail_in_ci(monkeypatch):
    monkeypatch.setattr(desktop.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Xvfb"):
        desktop.require_desktop_tools()


def test_missing_tools_skip_elsewhere(monkeypatch):
    monkeypatch.setattr(desktop.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        desktop.require_desktop_tools()


def test_tools_present_is_silent(monkeypatch):
    monkeypatch.setattr(desktop.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setenv("CI", "true")
    desktop.require_desktop_tools()
