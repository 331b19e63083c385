"""``podbay explain``: field documentation from the model itself."""

from __future__ import annotations

import sys
from typing import TextIO

from podbay.runtime.spec.explain import ExplainError, render, resolve


def explain_command(field: str, recursive: bool = False, out: TextIO = sys.stdout,
                    err: TextIO = sys.stderr) -> int:
    try:
        explanation = resolve(field)
    except ExplainError as error:
        err.write(f"error: {error}\n")
        return 1
    out.write(render(explanation, recursive=recursive))
    return 0
