"""tests:suggest over HTTP. Behaviour checks skip while the engine answers 501 (not built yet)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from optiloop.testopt.spaces import space_for

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def suggest(api: Api, pid: str, headers: dict | None = None, **body: Any) -> Any:
    r = api.client.post(f"/v1/projects/{pid}/tests:suggest", headers=headers or api.admin, json=body)
    if r.status_code == 501:
        pytest.skip("tests:suggest is not implemented yet (501)")
    return r


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"batch_size": 0}, "body.batch_size"),
        ({"batch_size": 501}, "body.batch_size"),
        ({"batch_size": "20"}, "body.batch_size"),
        ({"batch_size": 2.5}, "body.batch_size"),
        ({"seed": -1}, "body.seed"),
        ({"seed": 2**64}, "body.seed"),
        ({"seed": "7"}, "body.seed"),
        ({"generator": "genetic"}, "body.generator"),
        ({"diversity": {"method": "max_min"}}, "body.diversity.method"),
        ({"diversity": {"method": "k_center", "min_distance": 1.5}}, "body.diversity.min_distance"),
        ({"diversity": {"method": "k_center", "min_distance": -0.1}}, "body.diversity.min_distance"),
        ({"objectives": ["coverage_gain", "speed"]}, "body.objectives[1]"),
        ({"objectives": ["cost", "cost"]}, "body.objectives"),
        ({"objectives": []}, "body.objectives"),
        ({"objective_weights": [1, 1]}, "body.objective_weights"),
        ({"objective_weights": [1, -1, 1]}, "body.objective_weights[1]"),
        ({"objective_weights": [0, 0, 0]}, "body.objective_weights"),
        ({"budget_cents": -1}, "body.budget_cents"),
        ({"bach_size": 3}, "body.bach_size"),
    ],
)
def test_bad_suggest_requests_are_422(api: Api, body: dict, field: str) -> None:
    pid = api.project()
    api.constrain(pid)
    before = api.audit_count()
    r = api.client.post(f"/v1/projects/{pid}/tests:suggest", headers=api.admin, json=body)
    assert r.status_code == 422, r.text
    assert field in api.error_fields(r)
    assert api.deps.store.tests.max_seq(pid) == 0 and api.audit_count() == before


def test_colon_route_is_matched_literally(api: Api) -> None:
    pid = api.project()
    # ".../tests:suggest" must not be taken for ".../tests" nor the reverse
    r = api.client.get(f"/v1/projects/{pid}/tests:suggest", headers=api.admin)
    assert r.status_code == 405
    r = api.client.post(f"/v1/projects/{pid}/tests", headers=api.admin, json={})
    assert r.status_code == 405
    r = api.client.post(f"/v1/projects/{pid}/tests%3Asuggest", headers=api.admin, json={"batch_size": 1})
    assert r.status_code in (404, 405, 409, 200, 501)


def test_suggest_unknown_project_is_404(api: Api) -> None:
    r = api.client.post("/v1/projects/prj_nope/tests:suggest", headers=api.admin, json={})
    assert r.status_code == 404


def test_suggest_without_space_is_409(api: Api) -> None:
    pid = api.project()
    r = suggest(api, pid, batch_size=3)
    assert r.status_code == 409


def test_suggested_tests_are_feasible_unique_and_sized(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    r = suggest(api, pid, headers=api.key("contributor", pid), batch_size=20, seed=7)
    assert r.status_code == 200, r.text
    tests = r.json()["tests"]
    assert len(tests) == 20
    assert len({t["id"] for t in tests}) == 20
    space = space_for(api.deps.store, pid)
    assert space.feasible_dicts([t["params"] for t in tests]).all()
    assert api.deps.store.tests.max_seq(pid) == 20
    rec = [a for a in api.deps.store.audit.list(project_id=pid) if a.action.startswith("tests.")]
    assert rec and rec[0].principal == "contributor-user"


def test_pending_tests_are_not_suggested_again(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    a = suggest(api, pid, batch_size=20, seed=1).json()["tests"]
    b = suggest(api, pid, batch_size=20, seed=1).json()["tests"]
    ids_a, ids_b = {t["id"] for t in a}, {t["id"] for t in b}
    assert not ids_a & ids_b
    canon = lambda p: tuple(sorted(p.items()))  # noqa: E731
    assert not {canon(t["params"]) for t in a} & {canon(t["params"]) for t in b}


def test_same_seed_and_history_give_the_same_suggestions(api: Api) -> None:
    p1, p2 = api.project("one"), api.project("two")
    api.constrain(p1)
    api.constrain(p2)
    a = suggest(api, p1, batch_size=10, seed=42, generator="hybrid").json()["tests"]
    b = suggest(api, p2, batch_size=10, seed=42, generator="hybrid").json()["tests"]
    assert [t["params"] for t in a] == [t["params"] for t in b]
    assert [t["id"] for t in a] != [t["id"] for t in b]


def test_viewer_cannot_suggest(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    r = api.client.post(f"/v1/projects/{pid}/tests:suggest", headers=api.key("viewer"), json={})
    assert r.status_code == 403
    assert api.deps.store.tests.max_seq(pid) == 0


def test_spent_project_budget_stops_suggestions(api: Api) -> None:
    pid = api.project(budget_cents=5)
    api.constrain(pid)
    t = api.add_tests(pid, 1)
    r = api.client.post(
        f"/v1/projects/{pid}/runs:ingest",
        headers=api.admin,
        json={"runs": [{"test_id": t[0], "status": "pass", "cost_cents": 6}]},
    )
    assert r.status_code == 200
    before = api.deps.store.tests.max_seq(pid)
    r = suggest(api, pid, batch_size=3)
    assert r.status_code == 409, r.text
    assert api.deps.store.tests.max_seq(pid) == before
    cov = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()
    assert cov["spend_cents"] == 6 and cov["budget_left_cents"] == -1
    api.client.patch(f"/v1/projects/{pid}", headers=api.admin, json={"budget_cents": None})
    assert suggest(api, pid, batch_size=3).status_code == 200


def _ndjson(r: Any) -> list[dict[str, Any]]:
    import json

    assert r.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in r.text.splitlines()]


def test_streamed_suggestions_are_ndjson_stored_in_chunks_and_summarised(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    r = suggest(api, pid, batch_size=60, seed=3, stream=True)
    assert r.status_code == 200, r.text
    lines = _ndjson(r)
    tests = [x["test"] for x in lines[:-1]]
    done = lines[-1]["done"]
    assert len(tests) == 60 == done["count"] and len({t["id"] for t in tests}) == 60
    assert all(t["rationale"] and t["suggestion_id"] in done["suggestion_ids"] for t in tests)
    assert len(done["suggestion_ids"]) == 3  # chunks of 25: 25 + 25 + 10
    space = space_for(api.deps.store, pid)
    assert space.feasible_dicts([t["params"] for t in tests]).all()
    assert api.deps.store.tests.max_seq(pid) == 60
    # the same seed and history give the same stream
    pid2 = api.project("again")
    api.constrain(pid2)
    again = [
        x["test"]["params"] for x in _ndjson(suggest(api, pid2, batch_size=60, seed=3, stream=True))[:-1]
    ]
    assert again == [t["params"] for t in tests]


def test_a_stream_that_cannot_start_is_a_plain_error(api: Api) -> None:
    pid = api.project()  # no space yet
    r = suggest(api, pid, batch_size=30, stream=True)
    assert r.status_code == 409 and "error" in r.json()


def test_a_streams_budget_ends_it_normally(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    lines = _ndjson(suggest(api, pid, batch_size=100, seed=1, stream=True, budget_cents=30))
    done = lines[-1]["done"]
    assert done["count"] == len(lines) - 1 <= 30 and done["predicted_cost_cents"] <= 30 + 1e-6
