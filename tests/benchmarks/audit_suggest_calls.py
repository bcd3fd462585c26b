"""DynamoDB calls of one warm suggest and one warm ingest under moto (the audit redesign must not add any).

Each botocore call is recorded by operation; for TransactWriteItems the number of items is kept too.
Run it on two checkouts to compare (PYTHONPATH=<checkout>/shared), e.g. before and after a change to
the store: the counts are deterministic for a given code version.

usage: python tests/benchmarks/audit_suggest_calls.py
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

TOKEN = "bench-admin-token-0123456789"
SPACE = {
    "params": {
        "payload_kb": {"type": "integer", "min": 1, "max": 1024},
        "region": {"type": "string", "enum": ["eu", "us", "ap"]},
    }
}


class Calls:
    """Records botocore operations (any thread)."""

    def __enter__(self) -> Calls:
        import botocore.client

        self._cls, self._real = botocore.client.BaseClient, botocore.client.BaseClient._make_api_call
        real, me = self._real, self
        self.ops: list[tuple[str, int]] = []

        def spy(client: Any, op: str, params: dict[str, Any]) -> Any:
            me.ops.append((op, len(params.get("TransactItems", ())) or len(params.get("RequestItems", ()))))
            return real(client, op, params)

        self._cls._make_api_call = spy
        return self

    def __exit__(self, *exc: object) -> None:
        self._cls._make_api_call = self._real


def main() -> dict[str, Any]:
    import tempfile

    from fastapi.testclient import TestClient

    from optiloop.api.app import create_app
    from optiloop.config import Settings
    from optiloop.deps import Deps
    from optiloop.store.dynamodb import DynamoStore
    from optiloop.store.dynamodb.store import dynamodb_client
    from optiloop.store.dynamodb.testing import create_table, mocked_aws
    from optiloop.store.local_blobs import LocalBlobStore

    out: dict[str, Any] = {}
    with mocked_aws(), tempfile.TemporaryDirectory() as tmp:
        client = dynamodb_client("us-east-1")
        create_table(client, "calls")
        deps = Deps(store=DynamoStore("calls", client=client), blobs=LocalBlobStore(tmp))
        settings = Settings(backend="memory", admin_token=TOKEN)
        with TestClient(create_app(deps, settings)) as http:
            h = {"Authorization": f"Bearer {TOKEN}"}
            pid = http.post("/v1/projects", headers=h, json={"name": "calls"}).json()["id"]
            http.post(
                f"/v1/projects/{pid}/constraints",
                headers=h,
                json={"name": "b", "type": "hard", "json_schema": SPACE},
            )
            url = f"/v1/projects/{pid}/tests:suggest"
            first = http.post(url, headers=h, json={"batch_size": 10, "seed": 1})
            assert first.status_code == 200, first.text
            for name, body in (("suggest", {"batch_size": 10, "seed": 2}),):
                with Calls() as c:
                    r = http.post(url, headers=h, json=body)
                assert r.status_code == 200, r.text
                out[name] = {"calls": len(c.ops), "by_op": dict(Counter(op for op, _ in c.ops))}
            tests = r.json()["tests"]
            runs = [{"test_id": t["id"], "status": "pass"} for t in tests[:5]]
            with Calls() as c:
                r = http.post(f"/v1/projects/{pid}/runs:ingest", headers=h, json={"runs": runs})
            assert r.status_code == 200, r.text
            out["ingest"] = {"calls": len(c.ops), "by_op": dict(Counter(op for op, _ in c.ops))}
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
