"""What `generate`, its traces and the response cache answer (issue 12). Extra fields stay allowed
(`ResponseModel`): minor versions add fields, and a client must ignore the ones it does not know.
Fields a trace written by an older release may lack, or that only some calls have (an attached
experiment's decision, a structured answer), have defaults; the routes answer only the fields an
answer holds (`response_model_exclude_unset`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel

NEXT_AFTER = "The cursor of the next page (pass it back as `after`); null on the last page."


class GenerateOut(ResponseModel):
    output: str = Field(description="The model's answer (after the output guardrails).")
    metrics: dict[str, Any] = Field(
        description="`latency_ms` (the whole call), `provider_latency_ms`, `tokens` (`prompt`, `completion`) "
        "and `cost_usd` (0 for a cached answer)."
    )
    trace_id: str = Field(description="The call's trace (`GET /v1/traces/{id}`).")
    model: str = Field(description="The model that answered (a fallback's when the first failed).")
    provider: str = Field(description="Its provider.")
    prompt_version_id: str = Field(description="The prompt version rendered.")
    cached: bool = Field(description="Whether the answer came from the response cache.")
    guardrails: dict[str, str] = Field(
        description="The guardrails' action on the `input` and on the `output` (e.g. `allow`, `redact`)."
    )
    parsed: Any = Field(
        default=None, description="The answer parsed against the prompt's output schema; only then."
    )
    decision: dict[str, Any] | None = Field(
        default=None,
        description="When an online experiment is attached to the label: its `decision_id`, `experiment_id`, "
        "`variant` and `propensity` (send the reward to `/v1/feedback`).",
    )


class TraceOut(ResponseModel):
    id: str = Field(description="The trace's id (`trc_...`).")
    project_id: str = Field(description="The project it belongs to.")
    at: str = Field(description="When the call was made (ISO-8601, UTC).")
    principal: str = Field(description="Who called.")
    prompt_id: str = Field(description="The prompt.")
    prompt_version_id: str = Field(description="The version rendered.")
    version: int = Field(description="That version's number.")
    model: str = Field(description="The model that answered.")
    provider: str = Field(description="Its provider.")
    tokens: dict[str, Any] = Field(description="`prompt` and `completion` tokens.")
    cost_usd: float = Field(description="What the call cost (0 when cached).")
    latency_ms: float = Field(description="The whole call's latency.")
    key_id: str | None = Field(default=None, description="The key it was called with.")
    label: str | None = Field(
        default=None, description="The deployment label it resolved, if called by label."
    )
    provider_latency_ms: float | None = Field(default=None, description="The provider's part of the latency.")
    cached: bool | None = Field(default=None, description="Whether it was answered from the cache.")
    blocked: bool | None = Field(default=None, description="Whether a guardrail blocked it.")
    attempts: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Each provider tried, in order: `model`, `provider`, `outcome`, `error`, `latency_ms`.",
    )
    guardrails: dict[str, Any] | None = Field(
        default=None,
        description="The verdicts on `input` and `output`: `action`, `reason`, `warnings`, `findings`.",
    )
    variables: dict[str, Any] = Field(
        default_factory=dict, description="The variables, redacted as configured."
    )
    prompt: str | None = Field(default=None, description="The rendered prompt, redacted as configured.")
    output: str | None = Field(default=None, description="The answer, redacted as configured.")
    decision_id: str | None = Field(default=None, description="An attached experiment's decision.")
    experiment_id: str | None = Field(default=None, description="That experiment.")
    variant: str | None = Field(default=None, description="The variant it chose.")


class TraceListItem(TraceOut):
    cursor: str = Field(description="The trace's place in the listing.")


class TracePage(ResponseModel):
    items: list[TraceListItem] = Field(description="The traces, newest first.")
    next_after: str | None = Field(default=None, description=NEXT_AFTER)
    next_before: str | None = Field(
        default=None, description="Deprecated: the same cursor, for the old `before` parameter."
    )


class CachePurged(ResponseModel):
    removed: int = Field(description="Cached answers dropped.")
