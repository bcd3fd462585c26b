"""The search loop: seeded Optuna over the portfolio, k-fold CV with pruning across folds, each
completed trial refitted on all rows and exported to a portable artifact that is checked against
the fitted model before anyone can register it.

`search` knows nothing of stores or HTTP: it takes arrays and calls `on_trial` once per finished
trial, so the worker records trials as they come (the leaderboard fills while the search runs) and
the benchmark calls it directly.

Reproducibility: the sampler and every model are seeded, models fit single-threaded, trials run one
after another, and the first trials are each family's defaults in a fixed order — the same seed,
data and trial budget give the same trials and metrics. A time budget (`budget_s`) can end the
search earlier on a slower or busier machine; the trial budget is the reproducible one.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optiloop.automl.export.artifact import build_artifact
from optiloop.automl.objectives import Objective
from optiloop.automl.search import metrics as mx
from optiloop.automl.search.portfolio import FAMILIES, Context, display_name
from optiloop.models.signature import Signature

log = logging.getLogger("optiloop.automl.search")
EXPORT_TOLERANCE = 1e-6  # absolute, on probabilities and on values of magnitude <= 1
# relative to the largest regression value: XGBoost sums its trees in float32 (the runtime in float64)
EXPORT_RELATIVE = 2e-6
EXPORT_CHECK_ROWS = 2000


class Stopped(Exception):
    """Cancelled, or out of time, in the middle of a trial."""


@dataclass(frozen=True)
class SearchSpec:
    objective: Objective
    folds: int = 5
    cv_seed: int = 0
    seed: int = 0
    stratified: bool = True
    sampler: str = "tpe"  # tpe | random
    pruner: str = "asha"  # asha | hyperband | median | none
    trials: int = 20
    budget_s: float | None = None
    families: tuple[str, ...] = tuple(FAMILIES)
    class_weight: bool = False


@dataclass
class TrialResult:
    number: int
    family: str
    model: str
    params: dict[str, Any]
    status: str  # completed | pruned | failed | stopped
    metrics: dict[str, float] = field(default_factory=dict)
    fold_scores: list[float] = field(default_factory=list)
    fit_s: float = 0.0
    error: str | None = None
    artifact: bytes | None = None
    runtime: str | None = None
    export_max_abs_diff: float | None = None


def folds_of(y: np.ndarray, spec: SearchSpec, task: str) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    if task != "regression" and spec.stratified:
        counts = np.bincount(y)
        k = max(2, min(spec.folds, int(counts[counts > 0].min())))
        splitter: Any = StratifiedKFold(n_splits=k, shuffle=True, random_state=spec.cv_seed)
    else:
        splitter = KFold(n_splits=min(spec.folds, y.size), shuffle=True, random_state=spec.cv_seed)
    return [(tr, va) for tr, va in splitter.split(np.zeros((y.size, 1)), y)]


def balanced_weights(y: np.ndarray) -> np.ndarray:
    counts = np.bincount(y).astype(np.float64)
    present = counts > 0
    w = np.zeros_like(counts)
    w[present] = y.size / (present.sum() * counts[present])
    return w[y]


def _sampler(spec: SearchSpec, n_startup: int) -> Any:
    import optuna

    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # multivariate/group are "experimental" in Optuna's words
        return optuna.samplers.TPESampler(
            seed=spec.seed, multivariate=True, group=True, n_startup_trials=n_startup
        )


def _pruner(spec: SearchSpec, n_folds: int, n_startup: int) -> Any:
    import optuna

    if spec.pruner == "none" or n_folds < 2:
        return optuna.pruners.NopPruner()
    if spec.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=n_startup, n_warmup_steps=1)
    if spec.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_folds, reduction_factor=3)
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)


def _score(objective: Objective, value: float) -> float:
    """Larger is better, NaN worst: one ordering for maximised and minimised metrics."""
    if math.isnan(value):
        return -math.inf
    return value if objective.greater_is_better else -value


def rank(results: list[TrialResult], objective: Objective) -> list[TrialResult]:
    done = [r for r in results if r.status == "completed"]
    return sorted(
        done, key=lambda r: (-_score(objective, r.metrics.get(objective.metric, math.nan)), r.number)
    )


def search(
    x: np.ndarray,
    y: np.ndarray,
    signature: Signature,
    spec: SearchSpec,
    *,
    fingerprint: str = "",
    on_trial: Callable[[TrialResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    refit: bool = True,
) -> list[TrialResult]:
    import optuna
    from threadpoolctl import threadpool_limits

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    task = signature.task
    n_classes = len(signature.classes)
    kinds = [
        ("onehot", len(i.categories)) if i.type == "category" else ("numeric", 0) for i in signature.inputs
    ]
    ctx = Context(task=task, n_classes=n_classes, n_features=x.shape[1], kinds=kinds, seed=spec.seed)
    folds = folds_of(y, spec, task)
    weights = balanced_weights(y) if spec.class_weight and task != "regression" else None
    families = [f for f in spec.families if f in FAMILIES]
    started = time.monotonic()
    deadline = started + spec.budget_s if spec.budget_s else math.inf
    stop = should_stop or (lambda: False)
    results: list[TrialResult] = []

    def interrupted() -> bool:
        return stop() or time.monotonic() > deadline

    def emit(r: TrialResult) -> None:
        results.append(r)
        if on_trial is not None:
            on_trial(r)

    def objective(trial: Any) -> float:
        family = FAMILIES[trial.suggest_categorical("model", families)]
        params = family.suggest(trial, ctx)
        res = TrialResult(trial.number, family.name, display_name(family.name, task), params, "completed")
        t0 = time.process_time()
        per_fold: list[dict[str, float]] = []
        try:
            for i, (tr, va) in enumerate(folds):
                if interrupted():
                    raise Stopped
                model = family.build(params, ctx)
                model.fit(x[tr], y[tr], None if weights is None else weights[tr])
                per_fold.append(mx.compute(y[va], model.predict_outputs(x[va]), task, n_classes))
                res.fold_scores.append(per_fold[-1][spec.objective.metric])
                running = (
                    float(np.nanmean(res.fold_scores))
                    if not all(map(math.isnan, res.fold_scores))
                    else math.nan
                )
                trial.report(running, i)
                if i < len(folds) - 1 and trial.should_prune():
                    res.status = "pruned"
                    res.metrics = {spec.objective.metric: running}
                    raise optuna.TrialPruned()
            res.metrics = _summary(per_fold, spec.objective.metric)
            if refit:
                _refit_and_export(res, family, params, ctx, x, y, weights, signature, fingerprint)
            return res.metrics[spec.objective.metric]
        except (optuna.TrialPruned, Stopped) as e:
            if isinstance(e, Stopped):
                res.status = "stopped"
            raise
        except Exception as e:  # a failing configuration is recorded and the search goes on
            log.info("trial %d (%s) failed: %s", trial.number, family.name, e)
            res.status, res.error = "failed", f"{e.__class__.__name__}: {e}"[:500]
            return math.nan
        finally:
            res.fit_s = round(time.process_time() - t0, 4)
            emit(res)

    study = optuna.create_study(
        direction="maximize" if spec.objective.greater_is_better else "minimize",
        sampler=_sampler(spec, len(families)),
        pruner=_pruner(spec, len(folds), len(families)),
    )
    for name in families:
        study.enqueue_trial({"model": name, **FAMILIES[name].default(ctx)})

    def stop_cb(st: Any, _trial: Any) -> None:
        if interrupted():
            st.stop()

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(Stopped):
            study.optimize(objective, n_trials=spec.trials, callbacks=[stop_cb], catch=())
    return results


def _summary(per_fold: list[dict[str, float]], metric: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in per_fold[0]:
        vals = np.array([f[k] for f in per_fold], dtype=np.float64)
        ok = vals[~np.isnan(vals)]
        out[k] = float(ok.mean()) if ok.size else math.nan
    scores = np.array([f[metric] for f in per_fold], dtype=np.float64)
    ok = scores[~np.isnan(scores)]
    out[f"{metric}_std"] = float(ok.std(ddof=1)) if ok.size > 1 else 0.0
    return out


def _refit_and_export(
    res: TrialResult,
    family: Any,
    params: dict[str, Any],
    ctx: Context,
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    signature: Signature,
    fingerprint: str,
) -> None:
    """Fit on every row, export, and prove the export predicts what the model does (1e-6)."""
    from optiloop.models import runtimes
    from optiloop.models.artifact import read_artifact

    model = family.build(params, ctx)
    model.fit(x, y, weights)
    doc = family.export(model, ctx)
    data = build_artifact(
        doc,
        runtime=family.runtime,
        framework=family.framework,
        signature=signature,
        params={"model": res.model, **params},
        metrics=res.metrics,
        data_fingerprint=fingerprint,
        rows=int(y.size),
    )
    predictor = runtimes.load(read_artifact(data))
    sample = x[:EXPORT_CHECK_ROWS]
    want = model.predict_outputs(sample)
    got = predictor.predict(sample)
    diff = float(np.max(np.abs(got - want)))
    res.export_max_abs_diff = diff
    # float32 sums err relative to the size of the values summed, not of each result: scale by the largest
    scale = max(1.0, float(np.max(np.abs(want)))) if ctx.task == "regression" else 1.0
    allowed = EXPORT_TOLERANCE if ctx.task != "regression" else EXPORT_RELATIVE
    if not np.all(np.abs(got - want) <= allowed * scale):
        raise ValueError(
            f"the exported model differs from the fitted one by {diff:.3g} (> {allowed} x scale)"
        )
    res.artifact, res.runtime = data, family.runtime
