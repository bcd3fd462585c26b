"""Dates as tables write them (optiloop.models.dateparts.FORMATS), and a model that reads them back."""

from __future__ import annotations

from datetime import datetime

import pytest

from optiloop.errors import InvalidInput
from optiloop.models import dateparts
from optiloop.models.signature import Input, Signature, parse_signature


@pytest.mark.parametrize(
    ("values", "fmt"),
    [
        (["2024-03-15", "2024-04-01T10:00:00+02:00"], ""),
        (["03/15/2024", "04/01/2024"], "%m/%d/%Y"),
        (["03/04/2024", "15/04/2024"], "%d/%m/%Y"),  # one day past 12 makes the column day-first
        (["03/04/2024"], "%m/%d/%Y"),  # a column that never says is month-first
        (["15.03.2024 10:30", "01.04.2024 08:05"], "%d.%m.%Y %H:%M"),
        (["3/5/2024 2:30 PM"], "%m/%d/%Y %I:%M %p"),
        (["15-Mar-2024", "01-Apr-2024"], "%d-%b-%Y"),
        (["Mar 2024", "Apr 2024"], "%b %Y"),
        (["2024-03", "2024-12"], "%Y-%m"),
    ],
)
def test_a_column_is_read_in_the_first_format_that_reads_all_of_it(values: list[str], fmt: str) -> None:
    reading = dateparts.infer_format(values)
    assert reading is not None and reading.format == fmt and reading.missing_as == ()


@pytest.mark.parametrize(
    "values", [["red", "green"], ["1-2", "3-4"], ["03/15/2024", "next tuesday"], ["2024-13"], []]
)
def test_what_is_not_a_date_column(values: list[str]) -> None:
    assert dateparts.infer_format(values) is None


def test_a_few_stray_words_in_a_date_column_are_missing() -> None:
    days = [f"{1 + k % 28:02d}.03.2024" for k in range(60)]
    reading = dateparts.infer_format([*days, "TBD", "unknown", "TBD"])
    assert reading == dateparts.DateReading("%d.%m.%Y", ("TBD", "unknown"))
    iso = dateparts.infer_format([f"2024-03-{1 + k % 28:02d}T10:00:00" for k in range(30)] + ["TBD"])
    assert iso == dateparts.DateReading("", ("TBD",))
    assert dateparts.infer_format([*days, "TBD"] * 1 + ["a", "b", "c"]) is None  # four distinct words
    assert dateparts.infer_format([*days, "2024-13-45"]) is None  # a digit: a date, never a stray


def test_a_format_reads_its_values_and_iso_always() -> None:
    assert dateparts.parse("15.03.2024", "%d.%m.%Y") == datetime(2024, 3, 15)
    assert dateparts.parse("2024-03-15", "%d.%m.%Y") == datetime(2024, 3, 15)
    assert dateparts.parse("03/15/2024", "") is None
    assert dateparts.iso(datetime(2024, 3, 15, 10, 30), "%d.%m.%Y %H:%M") == "2024-03-15T10:30:00"
    assert dateparts.iso(datetime(2024, 3, 15), "%d.%m.%Y") == "2024-03-15"


SIG = Signature(
    task="regression",
    inputs=(
        Input("when.month", "number", False, source="when", part="month", format="%d/%m/%Y"),
        Input("price", "number", False, format="1.234,5", missing_as=("unknown",)),
    ),
)


def test_serving_reads_a_request_as_ingest_read_the_file() -> None:
    x = SIG.encode(
        [
            {"when": "15/03/2024", "price": "1.234,5"},
            {"when": "2024-04-01", "price": 7},
            {"when": "01/05/2024", "price": "unknown"},
        ]
    )
    assert x[:, 0].tolist() == [3.0, 4.0, 5.0]
    assert x[0, 1] == 1234.5 and x[1, 1] == 7.0 and x[2, 1] != x[2, 1]  # NaN: a stray word is missing
    with pytest.raises(InvalidInput) as e:
        SIG.encode([{"when": "03/15/2024", "price": "lots"}])
    assert [(p.field, p.reason) for p in e.value.problems] == [
        (
            "instances[0].when",
            "must be a date written '%d/%m/%Y' or an ISO-8601 date or timestamp, got '03/15/2024'",
        ),
        ("instances[0].price", "must be a number (written like '1.234,5'), got 'lots'"),
    ]


def test_formats_survive_the_signatures_json_and_bad_ones_are_refused() -> None:
    assert parse_signature(SIG.as_dict()) == SIG
    raw = SIG.as_dict()
    raw["inputs"][0]["format"] = "%Q"
    raw["inputs"][1]["missing_as"] = ["a", "b", "c", "d"]
    with pytest.raises(InvalidInput) as e:
        parse_signature(raw)
    assert [p.field for p in e.value.problems] == [
        "signature.inputs[0].format",
        "signature.inputs[1].missing_as",
    ]
