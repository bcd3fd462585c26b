"""`generate` by a prompt label consults the online experiment attached to that label: the variant's
prompt version is served, the decision is in the response and the trace, feedback by `trace_id`
joins the trace's cost and latency; without a Running experiment the label serves as usual; a
second experiment on the same label, or a prompt of another project, is refused by field."""

from __future__ import annotations

from typing import Any

BODY_A = "Answer briefly.\nQ: {{question}}\nA: {{hint}}"
BODY_B = "Answer in detail.\nQ: {{question}}\nA: {{hint}}"


def prompt_with_two_versions(api: Any) -> tuple[str, str, str, str]:
    pid = api.project("gen-exp")
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "qa"}).json()["id"]
    versions = []
    for body, hint in ((BODY_A, "a"), (BODY_B, "b")):
        r = api.client.post(f"/v1/prompts/{prm}/versions", headers=api.admin,
                            json={"body": body, "variables": {"question": "str", "hint": "str"},
                                  "defaults": {"hint": hint}})  # fmt: skip
        assert r.status_code == 201, r.text
        versions.append(r.json()["id"])
    d = api.client.post(
        "/v1/deployments", headers=api.admin, json={"prompt_version_id": versions[0], "environment": "dev"}
    )
    assert d.status_code == 201, d.text
    return pid, prm, versions[0], versions[1]


def attached(api: Any, pid: str, prm: str, a: str, b: str) -> Any:
    body = {"project_id": pid, "name": "which prompt", "type": "AB", "guardrails": [],
            "variants": [{"id": "brief", "prompt_version_id": a}, {"id": "detailed", "prompt_version_id": b}],
            "attach": {"prompt_id": prm, "label": "dev"}}  # fmt: skip
    return api.client.post("/v1/experiments", headers=api.admin, json=body)


def gen(api: Any, pid: str, unit: str) -> Any:
    return api.client.post("/v1/generate", headers=api.admin, json={
        "project_id": pid, "prompt": {"name": "qa", "label": "dev"}, "variables": {"question": "x"},
        "unit_id": unit, "cache": {"enabled": False}})  # fmt: skip


def test_generate_serves_the_variant_and_records_the_decision(api: Any) -> None:
    pid, prm, a, b = prompt_with_two_versions(api)
    r = attached(api, pid, prm, a, b)
    assert r.status_code == 201, r.text
    exp_id = r.json()["id"]
    draft = gen(api, pid, "user-1").json()
    assert "decision" not in draft and draft["prompt_version_id"] == a  # Draft: the label as usual
    assert api.client.post(f"/v1/experiments/{exp_id}/start", headers=api.admin).status_code == 200
    seen = set()
    for i in range(12):
        out = gen(api, pid, f"user-{i}").json()
        dec = out["decision"]
        assert dec["experiment_id"] == exp_id
        expected = a if dec["variant"] == "brief" else b
        assert out["prompt_version_id"] == expected and out["output"] == ("a" if expected == a else "b")
        seen.add(dec["variant"])
        again = gen(api, pid, f"user-{i}").json()
        assert again["decision"]["variant"] == dec["variant"]  # AB is sticky per unit
        trace = api.client.get(f"/v1/traces/{out['trace_id']}", headers=api.admin).json()
        assert trace["decision_id"] == dec["decision_id"] and trace["variant"] == dec["variant"]
        fb = api.client.post("/v1/feedback", headers=api.admin,
                             json={"trace_id": out["trace_id"], "rewards": {"quality": 1.0}})  # fmt: skip
        assert fb.status_code == 200, fb.text
        assert set(fb.json()["joined"]) == {"cost", "latency_ms"}
    assert seen == {"brief", "detailed"}
    assert api.client.post(f"/v1/experiments/{exp_id}/complete", headers=api.admin).status_code == 200
    after = gen(api, pid, "user-1").json()
    assert "decision" not in after and after["prompt_version_id"] == a
    # the label is free again
    assert attached(api, pid, prm, a, b).status_code == 201


def test_attaching_is_checked_by_field(api: Any) -> None:
    pid, prm, a, b = prompt_with_two_versions(api)
    assert attached(api, pid, prm, a, b).status_code == 201
    second = attached(api, pid, prm, a, b)
    assert second.status_code == 409 and api.error_fields(second) == ["attach"]
    other = api.project("elsewhere")
    body = {"project_id": other, "name": "x", "type": "AB", "variants": [{"id": "a"}, {"id": "b"}],
            "attach": {"prompt_id": prm}}  # fmt: skip
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 422 and api.error_fields(r) == ["attach.prompt_id"]
    body["attach"] = {"prompt_id": "prm_nope"}
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 422 and api.error_fields(r) == ["attach.prompt_id"]
