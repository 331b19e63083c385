"""podbay doctor's checks: the cgroup verdicts on the hierarchies podbay meets (trees of files laid
out as the kernel shows them), and the command's output on this machine."""

from __future__ import annotations

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


def test_a_hybrid_hierarchy_says_limits_cannot_be_enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostcheck, "CGROUP", tree(tmp_path, {"unified/cgroup.controllers": "", "memory/tasks": ""}))
    check = hostcheck.cgroups()
    assert check.level == "warn" and check.detail.startswith("a hybrid hierarchy (the controllers are in cgroup v1)")
    assert "resource limits cannot be enforced" in check.detail


def test_cgroup2_verdicts_by_controller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hostcheck, "CGROUP", tree(tmp_path, {"cgroup.controllers": "cpu memory pids",
                                                             "cgroup.subtree_control": ""}))
    monkeypatch.setattr(hostcheck, "own_cgroup", lambda: tmp_path)
    monkeypatch.setattr(hostcheck.os, "geteuid", lambda: 0)
    check = hostcheck.cgroups()
    assert check.level == "warn" and "without the cpuset, io controller(s)" in check.detail
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory hugetlb pids rdma misc")
    assert hostcheck.cgroups().level == "ok"


def test_doctor_prints_every_check_and_passes_here() -> None:
    done = subprocess.run([sys.executable, "-m", "podbay.runtime.cli.main", "doctor"], capture_output=True,
                          text=True, check=False)
    names = [line[6:].split("  ")[0].strip() for line in done.stdout.splitlines()]
    assert names == ["kernel", "user namespaces", "id ranges", "cgroups", "overlayfs", "seccomp", "network"]
    assert done.returncode == 0 and all(line[:5].strip() in ("ok", "warn") for line in done.stdout.splitlines())
