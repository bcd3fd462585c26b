"""The prompt loop over a real socket, and what it wrote surviving a restart of `optiloop serve`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests

TOKEN = "e2e-admin-token-0123456789abcdef"


def test_prompt_loop_over_http_survives_a_restart(serve: Callable, tmp_path: Path) -> None:
    data = tmp_path / "data"
    s = serve(data, TOKEN)
    admin = {"Authorization": f"Bearer {TOKEN}"}

    def post(path: str, body: dict, headers: dict = admin) -> dict:
        r = requests.post(f"{s.url}{path}", headers=headers, json=body, timeout=30)
        assert r.status_code in (200, 201), r.text
        return r.json()

    pid = post("/v1/projects", {"name": "support"})["id"]
    keys = {
        who: {"x-api-key": post("/v1/api-keys", {"principal": who, "role": role, "project_id": pid})["key"]}
        for who, role in (("alice", "contributor"), ("bob", "admin"))
    }
    prm = post(f"/v1/projects/{pid}/prompts", {"name": "qa"}, keys["alice"])["id"]
    v = post(
        f"/v1/prompts/{prm}/versions",
        {"body": "Q: {{question}}\nA: {{hint}}", "variables": {"question": "str", "hint": "str"}},
        keys["alice"],
    )
    post(f"/v1/prompt_versions/{v['id']}/submit_for_approval", {}, keys["alice"])
    post(f"/v1/prompt_versions/{v['id']}/approve", {"comment": "ok"}, keys["bob"])
    post("/v1/deployments", {"prompt_version_id": v["id"], "environment": "prod"}, keys["alice"])
    out = post(
        "/v1/generate",
        {"project_id": pid, "prompt": {"name": "qa"}, "variables": {"question": "2+2?", "hint": "4"}},
        keys["alice"],
    )
    assert out["output"] == "4" and out["prompt_version_id"] == v["id"]

    s.stop()
    s = serve(data, TOKEN)
    trace = requests.get(f"{s.url}/v1/traces/{out['trace_id']}", headers=keys["alice"], timeout=10)
    assert trace.status_code == 200 and trace.json()["prompt_version_id"] == v["id"]
    deployed = requests.get(f"{s.url}/v1/projects/{pid}/deployments", headers=keys["bob"], timeout=10).json()
    assert [(d["environment"], d["version"]) for d in deployed["items"]] == [("prod", 1)]
    again = requests.post(
        f"{s.url}/v1/generate",
        headers=keys["alice"],
        json={"project_id": pid, "prompt": {"name": "qa"}, "variables": {"question": "2+2?", "hint": "4"}},
        timeout=30,
    )
    assert again.json()["cached"] is True  # the cache is in the store, so it outlives the process
