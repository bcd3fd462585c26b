"""Exact-match response cache: the same rendered prompt, model and decoding get the same answer.

Keyed per project (projects are the isolation boundary; one project's cached outputs are never
served to another) by a hash of everything that shapes the answer: the rendered prompt, the model
the router would call first, the decoding parameters and the output schema. Entries expire through
the document store's `expires_at` (DynamoDB's TTL deletes them later; reads ignore them at once).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Any

from optiloop.deps import Deps
from optiloop.errors import Conflict
from optiloop.store.records import Doc

DEFAULT_TTL_S = 3600
MAX_TTL_S = 30 * 24 * 3600
PURGE_PAGE = 200


def cache_key(project_id: str, prompt: str, model: str, decoding: dict[str, Any], schema: Any) -> str:
    canon = json.dumps(
        {"project": project_id, "prompt": prompt, "model": model, "decoding": decoding, "schema": schema},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canon.encode()).hexdigest()


def lookup(deps: Deps, key: str) -> dict[str, Any] | None:
    doc = deps.store.docs.get("cache", key)
    return None if doc is None else doc.data


def store(deps: Deps, project_id: str, key: str, entry: dict[str, Any], ttl_s: int) -> None:
    """Last writer wins: two requests that missed at once computed equally valid answers."""
    doc = Doc(
        kind="cache",
        id=key,
        scope=project_id,
        sort=key,
        data=entry,
        expires_at=float(math.ceil(time.time() + ttl_s)),
    )
    current = deps.store.docs.get("cache", key)
    try:
        if current is None:
            deps.store.docs.create(doc)
        else:
            deps.store.docs.replace(doc, current.rev)
    except Conflict:  # another request stored its answer in between: keep that one
        pass


def purge(deps: Deps, project_id: str, prompt_version_id: str | None = None) -> int:
    """Drop a project's entries, or only those produced by one prompt version."""
    if prompt_version_id is None:
        return deps.store.docs.delete_scope("cache", project_id)
    removed = 0
    after: str | None = None
    while True:
        page = deps.store.docs.list("cache", project_id, after=after, limit=PURGE_PAGE)
        for doc in page:
            if doc.data.get("prompt_version_id") == prompt_version_id:
                removed += deps.store.docs.delete("cache", doc.id)
        if len(page) < PURGE_PAGE:
            return removed
        after = page[-1].sort
