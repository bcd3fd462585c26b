from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from optiloop import projects as uc
from optiloop.api.models.projects import ProjectCreate, ProjectList, ProjectOut, ProjectPatch
from optiloop.api.params import After, ProjectId, alias_description, cursor
from optiloop.api.security import get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps

router = APIRouter(tags=["projects"])


@router.post("/v1/projects", status_code=201, response_model=ProjectOut)
def create_project(
    body: ProjectCreate,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROJECT_CREATE)),
) -> dict[str, Any]:
    """A project: the unit of ownership, budget and isolation. Its parameter space comes next
    (`POST /v1/projects/{id}/constraints`). Keys not bound to one project, contributors and up;
    audited as `project.created`."""
    return asdict(uc.create_project(deps, who, body.name, body.description, body.budget_cents))


@router.get("/v1/projects", response_model=ProjectList)
def list_projects(
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many projects.")] = 100,
    after: After = None,
    after_id: Annotated[
        str | None, Query(max_length=100, deprecated=True, description=alias_description("after_id"))
    ] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROJECT_READ)),
) -> dict[str, Any]:
    """The projects the key may see (a project-bound key: its one project), oldest first, deleted ones
    left out. Page with `after` = the previous page's `next_after`."""
    items = uc.list_projects(deps, who, limit=limit, after_id=cursor(after, after_id))
    nxt = items[-1].id if len(items) == limit else None
    return {"items": [asdict(p) for p in items], "next_after": nxt, "next_after_id": nxt}


@router.get("/v1/projects/{project_id}", response_model=ProjectOut)
def get_project(
    project_id: ProjectId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROJECT_READ)),
) -> dict[str, Any]:
    """The project, with its budget. 404 for an unknown or deleted project (the message says which)."""
    return asdict(uc.get_project(deps, project_id))


@router.patch("/v1/projects/{project_id}", response_model=ProjectOut)
def patch_project(
    project_id: ProjectId,
    body: ProjectPatch,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROJECT_UPDATE)),
) -> dict[str, Any]:
    """Set or remove (`null`) the project's budget in cents: once spent, suggestions answer 409.
    Admins; audited as `project.updated` with the old and new value."""
    return asdict(uc.set_budget(deps, who, project_id, body.budget_cents))


@router.delete("/v1/projects/{project_id}", status_code=204, summary="Delete a project")
def delete_project(
    project_id: ProjectId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROJECT_DELETE)),
) -> Response:
    """Soft delete: the project leaves `GET /v1/projects` and every route on it answers 404 naming the
    deletion, while its records (tests, runs, audit trail) stay for auditors. Refused with 409 while
    a prompt or model of the project is deployed. Admins with a key not bound to one project only.
    Audited as `project.deleted`."""
    uc.delete_project(deps, who, project_id)
    return Response(status_code=204)
