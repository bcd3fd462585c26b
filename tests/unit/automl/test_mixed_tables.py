"""What a real mixed table (R's credit_data, mlc_churn, ames as CSVs) needs from typing and features:
a written-out row label is an id, a yes/no target answers yes/no, grades are encoded in their order,
and every input may be missing when a held-out row is scored."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optiloop.automl import ordinal
from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.automl.table import from_bytes

N = 40


def _table(**extra: list) -> dict[str, list]:
    rng = np.random.default_rng(0)
    order = rng.permutation(N) + 7  # a split of a shuffled table: unique, but not 0..n-1 any more
    return {
        "rownames": [int(v) for v in order],
        "Unnamed: 0": [int(v) for v in order + 1000],
        "income": [None if k % 9 == 0 else float(k * 3 % 17) for k in range(N)],
        "home": ["rent", "owner", "", "parents"] * (N // 4),
        "churn": ["yes" if k % 3 == 0 else "no" for k in range(N)],
        **extra,
    }


@pytest.mark.parametrize("name", ["rownames", "Unnamed: 0", "index", "row"])
def test_a_written_out_row_label_is_an_id_not_a_feature(name: str) -> None:
    raw = _table()
    raw[name] = raw.pop("rownames")
    table = infer_table(raw)
    assert table.column(name).type == "id"  # type: ignore[union-attr]
    prep = prepare(table, "churn", "classification")
    assert name in prep.excluded and name not in [i.name for i in prep.signature.inputs]


def test_an_integer_feature_that_merely_happens_to_be_unique_stays_numeric() -> None:
    table = infer_table(_table(amount=[k * 37 + 5 for k in range(N)]))
    assert table.column("amount").type == "numeric"  # type: ignore[union-attr]


def test_a_yes_no_target_answers_in_its_own_spelling_and_survives_storage() -> None:
    table = from_bytes(infer_table(_table()).to_bytes())
    col = table.column("churn")
    assert col is not None and col.type == "boolean" and col.levels == ("no", "yes")
    prep = prepare(table, "churn", "classification")
    assert prep.signature.task == "binary" and prep.signature.classes == ("no", "yes")
    assert prep.y.tolist() == [1 if k % 3 == 0 else 0 for k in range(N)]  # the positive class is "yes"
    assert prep.class_balance == {"no": 26, "yes": 14}
    json_bools = prepare(infer_table(_table(churn=[k % 3 == 0 for k in range(N)])), "churn", "classification")
    assert json_bools.signature.classes == (False, True)


def test_every_input_is_optional_so_a_missing_cell_does_not_refuse_a_batch() -> None:
    prep = prepare(infer_table(_table()), "churn", "classification")
    assert [i.required for i in prep.signature.inputs] == [False, False]
    x = prep.signature.encode([{"income": "", "home": "a new value"}, {}])
    assert np.isnan(x).all()


def test_an_ordinal_grade_is_encoded_in_its_order() -> None:
    grades = ["Poor", "Fair", "Typical", "Good", "Excellent"]
    table = infer_table(_table(Exter_Cond=[grades[k % 5] for k in range(N)]))
    done = ordinal.apply(table, {})
    assert done == [{"column": "Exter_Cond", "levels": grades, "how": "recognised"}]
    prep = prepare(table, "churn", "classification")
    inp = next(i for i in prep.signature.inputs if i.name == "Exter_Cond")
    assert inp.categories == tuple(grades)
    j = [i.name for i in prep.signature.inputs].index("Exter_Cond")
    assert prep.x[:5, j].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]  # the rank, not the alphabetical code
    assert prep.signature.encode([{"Exter_Cond": "Good"}])[0, j] == 3.0
    ames = ["Very_Poor", "Poor", "Fair", "Below_Average", "Average", "Above_Average", "Good", "Very_Good"]
    assert ordinal.recognise(sorted(ames)) == ames


def test_missing_cells_of_a_categorical_stay_missing() -> None:
    prep = prepare(infer_table(_table()), "churn", "classification")
    j = [i.name for i in prep.signature.inputs].index("home")
    assert math.isnan(prep.x[2, j]) and prep.signature.inputs[j].categories == ("owner", "parents", "rent")


def test_a_many_valued_categorical_keeps_its_frequent_values_and_serving_agrees() -> None:
    """A 3,750-value tail number was left out whole ("at most 200"): now its values on 10+ rows are
    kept (at most 200, the most frequent) and the rest read as missing, as serving reads a value the
    signature does not list."""
    from optiloop.automl import features

    n = 3000
    rng = np.random.default_rng(1)
    common = [f"N{k:03d}" for k in range(250)]  # 250 values on 10 rows each, then 500 on one
    tail = [common[k % 250] if k < 2500 else f"R{k}" for k in range(n)]
    raw = {"tail": tail, "x": list(rng.normal(size=n)), "y": [k % 2 for k in range(n)]}
    prep = prepare(infer_table(raw), "y", "classification")
    (inp,) = [i for i in prep.signature.inputs if i.name == "tail"]
    counts = {v: tail.count(v) for v in set(tail)}
    assert list(inp.categories) == common[: features.MAX_CATEGORIES]  # the most frequent; ties by value
    assert all(counts[c] >= features.MIN_LEVEL_ROWS for c in inp.categories) and list(
        inp.categories
    ) == sorted(inp.categories)
    column = prep.x[:, prep.signature.inputs.index(inp)]
    served = prep.signature.encode([{"tail": v, "x": 0.0} for v in tail])[:, prep.signature.inputs.index(inp)]
    assert np.array_equal(np.isnan(column), np.isnan(served)) and np.array_equal(
        column[~np.isnan(column)], served[~np.isnan(served)]
    )
    assert (
        np.isnan(column[2500:]).all() and np.isnan(column[[k for k in range(2500) if k % 250 >= 200]]).all()
    )


def test_a_many_valued_categorical_with_no_frequent_value_is_left_out() -> None:
    raw = {"note": [f"v{k % 400}" for k in range(800)], "x": [float(k % 7) for k in range(800)],
           "y": [k % 2 for k in range(800)]}  # fmt: skip
    prep = prepare(infer_table(raw), "y", "classification")
    assert prep.excluded["note"] == "400 categories, none on 10 or more rows"
