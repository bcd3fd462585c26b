"""Reading the audit log, limited to what the caller's key may see."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps


def list_audit(
    deps: Deps,
    principal: Principal,
    *,
    project_id: str | None = None,
    action: str | None = None,
    after_seq: int = 0,
    limit: int = 100,
    verify: bool = False,
) -> dict[str, Any]:
    """A page of records. Verifying the chain reads the whole log, so it is opt-in per request
    (`verify=true`) instead of a cost every page of every listing pays."""
    authorize(principal, Action.AUDIT_READ, project_id)
    if principal.project_id is not None:
        project_id = principal.project_id  # a scoped key never sees platform-wide records
    items = deps.store.audit.list(project_id=project_id, action=action, after_seq=after_seq, limit=limit)
    out: dict[str, Any] = {
        "items": [asdict(r) for r in items],
        "next_after_seq": items[-1].seq if len(items) == limit and items else None,
    }
    if verify:
        out["chain_ok"] = deps.store.audit.verify()[0]
    return out


def verify_audit(deps: Deps, principal: Principal) -> dict[str, Any]:
    authorize(principal, Action.AUDIT_READ)
    ok, first_bad = deps.store.audit.verify()
    return {"ok": ok, "first_bad_seq": first_bad}
