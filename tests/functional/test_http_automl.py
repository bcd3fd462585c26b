"""AutoML over HTTP: the measured flow end to end on breast_cancer, and bad input refused by field.

ingest (multipart) -> experiment -> run -> leaderboard -> register the winner by trial_id ->
deploy to staging -> predict, then the lineage dataset -> trial -> model_version.
"""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import pytest

from optiloop.config import Settings

pytest.importorskip("sklearn")
pytest.importorskip("xgboost")
pytest.importorskip("optuna")


@pytest.fixture
def settings() -> Settings:
    return Settings(
        backend="memory",
        admin_token="test-admin-token-0123456789",
        max_body_bytes=512 * 1024,
        max_upload_bytes=512 * 1024,
    )


def _csv(rows: list[list[Any]], header: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode()


@pytest.fixture(scope="module")
def breast_cancer() -> tuple[bytes, list[dict[str, float]]]:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    names = [n.replace(" ", "_") for n in d.feature_names]
    rows = [[*map(float, x), int(t)] for x, t in zip(d.data, d.target, strict=True)]
    held_out = [dict(zip(names, map(float, x), strict=True)) for x in d.data[:5]]
    return _csv(rows, [*names, "target"]), held_out


def ingest(api: Any, pid: str, data: bytes, filename: str = "t.csv", name: str = "table") -> Any:
    return api.client.post(
        "/v1/datasets/ingest",
        headers=api.admin,
        files={"file": (filename, data, "text/csv")},
        data={"project_id": pid, "name": name},
    )


def experiment_body(pid: str, dataset_id: str, **config: Any) -> dict[str, Any]:
    return {
        "project_id": pid,
        "task_type": "classification",
        "objective": "maximize_auc",
        "dataset_id": dataset_id,
        "target": "target",
        "config": {
            "cv": {"type": "stratified_kfold", "folds": 3, "seed": 42},
            "hpo": {"sampler": "bayes", "trials": 6, "early_stopping": "ASHA"},
            "imbalance": {"method": "class_weight"},
            "constraints": {"latency_ms_p95": 500},
            "budget_s": 60,
            **config,
        },
    }


def wait(api: Any, exp_id: str, timeout: float = 60) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin)
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("completed", "failed", "cancelled"):
            return r.json()
        time.sleep(0.1)
    raise AssertionError(f"experiment {exp_id} did not finish in {timeout} s")


