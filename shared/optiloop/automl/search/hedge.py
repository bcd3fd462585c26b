"""The hedge: on a small table, a non-linear winner is served averaged with the tuned linear model.

Why. On a table of a few hundred rows the inner CV validates each candidate on a few dozen rows a
fold, and no selection rule can see what those rows do not hold. Measured on 15 outer folds each of
penguins and wine (three shuffles of 5 folds, the same searches replayed offline; docs/benchmarks.md,
"Hedging small tables"): the one-SE rule's pick held out at logloss 0.0343 and 0.0752 against tuned
logistic regression's 0.0119 and 0.0503 — not from a bias but from a tail. Twice a tuned HistGB led
every inner fold (penguins: logloss 0.0011 against the linear model's 0.012) and lost two held-out
rows at probability ~0.001 (0.2132 and 0.2841 held out): boosted trees extrapolate confidently to
rows unlike any in the training folds. Elsewhere a tuned MLP refitted on all rows was far more
confident than the fold models the CV scored (0.0332 held out; the mean of its five fold models:
0.0098). Corrections that re-rank by the folds (fresh draws, per-family bias, tail penalties; the same
doc) trade one table against the other: the folds cannot tell those rows apart, so the answer is to
not bet everything on them.

What, for a classifier chosen by logloss on a table under BELOW_ROWS rows (where the search repeats
its CV draws: runner.MIN_VALIDATION_ROWS) when the rule's pick is not linear:
- the anchor: the linear family's regularisation path over its search range (every half decade),
  scored on the search's own folds; the best by mean. Cheap here (a linear fit on < 500 rows is
  milliseconds) and independent of how the sampler spent its trials (in the two folds above TPE ran
  the linear family twice in 150 trials);
- the pick served as the mean of its first draw's fold models when it is an MLP or boosted trees
  (bagging, Breiman 1996; AutoGluon bags every model for the same reason): exactly the models its
  CV scored, so its CV score describes what is served, and their average is smoother than one refit
  (bagging these families held out better on average on both tables; random forests and extra trees
  are already averages, and the linear model's refit is stable, so they are served refitted; a
  greedy ensemble picked is hedged through its members, as an ensemble does not nest);
- the hedge: equal weights on the two (the forecast-combination puzzle: equal weights beat
  estimated ones when the estimates are noisy — the greedy ensemble's weights on these folds were
  ~1 on the pick, exactly where it failed).

The gate, and why it costs little where the pick is right: logloss (like every proper score) is
convex in the prediction, so the mean of two predictors loses at most half the gap between
them: the hedge can be worse than the pick by no more than half of what the pick gains over the
anchor. It is built only when that gain is under RATIO (a tenth) of the anchor's own skill over a
no-skill model (the class shares), so even when the folds are right it gives back at most
5% of the linear model's skill. Where a non-linear model wins by far (MASS glass, 214 rows: extra
trees 0.52 against the linear model's 0.85, a ratio of 0.94) nothing is hedged. Measured over the 30
folds: penguins 0.0343 -> 0.0133, wine 0.0752 -> 0.0539 (logistic regression 0.0119, 0.0503).

The hedge is one more candidate (family `ensemble`, model `hedge`, `hedges` = the pick's number). It
never competes in the rule: optiloop.automl.selection answers it in place of the pick it hedges, so
the leaderboard, the experiment's best and what a user registers agree. Built locally (the worker
pool); the AWS fan-out does not build it yet (docs/automl.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiloop.automl.search import metrics as mx
from optiloop.automl.search.portfolio import FAMILIES, Context, display_name
from optiloop.automl.search.runner import (
    MIN_VALIDATION_ROWS,
    SearchSpec,
    TrialResult,
    _check_ensemble,
    _held_out,
    _judge,
    _measure,
    _refit_and_export,
    _score,
    _summary,
    export_fitted,
    rank,
)
from optiloop.models.signature import Signature

BELOW_ROWS = MIN_VALIDATION_ROWS  # the tables whose CV is repeated because it is thin
RATIO = 0.1  # hedge when the pick adds less than this share of the anchor's skill
WEIGHT = 0.5
BAGGED = frozenset({"mlp", "xgboost", "hist_gradient_boosting"})
# Classification only, on logloss: the failure hedged is a confident probability on a row unlike the
# training folds (logloss without bound). A regression tree or forest predicts within its training
# targets, and measured on mpg (234 rows, 5 outer folds) hedging its greedy-ensemble picks cost RMSE
# 0.9402 -> 0.9845; AUC, accuracy and F1 are not convex in the prediction (the gate's bound does not
# hold) and were not measured, so those experiments serve their pick as it is
TASKS = ("binary", "multiclass")
CONVEX = frozenset({"logloss"})
Folds = Sequence[tuple[np.ndarray, np.ndarray]]


def applies(spec: SearchSpec, task: str, rows: int) -> bool:
    """Whether a search hedges at all: asked to, by the one-SE rule, on an objective convex in the
    prediction, a supervised task on a small table, and with the linear family among its families
    (config.models leaves it out: never)."""
    return (
        spec.hedge
        and spec.selection == "one_se"
        and spec.objective.metric in CONVEX
        and "linear" in spec.families
        and task in TASKS
        and rows < BELOW_ROWS
    )


def path() -> list[dict[str, float]]:
    """The linear family's regularisation path over its search range (portfolio), every half decade."""
    return [{"linear.C": 10.0 ** (e / 2)} for e in range(-6, 5)]


