"""One call for a use case to record what a principal did (joins the caller's transaction)."""

from __future__ import annotations

from typing import Any

from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.store.records import AuditRecord


def record(
    deps: Deps,
    who: Principal,
    action: str,
    project_id: str | None,
    target: str | None,
    details: dict[str, Any],
) -> AuditRecord:
    return deps.store.audit.append(
        principal=who.name,
        action=action,
        project_id=project_id,
        target=target,
        details={**details, "key_id": who.key_id},
    )
