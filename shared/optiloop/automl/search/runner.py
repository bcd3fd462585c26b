"""The search loop: seeded Optuna over the portfolio, k-fold CV with pruning across folds, each
completed trial refitted on all rows and exported to a portable artifact that is checked against
the fitted model before anyone can register it.

`search` knows nothing of stores or HTTP: it takes arrays and calls `on_trial` once per finished
trial, so the worker records trials as they come (the leaderboard fills while the search runs) and
the benchmark calls it directly.

Reproducibility: the sampler and every model are seeded, models fit single-threaded, trials run one
after another, and the first trials are each family's defaults in a fixed order — the same seed,
data and trial budget give the same trials and metrics. A time budget (`budget_s`) can end the
search earlier on a slower or busier machine; the trial budget is the reproducible one. Between the
two, a CPU budget (`budget_cpu_s`): what the trials' fits, refits and exports cost on the search's
thread (`time.thread_time`; every model fits single-threaded, so that is all of it, and other work
in the same process — requests, another experiment — is not charged to it). Other processes on a
busy machine stretch the wall clock by whole factors but a fit's CPU time by a few percent
(docs/benchmarks.md, "Budgets on a busy machine"), so the same CPU budget runs nearly the same trials.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from optiloop.automl.export.artifact import build_artifact
from optiloop.automl.objectives import Objective
from optiloop.automl.search import metrics as mx
from optiloop.automl.search.portfolio import (
    FAMILIES,
    Context,
    available_families,
    display_name,
    load_libraries,
)
from optiloop.models.signature import Signature

if TYPE_CHECKING:
    from optiloop.automl.search.forecasting import ForecastPlan

log = logging.getLogger("optiloop.automl.search")
EXPORT_TOLERANCE = 1e-6  # absolute, on probabilities and on values of magnitude <= 1
# relative to the largest regression value: XGBoost sums its trees in float32 (the runtime in float64)
EXPORT_RELATIVE = 2e-6
EXPORT_CHECK_ROWS = 2000
CONSTRAINTS_ATTR = "constraints"  # the trial's user attr of normalised violations (optuna record too)
# where the constrained TPE sampler keeps a finished trial's violations (optuna.samplers._base's
# private _CONSTRAINTS_KEY; a replayed trial must carry it, since no after_trial hook runs for it)
OPTUNA_CONSTRAINTS_KEY = "constraints"


class Stopped(Exception):
    """Cancelled, or out of time, in the middle of a trial: the search ends."""


class CannotFinish(Exception):
    """This trial would end past a budget (`_cannot_finish`): it stops, and the search goes on."""


@dataclass(frozen=True)
class SearchSpec:
    objective: Objective
    folds: int = 5
    cv_seed: int = 0
    # how many times the k folds are drawn, each with its own shuffle (seed cv_seed + r): None picks
    # by the table's size (`cv_repeats`); 1 is plain k-fold (what experiments made before it had
    # a setting run on)
    repeats: int | None = 1
    seed: int = 0
    stratified: bool = True
    sampler: str = "tpe"  # tpe | random
    pruner: str = "asha"  # asha | hyperband | median | none
    trials: int = 20
    budget_s: float | None = None
    budget_cpu_s: float | None = None  # the trials' CPU-seconds (module docstring), a resumed run's included
    families: tuple[str, ...] = tuple(FAMILIES)
    class_weight: bool = False
    ensemble: bool = True  # greedy selection over the completed trials' out-of-fold predictions
    # configurations that won on similar earlier experiments ({"model": family, "<family>.<p>": v}),
    # tried first (optiloop.automl.metalearn); recorded with the experiment, so a rerun repeats them
    warm_start: tuple[dict[str, Any], ...] = ()
    # anomaly detection (task_type anomaly): the share of rows to flag; None for supervised tasks.
    # `labelled`: whether y holds anomaly labels to score detectors by (else one default detector)
    contamination: float | None = None
    labelled: bool = True
    # forecasting (task_type forecasting): expanding-window folds, MASE/sMAPE per fold and the
    # statistical baselines (optiloop.automl.search.forecasting); None for the other tasks
    forecast: ForecastPlan | None = None
    # bounds on the served model (optiloop.automl.constraints): latency_ms_p95, model_size_bytes.
    # A trial over one is infeasible: recorded, never the best, never an ensemble member
    constraints: dict[str, float] = field(default_factory=dict)
    # the winner's rule (optiloop.automl.selection) and whether, on a small table, a non-linear pick
    # is hedged with the tuned linear model (optiloop.automl.search.hedge: one more candidate). Off
    # for hand-built specs, as `repeats` is; an experiment's comes from config.ensemble.hedge
    selection: str = "one_se"
    hedge: bool = False
    # keep each completed trial's out-of-fold outputs on its TrialResult (`oof`): a one-trial search
    # in an AutoML trial job hands them on to the fan-out's ensemble; off for the local search, where
    # only the best few are kept (bounded memory)
    keep_oof: bool = False


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
    fairness: dict[str, Any] | None = None  # per sensitive group, on the out-of-fold predictions
    # what Optuna saw (its params, with "model", and their distributions as JSON): a resumed run
    # replays these into a fresh study so the sampler continues from the same history
    optuna: dict[str, Any] | None = None
    # what serving the exported model costs (latency_ms_p95 estimated from its structure,
    # model_size_bytes) and the constraints it breaks; None/[] without an artifact
    cost: dict[str, float] | None = None
    violations: list[str] = field(default_factory=list)
    # the structural cost behind `cost` (optiloop.automl.cost.Cost), for the ensemble's estimate
    structure: Any = None
    # the served export's outputs on the signature's probe rows (`_probe`), taken while its export
    # check had it loaded: an ensemble's check compares against these instead of loading each member
    # again (a 300-tree forest's document is seconds of JSON to decode)
    probe: np.ndarray | None = None
    # (rows x draws, outputs) out-of-fold outputs, with SearchSpec.keep_oof (draws: `stacked`)
    oof: np.ndarray | None = None
    # enqueued before the sampler (a family's defaults, a warm start): configured without seeing
    # these folds, so its score carries no selection optimism (optiloop.automl.selection)
    prior: bool = False
    # a hedge (optiloop.automl.search.hedge): the trial it serves averaged with the linear model
    hedges: int | None = None

    @property
    def feasible(self) -> bool:
        return not self.violations


# Repeated inner CV on small tables (`cv_repeats`): aim for this many validation predictions per
# candidate, at most MAX_AUTO_REPEATS draws. Why 500: a logloss/RMSE mean over n validation rows has
# an SE ~ sd/sqrt(n), and the one-SE rule (optiloop.automl.selection) pairs fold scores — on wine's
# 142 inner rows one 5-fold draw gives 5 scores of 28 rows each, and logistic regression ranked
# behind HistGB and the MLP although it was better held out. Four draws give 20 paired scores over
# 568 predictions. The cost is R times the fits per trial, which is cheap exactly where it applies
# (fits on < 500 rows take milliseconds to a second); at 500 rows and above one draw is kept, so large
# tables search exactly as before (same folds, same trials).
MIN_VALIDATION_ROWS = 500
MAX_AUTO_REPEATS = 5


def cv_repeats(n_rows: int, requested: int | None) -> int:
    """How many shuffled draws of the k folds: `requested`, or by the table's size when None."""
    if requested is not None:
        return max(1, int(requested))
    return max(1, min(MAX_AUTO_REPEATS, math.ceil(MIN_VALIDATION_ROWS / max(1, n_rows))))


