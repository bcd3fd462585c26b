"""Lineage: what an entity was made from and what was made from it (dataset -> training job ->
model version -> deployment -> monitor), authorised by the entity's project."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AfterValidator

from optiloop.api.models.responses_lineage import LineageOut
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Action, Principal, authorize
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput, NotFound
from optiloop.models import lineage
from optiloop.names import check_name

router = APIRouter(tags=["lineage"])


@router.get("/v1/lineage/{entity_type}/{entity_id}", response_model=LineageOut)
def get_lineage(
    entity_type: Annotated[
        str,
        Path(
            min_length=1,
            max_length=100,
            description="What kind of entity: dataset, project_runs, training_job, model, model_version, "
            "deployment, monitor, experiment or trial (any other is a 422).",
        ),
        AfterValidator(check_name),
    ],
    entity_id: Annotated[
        str,
        Path(
            min_length=1, max_length=100, description="Its id (`ds_...`, `tj_...`, `mv_...`, `dep_...`, ...)."
        ),
        AfterValidator(check_name),
    ],
    depth: Annotated[int, Query(ge=1, le=20, description="hops walked each way")] = 10,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """What an entity came from and what came of it (datasets, jobs, trials, model versions,
    deployments), `depth` hops each way."""
    if entity_type not in lineage.ENTITY_TYPES:
        raise InvalidInput(FieldProblem("entity_type", f"must be one of {', '.join(lineage.ENTITY_TYPES)}"))
    project_id = lineage.project_of(deps, entity_type, entity_id)
    if project_id is None:
        raise NotFound(
            f"no {entity_type} '{entity_id}' with lineage",
            details=[{"field": "entity_id", "reason": f"no such {entity_type}"}],
        )
    authorize(who, Action.MODEL_READ, project_id)
    return {"project_id": project_id, **lineage.walk(deps, entity_type, entity_id, depth=depth)}
