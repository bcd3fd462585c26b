"""What the experiment and table routes answer (issue 12). `/v1/experiments` holds two kinds: AutoML
searches (`task_type`) and online experiments (`type`: AB, Bandit, Contextual); an answer is one or
the other (`oneOf`, told apart as `optiloop.decisions.spec.is_online` does). Extra fields stay
allowed (`ResponseModel`): minor versions add fields, and a client must ignore the ones it does not
know. Fields that older records may lack have defaults."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag

from optiloop.api.models.common import ResponseModel
from optiloop.api.models.responses import ApprovalOut


def _experiment_kind(v: Any) -> str:
    """`online` for an online experiment's answer (it has `type` and no `task_type`), else `automl`."""
    data = v if isinstance(v, dict) else getattr(v, "__dict__", {})
    return "online" if "type" in data and "task_type" not in data else "automl"


class OnlineExperimentOut(ResponseModel):
    id: str = Field(description="The experiment's id (`exp_...`).")
    experiment_id: str = Field(description="The same id, as AutoML experiments name it.")
    project_id: str = Field(description="The project it belongs to.")
    name: str = Field(description="Its name.")
    type: str = Field(description="`AB`, `Bandit` or `Contextual`.")
    algorithm: str = Field(description="How traffic is allocated, e.g. `fixed`, `thompson`, `linucb`.")
    variants: list[dict[str, Any]] = Field(
        description="The arms: `id`, `config` (a `prompt_version_id`, `model_version_id` or `model`), "
        "`weight`."
    )
    metric: dict[str, Any] = Field(description="The reward: `name`, `kind` and `direction`.")
    status: str = Field(description="`Draft`, `Running`, `Paused`, `Completed` or `Archived`.")
    history: list[dict[str, Any]] = Field(
        description="Every status change, oldest first: `status`, `at`, `by`."
    )
    created_at: str = Field(description="When it was created (ISO-8601, UTC).")
    created_by: str = Field(description="Who created it.")
    reward_weights: dict[str, float] | None = Field(
        default=None, description="The composite reward's weights (quality, cost, latency)."
    )
    stopping: dict[str, Any] | None = Field(
        default=None, description="The sequential test: `alpha`, `tau`, `min_samples`, `max_samples`."
    )
    context: dict[str, Any] | None = Field(
        default=None, description="A contextual bandit's features: `dimension`, `numeric`, `categorical`..."
    )
    decision_ttl_days: float | None = Field(
        default=None, description="How long a decision awaits its feedback."
    )
    seed: int | None = Field(default=None, description="The allocation's seed; null: random.")
    guardrails: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Metrics a treatment may not worsen: `metric`, `stat`, `direction`...",
    )
    guardrail_min_samples: int | None = Field(
        default=None, description="Samples before a guardrail is judged."
    )
    normalization: dict[str, Any] | None = Field(
        default=None, description="The scales cost and latency are normalised by in the reward."
    )
    drift: dict[str, Any] | None = Field(default=None, description="Drift detection settings; null: off.")
    canary: dict[str, Any] | None = Field(
        default=None, description="A staged canary: `stages`, `min_samples`."
    )
    bayesian: dict[str, Any] | None = Field(
        default=None, description="Bayesian analysis settings; null: off."
    )
    attach: dict[str, Any] | None = Field(
        default=None, description="The prompt label whose `generate` calls it serves; null: called directly."
    )
    results: dict[str, Any] | None = Field(
        default=None,
        description="On `GET`: per-variant `n`, `mean`, `ci`, `prob_best`, the comparisons with the control, "
        "the stopping `recommendation` and its reason, SRM, guardrails, the daily series, canary stage.",
    )


