"""Request shapes a newcomer or a seed sends: whole floats as integers, `template_engine` on prompts."""

from __future__ import annotations

from typing import Any

import pytest


def test_a_whole_float_is_an_integer_and_a_fraction_is_not(api: Any) -> None:
    pid = api.project()
    api.constrain(pid)
    url = f"/v1/projects/{pid}/tests:suggest"
    r = api.client.post(url, headers=api.admin, json={"batch_size": 3.0, "seed": 7.0, "generator": "random"})
    assert r.status_code == 200, r.text
    assert len(r.json()["tests"]) == 3
    listed = api.client.get(f"/v1/projects/{pid}/tests", headers=api.admin, params={"limit": "2.0"})
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2  # query integers too
    for bad in (3.5, "3", True):
        r = api.client.post(url, headers=api.admin, json={"batch_size": bad})
        assert r.status_code == 422 and api.error_fields(r) == ["body.batch_size"], (bad, r.text)


def test_whole_floats_in_integer_lists_and_nested_models(api: Any) -> None:
    pid = api.project()
    (tid,) = api.add_tests(pid, 1)
    run = {
        "test_id": tid,
        "status": "pass",
        "duration_ms": 12.0,
        "coverage_delta": {"buckets_hit": [1.0, 2, "a:1"]},
    }
    r = api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": [run]})
    assert r.status_code == 200, r.text
    assert r.json()["new_buckets"] == 3


def test_prompts_accept_the_seeds_template_engine(api: Any) -> None:
    pid = api.project()
    url = f"/v1/projects/{pid}/prompts"
    r = api.client.post(url, headers=api.admin, json={"name": "qa", "template_engine": "jinja2"})
    assert r.status_code == 201, r.text
    assert r.json()["template_engine"] == "jinja2"
    assert api.client.post(url, headers=api.admin, json={"name": "qb"}).json()["template_engine"] == "jinja2"


@pytest.mark.parametrize("engine", ["mustache", "", 2])
def test_another_template_engine_is_a_422_naming_the_field(api: Any, engine: Any) -> None:
    pid = api.project()
    r = api.client.post(
        f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "qa", "template_engine": engine}
    )
    assert r.status_code == 422 and api.error_fields(r) == ["body.template_engine"]
