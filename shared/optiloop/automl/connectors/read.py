"""One read from a connector: a file (folder, S3) as (name, bytes), or a query's raw columns (SQL).

The connector is loaded with `model.write` on its project (ingesting is writing a dataset), and its
secret resolved here only, immediately before the read; a secret that is gone is a 409 naming the
connector, not a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from optiloop.automl.connectors import folder, s3, sql
from optiloop.automl.connectors.limits import Bounds
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput
from optiloop.secrets import secrets_of
from optiloop.secrets.port import SecretMissing


@dataclass(frozen=True)
class Fetched:
    """What a read produced: a file to parse, or columns already split (SQL)."""

    filename: str | None = None
    data: bytes | None = None
    columns: dict[str, list[Any]] | None = None


def _secret(deps: Deps, connector: dict[str, Any]) -> dict[str, str] | None:
    creds = connector.get("credentials")
    if not creds:
        return None
    try:
        return secrets_of(deps).get(str(creds["ref"]))
    except SecretMissing as e:
        raise Conflict(
            f"connector '{connector['id']}' cannot read its credentials: {e}",
            details=[{"field": "connector_id", "reason": "its secret is missing; recreate the connector"}],
        ) from None


def fetch(deps: Deps, connector: dict[str, Any], source: dict[str, Any], bounds: Bounds) -> Fetched:
    """`source`: `path` (folder, S3) or `query` / `table` (SQL), checked against the connector's kind."""
    kind = connector["kind"]
    config = connector["config"]
    if kind in ("folder", "s3"):
        if "query" in source or "table" in source:
            raise InvalidInput(FieldProblem("query", f"{kind} connectors read a file: send `path`"))
        path = source.get("path")
        if not isinstance(path, str) or not path:
            raise InvalidInput(FieldProblem("path", f"is required for {kind} connectors"))
        if kind == "folder":
            name, data = folder.read(config.get("path", ""), path, bounds)
        else:
            client = s3.client(config, _secret(deps, connector), bounds.timeout_s, connector["project_id"])
            name, data = s3.read(client, config, path, bounds)
        return Fetched(filename=name, data=data)
    if "path" in source:
        raise InvalidInput(FieldProblem("path", "SQL connectors run a query: send `query` or `table`"))
    secret = _secret(deps, connector) or {}
    password = secret.get("password")
    if "table" in source and "query" in source:
        raise InvalidInput(FieldProblem("table", "send `query` or `table`, not both"))
    if isinstance(source.get("table"), str):
        url = sql.parse_url(config["url"])
        query = sql.table_query(url, source["table"])
        return Fetched(columns=sql.read(config["url"], password, query, bounds, field="table"))
    text = source.get("query")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(FieldProblem("query", "is required for SQL connectors (or `table`)"))
    return Fetched(columns=sql.read(config["url"], password, text, bounds))
