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
    if project_id is None and after_seq > 0:
        items, next_after = _tenant_after_seq(deps, action, after_seq, limit, after)
        full = False
    else:
        items = deps.store.audit.list(
            project_id=project_id, action=action, after_seq=after_seq, limit=limit, after=after
        )
        full = len(items) == limit and bool(items)
        next_after = (
            encode_cursor(ord_of(items[-1].shard, items[-1].seq, items[-1].at))
            if full and project_id is None
            else None
        )
    out: dict[str, Any] = {
        "items": [asdict(r) for r in items],
        "next_after_seq": items[-1].seq if full and project_id is not None else None,
        "next_after": next_after,
    }
    if verify:
        out["chain_ok"] = deps.store.audit.verify(_signer(deps)).ok
    return out


SCAN_PAGES = 20  # a tenant-wide after_seq filter reads at most this many pages per request


def _tenant_after_seq(
    deps: Deps, action: str | None, after_seq: int, limit: int, after: str | None
) -> tuple[list[Any], str | None]:
    """Tenant-wide with `after_seq`: the records whose seq (within their shard) is past it, in the
    tenant-wide order, and the cursor to go on from (None at the end). Bounded: a page ends after
    SCAN_PAGES pages of reading even if it holds fewer than `limit` records."""
    out: list[Any] = []
    cursor = after
    for _ in range(SCAN_PAGES):
        page = deps.store.audit.list(action=action, limit=limit, after=cursor)
        for r in page:
            if r.seq > after_seq:
                out.append(r)
                if len(out) == limit:
                    return out, encode_cursor(ord_of(r.shard, r.seq, r.at))
        if len(page) < limit:
            return out, None
        cursor = encode_cursor(ord_of(page[-1].shard, page[-1].seq, page[-1].at))
    return out, cursor


def verify_audit(deps: Deps, principal: Principal) -> dict[str, Any]:
    """Every shard chain, every shard head and the digest chain; names the first thing that does not
    match (`problem`), keeping ``first_bad_seq`` for existing clients."""
    authorize(principal, Action.AUDIT_READ)
    result: dict[str, Any] = deps.store.audit.verify(_signer(deps)).as_dict()
    return result


def _signer(deps: Deps) -> Any:
    from optiloop.audit.sealing import signer_for

    return signer_for(deps)
