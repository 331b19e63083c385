"""Kubernetes resource quantities (``100m``, ``0.5``, ``128Mi``, ``1G``, ``1e3``) in exact decimals.

Mirrors k8s.io/apimachinery/pkg/api/resource/quantity.go: the same grammar, the
three formats (BinarySI, DecimalSI, DecimalExponent) and the same canonical
form, so ``podbay validate -o yaml`` prints what ``kubectl get -o yaml`` would
(``0.5`` becomes ``500m``, ``1536Mi`` stays ``1536Mi``, ``1000`` becomes ``1k``).
"""

from __future__ import annotations

import decimal
import enum
import functools
import math
import re
from dataclasses import dataclass
from decimal import Decimal

# The regular expression the API server quotes in its error message.
QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_QUANTITY_RE = re.compile(QUANTITY_PATTERN)
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_EXPONENT_RE = re.compile(r"^[eE]([+-]?\d+)$")

_BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXPONENT = {exp: suffix for suffix, exp in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER = {power: suffix for suffix, power in _BINARY_SUFFIXES.items()}

# Enough digits for 2^63 at nano precision and then some.
_CONTEXT = decimal.Context(prec=80)
_NANO = Decimal("1e-9")


class QuantityFormat(enum.Enum):
    BINARY_SI = "BinarySI"
    DECIMAL_SI = "DecimalSI"
    DECIMAL_EXPONENT = "DecimalExponent"


class QuantityError(ValueError):
    """Text that is not a quantity; the message is the API server's."""


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Quantity:
    """An exact amount plus the format it was written in (for printing it back)."""

    value: Decimal
    format: QuantityFormat = QuantityFormat.DECIMAL_SI

    @classmethod
    def parse(cls, text: str | int | float) -> Quantity:
        return parse_quantity(text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __lt__(self, other: Quantity) -> bool:
        return self.value < other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(_CONTEXT.add(self.value, other.value), self.format)

    def is_zero(self) -> bool:
        return self.value == 0

    def round_up(self, exponent: int) -> Quantity:
        """Round away from zero to 10**exponent, as ``Quantity.RoundUp`` does."""
        step = Decimal(1).scaleb(exponent)
        rounded = self.value.quantize(step, rounding=decimal.ROUND_UP, context=_CONTEXT)
        return Quantity(rounded, self.format)

    def milli_value(self) -> int:
        """The value in thousandths, rounded up (``MilliValue``): CPU in millicores."""
        return int((self.value * 1000).to_integral_value(rounding=decimal.ROUND_UP))

    def int_value(self) -> int:
        """The value rounded up to a whole number (``Value``): memory in bytes."""
        return int(self.value.to_integral_value(rounding=decimal.ROUND_UP))

    def is_integer(self) -> bool:
        return self.value == self.value.to_integral_value()

    def __str__(self) -> str:
        return canonical(self)

    def __repr__(self) -> str:
        return f"Quantity({canonical(self)!r})"


def parse_quantity(text: str | int | float) -> Quantity:
    """Parse a quantity from YAML (a string, or a bare number as YAML loads it)."""
    if isinstance(text, bool):
        raise QuantityError("quantities must be strings or numbers")
    if isinstance(text, int):
        return Quantity(Decimal(text))
    if isinstance(text, float):
        if not math.isfinite(text):
            raise QuantityError("quantities must be finite numbers")
        # repr() gives the shortest text that reads back as the same float.
        text = repr(text)
    if not _QUANTITY_RE.match(text):
        raise QuantityError(f"quantities must match the regular expression '{QUANTITY_PATTERN}'")
    number, suffix = _split(text)
    if not _NUMBER_RE.match(number):
        raise QuantityError("unable to parse quantity's numeric part")
    amount = Decimal(number)
    if suffix in _BINARY_SUFFIXES:
        value = _CONTEXT.multiply(amount, Decimal(1024) ** _BINARY_SUFFIXES[suffix])
        return _limit(Quantity(value, QuantityFormat.BINARY_SI))
    if suffix in _DECIMAL_SUFFIXES:
        value = amount.scaleb(_DECIMAL_SUFFIXES[suffix], context=_CONTEXT)
        return _limit(Quantity(value, QuantityFormat.DECIMAL_SI))
    match = _EXPONENT_RE.match(suffix)
    if match:
        exponent = int(match.group(1))
        if abs(exponent) > 100:
            raise QuantityError("quantity exponent is out of range")
        value = amount.scaleb(exponent, context=_CONTEXT)
        return _limit(Quantity(value, QuantityFormat.DECIMAL_EXPONENT))
    raise QuantityError("unable to parse quantity's suffix")


def _split(text: str) -> tuple[str, str]:
    """Split ``1.5Gi`` into ``1.5`` and ``Gi`` (the number ends at the first suffix letter)."""
    for index, char in enumerate(text):
        if char not in "+-0123456789." or (char in "+-" and index > 0):
            return text[:index], text[index:]
    return text, ""


def _limit(quantity: Quantity) -> Quantity:
    """Kubernetes keeps at most nano precision, rounding up what is finer."""
    if quantity.value != quantity.value.quantize(_NANO, context=_CONTEXT):
        return quantity.round_up(-9)
    return quantity


def canonical(quantity: Quantity) -> str:
    """The canonical text of a quantity (``Quantity.String``)."""
    value = quantity.value
    if value == 0:
        return "0"
    fmt = quantity.format
    if fmt is QuantityFormat.BINARY_SI and (not quantity.is_integer() or abs(value) < 1024):
        fmt = QuantityFormat.DECIMAL_SI
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if fmt is QuantityFormat.BINARY_SI:
        integer = int(magnitude)
        power = 0
        while power < 6 and integer % (1024 ** (power + 1)) == 0:
            power += 1
        return f"{sign}{integer // 1024**power}{_BINARY_BY_POWER.get(power, '')}"
    mantissa, exponent = _decimal_parts(magnitude)
    if fmt is QuantityFormat.DECIMAL_EXPONENT:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    return f"{sign}{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"


def _decimal_parts(magnitude: Decimal) -> tuple[int, int]:
    """Write ``magnitude`` as integer * 10**exponent, exponent a multiple of 3 in [-9, 18], as large as possible."""
    for exponent in range(18, -12, -3):
        scaled = magnitude.scaleb(-exponent, context=_CONTEXT)
        if scaled == scaled.to_integral_value() and scaled >= 1:
            return int(scaled), exponent
    # Finer than nano never reaches here: parse_quantity rounded it up.
    scaled = magnitude.scaleb(9, context=_CONTEXT).to_integral_value(rounding=decimal.ROUND_UP)
    return int(scaled), -9
