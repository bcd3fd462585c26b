"""Regressions found by running the issues' measured flows against a real server from outside.

Each test is one bad input that an outside evaluator sent over HTTP and that got a wrong answer: it
must be a 4xx in the API's error shape naming the field, and nothing may be written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.functional.conftest import Api


@pytest.mark.parametrize("name", ["bad\x00name", "ab\u202ecd", "zero\u200bwidth"])
def test_a_multipart_dataset_name_with_control_or_format_characters_is_refused(api: Api, name: str) -> None:
    pid = api.project()
    before = api.audit_count()
    r = api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        data={"project_id": pid, "name": name},
        files={"file": ("t.csv", b"a,b\n1,2\n3,4\n", "text/csv")},
    )
    assert r.status_code == 422, r.text
    assert api.error_fields(r) == ["name"]
    assert api.audit_count() == before  # no dataset.ingested: nothing stored


def test_thompson_sampling_keeps_exploring_when_each_decision_gets_its_reward(api: Api) -> None:
    """Each reward replaced the cached policy with a freshly seeded generator, so every decision drew
    the same normals: a 5-arm Bandit rewarded after each decision picked one arm 300 times in a row."""
    pid = api.project()
    body = {
        "project_id": pid,
        "name": "five arms",
        "type": "Bandit",
        "seed": 7,
        "variants": [{"name": f"v{i}"} for i in range(5)],
    }
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    exp_id = r.json()["id"]
    assert api.client.post(f"/v1/experiments/{exp_id}/start", headers=api.admin).status_code == 200
    chosen: set[str] = set()
    for i in range(60):  # equal arms, alternating rewards: every arm must be tried
        d = api.client.post(
            "/v1/decisions", headers=api.admin, json={"experiment_id": exp_id, "unit_id": f"u{i}"}
        )
        assert d.status_code == 201, d.text
        chosen.add(d.json()["variant"])
        f = api.client.post(
            "/v1/feedback", headers=api.admin, json={"decision_id": d.json()["decision_id"], "reward": i % 2}
        )
        assert f.status_code == 200, f.text
    assert len(chosen) == 5, chosen


def test_a_case_to_prioritize_without_a_param_of_the_space_is_refused(api: Api) -> None:
    """It was scored, and reported feasible, at the middle of the missing param's range."""
    pid = api.project()
    api.constrain(pid)
    case = {"payload_kb": 10, "region": "eu", "retries": 1, "timeout_s": 1.0, "cache": True}
    partial = {k: v for k, v in case.items() if k != "retries"}
    r = api.client.post(
        f"/v1/projects/{pid}/tests:prioritize",
        headers=api.admin,
        json={"tests": [{"id": "full", "params": case}, {"id": "partial", "params": partial}]},
    )
    assert r.status_code == 422, r.text
    assert api.error_fields(r) == ["tests[1].params.retries"]
