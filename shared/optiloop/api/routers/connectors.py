"""Connectors: where `POST /v1/datasets/ingest` reads tables from besides an upload.

Created and listed under `/v1/connectors` (the project in the body or the query, like datasets),
read and deleted by id. Creating and deleting need `project.update` on the project, reading
`model.read` (optiloop.automl.connectors.records). Credentials go in once and never come back out.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AfterValidator

from optiloop.api.models.connectors import ConnectorCreate, ConnectorList, ConnectorOut
from optiloop.api.params import EntityId
from optiloop.api.security import current_principal, get_deps
from optiloop.auth import Principal
from optiloop.automl.connectors import records
from optiloop.deps import Deps
from optiloop.names import check_name

router = APIRouter(tags=["connectors"])


@router.post("/v1/connectors", status_code=201, response_model=ConnectorOut)
def create_connector(
    body: ConnectorCreate, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Create a connector.

    A folder under the server's root, an S3 bucket and prefix, or a SQLAlchemy URL. Credentials are
    stored in the secret store; the answer (and every later one) holds only their reference."""
    return records.create(deps, who, body.model_dump(exclude_none=True))


@router.get("/v1/connectors", response_model=ConnectorList)
def list_connectors(
    project_id: Annotated[
        str, Query(min_length=1, max_length=100, description="the project"), AfterValidator(check_name)
    ],
    after: Annotated[str | None, Query(max_length=300, description="next_after of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many")] = 100,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """List a project's connectors.

    Oldest first, paged by `after`; credentials appear as references only."""
    items, next_after = records.list_for(deps, who, project_id, after=after, limit=limit)
    return {"items": items, "next_after": next_after}


@router.get("/v1/connectors/{connector_id}", response_model=ConnectorOut)
def get_connector(
    connector_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Read a connector.

    Its configuration and the reference of its credentials, never their values."""
    return records.get(deps, who, connector_id)


@router.delete("/v1/connectors/{connector_id}", status_code=204)
def delete_connector(
    connector_id: EntityId, deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> Response:
    """Delete a connector.

    Its stored credentials are deleted with it; datasets ingested from it stay."""
    records.delete(deps, who, connector_id)
    return Response(status_code=204)
