"""Field errors and warnings in the API server's wording.

A Kubernetes validation error reads ``spec.containers[1].name: Duplicate value: "web"``:
a field path, an error type, the offending value rendered as Go's ``%#v`` would
(strings quoted, numbers bare) and an optional detail. We keep that shape so
that messages users search for match what they see from kubectl.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

PathElement = str | int
Path = tuple[PathElement, ...]


def render_path(path: Path) -> str:
    """``("spec", "containers", 0, "name")`` -> ``spec.containers[0].name``.

    Integers are list indexes; strings that follow a map field are rendered as
    ``[key]`` by the caller passing them wrapped in :class:`Key`.
    """
    out = ""
    for element in path:
        if isinstance(element, int):
            out += f"[{element}]"
        elif isinstance(element, Key):
            out += f"[{element.name}]"
        else:
            out += f".{element}" if out else element
    return out


class Key(str):
    """A map key inside a path (rendered ``labels[app]``, not ``labels.app``)."""

    @property
    def name(self) -> str:
        return str(self)


class ErrorType(enum.Enum):
    """The error types of k8s.io/apimachinery/pkg/util/validation/field."""

    REQUIRED = "Required value"
    INVALID = "Invalid value"
    DUPLICATE = "Duplicate value"
    NOT_SUPPORTED = "Unsupported value"
    NOT_FOUND = "Not found"
    FORBIDDEN = "Forbidden"
    TOO_LONG = "Too long"
    TOO_MANY = "Too many"
    UNKNOWN_FIELD = "Unknown field"
    TYPE = "Invalid type"
    DOCUMENT = ""  # a problem with a whole document or file: only the detail is shown


# Error types whose text shows no value (as field.Error.ErrorBody does).
_VALUELESS = {ErrorType.REQUIRED, ErrorType.FORBIDDEN, ErrorType.TOO_LONG, ErrorType.TOO_MANY}

_NO_VALUE = object()


def render_value(value: Any) -> str:
    """Render a value as the API server does: strings quoted, numbers bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "null"
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of one object."""

    path: Path
    type: ErrorType
    value: Any = _NO_VALUE
    detail: str = ""

    @property
    def field(self) -> str:
        return render_path(self.path)

    def body(self) -> str:
        if self.type is ErrorType.DOCUMENT:
            return self.detail
        text: str = self.type.value
        if self.type not in _VALUELESS and self.value is not _NO_VALUE:
            text += f": {render_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.path else self.body()


@dataclass(frozen=True)
class FieldWarning:
    """Valid Kubernetes that podbay will not honour as a cluster would."""

    path: Path
    message: str

    @property
    def field(self) -> str:
        return render_path(self.path)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.path else self.message


def required(path: Path, detail: str = "") -> FieldError:
    return FieldError(path, ErrorType.REQUIRED, detail=detail)


def invalid(path: Path, value: Any, detail: str) -> FieldError:
    return FieldError(path, ErrorType.INVALID, value, detail)


def duplicate(path: Path, value: Any) -> FieldError:
    return FieldError(path, ErrorType.DUPLICATE, value)


def not_found(path: Path, value: Any) -> FieldError:
    return FieldError(path, ErrorType.NOT_FOUND, value)


def forbidden(path: Path, detail: str) -> FieldError:
    return FieldError(path, ErrorType.FORBIDDEN, detail=detail)


def not_supported(path: Path, value: Any, supported: list[str]) -> FieldError:
    choices = ", ".join(json.dumps(s) for s in supported)
    return FieldError(path, ErrorType.NOT_SUPPORTED, value, f"supported values: {choices}")


def too_many(path: Path, detail: str) -> FieldError:
    return FieldError(path, ErrorType.TOO_MANY, detail=detail)
