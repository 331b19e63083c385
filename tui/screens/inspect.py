"""The kernel's view of a pod's containers (``podbay inspect pod``, made readable): namespaces with
which containers share each, id maps, cgroup, capabilities by name for each set, no_new_privs,
seccomp mode and filters, the effective argv, env and user, and the mounts."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, TextArea

from podbay.tui.services import ApiError, capability_names

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

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__()
        self.namespace, self.pod_name = namespace, name

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextArea("", read_only=True, id="kernel")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"the kernel's view of {self.namespace}/{self.pod_name}"
        self.action_reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def action_reload(self) -> None:
        runtime = self.app.runtime  # type: ignore[attr-defined]
        try:
            text = kernel_view(runtime.inspect(self.namespace, self.pod_name), runtime.host_limits())
        except ApiError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error", timeout=5)
            return
        self.app.call_from_thread(self.query_one(TextArea).load_text, text)
