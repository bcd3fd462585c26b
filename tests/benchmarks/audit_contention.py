"""Audit-trail contention: how commits/s scale with concurrent writers, driven by the adapter's real calls.

1. **Record.** Under moto, one warm ingest-shaped commit (a run, its counter, its audit record) is
   made through the DynamoDB adapter with botocore spied: which items it reads (GetItem/BatchGetItem)
   and which items its TransactWriteItems guards with a condition on a value read before (the
   contended items: the project's run counter and its audit shard head). Nothing is assumed: the
   simulated writers replay exactly that sequence.
2. **Simulate.** N writers, each in a loop: read the contended items (noting their versions), take
   15 +/- 5 ms until the commit lands, then commit: it succeeds if none of those items changed
   meanwhile, and bumps them; otherwise it re-reads and retries, at most 3 retries, then the request
   is refused (a 409 with Retry-After in the service). Simulated for 20 s of writer time.
   Scenarios: N writers on N projects, and N writers on one project. For comparison, the same
   recorded sequence with the audit head item replaced by the single tenant-wide ``AUDIT#HEAD``
   of the previous design.

usage: python tests/benchmarks/audit_contention.py [--seconds 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
from typing import Any


def record_calls() -> list[tuple[str, list[tuple[str, str]]]]:
    """The adapter's calls for one warm commit: [(operation, [(pk, sk) of conditioned items])]."""
    import botocore.client

    from optiloop.store.dynamodb import DynamoStore
    from optiloop.store.dynamodb.store import dynamodb_client
    from optiloop.store.dynamodb.testing import create_table, mocked_aws
    from optiloop.store.records import Project, Run, TestCase

    calls: list[tuple[str, list[tuple[str, str]]]] = []
    with mocked_aws():
        client = dynamodb_client("us-east-1")
        create_table(client, "sim")
        store = DynamoStore("sim", client=client)
        store.projects.add(Project("p", "p", "", "2026-01-01T00:00:00.000Z", "sim"))
        store.tests.add_many(
            [TestCase(f"t{i}", "p", i, {}, 0.0, "r", "u", "s", 1.0, "2026-01-01", "v") for i in (1, 2)]
        )

        def commit(i: int) -> None:
            with store.transaction():
                store.runs.add_many([Run(f"t{i}", "p", i, "pass", 1.0, 1.0, 0, (), 0, "2026-01-01", "f")])
                store.audit.append(
                    principal="sim", action="runs.ingested", project_id="p", target=None, details={}
                )

        commit(1)  # warm: heads and anchor cached, as in a warm Lambda
        real = botocore.client.BaseClient._make_api_call

        def spy(self: Any, op: str, params: dict[str, Any]) -> Any:
            guarded: list[tuple[str, str]] = []
            for entry in params.get("TransactItems", []):
                ((kind, body),) = entry.items()
                cond = body.get("ConditionExpression", "")
                if kind == "Update" and cond and "attribute_not_exists" not in cond:
                    guarded.append((body["Key"]["pk"]["S"], body["Key"]["sk"]["S"]))
            calls.append((op, guarded))
            return real(self, op, params)

        botocore.client.BaseClient._make_api_call = spy
        try:
            commit(2)
        finally:
            botocore.client.BaseClient._make_api_call = real
    return calls


def contended_items(
    calls: list[tuple[str, list[tuple[str, str]]]], project: str, single_head: bool
) -> list[str]:
    """The recorded guarded items, renamed for `project` (and with the tenant-wide head if asked)."""
    out = []
    for _, guarded in calls:
        for pk, sk in guarded:
            if pk.startswith("AUDIT#S#"):
                out.append("AUDIT#HEAD" if single_head else f"AUDIT#S#p/{project}|{sk}")
            else:
                out.append(pk.replace("#p", f"#{project}", 1) + "|" + sk)
    return out


def simulate(writers: list[list[str]], seconds: float, seed: int, retries: int = 3) -> dict[str, float]:
    """Discrete-event run of optimistic commits; `writers[i]` = the items writer i's commit guards."""
    rng = random.Random(seed)
    version: dict[str, int] = {}
    events: list[tuple[float, int, dict[str, int], int]] = []  # (commit time, writer, versions read, try)

    def start(t: float, w: int, attempt: int) -> None:
        seen = {k: version.get(k, 0) for k in writers[w]}
        heapq.heappush(events, (t + rng.uniform(0.010, 0.020), w, seen, attempt))

    for w in range(len(writers)):
        start(rng.uniform(0, 0.015), w, 0)
    ok = refused = conflicts = 0
    while events:
        t, w, seen, attempt = heapq.heappop(events)
        if t > seconds:
            break
        if all(version.get(k, 0) == v for k, v in seen.items()):
            for k in seen:
                version[k] = version.get(k, 0) + 1
            ok += 1
            start(t, w, 0)
        else:
            conflicts += 1
            if attempt >= retries:
                refused += 1
                start(t, w, 0)  # the next request
            else:
                start(t, w, attempt + 1)
    requests = ok + refused
    return {
        "commits_per_s": round(ok / seconds, 1),
        "refused_pct": round(100 * refused / requests, 1) if requests else 0.0,
        "conflicts": conflicts,
    }


def main() -> dict[str, Any]:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    calls = record_calls()
    report: dict[str, Any] = {
        "recorded": [{"op": op, "guarded": [f"{pk} / {sk}" for pk, sk in g]} for op, g in calls],
        "per_commit_ms": "15 +/- 5",
        "scenarios": {},
    }
    for n in (1, 5, 10, 20):
        row = {
            "N projects (shards)": simulate(
                [contended_items(calls, f"q{i}", False) for i in range(n)], args.seconds, args.seed
            ),
            "one project (shards)": simulate(
                [contended_items(calls, "q0", False) for _ in range(n)], args.seconds, args.seed
            ),
            "N projects (single head, before)": simulate(
                [contended_items(calls, f"q{i}", True) for i in range(n)], args.seconds, args.seed
            ),
        }
        report["scenarios"][n] = row
    one = report["scenarios"][1]["N projects (shards)"]["commits_per_s"]
    twenty = report["scenarios"][20]["N projects (shards)"]["commits_per_s"]
    report["scaling_1_to_20_writers_on_20_projects"] = round(twenty / one, 1)
    return report


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
