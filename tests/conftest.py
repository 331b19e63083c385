"""Shared fixtures and the capability probes behind the pytest markers.

A test marked ``root``, ``rootless``, ``vm``, ``cgroup2`` or ``registry`` is skipped,
with the reason, when this machine cannot provide what the marker names; CI
provides all of them, and .ci/run reports every skip.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MANIFESTS = REPO / "tests" / "manifests"


def _cgroup2_usable() -> bool:
    try:
        with open("/proc/self/mountinfo") as mountinfo:
            return any(" - cgroup2 " in line and line.split()[4] == "/sys/fs/cgroup" for line in mountinfo)
    except OSError:
        return False


PROBES = {
    "root": (lambda: os.geteuid() == 0, "needs root"),
    "rootless": (lambda: os.geteuid() == 0 and shutil.which("newuidmap") is not None,
                 "needs root (to create the test user) and newuidmap/newgidmap (apt-get install uidmap)"),
    "vm": (lambda: os.environ.get("PODBAY_TEST_VM") == "1", "runs inside the test VM only (vagrant/run-tests.sh)"),
    "cgroup2": (_cgroup2_usable, "needs a unified cgroup v2 hierarchy at /sys/fs/cgroup"),
    "registry": (lambda: shutil.which("docker-registry") is not None,
                 "needs Debian's docker-registry (apt-get install docker-registry)"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name, (probe, reason) in PROBES.items():
            if item.get_closest_marker(name) is not None and not probe():
                item.add_marker(pytest.mark.skip(reason=f"[{name}] {reason}"))


@pytest.fixture
def manifests() -> Path:
    return MANIFESTS