class AutomlExperimentOut(ResponseModel):
    id: str = Field(description="The experiment's id (`exp_...`).")
    experiment_id: str = Field(description="The same id.")
    project_id: str = Field(description="The project it belongs to.")
    name: str = Field(description="Its name.")
    task_type: str = Field(description="What was asked: `classification`, `regression`, `forecasting`...")
    task: str = Field(description="What was found in the data, e.g. `binary`, `multiclass`, `regression`.")
    metric: str = Field(description="The metric the search optimises, e.g. `auc`, `rmse`.")
    direction: str = Field(description="`maximize` or `minimize`.")
    dataset_id: str = Field(description="The ingested table it searches on.")
    status: str = Field(description="`created`, `queued`, `running`, `completed`, `cancelled` or `failed`.")
    created_at: str = Field(description="When it was created (ISO-8601, UTC).")
    created_by: str = Field(description="Who created it.")
    objective: str | None = Field(default=None, description="The objective as asked.")
    data_fingerprint: str | None = Field(default=None, description="The table's fingerprint when created.")
    target: str | None = Field(default=None, description="The column predicted.")
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="The search: `cv`, `hpo`, `ensemble`, `imbalance`, `constraints`, `budget_s`, "
        "`models`...",
    )
    features: list[str] = Field(default_factory=list, description="The columns used as features.")
    excluded: dict[str, str] = Field(default_factory=dict, description="Columns left out, and why.")
    class_balance: dict[str, int] | None = Field(default=None, description="Rows per class (classification).")
    dropped_rows: int | None = Field(
        default=None, description="Rows left out: a missing target, or a class too rare to cross-validate."
    )
    forecast_features: Any = Field(default=None, description="The lag and calendar features of a forecast.")
    warnings: list[Any] = Field(
        default_factory=list, description="What to know about the data or the search."
    )
    progress: dict[str, Any] | None = Field(
        default=None, description="`trials_done`, `trials_total` and the `cpu_s` spent."
    )
    best: dict[str, Any] | None = Field(default=None, description="The best trial so far; null before one.")
    report: dict[str, Any] | None = Field(default=None, description="The final report, once completed.")
    warm_start: Any = Field(
        default=None, description="The earlier experiments whose trials seeded the search."
    )
    cancel_requested: bool = Field(
        default=False, description="Whether a cancel was asked and not yet honoured."
    )
    error: str | None = Field(default=None, description="Why it failed; null otherwise.")
    leaderboard_url: str | None = Field(default=None, description="Where its leaderboard is.")
    queued_at: str | None = Field(default=None, description="When it was queued.")
    started_at: str | None = Field(default=None, description="When its search started.")
    finished_at: str | None = Field(default=None, description="When it ended.")


class AutomlCreatedOut(ResponseModel):
    experiment_id: str = Field(description="The new AutoML experiment's id (`exp_...`).")
    status: str = Field(description="`created`: `POST /v1/experiments/{id}/run` starts it.")
    leaderboard_url: str = Field(description="Where its leaderboard will be.")
    task: str = Field(description="What was found in the data, e.g. `binary`, `regression`.")
    metric: str = Field(description="The metric the search will optimise.")
    direction: str = Field(description="`maximize` or `minimize`.")
    features: list[str] = Field(description="The columns used as features.")
    excluded: dict[str, str] = Field(description="Columns left out, and why (an id, a leak, constant...).")
    class_balance: dict[str, int] | None = Field(description="Rows per class; null for regression.")
    warnings: list[Any] = Field(description="What to know about the data before running.")


ExperimentOut = Annotated[
    Annotated[OnlineExperimentOut, Tag("online")] | Annotated[AutomlExperimentOut, Tag("automl")],
    Discriminator(_experiment_kind),
]
"""An online or an AutoML experiment."""

ExperimentCreatedOut = Annotated[
    Annotated[OnlineExperimentOut, Tag("online")] | Annotated[AutomlCreatedOut, Tag("automl")],
    Discriminator(_experiment_kind),
]
"""A new online experiment (in Draft), or a new AutoML experiment's summary."""


class PromotionProposalOut(ResponseModel):
    experiment_id: str = Field(description="The online experiment.")
    variant: str = Field(description="The variant proposed.")
    entity_type: str = Field(description="`prompt_version` or `model_version`.")
    entity_id: str = Field(description="The version submitted for approval.")
    approval: ApprovalOut = Field(
        description="The approval request, pending; nothing switches until approved."
    )


