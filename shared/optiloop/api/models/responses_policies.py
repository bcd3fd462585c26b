"""What `GET /v1/projects/{id}/policies` answers (issue 12): the project's governance policies
(deprecated here) and its learned suggestion policies. Extra fields stay allowed (`ResponseModel`):
minor versions add fields, and a client must ignore the ones it does not know."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel
from optiloop.api.models.responses import PolicyOut


class LearnedPolicyOut(ResponseModel):
    type: str = Field(
        description="`surrogate` (the suggestion model) or `rl` (the reinforcement-learning policy)."
    )
    model_id: str = Field(description="The registry model its versions are kept under.")
    model_version_id: str = Field(description="This version.")
    version: int = Field(description="Its number.")
    status: str = Field(description="Its registry status (`PendingApproval`, `Approved`, ...).")
    stages: list[str] = Field(description="The stages and aliases that point at it, sorted.")
    metrics: dict[str, Any] = Field(description="Its held-out metrics by name.")
    artifact: dict[str, str] = Field(description="Its stored artifact: `key` and `sha256`.")
    source: dict[str, Any] = Field(description="Where it came from (e.g. the `training_job_id`).")
    created_at: str = Field(description="When it was registered (ISO-8601, UTC).")
    serving_suggestions: bool = Field(description="Whether `tests:suggest` uses this version now.")


class ProjectPolicies(ResponseModel):
    items: list[PolicyOut] = Field(
        description="The project's governance policies, all at once (deprecated here: `GET /v1/policies`)."
    )
    learned: list[LearnedPolicyOut] = Field(
        description="Each version of its surrogate, then of its RL policy, oldest first."
    )
