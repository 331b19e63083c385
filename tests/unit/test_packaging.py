"""The distribution: every package folder is packaged, and a plain wheel installs and runs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _declared_packages() -> set[str]:
    with open(REPO / "pyproject.toml", "rb") as handle:
        return set(tomllib.load(handle)["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_declared() -> None:
    found = set()
    for top, package in (("runtime", "podbay.runtime"), ("tui", "podbay.tui")):
        for init in (REPO / top).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / top)
            found.add(".".join([package, *relative.parts]))
    assert found == _declared_packages()


@pytest.mark.slow
def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(REPO)], check=True)
    (wheel,) = (tmp_path / "dist").glob("podbay-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "podbay/runtime/spec/pod.py" in names and "podbay/tui/__init__.py" in names
    assert "podbay/tui/app.tcss" in names and "podbay/tui/screens/pods.py" in names  # the TUI's styles too
    assert "podbay/__init__.py" not in names  # podbay is a namespace package
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True)
    out = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                          "from podbay.runtime.cli.main import main; main(['version'])", str(target)],
                         capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert out.startswith("podbay ")
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "podbay = podbay.runtime.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
