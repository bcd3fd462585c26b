from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from optiloop.api.models.responses import AuditPage, AuditVerifyOut
from optiloop.api.params import MAX_SEQ, After, alias_description, seq_cursor
from optiloop.api.security import current_principal, get_deps
from optiloop.audit.listing import list_audit, verify_audit
from optiloop.auth import Principal
from optiloop.deps import Deps

router = APIRouter(tags=["audit"])


@router.get("/v1/audit/logs", response_model=AuditPage)
def audit_logs(
    project_id: Annotated[
        str | None,
        Query(max_length=100, description="Only this project's records (a bound key: always its own)."),
    ] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="Only records of this action, e.g. `key.created`.")
    ] = None,
    after_seq: Annotated[
        int, Query(ge=0, le=MAX_SEQ, deprecated=True, description=alias_description("after_seq"))
    ] = 0,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many records.")] = 100,
    verify: Annotated[bool, Query(description="also recompute the hash chain (reads the whole log)")] = False,
    deps: Deps = Depends(get_deps),
    who: Principal = Depends(current_principal),
) -> dict[str, Any]:
    """Audit records in the order they were written. Page with `after` = the previous page's
    `next_after` (one project's listing: a sequence number; the tenant-wide one: an opaque cursor)."""
    if (project_id or who.project_id) is not None and after is not None:
        after_seq, after = seq_cursor(after, after_seq), None  # one project's cursor is its seq
    page = list_audit(
        deps,
        who,
        project_id=project_id,
        action=action,
        after_seq=after_seq,
        limit=limit,
        verify=verify,
        after=after,
    )
    if page.get("next_after") is None and page.get("next_after_seq") is not None:
        page["next_after"] = str(page["next_after_seq"])
    return page


@router.get("/v1/audit/verify", response_model=AuditVerifyOut)
def audit_verify(
    deps: Deps = Depends(get_deps), who: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Recompute the audit trail's hash chains and check the signed digests: `ok` and, if not, where
    the first break is."""
    return verify_audit(deps, who)
