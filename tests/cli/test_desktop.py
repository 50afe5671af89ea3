"""`kefu desktop-install`: menu entry, icons and autostart in the XDG folders, for this kefu."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import __version__
from assistant.cli import desktop, main
from assistant.paths import resource_path


def _validate(*files: Path) -> None:
    exe = shutil.which("desktop-file-validate")
    if exe is None:
        message = "needs desktop-file-validate (apt-get install desktop-file-utils)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " - CI=true: failing instead of skipping", pytrace=False)
        pytest.skip(message)
    proc = subprocess.run([exe, *map(str, files)], capture_output=True, text=True, timeout=30)
    # it exits 0 on hints; any output is a complaint worth fixing
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr


def _entry(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line and not line.startswith("#"))


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> dict[str, str]:
    env = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "KEFU_HOME": str(tmp_path / "kefu")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _kefu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_install_writes_menu_icons_and_autostart_for_this_kefu(xdg, tmp_path):
    proc = _kefu("desktop-install", "--autostart", env=xdg)
    assert proc.returncode == 0, proc.stderr
    menu = tmp_path / "data" / "applications" / "kefu-assistant.desktop"
    autostart = tmp_path / "config" / "autostart" / "kefu-assistant.desktop"
    assert menu.is_file() and autostart.is_file()
    assert not (tmp_path / "home" / ".local").exists(), "XDG_DATA_HOME ignored"
    for size in desktop.ICON_SIZES:
        icon = tmp_path / "data" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "kefu-assistant.png"
        assert icon.read_bytes() == resource_path("icons", f"app-{size}.png").read_bytes()
    svg = tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "kefu-assistant.svg"
    assert svg.read_bytes() == resource_path("icons", "app.svg").read_bytes()
    _validate(menu, autostart)

    entry = _entry(menu)
    assert entry["Icon"] == "kefu-assistant" and entry["Name[zh_CN]"] == "客服助手"
    assert _entry(autostart)["Exec"] == entry["Exec"]
    command = shlex.split(entry["Exec"])
    # the kefu that ran (beside this Python: the venv's or pipx's), by absolute path
    assert os.path.isabs(command[0]) and Path(command[0]).is_file()
    assert entry["TryExec"] == command[0]
    started = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
    assert started.stdout.strip() == f"kefu-assistant {__version__}"
    assert "Added to the applications menu" in proc.stdout and str(menu) in proc.stdout


def test_no_autostart_removes_it_and_uninstall_removes_only_ours(xdg, tmp_path):
    assert _kefu("desktop-install", "--autostart", env=xdg).returncode == 0
    autostart = tmp_path / "config" / "autostart" / "kefu-assistant.desktop"
    # a plain re-run keeps the autostart entry the user chose
    assert _kefu("desktop-install", env=xdg).returncode == 0
    assert autostart.is_file()
    proc = _kefu("desktop-install", "--no-autostart", env=xdg)
    assert proc.returncode == 0 and "Autostart is off" in proc.stdout
    assert not autostart.exists()
    assert (tmp_path / "data" / "applications" / "kefu-assistant.desktop").is_file()

    other_icon = tmp_path / "data" / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png"
    other_icon.write_bytes(b"not ours")
    proc = _kefu("desktop-install", "--uninstall", env=xdg)
    assert proc.returncode == 0
    left = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()
                  and "kefu" not in p.relative_to(tmp_path).parts[0])
    assert left == [other_icon.relative_to(tmp_path)]
    proc = _kefu("desktop-install", "--uninstall", env=xdg)
    assert proc.returncode == 0 and "Nothing to remove" in proc.stdout


def test_exec_quotes_paths_with_reserved_characters(tmp_path):
    entry = desktop.desktop_entry(["/opt/my apps/kefu 100%", "--data-dir", "/home/a$b"])
    assert 'Exec="/opt/my apps/kefu 100%%" --data-dir "/home/a\\\\$b"' in entry.splitlines()
    assert "TryExec=/opt/my apps/kefu 100%" in entry.splitlines()
    path = tmp_path / "kefu-assistant.desktop"
    path.write_text(entry, encoding="utf-8")
    _validate(path)


def test_command_of_a_frozen_build_is_the_executable(monkeypatch, tmp_path):
    exe = tmp_path / "opt" / "kefu-assistant" / "kefu-assistant"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert desktop.kefu_command() == [str(exe)]


def test_command_without_a_kefu_script_is_python_m_assistant(monkeypatch, tmp_path):
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.write_text("")
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "assistant" / "__main__.py")])
    assert desktop.kefu_command() == [str(python), "-m", "assistant"]
    kefu = python.parent / "kefu"
    kefu.write_text("#!/bin/sh\n")
    kefu.chmod(0o755)
    assert desktop.kefu_command() == [str(kefu)]


def test_relative_xdg_dirs_are_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    monkeypatch.setenv("XDG_CONFIG_HOME", "")
    assert desktop.menu_file() == tmp_path / ".local/share/applications/kefu-assistant.desktop"
    assert desktop.autostart_file() == tmp_path / ".config/autostart/kefu-assistant.desktop"


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_other_systems_get_a_clear_message_and_nothing_written(platform, xdg, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", platform)
    assert main(["desktop-install", "--autostart"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "desktop-install is for Linux desktops" in err and "Linux 桌面" in err
    if platform == "win32":
        assert "installer" in err
    assert not (tmp_path / "data").exists() and not (tmp_path / "config").exists()
