from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from optiloop.api.models.common import MAX_BUCKET, Cents, NonNegative, RequestModel, ResponseModel
from optiloop.names import check_name
from optiloop.testopt.coverage.buckets import (
    MAX_BUCKET_BYTES,
    MAX_BUCKETS_PER_RUN,
    bucket_problem,
    from_coverage_py,
    size_problem,
)
from optiloop.testopt.ingest import RunReport


def _bucket(b: object) -> int | str:
    """One validator for both kinds, so an error names the item, not a branch of a union."""
    why = bucket_problem(b)
    if why:
        raise ValueError(why)
    return b  # type: ignore[return-value]  # bucket_problem accepted it: an int or a str


BucketIn = Annotated[
    int | str,
    PlainValidator(_bucket),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": MAX_BUCKET},
                {"type": "string", "minLength": 1, "maxLength": MAX_BUCKET_BYTES},
            ]
        }
    ),
]


class CoverageDelta(RequestModel):
    buckets_hit: Annotated[
        list[BucketIn],
        Field(
            max_length=MAX_BUCKETS_PER_RUN,
            description="Behaviour the run exercised: integers 0..2^63-1, or strings of at most "
            f"{MAX_BUCKET_BYTES} UTF-8 bytes as coverage tools name things ('checkout.py:42').",
        ),
    ] = Field(default_factory=list)
    coverage_py: dict[str, Any] | None = Field(
        default=None,
        description="A coverage.py JSON report (`coverage json`): each executed line becomes a bucket "
        "'path:line' and each executed branch 'path:from->to', added to buckets_hit.",
    )

    @field_validator("coverage_py")
    @classmethod
    def _check_coverage_py(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            from_coverage_py(v)  # raises ValueError naming what is wrong, reported on this field
        return v

    @model_validator(mode="after")
    def _merge_coverage_py(self) -> CoverageDelta:
        if self.coverage_py is not None:
            self.buckets_hit = [*self.buckets_hit, *from_coverage_py(self.coverage_py)]
            self.coverage_py = None
            if len(self.buckets_hit) > MAX_BUCKETS_PER_RUN:
                raise ValueError(f"at most {MAX_BUCKETS_PER_RUN} buckets per run, coverage_py's included")
        why = size_problem(self.buckets_hit)
        if why:
            raise ValueError(why)
        return self


class RunIn(RequestModel):
    test_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=128,
            description="The id of a suggested test of this project (`tst_...`).",
        ),
        AfterValidator(check_name),
    ]
    status: Literal["pass", "fail", "skipped"] = Field(description="What the run of the test found.")
    duration_ms: NonNegative = Field(0.0, description="How long the run took, in milliseconds.")
    cost_cents: Cents = Field(0.0, description="What the run cost, in cents (counts against the budget).")
    failure_severity: Annotated[int, Field(ge=0, le=10)] = Field(
        0, description="0 for a pass; for a failure how bad it is, 1 (minor) to 10."
    )
    coverage_delta: CoverageDelta = Field(default_factory=CoverageDelta)
    rerun_of: Annotated[str, Field(min_length=1, max_length=128), AfterValidator(check_name)] | None = Field(
        default=None,
        description="A rerun: the id of a test of this project whose params were run again. `test_id` is "
        "then a new id of yours for the rerun; the rerun is stored as a new test (operator 'rerun') with "
        "this run, so each test keeps one run, and disagreeing outcomes count as flakiness.",
    )

    @field_validator("rerun_of")
    @classmethod
    def _rerun_needs_new_id(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None and v == info.data.get("test_id"):
            raise ValueError("names the run's own test_id; a rerun needs a new test_id")
        return v

    def to_report(self) -> RunReport:
        """The use case's input; HTTP ingest and the bulk-ingest queue both come through here."""
        return RunReport(
            test_id=self.test_id,
            status=self.status,
            duration_ms=self.duration_ms,
            cost_cents=self.cost_cents,
            failure_severity=self.failure_severity,
            buckets_hit=self.coverage_delta.buckets_hit,
            rerun_of=self.rerun_of,
        )


class IngestIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "runs": [
                        {
                            "test_id": "tst_1a24a4967508919872b7",
                            "status": "fail",
                            "duration_ms": 120,
                            "cost_cents": 2,
                            "failure_severity": 3,
                            "coverage_delta": {"buckets_hit": [12, "checkout.py:42"]},
                        }
                    ]
                }
            ]
        }
    )

    runs: Annotated[list[RunIn], Field(min_length=1, max_length=1000)] = Field(
        description="1-1,000 results of suggested tests; each is accepted or rejected on its own."
    )


class Rejected(ResponseModel):
    index: int = Field(description="The run's position in `runs`.")
    test_id: str = Field(description="The run's `test_id`.")
    field: str = Field(description="The field that was wrong.")
    reason: str = Field(description="Why the run was not accepted.")


class IngestOut(ResponseModel):
    accepted: int = Field(description="Runs stored by this call.")
    duplicates: int = Field(description="Runs of tests that already had a run: not stored again.")
    rejected: list[Rejected] = Field(description="Runs refused one by one, each with its field and reason.")
    new_buckets: int = Field(description="Coverage buckets first hit by the accepted runs.")
    total_buckets: int = Field(description="Unique coverage buckets of the project after this call.")
