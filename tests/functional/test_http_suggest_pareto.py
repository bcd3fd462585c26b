"""tests:suggest with `pareto` (the candidate pool's Pareto front) and the active-learning fields."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api

GOAL = {"coverage_gain": 1, "failure_prob": 1, "cost": -1, "duration_ms": -1, "flakiness": -1}


def suggest(api: Api, pid: str, **body: Any) -> Any:
    return api.client.post(f"/v1/projects/{pid}/tests:suggest", headers=api.admin, json=body)


def run_of(t: dict[str, Any]) -> dict[str, Any]:
    """A deterministic outcome: buckets from coarse params, slow big payloads, failures in one corner."""
    p = t["params"]
    buckets = [
        int(hashlib.sha256(f"{k}:{str(v)[:2]}".encode()).hexdigest()[:8], 16) % 10_000 for k, v in p.items()
    ]
    fail = p["retries"] >= 4 and p["timeout_s"] > 5
    return {
        "test_id": t["id"],
        "status": "fail" if fail else "pass",
        "failure_severity": 3 if fail else 0,
        "duration_ms": 10.0 + p["payload_kb"],
        "cost_cents": 1.0,
        "coverage_delta": {"buckets_hit": buckets},
    }


def with_history(api: Api, name: str = "checkout", batches: int = 2) -> str:
    pid = api.project(name)
    api.constrain(pid)
    for i in range(batches):
        tests = suggest(api, pid, batch_size=20, seed=100 + i).json()["tests"]
        r = api.client.post(
            f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": [run_of(t) for t in tests]}
        )
        assert r.status_code == 200, r.text
    return pid


@pytest.mark.parametrize(
    ("pareto", "field"),
    [
        ({"objectives": ["coverage_gain", "speed"]}, "body.pareto.objectives[1]"),
        ({"objectives": ["cost", "flakiness", "cost"]}, "body.pareto.objectives"),
        ({"objectives": ["cost"]}, "body.pareto.objectives"),
        ({"select": "best"}, "body.pareto.select"),
        ({"weights": [1, 1, 1, 1]}, "body.pareto.weights"),  # weights without select scalarise
        ({"select": "scalarise", "weights": [1, 1]}, "body.pareto.weights"),
        ({"select": "scalarise", "weights": [0, 0, 0, 0]}, "body.pareto.weights"),
        ({"select": "scalarise", "weights": [1, -1, 1, 1]}, "body.pareto.weights[1]"),
        ({"max_front": 0}, "body.pareto.max_front"),
        ({"max_front": 501}, "body.pareto.max_front"),
        ({"objective": ["cost", "flakiness"]}, "body.pareto.objective"),
        ("yes", "body.pareto"),
    ],
)
def test_bad_pareto_requests_are_422_naming_the_field(api: Api, pareto: Any, field: str) -> None:
    pid = api.project()
    api.constrain(pid)
    before = api.audit_count()
    r = suggest(api, pid, batch_size=5, pareto=pareto)
    assert r.status_code == 422, r.text
    assert field in api.error_fields(r), api.error_fields(r)
    assert api.deps.store.tests.max_seq(pid) == 0 and api.audit_count() == before


def test_pareto_is_not_available_with_stream(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    r = suggest(api, pid, batch_size=5, stream=True, pareto=True)
    assert r.status_code == 422 and api.error_fields(r) == ["body.pareto"]
    assert api.deps.store.tests.max_seq(pid) == 0


@pytest.mark.parametrize("off", [False, None])
def test_pareto_false_or_null_is_no_front(api: Api, off: Any) -> None:
    pid = api.project()
    api.constrain(pid)
    r = suggest(api, pid, batch_size=3, seed=1, pareto=off)
    assert r.status_code == 200, r.text
    assert "pareto" not in r.json() and len(r.json()["tests"]) == 3


def _dominates(a: dict[str, float], b: dict[str, float]) -> bool:
    ge = all(GOAL[k] * a[k] >= GOAL[k] * b[k] for k in a)
    return ge and any(GOAL[k] * a[k] > GOAL[k] * b[k] for k in a)


def test_pareto_true_returns_a_front_of_mutually_non_dominated_candidates(api: Api) -> None:
    pid = with_history(api)
    r = suggest(api, pid, batch_size=10, seed=5, pareto=True)
    assert r.status_code == 200, r.text
    out = r.json()
    p = out["pareto"]
    names = ["coverage_gain", "failure_prob", "duration_ms", "flakiness"]
    assert [o["name"] for o in p["objectives"]] == names
    assert [o["goal"] for o in p["objectives"]] == ["max", "max", "min", "min"]
    assert p["select"] == "none" and p["pool_size"] >= p["sorted"] >= p["front_size"] == len(p["front"]) > 0
    assert p["fronts"] >= 1
    ids = {t["id"] for t in out["tests"]}
    for m in p["front"]:
        assert set(m["values"]) == set(names)
        assert m["test_id"] is None or m["test_id"] in ids
        assert m["crowding_distance"] is None or m["crowding_distance"] >= 0
        assert m["operator"] and set(m["params"]) <= {"payload_kb", "region", "retries", "timeout_s", "cache"}
    for a in p["front"]:
        assert not any(_dominates(b["values"], a["values"]) for b in p["front"])
    # durations are learned from the runs (10 ms + payload): they differ across the front
    assert len({m["values"]["duration_ms"] for m in p["front"]}) > 1 or p["front_size"] == 1
    rec = [a for a in api.deps.store.audit.list(project_id=pid) if a.action == "tests.suggest"][-1]
    assert rec.details["pareto"]["front_size"] == p["front_size"]


def test_crowding_selection_takes_the_whole_front_when_it_fits(api: Api) -> None:
    pid = with_history(api)
    body = {"objectives": ["coverage_gain", "duration_ms"], "select": "crowding"}
    out = suggest(api, pid, batch_size=30, seed=2, pareto=body).json()
    p = out["pareto"]
    assert p["select"] == "crowding" and p["front_size"] <= 30
    assert all(m["test_id"] is not None for m in p["front"])  # front 1 is taken first, whole
    assert len(out["tests"]) == 30


def test_scalarised_selection_follows_the_weights(api: Api) -> None:
    pid = with_history(api)
    body = {
        "objectives": ["coverage_gain", "duration_ms"],
        "select": "scalarise",
        "weights": [0.0, 1.0],
        "max_front": 500,
    }
    out = suggest(api, pid, batch_size=3, seed=4, pareto=body).json()
    front = out["pareto"]["front"]
    fastest = min(front, key=lambda m: m["values"]["duration_ms"])
    assert fastest["test_id"] in {t["id"] for t in out["tests"]}


def test_seeded_pareto_runs_reproduce(api: Api) -> None:
    a, b = with_history(api, "one"), with_history(api, "two")
    body = {"select": "crowding", "objectives": ["coverage_gain", "failure_prob", "cost"]}
    ra = suggest(api, a, batch_size=8, seed=9, pareto=body).json()
    rb = suggest(api, b, batch_size=8, seed=9, pareto=body).json()
    assert [t["params"] for t in ra["tests"]] == [t["params"] for t in rb["tests"]]
    strip = lambda p: [{k: v for k, v in m.items() if k != "test_id"} for m in p["front"]]  # noqa: E731
    assert strip(ra["pareto"]) == strip(rb["pareto"])


def test_flakiness_is_predicted_from_nearby_reruns(api: Api) -> None:
    pid = with_history(api)
    tests = suggest(api, pid, batch_size=5, seed=1).json()["tests"]
    runs = [{**run_of(t), "status": "pass"} for t in tests]
    for t in tests:  # every one of them flips on rerun
        flips = enumerate(["fail", "pass", "fail"])
        runs += [{"test_id": f"{t['id']}~{k}", "rerun_of": t["id"], "status": s} for k, s in flips]
    assert api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs}).json()[
        "accepted"
    ] == len(runs)
    body = {"objectives": ["coverage_gain", "flakiness"], "max_front": 500}
    p = suggest(api, pid, batch_size=20, seed=3, pareto=body).json()["pareto"]
    flak = [m["values"]["flakiness"] for m in p["front"]]
    assert all(0 < f < 1 for f in flak)
    assert min(flak) < 0.06  # far from the flaky params: about the prior mean (0.05)


def test_model_backed_suggestions_expose_the_committees_disagreement(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    first = suggest(api, pid, batch_size=20, seed=1).json()
    assert all("uncertainty" not in e for e in first["explanations"])  # no model before 16 runs
    runs = {"runs": [run_of(t) for t in first["tests"]]}
    assert api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json=runs).status_code == 200
    for generator in ("hybrid", "active", "bo"):
        out = suggest(api, pid, batch_size=6, seed=2, generator=generator).json()
        u = [e["uncertainty"] for e in out["explanations"]]
        assert len(u) == 6 and all(x >= 0 for x in u), generator
        assert all("surrogate committee disagreement" in e["rationale"] for e in out["explanations"])
    out = suggest(api, pid, batch_size=6, seed=2, generator="qmc").json()
    assert all("uncertainty" not in e for e in out["explanations"])  # model-free generators have none
