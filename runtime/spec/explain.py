"""``podbay explain``: what a field means, its type, and whether podbay honours it."""

from __future__ import annotations

import difflib
import textwrap
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from podbay.runtime.spec.kinds import ALIASES, model_for
from podbay.runtime.spec.quantity import Quantity
from podbay.runtime.spec.schema import (
    FieldInfo,
    Honour,
    Opaque,
    fields_of,
    is_int_or_string,
    is_model,
    strip_optional,
)


class ExplainError(ValueError):
    """A path that names no field; the message says which part is wrong."""


@dataclass(frozen=True)
class Explanation:
    kind: str
    api_version: str
    field: FieldInfo | None  # None when the path is the kind itself
    target: Any  # the model class (or leaf type) the path ends at


def type_name(hint: Any) -> str:
    """The type as kubectl explain shows it: ``string``, ``[]Container``, ``map[string]string``..."""
    if is_int_or_string(hint):
        return "IntOrString"
    hint = strip_optional(hint)
    origin = get_origin(hint)
    if origin is list:
        return "[]" + type_name(get_args(hint)[0])
    if origin is dict:
        return "map[string]" + type_name(get_args(hint)[1])
    simple = {str: "string", int: "integer", bool: "boolean", Quantity: "Quantity", Opaque: "Object"}
    if hint in simple:
        return simple[hint]
    return str(getattr(hint, "__name__", hint))


def _element_type(hint: Any) -> Any:
    """The model class behind a field (through lists and maps), or the leaf type."""
    hint = strip_optional(hint)
    while get_origin(hint) in (list, dict):
        hint = strip_optional(get_args(hint)[-1])
    return hint


def resolve(path: str) -> Explanation:
    """Resolve ``pod.spec.containers.livenessProbe`` to its field."""
    parts = [p for p in path.strip().split(".") if p]
    if not parts:
        raise ExplainError("name a resource, for example: podbay explain pod.spec.containers")
    found = model_for(parts[0])
    if found is None:
        known = ", ".join(sorted({a for a in ALIASES if a == a.rstrip("s") or len(a) <= 3}))
        raise ExplainError(f'the server doesn\'t have a resource type "{parts[0]}" (podbay knows: {known})')
    api_version, target = found
    kind = target.__name__
    info: FieldInfo | None = None
    walked = kind
    for part in parts[1:]:
        if not is_model(target):
            raise ExplainError(f'field "{part}" does not exist: {walked} is a {type_name(target)}, not an object')
        known_fields = fields_of(target)
        info = known_fields.get(part)
        if info is None:
            close = difflib.get_close_matches(part, list(known_fields), n=1, cutoff=0.6)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise ExplainError(f'field "{part}" does not exist in {walked}{hint}')
        target = _element_type(info.hint)
        walked += f".{part}"
    return Explanation(kind, api_version, info, target)


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=80, initial_indent=indent, subsequent_indent=indent)


def honour_text(info: FieldInfo) -> str:
    if info.honour is Honour.HONOURED:
        return "honoured"
    label: str = info.honour.value
    return label + (f" ({info.why})" if info.why else "")


def render(explanation: Explanation, recursive: bool = False) -> str:
    lines = [f"KIND:       {explanation.kind}", f"VERSION:    {explanation.api_version}", ""]
    info = explanation.field
    if info is not None:
        lines += [f"FIELD:      {info.key} <{type_name(info.hint)}>",
                  f"PODBAY:     {honour_text(info)}", "", "DESCRIPTION:", _wrap(info.doc, "    "), ""]
    target = explanation.target
    if is_model(target):
        lines.append("FIELDS:")
        lines += _render_fields(target, "  ", recursive, seen=(target,))
    return "\n".join(lines).rstrip() + "\n"


def _render_fields(cls: type, indent: str, recursive: bool, seen: tuple[type, ...]) -> list[str]:
    out: list[str] = []
    for key, info in fields_of(cls).items():
        note = "" if info.honour is Honour.HONOURED else f"  [{info.honour.value}]"
        out.append(f"{indent}{key}\t<{type_name(info.hint)}>{note}")
        if recursive:
            inner = _element_type(info.hint)
            if is_model(inner) and inner not in seen:
                out += _render_fields(inner, indent + "  ", recursive, seen + (inner,))
        else:
            out.append(_wrap(info.doc, indent + "  "))
            out.append("")
    return out
