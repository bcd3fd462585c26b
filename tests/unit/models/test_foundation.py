"""The model foundation: signatures, the artifact reader, the trees runtime and its XGBoost export."""

from __future__ import annotations

import io
import json
import math
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from optiloop.errors import InvalidInput
from optiloop.models import runtimes
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files, read_artifact
from optiloop.models.runtimes.trees import TreesPredictor, load_trees
from optiloop.models.signature import parse_signature

SIG = {
    "task": "binary",
    "classes": [0, 1],
    "id_fields": ["customer_id"],
    "inputs": [
        {"name": "age", "type": "integer"},
        {"name": "country", "type": "category", "categories": ["UK", "US"]},
        {"name": "vip", "type": "boolean", "required": False},
    ],
}
# one stump on age: age < 40 -> -1 (margin), else +1
STUMP = {
    "format": "optiloop.trees/1",
    "n_features": 3,
    "n_outputs": 1,
    "base_margin": [0.0],
    "link": "logistic",
    "trees": [
        {
            "output": 0,
            "feature": [0, 0, 0],
            "threshold": [40, 0, 0],
            "left": [1, -1, -1],
            "right": [2, -1, -1],
            "default_left": [1, 0, 0],
            "value": [0, -1.0, 1.0],
        }
    ],
}


def artifact_bytes(manifest: dict | None = None, files: dict[str, bytes] | None = None) -> bytes:
    m = {
        "format": FORMAT,
        "framework": "xgboost",
        "runtime": "trees",
        "model_file": "model.trees.json",
        "signature": SIG,
        "metrics": {"auc": 0.9},
    }
    m.update(manifest or {})
    fs = {MANIFEST: json.dumps(m).encode(), "model.trees.json": json.dumps(STUMP).encode()}
    fs.update(files or {})
    return pack_files(fs)


def test_signature_encodes_instances_and_names_bad_fields() -> None:
    sig = parse_signature(SIG)
    x = sig.encode([{"age": 45, "country": "US"}, {"age": 30, "country": "FR", "vip": True}])
    assert x[0, 0] == 45 and x[0, 1] == 1 and math.isnan(x[0, 2])
    assert math.isnan(x[1, 1]) and x[1, 2] == 1.0  # an unseen category is missing, not refused
    with pytest.raises(InvalidInput) as e:
        sig.encode([{"age": 45, "country": "US"}, {"age": "old", "country": "US"}, {"country": "UK"}])
    fields = [d["field"] for d in e.value.details]
    assert fields == ["instances[1].age", "instances[2].age"]
    with pytest.raises(InvalidInput) as e:
        sig.encode([{"age": 4.5, "country": "US", "vip": 1}])
    assert [d["field"] for d in e.value.details] == ["instances[0].age", "instances[0].vip"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"task": "ranking"}, "signature.task"),
        ({"inputs": []}, "signature.inputs"),
        ({"classes": [0]}, "signature.classes"),
        ({"inputs": [{"name": "a", "type": "category"}]}, "signature.inputs[0].categories"),
        (
            {"inputs": [{"name": "a", "type": "number"}, {"name": "a", "type": "number"}]},
            "signature.inputs[1].name",
        ),
    ],
)
def test_signature_problems_name_the_field(patch: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_signature({**SIG, **patch})
    assert field in [d["field"] for d in e.value.details]


def test_artifact_round_trip_and_predictions() -> None:
    data = artifact_bytes()
    assert data == artifact_bytes()  # packing is deterministic: same files, same sha256
    art = read_artifact(data)
    pred = runtimes.load(art)
    x = art.signature.encode(
        [{"customer_id": "c1", "age": 45, "country": "US"}, {"age": 20, "country": "UK"}]
    )
    out = runtimes.predictions(art.signature, pred.predict(x), [{"customer_id": "c1"}, {}])
    assert out[0] == {"customer_id": "c1", "label": 1, "score": round(1 / (1 + math.exp(-1)), 6)}
    assert out[1]["label"] == 0 and "customer_id" not in out[1]


def _tar_with(name: str, data: bytes, *, kind: bytes = tarfile.REGTYPE) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        info.type = kind
        if kind == tarfile.SYMTYPE:
            info.linkname = "/etc/passwd"
        tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a tarball", "not a readable model.tar.gz"),
        (_tar_with("../escape.json", b"{}"), "not a plain file"),
        (_tar_with("link", b"", kind=tarfile.SYMTYPE), "not a plain file"),
        (_tar_with("other.json", b"{}"), "has no optiloop-model.json"),
        (artifact_bytes()[:40], "not a readable"),
    ],
)
def test_unreadable_artifacts_are_422_on_artifact(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput) as e:
        read_artifact(data)
    assert e.value.details[0]["field"] == "artifact" and reason in e.value.details[0]["reason"]


