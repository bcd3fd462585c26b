"""Starting and reading experiment workflow executions (the use cases behind the HTTP routes).

Starting validates the whole request up front (the same model the first step validates, so a bad
body is a 422 now rather than a failed execution later) and checks the caller may do everything the
workflow will do in their name: train and register (model.write), and deploy when asked.
"""

from __future__ import annotations

from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.projects import get_project
from optiloop.workflows.engine import engine_of
from optiloop.workflows.experiment import EXPERIMENT
from optiloop.workflows.runner import KIND
from optiloop.workflows.steps import parse_input, route_of

RESULTS = (
    "experiment",
    "training",
    "verdict",
    "version",
    "promotion",
    "review",
    "deployment",
    "failure",
    "skipped",
)
PUBLIC = (
    "id",
    "workflow",
    "project_id",
    "backend",
    "status",
    "started_at",
    "started_by",
    "ended_at",
    "current_state",
    "input",
    "error",
    "events",
    "visits",
)


def start_experiment(deps: Deps, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(FieldProblem("body", "must be a JSON object"))
    for reserved in ("execution_id", "started_by"):
        if reserved in body:
            raise InvalidInput(FieldProblem(reserved, "is set by the platform, not the request"))
    execution_id = deps.ids("wfx")
    data = {
        **body,
        "execution_id": execution_id,
        "started_by": {"name": who.name, "role": who.role, "project_id": who.project_id},
    }
    req = parse_input(data)
    authorize(who, Action.MODEL_WRITE, req.project_id)
    if req.deploy is not None:
        authorize(who, Action.DEPLOY, req.project_id)
    get_project(deps, req.project_id)
    data = req.model_dump(mode="json")
    engine = engine_of(deps)
    record(
        deps,
        who,
        "workflow.started",
        req.project_id,
        execution_id,
        {"workflow": EXPERIMENT.name, "backend": engine.backend, "route": route_of(req)},
    )
    engine.start(EXPERIMENT.name, execution_id, req.project_id, data, who.name)
    return get_execution(deps, who, execution_id)


def view(data: dict[str, Any]) -> dict[str, Any]:
    out = {k: data.get(k) for k in PUBLIC}
    state = data.get("state") or {}
    out["results"] = {k: state[k] for k in RESULTS if k in state}
    return out


def get_execution(deps: Deps, who: Principal, execution_id: str) -> dict[str, Any]:
    doc = deps.store.docs.require(KIND, execution_id, field="execution_id", what="workflow execution")
    authorize(who, Action.MODEL_READ, doc.data["project_id"])
    return view(engine_of(deps).refresh(doc.data))


def list_executions(
    deps: Deps, who: Principal, project_id: str, *, limit: int = 50, after: str | None = None
) -> dict[str, Any]:
    authorize(who, Action.MODEL_READ, project_id)
    get_project(deps, project_id)
    page = deps.store.docs.list(KIND, project_id, after=after, limit=limit, descending=True)
    items = [view(d.data) for d in page]
    return {"items": items, "next": page[-1].sort if len(page) == limit else None}
