"""The small table's hedge (optiloop.automl.search.hedge): when it is built, what it serves, and how
the winner's rule answers it in place of the pick it hedges (optiloop.automl.selection)."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pytest

from optiloop.automl.features import prepare
from optiloop.automl.infer import infer_table
from optiloop.automl.objectives import Objective
from optiloop.automl.search import hedge
from optiloop.automl.search import metrics as mx
from optiloop.automl.search.portfolio import FAMILIES
from optiloop.automl.search.runner import (
    SearchSpec,
    context_of,
    folds_of,
    rank,
    score_over_folds,
    search,
    stacked,
)
from optiloop.automl.selection import BEST_MEAN, Candidate, choose, order
from optiloop.models import runtimes
from optiloop.models.artifact import read_artifact

LOGLOSS = Objective("logloss", "minimize")


def _table(kind: str, rows: int = 240, seed: int = 0) -> Any:
    """`linear`: classes from a noisy linear score (a linear model comes close to anything);
    `xor`: classes from the signs' product (a linear model has no skill at all)."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, rows))
    noisy_linear = (a + 0.5 * b + rng.normal(scale=0.7, size=rows)) > 0
    label = noisy_linear if kind == "linear" else (a * b) > 0
    raw: dict[str, list[Any]] = {"a": a.tolist(), "b": b.tolist(), "c": c.tolist()}
    raw["y"] = ["yes" if v else "no" for v in label]
    return prepare(infer_table(raw), "y", "classification")


def _spec(**kw: Any) -> SearchSpec:
    base = SearchSpec(
        objective=LOGLOSS, folds=5, trials=3, pruner="none", repeats=None, hedge=True, ensemble=False
    )
    return replace(base, **kw)


