"""`POST /v1/experiments/{id}/ope`: a candidate policy's value estimated from an experiment's logged
decisions lands near the truth of the simulated world; bad candidates are 422s naming the field."""

from __future__ import annotations

from typing import Any

import numpy as np

# the simulated world: variant a pays well for gold users only, b the same for everyone
PAYS = {("a", "gold"): 0.9, ("a", "free"): 0.1, ("b", "gold"): 0.5, ("b", "free"): 0.5}
N = 300


def experiment(api: Any, pid: str) -> str:
    body = {"project_id": pid, "name": "split", "type": "AB",
            "variants": [{"id": "a", "weight": 0.5}, {"id": "b", "weight": 0.5}],
            "metric": {"name": "ok", "kind": "binary"}}  # fmt: skip
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    exp_id: str = r.json()["id"]
    assert api.client.post(f"/v1/experiments/{exp_id}/start", headers=api.admin).status_code == 200
    return exp_id


def ope(api: Any, exp_id: str, policy: dict[str, Any]) -> Any:
    return api.client.post(f"/v1/experiments/{exp_id}/ope", headers=api.admin, json={"policy": policy})


def test_estimates_land_near_the_truth_and_bad_candidates_are_refused(api: Any) -> None:
    pid = api.project("ope")
    exp_id = experiment(api, pid)
    assert ope(api, exp_id, {"variant": "a"}).status_code == 409  # nothing rewarded yet
    assert api.error_fields(ope(api, exp_id, {"variant": "a"})) == ["experiment_id"]
    rng = np.random.default_rng(3)
    for t in range(N):
        tier = "gold" if t % 2 else "free"
        ctx = {"tier": tier, "question": "a long prompt text that is never kept for the rules, only hashed"}
        r = api.client.post("/v1/decisions", headers=api.admin,
                            json={"experiment_id": exp_id, "unit_id": f"u{t}", "context": ctx})  # fmt: skip
        assert r.status_code == 201, r.text
        dec = r.json()
        reward = float(rng.random() < PAYS[(dec["variant"], tier)])
        r = api.client.post(
            "/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"], "reward": reward}
        )
        assert r.status_code == 200, r.text
    truths: dict[str, tuple[dict[str, Any], float]] = {
        "always b": ({"variant": "b"}, 0.5),
        "always a": ({"variant": "a"}, 0.5),
        "80/20 split": ({"weights": {"a": 0.8, "b": 0.2}}, 0.5),
        "a for gold": ({"rules": [{"when": {"tier": "gold"}, "variant": "a"}], "default": "b"}, 0.7),
        "a for free": ({"rules": [{"when": {"tier": "free"}, "variant": "a"}], "default": "b"}, 0.3),
    }
    for name, (policy, truth) in truths.items():
        r = ope(api, exp_id, policy)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["rows"] == N and got["truncated"] is False
        for est in ("snips", "dr"):
            e = got["estimates"][est]
            assert abs(e["value"] - truth) < 0.15, (name, est, e)
            assert e["ci_low"] <= e["value"] <= e["ci_high"]
        assert 0 < got["ess"] <= N
    best = ope(api, exp_id, truths["a for gold"][0]).json()
    worst = ope(api, exp_id, truths["a for free"][0]).json()
    assert best["estimates"]["dr"]["value"] > worst["estimates"]["dr"]["value"] + 0.2
    assert best["candidate_share"] == {"a": 0.5, "b": 0.5}
    # a rule on the long text field never matches: it is not logged
    r = ope(api, exp_id, {"rules": [{"when": {"question": "x"}, "variant": "a"}], "default": "b"})
    assert r.json()["candidate_share"] == {"a": 0.0, "b": 1.0}

    bad: dict[str, dict[str, Any]] = {
        "policy.variant": {"variant": "c"},
        "policy.weights": {"weights": {"a": 0.5, "b": 0.2}},
        "policy.weights.z": {"weights": {"a": 0.5, "z": 0.5}},
        "policy": {"variant": "a", "weights": {"a": 1.0}},
        "policy.default": {"rules": [{"when": {"tier": "gold"}, "variant": "a"}]},
        "policy.rules[0].variant": {"rules": [{"when": {"tier": "gold"}, "variant": "q"}], "default": "b"},
    }
    for field, policy in bad.items():
        r = ope(api, exp_id, policy)
        assert r.status_code == 422 and api.error_fields(r) == [field], (field, r.text)
    r = api.client.post(f"/v1/experiments/{exp_id}/ope", headers=api.admin, json={})
    assert r.status_code == 422 and api.error_fields(r) == ["body.policy"]
    r = ope(api, "exp_nope", {"variant": "a"})
    assert r.status_code == 404
