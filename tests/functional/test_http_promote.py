"""Winners of online experiments are proposed through approvals, never switched: the winning variant's
prompt version becomes a pending approval request with the results as evidence; no winner, a variant
without a version, or a version of another project are refused by field."""

from __future__ import annotations

from typing import Any


def version(api: Any, pid: str, body: str) -> str:
    prm = api.client.post(
        f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": f"p-{abs(hash(body)) % 10**8}"}
    )
    assert prm.status_code == 201, prm.text
    r = api.client.post(f"/v1/prompts/{prm.json()['id']}/versions", headers=api.admin,
                        json={"body": body + " {{q}}", "variables": {"q": "str"}})  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def experiment(api: Any, pid: str, variants: list[dict[str, Any]]) -> str:
    body = {"project_id": pid, "name": "e", "type": "AB", "variants": variants, "guardrails": [],
            "metric": {"name": "ok", "kind": "binary"}, "stopping": {"min_samples": 30}}  # fmt: skip
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    exp_id = str(r.json()["id"])
    assert api.client.post(f"/v1/experiments/{exp_id}/start", headers=api.admin).status_code == 200
    return exp_id


def play(api: Any, exp_id: str, n: int, rates: dict[str, float]) -> None:
    for i in range(n):
        d = api.client.post(
            "/v1/decisions", headers=api.admin, json={"experiment_id": exp_id, "unit_id": f"u{i}"}
        )
        dec = d.json()
        reward = 1.0 if (i * 7919 % 100) / 100 < rates[dec["variant"]] else 0.0
        api.client.post(
            "/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"], "reward": reward}
        )


def test_the_winner_is_proposed_for_approval_not_switched(api: Any) -> None:
    pid = api.project("promote")
    old, new = version(api, pid, "Answer briefly:"), version(api, pid, "Answer step by step:")
    exp_id = experiment(
        api, pid, [{"id": "old", "prompt_version_id": old}, {"id": "new", "prompt_version_id": new}]
    )
    early = api.client.post(f"/v1/experiments/{exp_id}/promote", headers=api.admin, json={})
    assert early.status_code == 409 and api.error_fields(early) == ["variant"]
    play(api, exp_id, 400, {"old": 0.3, "new": 0.9})
    got = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
    assert got["results"]["stopping"]["winner"] == "new"
    r = api.client.post(f"/v1/experiments/{exp_id}/promote", headers=api.admin, json={"comment": "ship it"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["variant"] == "new" and out["entity_type"] == "prompt_version" and out["entity_id"] == new
    assert out["approval"]["status"] == "pending" and "ship it" in out["approval"]["comment"]
    assert exp_id in out["approval"]["comment"]
    assert (
        api.client.get(f"/v1/prompt_versions/{new}", headers=api.admin).json()["status"] == "PendingApproval"
    )
    assert api.deps.store.audit.list(action="experiment.promotion_proposed", limit=5)
    again = api.client.post(f"/v1/experiments/{exp_id}/promote", headers=api.admin)
    assert again.status_code == 409  # one open request per version


def test_promotion_refusals_name_the_field(api: Any) -> None:
    pid, other = api.project("p1"), api.project("p2")
    foreign = version(api, other, "Elsewhere:")
    exp_id = experiment(
        api, pid, [{"id": "a", "model": "m-small"}, {"id": "b", "prompt_version_id": foreign}]
    )
    for body, status, fields in (
        ({"variant": "zzz"}, 422, ["variant"]),
        ({"variant": "a"}, 422, ["variants[0].config"]),
        ({"variant": "b"}, 422, ["variants[1].config"]),
    ):
        r = api.client.post(f"/v1/experiments/{exp_id}/promote", headers=api.admin, json=body)
        assert r.status_code == status, (body, r.text)
        assert api.error_fields(r) == fields, body
