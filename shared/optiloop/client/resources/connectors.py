"""Connectors (`/v1/connectors`): where tables are read from besides an upload. Credentials go in on
create and never come back; `client.tables.ingest_from(...)` reads through a connector."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import build, fields


class Connectors(Resource[J, S, N, It]):
    def create(
        self,
        project_id: str,
        name: str,
        kind: str,
        *,
        description: str | None = None,
        credentials: Mapping[str, str] | None = None,
        secret_ref: str | None = None,
        **config: Any,
    ) -> J:
        """`kind` folder (`path=`), s3 (`bucket=`, `prefix=`, `role_arn=`, `region=`) or sql (`url=`);
        `credentials` (sql: password; s3: access keys) are stored as a secret, never returned."""
        body = fields(
            project_id=project_id,
            name=name,
            kind=kind,
            description=description,
            credentials=dict(credentials) if credentials is not None else None,
            secret_ref=secret_ref,
            **config,
        )
        return self._call.json(build("connectors.create", json=body))

    def list(self, project_id: str, *, after: str | None = None, limit: int | None = None) -> J:
        params = {"project_id": project_id, "after": after, "limit": limit}
        return self._call.json(build("connectors.list", params=params))

    def get(self, connector_id: str) -> J:
        return self._call.json(build("connectors.get", {"connector_id": connector_id}))

    def delete(self, connector_id: str) -> N:
        return self._call.empty(build("connectors.delete", {"connector_id": connector_id}))
