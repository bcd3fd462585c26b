"""The strategies tests' harness: a project on an in-memory store, driven through the real use cases,
with fake outcomes. A module of its own (not conftest) so test modules can import it by name: this
folder is on sys.path in pytest's rootdir import mode, and `conftest` names a different module
depending on which folder's conftest was imported last."""

from __future__ import annotations

import hashlib

from optiloop.testopt.sut.driver import LocalLoop


class Loop(LocalLoop):
    def __init__(self, schema: dict, soft: list[str] | None = None) -> None:
        super().__init__(schema, name="p", soft=soft or ())

    def ingest(self, tests: list[dict]) -> dict:  # type: ignore[override]
        """Fake outcomes: buckets from coarse hashes of the params, a failure in one corner."""
        outcomes = []
        for t in tests:
            items = sorted(t["params"].items())
            buckets = [
                int(hashlib.sha256(repr((k, str(v)[:3])).encode()).hexdigest()[:8], 16) for k, v in items
            ]
            fail = any(isinstance(v, int | float) and not isinstance(v, bool) and v == 1 for _, v in items)
            outcomes.append(
                {
                    "status": "fail" if fail else "pass",
                    "duration_ms": 5,
                    "cost_cents": 1,
                    "failure_severity": 3 if fail else 0,
                    "coverage_delta": {"buckets_hit": buckets},
                }
            )
        return super().ingest([t["id"] for t in tests], outcomes)
