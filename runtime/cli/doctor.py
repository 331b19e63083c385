"""``podbay doctor``: what this host lets podbay do (runtime/hostcheck.py), one line per check;
exit code 1 when pods cannot run at all here."""

from __future__ import annotations

from podbay.runtime.hostcheck import run_checks


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
