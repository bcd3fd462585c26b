from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from optiloop.api.models.constraints import ConstraintCreate
from optiloop.api.models.responses import ConstraintList, ConstraintOut, SpaceOut
from optiloop.api.params import ProjectId
from optiloop.api.security import get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps
from optiloop.testopt import constraints as uc

router = APIRouter(tags=["constraints"])


@router.post("/v1/projects/{project_id}/constraints", status_code=201, response_model=ConstraintOut)
def add_constraint(
    project_id: ProjectId,
    body: ConstraintCreate,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.CONSTRAINT_WRITE)),
) -> dict[str, Any]:
    """Add a named constraint document: params (integer, number, string enum, boolean, with
    `active_if`) and relations in the constraint language. Posting a name again makes a new version.
    A parse error is a 422 with the position and a "did you mean"; a space nothing satisfies is a 422
    naming the relation that rejects most samples. Admins."""
    return uc.add_constraint(
        deps,
        who,
        project_id,
        name=body.name,
        type=body.type,
        weight=body.weight,
        json_schema=body.json_schema,
    )


@router.get("/v1/projects/{project_id}/constraints", response_model=ConstraintList)
def list_constraints(
    project_id: ProjectId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.CONSTRAINT_READ)),
) -> dict[str, Any]:
    """The newest version of each named constraint of the project, by name."""
    return {"items": uc.list_constraints(deps, project_id)}


@router.get("/v1/projects/{project_id}/space", response_model=SpaceOut)
def get_space(
    project_id: ProjectId,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.CONSTRAINT_READ)),
) -> dict[str, Any]:
    """The merged parameter space (params and relations of every hard and soft constraint) as the
    suggestion engine sees it, with its `space_version`: what to read when a suggestion surprises."""
    return uc.describe_space(deps, project_id)
