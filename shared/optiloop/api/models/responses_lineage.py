"""What the lineage graph answers (issue 12). Extra fields stay allowed (`ResponseModel`): minor
versions add fields, and a client must ignore the ones it does not know."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class LineageOut(ResponseModel):
    project_id: str = Field(description="The project the entity belongs to.")
    root: dict[str, str] = Field(description="The entity asked about: `type` and `id`.")
    nodes: list[dict[str, str]] = Field(
        description="Every entity in the graph, the root included: `type` and `id`."
    )
    edges: list[dict[str, Any]] = Field(
        description="How they are linked: `from` and `to` (`type`, `id`), the `relation` and `created_at`."
    )
    upstream: list[dict[str, str]] = Field(description="What the root came from, nearest first.")
    downstream: list[dict[str, str]] = Field(description="What came of the root, nearest first.")
    depth: int = Field(description="The hops walked each way.")
    truncated: bool = Field(description="Whether the walk stopped at its node cap before `depth`.")