def _hedge_of(prep: Any, results: list[Any], spec: SearchSpec, oof: dict[int, Any] | None = None) -> Any:
    """hedge.build as the search calls it, over `results` (a search's trials; `oof` the out-of-fold
    outputs it kept), scoring on its folds as it does."""
    x, y, task = prep.x, prep.y, prep.signature.task
    folds = folds_of(y, spec, task)
    slots = stacked(folds, int(y.size))
    y_s = np.tile(y, len(folds) // spec.folds)
    k = len(prep.signature.classes)
    fold_score = partial(
        score_over_folds, spec.objective, slots, lambda _j, va, out: mx.compute(y_s[va], out[va], task, k)
    )
    return hedge.build(
        results, oof or {}, fold_score, spec=spec, ctx=context_of(x, y, prep.signature, spec), x=x, y=y,
        weights=None, folds=folds, slots=slots, y_s=y_s, groups_s=None, signature=prep.signature,
        fingerprint="", number=99,
    )  # fmt: skip


def test_a_boosted_pick_close_to_the_linear_model_is_served_half_bagged_half_linear() -> None:
    prep = _table("linear")
    spec = _spec()
    # the search's own candidates are boosted trees only: the pick is not linear
    trees = search(prep.x, prep.y, prep.signature, replace(spec, families=("hist_gradient_boosting",)))
    pick = rank(trees, LOGLOSS, "one_se", spec.folds)[0]
    h = _hedge_of(prep, trees, spec)
    assert h is not None and h.status == "completed", h and h.error
    assert (h.number, h.family, h.model, h.hedges) == (99, "ensemble", "hedge", pick.number)
    assert h.params["ensemble.bagged_folds"] == spec.folds
    # what it serves: the mean of the pick's first-draw fold models, averaged with the linear anchor
    ctx = context_of(prep.x, prep.y, prep.signature, spec)
    fam, lin = FAMILIES[pick.family], FAMILIES["linear"]
    folds = folds_of(prep.y, spec, prep.signature.task)[: spec.folds]
    bag = []
    for tr, _ in folds:
        m = fam.build(pick.params, ctx)
        m.fit(prep.x[tr], prep.y[tr], None)
        bag.append(m.predict_outputs(prep.x))
    anchor_params = {k: v for k, v in h.params["ensemble.anchor"].items() if k.startswith("linear.")}
    assert anchor_params in hedge.path()
    a = lin.build(anchor_params, ctx)
    a.fit(prep.x, prep.y, None)
    want = 0.5 * np.mean(bag, axis=0) + 0.5 * a.predict_outputs(prep.x)
    got = runtimes.load(read_artifact(h.artifact or b"")).predict(prep.x)
    np.testing.assert_allclose(got, want, atol=1e-6)
    # its fold scores are the mixed out-of-fold outputs', one per fold of every draw
    assert len(h.fold_scores) == len(pick.fold_scores)
    assert math.isclose(h.metrics["logloss"], float(np.mean(h.fold_scores)), rel_tol=1e-9)


def test_a_forest_pick_is_served_refitted_and_so_is_a_pick_whose_fold_model_fails_its_export(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prep = _table("linear")
    spec = _spec()
    ctx = context_of(prep.x, prep.y, prep.signature, spec)

    def served_as(h: Any, pick: Any) -> None:
        assert h is not None and h.status == "completed" and h.params["ensemble.bagged_folds"] == 0
        anchor_params = {k: v for k, v in h.params["ensemble.anchor"].items() if k.startswith("linear.")}
        a = FAMILIES["linear"].build(anchor_params, ctx)
        a.fit(prep.x, prep.y, None)
        refit = runtimes.load(read_artifact(pick.artifact or b"")).predict(prep.x)
        got = runtimes.load(read_artifact(h.artifact or b"")).predict(prep.x)
        np.testing.assert_allclose(got, 0.5 * refit + 0.5 * a.predict_outputs(prep.x), atol=1e-6)

    forest = search(prep.x, prep.y, prep.signature, replace(spec, families=("random_forest",)))
    served_as(_hedge_of(prep, forest, spec), rank(forest, LOGLOSS, "one_se", spec.folds)[0])

    def refuses(*_: Any, **__: Any) -> None:
        raise ValueError("the exported model differs from the fitted one")

    monkeypatch.setattr(hedge, "export_fitted", refuses)
    trees = search(prep.x, prep.y, prep.signature, replace(spec, families=("hist_gradient_boosting",)))
    served_as(_hedge_of(prep, trees, spec), rank(trees, LOGLOSS, "one_se", spec.folds)[0])


def test_an_ensemble_pick_is_hedged_through_its_members_not_nested(monkeypatch: pytest.MonkeyPatch) -> None:
    prep = _table("linear")
    spec = _spec(ensemble=True, trials=4, keep_oof=True)
    found = search(
        prep.x, prep.y, prep.signature, replace(spec, families=("hist_gradient_boosting", "extra_trees"))
    )
    [ens] = [r for r in found if r.family == "ensemble"]
    monkeypatch.setattr(hedge, "rank", lambda pool, *_: [ens])  # whatever the rule, the ensemble is picked
    oof = {r.number: r.oof for r in found if r.oof is not None}
    h = _hedge_of(prep, found, spec, oof)
    x, y = prep.x, prep.y
    assert h is not None and h.status == "completed", h and h.error
    assert h.hedges == ens.number and h.params["ensemble.bagged_folds"] == 0
    anchor_params = {k: v for k, v in h.params["ensemble.anchor"].items() if k.startswith("linear.")}
    a = FAMILIES["linear"].build(anchor_params, context_of(x, y, prep.signature, spec))
    a.fit(x, y, None)
    want = 0.5 * runtimes.load(read_artifact(ens.artifact or b"")).predict(x) + 0.5 * a.predict_outputs(x)
    np.testing.assert_allclose(runtimes.load(read_artifact(h.artifact or b"")).predict(x), want, atol=1e-6)


def test_nothing_is_hedged_where_the_pick_wins_by_far() -> None:
    prep = _table("xor")  # the linear model has no skill: the ratio is infinite
    spec = _spec()
    trees = search(prep.x, prep.y, prep.signature, replace(spec, families=("hist_gradient_boosting",)))
    assert _hedge_of(prep, trees, spec) is None


def test_a_linear_pick_needs_no_hedge() -> None:
    prep = _table("linear")
    spec = _spec()
    lin = search(prep.x, prep.y, prep.signature, replace(spec, families=("linear",)))
    assert _hedge_of(prep, lin, spec) is None


@pytest.mark.parametrize(
    ("change", "rows"),
    [
        ({}, hedge.BELOW_ROWS),  # 500 rows: the CV is not thin
        ({"hedge": False}, 200),  # config.ensemble.hedge false (and every hand-built spec's default)
        ({"selection": BEST_MEAN}, 200),  # the legacy rule
        ({"families": ("mlp", "xgboost")}, 200),  # config.models without the linear family
        ({"objective": Objective("auc", "maximize")}, 200),  # not convex: the bound does not hold
    ],
)
def test_when_a_search_does_not_hedge(change: dict[str, Any], rows: int) -> None:
    assert hedge.applies(_spec(), "binary", 200) and hedge.applies(_spec(), "multiclass", 200)
    assert not hedge.applies(_spec(**change), "binary", rows)


def test_regression_is_not_hedged() -> None:
    assert not hedge.applies(_spec(objective=Objective("rmse", "minimize")), "regression", 200)


def test_the_gap_ratio_is_the_share_of_the_anchors_skill_the_pick_adds() -> None:
    # larger-better scores: a no-skill model at -0.69, the anchor at -0.10, the pick at -0.05
    assert hedge.gap_ratio(-0.05, -0.10, -0.69) == pytest.approx(0.05 / 0.59)
    assert hedge.gap_ratio(-0.12, -0.10, -0.69) < 0  # a pick behind the anchor: hedged
    assert hedge.gap_ratio(-0.05, -0.70, -0.69) == math.inf  # an anchor without skill: not
    assert hedge.gap_ratio(-math.inf, -0.10, -0.69) == math.inf


def test_the_no_skill_outputs_are_the_training_rows_class_shares() -> None:
    np.testing.assert_allclose(hedge.null_outputs(np.array([0, 0, 1, 2]), 3, 2), [[0.5, 0.25, 0.25]] * 2)
    np.testing.assert_allclose(hedge.null_outputs(np.array([0, 1, 1, 1]), 1, 1), [[0.75]])


# ------------------------------------------------------------------ the rule answers the hedge
LIN = (-0.10, -0.12, -0.08, -0.11, -0.09)
MLP = (-0.07, -0.09, -0.05, -0.08, -0.06)  # clearly better: the rule picks it
HEDGE = (-0.08, -0.10, -0.06, -0.09, -0.07)


def _c(number: int, family: str, folds: tuple[float, ...], **kw: Any) -> Candidate:
    return Candidate(number, family, sum(folds) / len(folds), folds, **kw)


def test_the_rule_answers_the_hedge_in_place_of_the_pick_it_hedges() -> None:
    cands = [_c(0, "linear", LIN), _c(1, "mlp", MLP), _c(2, "ensemble", HEDGE, hedges=1)]
    got = choose(cands)
    assert got is not None
    assert (got.winner, got.hedged, got.best_mean) == (2, 1, 1)
    assert "serves the rule's pick averaged with the tuned linear model" in got.reason({1: "mlp", 2: "hedge"})
    assert order(cands)[0] == 2
    # whatever order the candidates arrive in (the leaderboard adds them as trials are recorded)
    again = choose(list(reversed(cands)))
    assert again is not None and (again.winner, again.hedged) == (2, 1)


def test_a_hedge_of_another_trial_or_under_the_legacy_rule_changes_nothing() -> None:
    cands = [_c(0, "linear", LIN), _c(1, "mlp", MLP), _c(2, "ensemble", HEDGE, hedges=0)]
    got = choose(cands)
    assert got is not None and (got.winner, got.hedged) == (1, None)
    legacy = choose([_c(1, "mlp", MLP), _c(2, "ensemble", HEDGE, hedges=1)], BEST_MEAN)
    assert legacy is not None and (legacy.winner, legacy.hedged) == (1, None)


def test_an_infeasible_hedge_does_not_displace_a_feasible_pick() -> None:
    cands = [_c(1, "mlp", MLP), _c(2, "ensemble", HEDGE, hedges=1, feasible=False)]
    got = choose(cands)
    assert got is not None and (got.winner, got.hedged) == (1, None)
