"""A project's learned suggestion policies: train them, list them.

Today the one learned policy is the failure surrogate (`training_jobs/surrogate`), trained on the
project's runs by the experiment workflow, evaluated against the version in production (held-out
failure AUC), registered as a version of the project's `surrogate` model and, unless asked
otherwise, pointed at by its `staging` alias — from which the suggestion engine picks it up
(optiloop.testopt.surrogate.trained). Promoting it to `production` goes through approvals like any
model version. RL policies join the listing when they land, as another `type`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.projects import get_project
from optiloop.testopt.surrogate.trained import MODEL_NAME, registered

ENTRY_POINT = "surrogate"
MIN_AUC = 0.55  # below this a failure model ranks no better than chance: never registered


class TrainPolicy(BaseModel):
    """What `POST /v1/projects/{id}/policies:train` accepts (every field optional)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["surrogate"] = "surrogate"
    min_runs: Annotated[int, Field(ge=10, le=10_000_000)] = 50
    promote: Literal["staging"] | None = Field(
        "staging", description="where the new version goes; null: registered only"
    )
    approval: bool = Field(False, description="also submit the version for approval (for production)")
    min_auc: Annotated[float, Field(ge=0.5, le=1.0)] = MIN_AUC
    hyperparameters: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=1000)]] = (
        Field(default_factory=dict)
    )
    poll_seconds: Annotated[int, Field(ge=0, le=3600)] = 30


def train(deps: Deps, who: Principal, project_id: str, body: TrainPolicy) -> dict[str, Any]:
    """Start the experiment workflow that trains, evaluates and registers the project's surrogate."""
    from optiloop.workflows import executions

    get_project(deps, project_id)
    return executions.start_experiment(
        deps,
        who,
        {
            "project_id": project_id,
            "entry_point": ENTRY_POINT,
            "hyperparameters": body.hyperparameters,
            "inputs": {"runs": {"project_runs": project_id}},
            "model": {"name": MODEL_NAME, "description": "failure surrogate of the suggestion engine"},
            "evaluation": {"metric": "auc", "min_value": body.min_auc, "must_beat_production": True},
            "approval": body.approval,
            "promote": None if body.approval else body.promote,
            "min_runs": body.min_runs,
            "poll_seconds": body.poll_seconds,
        },
    )


def learned(deps: Deps, who: Principal, project_id: str) -> list[dict[str, Any]]:
    """The project's learned policies: each version of its surrogate, with its stages and whether
    the suggestion engine would pick it up now."""
    authorize(who, Action.PROJECT_READ, project_id)
    claim = deps.store.docs.get("model_name", f"{project_id}/{MODEL_NAME}")
    model = deps.store.docs.get("model", claim.data["id"]) if claim else None
    if model is None:
        return []
    aliases: dict[str, str] = model.data.get("aliases") or {}
    current = registered(deps, project_id)
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = deps.store.docs.list("model_version", model.id, after=after, limit=100)
        for d in page:
            v = d.data
            out.append(
                {
                    "type": "surrogate",
                    "model_id": model.id,
                    "model_version_id": v["id"],
                    "version": v["version"],
                    "status": v["status"],
                    "stages": sorted(a for a, vid in aliases.items() if vid == v["id"]),
                    "metrics": v.get("metrics", {}),
                    "artifact": {"key": v["artifact_key"], "sha256": v["artifact_sha256"]},
                    "source": v.get("source", {}),
                    "created_at": v["created_at"],
                    "serving_suggestions": current is not None and current.version_id == v["id"],
                }
            )
        if len(page) < 100:
            return out
        after = page[-1].sort
