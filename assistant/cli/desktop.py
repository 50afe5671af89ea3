"""`kefu desktop-install`: the panel in a Linux desktop's applications menu, and optionally in
autostart, for the kefu that is running (a venv, pipx, a wheel or the PyInstaller build).

Freedesktop layout (XDG base directories): ~/.local/share/applications/kefu-assistant.desktop,
~/.local/share/icons/hicolor/<size>/apps/kefu-assistant.png (+ scalable .svg),
~/.config/autostart/kefu-assistant.desktop. The .deb build writes its system-wide entry with the
same desktop_entry(). No Qt import: this is plain file work.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import KnownError
from .out import out

APP_ID = "kefu-assistant"
ICON_SIZES = (16, 32, 48, 128, 256)


class DesktopInstallError(KnownError):
    pass


def desktop_entry(command: Sequence[str], autostart: bool = False) -> str:
    """The .desktop file text for launching `command` (absolute path first)."""
    exec_line = " ".join(_exec_quote(arg) for arg in command)
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        # 1.4: the newest version Debian 12's desktop-file-validate knows (1.5 only adds keys)
        "Version=1.4",
        "Name=kefu-assistant",
        "Name[zh_CN]=客服助手",
        "GenericName=Customer service quick replies",
        "GenericName[zh_CN]=客服快捷回复",
        "Comment=Quick replies, paste hotkeys and chase reminders beside your chat client",
        "Comment[zh_CN]=停靠在聊天窗口旁的快捷回复、粘贴快捷键和催单提醒",
        f"Exec={exec_line}",
        # TryExec hides the entry once that kefu is gone (a deleted venv or checkout).
        f"TryExec={_escape_string(command[0])}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Office;",  # one main category, or menus list it twice
        "Keywords=kefu;customer service;quick reply;taobao;qianniu;客服;快捷短语;千牛;",
        "StartupNotify=false",
        f"StartupWMClass={APP_ID}",
        # a second kefu raises the running panel: no "new window" action in docks
        "X-GNOME-SingleWindow=true",
    ]
    if autostart:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


def _escape_string(value: str) -> str:
    """A desktop-entry string value: backslash and control characters escaped."""
    return (value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
            .replace("\r", "\\r"))


def _exec_quote(arg: str) -> str:
    """One Exec= argument: quoted when it holds a reserved character (desktop entry spec,
    "The Exec key"), then string-escaped; '%' doubled so it is not read as a field code."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    arg = arg.replace("%", "%%")
    if any(ch in reserved for ch in arg):
        inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
        arg = f'"{inner}"'
    return _escape_string(arg)


def kefu_command() -> list[str]:
    """An absolute command line that starts this same kefu: the frozen executable, the `kefu`
    script this process was started as or the one beside its Python (venv, pipx), else
    `python -m assistant`."""
    if getattr(sys, "frozen", False):
        return [os.path.abspath(sys.executable)]
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name == "kefu" and argv0.is_file():
        # abspath, not resolve: pipx's ~/.local/bin/kefu symlink stays valid across pipx upgrades
        return [os.path.abspath(argv0)]
    beside = Path(sys.executable).parent / "kefu"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [os.path.abspath(beside)]
    return [os.path.abspath(sys.executable), "-m", "assistant"]


def _xdg_dir(variable: str, default: str) -> Path:
    value = os.environ.get(variable, "")
    # The spec says a relative path in these variables is invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / default


def data_home() -> Path:
    return _xdg_dir("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    return _xdg_dir("XDG_CONFIG_HOME", ".config")


def menu_file() -> Path:
    return data_home() / "applications" / f"{APP_ID}.desktop"


def autostart_file() -> Path:
    return config_home() / "autostart" / f"{APP_ID}.desktop"


def icon_files(icons_dir: Path, hicolor: Path) -> list[tuple[Path, Path]]:
    """(source, target) pairs: the PNG sizes and the scalable SVG in a hicolor theme folder."""
    pairs = [(icons_dir / f"app-{size}.png", hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png")
             for size in ICON_SIZES]
    pairs.append((icons_dir / "app.svg", hicolor / "scalable" / "apps" / f"{APP_ID}.svg"))
    return pairs


def _write(path: Path, data: bytes) -> None:
    """Whole file or nothing: a half-written .desktop file would show a broken menu entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def install(autostart: bool | None = None, command: Sequence[str] | None = None) -> list[Path]:
    """Write the menu entry and icons; autostart True adds the autostart entry, False removes it,
    None leaves it as it is (but points an existing one at this kefu). Returns the written files."""
    _require_linux()
    from ..paths import resource_path

    command = list(command or kefu_command())
    written = []
    for source, target in icon_files(resource_path("icons"), data_home() / "icons" / "hicolor"):
        _write(target, source.read_bytes())
        written.append(target)
    _write(menu_file(), desktop_entry(command).encode())
    written.append(menu_file())
    if autostart or (autostart is None and autostart_file().exists()):
        _write(autostart_file(), desktop_entry(command, autostart=True).encode())
        written.append(autostart_file())
    elif autostart is False:
        autostart_file().unlink(missing_ok=True)
    return written


def uninstall() -> list[Path]:
    """Remove what install() writes; returns the files that were there."""
    _require_linux()
    targets = [target for _, target in icon_files(Path("."), data_home() / "icons" / "hicolor")]
    targets += [menu_file(), autostart_file()]
    removed = []
    for path in targets:
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def _require_linux() -> None:
    if sys.platform.startswith("linux"):
        return
    if sys.platform == "win32":
        raise DesktopInstallError(
            "desktop-install 只用于 Linux 桌面；Windows 上请用安装程序（开始菜单和开机启动由它添加）",
            "desktop-install is for Linux desktops; on Windows the installer adds the Start menu entry "
            "and the optional autostart")
    raise DesktopInstallError(
        "desktop-install 只用于 Linux 桌面（freedesktop 菜单）",
        "desktop-install is for Linux desktops (freedesktop menus) only")


# ---------------------------------------------------------------- command line

def cmd_desktop_install(ctx) -> int:
    args = ctx.args
    try:
        if args.uninstall:
            removed = uninstall()
            if not removed:
                out("Nothing to remove: kefu-assistant is not in the menu / 菜单中没有客服助手")
            for path in removed:
                out(f"removed  {path}")
            return 0
        command = kefu_command()
        written = install(autostart=args.autostart)
    except OSError as exc:
        raise DesktopInstallError(f"无法写入桌面文件：{exc.strerror or exc}（{exc.filename or ''}）",
                                  f"Cannot write the desktop files: {exc.strerror or exc} ({exc.filename or ''})") from exc
    for path in written:
        out(f"wrote    {path}")
    out(f"Added to the applications menu, starting {' '.join(command)} / 已添加到应用菜单")
    if autostart_file() in written:
        out("The panel starts when you log in / 登录时自动启动面板")
    elif args.autostart is False:
        out("Autostart is off / 已关闭开机启动")
    return 0


def register(sub: argparse._SubParsersAction, add: Callable) -> None:
    p = add(sub, "desktop-install", cmd_desktop_install,
            "Linux: add the panel to the applications menu (and autostart) / 添加到应用菜单")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--autostart", action="store_true", default=None,
                       help="also start the panel at login / 登录时自动启动")
    group.add_argument("--no-autostart", dest="autostart", action="store_false",
                       help="remove the autostart entry / 取消开机启动")
    group.add_argument("--uninstall", action="store_true",
                       help="remove the menu entry, icons and autostart entry / 从菜单移除")
