"""Shared fixtures and the capability probes behind the pytest markers.

A test marked ``root``, ``rootless``, ``vm``, ``cgroup2`` or ``registry`` is skipped,
with the reason, when this machine cannot provide what the marker names; CI
provides all of them, and .ci/run reports every skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import imagebuilder
from tests.podbay_harness import (
    TEST_USER,
    Podbay,
    ensure_test_user,
    host_mounts_under,
    netns_links,
    portable_install,
    user_store,
)

REPO = Path(__file__).resolve().parents[1]
MANIFESTS = REPO / "tests" / "manifests"


def _cgroup2_usable() -> bool:
    try:
        with open("/proc/self/mountinfo") as mountinfo:
            return any(" - cgroup2 " in line and line.split()[4] == "/sys/fs/cgroup" for line in mountinfo)
    except OSError:
        return False


def _can_build_images() -> bool:
    return os.path.exists(imagebuilder.BUSYBOX) and shutil.which("gcc") is not None


PROBES = {
    "root": (lambda: os.geteuid() == 0, "needs root"),
    "rootless": (lambda: os.geteuid() == 0 and shutil.which("newuidmap") is not None,
                 "needs root (to create the test user) and newuidmap/newgidmap (apt-get install uidmap)"),
    "vm": (lambda: os.environ.get("PODBAY_TEST_VM") == "1", "runs inside the test VM only (vagrant/run-tests.sh)"),
    "session": (lambda: os.environ.get("PODBAY_TEST_VM") == "1" and os.geteuid() != 0,
                "runs in the test VM as its unprivileged user, in a delegated user scope (vagrant/run-tests.sh)"),
    "cgroup2": (_cgroup2_usable, "needs a unified cgroup v2 hierarchy at /sys/fs/cgroup"),
    "nocgroup2": (lambda: not _cgroup2_usable(), "asserts the warnings of a host without cgroup v2; this one has it "
                                                 "(tests/vm/test_cgroups.py tests the limits)"),
    "registry": (lambda: shutil.which("docker-registry") is not None,
                 "needs Debian's docker-registry (apt-get install docker-registry)"),
    "images": (_can_build_images, "needs busybox-static and gcc to build test images (scripts/setup.sh)"),
    "tmux": (lambda: shutil.which("tmux") is not None, "needs tmux to drive the TUI end to end (apt-get install tmux)"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name, (probe, reason) in PROBES.items():
            if item.get_closest_marker(name) is not None and not probe():
                item.add_marker(pytest.mark.skip(reason=f"[{name}] {reason}"))


@pytest.fixture
def manifests() -> Path:
    return MANIFESTS


# --- containers: images, stores, the rootless user --------------------------------------------


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """A session folder every test user can traverse."""
    path = Path(tempfile.mkdtemp(prefix="podbay-tests-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def probe_binary(workdir: Path) -> Path:
    out = workdir / "probe"
    subprocess.run(["gcc", "-static", "-O1", "-o", str(out), str(REPO / "tests" / "probe" / "probe.c")],
                   check=True, capture_output=True)
    return out


def probe_layer(probe: Path) -> list[imagebuilder.Entry]:
    data = probe.read_bytes()
    return [imagebuilder.Entry("probe", data=data, mode=0o755),
            imagebuilder.Entry("probe-suid", data=data, mode=0o4755)]


@pytest.fixture(scope="session")
def probe_image(workdir: Path, probe_binary: Path) -> Path:
    """localhost/probe:latest (root), localhost/probe-app:latest (USER app) and localhost/probe-nonroot:latest
    (USER 1000), one archive each; and
    localhost/static-app:latest, an app image with one static binary and a data file, no shell at all."""
    layers = [imagebuilder.busybox_layer(), probe_layer(probe_binary)]
    imagebuilder.build_image(workdir / "probe.tar", "localhost/probe:latest", layers)
    imagebuilder.build_image(workdir / "probe-app.tar", "localhost/probe-app:latest", layers, user="app",
                             workdir="/home/app")
    imagebuilder.build_image(workdir / "probe-nonroot.tar", "localhost/probe-nonroot:latest", layers, user="1000")
    static = [imagebuilder.Entry("app", data=probe_binary.read_bytes(), mode=0o755),
              imagebuilder.Entry("data", kind="dir", mode=0o755),
              imagebuilder.Entry("data/secret.txt", data=b"only in the app's image\n")]
    imagebuilder.build_image(workdir / "static-app.tar", "localhost/static-app:latest", [static],
                             entrypoint=["/app", "pause"])
    return workdir / "probe.tar"


def store_images(probe_image: Path) -> list[Path]:
    others = ("probe-app", "probe-nonroot", "static-app")
    return [probe_image, *(probe_image.with_name(f"{name}.tar") for name in others)]


@pytest.fixture(scope="session")
def portable_podbay(workdir: Path) -> Path:
    """Where an unprivileged test user's podbay is installed (see portable_install)."""
    return portable_install(workdir / "install")