def test_manifest_problems_name_the_field() -> None:
    with pytest.raises(InvalidInput) as e:
        read_artifact(artifact_bytes({"runtime": "pickle", "model_file": "nope", "metrics": {"auc": "high"}}))
    fields = {d["field"] for d in e.value.details}
    assert {"artifact.runtime", "artifact.model_file", "artifact.metrics.auc"} <= fields


def test_signature_that_does_not_match_the_model_is_refused() -> None:
    wrong = {**SIG, "task": "multiclass", "classes": [0, 1, 2]}
    with pytest.raises(InvalidInput) as e:
        runtimes.load(read_artifact(artifact_bytes({"signature": wrong})))
    assert e.value.details[0]["field"] == "artifact.signature"
    fewer = {**SIG, "inputs": SIG["inputs"][:2]}
    with pytest.raises(InvalidInput) as e:
        runtimes.load(read_artifact(artifact_bytes({"signature": fewer})))
    assert e.value.details[0]["field"] == "artifact.signature.inputs"


@pytest.mark.parametrize(
    "patch",
    [
        {"left": [1, 5, -1]},  # child out of range
        {"feature": [9, 0, 0]},  # feature out of range
        {"left": [0, -1, -1], "right": [0, -1, -1]},  # a cycle
        {"value": [0, float("nan"), 1]},
    ],
)
def test_hostile_trees_are_refused(patch: dict) -> None:
    tree = {**STUMP["trees"][0], **patch}
    with pytest.raises(InvalidInput):
        TreesPredictor({**STUMP, "trees": [tree]})
    with pytest.raises(InvalidInput):
        load_trees(b"[1, 2]")


def test_missing_values_follow_the_default_branch() -> None:
    p = TreesPredictor(STUMP)
    z = p.margin(np.array([[np.nan, 0, 0], [39.0, 0, 0], [40.0, 0, 0]]))
    assert z[:, 0].tolist() == [-1.0, -1.0, 1.0]


def test_xgboost_export_matches_xgboost() -> None:
    xgb = pytest.importorskip("xgboost")
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "training_jobs" / "_lib"))
    from trees_export import export_booster

    rng = np.random.default_rng(0)
    x = rng.normal(size=(800, 5))
    x[rng.random(x.shape) < 0.05] = np.nan
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) > 0).astype(int)
    clf = xgb.XGBClassifier(n_estimators=20, max_depth=4, nthread=1).fit(x, y)
    p = TreesPredictor(json.loads(json.dumps(export_booster(clf.get_booster(), 5))))
    assert np.abs(p.predict(x)[:, 0] - clf.predict_proba(x)[:, 1]).max() < 1e-5
    y3 = np.digitize(np.nan_to_num(x[:, 2]), [-0.5, 0.5])
    clf3 = xgb.XGBClassifier(n_estimators=10, max_depth=3, nthread=1).fit(x, y3)
    p3 = TreesPredictor(export_booster(clf3.get_booster(), 5))
    assert np.abs(p3.predict(x) - clf3.predict_proba(x)).max() < 1e-5
    reg = xgb.XGBRegressor(n_estimators=10, max_depth=3, nthread=1).fit(x, np.nan_to_num(x[:, 0]) * 3)
    pr = TreesPredictor(export_booster(reg.get_booster(), 5))
    assert np.abs(pr.predict(x)[:, 0] - reg.predict(x)).max() < 1e-4
