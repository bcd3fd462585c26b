"""What test prioritisation and the replay of logged runs answer (issue 12). Extra fields stay
allowed (`ResponseModel`): minor versions add fields, and a client must ignore the ones it does not
know. A replay's prioritize-only fields have defaults, and the route answers only the fields the
replay holds (`response_model_exclude_unset`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class PrioritizedCase(ResponseModel):
    id: str = Field(description="The test case's id, as sent.")
    rank: int = Field(description="Its place in the order, from 1.")
    predicted_failure: float = Field(description="The predicted chance (severity-weighted) that it fails.")
    predicted_new_buckets: float = Field(description="The coverage buckets it is predicted to reach first.")
    expected_duration_ms: float | None = Field(
        description="Its duration as sent, or predicted from similar runs; null when no duration is known."
    )
    feasible: bool = Field(description="Whether its params satisfy the project's hard constraints.")
    flaky_probability: float | None = Field(
        description="The chance its outcome flips between runs of the same params; null without history."
    )
    cumulative: dict[str, Any] = Field(
        description="Up to and including it: `duration_ms` (null when no duration is known), "
        "`expected_failures` and `expected_new_buckets`."
    )


class PrioritizeOut(ResponseModel):
    project_id: str = Field(description="The project.")
    objective: str = Field(description="What the order favours: `failures`, `coverage` or `balanced`.")
    model: str = Field(
        description="What the predictions come from: `knn-<n> runs`, or none with fewer than 16 runs."
    )
    count: int = Field(description="Cases in the order (fewer than sent when `budget_ms` cut it).")
    of: int = Field(description="Cases sent.")
    order: list[PrioritizedCase] = Field(description="The cases, best value per unit of time first.")


class ReplayOut(ResponseModel):
    project_id: str = Field(description="The project.")
    policy: str = Field(description="The order replayed: `as_run` or `prioritize`.")
    unit: str = Field(description="What budgets count: `tests` or `ms` of logged test time.")
    replayed: int = Field(description="Logged runs replayed.")
    of: int = Field(description="Logged runs in the project.")
    totals: dict[str, Any] = Field(
        description="Over every replayed run: `tests`, `duration_ms`, `buckets` and `failures`."
    )
    budgets: list[dict[str, Any]] = Field(
        description="Per budget: `budget`, `tests`, `duration_ms`, `buckets`, `bucket_share`, `failures`, "
        "`severe_failures`, `failure_share`, `failed_test_ids` first reached there, and `as_run` (the logged "
        "order's `tests`, `buckets`, `failures` at the same budget) for another policy."
    )
    objective: str | None = Field(default=None, description="`prioritize` only: the objective it ordered by.")
    knows: str | None = Field(
        default=None, description="`prioritize` only: what the replayed order could see."
    )
    replan_every: int | None = Field(default=None, description="`prioritize` only: tests between refits.")
