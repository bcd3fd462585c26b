"""Online decisions over HTTP: experiments sharing /v1/experiments with AutoML, the lifecycle, decisions,
late rewards, duplicate and unknown feedback, and bad input refused by field."""

from __future__ import annotations

from typing import Any

import pytest


def online(api: Any, pid: str, **extra: Any) -> dict[str, Any]:
    body = {
        "project_id": pid,
        "name": "routing",
        "type": "AB",
        "variants": [
            {"id": "a", "config": {"model": "m-small"}},
            {"id": "b", "config": {"model": "m-large"}},
        ],
        "metric": {"name": "success", "kind": "binary", "direction": "maximize"},
        **extra,
    }
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def step(api: Any, exp_id: str, action: str) -> Any:
    return api.client.post(f"/v1/experiments/{exp_id}/{action}", headers=api.admin)


def test_the_seeds_contextual_flow(api: Any) -> None:
    pid = api.project("route")
    body = {
        "project_id": pid,
        "name": "weak vs strong",
        "type": "Contextual",
        "variants": [{"name": "weak", "model": "m-small"}, {"name": "strong", "model": "m-large"}],
    }
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    exp = r.json()
    assert exp["status"] == "Draft" and exp["algorithm"] == "linucb"
    assert exp["variants"][0]["config"] == {"model": "m-small"}
    assert step(api, exp["id"], "start").json()["status"] == "Running"
    ctx = {"subject": "abstract_algebra", "prompt": "Find the degree of the field extension Q(sqrt 2) over Q"}
    r = api.client.post(
        "/v1/decisions", headers=api.admin, json={"experiment_id": exp["id"], "unit_id": "u1", "context": ctx}
    )
    assert r.status_code == 201, r.text
    dec = r.json()
    assert dec["variant"] in ("weak", "strong") and dec["propensity"] == 1.0
    r = api.client.post(
        "/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"], "reward": 0.9}
    )
    assert r.status_code == 200, r.text
    again = api.client.post(
        "/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"], "reward": 1}
    )
    assert again.status_code == 409 and api.error_fields(again) == ["decision_id"]
    got = api.client.get(f"/v1/experiments/{exp['id']}", headers=api.admin).json()
    assert got["results"]["rewards"] == 1


def test_lifecycle_rules_and_decisions_only_while_running(api: Any) -> None:
    pid = api.project("life")
    exp = online(api, pid)
    dec = {"experiment_id": exp["id"], "unit_id": "u"}
    r = api.client.post("/v1/decisions", headers=api.admin, json=dec)
    assert r.status_code == 409 and api.error_fields(r) == ["status"] and "Draft" in r.text
    assert step(api, exp["id"], "pause").status_code == 409
    assert step(api, exp["id"], "start").status_code == 200
    first = api.client.post("/v1/decisions", headers=api.admin, json=dec).json()
    assert step(api, exp["id"], "pause").json()["status"] == "Paused"
    r = api.client.post("/v1/decisions", headers=api.admin, json=dec)
    assert r.status_code == 409 and "Paused" in r.json()["error"]["message"]
    # a late reward for a paused experiment still counts
    ok = api.client.post(
        "/v1/feedback", headers=api.admin, json={"decision_id": first["decision_id"], "reward": 1}
    )
    assert ok.status_code == 200, ok.text
    assert step(api, exp["id"], "start").json()["status"] == "Running"
    assert api.client.post("/v1/decisions", headers=api.admin, json=dec).json()["variant"] == first["variant"]
    assert step(api, exp["id"], "archive").status_code == 409
    assert step(api, exp["id"], "complete").json()["status"] == "Completed"
    assert step(api, exp["id"], "start").status_code == 409
    assert step(api, exp["id"], "archive").json()["status"] == "Archived"
    actions = [r.action for r in api.deps.store.audit.list(project_id=pid, limit=1000)]
    for a in (
        "experiment.created",
        "experiment.start",
        "experiment.pause",
        "experiment.complete",
        "experiment.archive",
    ):
        assert a in actions
    assert "decision.served" not in actions  # events, sealed in batches, not chain appends
    api.deps.store.audit.flush_events()