def null_outputs(y_train: np.ndarray, n_outputs: int, rows: int) -> np.ndarray:
    """A no-skill classifier's outputs for `rows` rows: the training rows' class shares."""
    shares = np.bincount(y_train, minlength=max(2, n_outputs)) / max(1, y_train.size)
    if n_outputs == 1:  # binary: the positive class's probability
        shares = shares[1:2]
    return np.tile(shares, (rows, 1))


def gap_ratio(pick: float, anchor: float, null: float) -> float:
    """(pick - anchor) / (anchor - null) on larger-better scores: the share of the anchor's skill
    the pick adds; inf when the anchor has none (then there is nothing to hedge with)."""
    skill = anchor - null
    if not skill > 0 or not math.isfinite(pick):
        return math.inf
    return (pick - anchor) / skill


@dataclass(frozen=True)
class Rows:
    """What the hedge fits on, as the search had it: its table, its folds (`slots`: where each
    fold's predictions sit in the out-of-fold array, `shape`)."""

    ctx: Context
    x: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None
    folds: Folds
    slots: Folds
    shape: tuple[int, int]


def _out_of_fold(
    family: Any, params: dict[str, Any], rows: Rows, keep: int = 0
) -> tuple[np.ndarray, list[Any]]:
    """A configuration's out-of-fold outputs on the search's folds, and its first `keep` fold models."""
    x, y, w = rows.x, rows.y, rows.weights
    out, models = np.full(rows.shape, np.nan), []
    for i, ((tr, va), (_, slot)) in enumerate(zip(rows.folds, rows.slots, strict=True)):
        model = family.build(params, rows.ctx)
        model.fit(x[tr], y[tr], None if w is None else w[tr])
        out[slot] = model.predict_outputs(x[va])
        if i < keep:
            models.append(model)
    return out, models


def _bagged(
    models: list[Any], pick: TrialResult, family: Any, rows: Rows, signature: Signature, fingerprint: str
) -> list[tuple[TrialResult, float]]:
    """The pick's fold models, each exported and checked like a trial, sharing WEIGHT; [] when any
    export fails its check (then the pick's refit is served instead: a hedge still, unbagged)."""
    parts = []
    for model in models:
        shell = TrialResult(pick.number, pick.family, pick.model, pick.params, "completed")
        try:
            export_fitted(
                shell, model, family, pick.params, rows.ctx, rows.x, int(rows.y.size), signature, fingerprint
            )
        except ValueError:
            return []
        parts.append((shell, WEIGHT / len(models)))
    return parts


def _served(
    pick: TrialResult,
    results: list[TrialResult],
    oof: dict[int, np.ndarray],
    rows: Rows,
    signature: Signature,
    fingerprint: str,
) -> tuple[list[tuple[TrialResult, float]], np.ndarray] | None:
    """The pick's half of the hedge: its served parts (weights summing to WEIGHT) and its
    out-of-fold outputs. An MLP or boosted trees: its first draw's fold models (refitted once more
    for their outputs; the refit when one fails its export check); the greedy ensemble: its members
    (an ensemble does not nest in another); anything else: its refit. None when the pick's
    out-of-fold outputs cannot be had (an ensemble member's were not kept)."""
    family = FAMILIES.get(pick.family)
    if pick.family in BAGGED and family is not None:
        first = len(rows.folds) // max(1, rows.shape[0] // max(1, rows.y.size))  # one draw's folds
        p_oof, bag = _out_of_fold(family, pick.params, rows, keep=first)
        return _bagged(bag, pick, family, rows, signature, fingerprint) or [(pick, WEIGHT)], p_oof
    if pick.family == "ensemble":
        by_number = {r.number: r for r in results}
        members = [(int(m["number"]), float(m["weight"])) for m in pick.params.get("ensemble.members") or []]
        if not members or not all(n in oof and n in by_number for n, _ in members):
            return None
        mixed = sum(w * oof[n] for n, w in members)
        assert isinstance(mixed, np.ndarray)
        return [(by_number[n], WEIGHT * w) for n, w in members], mixed
    if pick.number in oof:
        return [(pick, WEIGHT)], oof[pick.number]
    if family is None:
        return None
    p_oof, _ = _out_of_fold(family, pick.params, rows)
    return [(pick, WEIGHT)], p_oof


