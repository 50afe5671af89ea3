"""What the PyInstaller build leaves out (used by kefu-assistant.spec): files the app never loads.

- jieba's lac_small (paddle model), analyse and posseg (~24 MB): search uses jieba.cut only.
- Qt plugins for other display systems and features the app does not use: Wayland (on a Wayland
  session the build runs on XWayland, where the X11 hotkeys work), EGLFS/LinuxFB/VNC/KMS, evdev
  input, TLS and network information, the GTK3 theme (it alone pulls in GTK, GDK, cairo and pango),
  rare image formats, Qt's translations other than qtbase_zh_*.
- opencc's command-line tools, headers and static libraries (only its Python extension is loaded).
- then every shared library that nothing kept still links to (DT_NEEDED closure), e.g. the Qt
  Wayland and EGLFS libraries and GTK's dependencies.

The build script checks what remains (packaging/build_linux.py); tests/core/test_linux_package.py
starts the trimmed app and searches with it.
"""

from __future__ import annotations

import fnmatch
import struct
from pathlib import PurePosixPath

DROP_DATA = [
    "jieba/lac_small/*", "jieba/analyse/*", "jieba/posseg/*",
    "opencc/clib/bin/*", "opencc/clib/include/*", "opencc/clib/lib64/*",
    # Qt's own translations in 40 languages; ui/i18n.py loads only qtbase in Chinese
    "PySide6/Qt/translations/*",
]
KEEP_DATA = ["PySide6/Qt/translations/qtbase_zh_*"]
DROP_MODULES = ["jieba.lac_small", "jieba.analyse", "jieba.posseg"]
_QT_PLUGINS = "PySide6/Qt/plugins/"
DROP_BINARIES = [_QT_PLUGINS + p for p in (
    "wayland-*/*", "egldeviceintegrations/*", "generic/*", "networkinformation/*", "tls/*",
    "platforms/libqwayland*", "platforms/libqeglfs*", "platforms/libqlinuxfb*", "platforms/libqvnc*",
    "platforms/libqminimalegl*", "platforms/libqvkkhrdisplay*",
    "platformthemes/libqgtk3*",
    "imageformats/libqicns*", "imageformats/libqtga*", "imageformats/libqtiff*", "imageformats/libqwbmp*",
    "imageformats/libqwebp*",
)] + ["opencc/clib/bin/*"]


def _matches(dest: str, patterns: list[str]) -> bool:
    dest = PurePosixPath(dest.replace("\\", "/")).as_posix()
    return any(fnmatch.fnmatch(dest, p) for p in patterns)


def drop(toc: list, patterns: list[str], keep: list[str] = ()) -> list:
    return [entry for entry in toc if not _matches(entry[0], patterns) or _matches(entry[0], list(keep))]


def elf_needed(path: str) -> list[str] | None:
    """DT_NEEDED entries of a 64-bit little-endian ELF file, None for anything else."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    needed = []
    for _name, sh_type, _flags, _addr, offset, size, link, *_ in sections:
        if sh_type != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[link][4]
        for pos in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, pos)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\0", strtab + value)
                needed.append(data[strtab + value:end].decode())
    return needed


def _is_library(dest: str) -> bool:
    """A plain shared library (a dependency), not a Python extension module or a Qt plugin."""
    name = PurePosixPath(dest).name
    if "/plugins/" in dest or ".cpython-" in name or name.endswith(".abi3.so") or "lib-dynload" in dest:
        return False
    return ".so" in name and not name.endswith(".py")


def prune_unneeded_libraries(binaries: list, roots: list[str] | None = None) -> tuple[list, list[str]]:
    """Drop shared libraries no kept ELF file needs (transitively). Roots: every Python extension
    module and Qt plugin in `binaries`, plus `roots` (e.g. libpython). Returns (kept, dropped names)."""
    by_name: dict[str, list] = {}
    for entry in binaries:
        by_name.setdefault(PurePosixPath(entry[0]).name, []).append(entry)
    wanted = set(roots or [])
    todo = [entry for entry in binaries if not _is_library(entry[0])]
    todo += [e for name in wanted for e in by_name.get(name, [])]
    seen_src = set()
    while todo:
        entry = todo.pop()
        if entry[1] in seen_src or entry[2] == "SYMLINK":  # a link's target is an entry of its own
            continue
        seen_src.add(entry[1])
        for lib in elf_needed(entry[1]) or []:
            if lib not in wanted:
                wanted.add(lib)
                todo.extend(by_name.get(lib, []))
    kept, dropped = [], []
    for entry in binaries:
        name = PurePosixPath(entry[0]).name
        if entry[2] == "SYMLINK" and PurePosixPath(entry[1]).name in wanted:
            kept.append(entry)
        elif _is_library(entry[0]) and name not in wanted:
            dropped.append(entry[0])
        else:
            kept.append(entry)
    return kept, sorted(dropped)


def drop_dangling_symlinks(toc: list, kept: list) -> list:
    """SYMLINK entries (PyInstaller puts them among the datas) whose target is no longer collected."""
    import posixpath

    present = {posixpath.normpath(entry[0].replace("\\", "/")) for entry in kept}
    out = []
    for entry in toc:
        if entry[2] == "SYMLINK":
            dest = entry[0].replace("\\", "/")
            target = posixpath.normpath(posixpath.join(posixpath.dirname(dest), entry[1].replace("\\", "/")))
            if target not in present:
                continue
        out.append(entry)
    return out
