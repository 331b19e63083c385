"""``podbay tui`` for real, in tmux, against real pods: create a pod from a template, see it Running,
read its log, delete it; the screen read with ``capture-pane``."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.podbay_harness import Podbay


class Tmux:
    """A tmux server of our own (its own socket), ended by us."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"podbay-test-{os.getpid()}"
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
        self.run("new-session", "-d", "-s", "tui", "-x", "140", "-y", "40",
                 f"env -i {exports} {shlex.join(command)}")

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True,
                              timeout=10).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "tui", *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "tui")

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while text not in (screen := self.screen()):
            assert time.monotonic() < deadline, f"{text!r} never shown; the screen:\n{screen}"
            time.sleep(0.25)
        return screen

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def tui(root_only_podbay: Podbay, probe_image: Path) -> Iterator[Tmux]:
    podbay = root_only_podbay
    loaded = podbay.cli("image", "load", str(podbay.give(probe_image)), "-t", "busybox:1.36")  # the templates' image
    assert loaded.returncode == 0, loaded.stderr
    argv, _ = podbay.argv("tui")
    session = Tmux(argv, {**podbay.env(), "TERM": "xterm-256color"})
    try:
        yield session
    finally:
        session.kill()


@pytest.mark.root
@pytest.mark.tmux
@pytest.mark.images
def test_create_watch_read_logs_and_delete_a_pod_in_the_tui(tui: Tmux, root_only_podbay: Podbay) -> None:
    tui.wait_for("podbay: pods")
    tui.keys("c")
    tui.wait_for("valid: ctrl+s creates the pod")
    tui.keys("C-t")  # the second template: a web server and a sidecar sharing an emptyDir
    tui.wait_for("name: web-with-sidecar")
    tui.wait_for("valid: ctrl+s creates the pod")
    tui.keys("C-s")
    screen = tui.wait_for("pod default/web-with-sidecar")
    tui.wait_for("Running")
    assert "log-shipper" in screen or "log-shipper" in tui.screen()  # the sidecar among its containers
    tui.keys("Escape")
    tui.wait_for("podbay: pods")
    tui.wait_for("2/2")
    tui.keys("l")
    tui.wait_for("logs default/web-with-sidecar [web]")  # web writes to the shared file, not to stdout
    tui.keys("c")
    tui.wait_for("logs default/web-with-sidecar [log-shipper]")
    tui.wait_for(" UTC 20")  # web's `date` lines, as the sidecar tails them from the shared emptyDir
    tui.keys("Escape")
    tui.wait_for("podbay: pods")
    tui.keys("C-d")
    tui.wait_for("Delete pod default/web-with-sidecar?")
    tui.keys("Enter")
    tui.wait_for("pod default/web-with-sidecar deleted")
    deadline = time.monotonic() + 30
    while "web-with-sidecar" in root_only_podbay.cli("get", "pods").stdout:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    tui.keys("q")
