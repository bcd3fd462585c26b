"""Reading the audit log, limited to what the caller's key may see."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from optiloop.audit.shards import encode_cursor, ord_of
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
    after: str | None = None,
) -> dict[str, Any]:
    """A page of records. A project's listing pages by seq (`after_seq`, strongly consistent); the
    tenant-wide one merges every shard in time order and pages by the opaque cursor `after`
    (`next_after`). Verifying reads the whole trail, so it is opt-in per request (`verify=true`)."""
    authorize(principal, Action.AUDIT_READ, project_id)
    if principal.project_id is not None:
        project_id = principal.project_id  # a scoped key never sees platform-wide records
    items = deps.store.audit.list(
        project_id=project_id, action=action, after_seq=after_seq, limit=limit, after=after
    )
    full = len(items) == limit and bool(items)
    out: dict[str, Any] = {
        "items": [asdict(r) for r in items],
        "next_after_seq": items[-1].seq if full and project_id is not None else None,
        "next_after": (
            encode_cursor(ord_of(items[-1].shard, items[-1].seq, items[-1].at))
            if full and project_id is None
            else None
        ),
    }
    if verify:
        out["chain_ok"] = deps.store.audit.verify(_signer(deps)).ok
    return out


def verify_audit(deps: Deps, principal: Principal) -> dict[str, Any]:
    """Every shard chain, every shard head and the digest chain; names the first thing that does not
    match (`problem`), keeping ``first_bad_seq`` for existing clients."""
    authorize(principal, Action.AUDIT_READ)
    return deps.store.audit.verify(_signer(deps)).as_dict()


def _signer(deps: Deps) -> Any:
    from optiloop.audit.sealing import signer_for

    return signer_for(deps)
