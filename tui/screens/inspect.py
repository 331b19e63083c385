"""The kernel's view of a pod's containers (``podbay inspect pod``, made readable): namespaces with
which containers share each, id maps, cgroup, capabilities by name for each set, no_new_privs,
seccomp mode and filters, the effective argv, env and user, and the mounts."""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, Sparkline, Static, TextArea

from podbay.tui.services import ApiError, PodUsage, Usage, capability_names, cpu_cores

HISTORY = 60  # samples (seconds) each graph keeps
GRAPHS = (("cpu", "CPU"), ("memory", "memory"), ("pids", "pids"), ("pressure", "pressure"))


def figures(before: Usage | None, after: Usage) -> dict[str, tuple[float, str]]:
    """Each graph's value and its label text, from two samples of a cgroup."""
    cores = cpu_cores(before, after) if before is not None else 0.0
    throttled = ""
    if before is not None and after.nr_periods > before.nr_periods:
        share = (after.nr_throttled - before.nr_throttled) / (after.nr_periods - before.nr_periods)
        throttled = f", throttled {100 * share:.0f}% of periods"
    limit = f" of {after.memory_max / 2**20:.0f} MiB" if after.memory_max else ""
    pids_max = f" of {after.pids_max}" if after.pids_max else ""
    worst = max(after.pressure.values(), default=0.0)
    psi = " ".join(f"{kind} {value:.1f}%" for kind, value in after.pressure.items()) or "not reported"
    return {"cpu": (cores, f"CPU {cores * 1000:.0f}m{throttled}"),
            "memory": (after.working_set / 2**20, f"memory {after.working_set / 2**20:.1f} MiB{limit} (peak "
                       f"{(after.memory_peak or 0) / 2**20:.1f} MiB)"),
            "pids": (float(after.pids), f"pids {after.pids}{pids_max}"),
            "pressure": (worst, f"pressure (PSI some avg10): {psi}")}

SECCOMP_MODES = {"0": "disabled", "1": "strict", "2": "filter"}
CAP_SETS = (("CapBnd", "bounding"), ("CapPrm", "permitted"), ("CapEff", "effective"), ("CapInh", "inheritable"),
            ("CapAmb", "ambient"))


def kernel_view(data: dict[str, Any], host_limits: list[str]) -> str:
    """The report as text (pure: tested on its own)."""
    containers: dict[str, dict[str, Any]] = data.get("containers", {})
    host = set(data.get("host_namespaces", {}).values())
    sharing: dict[str, list[str]] = {}
    for name, info in containers.items():
        for link in info.get("namespaces", {}).values():
            sharing.setdefault(link, []).append(name)
    out = [f"pod {data.get('namespace')}/{data.get('name')}  phase {data.get('phase')}  IP {data.get('ip') or '-'}",
           f"sandbox folder {data.get('sandbox', {}).get('folder', '')}", ""]
    for name, info in containers.items():
        process, settings = info.get("process", {}), info.get("settings", {})
        kind = info.get("kind", "app") + (f", target {info['target']}" if info.get("target") else "")
        out.append(f"== {name} ({kind})  pid {info.get('pid') or 'not running'}  runs {info.get('runs', 0)}")
        if not info.get("pid"):
            out.append("")
            continue
        out.append("namespaces:")
        for kind_name, link in sorted(info.get("namespaces", {}).items()):
            others = [other for other in sharing.get(link, []) if other != name]
            whose = "the host's" if link in host else (f"shared with {', '.join(others)}" if others else "its own")
            out.append(f"  {kind_name:7} {link:28} {whose}")
        out.append(f"uid map: {process.get('uid_map', '-')}")
        out.append(f"gid map: {process.get('gid_map', '-')}")
        out.append(f"cgroup:  {process.get('cgroup', '-')}")
        out.append(f"ids:     uid {process.get('Uid', '?')}  gid {process.get('Gid', '?')}  groups "
                   f"{process.get('Groups', '') or '-'}")
        out.append("capabilities:")
        for key, label in CAP_SETS:
            names = capability_names(process.get(key, "0"))
            out.append(f"  {label:11} {' '.join(names) if names else '(none)'}")
        mode = SECCOMP_MODES.get(process.get("Seccomp", ""), process.get("Seccomp", "?"))
        out.append(f"no_new_privs {process.get('NoNewPrivs', '?')}   seccomp {mode}"
                   + (f" ({process['Seccomp_filters']} filter(s))" if process.get("Seccomp_filters") else ""))
        out.append(f"argv:    {settings.get('argv', [])}")
        out.append(f"user:    {settings.get('user', '')}   cwd: {settings.get('cwd', '')}")
        out.append("env:")
        out.extend(f"  {entry}" for entry in settings.get("env", []))
        out.append("mounts:")
        out.extend(f"  {m['target']:30} {m['type']:10} {m['source']:20} {m['options']}" for m in info.get("mounts", []))
        out.append("")
    out.extend(f"note: {text}" for text in host_limits)
    return "\n".join(out)


class InspectScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back"),
                                             Binding("r", "reload", "Reload")]
    DEFAULT_CSS = """
    #usage { height: auto; grid-size: 2; grid-columns: 1fr 1fr; grid-rows: 1 2 1 2; padding: 0 1; }
    #usage Sparkline { height: 2; }
    #usage-note { padding: 0 1; color: $text-muted; }
    """

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__()
        self.namespace, self.pod_name = namespace, name
        self.last: Usage | None = None
        self.history: dict[str, deque[float]] = {key: deque(maxlen=HISTORY) for key, _ in GRAPHS}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="usage-note")
        with Grid(id="usage"):  # two graphs a row, each under its label
            for pair in (GRAPHS[:2], GRAPHS[2:]):
                for key, title in pair:
                    yield Label(title, id=f"{key}-label")
                for key, _ in pair:
                    yield Sparkline([], summary_function=max, id=f"{key}-graph")
        yield TextArea("", read_only=True, id="kernel")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"the kernel's view of {self.namespace}/{self.pod_name}"
        self.action_reload()
        self.sample()
        self.set_interval(1.0, self.sample)

    @work(thread=True, exclusive=True, group="usage", exit_on_error=False)
    def sample(self) -> None:
        runtime = self.app.runtime  # type: ignore[attr-defined]
        try:
            usage = runtime.usage(self.namespace, self.pod_name)
        except ApiError:
            return  # the pod went: the reload says so
        self.app.call_from_thread(self.show_usage, usage, runtime.host_limits() if usage.pod is None else [])

    def show_usage(self, usage: PodUsage, limits: list[str]) -> None:
        note = self.query_one("#usage-note", Static)
        if usage.pod is None:
            why = "; ".join(limits) or "the pod has no cgroup (it is not running)"
            note.update(f"no live CPU, memory, pids or pressure figures: {why}")
            self.query_one("#usage").display = False
            return
        self.query_one("#usage").display = True
        note.update(f"the pod's cgroup, live (last {HISTORY} s):")
        for key, (value, text) in figures(self.last, usage.pod).items():
            self.history[key].append(value)
            self.query_one(f"#{key}-label", Label).update(text)
            self.query_one(f"#{key}-graph", Sparkline).data = list(self.history[key])
        self.last = usage.pod

    @work(thread=True, exclusive=True, exit_on_error=False)
    def action_reload(self) -> None:
        runtime = self.app.runtime  # type: ignore[attr-defined]
        try:
            text = kernel_view(runtime.inspect(self.namespace, self.pod_name), runtime.host_limits())
        except ApiError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error", timeout=5)
            return
        self.app.call_from_thread(self.query_one(TextArea).load_text, text)
