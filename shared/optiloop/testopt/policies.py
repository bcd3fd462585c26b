"""A project's learned suggestion policies: train them, list them.

Two types, each trained on the project's runs by the experiment workflow and registered as a
version of a project model that the suggestion engine reads at its `production` alias, else
`staging` (where a training run points it unless asked otherwise; `production` goes through
approvals like any model version):

* `surrogate` (`training_jobs/surrogate`, model `surrogate`): the failure model, evaluated against
  the version in production (held-out failure AUC); optiloop.testopt.surrogate.trained;
* `rl` (`training_jobs/rl_policy`, model `rl_policy`): the PPO policy with a novelty reward,
  registered when its moves earn more per step than random moves from the same tests
  (`return_ratio` >= `min_return_ratio`); it serves `generator: "rl"` and hybrid's `rl` arm
  (optiloop.testopt.strategies.rl). Its return ratio is measured on the history it was trained
  on, so a new version is not required to beat production's: a newer history is the point.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.projects import get_project
from optiloop.testopt.rl import registered as rl_registered
from optiloop.testopt.surrogate.trained import MODEL_NAME, registered

ENTRY_POINT = "surrogate"
RL_ENTRY_POINT = "rl_policy"
MIN_AUC = 0.55  # below this a failure model ranks no better than chance: never registered
MIN_RETURN_RATIO = 1.0  # a policy whose moves earn no more than random moves is not worth serving


class TrainPolicy(BaseModel):
    """What `POST /v1/projects/{id}/policies:train` accepts (every field optional)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["surrogate", "rl"] = Field(
        "surrogate",
        description='`surrogate`: the failure model; `rl`: the PPO suggestion policy (`generator: "rl"`)',
    )
    min_runs: Annotated[int, Field(ge=10, le=10_000_000)] = Field(
        50, description="The project needs at least this many runs to train on, else the execution fails."
    )
    promote: Literal["staging"] | None = Field(
        "staging", description="where the new version goes; null: registered only"
    )
    approval: bool = Field(False, description="also submit the version for approval (for production)")
    min_auc: Annotated[float, Field(ge=0.5, le=1.0)] = Field(
        MIN_AUC,
        description="`surrogate` only: the held-out AUC it must reach (and it must beat production's).",
    )
    min_return_ratio: Annotated[float, Field(ge=0.5, le=100.0)] = Field(
        MIN_RETURN_RATIO,
        description="`rl` only: the policy's reward per step over random moves' that it must reach",
    )
    instance_type: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None,
        description="SageMaker instance type of the training job (e.g. `ml.g4dn.xlarge`: a GPU for `rl`); "
        "null: the backend's default (local jobs run on `local`)",
    )
    hyperparameters: dict[Annotated[str, Field(max_length=100)], Annotated[str, Field(max_length=1000)]] = (
        Field(default_factory=dict, description="string -> string, passed to the training script as given")
    )
    poll_seconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        30, description="Seconds between the workflow's checks of the training job."
    )


def train(deps: Deps, who: Principal, project_id: str, body: TrainPolicy) -> dict[str, Any]:
    """Start the experiment workflow that trains, evaluates and registers the project's surrogate
    or RL policy."""
    from optiloop.workflows import executions

    get_project(deps, project_id)
    if body.type == "rl":
        what: dict[str, Any] = {
            "entry_point": RL_ENTRY_POINT,
            "model": {"name": rl_registered.MODEL_NAME, "description": "RL suggestion policy (PPO, novelty)"},
            "evaluation": {
                "metric": "return_ratio",
                "min_value": body.min_return_ratio,
                "must_beat_production": False,
            },
        }
    else:
        what = {
            "entry_point": ENTRY_POINT,
            "model": {"name": MODEL_NAME, "description": "failure surrogate of the suggestion engine"},
            "evaluation": {"metric": "auc", "min_value": body.min_auc, "must_beat_production": True},
        }
    return executions.start_experiment(
        deps,
        who,
        {
            "project_id": project_id,
            **what,
            "hyperparameters": body.hyperparameters,
            "inputs": {"runs": {"project_runs": project_id}},
            **({"instance_type": body.instance_type} if body.instance_type is not None else {}),
            "approval": body.approval,
            "promote": None if body.approval else body.promote,
            "min_runs": body.min_runs,
            "poll_seconds": body.poll_seconds,
        },
    )


def learned(deps: Deps, who: Principal, project_id: str) -> list[dict[str, Any]]:
    """The project's learned policies: each version of its surrogate and of its RL policy, with
    its stages and whether the suggestion engine would pick it up now."""
    authorize(who, Action.PROJECT_READ, project_id)
    current = registered(deps, project_id)
    policy = rl_registered.registered(deps, project_id)
    return _versions(deps, project_id, MODEL_NAME, "surrogate", current.version_id if current else None) + (
        _versions(deps, project_id, rl_registered.MODEL_NAME, "rl", policy.version_id if policy else None)
    )


def _versions(
    deps: Deps, project_id: str, model_name: str, kind: str, serving: str | None
) -> list[dict[str, Any]]:
    claim = deps.store.docs.get("model_name", f"{project_id}/{model_name}")
    model = deps.store.docs.get("model", claim.data["id"]) if claim else None
    if model is None:
        return []
    aliases: dict[str, str] = model.data.get("aliases") or {}
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = deps.store.docs.list("model_version", model.id, after=after, limit=100)
        for d in page:
            v = d.data
            out.append(
                {
                    "type": kind,
                    "model_id": model.id,
                    "model_version_id": v["id"],
                    "version": v["version"],
                    "status": v["status"],
                    "stages": sorted(a for a, vid in aliases.items() if vid == v["id"]),
                    "metrics": v.get("metrics", {}),
                    "artifact": {"key": v["artifact_key"], "sha256": v["artifact_sha256"]},
                    "source": v.get("source", {}),
                    "created_at": v["created_at"],
                    "serving_suggestions": serving == v["id"],
                }
            )
        if len(page) < 100:
            return out
        after = page[-1].sort
