"""Request bodies of the model registry (`/v1/models...`) and of lineage."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from optiloop.api.models.common import Id, Name, RequestModel

Text = Annotated[str, Field(max_length=4_000)]
TagKey = Annotated[str, Field(min_length=1, max_length=100)]
TagValue = Annotated[str, Field(max_length=500)]


class ModelCreate(RequestModel):
    project_id: Id | None = Field(None, description="the project; a key bound to one project may omit it")
    name: Name
    description: Text = ""
    tags: dict[TagKey, TagValue] | None = None


class CardIn(RequestModel):
    """What the model card cannot derive from the version itself."""

    intended_use: Text | None = None
    sensitive_column: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="the column fairness metrics were measured on; without it the card reports none"
    )
    limitations: list[Annotated[str, Field(min_length=1, max_length=4_000)]] | None = Field(
        None, max_length=20
    )


class VersionCreate(RequestModel):
    """From a Completed training job, a completed AutoML trial, or an uploaded model.tar.gz (base64)
    with its sha256."""

    training_job_id: Id | None = None
    trial_id: Id | None = Field(None, description="a completed AutoML trial (its refit model)")
    artifact_base64: str | None = Field(None, description="model.tar.gz, base64; the body limit applies")
    sha256: Annotated[str, Field(max_length=71)] | None = Field(
        None, description="the artifact's sha256 (hex, optionally sha256:); checked when given"
    )
    description: Text = ""
    card: CardIn | None = None


class PromoteIn(RequestModel):
    stage: Literal["staging", "production", "archived"] | None = None
    alias: Annotated[str, Field(min_length=1, max_length=63)] | None = None
    comment: Annotated[str, Field(max_length=2_000)] = ""


class ModelRollbackIn(RequestModel):
    stage: Literal["staging", "production"] | None = None
    alias: Annotated[str, Field(min_length=1, max_length=63)] | None = None
    to_version: (
        Annotated[int, Field(ge=1, le=2**31)] | Annotated[str, Field(min_length=1, max_length=100)] | None
    ) = None
    comment: Annotated[str, Field(max_length=2_000)] = ""
