"""What `POST /v1/projects/{id}/tests:suggest` answers as JSON (issue 12); with `stream: true` it
answers NDJSON instead (`{"test": ...}` lines, then `{"done": ...}`), which no JSON schema covers.
Extra fields stay allowed (`ResponseModel`): minor versions add fields, and a client must ignore the
ones it does not know."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class SuggestedTest(ResponseModel):
    id: str = Field(description="The test's id (`tst_...`): send it back as the run's `test_id`.")
    params: dict[str, Any] = Field(description="The parameter values to run, one per param.")
    score: float | None = Field(description="Its acquisition score (coverage gain, failure chance, cost).")


class SuggestOut(ResponseModel):
    suggestion_id: str = Field(description="The batch's id (in the audit trail and the tests).")
    tests: list[SuggestedTest] = Field(description="The batch: feasible, diverse, never suggested twice.")
    policy_version: str | None = Field(description="The suggestion policy version that chose them.")
    surrogate_version: str | None = Field(
        description="The failure surrogate used: a registered version id, `rff-...` (in-process) or `none`."
    )
    space_version: str | None = Field(description="The version of the merged space they were drawn from.")
    seed: int = Field(
        description="The seed (drawn when not given): the same seed and history give the same batch."
    )
    predicted_cost_cents: float = Field(description="What running the batch is predicted to cost, in cents.")
    explanations: list[dict[str, Any]] = Field(description="Why each test was chosen: `id` and `rationale`.")
    pareto: dict[str, Any] | None = Field(
        default=None, description="With `pareto`: the non-dominated front over the objectives, and its sizes."
    )
