from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from optiloop.api.models.constraints import ConstraintCreate
from optiloop.api.params import ProjectId
from optiloop.api.security import get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps
from optiloop.testopt import constraints as uc

router = APIRouter(tags=["constraints"])


@router.post("/v1/projects/{project_id}/constraints", status_code=201)
def add_constraint(
    project_id: ProjectId,
    body: ConstraintCreate,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.CONSTRAINT_WRITE)),
) -> dict[str, Any]:
    return uc.add_constraint(
        deps,
        who,
        project_id,
        name=body.name,
        type=body.type,
        weight=body.weight,
        json_schema=body.json_schema,
    )


@router.get("/v1/projects/{project_id}/constraints")
def list_constraints(
    project_id: ProjectId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.CONSTRAINT_READ)),
) -> dict[str, Any]:
    return {"items": uc.list_constraints(deps, project_id)}


@router.get("/v1/projects/{project_id}/space")
def get_space(
    project_id: ProjectId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.CONSTRAINT_READ)),
) -> dict[str, Any]:
    return uc.describe_space(deps, project_id)
