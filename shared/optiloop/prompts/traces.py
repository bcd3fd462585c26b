"""Traces: one record per generate call, for debugging, cost accounting and audits of model use.

What a trace keeps has been through PII redaction (variables, rendered prompt and output), so the
trace store never becomes a second copy of personal data. Traces expire after `RETENTION_S`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.store.records import Doc

RETENTION_S = 30 * 24 * 3600


def save(deps: Deps, trace: dict[str, Any]) -> None:
    deps.store.docs.create(
        Doc(
            kind="trace",
            id=trace["id"],
            scope=trace["project_id"],
            sort=f"{trace['at']}#{trace['id']}",
            data=trace,
            expires_at=float(math.ceil(time.time() + RETENTION_S)),  # whole seconds, as TTL documents
        )
    )


def get_trace(deps: Deps, who: Principal, trace_id: str) -> dict[str, Any]:
    doc = deps.store.docs.require(
        "trace", trace_id, field="trace_id", what="trace", reason="no such trace (or expired)"
    )
    authorize(who, Action.TRACE_READ, doc.data["project_id"])
    return doc.data


def list_traces(
    deps: Deps, project_id: str, limit: int = 100, before: str | None = None
) -> list[dict[str, Any]]:
    """Newest first; `before` is the `sort` of the last trace seen."""
    docs = deps.store.docs.list("trace", project_id, after=before, limit=limit, descending=True)
    return [{**d.data, "cursor": d.sort} for d in docs]
