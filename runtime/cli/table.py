"""Output helpers shared by the kubectl-like commands: tables, ages and label selectors."""

from __future__ import annotations

import re


def table(rows: list[list[str]]) -> str:
    """kubectl's tabwriter layout: columns padded to the widest cell plus three spaces."""
    if not rows:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery's HumanDuration, as kubectl prints AGE."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A Go duration (``5m``, ``1h30m``, ``10s``) in seconds; ValueError names what is wrong."""
    position, total = 0, 0.0
    for match in DURATION.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"invalid duration {text!r} (for example 30s, 5m, 1h)")
    return total


SELECTOR = re.compile(r"\s*(!?)\s*([A-Za-z0-9_./-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9_.-]*)|"
                      r"\s(in|notin)\s*\(([^)]*)\))?\s*(?:,|$)")


def parse_selector(text: str) -> list[tuple[str, str, set[str]]]:
    """A label selector (``app=web,tier!=db,env in (a,b),!legacy``) as (key, operator, values)."""
    out: list[tuple[str, str, set[str]]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = SELECTOR.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"unable to parse requirement: {text[position:]!r}")
        negated, key, op, value, set_op, values = match.groups()
        if negated:
            out.append((key, "!", set()))
        elif op:
            out.append((key, "!=" if op == "!=" else "=", {value}))
        elif set_op:
            out.append((key, set_op, {v.strip() for v in values.split(",") if v.strip()}))
        else:
            out.append((key, "exists", set()))
        position = match.end()
    return out


def selects(requirements: list[tuple[str, str, set[str]]], labels: dict[str, str]) -> bool:
    for key, op, values in requirements:
        present = key in labels
        if (op == "!" and present) or (op == "exists" and not present):
            return False
        if op in ("=", "in") and (not present or labels[key] not in values):
            return False
        if op in ("!=", "notin") and present and labels[key] in values:
            return False
    return True
