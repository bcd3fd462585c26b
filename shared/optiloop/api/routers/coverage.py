from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from optiloop.api.models.responses_coverage import CoverageOut
from optiloop.api.params import ProjectId
from optiloop.api.security import get_deps, require
from optiloop.auth import Action, Principal
from optiloop.deps import Deps
from optiloop.testopt.coverage.report import coverage_csv, coverage_report

router = APIRouter(tags=["coverage"])


@router.get(
    "/v1/projects/{project_id}/coverage",
    response_model=None,
    responses={
        200: {
            "description": "The report as JSON, or with `format=csv` the same figures as CSV.",
            "model": CoverageOut,
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "description": "One row per figure, with a header."}
                },
            },
        }
    },
)
def coverage(
    project_id: ProjectId,
    format: Annotated[
        Literal["json", "csv"], Query(description="json (default), or csv: the same figures as text/csv")
    ] = "json",
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(require(Action.COVERAGE_READ)),
) -> Response | dict[str, Any]:
    """The project's coverage and ROI: unique buckets over tests and over time, new buckets per 100
    tests, failures by severity, tests to first failure, spend against budget. `format=csv` answers
    the same as CSV."""
    if format == "csv":
        return Response(
            coverage_csv(deps, project_id),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="{project_id}-coverage.csv"'},
        )
    return JSONResponse(coverage_report(deps, project_id))
