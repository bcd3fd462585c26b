"""Regressions found by running the issues' measured flows against a real server from outside.

Each test is one bad input that an outside evaluator sent over HTTP and that got a wrong answer: it
must be a 4xx in the API's error shape naming the field, and nothing may be written.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from optiloop.config import Settings

if TYPE_CHECKING:
    from tests.functional.conftest import Api


@pytest.fixture
def settings() -> Settings:
    """Bodies large enough for a 100,000-character variable (the default here is 64 KiB)."""
    return Settings(backend="memory", admin_token="test-admin-token-0123456789", max_body_bytes=512 * 1024)


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


def _question_prompt_on_dev(api: Api, name: str) -> str:
    """A project with prompt `name` ("Q: {{question}}") deployed on the dev label; its id."""
    pid = api.project()
    pr = api.client.post(f"/v1/projects/{pid}/prompts", headers=api.admin, json={"name": name}).json()["id"]
    v = api.client.post(
        f"/v1/prompts/{pr}/versions",
        headers=api.admin,
        json={"body": "Q: {{question}}", "variables": {"question": "str"}},
    ).json()["id"]
    dep = {"prompt_version_id": v, "environment": "dev"}
    assert api.client.post("/v1/deployments", headers=api.admin, json=dep).status_code == 201
    return str(pid)


def test_a_variable_is_measured_in_characters_not_in_escaped_json(api: Api) -> None:
    """Each non-ASCII character counted six times (its \\uXXXX escape): a Chinese question of
    20,000 characters was refused as 'longer than 100000 characters'."""
    pid = _question_prompt_on_dev(api, "qa")

    def generate(question: str) -> Any:
        prompt = {"name": "qa", "label": "dev"}
        body = {"project_id": pid, "prompt": prompt, "variables": {"question": question}}
        return api.client.post("/v1/generate", headers=api.admin, json=body)

    sentence = "我们今天学习数学和历史，老师讲得非常清楚。"
    long_question = (sentence * (20_000 // len(sentence) + 1))[:20_000]
    r = generate(long_question)
    assert r.status_code == 200, r.text
    plain = "The workers gathered in the square to ask for a reform of the franchise. "
    r = generate((plain * (100_001 // len(plain) + 1))[:100_001])
    assert r.status_code == 422 and api.error_fields(r) == ["variables.question"], r.text
    assert "longer than 100000 characters" in r.json()["error"]["message"]


def test_an_automl_target_with_a_class_of_one_row_leaves_that_class_out_and_runs(api: Api) -> None:
    """Every trial failed at run time (the fold that validates the row trains without its class),
    and the experiment ended 'failed' with a shape mismatch; then creation refused the table, so a
    table with one odd label could not be used until edited. Now the class is left out with its row,
    the experiment says so, and the run completes."""
    pid = api.project()
    rows = ["x,y"] + [f"{i * 0.37 % 5:.2f},{'z' if i == 7 else 'ab'[i % 2]}" for i in range(60)]
    ds = api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        data={"project_id": pid, "name": "rare class"},
        files={"file": ("t.csv", "\n".join(rows).encode(), "text/csv")},
    )
    assert ds.status_code == 201, ds.text
    body = {
        "project_id": pid,
        "task_type": "classification",
        "objective": "logloss",
        "dataset_id": ds.json()["id"],
        "target": "y",
        "config": {"cv": {"type": "kfold", "folds": 3, "seed": 0}, "hpo": {"trials": 2, "warm_start": 0},
                   "models": ["linear"], "budget_s": 60},
    }  # fmt: skip
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    exp_id = r.json()["experiment_id"]
    exp = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
    assert exp["class_balance"] == {"a": 30, "b": 29} and exp["dropped_rows"] == 1
    assert any("'z' (1)" in w for w in exp["warnings"]), exp["warnings"]
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 202
    for _ in range(1200):
        done = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()
        if done["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    assert done["status"] == "completed", done.get("error")


def test_generate_redacts_a_chinese_address_but_not_a_sentence_about_a_place(api: Api) -> None:
    """Any run of Chinese characters ending in 里/路/道/街 was an address: '我们在学校的图书馆里' ('we, in
    the school's library') reached the model as [ADDRESS]. A street needs its number or building."""
    pid = _question_prompt_on_dev(api, "zh")

    def output(question: str) -> str:
        body = {"project_id": pid, "prompt": {"name": "zh"}, "variables": {"question": question}}
        body["prompt"]["label"] = "dev"
        r = api.client.post("/v1/generate", headers=api.admin, json=body)
        assert r.status_code == 200, r.text
        return str(r.json()["output"])

    for sentence in ("我们在学校的图书馆里看书。", "然后在湖边的茶馆里喝茶聊天。", "我知道这条路。"):
        assert "[ADDRESS]" not in output(sentence), sentence
    assert "[ADDRESS]" in output("请把包裹寄到北京市朝阳区建国路88号。")