class TrialOut(ResponseModel):
    trial_id: str = Field(description="The trial's id.")
    id: str = Field(description="The same id.")
    experiment_id: str = Field(description="The AutoML experiment.")
    number: int = Field(description="Its place in the search (the listing's cursor).")
    model: str = Field(description="The model family and variant tried, e.g. `xgboost`, `linear`.")
    status: str = Field(description="`completed`, `pruned`, `failed` or `stopped`.")
    params: dict[str, Any] = Field(description="Its hyperparameters.")
    metrics: dict[str, Any] = Field(description="Cross-validated metrics by name; empty unless completed.")
    project_id: str | None = Field(default=None, description="The project it belongs to.")
    dataset_id: str | None = Field(default=None, description="The table it was fitted on.")
    data_fingerprint: str | None = Field(default=None, description="That table's fingerprint.")
    family: str | None = Field(default=None, description="The model family.")
    fold_scores: list[Any] = Field(default_factory=list, description="The objective on each fold.")
    prior: bool | None = Field(
        default=None,
        description="Whether its configuration was fixed before the search saw the folds (a family's "
        "defaults, a warm start) rather than tuned on them; the one-SE selection prefers it among "
        "equally simple candidates the folds cannot tell apart.",
    )
    hedges: int | None = Field(
        default=None,
        description="A hedge's: the trial it serves averaged with the tuned linear model (small tables, "
        "docs/automl.md); the selection rule answers the hedge when it picks that trial.",
    )
    cpu_s: float | None = Field(default=None, description="CPU seconds it took.")
    error: str | None = Field(default=None, description="Why it failed; null otherwise.")
    runtime: str | None = Field(default=None, description="How its artifact is served (`trees`, `onnx`).")
    artifact_key: str | None = Field(default=None, description="Where its artifact is stored, if exported.")
    artifact_sha256: str | None = Field(default=None, description="The artifact's sha256.")
    artifact_bytes: int | None = Field(default=None, description="The artifact's size in bytes.")
    export_max_abs_diff: float | None = Field(
        default=None,
        description="The largest difference between the exported and the fitted model's answers.",
    )
    cost: dict[str, Any] | None = Field(default=None, description="`latency_ms_p95` and `model_size_bytes`.")
    feasible: bool | None = Field(default=None, description="Whether it meets `config.constraints`.")
    violations: list[Any] = Field(default_factory=list, description="The constraints it breaks.")
    fairness: dict[str, Any] | None = Field(
        default=None, description="Fairness metrics on the sensitive column."
    )
    created_at: str | None = Field(default=None, description="When it was recorded (ISO-8601, UTC).")


class TrialPage(ResponseModel):
    items: list[TrialOut] = Field(description="The trials in order.")
    next_after: int | None = Field(
        default=None,
        description="The last trial number of this page (pass it back as `after`); null: the last.",
    )


class ExperimentSummaryOut(ResponseModel):
    id: str = Field(description="The experiment's id (`exp_...`).")
    project_id: str = Field(description="The project it belongs to.")
    name: str | None = Field(default=None, description="Its name.")
    kind: str = Field(
        description="`automl` (a search, `task_type`) or `online` (`type`: AB, Bandit, Contextual)."
    )
    status: str = Field(
        description="Its status (AutoML: created, queued, running, completed, failed, cancelled)."
    )
    task_type: str | None = Field(default=None, description="AutoML: the task.")
    type: str | None = Field(default=None, description="Online: `AB`, `Bandit` or `Contextual`.")
    metric: str | None = Field(default=None, description="The objective's (or the reward's) metric.")
    direction: str | None = Field(default=None, description="AutoML: `maximize` or `minimize`.")
    dataset_id: str | None = Field(default=None, description="AutoML: the table it searches on.")
    progress: dict[str, Any] | None = Field(
        default=None, description="AutoML: `trials_done`, `trials_total`, `cpu_s`, `elapsed_s`."
    )
    best: dict[str, Any] | None = Field(
        default=None,
        description="AutoML: the winner so far, `trial_id`, `model` and `metrics`; null before one.",
    )
    created_at: str | None = Field(default=None, description="When it was created (ISO-8601, UTC).")
    created_by: str | None = Field(default=None, description="Who created it.")
    finished_at: str | None = Field(default=None, description="AutoML: when its run ended.")


class ExperimentPage(ResponseModel):
    items: list[ExperimentSummaryOut] = Field(description="The project's experiments, oldest first.")
    next_after: str | None = Field(
        default=None,
        description="The cursor of the next page (pass it back as `after`); null on the last page.",
    )


class LeaderboardOut(ResponseModel):
    experiment_id: str = Field(description="The AutoML experiment.")
    status: str = Field(description="Its status.")
    metric: str = Field(description="The objective's metric.")
    direction: str = Field(description="`maximize` or `minimize`.")
    constraints: dict[str, Any] = Field(description="The constraints trials are judged feasible by.")
    trials: list[dict[str, Any]] = Field(
        description="The winner by `selection` first, then feasible trials before infeasible ones, each "
        "group best first by the objective: `rank`, `trial_id`, `number`, `model`, `params`, `metrics`, "
        "`runtime`, `cost`, `feasible`, `violations`, `pareto`, `hedges` (a hedge's: the trial it serves "
        "averaged with the tuned linear model, else null)."
    )
    pareto: dict[str, Any] | None = Field(
        description="The accuracy-vs-latency front: `x`, `y` and its `trials`, fastest first."
    )
    selection: dict[str, Any] | None = Field(
        default=None,
        description="Why the first trial wins: `rule` (config.selection: `one_se` or `best_mean`), "
        "`trial_id` (the winner), `best_mean_trial_id` (the best cross-validated mean), "
        "`hedged_trial_id` (when the winner is a small table's hedge: the rule's pick it stands for), "
        "`gap` and `se` "
        "(the winner's paired per-fold difference to it and that difference's standard error) and a "
        "`reason` in words; the ids are null before any trial completed.",
    )
