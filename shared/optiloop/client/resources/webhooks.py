"""Webhooks: subscriptions to a project's events, their delivery log, and ping."""

from __future__ import annotations

from collections.abc import Sequence

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import Cursor, build, fields


class Webhooks(Resource[J, S, N, It]):
    def create(
        self,
        project_id: str,
        url: str,
        events: Sequence[str],
        *,
        description: str | None = None,
        plateau_runs: int | None = None,
        accuracy_threshold: float | None = None,
    ) -> J:
        """Subscribe `url` to event types; the answer's `secret` (for verifying signatures) is shown
        this once."""
        body = fields(
            url=url,
            events=list(events),
            description=description,
            plateau_runs=plateau_runs,
            accuracy_threshold=accuracy_threshold,
        )
        return self._call.json(build("webhooks.create", {"project_id": project_id}, json=body))

    def list(self, project_id: str, *, after: str | None = None, limit: int | None = None) -> J:
        params = {"after": after, "limit": limit}
        return self._call.json(build("webhooks.list", {"project_id": project_id}, params=params))

    def get(self, webhook_id: str) -> J:
        return self._call.json(build("webhooks.get", {"webhook_id": webhook_id}))

    def delete(self, webhook_id: str) -> N:
        return self._call.empty(build("webhooks.delete", {"webhook_id": webhook_id}))

    def deliveries(self, webhook_id: str, *, after: str | None = None, limit: int | None = None) -> J:
        """The delivery log, newest first."""
        params = {"after": after, "limit": limit}
        return self._call.json(build("webhooks.deliveries", {"webhook_id": webhook_id}, params=params))

    def iter_deliveries(self, webhook_id: str, *, page_size: int = 50) -> It:
        req = build("webhooks.iter_deliveries", {"webhook_id": webhook_id}, params={"limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def ping(self, webhook_id: str) -> J:
        """Send a test event now (one attempt); the answer is its log entry."""
        return self._call.json(build("webhooks.ping", {"webhook_id": webhook_id}))
