"""One rule for an infinity on both sides of a model (`optiloop.models.spellings`): ingest reads it as a
missing cell and says so in the report, serving reads it as a missing field, so a row sent back as it
sat in the uploaded table is answered like the rows the model was trained on instead of refused."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from optiloop.automl import infer, parse
from optiloop.models.signature import parse_signature
from optiloop.models.spellings import as_float, is_missing

INFINITIES = [math.inf, -math.inf, "inf", " -Infinity ", "+INF"]


@pytest.mark.parametrize("v", INFINITIES)
def test_an_infinity_is_missing_and_never_a_number(v: object) -> None:
    assert is_missing(v)
    assert as_float(v) is None
    assert not is_missing(1e308) and as_float("1e308") == 1e308 and not is_missing("info")


def test_a_csv_column_with_inf_stays_numeric_with_those_cells_missing() -> None:
    """Before: `inf` was not a number to ingest, so one such cell made the whole column categorical."""
    raw = parse.parse("t.csv", b"ratio,y\n1.5,a\ninf,b\n-inf,a\n2,b\n")
    table = infer.infer_table(raw)
    col = table.column("ratio")
    assert col is not None and col.type == "numeric"
    assert col.missing.tolist() == [False, True, True, False]
    assert col.values[~col.missing].tolist() == [1.5, 2.0]
    assert infer.non_finite_warnings(raw) == [
        {"column": "ratio", "kind": "non_finite", "reason": "2 infinite values read as missing"}
    ]


def test_jsonl_and_parquet_infinities_read_as_missing() -> None:
    """JSON Lines answered 422 for `Infinity` and Parquet kept it as a value no model could fit."""
    raw = parse.parse("t.jsonl", b'{"x": 1.0}\n{"x": Infinity}\n{"x": NaN}\n{"x": 4}\n')
    col = infer.infer_table(raw).column("x")
    assert col is not None and col.type == "numeric" and col.missing.tolist() == [False, True, True, False]
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": [1.0, math.inf, 3.0]}), buf)
    col = infer.infer_table(parse.parse("t.parquet", buf.getvalue())).column("x")
    assert col is not None and col.type == "numeric" and col.missing.tolist() == [False, True, False]
    assert np.all(np.isfinite(col.values[~col.missing]))


def test_serving_reads_an_infinity_as_the_missing_value_training_imputed() -> None:
    sig = parse_signature(
        {
            "task": "regression",
            "inputs": [
                {"name": "ratio", "type": "number", "required": False},
                {"name": "n", "type": "integer", "required": True},
            ],
        }
    )
    x = sig.encode([{"ratio": math.inf, "n": 1}, {"ratio": "-inf", "n": 1}, {"ratio": None, "n": 1}])
    assert np.isnan(x[:, 0]).all() and x[:, 1].tolist() == [1.0, 1.0, 1.0]
