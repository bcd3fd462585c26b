"""Request bodies of online decisions: experiments with `type` (AutoML's have `task_type`), decisions
and feedback. Cross-field rules (weights summing to 1, algorithm per type) are checked in
`optiloop.decisions.spec`, which names the field too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, LongName, Name, RequestModel

Finite = Annotated[float, Field(allow_inf_nan=False)]
FeatureName = Annotated[str, Field(min_length=1, max_length=100)]
ContextValue = (
    Annotated[float, Field(allow_inf_nan=False)] | bool | Annotated[str, Field(max_length=10_000)] | None
)


class VariantIn(RequestModel):
    """`{"id", "config", "weight"}`, or the seed's shape (`{"name": "weak", "model": "m-small"}`): any
    other field is part of the variant's config."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)

    id: Name | None = Field(None, description="The variant's id, unique in the experiment (or give `name`).")
    name: Name | None = Field(None, description="The seed's spelling of `id`.")
    config: dict[str, Any] | None = Field(
        None,
        description="What it serves (`model`, `prompt_version_id`, `model_version_id`, decoding, ...).",
    )
    weight: Annotated[float, Field(gt=0, le=1)] | None = Field(
        None, description="AB: its traffic share, the weights summing to 1 (null: equal shares)."
    )


class MetricIn(RequestModel):
    name: Name = Field(description="The reward's name, as results report it.")
    kind: Literal["binary", "continuous"] = Field(
        "continuous", description="binary: rewards are 0/1 (a conversion); continuous: any finite number."
    )
    direction: Literal["maximize", "minimize"] = Field(
        "maximize", description="Whether a larger reward is better."
    )


class StoppingIn(RequestModel):
    alpha: Annotated[float, Field(gt=0, lt=0.5)] = Field(
        0.05, description="The always-valid (mSPRT) test's false positive rate."
    )
    tau: Annotated[float, Field(gt=0, le=10)] = Field(
        0.1, description="sd of the mSPRT mixing prior on the effect, in units of the metric's sd"
    )
    min_samples: Annotated[int, Field(ge=2, le=10**9)] = Field(
        100, description="Rewards each variant needs before a winner may be declared."
    )
    max_samples: Annotated[int, Field(ge=2, le=10**12)] | None = Field(
        None, description="Stop without a difference once this many rewards came in, in all (null: never)."
    )


class ContextSpecIn(RequestModel):
    dimension: Annotated[int, Field(ge=2, le=256)] = Field(
        16,
        description="Length of the context vector: a bias, the declared numbers, hashed slots for the rest.",
    )
    numeric: list[FeatureName] | None = Field(
        None, max_length=100, description="Numeric features with their own slots, in this order."
    )
    categorical: list[FeatureName] | None = Field(
        None, max_length=100, description="Categorical features, one-hot hashed as `name=value`."
    )
    alpha: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None, description="LinUCB's exploration width"
    )
    v: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None, description="linear Thompson sampling's scale"
    )
    ridge: Annotated[float, Field(gt=0, le=1e6)] | None = Field(
        None, description="The linear learners' ridge regulariser (null: 1.0)."
    )


class GuardrailIn(RequestModel):
    metric: FeatureName = Field(
        description="an observation name: quality, cost, latency_ms, or any rewards component"
    )
    stat: Literal["mean", "p95"] = Field("mean", description="p95 only for latency_ms")
    direction: Literal["increase", "decrease"] = Field(description="the harmful direction vs the control")
    max_relative: Annotated[float, Field(gt=0, le=100)] = Field(
        description="tolerated relative change vs the control (0.05 = 5%) before the experiment stops"
    )


class NormalizationIn(RequestModel):
    cost_usd: Annotated[float, Field(gt=0, le=1e6)] | None = Field(
        None, description="normalized_cost = a trace's cost_usd / this, clipped to [0, 1] (default 0.01)"
    )
    latency_ms: Annotated[float, Field(gt=0, le=1e9)] | None = Field(
        None, description="normalized_latency = a trace's latency_ms / this, clipped (default 10000)"
    )


