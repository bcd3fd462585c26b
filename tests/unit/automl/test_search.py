"""The search: the same seed and trial budget give the same trials; logistic regression is always
measured; a failing configuration is recorded and the search goes on; cancellation stops it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.automl.objectives import Objective, parse_objective
from optiloop.errors import InvalidInput

pytest.importorskip("optuna")
pytest.importorskip("sklearn")


def _prep():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=120), rng.normal(size=120)
    return prepare(
        infer_table({"a": list(a), "b": list(b), "y": [int(v) for v in (a + 0.3 * b > 0)]}),
        "y",
        "classification",
    )


def test_same_seed_and_trial_budget_same_trials() -> None:
    from optiloop.automl.search.runner import SearchSpec, search

    prep = _prep()
    spec = SearchSpec(
        objective=Objective("logloss", "minimize"), folds=3, trials=4, families=("linear", "extra_trees")
    )
    runs = [search(prep.x, prep.y, prep.signature, spec, refit=False) for _ in range(2)]
    summary = [[(r.model, r.params, r.status, r.metrics) for r in run] for run in runs]
    assert summary[0] == summary[1]
    assert summary[0][0][0] == "logistic_regression"


def test_a_stop_request_ends_the_search() -> None:
    from optiloop.automl.search.runner import SearchSpec, search

    prep = _prep()
    spec = SearchSpec(objective=Objective("auc", "maximize"), folds=3, trials=50, families=("linear",))
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 4

    results = search(prep.x, prep.y, prep.signature, spec, should_stop=stop, refit=False)
    assert 0 < len(results) < 50 and results[-1].status in ("stopped", "completed")


@pytest.mark.parametrize(
    ("text", "task", "metric"),
    [
        ("maximize_f1", "classification", "f1"),
        ("roc_auc", "classification", "auc"),
        ("rmse", "regression", "rmse"),
    ],
)
def test_objectives(text: str, task: str, metric: str) -> None:
    assert parse_objective(text, task).metric == metric


@pytest.mark.parametrize(
    ("text", "task"), [("minimize_auc", "classification"), ("auc", "regression"), ("x", "regression")]
)
def test_bad_objectives(text: str, task: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_objective(text, task)
    assert e.value.problems[0].field == "objective"


def test_a_leaky_column_is_excluded_and_said_why() -> None:
    y = [k % 2 for k in range(40)]
    prep = prepare(
        infer_table({"ok": [float(k % 7) for k in range(40)], "leak": [v * 10.0 for v in y], "y": y}),
        "y",
        "classification",
    )
    assert "leak" in prep.excluded and "leaky" in prep.excluded["leak"]
    assert [i.name for i in prep.signature.inputs] == ["ok"]


def _fake_clocks(monkeypatch: pytest.MonkeyPatch, cost: Any) -> dict[str, float]:
    """The linear family's fits advance fake clocks instead of taking time: `cost(params, ctx)` ->
    (wall seconds, CPU seconds) per fit; the search reads `monotonic` and `thread_time` from them."""
    from dataclasses import replace

    from optiloop.automl.search import portfolio, runner

    clock = {"wall": 0.0, "cpu": 0.0, "fits": 0}
    linear = portfolio.FAMILIES["linear"]

    def costly_build(params: dict, ctx: object) -> object:
        model = linear.build(params, ctx)
        fit, (wall, cpu) = model.fit, cost(params, ctx)

        def timed_fit(*a: object, **k: object) -> object:
            clock["wall"] += wall
            clock["cpu"] += cpu
            clock["fits"] += 1
            return fit(*a, **k)

        model.fit = timed_fit
        return model

    monkeypatch.setitem(portfolio.FAMILIES, "linear", replace(linear, build=costly_build))
    monkeypatch.setattr(runner.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(runner.time, "thread_time", lambda: clock["cpu"])
    return clock


def test_a_trial_that_cannot_finish_in_time_stops_after_the_fold_that_shows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a clock where the linear defaults' fits take 10 s and other configurations' 1 s, with a
    25 s budget and 5 folds: the defaults' first fold says they would end at 50 s, so they stop
    there (one fit), where they used to run folds until the deadline had passed (three fits); and
    the search goes on, so the cheaper configurations after them complete in what is left."""
    from optiloop.automl.search import portfolio
    from optiloop.automl.search.runner import SearchSpec, search

    default = portfolio.FAMILIES["linear"].default
    clock = _fake_clocks(monkeypatch, lambda params, ctx: (10.0 if params == default(ctx) else 1.0, 0.0))
    prep = _prep()
    spec = SearchSpec(objective=Objective("logloss", "minimize"), folds=5, trials=3, budget_s=25.0,
                      families=("linear",), ensemble=False)  # fmt: skip
    results = search(prep.x, prep.y, prep.signature, spec, refit=False)
    assert [r.status for r in results] == ["stopped", "completed", "completed"] and clock["fits"] == 11
    assert results[0].error == "its remaining folds would end past budget_s"


def test_a_cpu_budget_counts_the_trials_cpu_not_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each fit costs 10 CPU-seconds on the search's thread, and the wall clock jumps 1,000 s per fit
    (a machine busy with other work). A 25 CPU-second budget with 2 folds runs one trial (20 s),
    then stops the next after the fold that shows it cannot finish; the stalls change nothing, and a
    resumed run's recorded CPU counts against the budget."""
    from optiloop.automl.search.runner import SearchSpec, search

    clock = _fake_clocks(monkeypatch, lambda params, ctx: (1000.0, 10.0))
    prep = _prep()
    spec = SearchSpec(objective=Objective("logloss", "minimize"), folds=2, trials=5, budget_cpu_s=25.0,
                      families=("linear",), ensemble=False)  # fmt: skip
    results = search(prep.x, prep.y, prep.signature, spec, refit=False)
    assert [r.status for r in results] == ["completed", "stopped"] and clock["fits"] == 3
    assert [r.fit_s for r in results] == [20.0, 10.0]
    clock["fits"] = 0
    resumed = search(prep.x, prep.y, prep.signature, spec, refit=False,
                     history=[{"number": 0, "status": "completed", "value": 0.5, "cpu_s": 20.0}])  # fmt: skip
    assert [r.status for r in resumed] == ["stopped"] and clock["fits"] == 1
