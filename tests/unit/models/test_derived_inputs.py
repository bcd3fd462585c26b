"""Datetime and text fields as features (optiloop.models.dateparts, textparts): one reading for ingest
and serving, the parts a model learns from, signature inputs derived from a field, and AutoML's
features built from them."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.errors import InvalidInput
from optiloop.models import dateparts, textparts
from optiloop.models.signature import Input, Signature, parse_signature


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-03-01", datetime(2024, 3, 1)), (" 2024-03-01 14:30 ", datetime(2024, 3, 1, 14, 30)),
     ("2024-03-01T14:30:00Z", datetime(2024, 3, 1, 14, 30)),
     ("2024-03-01T14:30:00+02:00", datetime(2024, 3, 1, 12, 30)),  # an offset: taken in UTC
     ("2024-13-01", None), ("yesterday", None), ("1-2", None), (20240301, None), (None, None)],
)  # fmt: skip
def test_values_parse_as_ingest_types_them(text: object, expected: datetime | None) -> None:
    assert dateparts.parse(text) == expected
    assert (infer_table({"c": [text] * 3}).columns[0].type == "datetime") == (expected is not None)


def test_the_parts_of_a_timestamp() -> None:
    d = datetime(2024, 3, 1, 14, 30)  # a Friday
    got = {p: dateparts.part(d, p) for p in dateparts.PARTS}
    assert got == {"year": 2024.0, "month": 3.0, "day": 1.0, "weekday": 4.0, "hour": 14.5,
                   "days": pytest.approx(19783 + 14.5 / 24)}  # fmt: skip
    with pytest.raises(ValueError, match="unknown date part"):
        dateparts.part(d, "fortnight")


SIG = Signature(
    task="regression",
    inputs=(Input("x", "number", False), Input("when.month", "number", False, source="when", part="month"),
            Input("when.hour", "number", False, source="when", part="hour")),
)  # fmt: skip


def test_a_derived_input_reads_its_part_of_the_raw_field() -> None:
    x = SIG.encode([{"x": 1, "when": "2024-07-04T09:15:00Z"}, {"x": 2, "when": None}, {"x": 3}])
    assert x[0].tolist() == [1.0, 7.0, 9.25]
    assert np.isnan(x[1:, 1:]).all()  # missing: every part missing, as a missing number is
    assert parse_signature(SIG.as_dict()) == SIG
    assert SIG.as_dict()["inputs"][1] == {"name": "when.month", "type": "number", "required": False,
                                          "source": "when", "part": "month"}  # fmt: skip


def test_a_bad_date_is_one_422_naming_the_field_and_typos_are_caught() -> None:
    with pytest.raises(InvalidInput) as e:
        SIG.encode([{"x": 1, "when": "next tuesday"}])
    assert [(p.field, p.reason) for p in e.value.problems] == [
        ("instances[0].when", "must be an ISO-8601 date or timestamp, got 'next tuesday'")
    ]
    with pytest.raises(InvalidInput) as e:
        SIG.encode([{"x": 1, "When": "2024-01-01"}])
    assert [p.field for p in e.value.problems] == ["instances[0].When"]  # did you mean 'when'?


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"source": "when", "part": "fortnight"}, "part"), ({"source": "", "part": "month"}, "source"),
     ({"source": "note", "part": "token:two words"}, "part"), ({"source": "note", "part": "token:"}, "part"),
     ({"source": "when", "part": "month", "type": "category", "categories": ["a"]}, "part")],
)  # fmt: skip
def test_a_signature_with_a_bad_date_part_is_refused(extra: dict[str, object], field: str) -> None:
    raw = {"task": "regression", "inputs": [{"name": "when.x", "type": "number", **extra}]}
    with pytest.raises(InvalidInput) as e:
        parse_signature(raw)
    assert e.value.problems[0].field == f"signature.inputs[0].{field}"


def test_automl_features_are_the_parts_that_vary() -> None:
    n = 60
    raw = {
        "when": [f"2024-{1 + k % 12:02d}-{1 + k % 27:02d}T{k % 24:02d}:00:00Z" for k in range(n)],
        "day": ["2023-05-01"] * (n - 1) + [None],  # one date: constant, left out whole
        "x": [float(k % 5) for k in range(n)],
        "y": [float(k % 7) * 1.5 + 0.25 for k in range(n)],
    }
    prep = prepare(infer_table(raw), "y", "regression")
    names = [i.name for i in prep.signature.inputs]
    assert names == ["when.month", "when.day", "when.weekday", "when.hour", "when.days", "x"]  # one year
    assert prep.excluded == {"day": "constant"}
    # what serving computes from the raw rows is the training matrix (float32 as the runtimes read it)
    again = prep.signature.encode([{"when": w, "x": v} for w, v in zip(raw["when"], raw["x"], strict=True)])
    assert np.array_equal(again.astype(np.float32), prep.x.astype(np.float32))


def test_words_are_lower_cased_runs_of_letters_in_any_script() -> None:
    assert textparts.words("Love, ACTUALLY 2: l'amour à Paris — Москва x") == [
        "love",
        "actually",
        "amour",
        "paris",
        "москва",
    ]  # fmt: skip (one letter is no word)


def test_the_vocabulary_is_the_frequent_words_that_are_not_everywhere() -> None:
    texts = ["the cat"] * 12 + ["the dog sat"] * 10 + ["the bird"] * 9 + ["a cat sat"] * 3
    # "the" is in 31 of 34 rows (over half): no signal; "bird" in 9 (< 10): too rare to learn from
    assert textparts.vocabulary(texts) == ["cat", "sat", "dog"]
    many = [f"w{chr(97 + k % 26)}{chr(97 + k // 26)} filler" for k in range(26 * 26)] * 10
    assert len(textparts.vocabulary(many)) == textparts.MAX_TOKENS


def test_a_text_is_served_from_its_raw_value_as_it_was_learnt() -> None:
    n = 80
    raw = {
        "review": [("great value, great price", "broke after a week of use", "fine, it does the job")[k % 3]
                   + " " * (k % 4) + f" order {k}" for k in range(n)],
        "stars": [(5.0, 1.0, 3.0)[k % 3] + (k % 2) / 2 for k in range(n)],
    }  # fmt: skip
    table = infer_table(raw)
    assert table.column("review").type == "text"
    prep = prepare(table, "stars", "regression")
    names = [i.name for i in prep.signature.inputs]
    assert {"review.chars", "review:great", "review:broke"} <= set(names), names
    great = next(i for i in prep.signature.inputs if i.name == "review:great")
    assert (great.source, great.part) == ("review", "token:great")
    again = prep.signature.encode([{"review": t} for t in raw["review"]])
    assert np.array_equal(again.astype(np.float32), prep.x.astype(np.float32))
    assert prep.signature.encode([{"review": "Great, GREAT, great!"}])[0, names.index("review:great")] == 3.0
    assert parse_signature(prep.signature.as_dict()) == prep.signature
    with pytest.raises(InvalidInput) as e:
        prep.signature.encode([{"review": {"text": "great"}}])
    assert [(p.field, p.reason) for p in e.value.problems] == [
        ("instances[0].review", "must be text, got dict")
    ]
