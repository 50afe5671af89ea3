"""resources/ is found from a source checkout and from an installed wheel."""

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


def test_resources_from_checkout():
    from assistant.paths import resource_path

    assert resource_path("library", "default.json").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, timeout=300, capture_output=True)
    return next(out.glob("kefu_assistant-*.whl"))


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