def test_composite_rewards_and_feedback_errors(api: Any) -> None:
    pid = api.project("fb")
    exp = online(api, pid, metric={"name": "score", "kind": "continuous"})
    step(api, exp["id"], "start")
    dec = api.client.post(
        "/v1/decisions", headers=api.admin, json={"experiment_id": exp["id"], "unit_id": "u"}
    ).json()
    r = api.client.post("/v1/feedback", headers=api.admin, json={"decision_id": "dec_nope", "reward": 1})
    assert r.status_code == 404 and api.error_fields(r) == ["decision_id"]
    r = api.client.post(
        "/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"], "rewards": {"quality": 1}}
    )
    assert r.status_code == 422 and set(api.error_fields(r)) == {
        "rewards.normalized_cost",
        "rewards.normalized_latency",
    }
    r = api.client.post("/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"]})
    assert r.status_code == 422 and api.error_fields(r) == ["reward"]
    rewards = {"quality": 0.8, "normalized_cost": 0.5, "normalized_latency": 0.0}
    r = api.client.post(
        "/v1/feedback", headers=api.admin, json={"decision_id": dec["decision_id"], "rewards": rewards}
    )
    assert r.status_code == 200 and r.json()["reward"] == pytest.approx(0.5 * 0.8 + 0.3 * 0.5 + 0.2 * 1.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "Thompson"}, "body.type"),
        ({"variants": [{"id": "a"}]}, "body.variants"),
        ({"variants": [{"id": "a", "weight": 0.5}, {"id": "b", "weight": 0.4}]}, "variants[].weight"),
        ({"variants": [{"id": "a"}, {"id": "a"}]}, "variants[1].id"),
        ({"algorithm": "linucb"}, "algorithm"),
        ({"metric": {"name": "m", "kind": "ordinal"}}, "body.metric.kind"),
    ],
)
def test_bad_online_experiments_are_refused_by_field(api: Any, change: dict[str, Any], field: str) -> None:
    pid = api.project("bad")
    body = {"project_id": pid, "name": "x", "type": "AB", "variants": [{"id": "a"}, {"id": "b"}], **change}
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 422, r.text
    assert field in api.error_fields(r), r.text
    assert not [d for d in api.deps.store.docs.list("experiment", pid)]  # nothing half-written


def test_bad_decisions_are_refused_by_field(api: Any) -> None:
    pid = api.project("baddec")
    exp = online(
        api, pid, type="Contextual", variants=[{"id": "a"}, {"id": "b"}], metric=None,
        context={"numeric": ["len"], "categorical": ["subject"], "dimension": 8},
    )  # fmt: skip
    step(api, exp["id"], "start")
    r = api.client.post(
        "/v1/decisions", headers=api.admin, json={"experiment_id": "exp_nope", "unit_id": "u"}
    )
    assert r.status_code == 404 and api.error_fields(r) == ["experiment_id"]
    bad = {"experiment_id": exp["id"], "unit_id": "u", "context": {"subject": "x", "colour": "red"}}
    r = api.client.post("/v1/decisions", headers=api.admin, json=bad)
    assert r.status_code == 422 and set(api.error_fields(r)) == {"context.len", "context.colour"}
    r = api.client.post("/v1/decisions", headers=api.admin, json={"experiment_id": exp["id"]})
    assert r.status_code == 422 and api.error_fields(r) == ["body.unit_id"]


def test_an_automl_experiment_is_not_an_online_one(api: Any) -> None:
    pid = api.project("mixed")
    r = api.client.post(
        "/v1/experiments", headers=api.admin, json={"project_id": pid, "task_type": "classification"}
    )
    assert r.status_code == 422 and "body.dataset_id" in api.error_fields(r)
    r = api.client.post("/v1/experiments/exp_missing/start", headers=api.admin)
    assert r.status_code == 404 and api.error_fields(r) == ["experiment_id"]
