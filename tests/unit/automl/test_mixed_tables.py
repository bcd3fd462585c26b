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
