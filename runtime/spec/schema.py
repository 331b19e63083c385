"""One declaration per field drives decoding, encoding, warnings and ``podbay explain``.

Model classes are dataclasses whose fields are declared with :func:`text`,
:func:`num`, :func:`flag`, :func:`opt`, :func:`many` or :func:`table`. Each
declaration carries the field's JSON name (derived from the Python name unless
given), a one-line description for ``explain``, and whether podbay honours it.

Decoding is strict, as ``kubectl apply --validate=strict``: unknown fields and
wrong types are errors naming the field path; fields podbay does not honour are
accepted and reported as warnings, never dropped silently.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar, Union, get_args, get_origin

from podbay.runtime.spec.errors import ErrorType, FieldError, FieldWarning, Key, Path, render_value
from podbay.runtime.spec.quantity import Quantity, QuantityError, parse_quantity


class Honour(enum.Enum):
    """What podbay does with a field."""

    HONOURED = "honoured"
    IGNORED = "ignored on a single node"
    UNSUPPORTED = "not supported by podbay"
    OUTPUT = "set by podbay; a given value is ignored"


# Marker type for Kubernetes IntOrString fields (a port number or a port name).
IntOrString = int | str


class Opaque:
    """Marker type: any JSON value, kept as given (used for fields podbay does not interpret)."""


# Acronyms the Kubernetes API spells in capitals inside camelCase names.
_ACRONYMS = {"ipc": "IPC", "pid": "PID", "ip": "IP", "ips": "IPs", "fqdn": "FQDN", "uid": "UID",
             "dns": "DNS", "api": "API", "tcp": "TCP", "http": "HTTP", "url": "URL"}


def camel_case(name: str) -> str:
    """``host_ipc`` -> ``hostIPC``; ``http_get`` -> ``httpGet``; ``api_version`` -> ``apiVersion``."""
    first, *rest = name.split("_")
    out = first
    for part in rest:
        out += _ACRONYMS.get(part, part[:1].upper() + part[1:])
    return out


def _declare(default: Any, doc: str, key: str | None, honour: Honour, why: str) -> Any:
    metadata = {"doc": doc, "key": key, "honour": honour, "why": why}
    if callable(default):
        return field(default_factory=default, metadata=metadata)
    return field(default=default, metadata=metadata)


def text(doc: str, *, key: str | None = None, honour: Honour = Honour.HONOURED, why: str = "") -> Any:
    """A string field; unset is ``""`` (Go's zero value)."""
    return _declare("", doc, key, honour, why)


def num(doc: str, *, key: str | None = None, honour: Honour = Honour.HONOURED, why: str = "") -> Any:
    """An integer field whose unset value is 0 (Go: a plain int32, defaulted when 0)."""
    return _declare(0, doc, key, honour, why)


def flag(doc: str, *, key: str | None = None, honour: Honour = Honour.HONOURED, why: str = "") -> Any:
    """A boolean field whose unset value is false."""
    return _declare(False, doc, key, honour, why)


def opt(doc: str, *, key: str | None = None, honour: Honour = Honour.HONOURED, why: str = "") -> Any:
    """An optional field (a pointer in Go): ``None`` when not given."""
    return _declare(None, doc, key, honour, why)


def many(doc: str, *, key: str | None = None, honour: Honour = Honour.HONOURED, why: str = "") -> Any:
    """A list field; unset is an empty list."""
    return _declare(list, doc, key, honour, why)


def table(doc: str, *, key: str | None = None, honour: Honour = Honour.HONOURED, why: str = "") -> Any:
    """A map field; unset is an empty dict."""
    return _declare(dict, doc, key, honour, why)


T = TypeVar("T")


@dataclass(frozen=True)
class FieldInfo:
    """What the schema knows about one field of one model class."""

    name: str
    key: str
    hint: Any
    doc: str
    honour: Honour
    why: str
    default: Any


_FIELDS: dict[type, dict[str, FieldInfo]] = {}


def fields_of(cls: type) -> dict[str, FieldInfo]:
    """The fields of a model class, by JSON key (computed once per class)."""
    cached = _FIELDS.get(cls)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls)
    out: dict[str, FieldInfo] = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata
        key = meta.get("key") or camel_case(f.name)
        default: Any = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out[key] = FieldInfo(f.name, key, hints[f.name], meta.get("doc", ""),
                             meta.get("honour", Honour.HONOURED), meta.get("why", ""), default)
    _FIELDS[cls] = out
    return out


def strip_optional(hint: Any) -> Any:
    """``X | None`` -> ``X``; leaves ``int | str`` (IntOrString) alone."""
    if _is_union(hint):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
        return Union[tuple(args)]  # noqa: UP007 - rebuilding a union from parts
    return hint


def _is_union(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType)


def is_int_or_string(hint: Any) -> bool:
    return _is_union(hint) and set(get_args(hint)) - {type(None)} == {int, str}


def is_model(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint) and hint is not Quantity


