"""Request bodies of AutoML: experiments as the seed writes them (`/v1/experiments` with `task_type`).

The dataset upload is multipart (`POST /v1/datasets/ingest`), read by the router, not a model here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from optiloop.api.models.common import Id, LongName, RequestModel


class CvIn(RequestModel):
    type: Literal["stratified_kfold", "kfold", "expanding_window"] | None = Field(
        None,
        description="The folds trials are scored on (null: stratified_kfold for classification, "
        "expanding_window for forecasting, kfold otherwise; forecasting takes only expanding_window).",
    )
    folds: Annotated[int, Field(ge=2, le=20)] = Field(5, description="How many folds (2-20).")
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = Field(0, description="The folds' shuffle seed.")
    repeats: Annotated[int, Field(ge=1, le=10)] | None = Field(
        None,
        description="How many times the folds are drawn, each with its own shuffle (seed, seed+1, ...), "
        "so each trial is scored on folds x repeats validation folds (1-10; null: by the table's size — "
        "enough draws for about 500 validation predictions, at most 5, one from 500 rows on; "
        "forecasting takes only 1).",
    )


class HpoIn(RequestModel):
    sampler: Literal["bayes", "bayesian", "tpe", "random"] = Field(
        "tpe", description="How configurations are proposed: tpe (bayes and bayesian mean tpe) or random."
    )
    trials: Annotated[int, Field(ge=1, le=10_000)] = Field(
        20, description="How many configurations are tried: the reproducible budget."
    )
    early_stopping: Literal["ASHA", "asha", "successive_halving", "hyperband", "median", "none"] | None = (
        Field(
            "asha",
            description="How weak trials stop early (successive_halving is ASHA; null: asha; none: never).",
        )
    )
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = Field(
        None, description="the sampler's and the models' seed; default: cv.seed"
    )
    warm_start: Annotated[int, Field(ge=0, le=20)] | None = Field(
        None,
        description="how many configurations that won on the nearest earlier experiments (by dataset "
        "meta-features) to try first; 0 turns the warm start off; default 3",
    )


class EnsembleIn(RequestModel):
    method: Literal["greedy", "none"] = Field(
        "greedy",
        description="greedy (Caruana) selection over the trials' out-of-fold predictions, added to "
        "the leaderboard as one more candidate; none: no ensemble",
    )
    hedge: bool = Field(
        True,
        description="classification on logloss, a table under 500 rows: serve a non-linear winner averaged "
        "with the tuned linear model when that model comes within a tenth of its skill (one more "
        "candidate, `model: hedge`, answered in place of the winner; docs/automl.md); false: never",
    )


class ImbalanceIn(RequestModel):
    method: Literal["class_weight", "none"] = Field(
        "none", description="class_weight: weigh classes inversely to their frequency (classification)."
    )


class ConstraintsIn(RequestModel):
    latency_ms_p95: Annotated[float, Field(gt=0, le=3_600_000)] | None = Field(
        None,
        description="the most a one-row predict of the served model may take, in ms (p95), "
        "estimated from the model's structure (optiloop.automl.cost) so that machine load does not "
        "change which trials are feasible; slower trials are infeasible: ranked last, never the "
        "best or an ensemble member",
    )
    model_size_bytes: Annotated[int, Field(ge=1, le=10 * 2**30)] | None = Field(
        None, description="the largest artifact (model.tar.gz) a trial may export, in bytes"
    )


class ExperimentConfig(RequestModel):
    cv: CvIn | None = Field(None, description="Cross-validation (null: the task's default folds).")
    hpo: HpoIn | None = Field(None, description="The search: sampler, trials, early stopping, seeds.")
    imbalance: ImbalanceIn | None = Field(None, description="Class imbalance handling (null: none).")
    constraints: ConstraintsIn | None = Field(
        None,
        description="bounds on the served model; a trial over one is infeasible (the leaderboard "
        "marks it and ranks it after the feasible ones; its Pareto front shows accuracy vs latency)",
    )
    ensemble: EnsembleIn | None = Field(None, description="The ensemble candidate (null: greedy).")
    selection: Literal["one_se", "best_mean"] | None = Field(
        None,
        description="how the winner is chosen among the completed candidates. one_se (the default "
        "for classification and regression): the simplest candidate (linear < bagged trees < boosted "
        "trees < MLP < ensemble) whose inner-CV score is within one standard error of the best's, "
        "the error of their paired per-fold differences — choosing the best of many trials by the "
        "folds that scored them over-fits the choice on small tables; best_mean: the best mean "
        "(the only rule for forecasting and anomaly, whose folds cannot be paired)",
    )
    contamination: Annotated[float, Field(gt=0, le=0.5)] | None = Field(
        None,
        description="anomaly detection: the share of rows the threshold flags (default 0.05)",
    )
    time_column: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None,
        description="forecasting (required): the column that orders the rows, datetimes or integer "
        "steps, sorted ascending without duplicates",
    )
    horizon: Annotated[int, Field(ge=1, le=365)] | None = Field(
        None,
        description="forecasting (required): how many steps ahead to forecast; every lag feature is "
        "at least this far back, so one model serves steps 1..horizon",
    )
    season_length: Annotated[int, Field(ge=1, le=366)] | None = Field(
        None,
        description="forecasting: the seasonal period in steps (12 for monthly data with a yearly "
        "cycle); seasonal lags, the seasonal naive baseline and the MASE scale use it (default 1)",
    )
    series_id: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None,
        description="forecasting: the column that tells several series apart (one table, many "
        "series: each is forecast by the statistical candidates and all together by a global "
        "model; served as a forecast table answering {series_id, step}); null: one series",
    )
    sensitive_column: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None,
        description="a column whose groups the fairness metrics compare (binary tasks: demographic "
        "parity and equalised-odds gaps of the out-of-fold decisions); it need not be a feature",
    )
    budget_s: Annotated[float, Field(gt=0, le=7 * 86_400)] | None = Field(
        None, description="wall-clock seconds for the search; the trial budget is the reproducible one"
    )
    budget_cpu_s: Annotated[float, Field(gt=0, le=7 * 86_400)] | None = Field(
        None,
        description="CPU-seconds the search's trials may spend (their fits, refits and exports, as each "
        "trial's cpu_s records): a machine shared with other work stretches the wall clock but much "
        "less the CPU a fit takes, so this budget gives nearly the same trials on a busy machine",
    )
    models: list[Annotated[str, Field(min_length=1, max_length=50)]] | None = Field(
        None,
        max_length=10,
        description="restrict the portfolio: logistic_regression (ridge), xgboost, random_forest, "
        "extra_trees, hist_gradient_boosting, mlp (PyTorch; served by numpy, ONNX graph included)",
    )


class AutomlExperimentCreate(RequestModel):
    """The seed's body: an AutoML experiment is the one with `task_type`."""

    project_id: Id = Field(description="The project the experiment, its trials and models belong to.")
    task_type: Literal["classification", "regression", "anomaly", "forecasting"] = Field(
        description="What is learned; it chooses the metrics, the folds and the portfolio."
    )
    objective: Annotated[str, Field(min_length=1, max_length=50)] | None = Field(
        None,
        description="The metric the leaderboard ranks by: `maximize_auc`, `minimize_rmse`, or a bare "
        "metric name in its natural direction (`auc`, `mase`); it must fit the task. Required but "
        "for forecasting, where it defaults to `mase` (scale-free, defined where sMAPE is not).",
    )
    dataset_id: Id = Field(description="An ingested table (`ds_...`) of the project.")
    target: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None,
        description="the column to predict; required but for anomaly detection, where it is an "
        "optional boolean or 0/1 label (1 = anomaly) that scores the detectors",
    )
    name: LongName | None = Field(None, description="What people call it (null: none).")
    config: ExperimentConfig | None = Field(
        None, description="The search's settings; every default is made explicit in the answer."
    )