def test_the_measured_flow_on_breast_cancer(api: Any, breast_cancer: Any) -> None:
    data, held_out = breast_cancer
    pid = api.project("automl")
    r = ingest(api, pid, data, "breast_cancer.csv", "breast cancer")
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["kind"] == "table" and ds["rows"] == 569 and ds["fingerprint"].startswith("sha256:")
    assert {c["type"] for c in ds["schema"]} == {"numeric"}
    got = api.client.get(f"/v1/datasets/{ds['id']}", headers=api.admin).json()
    assert got["fingerprint"] == ds["fingerprint"] and got["report"]["rows"] == 569

    # the trial budget (6) ends this search, not the clock: a loaded CI machine must not change which
    # trials ran, so the time budget is far above what 6 trials take and the wait longer still
    body = experiment_body(pid, ds["id"], budget_s=600)
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "created" and created["leaderboard_url"].endswith("/leaderboard")
    exp_id = created["experiment_id"]
    r = api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin)
    assert r.status_code == 202, r.text
    exp = wait(api, exp_id, timeout=300)
    assert exp["status"] == "completed", exp
    assert exp["progress"]["trials_done"] == 6
    assert exp["ranking_snapshot"].endswith(f"/{exp_id}/leaderboard.json")  # the completed ranking, stored

    board = api.client.get(f"/v1/experiments/{exp_id}/leaderboard", headers=api.admin).json()
    aucs = [t["metrics"]["auc"] for t in board["trials"]]
    # the winner by config.selection (one_se: the simplest within one paired SE of the best mean)
    # first, then the rest best first; the experiment's best and its report name the same trial
    sel = board["selection"]
    assert sel["rule"] == "one_se" and sel["trial_id"] == board["trials"][0]["trial_id"], sel
    best_mean = next(t for t in board["trials"] if t["trial_id"] == sel["best_mean_trial_id"])
    assert best_mean["metrics"]["auc"] == max(aucs) and aucs[1:] == sorted(aucs[1:], reverse=True)
    assert sel["gap"] <= sel["se"] and isinstance(sel["reason"], str) and aucs[0] > 0.98
    assert exp["best"]["trial_id"] == exp["report"]["trial_id"] == sel["trial_id"]
    assert {"trial_id", "model", "metrics"} <= set(board["trials"][0])
    # the report explains the winner: SHAP, PDP/ICE of its top features, the reliability curve and the
    # threshold table (out-of-fold unless the winner is the ensemble), each also drawn as a PNG
    rep = exp["report"]
    assert len(rep["shap"]["mean_abs"]) == 30 and rep["shap"]["rows"] > 0
    assert [c["feature"] for c in rep["partial_dependence"]] == [
        r["feature"] for r in rep["permutation_importance"][:3]
    ]
    assert (
        sum(b["count"] for b in rep["calibration"]["curve"]) >= 569 and rep["calibration"]["ece"] is not None
    )
    assert [r["threshold"] for r in rep["thresholds"]["rows"]][:2] == [0.05, 0.1]
    assert (rep["calibration"]["source"] == "out-of-fold") == (board["trials"][0]["model"] != "ensemble")
    files = rep["plots"]["files"]
    assert {"importance.png", "shap.png", "pdp_0.png", "reliability.png", "thresholds.png"} <= set(files)
    r = api.client.get(f"/v1/experiments/{exp_id}/report/shap.png", headers=api.admin)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"
    assert len(r.content) == files["shap.png"]
    r = api.client.get(f"/v1/experiments/{exp_id}/report/nope.png", headers=api.admin)
    assert r.status_code == 404 and api.error_fields(r) == ["file"]
    r = api.client.get(f"/v1/experiments/{exp_id}/report/..%2Fx.png", headers=api.admin)
    assert r.status_code in (404, 422)
    trials = api.client.get(f"/v1/experiments/{exp_id}/trials", headers=api.admin).json()["items"]
    searched = [t for t in trials if t["family"] != "ensemble"]
    assert len(searched) == 6 and "logistic_regression" in {t["model"] for t in searched}
    # the greedy ensemble, when it keeps two or more trials, is one more candidate after them
    assert all(t["number"] == 6 and t["runtime"] == "ensemble" for t in trials if t not in searched)

    model = api.client.post("/v1/models", headers=api.admin, json={"project_id": pid, "name": "bc"}).json()
    winner = board["trials"][0]["trial_id"]
    r = api.client.post(f"/v1/models/{model['id']}/versions", headers=api.admin, json={"trial_id": winner})
    assert r.status_code == 201, r.text
    version = r.json()
    assert version["source"]["trial_id"] == winner and version["data_fingerprint"] == ds["fingerprint"]
    # the winner's card carries the report's tables, and its plots copied beside it
    card = api.client.get(f"/v1/models/{model['id']}/versions/1/card", headers=api.admin).json()
    ex = card["explanation"]
    assert ex["permutation_importance"] == rep["permutation_importance"][:10] and ex["reliability_curve"]
    assert set(ex["plots"]) == set(files) and all(v.startswith("sha256:") for v in ex["plots"].values())
    r = api.client.get(f"/v1/models/{model['id']}/versions/1/card/shap.png", headers=api.admin)
    assert (
        r.status_code == 200
        and r.headers["content-type"] == "image/png"
        and len(r.content) == files["shap.png"]
    )
    md = api.client.get(
        f"/v1/models/{model['id']}/versions/1/card", headers={**api.admin, "Accept": "text/markdown"}
    )
    assert "## Explanation (the experiment's report)" in md.text and "![shap.png](card/shap.png)" in md.text
    r = api.client.get(f"/v1/models/{model['id']}/versions/1/card/nope.png", headers=api.admin)
    assert r.status_code == 404 and api.error_fields(r) == ["file"]
    again = api.client.post(
        f"/v1/models/{model['id']}/versions", headers=api.admin, json={"trial_id": winner}
    )
    assert again.status_code == 409, again.text

    r = api.client.post(
        "/v1/deployments",
        headers=api.admin,
        json={"model_version_id": version["id"], "environment": "staging"},
    )
    assert r.status_code == 201, r.text
    dep = r.json()
    r = api.client.post(f"/v1/inference/{dep['id']}:predict", headers=api.admin, json={"instances": held_out})
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert len(preds) == 5 and all(0.0 <= p["score"] <= 1.0 and p["label"] in (0, 1) for p in preds)
    assert [p["label"] for p in preds] == [0, 0, 0, 0, 0]  # the first rows of breast_cancer are malignant

    lin = api.client.get(f"/v1/lineage/model_version/{version['id']}", headers=api.admin).json()
    upstream = (
        {(n["type"], n["id"]) for n in lin["upstream"]["nodes"]}
        if "nodes" in lin.get("upstream", {})
        else None
    )
    text = str(lin)
    assert winner in text and ds["id"] in text, upstream


