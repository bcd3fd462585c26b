"""The whole loop on the AWS adapters against a real moto_server over HTTP: the app as the Lambdas run
it (build_deps for backend "aws"), and `optiloop serve --backend aws --aws-endpoint URL`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("moto.server", exc_type=ImportError)

import requests
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.runtime import build_deps
from optiloop.store.dynamodb import DynamoStore
from optiloop.store.dynamodb.testing import aws_test_env, faster_transactions
from optiloop.store.factory import ensure_aws_resources

SHARED = str(Path(__file__).resolve().parents[3] / "shared")
TOKEN = "moto-admin-token-0123456789"
SPACE = {
    "params": {
        "qps": {"type": "integer", "min": 1, "max": 5000},
        "region": {"type": "string", "enum": ["us", "eu", "apac"]},
        "payload_kb": {"type": "number", "min": 0.1, "max": 512.0},
        "cache": {"type": "boolean"},
    },
    "relations": ['if(region=="eu") then(payload_kb<=256.0)', "qps * payload_kb <= 1.0e6"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    port = free_port()
    with aws_test_env(), faster_transactions():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


def test_project_constraints_suggest_ingest_coverage_over_moto_server(endpoint: str) -> None:
    assert ensure_aws_resources("loop-table", "loop-bucket", endpoint_url=endpoint) == {
        "table": True,
        "bucket": True,
    }
    settings = Settings(
        backend="aws", table="loop-table", bucket="loop-bucket", aws_endpoint=endpoint, admin_token=TOKEN
    )
    deps = build_deps(settings)
    assert isinstance(deps.store, DynamoStore)
    h = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(deps, settings)) as c:
        r = c.post("/v1/projects", headers=h, json={"name": "api-load", "description": "load tests"})
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        r = c.post(
            f"/v1/projects/{pid}/constraints",
            headers=h,
            json={"name": "base", "type": "hard", "json_schema": SPACE},
        )
        assert r.status_code == 201, r.text
        # 60 tests: 120 history items, so this batch takes the staged (>100 items) commit
        r = c.post(
            f"/v1/projects/{pid}/tests:suggest",
            headers=h,
            json={"generator": "random", "batch_size": 60, "seed": 7},
        )
        assert r.status_code == 200, r.text
        tests = r.json()["tests"]
        assert len(tests) == 60
        runs = [
            {
                "test_id": t["id"],
                "status": "fail" if i % 7 == 0 else "pass",
                "duration_ms": 10 + i,
                "cost_cents": 0.5,
                "failure_severity": 3 if i % 7 == 0 else 0,
                "coverage_delta": {"buckets_hit": [i % 13, 100 + i % 5]},
            }
            for i, t in enumerate(tests[:40])
        ]
        r = c.post(f"/v1/projects/{pid}/runs:ingest", headers=h, json={"runs": runs})
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 40
        r = c.post(f"/v1/projects/{pid}/runs:ingest", headers=h, json={"runs": runs[:5]})  # a resend
        assert r.status_code == 200 and r.json()["accepted"] == 0 and r.json()["duplicates"] == 5
        # a second suggestion learns from the history and never repeats a pending test
        r = c.post(
            f"/v1/projects/{pid}/tests:suggest",
            headers=h,
            json={"generator": "hybrid", "batch_size": 20, "seed": 8},
        )
        assert r.status_code == 200, r.text
        assert not {t["id"] for t in r.json()["tests"]} & {t["id"] for t in tests}
        cov = c.get(f"/v1/projects/{pid}/coverage", headers=h).json()
        assert cov["tests_run"] == 40 and cov["tests_suggested"] == 80 and cov["unique_buckets"] == 18
        audit = c.get("/v1/audit/logs", headers=h, params={"project_id": pid}).json()
        assert [e["action"] for e in audit["items"]][-3:] == [
            "tests.suggest",
            "runs.ingested",
            "tests.suggest",
        ]
    # a new process (a cold Lambda) sees the same state through a new store
    cold = build_deps(settings).store
    assert cold.tests.max_seq(pid) == 80 and cold.runs.totals(pid) == {
        "runs": 40,
        "cost_cents": 20.0,
        "failures": 6,
    }
    assert cold.audit.verify() == (True, None)
    deps.blobs.put(f"projects/{pid}/export.csv", b"a,b\n")
    assert deps.blobs.list(f"projects/{pid}/") == [f"projects/{pid}/export.csv"]


def test_optiloop_serve_with_the_aws_backend(endpoint: str, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTILOOP_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [SHARED, env.get("PYTHONPATH")])), OPTILOOP_ADMIN_TOKEN=TOKEN
    )
    cmd = [sys.executable, "-m", "optiloop.cli.main", "serve", "--port", str(port), "--log-level", "warning"]
    cmd += [
        "--backend",
        "aws",
        "--aws-endpoint",
        endpoint,
        "--table",
        "serve-table",
        "--bucket",
        "serve-bucket",
    ]
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if requests.get(f"{url}/v1/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        h = {"Authorization": f"Bearer {TOKEN}"}
        r = requests.post(
            f"{url}/v1/projects", headers=h, json={"name": "via-serve", "description": ""}, timeout=10
        )
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
    assert "table serve-table, bucket serve-bucket" in (tmp_path / "serve.log").read_text()
    store = DynamoStore("serve-table", endpoint_url=endpoint, region="us-east-1")
    assert store.projects.get(pid) is not None  # it went to the moto_server's table