def folds_of(y: np.ndarray, spec: SearchSpec, task: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, validation) row indices every trial is scored on: R draws of k folds, draw r
    shuffled with seed cv_seed + r (so draw 0 is the plain k-fold of before), stratified for
    classification, in draw order — the pruner sees the first draw's folds first."""
    from sklearn.model_selection import KFold, StratifiedKFold

    out: list[tuple[np.ndarray, np.ndarray]] = []
    for r in range(cv_repeats(int(y.size), spec.repeats)):
        if task != "regression" and spec.stratified:
            counts = np.bincount(y)
            k = max(2, min(spec.folds, int(counts[counts > 0].min())))
            splitter: Any = StratifiedKFold(n_splits=k, shuffle=True, random_state=spec.cv_seed + r)
        else:
            splitter = KFold(n_splits=min(spec.folds, y.size), shuffle=True, random_state=spec.cv_seed + r)
        out.extend((tr, va) for tr, va in splitter.split(np.zeros((y.size, 1)), y))
    return out


def stacked(
    folds: Sequence[tuple[np.ndarray, np.ndarray]], n_rows: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds with each validation index moved into its draw's block of the out-of-fold array
    (rows x draws): draw r's predictions of row i sit at r * n_rows + i. Each draw's validation
    sets partition the rows, so the draw is the count of validation rows before the fold // n_rows.
    Why stacked rather than averaged: a row's mean over draws is a bagged prediction no single trial
    made, scored better than the trials it is compared with; stacked, the greedy ensemble mixes and
    is scored on exactly the per-fold predictions the trials were."""
    out, seen = [], 0
    for tr, va in folds:
        out.append((tr, va + (seen // n_rows) * n_rows))
        seen += va.size
    return out


def balanced_weights(y: np.ndarray) -> np.ndarray:
    counts = np.bincount(y).astype(np.float64)
    present = counts > 0
    w = np.zeros_like(counts)
    w[present] = y.size / (present.sum() * counts[present])
    return w[y]


# families whose defaults run ahead of the warm starts: fast on any table, and the single models the
# issue measures against (logistic regression / ridge, default XGBoost)
CHEAP_FIRST = ("linear", "xgboost")


def shrunk_linear(ctx: Context) -> dict[str, Any]:
    """The linear family at its strongest regularisation: close to predicting the class balance (the
    mean), so a table whose features say little has a candidate that is not worse than knowing
    nothing, and the ensemble a member that shrinks towards it. MASS survey (190 rows, 4 classes of
    noise): every other trial was worse in CV than the prior, and the winner too held out (logloss
    1.005 vs 0.828)."""
    return {"linear.alpha": 1e3} if ctx.task == "regression" else {"linear.C": 1e-3}


def _cannot_finish(
    first_fold: float, done: int, folds: int, deadline: float, clock: Callable[[], float] | None = None
) -> bool:
    """Whether a trial's remaining folds, at the pace of those it has fitted, end past the deadline
    (of `clock`: the wall clock for `budget_s`, the trials' CPU for `budget_cpu_s`).

    Why stop it now rather than at the deadline: a trial counts only with every fold scored, so one
    that cannot finish in time is stopped at the deadline anyway; its folds before that are spent
    for nothing (tested on a fake clock: 1 fold fitted where 3 were). Why the search goes on after
    it: a cheaper configuration may still fit in what is left. Ending the search there made where a
    budget ended hinge on one estimate — measured with the CPU budget: a few percent of noise in one
    fold's CPU decided whether an MLP "could finish", and the same search ended after 29 trials in
    one run and 40 in the next (docs/benchmarks.md, "Budgets on a busy machine"). Trials that do
    finish are the same either way (on a trial budget, with no deadline, nothing changes).
    Not what makes a large table's run outlast its budget: on diamonds (43,152 rows, 60 s) a default
    random forest's folds all ended in time, and its refit and export, the ensemble and the report
    took the run to 110 s."""
    if done == 0 or math.isinf(deadline):
        return False
    now = (clock or time.monotonic)()  # looked up at the call: a test's fake clock replaces it
    return now + (now - first_fold) / done * (folds - done) > deadline


def enqueue_first_trials(
    study: Any, families: Sequence[str], warm: Sequence[dict[str, Any]], ctx: Context, *, shrunk: bool = True
) -> None:
    """The trials the search asks for before the sampler: the defaults of the linear family and
    XGBoost, the linear family's most regularised point (`shrunk_linear`), then the warm-start
    configurations, then every other family's defaults, in the portfolio's order.

    Why those ahead of the warm starts: they fit in a second or two on any table, they are the single
    models that win on small data (linear) and on most others (XGBoost), and a remembered
    configuration (an MLP of 100 epochs, a forest from a small table) can spend a short `budget_s`
    whole on a larger one — measured through the REST flow: on ISLR's Caravan 30 s went to one
    warm-started MLP whose held-out logloss (0.63) was worse than the class prior's (0.22) while
    logistic regression (0.20) never ran; on nycflights13 weather three warm-started extra-trees left
    no time for XGBoost (held-out RMSE 1.06 against default XGBoost's 0.52)."""
    for name in CHEAP_FIRST:
        if name in families:
            study.enqueue_trial({"model": name, **FAMILIES[name].default(ctx)}, skip_if_exists=True)
    if shrunk and "linear" in families:  # not for forecasting: the statistical forecasters are its floor
        study.enqueue_trial({"model": "linear", **shrunk_linear(ctx)}, skip_if_exists=True)
    for config in warm:
        if config.get("model") in families:
            study.enqueue_trial(dict(config), skip_if_exists=True)
    for name in families:
        study.enqueue_trial({"model": name, **FAMILIES[name].default(ctx)}, skip_if_exists=True)


def _sampler(spec: SearchSpec, n_startup: int) -> Any:
    import optuna

    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    extra: dict[str, Any] = {}
    if spec.constraints:  # constrained TPE: feasible trials shape the "good" density
        k = len(spec.constraints)
        extra["constraints_func"] = lambda t: tuple(t.user_attrs.get(CONSTRAINTS_ATTR) or (0.0,) * k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # multivariate/group are "experimental" in Optuna's words
        return optuna.samplers.TPESampler(
            seed=spec.seed, multivariate=True, group=True, n_startup_trials=n_startup, **extra
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


FoldMetrics = Callable[[int, np.ndarray, np.ndarray], dict[str, float]]  # (fold, its rows, outputs)


def score_over_folds(
    objective: Objective,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    fold_metrics: FoldMetrics,
    out: np.ndarray,
) -> float:
    """The objective as every trial is scored: its mean over the folds where it is defined, larger
    better (the local search and the AWS fan-out's Finalise judge ensembles by this one rule)."""
    vals = [fold_metrics(j, va, out)[objective.metric] for j, (_, va) in enumerate(folds)]
    ok = [v for v in vals if not math.isnan(v)]
    return _score(objective, float(np.mean(ok))) if ok else -math.inf


def rank(
    results: list[TrialResult],
    objective: Objective,
    selection: str = "best_mean",
    per_draw: int | None = None,
) -> list[TrialResult]:
    """The completed trials, the winner first by `selection` (optiloop.automl.selection: the rule
    the experiment's leaderboard uses), then by the objective, then by number. Constraints are not
    judged here: a caller that has them filters first. `per_draw`: the search's k folds (one draw),
    so that repeated draws do not shrink the rule's standard errors."""
    from optiloop.automl.selection import Candidate, order

    done = {r.number: r for r in results if r.status == "completed"}
    cands = [
        Candidate(
            r.number,
            r.family,
            _score(objective, r.metrics.get(objective.metric, math.nan)),
            tuple(_score(objective, float(v)) if v is not None else math.nan for v in r.fold_scores),
            prior=r.prior,
            hedges=r.hedges,
        )
        for r in done.values()
    ]
    return [done[n] for n in order(cands, selection, per_draw)]


def context_of(x: np.ndarray, y: np.ndarray, signature: Signature, spec: SearchSpec) -> Context:
    """What a family's build and suggest know of the table (the search's; a benchmark refitting)."""
    kinds = [
        ("onehot", len(i.categories)) if i.type == "category" else ("numeric", 0) for i in signature.inputs
    ]
    return Context(task=signature.task, n_classes=len(signature.classes), n_features=x.shape[1],
                   kinds=kinds, seed=spec.seed, contamination=spec.contamination or 0.0,
                   n_rows=int(y.size))  # fmt: skip


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
    groups: np.ndarray | None = None,
    history: Sequence[dict[str, Any]] = (),
) -> list[TrialResult]:
    """`groups`: the declared sensitive column's value per row, for the fairness metrics.
    `history`: a resumed run's recorded trials (number, status, value, optuna, cpu_s), replayed into
    the study in order; they count against `spec.trials` and their CPU against `spec.budget_cpu_s`,
    and only the rest are run. Their out-of-fold predictions are not kept, so a resumed run's
    ensemble draws on the trials it runs itself."""
    import optuna
    from threadpoolctl import threadpool_limits

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    task = signature.task
    n_classes = len(signature.classes)
    anomaly = spec.contamination is not None
    ctx = context_of(x, y, signature, spec)
    if anomaly and not spec.labelled:
        return _unsupervised(x, ctx, spec, signature, fingerprint, on_trial)
    plan = spec.forecast
    folds = list(plan.folds) if plan is not None else folds_of(y, spec, task)
    # where each fold's predictions go in the out-of-fold array (`stacked`: one block per draw of a
    # repeated CV); y and groups repeated to match, so every score reads (y_s[slot], outputs[slot])
    slots = folds if plan is not None else stacked(folds, int(y.size))
    draws = 1 if plan is not None else cv_repeats(int(y.size), spec.repeats)  # as folds_of drew them
    y_s = np.tile(y, draws)
    groups_s = None if groups is None else np.tile(groups, draws)
    n_outputs = signature.n_outputs

    def fold_metrics(j: int, va: np.ndarray, out: np.ndarray) -> dict[str, float]:
        if plan is not None:
            return plan.fold_metrics(j, y[va], out[va])
        return mx.compute(y_s[va], out[va], task, n_classes)

    fold_score = partial(score_over_folds, spec.objective, slots, fold_metrics)

    weights = balanced_weights(y) if spec.class_weight and task != "regression" else None
    families = [f for f, fam in available_families().items() if f in spec.families and fam.anomaly == anomaly]
    load_libraries(families)
    started = time.monotonic()
    deadline = started + spec.budget_s if spec.budget_s else math.inf
    cpu_limit = spec.budget_cpu_s if spec.budget_cpu_s else math.inf
    # the trials' CPU so far: finished ones' fit_s (a resumed run's included) plus the running one's
    cpu = {"spent": sum(float(h.get("cpu_s") or 0.0) for h in history), "trial_started": math.nan}

    def cpu_used() -> float:
        running = time.thread_time() - cpu["trial_started"]
        return cpu["spent"] + (0.0 if math.isnan(running) else running)

    stop = should_stop or (lambda: False)
    results: list[TrialResult] = []

    def interrupted() -> bool:
        return stop() or time.monotonic() > deadline or cpu_used() > cpu_limit

    def emit(r: TrialResult) -> None:
        results.append(r)
        if on_trial is not None:
            on_trial(r)

    oof: dict[int, np.ndarray] = {}  # completed, exported trials' out-of-fold outputs (the best few)
    enqueued_below = 0  # trials numbered below this were enqueued by the search (set below)

    def objective(trial: Any) -> float:
        family = FAMILIES[trial.suggest_categorical("model", families)]
        params = family.suggest(trial, ctx)
        res = TrialResult(trial.number, family.name, display_name(family.name, task), params, "completed")
        res.prior = trial.number < enqueued_below
        res.optuna = {
            "params": dict(trial.params),
            "distributions": {
                k: optuna.distributions.distribution_to_json(d) for k, d in trial.distributions.items()
            },
        }
        t0 = cpu["trial_started"] = time.thread_time()
        per_fold: list[dict[str, float]] = []
        outputs = np.full((y_s.size, n_outputs), np.nan)
        # A trial the search enqueued itself (a warm start, a family's defaults) runs every fold when
        # an ensemble will follow: pruned at fold 1 behind the best family, the other families had no
        # out-of-fold predictions, so the ensemble could only mix one family's trials (credit_data,
        # held-out logloss 0.4465 pruned vs 0.4305 protected, FLAML 0.4347; docs/benchmarks.md)
        protected = spec.ensemble and not anomaly and plan is None and trial.number < enqueued_below
        first_fold, first_fold_cpu = time.monotonic(), cpu_used()
        try:
            for i, ((tr, va), (_, slot)) in enumerate(zip(folds, slots, strict=True)):
                if interrupted():
                    raise Stopped
                if _cannot_finish(first_fold, i, len(folds), deadline):
                    raise CannotFinish("budget_s")
                if _cannot_finish(first_fold_cpu, i, len(folds), cpu_limit, cpu_used):
                    raise CannotFinish("budget_cpu_s")
                model = family.build(params, ctx)
                model.fit(x[tr], y[tr], None if weights is None else weights[tr])
                outputs[slot] = model.predict_outputs(x[va])
                per_fold.append(fold_metrics(i, slot, outputs))
                res.fold_scores.append(per_fold[-1][spec.objective.metric])
                running = (
                    float(np.nanmean(res.fold_scores))
                    if not all(map(math.isnan, res.fold_scores))
                    else math.nan
                )
                trial.report(running, i)
                if i < len(folds) - 1 and not protected and trial.should_prune():
                    res.status = "pruned"
                    res.metrics = {spec.objective.metric: running}
                    raise optuna.TrialPruned()
            res.metrics = _summary(per_fold, spec.objective.metric)
            if spec.keep_oof:
                res.oof = outputs
            if not anomaly:  # an anomaly score is not a probability: no calibration, no parity
                _held_out(res, y_s, outputs, task, groups_s)
            if refit:
                if plan is not None and plan.panel is not None:  # the global model: a forecast table
                    plan.export_global(res, family.build(params, ctx), x, y, outputs, fingerprint)
                else:
                    _refit_and_export(res, family, params, ctx, x, y, weights, signature, fingerprint)
                _judge(res, spec, trial)
                if spec.ensemble and res.feasible and np.all(np.isfinite(outputs)):
                    _keep_best(oof, trial.number, outputs, fold_score)
            return res.metrics[spec.objective.metric]
        except (optuna.TrialPruned, Stopped) as e:
            if isinstance(e, Stopped):
                res.status = "stopped"
            raise
        except CannotFinish as e:  # Optuna records a failed trial, as a resumed run replays a stopped one
            res.status, res.error = "stopped", f"its remaining folds would end past {e}"
            return math.nan
        except Exception as e:  # a failing configuration is recorded and the search goes on
            log.info("trial %d (%s) failed: %s", trial.number, family.name, e)
            res.status, res.error = "failed", f"{e.__class__.__name__}: {e}"[:500]
            return math.nan
        finally:
            res.fit_s = round(time.thread_time() - t0, 4)
            cpu["spent"] += res.fit_s
            cpu["trial_started"] = math.nan
            emit(res)

    study = optuna.create_study(
        direction="maximize" if spec.objective.greater_is_better else "minimize",
        sampler=_sampler(spec, len(families)),
        pruner=_pruner(spec, len(folds), len(families)),
    )
    for h in history:
        study.add_trial(_replayed(h))
    enqueue_first_trials(study, families, spec.warm_start, ctx, shrunk=plan is None)
    enqueued_below = len(study.trials)  # the replayed history, then the enqueued trials (waiting)

    def stop_cb(st: Any, _trial: Any) -> None:
        if interrupted():
            st.stop()

    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(Stopped):
            remaining = spec.trials - len(history)
            if remaining > 0:
                study.optimize(objective, n_trials=remaining, callbacks=[stop_cb], catch=())
    last = max([r.number for r in results] + [int(h["number"]) for h in history], default=-1)
    # the statistical forecasters are scored when the time budget has ended too (only a cancel skips
    # them, as it skips the ensemble): they are forecasting's floor, and skipped, a 30 s budget left a
    # global model that lost to the seasonal naive forecast (40 M1 monthly series: sMAPE 23.2 vs 20.2)
    if plan is not None and plan.baselines and not stop():
        for baseline in plan.baseline_trials(last + 1, spec.objective.metric, fingerprint):
            emit(baseline)
        last = max(r.number for r in results)
    if spec.ensemble and refit and not anomaly and plan is None and not stop():
        ens = _ensemble(
            results,
            oof,
            fold_score,
            slots,
            spec,
            signature,
            fingerprint,
            y_s,
            groups_s,
            last + 1,
            rows=y.size,
        )
        if ens is not None:
            emit(ens)
    if refit and not anomaly and plan is None and not stop():
        from optiloop.automl.search import hedge

        hedged = hedge.build(
            results, oof, fold_score, spec=spec, ctx=ctx, x=x, y=y, weights=weights, folds=folds,
            slots=slots, y_s=y_s, groups_s=groups_s, signature=signature, fingerprint=fingerprint,
            number=max([r.number for r in results] + [last]) + 1,
        )  # fmt: skip
        if hedged is not None:
            emit(hedged)
    return results


def _unsupervised(
    x: np.ndarray,
    ctx: Context,
    spec: SearchSpec,
    signature: Signature,
    fingerprint: str,
    on_trial: Callable[[TrialResult], None] | None,
) -> list[TrialResult]:
    """Anomaly detection without labels: nothing to score configurations by, so one detector with
    the defaults, fitted on every row; its metric is the share of rows it flags (the budget)."""
    family = FAMILIES["isolation_forest"]
    params = family.default(ctx)
    res = TrialResult(0, family.name, family.name, params, "completed")
    t0 = time.thread_time()
    try:
        model = family.build(params, ctx).fit(x)
        flagged = float(np.mean(model.predict_outputs(x)[:, 0] >= 0.5))
        res.metrics = {"flagged_share": flagged, "contamination": float(spec.contamination or 0.0)}
        _refit_and_export(res, family, params, ctx, x, np.zeros(x.shape[0]), None, signature, fingerprint)
        _judge(res, spec, None)
    except Exception as e:
        res.status, res.error = "failed", f"{e.__class__.__name__}: {e}"[:500]
    res.fit_s = round(time.thread_time() - t0, 4)
    if on_trial is not None:
        on_trial(res)
    return [res]


def _replayed(h: dict[str, Any]) -> Any:
    """A recorded trial as a finished Optuna trial: completed with its value, pruned, or failed
    (a failed or stopped trial, so the numbers of the trials run next follow the recorded ones)."""
    import optuna
    from optuna.trial import TrialState

    rec = h.get("optuna") or {}
    dists = {k: optuna.distributions.json_to_distribution(v) for k, v in rec.get("distributions", {}).items()}
    value = h.get("value")
    if h["status"] == "completed" and isinstance(value, (int, float)) and math.isfinite(value):
        state, val = TrialState.COMPLETE, float(value)
    else:
        state, val = (TrialState.PRUNED if h["status"] == "pruned" else TrialState.FAIL), None
    con = rec.get(CONSTRAINTS_ATTR)
    judged = con is not None and state == TrialState.COMPLETE
    return optuna.trial.create_trial(
        params=rec.get("params", {}), distributions=dists, value=val, state=state,
        user_attrs={CONSTRAINTS_ATTR: con} if con is not None else None,
        system_attrs={OPTUNA_CONSTRAINTS_KEY: tuple(con or ())} if judged else None,
    )  # fmt: skip


def _judge(res: TrialResult, spec: SearchSpec, trial: Any) -> None:
    """The trial's cost against the constraints; Optuna hears the normalised violations (kept with
    the trial's optuna record, so a resumed study replays them)."""
    from optiloop.automl import constraints

    res.violations = constraints.violations(res.cost, spec.constraints)
    if spec.constraints:
        values = constraints.optuna_values(res.cost, spec.constraints)
        if trial is not None:
            trial.set_user_attr(CONSTRAINTS_ATTR, values)
        if res.optuna is not None:
            res.optuna[CONSTRAINTS_ATTR] = values


def _held_out(
    res: TrialResult, y: np.ndarray, outputs: np.ndarray, task: str, groups: np.ndarray | None
) -> None:
    """Calibration and fairness of the out-of-fold predictions (optiloop.automl.explain)."""
    from optiloop.automl import explain

    if not np.all(np.isfinite(outputs)):
        return
    res.metrics.update(explain.held_out_metrics(y, outputs, task, groups))
    if groups is not None and task == "binary":
        res.fairness = explain.fairness(y, outputs, groups)["groups"]


def _keep_best(
    oof: dict[int, np.ndarray], number: int, outputs: np.ndarray, fold_score: Callable[[np.ndarray], float]
) -> None:
    """Bounded memory: only the best MAX_CANDIDATES trials' out-of-fold outputs are kept."""
    from optiloop.automl.search.ensemble import MAX_CANDIDATES

    oof[number] = outputs
    if len(oof) > MAX_CANDIDATES:
        worst = min(oof, key=lambda n: (fold_score(oof[n]), -n))
        del oof[worst]


def _ensemble(
    results: list[TrialResult],
    oof: dict[int, np.ndarray],
    fold_score: Callable[[np.ndarray], float],
    folds: list[tuple[np.ndarray, np.ndarray]],
    spec: SearchSpec,
    signature: Signature,
    fingerprint: str,
    y: np.ndarray,
    groups: np.ndarray | None,
    number: int,
    rows: int | None = None,
) -> TrialResult | None:
    """The greedy ensemble of the kept trials as one more candidate, or None when the selection
    keeps a single trial (it would only repeat that trial). `folds`, `y` and `groups` index the
    out-of-fold arrays (`stacked`: rows x draws of a repeated CV); `rows`: the table's (y.size when
    None)."""
    from optiloop.automl import constraints
    from optiloop.automl.cost import ensemble_of
    from optiloop.automl.export.ensemble import build_ensemble_artifact
    from optiloop.automl.search.ensemble import select

    t0 = time.thread_time()
    by_number = {r.number: r for r in results if r.artifact is not None and r.feasible}
    pool = {n: p for n, p in oof.items() if n in by_number}

    def allowed(members: set[int]) -> bool:
        """The mix's estimated cost (its members', summed) within the constraints."""
        if not spec.constraints:
            return True
        parts = [by_number[n] for n in members]
        if any(p.structure is None for p in parts):
            return False
        est = {
            "latency_ms_p95": ensemble_of([p.structure for p in parts], signature.n_outputs).latency_ms_p95,
            "model_size_bytes": float(sum(len(p.artifact or b"") for p in parts)),
        }
        return not constraints.violations(est, spec.constraints)

    chosen = select(pool, fold_score, allowed=allowed)
    if chosen is None or len(chosen.weights) < 2:
        return None
    members = sorted(chosen.weights.items(), key=lambda kv: (-kv[1], kv[0]))
    mixed = sum(w * pool[n] for n, w in members)
    assert isinstance(mixed, np.ndarray)
    task, n_classes = signature.task, len(signature.classes)
    per_fold = [mx.compute(y[va], mixed[va], task, n_classes) for _, va in folds]
    metrics = _summary(per_fold, spec.objective.metric)
    params: dict[str, Any] = {
        "ensemble.method": "greedy",
        "ensemble.members": [
            {"number": n, "model": by_number[n].model, "weight": round(w, 6)} for n, w in members
        ],
    }
    res = TrialResult(number, "ensemble", "ensemble", params, "completed", metrics=metrics)
    _held_out(res, y, mixed, task, groups)
    res.fold_scores = [f[spec.objective.metric] for f in per_fold]
    try:
        data = build_ensemble_artifact(
            [(by_number[n].artifact or b"", w) for n, w in members],
            signature=signature,
            params={"model": "ensemble", **params},
            metrics=metrics,
            data_fingerprint=fingerprint,
            rows=int(y.size) if rows is None else rows,
        )
        predictor = _check_ensemble(data, [(by_number[n], w) for n, w in members])
        res.artifact, res.runtime, res.export_max_abs_diff = data, "ensemble", 0.0
        _measure(res, predictor, data)
        _judge(res, spec, None)
    except Exception as e:  # recorded as a failed candidate, like any trial
        log.info("the ensemble failed: %s", e)
        res.status, res.error = "failed", f"{e.__class__.__name__}: {e}"[:500]
    res.fit_s = round(time.thread_time() - t0, 4)
    return res


def _probe(signature: Signature) -> np.ndarray:
    """64 fixed rows over the signature's inputs (categories by their codes): where an ensemble's
    served outputs are compared with its members'."""
    probe = np.random.default_rng(0).normal(size=(64, len(signature.inputs)))
    for j, inp in enumerate(signature.inputs):
        if inp.type == "category":
            probe[:, j] = np.arange(64) % max(1, len(inp.categories))
    return probe


def _check_ensemble(data: bytes, members: list[tuple[TrialResult, float]]) -> Any:
    """The served ensemble must answer the weighted sum of its members' served outputs (each as its
    export check saw it, `probe`, else loaded again from its artifact); the loaded ensemble."""
    from optiloop.models import runtimes
    from optiloop.models.artifact import read_artifact

    art = read_artifact(data)
    probe = _probe(art.signature)
    predictor = runtimes.load(art)
    got = predictor.predict(probe)

    def served(m: TrialResult) -> np.ndarray:
        if m.probe is not None:
            return m.probe
        return np.asarray(runtimes.load(read_artifact(m.artifact or b"")).predict(probe))

    want = sum(w * served(m) for m, w in members)
    if not np.allclose(got, want, rtol=0, atol=EXPORT_TOLERANCE):
        raise ValueError("the ensemble artifact does not reproduce its members' weighted outputs")
    return predictor


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
    model = family.build(params, ctx)
    model.fit(x, y, weights)
    export_fitted(res, model, family, params, ctx, x, int(y.size), signature, fingerprint)


def export_fitted(
    res: TrialResult,
    model: Any,
    family: Any,
    params: dict[str, Any],
    ctx: Context,
    x: np.ndarray,
    rows: int,
    signature: Signature,
    fingerprint: str,
) -> None:
    """Export a fitted model onto `res` (artifact, runtime, probe outputs, cost), proving on the first
    rows of `x` that every served form predicts what the model does. `rows`: what it was fitted on."""
    from optiloop.models import runtimes
    from optiloop.models.artifact import read_artifact

    doc = family.export(model, ctx)
    extras = family.extras(doc, ctx) if family.extras is not None else {}
    data = build_artifact(
        doc,
        runtime=family.runtime,
        framework=family.framework,
        signature=signature,
        params={"model": res.model, **params},
        metrics=res.metrics,
        data_fingerprint=fingerprint,
        rows=rows,
        extra_files=extras,
    )
    art = read_artifact(data)
    sample = x[:EXPORT_CHECK_ROWS]
    want = model.predict_outputs(sample)
    # float32 sums err relative to the size of the values summed, not of each result: scale by the largest
    scale = max(1.0, float(np.max(np.abs(want)))) if ctx.task == "regression" else 1.0
    allowed = family.tolerance if ctx.task != "regression" else max(EXPORT_RELATIVE, family.tolerance)
    served = [("the exported model", art)]
    if "onnx_file" in art.manifest and _has_onnxruntime():
        onnx = {**art.manifest, "runtime": "onnx", "model_file": art.manifest["onnx_file"]}
        served.append(("its ONNX graph", replace(art, manifest=onnx)))
    predictors = []
    for what, candidate in served:
        predictors.append(runtimes.load(candidate))
        got = predictors[-1].predict(sample)
        diff = float(np.max(np.abs(got - want)))
        res.export_max_abs_diff = max(diff, res.export_max_abs_diff or 0.0)
        if not np.all(np.abs(got - want) <= allowed * scale):
            raise ValueError(f"{what} differs from the fitted one by {diff:.3g} (> {allowed} x scale)")
    res.artifact, res.runtime = data, family.runtime
    res.probe = np.asarray(predictors[0].predict(_probe(signature)))
    _measure(res, predictors[0], data)


def _measure(res: TrialResult, predictor: Any, artifact: bytes) -> None:
    """What serving the artifact costs (optiloop.automl.cost): deterministic, from its structure."""
    from optiloop.automl import cost

    try:
        structure = cost.of_predictor(predictor)
    except TypeError:  # a runtime without a cost model: size only, latency unknown
        res.cost = {"model_size_bytes": float(len(artifact))}
        return
    res.structure = structure
    res.cost = {"latency_ms_p95": structure.latency_ms_p95, "model_size_bytes": float(len(artifact))}


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None
