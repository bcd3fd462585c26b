"""Request bodies of the model registry (`/v1/models...`) and of lineage."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, Name, RequestModel

Text = Annotated[str, Field(max_length=4_000)]
TagKey = Annotated[str, Field(min_length=1, max_length=100)]
TagValue = Annotated[str, Field(max_length=500)]


class ModelCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_id": "prj_0190c3a4b5f600000001",
                    "name": "churn",
                    "description": "30-day churn classifier",
                    "tags": {"team": "growth"},
                }
            ]
        }
    )

    project_id: Id | None = Field(None, description="the project; a key bound to one project may omit it")
    name: Name = Field(description="Unique in the project: 1-100 of A-Z a-z 0-9 _ . -.")
    description: Text = Field("", description="Free text for people (at most 4,000 characters).")
    tags: dict[TagKey, TagValue] | None = Field(
        None, description="Free key -> value labels for people and search, at most 50 (null: none)."
    )


class CardIn(RequestModel):
    """What the model card cannot derive from the version itself."""

    intended_use: Text | None = Field(
        None, description="What the model is for and not for, as the card states it (null: unstated)."
    )
    sensitive_column: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="the column fairness metrics were measured on; without it the card reports none"
    )
    limitations: list[Annotated[str, Field(min_length=1, max_length=4_000)]] | None = Field(
        None, max_length=20, description="Known limitations, one per item (at most 20), listed on the card."
    )


class VersionCreate(RequestModel):
    """From a Completed training job, a completed AutoML trial, or an uploaded model.tar.gz (base64)
    with its sha256."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "training_job_id": "tj_0190c3a4b5f600000003",
                    "description": "retrained on November's data",
                    "card": {"intended_use": "ranking retention offers", "sensitive_column": "gender"},
                }
            ]
        }
    )

    training_job_id: Id | None = Field(
        None, description="A Completed training job (`tj_...`) whose artifact becomes the version."
    )
    trial_id: Id | None = Field(None, description="a completed AutoML trial (its refit model)")
    artifact_base64: str | None = Field(None, description="model.tar.gz, base64; the body limit applies")
    sha256: Annotated[str, Field(max_length=71)] | None = Field(
        None, description="the artifact's sha256 (hex, optionally sha256:); checked when given"
    )
    description: Text = Field("", description="What is new in this version, for people.")
    card: CardIn | None = Field(
        None, description="What the model card cannot derive from the version (intended use, limitations)."
    )


class PromoteIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"stage": "production", "comment": "approved"}, {"alias": "champion"}]
        }
    )

    stage: Literal["staging", "production", "archived"] | None = Field(
        None,
        description="Move this stage to the version (production takes only an Approved version; "
        "archived ends it); give this or `alias`.",
    )
    alias: Annotated[str, Field(min_length=1, max_length=63)] | None = Field(
        None, description="Point this alias at the version: 1-63 of A-Z a-z 0-9 _ -, a letter first, not mv_."
    )
    comment: Annotated[str, Field(max_length=2_000)] = Field(
        "", description="Why, kept in the model's history."
    )


class ModelRollbackIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"stage": "production", "comment": "AUC dropped"},
                {"alias": "champion", "to_version": 3},
            ]
        }
    )

    stage: Literal["staging", "production"] | None = Field(
        None, description="The stage to move back; give this or `alias`."
    )
    alias: Annotated[str, Field(min_length=1, max_length=63)] | None = Field(
        None, description="The alias to move back; give this or `stage`."
    )
    to_version: (
        Annotated[int, Field(ge=1, le=2**31)] | Annotated[str, Field(min_length=1, max_length=100)] | None
    ) = Field(
        None,
        description="The version to move it to, by number or id (null: the version that held it before).",
    )
    comment: Annotated[str, Field(max_length=2_000)] = Field(
        "", description="Why, kept in the model's history."
    )
