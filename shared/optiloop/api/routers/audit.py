from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from optiloop.api.params import AfterSeq
from optiloop.api.security import current_principal, get_deps
from optiloop.audit.listing import list_audit, verify_audit
from optiloop.auth import Principal
from optiloop.deps import Deps

router = APIRouter(tags=["audit"])


@router.get("/v1/audit/logs")
def audit_logs(
    project_id: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    after_seq: AfterSeq = 0,
    after: Annotated[
        str | None,
        Query(max_length=400, description="tenant-wide listings: the next_after of the previous page"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    verify: Annotated[bool, Query(description="also recompute the hash chain (reads the whole log)")] = False,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    return list_audit(
        deps,
        who,
        project_id=project_id,
        action=action,
        after_seq=after_seq,
        limit=limit,
        verify=verify,
        after=after,
    )


@router.get("/v1/audit/verify")
def audit_verify(
    deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    return verify_audit(deps, who)
