"""One populated store for the migration tests, written through the real ports, and a snapshot of
everything in it that a round trip down and up must give back.

Audit records are compared by content (id, time, who, what, project, target, details): a fold of the
shards into one chain keeps every record but gives the shard records new seqs and hashes, by design
(docs/migrations.md)."""

from __future__ import annotations

from typing import Any

from optiloop.audit.chain import canonical_json
from optiloop.models.records import Model, model_doc
from optiloop.prompts.records import Deployment, deployment_doc
from optiloop.store.ports import Store
from optiloop.store.records import ApiKey, Constraint, Doc, Project, Run, TestCase

PROJECTS = ("p1", "p2", "p#3")  # one id a key escape must survive
T0 = "2025-01-01T00:00:00.000Z"
LISTED = ("model", "deployment")  # store version 4 lists them by creation, version 3 by name


def _day(n: int) -> str:
    return f"2025-01-0{n}T00:00:00.000Z"


def populate(store: Store) -> None:
    for pid in PROJECTS:
        store.projects.add(Project(pid, f"name {pid}", "desc", T0, "alice", budget_cents=100.0))
        store.constraints.add(
            Constraint(f"{pid}_c1", pid, "latency", "hard", 1.0, {"max": 5}, 1, T0, "alice")
        )
        store.constraints.add(Constraint(f"{pid}_c2", pid, "latency", "hard", 2.0, {"max": 4}, 2, T0, "bob"))
        tests = [
            TestCase(f"{pid}_t{i}", pid, i, {"x": i, "y": [i, 0.5]}, 0.25 * i, "random", "uniform", "s1", 1.5,
                     T0, "v1")
            for i in range(1, 5)
        ]  # fmt: skip
        store.tests.add_many(tests)
        store.runs.add_many(
            [
                Run(
                    t.id,
                    pid,
                    i,
                    "fail" if i == 2 else "pass",
                    10.0 * i,
                    0.5,
                    3 if i == 2 else 0,
                    ("b1", f"b{i}"),
                    1,
                    T0,
                    f"fp{i}",
                )
                for i, t in enumerate(tests[:3], start=1)
            ]
        )
        store.keys.add(ApiKey(f"k_{pid}", f"hash_{pid}", "ci", "contributor", pid, T0, "alice"))
        store.docs.create(Doc("prompt", f"{pid}_pr1", pid, "0001", {"text": "héllo", "n": 1}))
        store.docs.create(Doc("prompt", f"{pid}_pr2", pid, "0002", {"text": "bye", "vars": ["a"]}))
        for n, name in enumerate(("zeta", "alpha"), start=1):  # creation order is not name order
            store.docs.create(model_doc(Model(f"{pid}_m{n}", pid, name, "", _day(n), "alice")))
            move = {"version_id": "pv1", "version": 1, "at": _day(n), "by": "alice", "action": "deploy"}
            dep = Deployment(
                f"{pid}_pr{n}", name, pid, "dev", "pv1", 1, {}, _day(n + 2), "bob", [move], _day(n)
            )
            store.docs.create(deployment_doc(dep))
        for i in range(3):
            store.audit.append(principal="alice", action="test.suggest", project_id=pid, target=f"t{i}",
                               details={"n": i, "pid": pid})  # fmt: skip
    store.keys.add(ApiKey("k_admin", "hash_admin", "root", "admin", None, T0, "bootstrap"))
    store.audit.append(principal="root", action="key.create", project_id=None, target="k_admin", details={})
    store.audit.append(principal="alice", action="run.ingest", project_id="p1", target=None, details={"n": 9})


def audit_content(records: Any) -> list[tuple[Any, ...]]:
    """What a fold must keep of each record, in a stable order."""
    return sorted(
        (r.id, r.at, r.principal, r.action, r.project_id, r.target, canonical_json(r.details))
        for r in records
    )


def snapshot(store: Store) -> dict[str, Any]:
    out: dict[str, Any] = {"projects": store.projects.list(limit=1000)}
    for pid in PROJECTS:
        out[f"constraints {pid}"] = store.constraints.history(pid, "latency")
        out[f"tests {pid}"] = store.tests.list_since(pid)
        out[f"runs {pid}"] = store.runs.list_since(pid)
        out[f"totals {pid}"] = store.runs.totals(pid)
        out[f"docs {pid}"] = store.docs.list("prompt", pid)
        for kind in LISTED:  # what is stored; each version's order is checked on its own
            out[f"{kind} {pid}"] = sorted((d.id, d.scope, d.data, d.rev) for d in store.docs.list(kind, pid))
        out[f"audit {pid}"] = audit_content(store.audit.list(project_id=pid, limit=1000))
    out["keys"] = sorted(store.keys.list(), key=lambda k: k.id)
    out["audit"] = audit_content(store.audit.list(limit=1000))
    return out
