from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, field_validator

from optiloop.api.models.common import Cents, LongName, RequestModel, ResponseModel


class ProjectCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "api-load", "description": "load tests", "budget_cents": 1000}]
        }
    )

    name: LongName = Field(description="What people call it; need not be unique (the id is).")
    description: Annotated[str, Field(max_length=10_000, description="Free text for people.")] = ""
    budget_cents: Cents | None = Field(
        None, description="Spend cap in cents over all runs; once spent, suggestions answer 409. Null: none."
    )

    @field_validator("name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v


class ProjectPatch(RequestModel):
    model_config = ConfigDict(
        # no `{"budget_cents": null}` example: the OpenAPI document drops nulls (FastAPI's exclude_none),
        # and the `{}` left would be an example the route refuses
        json_schema_extra={"examples": [{"budget_cents": 5000}]}
    )

    # required: null removes the budget, a missing field is a mistake
    budget_cents: Cents | None = Field(description="The new spend cap in cents; null removes it (required).")


class ProjectOut(ResponseModel):
    id: str = Field(description="The project's id (`prj_...`, time-ordered).")
    name: str = Field(description="What people call it.")
    description: str = Field(description="Free text for people.")
    budget_cents: float | None = Field(description="Spend cap in cents over all runs; null: none.")
    created_at: str = Field(description="When it was created (ISO-8601, UTC).")
    created_by: str = Field(description="The principal that created it.")


class ProjectList(ResponseModel):
    items: list[ProjectOut] = Field(description="A page of projects, oldest first.")
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last page.")
    next_after_id: str | None = Field(description="Deprecated since API 1.1: the same value as `next_after`.")