def build(
    results: list[TrialResult],
    oof: dict[int, np.ndarray],
    fold_score: Callable[[np.ndarray], float],
    *,
    spec: SearchSpec,
    ctx: Context,
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    folds: Folds,
    slots: Folds,
    y_s: np.ndarray,
    groups_s: np.ndarray | None,
    signature: Signature,
    fingerprint: str,
    number: int,
) -> TrialResult | None:
    """The hedge of the rule's pick among `results` (numbered `number`), or None when the table is
    not small, the pick is linear, or the pick gains too much over the anchor (module doc). `oof`:
    the search's kept out-of-fold outputs (the pick's is recomputed when it was not kept);
    `fold_score`: the search's objective over its folds, larger better, as every trial is scored."""
    from optiloop.automl.export.ensemble import build_ensemble_artifact

    task, k, metric = signature.task, len(signature.classes), spec.objective.metric
    if not applies(spec, task, int(y.size)):
        return None
    done = [r for r in results if r.status == "completed" and r.artifact is not None]
    pool = [r for r in done if r.feasible] or done
    if not pool:
        return None
    pick = rank(pool, spec.objective, spec.selection, spec.folds)[0]
    if pick.family == "linear":
        return None
    t0 = time.thread_time()
    shape = (y_s.size, signature.n_outputs)
    rows = Rows(ctx, x, y, weights, folds, slots, shape)
    linear = FAMILIES["linear"]
    anchors = []
    for point in path():
        out, _ = _out_of_fold(linear, point, rows)
        anchors.append((fold_score(out), point, out))
    a_score, a_params, a_oof = max(anchors, key=lambda t: t[0])  # ties: the more regularised
    null = np.full(shape, np.nan)
    for (tr, _), (_, slot) in zip(folds, slots, strict=True):
        null[slot] = null_outputs(y[tr], signature.n_outputs, slot.size)
    n_score = fold_score(null)
    p_score = _score(spec.objective, pick.metrics.get(metric, math.nan))
    if not gap_ratio(p_score, a_score, n_score) < RATIO:
        return None
    res = TrialResult(number, "ensemble", "hedge", {}, "completed", hedges=pick.number)
    try:
        served = _served(pick, results, oof, rows, signature, fingerprint)
        if served is None:
            return None
        parts, p_oof = served
        anchor = TrialResult(-1, "linear", display_name("linear", task), a_params, "completed")
        _refit_and_export(anchor, linear, a_params, ctx, x, y, weights, signature, fingerprint)
    except Exception as e:  # a fit or an export that fails: recorded as a failed candidate
        res.status, res.error = "failed", f"{e.__class__.__name__}: {e}"[:500]
        res.fit_s = round(time.thread_time() - t0, 4)
        return res
    parts.append((anchor, 1.0 - WEIGHT))
    mixed = WEIGHT * p_oof + (1.0 - WEIGHT) * a_oof
    per_fold = [mx.compute(y_s[va], mixed[va], task, k) for _, va in slots]
    metrics = _summary(per_fold, metric)
    params: dict[str, Any] = {
        "ensemble.method": "hedge",
        "ensemble.hedges": pick.number,
        "ensemble.members": [{"number": pick.number, "model": pick.model, "weight": WEIGHT}],
        "ensemble.bagged_folds": sum(1 for p, _ in parts if p.number == pick.number and p is not pick),
        "ensemble.anchor": {"model": anchor.model, "weight": 1.0 - WEIGHT, **a_params},
    }
    res.params, res.metrics = params, metrics
    res.fold_scores = [f[metric] for f in per_fold]
    _held_out(res, y_s, mixed, task, groups_s)
    try:
        data = build_ensemble_artifact(
            [(p.artifact or b"", w) for p, w in parts],
            signature=signature,
            params={"model": "hedge", **params},
            metrics=metrics,
            data_fingerprint=fingerprint,
            rows=int(y.size),
        )
        predictor = _check_ensemble(data, parts)
        res.artifact, res.runtime, res.export_max_abs_diff = data, "ensemble", 0.0
        _measure(res, predictor, data)
        _judge(res, spec, None)
    except Exception as e:  # recorded as a failed candidate, like the ensemble
        res.status, res.error = "failed", f"{e.__class__.__name__}: {e}"[:500]
    res.fit_s = round(time.thread_time() - t0, 4)
    return res
