"""Request models of the prompts, deployments and approvals routers.

Content checks that need the template engine (syntax, declared variables, sandbox) happen in the
core, so the same 422 comes from the API, the CLI and any Lambda; these models check shape only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, Label, LongName, Name, RequestModel

Text = Annotated[str, Field(max_length=4_000)]


class PromptCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "qa", "description": "answers support questions", "template_engine": "jinja2"}
            ]
        }
    )

    name: Name = Field(
        description="Unique in the project: 1-100 of A-Z a-z 0-9 _ . - (`generate` finds it by name)."
    )
    description: Annotated[str, Field(max_length=10_000, description="Free text for people.")] = ""
    template_engine: Literal["jinja2"] = Field(
        "jinja2",
        description="How version bodies are rendered: `jinja2` (sandboxed Jinja, bounded in time and "
        "memory) is the one engine; the field is accepted so seed-shaped requests work as written.",
    )


class DecodingIn(RequestModel):
    temperature: Annotated[float, Field(ge=0, le=2)] | None = Field(None, description="Sampling temperature.")
    top_p: Annotated[float, Field(gt=0, le=1)] | None = Field(None, description="Nucleus sampling mass.")
    max_tokens: Annotated[int, Field(ge=1, le=32_000)] | None = Field(
        None, description="At most this many output tokens."
    )


class VersionCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "body": "Q: {{question}}\nA:",
                    "variables": {"question": "str"},
                    "notes": "shorter answers",
                    "decoding": {"temperature": 0, "max_tokens": 64},
                }
            ]
        }
    )

    body: Annotated[
        str,
        Field(
            min_length=1, max_length=32_000, description="The template: sandboxed Jinja, `{{ variable }}`."
        ),
    ]
    variables: dict[str, str] = Field(
        default_factory=dict, description="Every variable the body uses, with its type (`str`, `int`, ...)."
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict, description="Values of variables a caller may omit."
    )
    notes: Text = Field("", description="What changed and why, for reviewers.")
    model: LongName | None = Field(
        None, description="The catalogue model to call (null: the router chooses)."
    )
    decoding: DecodingIn | None = Field(None, description="Decoding settings sent with every call.")


class DeploymentCreate(RequestModel):
    prompt_version_id: Id = Field(
        description="The prompt version (`pv_...`) the environment runs from now on."
    )
    environment: Label = Field(description="`dev`, `staging` or `prod` (prod only for an Approved version).")
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="Variable values for this environment: over the version's defaults, under the caller's.",
    )


class RollbackIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"prompt_id": "prm_0190c3a4b5f600000001", "environment": "prod"},
                {
                    "prompt_id": "prm_0190c3a4b5f600000001",
                    "environment": "staging",
                    "to_version_id": "pv_0190c3a4b5f60000000a",
                },
            ]
        }
    )

    prompt_id: Id = Field(description="The prompt (`prm_...`) whose environment moves back.")
    environment: Label = Field(
        description="The environment to move: `dev`, `staging` or `prod` (prod only to an Approved version)."
    )
    to_version_id: Id | None = Field(
        None,
        description="The version to run now, one of this prompt's; null: the version the environment "
        "ran before the current one (409 if it never ran another).",
    )


class CommentIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"comment": "scores 0.91 on the golden set; ready for prod"}]}
    )

    comment: Text = Field(
        "",
        description="Why, for the approval record and the audit log (at most 2,000 characters; "
        "required, non-blank, to reject).",
    )


class ApprovalCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "entity_type": "model_version",
                    "entity_id": "mv_0190c3a4b5f60000000b",
                    "comment": "AUC 0.93, fairness ok",
                }
            ]
        }
    )

    entity_type: Label = Field(
        description="What kind of thing is to be approved: `prompt_version` or `model_version`."
    )
    entity_id: Id = Field(description="Its id: a prompt version (`pv_...`) or a model version (`mv_...`).")
    comment: Text = Field(
        "", description="A note for the approvers, kept on the request (at most 2,000 characters)."
    )


class DecisionIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"decision": "approve", "comment": "looked at the eval run; fine"},
                {"decision": "reject", "comment": "exact_match fell from 0.91 to 0.84"},
            ]
        }
    )

    decision: Literal["approve", "reject"] = Field(
        description="`approve` counts towards the policies' `min_approvals`; `reject` closes the request."
    )
    comment: Text = Field(
        "", description="Why (at most 2,000 characters); a rejection needs a non-blank one."
    )
