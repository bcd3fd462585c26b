from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from optiloop import projects as uc
from optiloop.api.models.projects import ProjectCreate, ProjectList, ProjectOut, ProjectPatch
from optiloop.api.params import ProjectId
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
    return asdict(uc.create_project(deps, who, body.name, body.description, body.budget_cents))


@router.get("/v1/projects", response_model=ProjectList)
def list_projects(
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_id: Annotated[str | None, Query(max_length=100)] = None,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROJECT_READ)),
) -> dict[str, Any]:
    items = uc.list_projects(deps, who, limit=limit, after_id=after_id)
    return {
        "items": [asdict(p) for p in items],
        "next_after_id": items[-1].id if len(items) == limit else None,
    }


@router.get("/v1/projects/{project_id}", response_model=ProjectOut)
def get_project(
    project_id: ProjectId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROJECT_READ)),
) -> dict[str, Any]:
    return asdict(uc.get_project(deps, project_id))


@router.patch("/v1/projects/{project_id}", response_model=ProjectOut)
def patch_project(
    project_id: ProjectId,
    body: ProjectPatch,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.PROJECT_UPDATE)),
) -> dict[str, Any]:
    return asdict(uc.set_budget(deps, who, project_id, body.budget_cents))
