"""Store version 4: models, prompts and prompt deployments list in creation order (docs/migrations.md).

Every listing of the API pages in creation order with one cursor (docs/api-versioning.md,
"Listings"), and a document's place in its listing is its `sort`. Three kinds were sorted otherwise:
models by name, prompt deployments by prompt name and environment, and prompts by name until the
release before this step (which already wrote `created_at#id` for new prompts but left the old ones).
The SQLite and DynamoDB adapters run this step with these two rules, so both stores agree.

Frozen with the step, like any migration: the rules read the documents' data as those releases
wrote it, not through the current record classes. A rule answers None for a document it leaves
alone (already in that order, or not a record this step knows how to place), so each direction is
idempotent and may be resumed.
"""

from __future__ import annotations

from typing import Any

KINDS: tuple[str, ...] = ("model", "prompt", "deployment")

Placed = tuple[str, dict[str, Any]]  # (sort, data)


def _first_deployed(data: dict[str, Any]) -> str | None:
    """A prompt deployment's creation time: `created_at`, else its oldest kept move, else its last."""
    if data.get("created_at"):
        return str(data["created_at"])
    for move in data.get("history") or []:
        if isinstance(move, dict) and move.get("at"):
            return str(move["at"])
    return str(data["deployed_at"]) if data.get("deployed_at") else None


def up(kind: str, doc_id: str, sort: str, data: dict[str, Any]) -> Placed | None:
    """Version 4's sort for the document (and its data: a deployment records its `created_at`)."""
    if kind in ("model", "prompt"):
        created = data.get("created_at")
        new = f"{created}#{doc_id}" if created else None
        return (new, data) if new is not None and new != sort else None
    if kind == "deployment":
        first = _first_deployed(data)
        if first is None:
            return None
        placed = (f"{first}#{doc_id}", {**data, "created_at": first})
        return placed if placed != (sort, data) else None
    return None


def down(kind: str, doc_id: str, sort: str, data: dict[str, Any]) -> Placed | None:
    """Version 3's sort: models by name, prompt deployments by prompt name and environment. Prompts
    stay in creation order (version 3's code wrote them so), and a deployment keeps `created_at` in
    its data (version 3 ignores it; going up again reads it back)."""
    if kind == "model" and data.get("name"):
        new = str(data["name"])
    elif kind == "deployment" and data.get("prompt_name") and data.get("environment"):
        new = f"{data['prompt_name']}#{data['environment']}"
    else:
        return None
    return (new, data) if new != sort else None
