"""Lineage: which entity was made from which, walked in both directions.

Every capability records an edge when it creates something from something else (a training job
from a dataset, a model version from a training job, a deployment from a version, a monitor on a
deployment) by calling `link`. Edges are documents written in the caller's transaction, so an
entity and its lineage land together or not at all. Each edge is stored twice — under its source
(kind `lineage_out`) and under its target (`lineage_in`) — so both directions are one listing.

    dataset -> training_job -> model_version -> deployment -> monitor
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from optiloop.deps import Deps
from optiloop.store.records import Doc

ENTITY_TYPES: tuple[str, ...] = (
    "dataset",
    "project_runs",
    "training_job",
    "model",
    "model_version",
    "deployment",
    "monitor",
    "experiment",
    "trial",
)
MAX_NODES = 500  # a walk stops here and says it was truncated


@dataclass(frozen=True)
class Edge:
    from_type: str
    from_id: str
    to_type: str
    to_id: str
    relation: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": {"type": self.from_type, "id": self.from_id},
            "to": {"type": self.to_type, "id": self.to_id},
            "relation": self.relation,
            "created_at": self.created_at,
        }


def node_key(entity_type: str, entity_id: str) -> str:
    return f"{entity_type}:{entity_id}"


def link(
    deps: Deps,
    from_type: str,
    from_id: str,
    to_type: str,
    to_id: str,
    relation: str,
    *,
    project_id: str | None = None,
) -> Edge:
    """Record `from` -> `to` (idempotent: the same edge twice is one edge)."""
    for t in (from_type, to_type):
        if t not in ENTITY_TYPES:
            raise ValueError(f"unknown lineage entity type {t!r}")
    edge = Edge(from_type, from_id, to_type, to_id, relation, deps.clock())
    data = {
        "from_type": from_type,
        "from_id": from_id,
        "to_type": to_type,
        "to_id": to_id,
        "relation": relation,
        "created_at": edge.created_at,
        "project_id": project_id,
    }
    src, dst = node_key(from_type, from_id), node_key(to_type, to_id)
    edge_id = f"{src}>{dst}"
    docs = deps.store.docs
    if docs.get("lineage_out", edge_id) is not None:
        return edge
    with deps.store.transaction():
        docs.create(Doc(kind="lineage_out", id=edge_id, scope=src, sort=dst, data=data))
        docs.create(Doc(kind="lineage_in", id=edge_id, scope=dst, sort=src, data=data))
    return edge


def project_of(deps: Deps, entity_type: str, entity_id: str) -> str | None:
    """The project an entity belongs to, for authorising a walk: its own document's `project_id`
    (every lineage entity is stored as a doc of its type's kind), else the project its edges were
    recorded under; None when nothing is known about it (the caller answers 404)."""
    if entity_type == "project_runs":
        return entity_id if deps.store.projects.get(entity_id) is not None else None
    doc = deps.store.docs.get(entity_type, entity_id)
    if doc is not None and isinstance(doc.data.get("project_id"), str):
        return str(doc.data["project_id"])
    node = node_key(entity_type, entity_id)
    for kind in ("lineage_out", "lineage_in"):
        page = deps.store.docs.list(kind, node, limit=1)
        if page and isinstance(page[0].data.get("project_id"), str):
            return str(page[0].data["project_id"])
    return None


def _edges(deps: Deps, kind: str, node: str) -> list[Edge]:
    out: list[Edge] = []
    after: str | None = None
    while True:
        page = deps.store.docs.list(kind, node, after=after, limit=100)
        for d in page:
            x = d.data
            out.append(
                Edge(x["from_type"], x["from_id"], x["to_type"], x["to_id"], x["relation"], x["created_at"])
            )
        if len(page) < 100:
            return out
        after = page[-1].sort


def walk(deps: Deps, entity_type: str, entity_id: str, *, depth: int = 10) -> dict[str, Any]:
    """The lineage graph around one entity: everything upstream and downstream, up to `depth` hops.

    Two breadth-first passes from the root, one against the edges (upstream: what it was made from)
    and one along them (downstream: what was made from it), so siblings (another version of the same
    training job) are not pulled in. A node reached by a pass belongs to that pass's list; past
    MAX_NODES the walk stops adding nodes, says `truncated`, and lists no edge to a node it left out."""
    start = node_key(entity_type, entity_id)
    nodes: dict[str, dict[str, str]] = {start: {"type": entity_type, "id": entity_id}}
    edges: dict[tuple[str, str], Edge] = {}
    found: dict[bool, list[str]] = {False: [], True: []}
    truncated = False
    for kind, forward in (("lineage_in", False), ("lineage_out", True)):
        queue: deque[tuple[str, int]] = deque([(start, 0)])
        seen = {start}
        while queue:
            node, d = queue.popleft()
            if d >= depth:
                truncated = truncated or bool(_edges(deps, kind, node))
                continue
            for e in _edges(deps, kind, node):
                nxt_type, nxt_id = (e.to_type, e.to_id) if forward else (e.from_type, e.from_id)
                nxt = node_key(nxt_type, nxt_id)
                if nxt not in nodes:
                    if len(nodes) >= MAX_NODES:
                        truncated = True
                        continue
                    nodes[nxt] = {"type": nxt_type, "id": nxt_id}
                edges[(node_key(e.from_type, e.from_id), node_key(e.to_type, e.to_id))] = e
                if nxt in seen:
                    continue
                seen.add(nxt)
                found[forward].append(nxt)
                queue.append((nxt, d + 1))
    return {
        "root": {"type": entity_type, "id": entity_id},
        "nodes": list(nodes.values()),
        "edges": [e.as_dict() for e in edges.values()],
        "upstream": [nodes[n] for n in found[False]],
        "downstream": [nodes[n] for n in found[True]],
        "depth": depth,
        "truncated": truncated,
    }
