"""Request models of the generate and evals routers (shape only; content checks are in the core)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, Label, LongName, Name, RequestModel
from optiloop.api.models.prompts import DecodingIn


class PromptRef(RequestModel):
    name: Name = Field(description="The prompt's name in the project.")
    label: Label = Field(
        "prod", description="The environment whose deployed version runs: `dev`, `staging` or `prod`."
    )


class PolicyIn(RequestModel):
    route: Literal["cost_first", "quality_first"] | None = Field(
        None,
        description="Order of the models that pass the limits: cheapest first, or best catalogue quality "
        "first (null: the catalogue's default route); the next one is tried if one fails.",
    )
    max_p95_latency_ms: Annotated[float, Field(gt=0)] | None = Field(
        None,
        description="Skip models whose p95 latency (recently observed, else the catalogue's) is above this "
        "(ms).",
    )
    max_cost_usd: Annotated[float, Field(ge=0)] | None = Field(
        None,
        description="Skip models whose worst-case cost (prompt plus max_tokens at list price) is above this "
        "(USD).",
    )
    min_quality: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="Skip models whose catalogue quality score (0-1) is below this."
    )


class GuardrailsIn(RequestModel):
    pii: Literal["redact", "block", "flag", "off"] = Field(
        "redact",
        description="PII in the variables and the output: replace it with placeholders, refuse the call "
        "(422), only list it in the trace, or do not look.",
    )
    injection: Literal["block", "flag", "off"] = Field(
        "block",
        description="Prompt injection in the variables: refuse the call (422), only list it, or do not look.",
    )
    names: bool = Field(
        False,
        description="Also look for person names (`pii` says what happens to them). Off by default: "
        "ordinary questions name people (historians, authors), and redacting them changes the question. "
        "Found by the packaged name lists and cues, plus spaCy's model where the `pii-names` extra is "
        "installed; the trace's `names_checked` says whether names were looked for.",
    )
    canary: bool = Field(
        False,
        description="Put a secret canary line in the prompt; an answer repeating it leaked the prompt and is "
        "handled as `injection` says (blocked or flagged).",
    )


class CacheIn(RequestModel):
    enabled: bool = Field(
        True,
        description="Store this answer for identical later calls (same prompt, same first-choice model).",
    )
    ttl_s: Annotated[int, Field(ge=1, le=30 * 24 * 3600)] | None = Field(
        None, description="How long a stored answer is served, in seconds (null: 3,600; at most 30 days)."
    )


class GenerateIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_id": "prj_0190c3a4b5f600000001",
                    "prompt": {"name": "qa", "label": "prod"},
                    "variables": {"question": "What is the capital of France?"},
                    "policy": {"route": "cost_first", "max_cost_usd": 0.01},
                },
                {
                    "prompt_version_id": "pv_0190c3a4b5f60000000a",
                    "variables": {"question": "Name three primes."},
                    "schema": {"type": "array", "items": {"type": "integer"}},
                    "guardrails": {"pii": "block"},
                    "cache": {"enabled": False},
                },
            ]
        }
    )

    project_id: Id | None = Field(
        None,
        description="The project; needed with `prompt`, and if given with `prompt_version_id` it must be "
        "the version's.",
    )
    prompt_version_id: Id | None = Field(
        None, description="Run exactly this prompt version (`pv_...`); give this or `prompt`, not both."
    )
    prompt: PromptRef | None = Field(
        None, description="Run the version deployed on a label of a prompt found by name (with `project_id`)."
    )
    variables: dict[str, Any] = Field(
        default_factory=dict,
        description="Values of the template's variables; string values pass the input guardrails first.",
    )
    schema_: Annotated[dict[str, Any] | None, Field(alias="schema")] = Field(
        None,
        description="A JSON Schema the answer must validate against: the model is asked for JSON and the "
        "parsed value comes back in `parsed`.",
    )
    decoding: DecodingIn | None = Field(
        None, description="Decoding settings over the version's own (null fields keep the version's)."
    )
    policy: PolicyIn | None = Field(None, description="How a model is chosen when `model` is not named.")
    provider: Name | None = Field(None, description="Only models of this provider (null: any).")
    model: LongName | None = Field(
        None, description="This catalogue model (by name or provider model id) only; 422 if unknown."
    )
    guardrails: GuardrailsIn | None = Field(
        None, description="PII, injection and canary checks (null: redact PII, block injections, no canary)."
    )
    cache: CacheIn | None = Field(None, description="Answer cache (null: enabled, one hour).")
    unit_id: LongName | None = Field(
        None, description="the unit an experiment attached to the prompt label assigns (sticky for AB/Canary)"
    )
    context: dict[Name, Any] | None = Field(
        None, max_length=200, description="request features for a Contextual experiment attached to the label"
    )


class PurgeIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"project_id": "prj_0190c3a4b5f600000001"},
                {"project_id": "prj_0190c3a4b5f600000001", "prompt_version_id": "pv_0190c3a4b5f60000000a"},
            ]
        }
    )

    project_id: Id = Field(description="The project whose cached answers are dropped.")
    prompt_version_id: Id | None = Field(
        None, description="Only the answers this prompt version produced (null: all of the project's)."
    )


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
    provider: Name | None = Field(
        None, description="The judge model's provider (null: routed like any call)."
    )
    model: LongName | None = Field(None, description="The judge model (null: chosen by the router).")
    criteria: Annotated[str, Field(max_length=2_000)] | None = Field(
        None,
        description="The rubric the judge scores each answer on, 1-5, scaled to 0-1 (null: a built-in "
        "correctness rubric).",
    )


class EvalRunIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "prompt_version_id": "pv_0190c3a4b5f60000000a",
                    "dataset_id": "ds_0190c3a4b5f600000002",
                    "metrics": ["exact_match", "f1"],
                    "compare_to": "prod",
                }
            ]
        }
    )

    prompt_version_id: Id = Field(description="The prompt version to evaluate (`pv_...`).")
    dataset_id: Id = Field(description="The golden set (`ds_...`) it answers, example by example.")
    metrics: list[Name] = Field(
        default_factory=lambda: ["exact_match"],
        min_length=1,
        max_length=10,
        description="Scores per example: exact_match, f1, rouge_l, bleu, json_valid, judge (LLM-as-judge).",
    )
    provider: Name | None = Field(None, description="Only models of this provider (null: any).")
    model: LongName | None = Field(None, description="This catalogue model only (null: chosen by `policy`).")
    policy: PolicyIn | None = Field(None, description="How a model is chosen when `model` is not named.")
    judge: JudgeIn | None = Field(None, description="The judge's model and rubric, for the `judge` metric.")
    compare_to: Literal["dev", "staging", "prod"] | None = Field(
        "prod",
        description="Compare with the version deployed there, on the same examples (paired test per "
        "metric); null: no comparison.",
    )
