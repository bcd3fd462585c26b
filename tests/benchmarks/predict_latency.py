"""Benchmark: local predict over HTTP, batch scoring and the predict Lambda's cold import.

    .venv/bin/python tests/benchmarks/predict_latency.py [--requests 500] [--rows 50000]

* A 200-tree gradient-boosted model (XGBoost, depth 6, 20 features; exported with
  training_jobs/_lib/trees_export.export_booster to optiloop.trees/1) is registered straight into
  the store and deployed through POST /v1/deployments on a real uvicorn server (`optiloop serve`'s
  app, one worker); one instance per request over a kept-alive connection: p50/p95/p99 (floor: p95
  < 20 ms).
* Batch scoring of a 50,000-example golden set through POST /v1/deployments/{id}/batch: rows/s as
  the job reports it (read, encode, score, JSON Lines out; floor >= 10,000).
* `import functions.inference.handler` in a fresh interpreter, median of 5 (floor < 1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training_jobs" / "_lib"))
ADMIN = "bench-admin-token-0123456789"
N_FEATURES = 20


def build_model() -> tuple[bytes, dict]:
    import xgboost as xgb
    from trees_export import export_booster

    from optiloop.models.artifact import FORMAT, MANIFEST, pack_files

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, N_FEATURES))
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2] - x[:, 3] ** 2 + rng.normal(scale=0.5, size=len(x)) > 0).astype(
        int
    )
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 1},
        xgb.DMatrix(x, label=y),
        num_boost_round=200,
    )
    sig = {
        "task": "binary",
        "classes": [0, 1],
        "inputs": [{"name": f"f{i}", "type": "number"} for i in range(N_FEATURES)],
    }
    manifest = {
        "format": FORMAT,
        "framework": "xgboost",
        "runtime": "trees",
        "model_file": "model.trees.json",
        "signature": sig,
        "metrics": {},
    }
    doc = export_booster(booster, N_FEATURES)
    assert len(doc["trees"]) == 200
    return pack_files(
        {MANIFEST: json.dumps(manifest).encode(), "model.trees.json": json.dumps(doc).encode()}
    ), sig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(deps: object, settings: object) -> tuple[str, object]:
    import uvicorn

    from optiloop.api.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(deps, settings), host="127.0.0.1", port=port, log_level="warning")
    )  # type: ignore[arg-type]
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def cold_import(runs: int = 5) -> float:
    code = (
        "import time; t=time.perf_counter(); import functions.inference.handler; print(time.perf_counter()-t)"
    )
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPTILOOP_", "AWS_"))},
            "OPTILOOP_BACKEND": "local",
            "OPTILOOP_DATA_DIR": tmp,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONPATH": f"{ROOT}:{ROOT / 'shared'}",
        }
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
            )
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--rows", type=int, default=50_000)
    args = ap.parse_args()
    import httpx

    from optiloop.config import Settings
    from optiloop.deps import Deps
    from optiloop.models.artifact import sha256_hex
    from optiloop.models.records import Model, ModelVersion, model_doc, model_version_doc
    from optiloop.store.factory import open_memory

    data, sig = build_model()
    store, blobs = open_memory()
    deps = Deps(store=store, blobs=blobs)
    settings = Settings(
        backend="memory",
        admin_token=ADMIN,
        max_body_bytes=64 * 1024 * 1024,
        rate_limit_rps=1e6,
        rate_limit_burst=10**7,
    )
    base, server = serve(deps, settings)
    h = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=base, headers=h, timeout=120) as c:
        pid = c.post("/v1/projects", json={"name": "bench", "description": ""}).json()["id"]
        blobs.put(f"models/{pid}/bench/model.tar.gz", data)
        store.docs.create(
            model_doc(
                Model(
                    id="mdl_bench",
                    project_id=pid,
                    name="bench",
                    description="",
                    created_at="t",
                    created_by="bench",
                )
            )
        )
        store.docs.create(
            model_version_doc(
                ModelVersion(
                    id="mv_bench",
                    model_id="mdl_bench",
                    project_id=pid,
                    version=1,
                    status="Approved",
                    artifact_key=f"models/{pid}/bench/model.tar.gz",
                    artifact_sha256=sha256_hex(data),
                    artifact_bytes=len(data),
                    framework="xgboost",
                    runtime="trees",
                    signature=sig,
                    params={},
                    metrics={},
                    data_fingerprint=None,
                    code_version=None,
                    source={"upload": "bench"},
                    created_at="t",
                    created_by="bench",
                )
            )
        )
        dep = c.post(
            "/v1/deployments",
            json={"model_version_id": "mv_bench", "environment": "production", "capture_rate": 0.0},
        ).json()["id"]
        rng = np.random.default_rng(1)
        inst = [
            {f"f{i}": float(v) for i, v in enumerate(row)}
            for row in rng.normal(size=(args.requests + 50, N_FEATURES))
        ]
        for k in range(50):  # warm-up: predictor load, connection, code paths
            c.post(f"/v1/inference/{dep}:predict", json={"instances": [inst[k]]}).raise_for_status()
        lat = []
        for k in range(50, 50 + args.requests):
            t0 = time.perf_counter()
            r = c.post(f"/v1/inference/{dep}:predict", json={"instances": [inst[k]]})
            lat.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
        p50, p95, p99 = (float(np.percentile(lat, q)) for q in (50, 95, 99))
        server_ms = r.json()["latency_ms"]

        ds = c.post("/v1/datasets", json={"project_id": pid, "name": "golden"}).json()["id"]
        rows = rng.normal(size=(args.rows, N_FEATURES)).round(6)
        for lo in range(0, args.rows, 5000):
            ex = [
                {"id": f"e{lo + i}", "input": {f"f{j}": float(v) for j, v in enumerate(row)}, "expected": 0}
                for i, row in enumerate(rows[lo : lo + 5000])
            ]
            c.post(f"/v1/datasets/{ds}/examples", json={"examples": ex}).raise_for_status()
        t0 = time.perf_counter()
        job = c.post(f"/v1/deployments/{dep}/batch", json={"dataset_id": ds}).json()
        batch_wall = time.perf_counter() - t0
    server.should_exit = True  # type: ignore[attr-defined]
    cold = cold_import()
    print(
        f"predict over HTTP (uvicorn, 200 trees, depth 6, 1 instance, n={args.requests}): "
        f"p50 {p50:.2f} ms  p95 {p95:.2f} ms  p99 {p99:.2f} ms  (server-side latency_ms, last: {server_ms})"
    )
    print(
        f"batch scoring ({job['rows']} rows): {job['rows_per_s']:,.0f} rows/s in the job; "
        f"{job['rows'] / batch_wall:,.0f} rows/s over the HTTP call ({batch_wall:.2f} s), {job['status']}"
    )
    print(f"predict Lambda cold import (functions.inference.handler, median of 5): {cold * 1000:.0f} ms")
    ok = p95 < 20 and job["rows_per_s"] >= 10_000 and cold < 1.0
    print("floors (p95 < 20 ms, >= 10,000 rows/s, cold import < 1 s):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
