"""How a column of numbers written by people reads (optiloop.models.numbers), at ingest and serving."""

from __future__ import annotations

import pytest

from optiloop.models import numbers as nb


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("1234.5", nb.PLAIN, 1234.5),
        ("1,234.5", nb.PLAIN, None),
        ("$1,234.50", nb.POINT, 1234.5),
        ("-$3", nb.POINT, -3.0),
        ("12.5%", nb.POINT, 12.5),
        ("1,5", nb.COMMA, 1.5),
        ("1.234,5", nb.COMMA, 1234.5),
        ("1 234,5 €", nb.COMMA, 1234.5),
        ("1.234", nb.COMMA, 1234.0),  # grouping, in a decimal-comma column
        ("1.5", nb.COMMA, 1.5),  # not grouping (three digits would follow): what float() reads
        ("1e3", nb.POINT, 1000.0),
        ("12,34,5", nb.POINT, None),
        ("abc", nb.COMMA, None),
        (True, nb.PLAIN, None),
        (7, nb.COMMA, 7.0),
    ],
)
def test_a_value_reads_in_its_columns_format(text: object, fmt: str, expected: float | None) -> None:
    assert nb.read(text, fmt) == expected


def test_the_values_decide_the_format_and_the_separator_breaks_a_tie() -> None:
    assert nb.infer(["1,5", "2,25", "1.234,5"]).format == nb.COMMA  # type: ignore[union-attr]
    assert nb.infer(["1,234.5", "12.0"]).format == nb.POINT  # type: ignore[union-attr]
    # every value `1,234`-shaped: a thousand in a comma-separated file, a decimal in a semicolon one
    assert nb.infer(["1,234", "2,345"]).values == [1234.0, 2345.0]  # type: ignore[union-attr]
    assert nb.infer(["1,234", "2,345"], comma_hint=True).values == [1.234, 2.345]  # type: ignore[union-attr]
    assert nb.infer(["3", "4.5"]).format == nb.PLAIN  # type: ignore[union-attr]


def test_a_few_stray_words_are_missing_but_a_column_of_words_is_not_numeric() -> None:
    values = [str(i) for i in range(100)] + ["unknown", "unknown", "n.k."]
    reading = nb.infer(values)
    assert reading is not None and reading.format == nb.PLAIN
    assert reading.missing_as == ("n.k.", "unknown") and reading.values[-3:] == [None, None, None]
    assert nb.infer([str(i) for i in range(100)] + ["unknown"] * 10) is None  # over 5%
    assert nb.infer([str(i) for i in range(100)] + ["a", "b", "c", "d"]) is None  # four distinct words
    assert nb.infer([str(i) for i in range(10)] + ["unknown"]) is None  # too few numbers to tell
    assert nb.infer(["red", "green", "blue"] * 40) is None


def test_a_number_in_another_format_is_never_forgiven_as_a_stray() -> None:
    """`1,5` among plain numbers is a decimal comma, a real value: the column is read in that format,
    not with the value dropped as a word."""
    reading = nb.infer([str(i) for i in range(100)] + ["1,5"])
    assert (
        reading is not None
        and reading.format == nb.COMMA
        and reading.values[-1] == 1.5
        and not reading.missing_as
    )