def test_a_golden_set_still_reads_at_the_same_resource(api: Any) -> None:
    pid = api.project("golden")
    r = api.client.post("/v1/datasets", headers=api.admin, json={"project_id": pid, "name": "g"})
    assert r.status_code == 201, r.text
    got = api.client.get(f"/v1/datasets/{r.json()['id']}", headers=api.admin)
    assert got.status_code == 200 and got.json()["example_count"] == 0


def test_json_lines_ingest_types_each_column(api: Any) -> None:
    pid = api.project("jsonl")
    lines = [
        json.dumps(
            {
                "age": 20 + k,
                "plan": "ab"[k % 2],
                "active": bool(k % 3),
                "joined": f"2024-01-{k % 28 + 1:02d}",
                "customer_id": f"c{k}",
                "y": k % 2,
            }
        )
        for k in range(30)
    ]
    r = ingest(api, pid, "\n".join(lines).encode(), "t.jsonl")
    assert r.status_code == 201, r.text
    types = {c["name"]: c["type"] for c in r.json()["schema"]}
    assert types == {
        "age": "numeric", "plan": "categorical", "active": "boolean", "joined": "datetime",
        "customer_id": "id", "y": "numeric",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (b"a,b,target\n1,2,0\n3,4\n", "file", "line 3 has 2 fields"),
        (b"", "file", "empty"),
        (b"a,b,target\n", "file", "no rows"),
        (b"a,a\n1,2\n", "file", "twice"),
    ],
)
def test_bad_files_are_refused_by_field_and_line(api: Any, data: bytes, field: str, reason: str) -> None:
    pid = api.project("bad")
    before = api.audit_count()
    r = ingest(api, pid, data)
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    assert details[0]["field"] == field and reason in details[0]["reason"], details
    assert api.audit_count() == before and api.deps.blobs.list("datasets/") == []


def test_an_upload_over_the_body_limit_is_a_413(api: Any) -> None:
    pid = api.project("big")
    huge = b"a,target\n" + b"1,0\n" * (600 * 1024 // 4)
    assert ingest(api, pid, huge).status_code == 413
    r = api.client.post(
        "/v1/datasets/ingest",
        headers={
            **api.admin,
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(2 * 1024**3),
        },
        content=b"--x--",
    )
    assert r.status_code == 413, r.text


def test_unknown_project_and_missing_fields(api: Any) -> None:
    r = ingest(api, "prj_nope", b"a,target\n1,0\n")
    assert r.status_code == 404 and api.error_fields(r) == ["project_id"]
    r = api.client.post(
        "/v1/datasets/ingest", headers=api.admin, files={"file": ("t.csv", b"a\n1\n", "text/csv")}
    )
    assert r.status_code == 422 and set(api.error_fields(r)) == {"project_id", "name"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target": "nope"}, "target"),
        ({"target": "const"}, "target"),
        ({"objective": "minimize_auc"}, "objective"),
        ({"config": {"budget_s": 0}}, "config.budget_s"),
        ({"config": {"budget_cpu_s": -1}}, "config.budget_cpu_s"),
        ({"config": {"selection": "median"}}, "config.selection"),
        ({"config": {"cv": {"repeats": 0}}}, "config.cv.repeats"),
        ({"config": {"cv": {"repeats": 11}}}, "config.cv.repeats"),
        ({"dataset_id": "ds_missing"}, "dataset_id"),
    ],
)
def test_bad_experiments_are_refused_by_field(api: Any, change: dict[str, Any], field: str) -> None:
    pid = api.project("exp")
    rows = [[k, k % 2, 1] for k in range(30)]
    ds = ingest(api, pid, _csv(rows, ["x", "target", "const"])).json()
    body = {**experiment_body(pid, ds["id"]), **change}
    r = api.client.post("/v1/experiments", headers=api.admin, json=body)
    assert r.status_code in (404, 422), r.text
    assert any(f.removeprefix("body.") == field for f in api.error_fields(r)), r.text


