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
    prompt_version_id: Id
    environment: Label
    overrides: dict[str, Any] = Field(default_factory=dict)


class RollbackIn(RequestModel):
    prompt_id: Id
    environment: Label
    to_version_id: Id | None = None


class CommentIn(RequestModel):
    comment: Text = ""


class ApprovalCreate(RequestModel):
    entity_type: Label
    entity_id: Id
    comment: Text = ""


class DecisionIn(RequestModel):
    decision: Literal["approve", "reject"]
    comment: Text = ""
