"""What `GET /v1/projects/{id}/coverage` answers as JSON (issue 12); `format=csv` answers the same
figures as text/csv. Extra fields stay allowed (`ResponseModel`): minor versions add fields, and a
client must ignore the ones it does not know."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class CoverageOut(ResponseModel):
    project_id: str = Field(description="The project.")
    unique_buckets: int = Field(description="Distinct coverage buckets reached by every ingested run.")
    tests_suggested: int = Field(description="Tests suggested so far.")
    tests_run: int = Field(description="Runs ingested (reruns included).")
    pending: int = Field(description="Suggested tests with no run yet.")
    growth_curve: list[list[int]] = Field(
        description="`[runs, unique buckets]` points in ingestion order, from `[0, 0]`; downsampled evenly, "
        "the last point exact."
    )
    marginal_gain_per_100: list[int] = Field(
        description="New buckets per block of 100 runs in ingestion order (the last block may be partial)."
    )
    failures_by_severity: dict[str, int] = Field(description='Failed runs by severity (`"1"`..`"5"`).')
    tests_to_first_failure: int | None = Field(description="Runs until the first failure; null: none yet.")
    tests_to_first_severe_failure: int | None = Field(
        description="Runs until the first failure of severity 3 or more; null: none yet."
    )
    duplicate_rate: float = Field(
        description="The share of suggested tests that repeat an earlier one's params."
    )
    spend_cents: float = Field(description="What the project's runs cost so far, in cents.")
    budget_cents: float | None = Field(description="The project's budget in cents; null: none.")
    budget_left_cents: float | None = Field(description="The budget less the spend; null without a budget.")
    surrogate: dict[str, Any] | None = Field(
        description="The registered failure surrogate: what it is, its `registered_auc`, and on the runs it "
        "has not seen `recent_runs`, `recent_failures` and `recent_auc` (null until both outcomes occur); "
        "null without one."
    )
    flaky: dict[str, Any] = Field(
        description="Params run more than once whose outcomes disagree: `reruns`, "
        "`params_run_more_than_once`, "
        "`flaky_params`, the Beta `prior` and the `groups` (params, runs, passes, fails, `flake_rate`), "
        "flakiest first."
    )
