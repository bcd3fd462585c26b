"""What the online-decision routes answer (issue 12): a decision, its reward, an off-policy
evaluation and the generation dashboard. Extra fields stay allowed (`ResponseModel`): minor versions
add fields, and a client must ignore the ones it does not know."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class DecisionOut(ResponseModel):
    decision_id: str = Field(description="The decision's id: send it back with the reward (`/v1/feedback`).")
    experiment_id: str = Field(description="The online experiment that decided.")
    variant: str = Field(description="The variant chosen.")
    config: dict[str, Any] = Field(
        description="What to serve: the variant's `prompt_version_id`, `model_version_id` or `model`."
    )
    propensity: float = Field(description="The probability this variant had of being chosen (for OPE).")
    algorithm: str = Field(description="The allocation algorithm that chose it.")
    expires_at: float = Field(description="Until when (Unix seconds) a reward for it is accepted.")


class FeedbackOut(ResponseModel):
    decision_id: str = Field(description="The decision rewarded.")
    experiment_id: str = Field(description="Its experiment.")
    variant: str = Field(description="The variant it chose.")
    reward: float = Field(description="The reward counted (the composite of quality, cost and latency).")
    counted: bool = Field(description="Whether it counted towards the results.")
    joined: dict[str, Any] = Field(
        description="Observations joined from the decision's trace (cost, latency)."
    )
    experiment_status: str = Field(
        description="The experiment's status after it (`Paused` if a guardrail broke)."
    )
    drift: dict[str, Any] | None = Field(
        description="When the reward made the learner restart on drift: `variant` and the new `epoch`; "
        "else null."
    )


class OpeOut(ResponseModel):
    experiment_id: str = Field(description="The online experiment whose logged decisions were replayed.")
    rows: int = Field(description="Rewarded decisions used.")
    truncated: bool = Field(description="Whether there were more than the cap, and the oldest were left out.")
    logged: dict[str, Any] = Field(
        description="What was served: the mean reward `value` and the decisions `served` per variant."
    )
    candidate_share: dict[str, float] = Field(description="The candidate policy's mean share per variant.")
    estimates: dict[str, dict[str, Any]] = Field(
        description="The candidate's value by estimator (`ips`, `snips`, `dr`): `value`, `se`, "
        "`ci_low`, `ci_high`."
    )
    ess: float = Field(description="The effective sample size of the importance weights.")
    matched: float = Field(description="The share of logged decisions the candidate could have made.")


class DashboardOut(ResponseModel):
    project_id: str = Field(description="The project.")
    since: str = Field(description="The start of the period (ISO-8601, UTC).")
    bucket: str = Field(description="The width of each point of `series` (`hour`, `day`).")
    filters: dict[str, Any] = Field(description="The filters applied (prompt, model, variant...).")
    calls: int = Field(description="Generation calls counted.")
    truncated: bool = Field(
        description="Whether more calls than the cap matched, and the oldest were left out."
    )
    baseline: dict[str, Any] = Field(description="The period's `success_rate` the series is compared with.")
    series: list[dict[str, Any]] = Field(
        description="Per bucket: `start`, `calls`, `latency_p50_ms`, `latency_p95_ms`, `cost_per_call_usd`, "
        "`success_rate`, `success_vs_baseline`, `cache_hit_rate`."
    )
    drift: list[dict[str, Any]] = Field(description="Where a metric drifted: `metric`, `detector`, `at`.")
