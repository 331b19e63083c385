from decimal import Decimal

import pytest

from podbay.runtime.spec.quantity import QUANTITY_PATTERN, Quantity, QuantityError, parse_quantity


@pytest.mark.parametrize(("text", "canonical"), [
    ("100m", "100m"), ("0.5", "500m"), ("1", "1"), ("1000", "1k"), ("1500", "1500"), ("1.5", "1500m"),
    ("128Mi", "128Mi"), ("1.5Gi", "1536Mi"), ("2048Ki", "2Mi"), ("1024", "1024"), ("1Ki", "1Ki"),
    ("1G", "1G"), ("1e3", "1e3"), ("1E6", "1e6"), ("12e-3", "12e-3"), ("0", "0"), ("-1", "-1"),
    ("0.1", "100m"), ("1n", "1n"), ("1u", "1u"), ("2T", "2T"), ("1Ei", "1Ei"), (".5", "500m"),
    ("100Mi", "100Mi"), ("1.1Ki", "1126400m"),
])
def test_canonical_form_matches_kubernetes(text: str, canonical: str) -> None:
    assert str(parse_quantity(text)) == canonical


@pytest.mark.parametrize(("value", "expected"), [(1, "1"), (0.5, "500m"), (2.25, "2250m"), (1000, "1k")])
def test_yaml_numbers_are_quantities(value: int | float, expected: str) -> None:
    assert str(parse_quantity(value)) == expected


def test_exact_decimal_arithmetic() -> None:
    assert parse_quantity("0.1") + parse_quantity("0.2") == parse_quantity("300m")
    assert parse_quantity("1Gi").value == Decimal(1024**3)
    assert parse_quantity("1G").value == Decimal(10**9)
    assert parse_quantity("250m").milli_value() == 250
    assert parse_quantity("1.5").milli_value() == 1500
    assert parse_quantity("0.0001").milli_value() == 1  # rounds up, as MilliValue does
    assert parse_quantity("1.5Ki").int_value() == 1536


def test_ordering_and_equality_ignore_format() -> None:
    assert parse_quantity("1k") == parse_quantity("1000") == parse_quantity("1e3")
    assert parse_quantity("500m") < parse_quantity("1")
    assert max(parse_quantity("1Gi"), parse_quantity("1G")) == parse_quantity("1Gi")


def test_finer_than_nano_rounds_up() -> None:
    assert str(parse_quantity("0.0000000001")) == "1n"


def test_round_up_to_milli() -> None:
    assert str(parse_quantity("0.0001").round_up(-3)) == "1m"
    assert str(parse_quantity("1.0001").round_up(-3)) == "1001m"


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1Kb", "1 Gi", "--1", "1e", "Mi", "1ki", "0x10", "1e999"])
def test_malformed_quantities_are_refused(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_error_quotes_the_api_server_regex() -> None:
    with pytest.raises(QuantityError, match=r"quantities must match the regular expression"):
        parse_quantity("abc")
    assert QUANTITY_PATTERN == r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


def test_booleans_and_non_finite_numbers_are_not_quantities() -> None:
    for value in (True, float("inf"), float("nan")):
        with pytest.raises(QuantityError):
            parse_quantity(value)  # type: ignore[arg-type]


def test_repr_and_hash() -> None:
    assert repr(Quantity.parse("1Gi")) == "Quantity('1Gi')"
    assert len({parse_quantity("1k"), parse_quantity("1000")}) == 1