def test_cancel_and_run_twice(api: Any) -> None:
    pid = api.project("cancel")
    rows = [[k, (k * 7) % 5, k % 2] for k in range(60)]
    ds = ingest(api, pid, _csv(rows, ["x", "z", "target"])).json()
    body = experiment_body(pid, ds["id"], models=["logistic_regression"], hpo={"trials": 2})
    exp_id = api.client.post("/v1/experiments", headers=api.admin, json=body).json()["experiment_id"]
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 202
    assert wait(api, exp_id)["status"] == "completed"
    assert api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin).status_code == 409
    exp2 = api.client.post("/v1/experiments", headers=api.admin, json=body).json()["experiment_id"]
    r = api.client.post(f"/v1/experiments/{exp2}/cancel", headers=api.admin)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"


def test_a_server_without_the_automl_extra_refuses_the_run_and_queues_nothing(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from optiloop.automl import worker

    pid = api.project("no-extra")
    rows = "".join(f"{k % 7},{k % 3},{k % 2}\n" for k in range(40))
    ds = ingest(api, pid, f"a,b,target\n{rows}".encode()).json()
    exp_id = api.client.post(
        "/v1/experiments", headers=api.admin, json=experiment_body(pid, ds["id"])
    ).json()["experiment_id"]
    real = importlib.util.find_spec
    monkeypatch.setattr(
        worker.importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a)
    )
    r = api.client.post(f"/v1/experiments/{exp_id}/run", headers=api.admin)
    assert r.status_code == 409, r.text
    assert "optuna not installed" in r.json()["error"]["message"]
    assert "optiloop[automl]" in r.json()["error"]["message"]
    assert api.client.get(f"/v1/experiments/{exp_id}", headers=api.admin).json()["status"] == "created"


def test_a_projects_experiments_are_listed_oldest_first_as_summaries(api: Any) -> None:
    """AutoML searches and online experiments share the resource, so the listing shows both, each
    as what it is, where it stands and its best so far (not its config or report); paged by `after`."""
    pid = api.project("listing")
    rows = [[k, (k * 7) % 5, k % 2] for k in range(60)]
    ds = ingest(api, pid, _csv(rows, ["x", "z", "target"])).json()
    body = experiment_body(pid, ds["id"], models=["logistic_regression"], hpo={"trials": 2})
    first = api.client.post("/v1/experiments", headers=api.admin, json=body).json()["experiment_id"]
    assert api.client.post(f"/v1/experiments/{first}/run", headers=api.admin).status_code == 202
    done = wait(api, first)
    online = {"project_id": pid, "name": "routing", "type": "AB",
              "variants": [{"id": "a", "config": {"model": "m1"}}, {"id": "b", "config": {"model": "m2"}}],
              "metric": {"name": "success", "kind": "binary", "direction": "maximize"}}  # fmt: skip
    second = api.client.post("/v1/experiments", headers=api.admin, json=online).json()["id"]
    r = api.client.get("/v1/experiments", headers=api.admin, params={"project_id": pid})
    assert r.status_code == 200, r.text
    automl, ab = r.json()["items"]
    assert (automl["id"], ab["id"]) == (first, second) and r.json()["next_after"] is None
    assert automl["kind"] == "automl" and automl["status"] == "completed" and automl["metric"] == "auc"
    assert automl["best"]["trial_id"] == done["best"]["trial_id"] and automl["progress"]["trials_done"] == 2
    assert not {"config", "report", "features", "type"} & set(automl)
    assert ab["kind"] == "online" and ab["type"] == "AB" and ab["metric"] == "success"
    assert not {"task_type", "best", "progress"} & set(ab)
    page = api.client.get("/v1/experiments", headers=api.admin, params={"project_id": pid, "limit": 1}).json()
    assert [e["id"] for e in page["items"]] == [first] and page["next_after"] == first
    rest = api.client.get("/v1/experiments", headers=api.admin, params={"project_id": pid, "after": first})
    assert [e["id"] for e in rest.json()["items"]] == [second]
    r = api.client.get("/v1/experiments", headers=api.admin)
    assert r.status_code == 422 and api.error_fields(r) == ["project_id"]
    r = api.client.get("/v1/experiments", headers=api.admin, params={"project_id": "prj_nope"})
    assert r.status_code == 404 and api.error_fields(r) == ["project_id"]
