"""Canary experiments over HTTP: the candidate's share follows the stages as rewards arrive (audited),
units keep their arm as the share grows, a worse candidate pauses the experiment, the stage is rebuilt
exactly from the reward records, and bad stage definitions are refused by field."""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.decisions import serve
from optiloop.decisions.state import STATE, LearnerState


def canary(api: Any, pid: str, **extra: Any) -> dict[str, Any]:
    variants = [{"id": "stable", "prompt_version_id": "pv_1"}, {"id": "next", "prompt_version_id": "pv_2"}]
    body = {"project_id": pid, "name": "rollout", "type": "Canary", "guardrails": [], "variants": variants,
            "metric": {"name": "ok", "kind": "binary"},
            "canary": {"stages": [0.1, 0.5, 1.0], "min_samples": 20}, **extra}  # fmt: skip
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    exp = r.json()
    assert api.client.post(f"/v1/experiments/{exp['id']}/start", headers=api.admin).status_code == 200
    return exp


def decide(api: Any, exp_id: str, unit: str) -> dict[str, Any]:
    r = api.client.post("/v1/decisions", headers=api.admin, json={"experiment_id": exp_id, "unit_id": unit})
    assert r.status_code == 201, r.text
    return r.json()


def results(api: Any, exp_id: str) -> dict[str, Any]:
    return api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()["results"]


def test_the_candidate_moves_through_the_stages(api: Any) -> None:
    pid = api.project("canary")
    exp = canary(api, pid)
    rng = np.random.default_rng(0)
    first: dict[str, str] = {}
    shares: list[tuple[int, float]] = []
    for i in range(600):
        unit = f"user-{i % 150}"
        dec = decide(api, exp["id"], unit)
        if first.get(unit) == "next":
            assert dec["variant"] == "next"  # sticky: a unit on the candidate stays on it
        first.setdefault(unit, dec["variant"])
        reward = float(rng.random() < 0.7)
        r = api.client.post(
            "/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"], "reward": reward}
        )
        assert r.status_code == 200, r.text
        got = results(api, exp["id"])["canary"] if i % 25 == 0 else None
        if got is not None:
            shares.append((got["stage"], got["share"]))
        if got is not None and got["complete"]:
            break
    final = results(api, exp["id"])["canary"]
    assert final["stage"] == 2 and final["share"] == 1.0
    assert final["recommendation"] == "promote"
    assert [s for _, s in shares] == sorted(s for _, s in shares)  # never moves back
    assert len(api.deps.store.audit.list(action="experiment.canary_advanced", limit=10)) == 2
    st = api.deps.store.docs.get(STATE, exp["id"])
    live, rebuilt = LearnerState.from_data(st.data), serve.rebuild(api.deps, exp["id"])
    assert rebuilt.stage == live.stage and rebuilt.stage_n is not None and live.stage_n is not None
    assert np.array_equal(rebuilt.stage_n, live.stage_n)


def test_a_worse_candidate_pauses_the_canary(api: Any) -> None:
    pid = api.project("bad-canary")
    exp = canary(api, pid, stopping={"min_samples": 20}, canary={"stages": [0.5, 1.0], "min_samples": 1000})
    status = "Running"
    for i in range(800):
        dec = decide(api, exp["id"], f"u{i}")
        reward = 0.0 if dec["variant"] == "next" else 1.0
        r = api.client.post(
            "/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"], "reward": reward}
        )
        status = r.json()["experiment_status"]
        if status == "Paused":
            break
    assert status == "Paused"
    got = api.client.get(f"/v1/experiments/{exp['id']}", headers=api.admin).json()
    assert got["history"][-1]["reason"]["guardrails"][0]["variant"] == "next"
    assert got["results"]["canary"]["candidate_worse"] is True


def test_bad_canary_definitions_name_the_field(api: Any) -> None:
    pid = api.project("canary-bad")
    base = {"project_id": pid, "name": "x", "type": "Canary", "variants": [{"id": "a"}, {"id": "b"}]}
    cases = [
        ({"variants": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}, ["variants"]),
        ({"canary": {"stages": [0.5, 0.25, 1.0]}}, ["canary.stages"]),
        ({"canary": {"stages": [0.1, 0.9]}}, ["canary.stages"]),
        ({"type": "AB", "canary": {"stages": [0.5, 1.0]}}, ["canary"]),
        ({"algorithm": "thompson"}, ["algorithm"]),
    ]
    for extra, fields in cases:
        r = api.client.post("/v1/experiments", headers=api.admin, json=base | extra)
        assert r.status_code == 422, (extra, r.text)
        assert api.error_fields(r) == fields, extra
