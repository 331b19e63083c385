"""``podbay tui``: the Textual app. ``make_app(runtime)`` builds it (tests pass an in-memory runtime).

Screens: pods (home) -> detail, logs, describe, yaml; delete asks first; a shell suspends the app
and hands the terminal to ``podbay exec -it`` (in a process group of its own, so Ctrl-C reaches the
shell, not the TUI), then resumes. Every runtime call runs in a worker thread (services.py).
"""

from __future__ import annotations

import functools
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from podbay.tui.actions import POD_ACTIONS
from podbay.tui.dialogs.cascade import ConfirmCascade
from podbay.tui.dialogs.confirm import ConfirmStop, Stop
from podbay.tui.dialogs.debug import DebugDialog, DebugRequest
from podbay.tui.dialogs.prompt import Prompt
from podbay.tui.screens.create import CreateScreen
from podbay.tui.screens.detail import DetailScreen
from podbay.tui.screens.help import HelpScreen
from podbay.tui.screens.inspect import InspectScreen
from podbay.tui.screens.logs import LogsScreen
from podbay.tui.screens.pods import PodsScreen
from podbay.tui.screens.text import TextScreen
from podbay.tui.screens.workloads import WorkloadsScreen
from podbay.tui.services import ApiError, RuntimeAPI, container_names, default_runtime, is_paused, sidecar_names


class PodbayApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "podbay"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help"),
        Binding("colon", "command_palette", "Palette", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, runtime: RuntimeAPI) -> None:
        super().__init__()
        self.runtime = runtime
        self.forwards: list[subprocess.Popen[str]] = []  # port-forwards started from the TUI

    def on_mount(self) -> None:
        self.push_screen(PodsScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette (``:`` or ``ctrl+p``): every action on the pod under the cursor, and the app's own."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Create a pod", "a YAML editor with templates", self.create_pod)
        yield SystemCommand("Workloads", "Deployments, StatefulSets, DaemonSets, ReplicaSets and Jobs",
                            self.show_workloads)
        yield SystemCommand("Help", "every key binding", self.action_help)
        if isinstance(screen, PodsScreen) and (row := screen.selected()) is not None:
            pod = (row.namespace, row.name)
        elif isinstance(screen, DetailScreen):
            pod = (screen.namespace, screen.pod_name)
        else:
            return
        for _, view, _, title in POD_ACTIONS:
            yield SystemCommand(f"{title} {pod[0]}/{pod[1]}", f"the pod's {view}",
                                functools.partial(self.open_pod_view, view, *pod))

    def create_pod(self) -> None:
        self.push_screen(CreateScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def open_pod_view(self, view: str, namespace: str, name: str, container: str = "") -> None:
        """Open a view of one pod (from the pods table, its detail screen with the highlighted container,
        or the palette)."""
        if view == "detail":
            self.push_screen(DetailScreen(namespace, name))
        elif view == "describe":
            self.push_screen(TextScreen(f"describe {namespace}/{name}",
                                        lambda: self.runtime.describe(namespace, name)))
        elif view == "yaml":
            self.push_screen(TextScreen(f"yaml {namespace}/{name}", lambda: self.runtime.yaml(namespace, name),
                                        language="yaml"))
        elif view == "inspect":
            self.push_screen(InspectScreen(namespace, name))
        elif view == "logs":
            self.open_logs(namespace, name)
        elif view == "delete":
            def answered(answer: Stop | None) -> None:
                if answer is not None:
                    self.act(f"deleting {namespace}/{name}", f"pod {namespace}/{name} deleted",
                             lambda: self.runtime.delete(namespace, name, answer.grace))

            self.push_screen(ConfirmStop(f"Delete pod {namespace}/{name}?", "Delete"), answered)
        elif view == "restart":
            self.ask_restart(namespace, name, container)
        elif view == "pause":
            self.toggle_pause(namespace, name)
        elif view == "shell":
            self.hand_over(["exec", "-it", "-n", namespace, name, "--", "sh"])
        elif view == "debug":
            self.ask_debug(namespace, name)
        elif view == "forward":
            question = f"Forward local ports to {namespace}/{name} ([LOCAL:]REMOTE, several with spaces)"
            self.push_screen(Prompt(question, "8080 or 18080:80"),
                             lambda ports: self.forward(namespace, name, ports.split()) if ports else None)

    def show_workloads(self) -> None:
        if not isinstance(self.screen, WorkloadsScreen):
            self.push_screen(WorkloadsScreen())

    def show_pods(self, selector: str) -> None:
        """Back to the pods table, filtered to the pods ``selector`` matches."""
        while not isinstance(self.screen, PodsScreen) and len(self.screen_stack) > 1:
            self.pop_screen()
        if isinstance(self.screen, PodsScreen):
            self.screen.set_filter(selector)

    def open_workload_view(self, view: str, kind: str, namespace: str, name: str) -> None:
        what = f"{kind.lower()} {namespace}/{name}"
        if view == "describe":
            self.push_screen(TextScreen(f"describe {what}",
                                        lambda: self.runtime.describe_workload(kind, namespace, name)))
        elif view == "yaml":
            self.push_screen(TextScreen(f"yaml {what}", lambda: self.runtime.workload_yaml(kind, namespace, name),
                                        language="yaml"))
        elif view == "scale":
            def scaled(answer: str | None) -> None:
                if answer is None:
                    return
                if not answer.isdigit():
                    self.notify(f"replicas: {answer!r} is not a whole number", severity="error")
                    return
                self.act(f"scaling {what}", f"{what} scaled to {answer}",
                         lambda: self.runtime.scale(kind, namespace, name, int(answer)))

            self.push_screen(Prompt(f"Replicas for {what}", "3"), scaled)
        elif view == "restart":
            self.act(f"restarting {what}", f"{what} restarted (a rollout replaces its pods)",
                     lambda: self.runtime.rollout_restart(namespace, name))
        elif view == "delete":
            def answered(cascade: str | None) -> None:
                if cascade is not None:
                    self.act(f"deleting {what}", f"{what} deleted",
                             lambda: self.runtime.delete_workload(kind, namespace, name, cascade))

            self.push_screen(ConfirmCascade(f"Delete {what}?"), answered)

    @work(thread=True, exit_on_error=False)
    def act(self, doing: str, done: str, call: Callable[[], None]) -> None:
        """A runtime call in a worker: said as it starts, and how it went."""
        self.stop(doing, done, call)

    def read_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """In a worker: the pod, or None once the error has been shown."""
        try:
            return self.runtime.pod(namespace, name)
        except ApiError as err:
            self.call_from_thread(self.notify, str(err), severity="error")
            return None

    @work(thread=True, exit_on_error=False)
    def open_logs(self, namespace: str, name: str) -> None:
        if (pod := self.read_pod(namespace, name)) is None:
            return
        apps, inits, ephemeral = container_names(pod)
        self.call_from_thread(self.push_screen, LogsScreen(namespace, name, apps + inits + ephemeral))

    @work(thread=True, exit_on_error=False)
    def toggle_pause(self, namespace: str, name: str) -> None:
        """Freeze a running pod, thaw a paused one (podbay pause|unpause)."""
        if (pod := self.read_pod(namespace, name)) is None:
            return
        paused = is_paused(pod.get("status", {}))
        verb = "unpause" if paused else "pause"
        self.stop(f"{verb[:-1]}ing {namespace}/{name}", f"pod {namespace}/{name} {verb}d",
                  lambda: self.runtime.pause(namespace, name, not paused))

    @work(thread=True, exit_on_error=False)
    def ask_restart(self, namespace: str, name: str, container: str) -> None:
        if (pod := self.read_pod(namespace, name)) is None:
            return
        choices = container_names(pod)[0] + sidecar_names(pod)  # what podbay restart accepts

        def answered(answer: Stop | None) -> None:
            if answer is not None:
                self.act(f"restarting {answer.container} in {namespace}/{name}",
                         f"container {answer.container} of {namespace}/{name} restarted",
                         lambda: self.runtime.restart(namespace, name, answer.container, answer.grace))

        self.call_from_thread(self.push_screen, ConfirmStop(f"Restart a container of {namespace}/{name}",
                                                            "Restart", choices, container), answered)

    def stop(self, doing: str, done: str, call: Callable[[], None]) -> None:
        """In a worker: say what is being done, do it, say how it went."""
        self.call_from_thread(self.notify, f"{doing} ...", timeout=2)
        try:
            call()
        except ApiError as err:
            self.call_from_thread(self.notify, str(err), severity="error", timeout=6)
            return
        self.call_from_thread(self.notify, done, timeout=3)

    @work(thread=True, exit_on_error=False)
    def ask_debug(self, namespace: str, name: str) -> None:
        if (pod := self.read_pod(namespace, name)) is None:
            return
        apps, inits, _ = container_names(pod)
        containers = apps + inits

        def answered(request: DebugRequest | None) -> None:
            if request is not None:
                self.hand_over(["debug", "-n", namespace, name, "--image", request.image, "--profile",
                                request.profile, *(["--target", request.target] if request.target else []),
                                "-it", "--", "sh"])

        self.call_from_thread(self.push_screen, DebugDialog(namespace, name, containers), answered)

    def forward(self, namespace: str, name: str, ports: list[str]) -> None:
        """``podbay port-forward`` in the background until the TUI exits (or the pod goes)."""
        argv = [sys.executable, "-m", "podbay.runtime.cli.main", "port-forward", "-n", namespace, name, *ports]
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        self.forwards.append(process)
        self.report_forward(process, len(ports))

    @work(thread=True, exit_on_error=False)
    def report_forward(self, process: subprocess.Popen[str], count: int) -> None:
        assert process.stdout is not None
        for _ in range(count):
            line = process.stdout.readline().strip()
            if not line:
                break
            self.call_from_thread(self.notify, line, severity="information" if line.startswith("Forwarding")
                                  else "error", timeout=6)

    def on_unmount(self) -> None:
        for process in self.forwards:
            process.terminate()
            process.wait()

    def hand_over(self, args: list[str]) -> None:
        """``podbay ARGS`` (exec -it, debug -it) on the real terminal, the app suspended meanwhile."""
        argv = [sys.executable, "-m", "podbay.runtime.cli.main", *args]
        # The child stays in our process group (the terminal's foreground one, or its raw mode would stop
        # it with SIGTTOU); a Ctrl-C before it goes raw must not end the TUI: no-op handlers meanwhile
        # (not SIG_IGN, which the child would inherit).
        previous = {number: signal.signal(number, lambda *_: None) for number in (signal.SIGINT, signal.SIGQUIT)}
        try:
            with self.suspend():
                code = subprocess.call(argv)
        except Exception as err:  # SuspendNotSupported and friends: said, never a crash
            self.notify(f"cannot hand over the terminal here: {err}", severity="warning")
            return
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        if code not in (0, 130):
            self.notify(f"podbay {args[0]} ended with code {code}", severity="warning", timeout=4)


def make_app(runtime: RuntimeAPI | None = None) -> PodbayApp:
    return PodbayApp(runtime if runtime is not None else default_runtime())

