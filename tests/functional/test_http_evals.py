"""Golden sets and evaluations over HTTP, with the deterministic provider (no network)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from optiloop.prompts.metrics import aggregate, score

GOOD = "Q: {{question}}\nA: {{hint}}"
WORSE = "Q: {{question}}\nA: {{hint}} or so"
EXAMPLES = [
    {"id": f"ex{i}", "input": {"question": f"{i}+{i}?", "hint": str(2 * i)}, "expected": str(2 * i)}
    for i in range(12)
]


def setup(api: Any) -> tuple[str, str, str]:
    pid = api.project()
    prm = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": "math"}).json()[
        "id"
    ]
    ds = api.client.post("/v1/datasets", headers=api.admin, json={"project_id": pid, "name": "golden"})
    assert ds.status_code == 201, ds.text
    return pid, prm, ds.json()["id"]


def version(api: Any, prm: str, body: str, headers: dict | None = None) -> str:
    r = api.client.post(
        f"/v1/prompts/{prm}/versions",
        headers=headers or api.admin,
        json={"body": body, "variables": {"question": "str", "hint": "str"}, "model": "det-echo-small"},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def upload_jsonl(api: Any, ds: str, examples: list[dict]) -> Any:
    body = "\n".join(json.dumps(e) for e in examples).encode()
    return api.client.post(
        f"/v1/datasets/{ds}/examples",
        headers={**api.admin, "Content-Type": "application/x-ndjson"},
        content=body,
    )


def test_jsonl_upload_is_idempotent_and_immutable(api: Any) -> None:
    _, _, ds = setup(api)
    r = upload_jsonl(api, ds, EXAMPLES)
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 12 and r.json()["example_count"] == 12
    again = upload_jsonl(api, ds, EXAMPLES[:3])
    assert again.json()["added"] == 0
    changed = [{**EXAMPLES[0], "expected": "5"}]
    r = api.client.post(f"/v1/datasets/{ds}/examples", headers=api.admin, json={"examples": changed})
    assert r.status_code == 409
    listed = api.client.get(f"/v1/datasets/{ds}/examples", headers=api.admin).json()
    assert listed["total"] == 12 and listed["items"][0]["id"] == "ex0"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"id": "a", "input": {}, "expected": "x"}\n{not json}', "line 2"),
        (b'{"id": "a", "input": "q", "expected": "x"}', "examples[0].input"),
        (b'{"id": "a", "input": {}}', "examples[0].expected"),
        (b'{"id": "a b", "input": {}, "expected": "x"}', "examples[0].id"),
    ],
)
def test_bad_examples_are_422_and_nothing_is_written(api: Any, body: bytes, field: str) -> None:
    _, _, ds = setup(api)
    r = api.client.post(
        f"/v1/datasets/{ds}/examples",
        headers={**api.admin, "Content-Type": "application/x-ndjson"},
        content=body,
    )
    assert r.status_code == 422 and field in api.error_fields(r)
    assert api.client.get(f"/v1/datasets/{ds}", headers=api.admin).json()["example_count"] == 0


def test_eval_scores_every_example_and_flags_a_regression_against_prod(api: Any) -> None:
    pid, prm, ds = setup(api)
    upload_jsonl(api, ds, EXAMPLES)
    alice = api.key("contributor", pid, principal="alice")
    good = version(api, prm, GOOD, alice)
    bob = api.key("admin", pid, principal="bob")
    api.client.post(f"/v1/prompt_versions/{good}/submit_for_approval", headers=alice)
    assert api.client.post(f"/v1/prompt_versions/{good}/approve", headers=bob).status_code == 200
    assert (
        api.client.post(
            "/v1/deployments", headers=api.admin, json={"prompt_version_id": good, "environment": "prod"}
        ).status_code
        == 201
    )

    worse = version(api, prm, WORSE)
    r = api.client.post(
        "/v1/evals/run",
        headers=api.admin,
        json={
            "prompt_version_id": worse,
            "dataset_id": ds,
            "metrics": ["exact_match", "f1", "rouge_l", "bleu"],
        },
    )
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["n"] == 12 and run["errors"] == 0
    em = run["aggregates"]["exact_match"]
    assert em["mean"] == 0.0 and em["ci_low"] <= em["mean"] <= em["ci_high"]
    # agrees with the metric functions applied by hand to what the model said
    results = api.client.get(f"/v1/evals/{run['id']}/results", headers=api.admin).json()["items"]
    f1s = [score("f1", row["output"], EXAMPLES[i]["expected"]) for i, row in enumerate(results)]
    assert run["aggregates"]["f1"]["mean"] == pytest.approx(aggregate(f1s)["mean"], abs=1e-9)
    cmp = run["comparison"]
    assert cmp["baseline_version_id"] == good and cmp["verdict"] == "regression"
    assert (
        cmp["metrics"]["exact_match"]["verdict"] == "worse"
        and cmp["metrics"]["exact_match"]["p_value"] < 0.01
    )
    assert api.client.get(f"/v1/evals/{run['id']}", headers=api.admin).json()["id"] == run["id"]


def test_policy_gate_reads_a_real_evaluation(api: Any) -> None:
    pid, prm, ds = setup(api)
    upload_jsonl(api, ds, EXAMPLES)
    api.client.post(
        f"/v1/projects/{pid}/policies",
        headers=api.admin,
        json={
            "name": "em-gate",
            "scope": "prompt_version",
            "rule": {"if": {"eval.exact_match": {">=": 0.8}}, "then": "require_approval"},
        },
    )
    worse = version(api, prm, WORSE)
    api.client.post(
        "/v1/evals/run",
        headers=api.admin,
        json={"prompt_version_id": worse, "dataset_id": ds, "compare_to": None},
    )
    r = api.client.post(f"/v1/prompt_versions/{worse}/submit_for_approval", headers=api.admin)
    assert r.status_code == 409 and "em-gate" in r.text and "is 0" in r.text
    good = version(api, prm, GOOD)
    api.client.post(
        "/v1/evals/run",
        headers=api.admin,
        json={"prompt_version_id": good, "dataset_id": ds, "compare_to": None},
    )
    assert (
        api.client.post(f"/v1/prompt_versions/{good}/submit_for_approval", headers=api.admin).status_code
        == 201
    )


def test_unknown_metric_and_cross_project_dataset_are_422(api: Any) -> None:
    _, prm, ds = setup(api)
    upload_jsonl(api, ds, EXAMPLES[:2])
    v = version(api, prm, GOOD)
    r = api.client.post(
        "/v1/evals/run",
        headers=api.admin,
        json={"prompt_version_id": v, "dataset_id": ds, "metrics": ["vibes"]},
    )
    assert r.status_code == 422 and api.error_fields(r) == ["metrics"]
    _, _, other_ds = setup(api)
    upload_jsonl(api, other_ds, EXAMPLES[:2])
    r = api.client.post(
        "/v1/evals/run", headers=api.admin, json={"prompt_version_id": v, "dataset_id": other_ds}
    )
    assert r.status_code == 422 and api.error_fields(r) == ["dataset_id"]


def test_a_provider_outage_stops_the_run_with_502_and_writes_nothing(api: Any) -> None:
    from optiloop.prompts.catalog import load_catalog
    from optiloop.prompts.generation import Gateway
    from optiloop.prompts.providers.deterministic import DeterministicProvider
    from optiloop.prompts.providers.port import ProviderError
    from optiloop.prompts.routing import Router

    _, prm, ds = setup(api)
    upload_jsonl(api, ds, EXAMPLES)
    v = version(api, prm, GOOD)
    down = DeterministicProvider({"echo": ProviderError("503"), "json": ProviderError("503")})
    catalog = load_catalog(None)
    api.deps.gateway = Gateway(catalog, Router(catalog, {"deterministic": down}, sleep=lambda s: None))
    r = api.client.post("/v1/evals/run", headers=api.admin, json={"prompt_version_id": v, "dataset_id": ds})
    assert r.status_code == 502 and "in a row" in r.json()["error"]["message"]
    assert api.deps.store.docs.list("eval_run", v) == []  # no partial run was stored


def test_examples_and_results_page_with_after_and_keep_offset(api: Any) -> None:
    """One cursor name across the API (issue 12): examples and results answer `next_after` and take
    it back as `after`; the old `offset` still works (deprecated); a cursor that is not one is a 422."""
    _, prm, ds = setup(api)
    upload_jsonl(api, ds, EXAMPLES)
    run = api.client.post(
        "/v1/evals/run",
        headers=api.admin,
        json={"prompt_version_id": version(api, prm, GOOD), "dataset_id": ds, "metrics": ["exact_match"]},
    ).json()
    for path, key in (
        (f"/v1/datasets/{ds}/examples", "id"),
        (f"/v1/evals/{run['id']}/results", "example_id"),
    ):
        seen: list[Any] = []
        after: str | None = None
        while True:
            q = {"limit": 5, **({"after": after} if after else {})}
            page = api.client.get(path, headers=api.admin, params=q).json()
            seen.extend(row.get(key, row.get("id")) for row in page["items"])
            after = page["next_after"]
            if after is None:
                break
        assert len(seen) == len(EXAMPLES) == len(set(seen)), (path, seen)
        old = api.client.get(path, headers=api.admin, params={"offset": 5, "limit": 5}).json()
        new = api.client.get(path, headers=api.admin, params={"after": "5", "limit": 5}).json()
        assert old["items"] == new["items"] and old["next_after"] == "10"
        r = api.client.get(path, headers=api.admin, params={"after": "ex3"})
        assert r.status_code == 422 and api.error_fields(r) == ["after"], r.text
