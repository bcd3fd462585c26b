"""A project driven through the platform's use cases in process, without HTTP.

The demo, the in-process benchmarks and the strategy tests all need "a project with this space,
then suggest and ingest in a loop"; they share this driver so they exercise exactly the code the
HTTP handlers call (validation, satisfiability check, audit records included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optiloop.auth.principal import OPERATOR, Principal
from optiloop.deps import Deps
from optiloop.projects import create_project
from optiloop.store.factory import open_memory
from optiloop.testopt.constraints import add_constraint
from optiloop.testopt.ingest import RunReport, ingest_runs
from optiloop.testopt.suggest import SuggestRequest, suggest


class LocalLoop:
    def __init__(
        self,
        schema: dict[str, Any],
        name: str = "local",
        deps: Deps | None = None,
        soft: Sequence[str] = (),
        soft_weight: float = 2.0,
        principal: Principal = OPERATOR,
    ) -> None:
        if deps is None:
            store, blobs = open_memory()
            deps = Deps(store=store, blobs=blobs)
        self.deps, self.principal = deps, principal
        self.project_id = create_project(deps, principal, name).id
        add_constraint(
            deps, principal, self.project_id, name="space", type="hard", weight=None, json_schema=schema
        )
        if soft:
            add_constraint(
                deps,
                principal,
                self.project_id,
                name="preferences",
                type="soft",
                weight=soft_weight,
                json_schema={"relations": list(soft)},
            )

    def suggest(self, **request: Any) -> dict[str, Any]:
        """One tests:suggest call; keyword arguments are SuggestRequest fields."""
        return suggest(self.deps, self.project_id, SuggestRequest(**request), self.principal.name)

    def ingest(self, test_ids: Sequence[str], outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """One runs:ingest call; outcomes in the API's run format, without test_id."""
        reports = [RunReport.from_outcome(t, o) for t, o in zip(test_ids, outcomes, strict=True)]
        return ingest_runs(self.deps, self.principal, self.project_id, reports)
