from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from optiloop.api.models.common import MAX_BUCKET, Cents, NonNegative, RequestModel, ResponseModel


class CoverageDelta(RequestModel):
    buckets_hit: Annotated[list[Annotated[int, Field(ge=0, le=MAX_BUCKET)]], Field(max_length=10_000)] = (
        Field(default_factory=list)
    )


class RunIn(RequestModel):
    test_id: Annotated[str, Field(min_length=1, max_length=128)]
    status: Literal["pass", "fail", "skipped"]
    duration_ms: NonNegative = 0.0
    cost_cents: Cents = 0.0
    failure_severity: Annotated[int, Field(ge=0, le=10)] = 0
    coverage_delta: CoverageDelta = Field(default_factory=CoverageDelta)


class IngestIn(RequestModel):
    runs: Annotated[list[RunIn], Field(min_length=1, max_length=1000)]


class Rejected(ResponseModel):
    index: int
    test_id: str
    field: str
    reason: str


class IngestOut(ResponseModel):
    accepted: int
    duplicates: int
    rejected: list[Rejected]
    new_buckets: int
    total_buckets: int