class DriftIn(RequestModel):
    delta: Annotated[float, Field(ge=0, le=1e6)] | None = Field(
        None, description="Page-Hinkley's tolerated change per reward (default 0.005)"
    )
    threshold: Annotated[float, Field(gt=0, le=1e9)] | None = Field(
        None, description="Page-Hinkley's alarm level in reward units (default 25)"
    )
    min_items: Annotated[int, Field(ge=1, le=10**6)] | None = Field(
        None, description="rewards an arm needs in an epoch before its detector may fire (default 30)"
    )
    response: Literal["restart", "discount"] | None = Field(
        None,
        description="what a firing detector does to the arm's learner memory: forget it all (`restart`, "
        "the default) or scale it by `keep` (`discount`: the old evidence still counts, less)",
    )
    keep: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None,
        description="`discount` only: the share of the arm's memory kept when drift fires, in (0, 1) "
        "(default 0.25)",
    )


class BayesianIn(RequestModel):
    parameters: list[FeatureName] = Field(
        min_length=1,
        max_length=10,
        description="numeric config keys of the variants (temperature, top_p, ...)",
    )
    lengthscale: Annotated[float, Field(gt=0, le=10)] | None = Field(
        None, description="the GP kernel's lengthscale, parameters scaled to [0, 1] (default 0.25)"
    )
    kappa: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None, description="GP-UCB's exploration scale on sqrt(beta_t) (default 1)"
    )


class AttachIn(RequestModel):
    prompt_id: Id = Field(description="the prompt whose label generate serves through this experiment")
    label: Annotated[str, Field(min_length=1, max_length=50)] = Field(
        "prod", description="the deployment label (dev, staging, prod, ...)"
    )


class CanaryIn(RequestModel):
    stages: list[Annotated[float, Field(gt=0, le=1)]] | None = Field(
        None, min_length=1, max_length=20, description="the candidate's traffic shares, rising to 1"
    )
    min_samples: Annotated[int, Field(ge=1, le=10**9)] | None = Field(
        None,
        description="rewards each arm needs within a stage before the next (default stopping.min_samples)",
    )


class OnlineExperimentCreate(RequestModel):
    """An online experiment: the one with `type`."""

    project_id: Id = Field(description="The project the experiment belongs to.")
    name: LongName = Field(description="What people call it.")
    type: Literal["AB", "Bandit", "Contextual", "Canary", "Bayesian"] = Field(
        description="AB: a fixed sticky split; Bandit: adaptive; Contextual: adaptive per request context; "
        "Canary: staged rollout; Bayesian: a GP over the variants' configs."
    )
    variants: list[VariantIn] = Field(
        min_length=2, max_length=100, description="2-100 variants to choose among."
    )
    algorithm: Literal["split", "thompson", "ucb", "linucb", "lin_ts", "stages", "gp_ucb", "ei"] | None = (
        Field(
            None,
            description="Per type: AB split; Bandit thompson|ucb; Contextual linucb|lin_ts; Canary stages; "
            "Bayesian gp_ucb|ei (null: the first).",
        )
    )
    metric: MetricIn | None = Field(None, description="The reward (null: `reward`, continuous, maximised).")
    reward_weights: dict[FeatureName, Finite] | None = Field(
        None, description='composite reward weights; a name "1-x" weighs 1 - x (default: the seed\'s)'
    )
    stopping: StoppingIn | None = Field(None, description="When a winner may be declared (mSPRT).")
    context: ContextSpecIn | None = Field(
        None, description="Contextual: how a request context becomes a vector."
    )
    decision_ttl_days: Annotated[float, Field(gt=0, le=400)] | None = Field(
        None, description="Days a decision is kept for its feedback (null: 30)."
    )
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = Field(
        None, description="The learners' random seed (null: derived from the experiment's id)."
    )
    guardrails: list[GuardrailIn] | None = Field(
        None,
        max_length=16,
        description="metrics that stop (pause) the experiment when a treatment breaches them; default: "
        "quality mean -5%, cost mean +10%, latency_ms p95 +20%; [] for none",
    )
    guardrail_min_samples: Annotated[int, Field(ge=2, le=10**9)] | None = Field(
        None, description="observations each arm needs before a guardrail is judged (default 30)"
    )
    attach: AttachIn | None = Field(
        None,
        description="generate by this prompt label consults the experiment while it runs and records "
        "the decision in its trace",
    )
    bayesian: BayesianIn | None = Field(
        None, description="Bayesian only: the parameters a GP optimises over the variants' configs"
    )
    canary: CanaryIn | None = Field(
        None, description="Canary only: the stages (default 5% -> 25% -> 50% -> 100%) and samples per stage"
    )
    drift: DriftIn | None = Field(
        None,
        description="Bandit and Contextual: restart or discount an arm's learner memory when Page-Hinkley "
        "detects drift in its rewards (audited, and an `experiment.drift` webhook event; results keep every "
        "reward)",
    )
    normalization: NormalizationIn | None = Field(
        None, description="scales turning trace-joined cost and latency into the composite's inputs"
    )


class DecisionIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"experiment_id": "exp_0190c3a4b5f600000005", "unit_id": "user-17"},
                {
                    "experiment_id": "exp_0190c3a4b5f600000005",
                    "unit_id": "session-9f2",
                    "context": {"country": "DE", "tenure_days": 420, "mobile": True},
                },
            ]
        }
    )

    experiment_id: Id = Field(
        description="A Running online experiment (`exp_...`); any other status is a 409."
    )
    unit_id: LongName = Field(
        description="Who or what is assigned (a user, a session): AB and Canary splits are sticky per unit."
    )
    context: dict[FeatureName, ContextValue] | None = Field(
        None,
        max_length=200,
        description="Contextual experiments: the request's features, checked against the experiment's "
        "context spec; short scalar fields are logged for off-policy rules.",
    )


class FeedbackIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"decision_id": "dec_0190c3a4b5f600000006", "reward": 1.0},
                {
                    "trace_id": "trc_0190c3a4b5f600000007",
                    "rewards": {"quality": 0.8},
                    "observations": {"quality": 0.8},
                },
            ]
        }
    )

    decision_id: Id | None = Field(
        None, description="the decision rewarded; optional when trace_id names a trace that records one"
    )
    trace_id: Id | None = Field(
        None,
        description="a generate call's trace: its cost_usd and latency_ms are joined (observations cost, "
        "latency_ms; normalized_cost/normalized_latency for the composite when rewards lack them)",
    )
    reward: Finite | None = Field(None, description="a caller-computed scalar reward")
    rewards: dict[FeatureName, Finite] | None = Field(
        None, max_length=50, description="named metrics combined by the experiment's reward_weights"
    )
    observations: dict[FeatureName, Finite] | None = Field(
        None,
        max_length=16,
        description="measurements for guardrails and results (quality, cost, latency_ms, ...); they "
        "override the trace's",
    )
    covariate: Finite | None = Field(
        None, description="the unit's pre-period value of the metric, for CUPED variance reduction"
    )


class ExperimentPromoteIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"variant": "b", "comment": "b wins on quality at equal cost"}]}
    )

    variant: Name | None = Field(
        None, description="the variant to propose (default: the results' winner; 409 when there is none)"
    )
    comment: Annotated[str, Field(max_length=1000)] | None = Field(
        None, description="put before the experiment's evidence in the approval request's comment"
    )


RuleValue = Annotated[float, Field(allow_inf_nan=False)] | bool | Annotated[str, Field(max_length=200)]


class OpeRuleIn(RequestModel):
    when: dict[FeatureName, RuleValue] = Field(
        min_length=1,
        max_length=20,
        description="context fields and the values they must equal (all of them) in a decision's logged "
        "context: short strings (under 40 characters), numbers, booleans",
    )
    variant: Name = Field(description="the variant the candidate serves where the rule matches")


class OpePolicyIn(RequestModel):
    variant: Name | None = Field(None, description="always serve this variant")
    weights: dict[Name, Finite] | None = Field(
        None, max_length=100, description="a fixed random split: variant -> probability (sum 1)"
    )
    rules: list[OpeRuleIn] | None = Field(
        None, min_length=1, max_length=100, description="first matching rule wins; else `default`"
    )
    default: Name | None = Field(None, description="with `rules`: the variant where no rule matches")


class OpeIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"policy": {"variant": "b"}},
                {"policy": {"weights": {"a": 0.2, "b": 0.8}}},
                {"policy": {"rules": [{"when": {"country": "DE"}, "variant": "b"}], "default": "a"}},
            ]
        }
    )

    policy: OpePolicyIn = Field(
        description="the candidate policy: exactly one of `variant`, `weights`, or `rules` + `default`"
    )
