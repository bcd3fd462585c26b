"""The linear family's regularisation path among a small table's first trials (runner.linear_path):
on tables under 500 rows, C (alpha) at 0.01, 0.1, 10 and 100 after every family's defaults, `prior`,
counted against the trial budget; large tables and `linear_path=False` keep the first trials of before."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.automl.objectives import Objective

pytest.importorskip("sklearn")
pytest.importorskip("optuna")

LOGLOSS = Objective("logloss", "minimize")


def _ctx(task: str, rows: int) -> Any:
    from optiloop.automl.search.portfolio import Context

    return Context(task=task, n_classes=3, n_features=4, kinds=[("numeric", 0)] * 4, seed=0, n_rows=rows)


def test_the_path_is_one_point_a_decade_on_small_tables_only() -> None:
    from optiloop.automl.search.runner import MIN_VALIDATION_ROWS, linear_path

    assert linear_path(_ctx("multiclass", 266)) == [{"linear.C": v} for v in (1e-2, 1e-1, 1e1, 1e2)]
    assert linear_path(_ctx("binary", MIN_VALIDATION_ROWS - 1)) == [
        {"linear.C": v} for v in (1e-2, 1e-1, 1e1, 1e2)
    ]
    assert linear_path(_ctx("regression", 100)) == [{"linear.alpha": v} for v in (1e-2, 1e-1, 1e1, 1e2)]
    assert linear_path(_ctx("binary", MIN_VALIDATION_ROWS)) == []


def _table(n: int) -> Any:
    from optiloop.automl.features import prepare
    from optiloop.automl.infer import infer_table

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = [int(v) for v in (a + 0.7 * b + rng.normal(scale=0.8, size=n) > 0)]
    return prepare(infer_table({"a": list(a), "b": list(b), "y": y}), "y", "classification")


def _first(rows: int, trials: int, **kw: Any) -> list[Any]:
    from optiloop.automl.search.runner import SearchSpec, search

    prep = _table(rows)
    spec = SearchSpec(objective=LOGLOSS, folds=2, repeats=1, trials=trials, pruner="none", ensemble=False,
                      families=("linear", "extra_trees"), **kw)  # fmt: skip
    return search(prep.x, prep.y, prep.signature, spec, refit=False)


def test_a_small_table_s_search_walks_the_path_after_every_family_s_defaults_reproducibly() -> None:
    runs = [_first(90, 9) for _ in range(2)]
    got = runs[0]
    # linear's default, its shrunk point, extra trees' defaults (a short budget still sees every
    # family), then the path; all enqueued, so `prior`; then the sampler's
    assert [r.params for r in got[:7]] == [
        {"linear.C": 1.0}, {"linear.C": 1e-3}, got[2].params,
        {"linear.C": 1e-2}, {"linear.C": 1e-1}, {"linear.C": 10.0}, {"linear.C": 100.0},
    ]  # fmt: skip
    assert got[2].family == "extra_trees"
    assert [r.prior for r in got] == [True] * 7 + [False] * 2
    assert [(r.params, r.fold_scores) for r in runs[0]] == [(r.params, r.fold_scores) for r in runs[1]]
    # every path point is scored like any trial (the one-SE rule chooses among them as prior configs)
    assert all(r.status == "completed" and len(r.fold_scores) == 2 for r in got[3:7])


def test_large_tables_and_a_search_without_the_path_keep_the_first_trials_of_before() -> None:
    for got in (_first(500, 4), _first(90, 4, linear_path=False)):
        assert [r.params.get("linear.C") for r in got[:2]] == [1.0, 1e-3]
        assert got[2].family == "extra_trees"
        assert [r.prior for r in got] == [True, True, True, False]  # the 4th: the sampler's
