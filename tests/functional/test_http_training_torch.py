"""A PyTorch entry point end to end: trained by the local trainer (a real subprocess on the CPU),
exported to ONNX, registered as a model version, and served through POST /v1/inference by
onnxruntime — answering what torch answered to 1e-5."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from training_scripts import make_code_root

from optiloop.models.artifact import read_artifact
from optiloop.models.runtimes import load
from optiloop.models.training.local import LocalTrainer

pytestmark = pytest.mark.slow
pytest.importorskip("torch")  # the training subprocess needs it (the `torch` extra)
pytest.importorskip("onnxruntime")  # registering checks the ONNX model (the `inference` extra)


@pytest.fixture
def trainer(api: Any, tmp_path: Path) -> LocalTrainer:
    t = LocalTrainer(make_code_root(tmp_path), tmp_path / "work", api.deps.blobs, stop_grace_s=1)
    api.deps.trainer = t
    return t


def cancer(n: int = 160) -> list[dict[str, Any]]:
    """Six measurements of the breast-cancer set, a category derived from one, and a gap or two."""
    d = load_breast_cancer()
    out = []
    for i, (row, y) in enumerate(zip(d.data[:n], d.target[:n], strict=True)):
        features: dict[str, Any] = {
            name.replace(" ", "_"): float(v) for name, v in zip(d.feature_names[:6], row[:6], strict=True)
        }
        features["size"] = "large" if row[3] > 700 else "small" if row[3] < 400 else "medium"
        if i % 17 == 0:
            features.pop("mean_texture")  # a missing value: the graph imputes the training mean
        out.append({"id": f"r{i}", "input": features, "expected": "benign" if y else "malignant"})
    return out


def diabetes(n: int = 150) -> list[dict[str, Any]]:
    d = load_diabetes()
    return [
        {"id": f"r{i}", "input": {f"x{j}": float(v) for j, v in enumerate(row[:5])}, "expected": float(y)}
        for i, (row, y) in enumerate(zip(d.data[:n], d.target[:n], strict=True))
    ]


def train(api: Any, pid: str, rows: list[dict[str, Any]], **hps: str) -> dict[str, Any]:
    r = api.client.post("/v1/datasets", headers=api.admin, json={"project_id": pid, "name": "tab"})
    ds = r.json()["id"]
    r = api.client.post(f"/v1/datasets/{ds}/examples", headers=api.admin, json={"examples": rows})
    assert r.status_code == 200, r.text
    body = {
        "project_id": pid,
        "entry_point": "torch_mlp",
        "inputs": {"train": {"dataset_id": ds}},
        "hyperparameters": {"epochs": "40", **hps},
    }
    r = api.client.post("/v1/training_jobs", headers=api.admin, json=body)
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 120
    while True:
        job = api.client.get(f"/v1/training_jobs/{r.json()['id']}", headers=api.admin).json()
        if job["status"] in ("Completed", "Failed", "Stopped") or time.monotonic() > deadline:
            assert job["status"] == "Completed", job["failure_reason"]
            return dict(job)
        time.sleep(0.05)


def register_and_deploy(api: Any, pid: str, job: dict[str, Any], name: str) -> tuple[str, str]:
    mid = api.client.post("/v1/models", headers=api.admin, json={"project_id": pid, "name": name}).json()[
        "id"
    ]
    r = api.client.post(f"/v1/models/{mid}/versions", headers=api.admin, json={"training_job_id": job["id"]})
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    r = api.client.post(
        "/v1/deployments", headers=api.admin, json={"model_version_id": vid, "environment": "staging"}
    )
    assert r.status_code == 201, r.text
    return vid, r.json()["id"]


def torch_answers(trainer: LocalTrainer, job: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The encoded validation rows and torch's outputs on them, as the job wrote them."""
    check = json.loads((trainer.work_dir / job["id"] / "output" / "data" / "export_check.json").read_text())
    x = np.array([[np.nan if v is None else v for v in row] for row in check["x"]], dtype=np.float64)
    return x, np.array(check["torch"], dtype=np.float64)


@pytest.mark.parametrize(
    ("task", "runtime"),
    [("binary", "onnx"), ("binary", "mlp"), ("regression", "mlp")],  # regression's label scale: mlp folds it
)
def test_torch_mlp_trains_registers_and_serves_without_torch(
    api: Any, trainer: LocalTrainer, task: str, runtime: str
) -> None:
    """Served by onnxruntime (`runtime=onnx`) or by numpy alone (`optiloop.mlp/1`, the default: what
    the predict Lambda can load); both files ride in every artifact, both checked against torch."""
    pid = api.project()
    rows = cancer() if task == "binary" else diabetes()
    job = train(api, pid, rows, runtime=runtime)
    metrics = job["metrics"]
    if task == "binary":
        assert metrics["auc"] > 0.9 and metrics["onnx_max_abs_diff"] < 1e-5
        assert metrics["mlp_max_abs_diff"] < 1e-5
    else:  # values in the hundreds
        assert 0 < metrics["rmse"] < 80 and metrics["onnx_max_abs_diff"] < 1e-3
        assert metrics["mlp_max_abs_diff"] < 1e-3
    logs = api.client.get(f"/v1/training_jobs/{job['id']}/logs", headers=api.admin).json()["lines"]
    assert any(line.startswith("device: cpu") for line in logs)  # no GPU here: said so in the log

    artifact = read_artifact(api.deps.blobs.get(job["artifact_key"]))
    assert artifact.runtime == runtime and artifact.manifest["framework"] == "pytorch"
    assert {"model.onnx", "model.mlp.json"} <= set(artifact.files)
    assert artifact.manifest["params"]["device"] == "cpu"
    predictor = load(artifact)  # onnxruntime or numpy: no torch on the serving side
    x, expected = torch_answers(trainer, job)
    got = predictor.predict(x)
    scale = 1.0 if task == "binary" else float(np.abs(expected).max())
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * scale)

    vid, dep = register_and_deploy(api, pid, job, f"mlp-{task}")
    instances = [dict(r["input"]) for r in rows[:6]]
    r = api.client.post(f"/v1/inference/{dep}:predict", headers=api.admin, json={"instances": instances})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version_id"] == vid
    direct = predictor.predict(artifact.signature.encode(instances))[:, 0]
    if task == "binary":
        assert [p["label"] for p in body["predictions"]] == [
            "malignant" if s >= 0.5 else "benign"
            for s in direct  # classes sorted: the positive is the later
        ]
        np.testing.assert_allclose([p["score"] for p in body["predictions"]], direct, atol=1e-6)
    else:
        np.testing.assert_allclose([p["value"] for p in body["predictions"]], direct, rtol=1e-9)
    bad = api.client.post(
        f"/v1/inference/{dep}:predict", headers=api.admin, json={"instances": [{"x0": "a"}]}
    )
    assert bad.status_code == 422
