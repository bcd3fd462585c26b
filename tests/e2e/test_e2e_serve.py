"""`optiloop serve` over real HTTP: bootstrap, persistence across restarts, printed first key."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import requests

TOKEN = "e2e-admin-token-0123456789abcdef"
SPACE = {
    "params": {
        "payload_kb": {"type": "integer", "min": 1, "max": 1024},
        "region": {"type": "string", "enum": ["eu", "us", "ap"]},
    },
    "relations": ["payload_kb <= 512 or region != 'ap'"],
}


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_admin_token_bootstrap_and_data_survive_a_restart(serve: Callable, tmp_path: Path) -> None:
    data = tmp_path / "data"
    s = serve(data, TOKEN)
    assert requests.get(f"{s.url}/v1/healthz", timeout=5).json()["status"] == "ok"
    assert requests.get(f"{s.url}/v1/projects", timeout=5).status_code == 401
    r = requests.post(f"{s.url}/v1/projects", headers=h(TOKEN), json={"name": "checkout"}, timeout=5)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = requests.post(
        f"{s.url}/v1/projects/{pid}/constraints",
        headers=h(TOKEN),
        timeout=30,
        json={"name": "base", "type": "hard", "json_schema": SPACE},
    )
    assert r.status_code == 201, r.text
    space_version = r.json()["space_version"]
    r = requests.post(
        f"{s.url}/v1/api-keys",
        headers=h(TOKEN),
        timeout=5,
        json={"principal": "ci", "role": "contributor", "project_id": pid},
    )
    assert r.status_code == 201
    ci_key = r.json()["key"]
    keys = requests.get(f"{s.url}/v1/api-keys", headers={"x-api-key": TOKEN}, timeout=5).json()["items"]
    assert {k["principal"] for k in keys} == {"admin", "ci"}
    assert requests.get(f"{s.url}/docs", timeout=5).status_code == 200
    # one turn of the loop over the socket: suggest -> run -> ingest -> coverage
    r = requests.post(
        f"{s.url}/v1/projects/{pid}/tests:suggest",
        headers=h(ci_key),
        timeout=30,
        json={"batch_size": 5, "seed": 3},
    )
    assert r.status_code in (200, 501), r.text
    n_run = 0
    if r.status_code == 200:
        runs = [
            {"test_id": t["id"], "status": "pass", "cost_cents": 1, "coverage_delta": {"buckets_hit": [i]}}
            for i, t in enumerate(r.json()["tests"])
        ]
        r = requests.post(
            f"{s.url}/v1/projects/{pid}/runs:ingest", headers=h(ci_key), json={"runs": runs}, timeout=10
        )
        assert r.status_code == 200 and r.json()["accepted"] == len(runs)
        n_run = len(runs)
    assert "OPTILOOP_API_KEY=" not in s.output()  # the token is the key: nothing to print
    s.stop()

    s2 = serve(data, TOKEN)
    p = requests.get(f"{s2.url}/v1/projects/{pid}", headers=h(TOKEN), timeout=5)
    assert p.status_code == 200 and p.json()["name"] == "checkout"
    sp = requests.get(f"{s2.url}/v1/projects/{pid}/space", headers=h(ci_key), timeout=5).json()
    assert sp["space_version"] == space_version and set(sp["params"]) == {"payload_kb", "region"}
    assert len(requests.get(f"{s2.url}/v1/api-keys", headers=h(TOKEN), timeout=5).json()["items"]) == 2
    assert requests.get(f"{s2.url}/v1/audit/verify", headers=h(TOKEN), timeout=5).json()["ok"] is True
    cov = requests.get(f"{s2.url}/v1/projects/{pid}/coverage", headers=h(ci_key), timeout=5).json()
    assert cov["tests_run"] == n_run and cov["unique_buckets"] == n_run


def test_without_admin_token_the_printed_key_works(serve: Callable, tmp_path: Path) -> None:
    data = tmp_path / "data"
    s = serve(data)
    m = re.search(r"export OPTILOOP_API_KEY=(olk_\S+)", s.output())
    assert m, s.output()
    key = m.group(1)
    r = requests.post(f"{s.url}/v1/projects", headers=h(key), json={"name": "p"}, timeout=5)
    assert r.status_code == 201
    s.stop()

    s2 = serve(data)
    assert "OPTILOOP_API_KEY=" not in s2.output()  # shown once, never again
    assert len(requests.get(f"{s2.url}/v1/projects", headers=h(key), timeout=5).json()["items"]) == 1
