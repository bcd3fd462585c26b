from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from optiloop.api.models.common import Cents, LongName, RequestModel, ResponseModel


class ProjectCreate(RequestModel):
    name: LongName
    description: Annotated[str, Field(max_length=10_000)] = ""
    budget_cents: Cents | None = None

    @field_validator("name")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v


class ProjectPatch(RequestModel):
    budget_cents: Cents | None  # required: null removes the budget, a missing field is a mistake


class ProjectOut(ResponseModel):
    id: str
    name: str
    description: str
    budget_cents: float | None
    created_at: str
    created_by: str


class ProjectList(ResponseModel):
    items: list[ProjectOut] = Field(description="A page of projects, oldest first.")
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last page.")
    next_after_id: str | None = Field(description="Deprecated since API 1.1: the same value as `next_after`.")
