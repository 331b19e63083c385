"""podbay doctor's checks: the cgroup verdicts on the hierarchies podbay meets (trees of files laid
out as the kernel shows them), and the command's output on this machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from podbay.runtime import hostcheck


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_hybrid_hierarchy_says_limits_cannot_be_enforced(tmp_path: Path) -> None:
    check = hostcheck.cgroups(tree(tmp_path, {"unified/cgroup.controllers": "", "memory/tasks": ""}))
    assert check.level == "warn" and check.detail.startswith("a hybrid hierarchy (the controllers are in cgroup v1)")
    assert "resource limits cannot be enforced" in check.detail


def test_cgroups_required_makes_a_missing_controller_a_failure(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODBAY_CGROUPS", "required")
    check = hostcheck.cgroups(tree(tmp_path, {"unified/cgroup.controllers": "", "memory/tasks": ""}))
    assert check.level == "fail"


@pytest.mark.root
def test_cgroup2_verdicts_by_controller(tmp_path: Path) -> None:
    mount = tree(tmp_path, {"cgroup.controllers": "cpu memory pids", "cgroup.subtree_control": "cpu pids"})
    check = hostcheck.cgroups(mount)
    assert check.level == "warn" and "without the memory controller(s)" in check.detail
    assert f"{mount}/cgroup.subtree_control does not enable it" in check.detail
    (mount / "cgroup.subtree_control").write_text("cpuset cpu io memory hugetlb pids rdma misc")
    check = hostcheck.cgroups(mount)
    assert check.level == "ok" and f"podbay's root {mount}/podbay" in check.detail


def test_doctor_prints_every_check_and_passes_here() -> None:
    done = subprocess.run([sys.executable, "-m", "podbay.runtime.cli.main", "doctor"], capture_output=True,
                          text=True, check=False)
    names = [line[6:].split("  ")[0].strip() for line in done.stdout.splitlines()]
    assert names == ["kernel", "user namespaces", "id ranges", "id tools", "cgroups", "overlayfs", "seccomp",
                     "network", "storage", "libraries"]
    assert done.returncode == 0 and all(line[:5].strip() in ("ok", "warn") for line in done.stdout.splitlines())


def test_info_gives_the_same_as_data() -> None:
    done = subprocess.run([sys.executable, "-m", "podbay.runtime.cli.main", "info", "-o", "json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [c["name"] for c in data["checks"]][:3] == ["kernel", "user namespaces", "id ranges"]
    assert data["settings"]["cgroups"] == "enabled" and "root" in data["cgroups"]
    overlay = next(c for c in data["checks"] if c["name"] == "overlayfs")
    assert overlay["level"] == "ok" and "trial mount" in overlay["detail"]  # a real mount, in a user namespace
