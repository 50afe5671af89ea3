"""resources/ is found from a source checkout and from an installed wheel; the wheel builds without
setuptools warnings and carries the tested pins."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_listed_in_pyproject():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "assistant").rglob("__init__.py")}
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages"
    # resources/ subfolders too: an unlisted one is shipped but setuptools warns it is "absent from
    # the packages configuration" (and will stop shipping it).
    resource_dirs = {"assistant.resources." + ".".join(p.relative_to(ROOT / "resources").parts)
                     for p in (ROOT / "resources").rglob("*") if p.is_dir() and p.name != "__pycache__"}
    assert resource_dirs - listed == set(), "add these to [tool.setuptools] packages"


def test_resources_from_checkout():
    from assistant.paths import resource_path

    assert resource_path("library", "default.json").is_file()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """(the wheel, the build's verbose output)."""
    out = tmp_path_factory.mktemp("wheel")
    # -v: pip shows the backend's output, where setuptools prints its warnings
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                           "-w", str(out), str(ROOT)], timeout=300, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return next(out.glob("kefu_assistant-*.whl")), proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheel(built) -> Path:
    return built[0]


def test_wheel_builds_without_setuptools_warnings(built):
    # e.g. "SetuptoolsDeprecationWarning: `project.license` as a TOML table is deprecated" or
    # "_Warning: Package 'assistant.resources.icons' is absent from the `packages` configuration."
    # (not the lowercase "warning: build_py: byte-compiling is disabled" that PYTHONDONTWRITEBYTECODE causes)
    warnings = sorted({m.group(0) for m in re.finditer(r"\w*Warning: .*", built[1])})
    assert warnings == []


def test_wheel_metadata_carries_license_and_pins(wheel):
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta.splitlines()
    assert "Requires-Python: >=3.11" in meta.splitlines()
    requires = {r.name.lower(): r for r in map(Requirement, re.findall(r"^Requires-Dist: (.*)$", meta, re.M))}
    qt = requires["pyside6-essentials"].specifier
    assert "6.12.0" not in qt and "6.11.3" in qt and "6.12.1" in qt
    xlib = requires["python-xlib"].specifier
    assert "0.33" in xlib and "0.32" in xlib and "0.34" not in xlib and "0.31" not in xlib


def test_wheel_ships_resources_and_entry_point(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry = next(n for n in names if n.endswith("entry_points.txt"))
        assert "kefu = assistant.__main__:main" in zf.read(entry).decode()
    assert "assistant/resources/library/default.json" in names
    assert "assistant/core/store.py" in names


def test_installed_wheel_finds_resources(wheel, tmp_path):
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    code = "import assistant.paths as p; print(p.resource_path('library', 'default.json'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target)},
                         capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert out.startswith(str(target)) and Path(out).is_file()


def test_windows_installer_files_point_at_what_exists():
    """The Inno Setup script and the workflow cannot run here (Linux): at least every file they name
    exists, the uninstaller is not told to delete the data folder, and the smoke test uses the
    console kefu.exe that the spec builds on Windows."""
    windows = ROOT / "packaging" / "windows"
    iss = (windows / "kefu.iss").read_text(encoding="utf-8-sig")
    for key in ("LicenseFile", "SetupIconFile"):
        value = re.search(rf"^{key}=(.+)$", iss, re.M).group(1).strip()
        assert (windows / value.replace("\\", "/")).is_file(), (key, value)
    assert re.search(r"^AppId=\{\{[0-9A-F-]{36}\}$", iss, re.M)
    code = [line for line in iss.splitlines() if not line.lstrip().startswith(";")]
    assert not [line for line in code if "UninstallDelete" in line or "localappdata" in line.lower()]
    assert re.search(r'^Name: "\{userstartup\}.*Tasks: autostart$', iss, re.M)
    spec = (ROOT / "packaging" / "kefu-assistant.spec").read_text()
    assert 'name="kefu", console=True' in spec
    workflow = (windows / "build-windows.yml").read_text(encoding="utf-8")
    for needed in ("packaging\\kefu-assistant.spec", "packaging\\windows\\kefu.iss", "kefu.exe",
                   "replies search cd", "unins000.exe"):
        assert needed in workflow, needed
