"""Request models of the generate and evals routers (shape only; content checks are in the core)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, Label, LongName, Name, RequestModel
from optiloop.api.models.prompts import DecodingIn


class PromptRef(RequestModel):
    name: Name
    label: Label = "prod"


class PolicyIn(RequestModel):
    route: Literal["cost_first", "quality_first"] | None = None
    max_p95_latency_ms: Annotated[float, Field(gt=0)] | None = None
    max_cost_usd: Annotated[float, Field(ge=0)] | None = None
    min_quality: Annotated[float, Field(ge=0, le=1)] | None = None


class GuardrailsIn(RequestModel):
    pii: Literal["redact", "block", "flag", "off"] = "redact"
    injection: Literal["block", "flag", "off"] = "block"
    canary: bool = False  # a canary line in the prompt; an answer that repeats it is a leak


class CacheIn(RequestModel):
    enabled: bool = True
    ttl_s: Annotated[int, Field(ge=1, le=30 * 24 * 3600)] | None = None


class GenerateIn(RequestModel):
    project_id: Id | None = None
    prompt_version_id: Id | None = None
    prompt: PromptRef | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    schema_: Annotated[dict[str, Any] | None, Field(alias="schema")] = None
    decoding: DecodingIn | None = None
    policy: PolicyIn | None = None
    provider: Name | None = None
    model: LongName | None = None
    guardrails: GuardrailsIn | None = None
    cache: CacheIn | None = None
    unit_id: LongName | None = Field(
        None, description="the unit an experiment attached to the prompt label assigns (sticky for AB/Canary)"
    )
    context: dict[Name, Any] | None = Field(
        None, max_length=200, description="request features for a Contextual experiment attached to the label"
    )


class PurgeIn(RequestModel):
    project_id: Id
    prompt_version_id: Id | None = None


class DatasetCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_id": "prj_1a24a496481b699f3ff9",
                    "name": "capitals-golden",
                    "description": "10 capitals",
                }
            ]
        }
    )

    project_id: Id = Field(description="The project the golden set belongs to.")
    name: LongName = Field(description="What people call it.")
    description: Annotated[str, Field(max_length=10_000)] = Field("", description="Free text for people.")


class JudgeIn(RequestModel):
    provider: Name | None = None
    model: LongName | None = None
    criteria: Annotated[str, Field(max_length=2_000)] | None = None


class EvalRunIn(RequestModel):
    prompt_version_id: Id
    dataset_id: Id
    metrics: list[Name] = Field(default_factory=lambda: ["exact_match"], min_length=1, max_length=10)
    provider: Name | None = None
    model: LongName | None = None
    policy: PolicyIn | None = None
    judge: JudgeIn | None = None
    compare_to: Literal["dev", "staging", "prod"] | None = "prod"
