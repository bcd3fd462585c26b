"""Instances are read as ingest read the uploaded table: a row sent back as it sat in the CSV (numbers as
strings, yes/no, empty or NA cells, 3.0 for the category "3") means what it meant at training time."""

from __future__ import annotations

import math

import pytest

from optiloop.errors import InvalidInput
from optiloop.models.signature import parse_signature

SIG = {
    "task": "binary",
    "classes": ["no", "yes"],
    "inputs": [
        {"name": "age", "type": "number", "required": False},
        {"name": "records", "type": "boolean", "required": False},
        {"name": "plan", "type": "category", "categories": ["3", "None", "basic"], "required": False},
        {"name": "n", "type": "integer", "required": True},
    ],
}


def test_csv_spellings_read_as_at_ingest() -> None:
    sig = parse_signature(SIG)
    x = sig.encode(
        [
            {"age": " 41.5 ", "records": "Yes", "plan": 3.0, "n": "2"},
            {"age": "", "records": "NA", "plan": "basic ", "n": 2},
            {"age": "null", "records": "f", "plan": "None", "n": 2.0},
            {"age": None, "records": False, "plan": "never seen", "n": 1},
        ]
    )
    assert x[0].tolist() == [41.5, 1.0, 0.0, 2.0]
    assert math.isnan(x[1, 0]) and math.isnan(x[1, 1]) and x[1, 2] == 2.0
    # a category spelt like a missing value that training did see stays that category
    assert math.isnan(x[2, 0]) and x[2, 1] == 0.0 and x[2, 2] == 1.0
    assert math.isnan(x[3, 0]) and x[3, 1] == 0.0 and math.isnan(x[3, 2])


@pytest.mark.parametrize(
    ("inst", "field", "reason"),
    [
        ({"age": "old", "n": 1}, "instances[0].age", "must be a number, got 'old'"),
        ({"records": "maybe", "n": 1}, "instances[0].records", "must be true or false, got 'maybe'"),
        ({"records": 1, "n": 1}, "instances[0].records", "must be true or false, got int"),
        ({"n": ""}, "instances[0].n", "is required"),
        ({"n": "2.5"}, "instances[0].n", "must be an integer"),
        ({"n": float("inf")}, "instances[0].n", "is required"),  # an infinity is missing (spellings)
        ({"age": [1], "n": 1}, "instances[0].age", "must be a number, got list"),
    ],
)
def test_what_cannot_be_read_is_a_422_naming_the_field(inst: dict, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_signature(SIG).encode([inst])
    assert [(d["field"], d["reason"]) for d in e.value.details] == [(field, reason)]


def test_a_misspelt_input_is_named_not_scored_as_missing() -> None:
    """Optional inputs would otherwise take the typo's row as a row of missing values and answer with a
    confident prediction of somebody else; other extra fields (the target, an id) stay ignored."""
    sig = parse_signature(SIG)
    with pytest.raises(InvalidInput) as e:
        sig.encode([{"Age": 41, "records": "yes", "n": 2, "target": "no"}])
    assert [(d["field"], d["reason"]) for d in e.value.details] == [
        ("instances[0].Age", "is not an input of this model; did you mean 'age'?")
    ]
    with pytest.raises(InvalidInput) as e:
        sig.encode([{"n": 1}, {"customer": "c1", "label": "yes"}])
    assert [d["field"] for d in e.value.details] == ["instances[1].n", "instances[1]"]
    assert "holds none of the model's inputs (age, n, plan, records)" in e.value.details[1]["reason"]
    # a row with every input present carries whatever else it likes
    x = sig.encode([{"age": 1, "records": "no", "plan": "basic", "n": 1, "Age_group": "x", "target": 1}])
    assert x.shape == (1, 4)