class DecodeContext:
    """Collects errors and warnings while one document is decoded."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.warnings: list[FieldWarning] = []

    def error(self, path: Path, kind: ErrorType, value: Any = None, detail: str = "") -> None:
        self.errors.append(FieldError(path, kind, value, detail) if value is not None
                           else FieldError(path, kind, detail=detail))


_JSON_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
                    list: "a list", dict: "an object", type(None): "null"}


def _json_type(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _type_error(ctx: DecodeContext, path: Path, value: Any, expected: str) -> None:
    detail = f"expected {expected}, got {_json_type(value)}"
    if expected == "a string" and isinstance(value, bool | int | float):
        # The YAML 1.1 traps: `on`, `yes`, `1.10`, `0755` do not load as strings.
        detail += " (quote it: YAML reads yes/no/on/off/true/false and bare numbers as non-strings)"
    shown = value if isinstance(value, str | int | float | bool) else None
    ctx.errors.append(FieldError(path, ErrorType.TYPE, shown, detail) if shown is not None
                      else FieldError(path, ErrorType.TYPE, detail=detail))


def decode(cls: type[T], data: Any, path: Path, ctx: DecodeContext) -> T:
    """Build a model object from parsed YAML/JSON, strictly."""
    known = fields_of(cls)
    values: dict[str, Any] = {}
    if not isinstance(data, dict):
        _type_error(ctx, path, data, "an object")
        return cls()
    for raw_key, raw_value in data.items():
        if not isinstance(raw_key, str):
            ctx.error(path, ErrorType.UNKNOWN_FIELD, detail=f"field names must be strings, got {render_value(raw_key)}")
            continue
        info = known.get(raw_key)
        if info is None:
            ctx.error(path + (raw_key,), ErrorType.UNKNOWN_FIELD, detail=_unknown_detail(raw_key, known))
            continue
        if raw_value is None:
            continue  # JSON null: the field keeps its zero value, as in Go.
        value = convert(info.hint, raw_value, path + (raw_key,), ctx)
        values[info.name] = value
        if info.honour is not Honour.HONOURED and not is_empty(value):
            message = info.honour.value + (f": {info.why}" if info.why else "")
            ctx.warnings.append(FieldWarning(path + (raw_key,), message))
    return cls(**values)


def _unknown_detail(key: str, known: dict[str, FieldInfo]) -> str:
    detail = f'field "{key}" is not part of this object'
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    if not close:
        lowered = {k.lower(): k for k in known}
        if key.lower() in lowered:
            close = [lowered[key.lower()]]
    if close:
        detail += f' (did you mean "{close[0]}"?)'
    return detail


def convert(hint: Any, value: Any, path: Path, ctx: DecodeContext) -> Any:
    """Convert one parsed value to the type a field declares."""
    if is_int_or_string(hint):
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        _type_error(ctx, path, value, "an integer or a string")
        return None
    hint = strip_optional(hint)
    origin = get_origin(hint)
    if hint is Opaque or hint is Any:
        return value
    if hint is str:
        if isinstance(value, str):
            return value
        _type_error(ctx, path, value, "a string")
        return ""
    if hint is bool:
        if isinstance(value, bool):
            return value
        _type_error(ctx, path, value, "a boolean")
        return False
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        _type_error(ctx, path, value, "an integer")
        return 0
    if hint is Quantity:
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            try:
                return parse_quantity(value)
            except QuantityError as err:
                ctx.error(path, ErrorType.INVALID, value, str(err))
                return None
        _type_error(ctx, path, value, "a quantity (for example 100m, 0.5 or 128Mi)")
        return None
    if origin is list:
        if not isinstance(value, list):
            _type_error(ctx, path, value, "a list")
            return []
        (item_hint,) = get_args(hint)
        return [convert(item_hint, item, path + (index,), ctx) for index, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            _type_error(ctx, path, value, "an object")
            return {}
        _, value_hint = get_args(hint)
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                _type_error(ctx, path, key, "a string key")
                continue
            converted = convert(value_hint, item, path + (Key(key),), ctx) if item is not None else None
            if converted is not None:  # null entries, and entries that failed to convert, are left out
                out[key] = converted
        return out
    if is_model(hint):
        return decode(hint, value, path, ctx)
    raise TypeError(f"schema: unsupported field type {hint!r} at {path}")  # a bug in the model


def is_empty(value: Any) -> bool:
    """Go's zero values: a field holding one counts as not given."""
    return value is None or value is False or value in ("", 0) or value in ([], {})


def encode(obj: Any) -> Any:
    """A model object back to plain JSON-able data, omitting fields left at their zero value."""
    if isinstance(obj, Quantity):
        return str(obj)
    if is_model(type(obj)):
        out: dict[str, Any] = {}
        for key, info in fields_of(type(obj)).items():
            value = getattr(obj, info.name)
            if value is None or (value == info.default and not is_model(type(value))):
                continue
            out[key] = encode(value)
        return out
    if isinstance(obj, list):
        return [encode(item) for item in obj]
    if isinstance(obj, dict):
        return {key: encode(item) for key, item in obj.items()}
    return obj
