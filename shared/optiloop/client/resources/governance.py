"""Governance: approval requests and decisions (four eyes), and policies-as-code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import Cursor, build


class Approvals(Resource[J, S, N, It]):
    def create(self, entity_type: str, entity_id: str, comment: str = "") -> J:
        """Ask for approval of an entity (`prompt_version`, `model_version`)."""
        body = {"entity_type": entity_type, "entity_id": entity_id, "comment": comment}
        return self._call.json(build("approvals.create", json=body))

    def list(
        self,
        *,
        status: str | None = None,
        project_id: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> J:
        """One page of the inbox, newest first; `status`: pending, approved or rejected."""
        params = {"status": status, "project_id": project_id, "after": after, "limit": limit}
        return self._call.json(build("approvals.list", params=params))

    def iter(self, *, status: str | None = None, project_id: str | None = None, page_size: int = 100) -> It:
        """Every request of the inbox, page after page as it is consumed."""
        params = {"status": status, "project_id": project_id, "limit": page_size}
        return self._call.pages(
            build("approvals.iter", params=params), Cursor(follow=(("next_after", "after"),))
        )

    def get(self, approval_id: str) -> J:
        return self._call.json(build("approvals.get", {"approval_id": approval_id}))

    def decide(self, approval_id: str, decision: Literal["approve", "reject"], comment: str = "") -> J:
        body = {"decision": decision, "comment": comment}
        return self._call.json(build("approvals.decide", {"approval_id": approval_id}, json=body))


class Policies(Resource[J, S, N, It]):
    """Governance policies at /v1/policies; the `legacy_*` methods call the deprecated
    /v1/projects/{id}/policies routes and exist only so that code written against them keeps working."""

    def put(self, project_id: str, policy: Mapping[str, Any]) -> J:
        """Create or replace (by `name`) a policy of a project."""
        body = {**dict(policy), "project_id": project_id}
        return self._call.json(build("policies.put", json=body))

    def list(
        self, project_id: str, *, scope: str | None = None, after: str | None = None, limit: int | None = None
    ) -> J:
        """One page of the project's policies, oldest first; `after`: the previous page's `next_after`."""
        params = {"project_id": project_id, "scope": scope, "after": after, "limit": limit}
        return self._call.json(build("policies.list", params=params))

    def iter(self, project_id: str, *, scope: str | None = None, page_size: int = 100) -> It:
        """Every policy of the project, page after page as it is consumed."""
        params = {"project_id": project_id, "scope": scope, "limit": page_size}
        return self._call.pages(
            build("policies.iter", params=params), Cursor(follow=(("next_after", "after"),))
        )

    def delete(self, project_id: str, name: str) -> N:
        return self._call.empty(build("policies.delete", {"name": name}, params={"project_id": project_id}))

    def legacy_put(self, project_id: str, name: str, policy: Mapping[str, Any]) -> J:
        """Deprecated: use `put`."""
        req = build("policies.legacy_put", {"project_id": project_id, "name": name}, json=dict(policy))
        return self._call.json(req)

    def legacy_create(self, project_id: str, policy: Mapping[str, Any]) -> J:
        """Deprecated: use `put`."""
        return self._call.json(build("policies.legacy_create", {"project_id": project_id}, json=dict(policy)))

    def legacy_list(self, project_id: str) -> J:
        """Deprecated: use `list`."""
        return self._call.json(build("policies.legacy_list", {"project_id": project_id}))

    def legacy_delete(self, project_id: str, name: str) -> N:
        """Deprecated: use `delete`."""
        return self._call.empty(build("policies.legacy_delete", {"project_id": project_id, "name": name}))

    def train(self, project_id: str, **body: Any) -> J:
        """Train the project's learned suggestion policy (the failure surrogate) as an experiment
        workflow; returns the execution (poll it with `workflows.get`). Body fields: min_runs,
        promote, approval, min_auc, hyperparameters, poll_seconds."""
        return self._call.json(build("policies.train", {"project_id": project_id}, json=body))
