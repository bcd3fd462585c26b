"""Decision latency: `serve.decide` in process and `POST /v1/decisions` over the app (TestClient, ASGI
in process, with auth and validation), p50/p95, for a Bandit (Thompson) and a Contextual (lin_ts,
20 features, 10 variants) experiment on the embedded SQLite store.

    .venv/bin/python tests/benchmarks/decisions_latency.py [n]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.decisions import serve
from optiloop.deps import Deps
from optiloop.store.factory import open_memory

TOKEN = "bench-admin-token-0123456789"


def pct(xs: list[float]) -> str:
    a = np.array(xs) * 1000
    return f"p50 {np.percentile(a, 50):.3f} ms  p95 {np.percentile(a, 95):.3f} ms"


def main(n: int = 2000) -> None:
    store, blobs = open_memory()
    deps = Deps(store=store, blobs=blobs)
    client = TestClient(create_app(deps, Settings(backend="memory", admin_token=TOKEN)))
    h = {"Authorization": f"Bearer {TOKEN}"}
    pid = client.post("/v1/projects", headers=h, json={"name": "bench", "description": "d"}).json()["id"]
    numeric = [f"f{i}" for i in range(20)]
    cases: dict[str, dict[str, Any]] = {
        "Bandit/thompson, 5 variants": {"type": "Bandit", "variants": [{"id": f"v{i}"} for i in range(5)]},
        "Contextual/lin_ts, 10 variants, 20 features": {
            "type": "Contextual", "algorithm": "lin_ts", "variants": [{"id": f"v{i}"} for i in range(10)],
            "context": {"numeric": numeric, "dimension": 24},
        },
    }  # fmt: skip
    from optiloop.auth.principal import Principal

    who = Principal(name="bench", role="admin", project_id=None, key_id="k")
    rng = np.random.default_rng(0)
    for label, body in cases.items():
        exp = client.post(
            "/v1/experiments", headers=h, json={"project_id": pid, "name": label, **body}
        ).json()
        client.post(f"/v1/experiments/{exp['id']}/start", headers=h)
        ctx = (
            {f: float(v) for f, v in zip(numeric, rng.normal(size=20), strict=True)}
            if "context" in body
            else None
        )
        for i in range(200):  # some learning state, and warm caches
            d = serve.decide(deps, who, exp["id"], f"w{i}", ctx)
            serve.feedback(deps, who, d["decision_id"], float(rng.random()), None)
        inproc, http = [], []
        for i in range(n):
            t = time.perf_counter()
            serve.decide(deps, who, exp["id"], f"u{i}", ctx)
            inproc.append(time.perf_counter() - t)
        payload = {"experiment_id": exp["id"], "unit_id": "u", "context": ctx}
        for i in range(n):
            t = time.perf_counter()
            r = client.post("/v1/decisions", headers=h, json={**payload, "unit_id": f"h{i}"})
            http.append(time.perf_counter() - t)
            assert r.status_code == 201, r.text
        print(f"{label}\n  in process : {pct(inproc)}\n  over HTTP  : {pct(http)}")
    store.audit.flush_events()
    store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