def _container_processes(uids: set[int], ranges: list[tuple[int, int]]) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if "\nState:\tZ" in status:
            continue  # exited, waiting for its parent (or init, here a slow reaper) to collect it
        if uid in uids or any(start <= uid < start + count for start, count in ranges):
            found.append(f"{entry} (uid {uid}): {Path(f'/proc/{entry}/cmdline').read_bytes()[:80]!r}")
    return found


@pytest.fixture(scope="session", autouse=True)
def no_container_process_left() -> Iterator[None]:
    """After the whole suite no process runs as a container id: podbay's rootful range, or the test
    users and their subordinate ranges."""
    yield
    if os.geteuid() != 0:
        return
    from podbay.runtime.idmap import ROOTFUL_DEFAULT_START, read_ranges  # noqa: PLC0415

    uids: set[int] = set()
    ranges = [(ROOTFUL_DEFAULT_START, 65536)]
    for user in (TEST_USER, "podbay-noids"):
        try:
            uid = pwd.getpwnam(user).pw_uid
        except KeyError:
            continue
        uids.add(uid)
        ranges += read_ranges("/etc/subuid", user, uid)
    assert _container_processes(uids, ranges) == [], "container processes outlived the suite"


@pytest.fixture(scope="session")
def test_netns() -> Iterator[str]:
    """The network namespace every podbay of the suite runs in: pods' bridges, veths and host ports
    live and die here, never on the host's network. At the end only lo and podbay0 may remain."""
    if os.geteuid() != 0:
        yield ""
        return
    name = f"podbay-test-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
        left = [link for link in netns_links(name) if link not in ("lo", "podbay0")]
        assert left == [], f"interfaces left behind in {name}: {left}"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout


def _store(home: Path, uid: int, gid: int, images: list[Path], *, install: Path | None = None,
           netns: str = "") -> Podbay:
    podbay = user_store(home, uid, gid, install)
    podbay.netns = netns
    podbay.cgroup2 = bool(netns) and _cgroup2_usable()  # never on a hybrid host: its cgroups are not ours
    for image in images:
        loaded = podbay.cli("image", "load", str(podbay.give(image)))
        assert loaded.returncode == 0, loaded.stderr
    return podbay


@pytest.fixture(scope="session")
def root_podbay(workdir: Path, probe_image: Path, test_netns: str) -> Podbay:
    return _store(workdir / "root", 0, 0, store_images(probe_image), netns=test_netns)


@pytest.fixture(scope="session")
def user_tun(workdir: Path) -> Path:
    """A /dev/net/tun node of mode 0666, as distributions' udev rules make it (this machine's is 0600)."""
    node = workdir / "tun"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(10, 200))
    node.chmod(0o666)
    return node


@pytest.fixture(scope="session")
def rootless_podbay(workdir: Path, probe_image: Path, portable_podbay: Path, test_netns: str,
                    user_tun: Path) -> Podbay:
    uid, gid = ensure_test_user(workdir / "rootless")
    podbay = _store(workdir / "rootless", uid, gid, store_images(probe_image),
                    install=portable_podbay, netns=test_netns)
    podbay.tun = str(user_tun)
    return podbay


@pytest.fixture(params=[pytest.param("root", marks=[pytest.mark.root, pytest.mark.images]),
                        pytest.param("rootless", marks=[pytest.mark.rootless, pytest.mark.images])])
def podbay(request: pytest.FixtureRequest) -> Iterator[Podbay]:
    """Each test runs twice: as root and as the unprivileged test user; and leaves nothing behind."""
    store: Podbay = request.getfixturevalue(f"{request.param}_podbay")
    yield store
    assert_clean_after(store)


@pytest.fixture
def root_only_podbay(root_podbay: Podbay) -> Iterator[Podbay]:
    """The root store, for a test that only root can run; it too leaves nothing behind."""
    yield root_podbay
    assert_clean_after(root_podbay)


def assert_clean_after(store: Podbay) -> None:
    store.cleanup_pods()
    left = store.containers_left()
    for name in left:  # removed here, so that the test that left it fails and the ones after it do not
        shutil.rmtree(store.data_dir / name, ignore_errors=True)
    assert left == [], "a container or pod folder was left behind"
    assert host_mounts_under(store.home) == [], "a mount was left behind"
    assert not (store.run_dir / "network" / "rootless.json").exists(), "the rootless network outlived its pods"
