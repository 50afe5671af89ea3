"""Build the Linux installer: the PyInstaller one-folder app and a .deb around it.

    .venv/bin/python packaging/build_linux.py            # -> dist/kefu-assistant/, dist/kefu-assistant_<v>_<arch>.deb
    .venv/bin/python packaging/build_linux.py --out D    # elsewhere (work files in D/work)

Needs the [packaging] extra (`bash .ci/install` installs it), binutils (PyInstaller strips the
libraries with it) and dpkg-deb. The .deb installs the app to /opt/kefu-assistant, links
/usr/bin/kefu to it, and adds the menu entry and hicolor icons; it bundles the build machine's
libraries, so build it on the oldest system it must run on (here: Debian 12, glibc 2.36).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))

import pyi_trim  # noqa: E402

from assistant import __version__  # noqa: E402
from assistant.cli.desktop import APP_ID, desktop_entry, icon_files  # noqa: E402

PREFIX = Path("/opt") / APP_ID
EXE_NAME = APP_ID


def build_folder(out: Path, work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(out), "--workpath", str(work),
                    str(ROOT / "packaging" / "kefu-assistant.spec")], check=True, cwd=ROOT)
    return out / APP_ID


def _system_libraries() -> dict[str, str]:
    """soname -> path, from the dynamic linker's cache."""
    found: dict[str, str] = {}
    arch = "x86-64" if platform.machine() == "x86_64" else platform.machine()
    listing = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines()[1:]:
        name, _, path = line.strip().partition(" => ")
        soname, _, tags = name.partition(" ")
        if arch in tags or "64" not in tags:
            found.setdefault(soname, path)
    return found


def external_libraries(folder: Path) -> dict[str, str]:
    """Every library the bundled files link to that the folder does not carry: soname -> system path.
    Raises if one of them is not on this system either (the trimming dropped too much)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    bundled = {p.name for p in folder.rglob("*")}
    system = _system_libraries()
    external, missing = {}, set()
    for path in files:
        for lib in pyi_trim.elf_needed(str(path)) or []:
            if lib in bundled:
                continue
            if lib in system:
                external[lib] = system[lib]
            else:
                missing.add(f"{lib} (needed by {path.relative_to(folder)})")
    if missing:
        raise SystemExit("libraries found neither in the build nor on this system:\n  " + "\n  ".join(sorted(missing)))
    return external


def _owning_package(path: str) -> str | None:
    real = os.path.realpath(path)
    candidates = {path, real}
    for p in list(candidates):  # merged /usr: dpkg may know either spelling
        candidates.add(p[4:] if p.startswith("/usr/") else "/usr" + p)
    for candidate in candidates:
        proc = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if proc.returncode == 0:
            return proc.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


def depends(external: dict[str, str]) -> str:
    packages = set()
    for lib, path in sorted(external.items()):
        package = _owning_package(path)
        if package is None:
            raise SystemExit(f"no Debian package owns {path} ({lib})")
        packages.add(package)
    glibc = platform.libc_ver()[1]
    deps = sorted(f"libc6 (>= {glibc})" if p == "libc6" else p for p in packages)
    return ", ".join(deps)


def _du(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def build_deb(folder: Path, out: Path, work: Path, xz_level: int = 1) -> Path:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    stage = work / "deb"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(folder, stage / PREFIX.relative_to("/"), symlinks=True)
    bindir = stage / "usr" / "bin"
    bindir.mkdir(parents=True)
    (bindir / "kefu").symlink_to(PREFIX / EXE_NAME)
    share = stage / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    (share / "applications" / f"{APP_ID}.desktop").write_text(desktop_entry(["kefu"]), encoding="utf-8")
    for source, target in icon_files(ROOT / "resources" / "icons", share / "icons" / "hicolor"):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    doc = share / "doc" / APP_ID
    doc.mkdir(parents=True)
    shutil.copyfile(ROOT / "packaging" / "LICENSE", doc / "copyright")
    for path in stage.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    control = stage / "DEBIAN" / "control"
    control.parent.mkdir()
    control.write_text(
        f"Package: {APP_ID}\n"
        f"Version: {__version__}\n"
        f"Architecture: {arch}\n"
        "Maintainer: kefu-assistant authors <kefu-assistant@users.noreply.github.com>\n"
        f"Installed-Size: {_du(stage) // 1024}\n"
        f"Depends: {depends(external_libraries(folder))}\n"
        "Recommends: fonts-noto-cjk\n"
        "Section: utils\n"
        "Priority: optional\n"
        "Description: 客服助手 quick replies and paste hotkeys for e-commerce customer service\n"
        " A side panel beside the chat client (Qianniu, JD, Pinduoduo ...): quick replies found by\n"
        " Chinese words, pinyin or short code, pasted with global hotkeys; starred buyers, chase\n"
        " reminders and shift handover. Command: kefu.\n", encoding="utf-8")
    deb = out / f"{APP_ID}_{__version__}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", f"-z{xz_level}", "--build", str(stage), str(deb)],
                   check=True, stdout=subprocess.DEVNULL)
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, help="work folder (default: OUT/work)")
    # xz -1: 46 MiB in ~25 s here; -6 (dpkg's default): 39 MiB but 4-8x the time on 2 cores
    parser.add_argument("--xz-level", type=int, default=1, choices=range(10), metavar="0-9",
                        help="the .deb's xz compression level (default 1; 6 or 9 for a release)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        raise SystemExit("build_linux.py builds the Linux installer; on Windows see packaging/windows/")
    for tool in ("dpkg-deb", "strip"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (apt-get install {'dpkg' if tool == 'dpkg-deb' else 'binutils'})")
    out = args.out.resolve()
    work = (args.work or out / "work").resolve()
    started = time.monotonic()
    folder = build_folder(out, work)
    built = time.monotonic()
    deb = build_deb(folder, out, work, args.xz_level)
    done = time.monotonic()
    mib = 1024 * 1024
    print(f"folder {folder}  {_du(folder) / mib:.0f} MiB  (PyInstaller {built - started:.0f} s)")
    print(f"deb    {deb}  {deb.stat().st_size / mib:.0f} MiB  (dpkg-deb {done - built:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
