from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from optiloop.api.models.common import MAX_BUCKET, Cents, NonNegative, RequestModel, ResponseModel
from optiloop.testopt.ingest import RunReport


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

    def to_report(self) -> RunReport:
        """The use case's input; HTTP ingest and the bulk-ingest queue both come through here."""
        return RunReport(
            test_id=self.test_id,
            status=self.status,
            duration_ms=self.duration_ms,
            cost_cents=self.cost_cents,
            failure_severity=self.failure_severity,
            buckets_hit=self.coverage_delta.buckets_hit,
        )


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
