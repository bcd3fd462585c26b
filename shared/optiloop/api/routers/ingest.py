from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from optiloop.api.models.ingest import IngestIn, IngestOut
from optiloop.api.params import ProjectId
from optiloop.api.security import get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps
from optiloop.testopt.ingest import ingest_runs

router = APIRouter(tags=["runs"])


@router.post("/v1/projects/{project_id}/runs:ingest", response_model=IngestOut)
def ingest(
    project_id: ProjectId,
    body: IngestIn,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.RUN_INGEST)),
) -> dict[str, Any]:
    """Report what happened to suggested tests: status, duration, cost, failure severity and the
    coverage buckets each hit (integers or strings, or a coverage.py JSON report). Idempotent per
    test: a run already ingested is counted as a duplicate, never twice. Contributors and up."""
    return ingest_runs(deps, who, project_id, [r.to_report() for r in body.runs])
