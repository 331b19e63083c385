"""``podbay doctor``: what this host lets podbay do (runtime/hostcheck.py), one line per check;
exit code 1 when pods cannot run at all here."""

from __future__ import annotations

import os
import sys

from podbay.runtime.hostcheck import run_checks
from podbay.runtime.paths import Paths


def doctor_command() -> int:
    checks = run_checks()
    width = max(len(check.name) for check in checks)
    for check in checks:
        print(f"{check.level:<5} {check.name:<{width}}  {check.detail}")
    failed = [check.name for check in checks if check.level == "fail"]
    if failed:
        print(f"\npods cannot run here: {', '.join(failed)}")
        return 1
    return 0


def info_command(paths: Paths, output: str) -> int:
    """``podbay info``: the same checks and podbay's set-up as data, as ``podman info`` gives it."""
    import json  # noqa: PLC0415
    import platform  # noqa: PLC0415

    from podbay.runtime import settings  # noqa: PLC0415
    from podbay.runtime.cgroups.hierarchy import detect  # noqa: PLC0415
    from podbay.runtime.version import __version__  # noqa: PLC0415

    try:
        chosen = settings.load()
    except settings.SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    found = detect(chosen)
    data = {
        "version": __version__, "kernel": platform.release(), "rootless": os.geteuid() != 0,
        "store": {"data": str(paths.data_dir), "state": str(paths.run_dir)},
        "settings": {"file": str(settings.settings_file()), "cgroups": chosen.cgroups,
                     "cgroupRoot": chosen.cgroup_root, "podPidsLimit": chosen.pod_pids_limit,
                     "memorySwap": chosen.memory_swap},
        "cgroups": {"root": str(found.root) if found.root else None, "controllers": sorted(found.controllers),
                    "delegated": str(found.delegated) if found.delegated else None,
                    "missing": found.why_missing or None},
        "checks": [{"name": c.name, "level": c.level, "detail": c.detail} for c in run_checks()],
    }
    if output == "json":
        print(json.dumps(data, indent=2))
    else:
        import yaml  # noqa: PLC0415

        print(yaml.safe_dump(data, sort_keys=False), end="")
    return 0
