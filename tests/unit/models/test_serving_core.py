"""Serving internals: the sticky split, metrics aggregation and quantiles, the predictor cache, the
ONNX runtime (a graph built here byte by byte) and the SageMaker endpoint adapter (moto, Stubber)."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest

from optiloop.errors import Conflict
from optiloop.models import runtimes
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files, read_artifact, sha256_hex
from optiloop.models.serving import metrics, split
from optiloop.models.serving.cache import PredictorCache, load_artifact
from optiloop.models.serving.records import ModelDeployment

SIG = {"task": "binary", "classes": [0, 1], "inputs": [{"name": f"x{i}", "type": "number"} for i in range(3)]}


def dep(share: float, kind: str = "canary") -> ModelDeployment:
    v = {"model_version_id": "mv_1"}
    return ModelDeployment(
        id="dep_1",
        project_id="p",
        model_id="m",
        model_name="m",
        environment="staging",
        stable=v,
        candidate={"model_version_id": "mv_2"},
        strategy={"type": kind, "traffic": {"stable": 100 - share, "canary": share}},
        slos={},
        capture_rate=0.0,
        created_at="t",
        created_by="u",
        updated_at="t",
        updated_by="u",
    )


def test_split_is_sticky_per_key_and_near_its_share() -> None:
    d = dep(10)
    routes = [split.route(d, f"user-{i}") for i in range(20_000)]
    assert routes == [split.route(d, f"user-{i}") for i in range(20_000)]  # the same key, the same variant
    share = sum(r.variant == "canary" for r in routes) / len(routes)
    assert abs(share - 0.10) < 0.01
    rng = random.Random(7)
    keyless = sum(split.route(d, None, rng).variant == "canary" for _ in range(20_000)) / 20_000
    assert abs(keyless - 0.10) < 0.01
    # another deployment splits the same users differently (the id is part of the hash)
    assert split.point("dep_1", "user-1") != split.point("dep_2", "user-1")
    assert split.route(dep(0), "k").variant == "stable"
    shadow = split.route(dep(100, "shadow"), "k")
    assert shadow.variant == "stable" and shadow.shadow


def test_growing_the_canary_keeps_its_users() -> None:
    small, big = dep(10), dep(30)
    inside = [k for k in range(5000) if split.route(small, str(k)).variant == "canary"]
    assert all(split.route(big, str(k)).variant == "canary" for k in inside)


def test_latency_histogram_quantiles_within_a_bucket() -> None:
    h: dict[int, int] = {}
    values = np.random.default_rng(1).lognormal(1.0, 0.8, 20_000)
    for v in values:
        k = metrics.bucket_of(float(v))
        h[k] = h.get(k, 0) + 1
    for q in (0.5, 0.95, 0.99):
        est, true = metrics.quantile(h, q), float(np.quantile(values, q))
        assert est is not None and abs(est - true) / true < 0.2, (q, est, true)
    assert metrics.quantile({}, 0.5) is None
    assert metrics.bucket_of(0.0) == 0 and metrics.bucket_of(1e9) == metrics.N_BUCKETS - 1


def test_recorder_aggregates_per_minute_and_merges_under_the_rev(deps: Any) -> None:
    a, b = metrics.Recorder(), metrics.Recorder()  # two processes adding to the same minute
    at = deps.clock()  # documents expire 30 days after their minute: a fixed date would read as expired
    for k in range(10):
        a.record("dep_1", "stable", "mv_1", at, 2.0 + k, 1)
        b.record("dep_1", "stable", "mv_1", at, 50.0, 3, error=k < 2)
    assert a.pending() == 1 and deps.store.docs.list(metrics.KIND, "dep_1") == []  # nothing written yet
    a.flush(deps)
    b.flush(deps)
    [doc] = deps.store.docs.list(metrics.KIND, "dep_1")
    assert doc.data["requests"] == 20 and doc.data["errors"] == 2 and doc.data["rows"] == 40
    assert doc.rev == 2 and doc.expires_at is not None
    s = metrics.summary(deps, "dep_1", now=f"{metrics.minutes_before(at, -3)}:00.000Z")
    assert (
        s["windows"]["5m"]["stable"]["requests"] == 20
        and s["windows"]["5m"]["stable"]["error_rate_pct"] == 10
    )
    assert (
        metrics.summary(deps, "dep_1", now=f"{metrics.minutes_before(at, -60)}:00.000Z")["windows"]["5m"]
        == {}
    )
    breaches = metrics.slo_breaches(s["windows"]["5m"], {"latencyMsP95": 10, "errorRatePct": 5}, "stable")
    assert len(breaches) == 2


def _artifact(trees: dict | None = None) -> bytes:
    stump = {
        "format": "optiloop.trees/1",
        "n_features": 3,
        "n_outputs": 1,
        "base_margin": [0.0],
        "link": "logistic",
        "trees": [
            {
                "output": 0,
                "feature": [0, 0, 0],
                "threshold": [0.5, 0, 0],
                "left": [1, -1, -1],
                "right": [2, -1, -1],
                "default_left": [1, 0, 0],
                "value": [0, -1, 1],
            }
        ],
    }
    manifest = {
        "format": FORMAT,
        "framework": "xgboost",
        "runtime": "trees",
        "model_file": "m.json",
        "signature": SIG,
    }
    return pack_files(
        {MANIFEST: json.dumps(manifest).encode(), "m.json": json.dumps(trees or stump).encode()}
    )


def test_cache_loads_once_per_sha_refuses_a_changed_artifact_and_is_bounded(deps: Any) -> None:
    data = _artifact()
    deps.blobs.put("models/p/a.tar.gz", data)
    v = {"model_version_id": "mv_1", "artifact_key": "models/p/a.tar.gz", "artifact_sha256": sha256_hex(data)}
    cache = PredictorCache(max_entries=2)
    first = cache.artifact(deps, v)
    assert cache.artifact(deps, {**v, "model_version_id": "mv_other"}) is first and cache.loads == 1
    assert first.predictor.predict(np.array([[1.0, 0, 0]]))[0, 0] > 0.5
    deps.blobs.put("models/p/a.tar.gz", data + b"tampered")
    with pytest.raises(Conflict) as e:
        load_artifact(deps, v)
    assert e.value.details[0]["field"] == "model_version_id"
    for k in range(3):
        cache.get(f"k{k}", lambda: first)
    assert len(cache) == 2


# --- ONNX: a tiny graph written as protobuf by hand (the onnx package is not a dependency) -------------


def _varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _f(num: int, wire: int, payload: bytes | int) -> bytes:
    key = _varint(num << 3 | wire)
    if wire == 0:
        return key + _varint(int(payload))  # type: ignore[arg-type]
    return key + _varint(len(payload)) + payload  # type: ignore[arg-type]


def _s(num: int, text: str) -> bytes:
    return _f(num, 2, text.encode())


def _tensor(name: str, dims: list[int], values: np.ndarray) -> bytes:
    # TensorProto: dims=1, data_type=2 (FLOAT=1), name=8, raw_data=9
    body = b"".join(_f(1, 0, d) for d in dims) + _f(2, 0, 1) + _s(8, name)
    return body + _f(9, 2, values.astype("<f4").tobytes())


def _value_info(name: str, dims: list[int | str]) -> bytes:
    shape = b"".join(_f(1, 2, _f(1, 0, d) if isinstance(d, int) else _s(2, d)) for d in dims)
    tensor_type = _f(1, 0, 1) + _f(2, 2, shape)  # elem_type FLOAT, shape
    return _s(1, name) + _f(2, 2, _f(1, 2, tensor_type))


def _node(op: str, inputs: list[str], outputs: list[str], attrs: bytes = b"") -> bytes:
    return b"".join(_s(1, i) for i in inputs) + b"".join(_s(2, o) for o in outputs) + _s(4, op) + attrs


def onnx_model(w: np.ndarray, b: np.ndarray, final: str) -> bytes:
    """X (N x 3) -> MatMul W -> Add B -> Sigmoid | Softmax(axis=1) -> Y."""
    nodes = [_node("MatMul", ["X", "W"], ["Z0"]), _node("Add", ["Z0", "B"], ["Z"])]
    attr = _f(5, 2, _s(1, "axis") + _f(20, 0, 4) + _f(3, 0, 1)) if final == "Softmax" else b""  # type INT=2?
    if final == "Softmax":  # AttributeProto: name=1, i=3, type=20 (INT = 2)
        attr = _f(5, 2, _s(1, "axis") + _f(3, 0, 1) + _f(20, 0, 2))
    nodes.append(_node(final, ["Z"], ["Y"], attr))
    graph = b"".join(_f(1, 2, n) for n in nodes) + _s(2, "g")
    graph += _f(5, 2, _tensor("W", list(w.shape), w)) + _f(5, 2, _tensor("B", list(b.shape), b))
    graph += _f(11, 2, _value_info("X", ["N", 3])) + _f(12, 2, _value_info("Y", ["N", w.shape[1]]))
    opset = _s(1, "") + _f(2, 0, 13)
    return _f(1, 0, 8) + _f(8, 2, opset) + _f(7, 2, graph)


def _onnx_artifact(model: bytes, sig: dict) -> bytes:
    manifest = {
        "format": FORMAT,
        "framework": "sklearn",
        "runtime": "onnx",
        "model_file": "model.onnx",
        "signature": sig,
    }
    return pack_files({MANIFEST: json.dumps(manifest).encode(), "model.onnx": model})


def test_onnx_binary_and_multiclass_predictors() -> None:
    pytest.importorskip("onnxruntime")
    w, b = np.array([[1.0], [-2.0], [0.5]]), np.array([0.1])
    art = read_artifact(_onnx_artifact(onnx_model(w, b, "Sigmoid"), SIG))
    pred = runtimes.load(art)
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expected = 1 / (1 + np.exp(-(x @ w + b)))
    assert np.allclose(pred.predict(x), expected, atol=1e-6) and pred.n_outputs == 1
    multi = {**SIG, "task": "multiclass", "classes": ["a", "b", "c"]}
    w3, b3 = np.arange(9, dtype=float).reshape(3, 3) / 10, np.zeros(3)
    pred3 = runtimes.load(read_artifact(_onnx_artifact(onnx_model(w3, b3, "Softmax"), multi)))
    out = pred3.predict(x)
    assert out.shape == (2, 3) and np.allclose(out.sum(axis=1), 1.0)
    assert runtimes.predictions(art.signature, pred.predict(x))[0]["label"] in (0, 1)


def test_onnx_refuses_what_it_cannot_load() -> None:
    pytest.importorskip("onnxruntime")
    from optiloop.errors import InvalidInput

    with pytest.raises(InvalidInput) as e:
        runtimes.load(read_artifact(_onnx_artifact(b"not a model", SIG)))
    assert e.value.details[0]["field"] == "artifact.model_file"
    multi = {**SIG, "task": "multiclass", "classes": ["a", "b", "c", "d"]}  # 4 classes, the graph has 3
    w3 = np.ones((3, 3))
    with pytest.raises(InvalidInput):
        runtimes.load(read_artifact(_onnx_artifact(onnx_model(w3, np.zeros(3), "Softmax"), multi)))


# --- SageMaker endpoints -------------------------------------------------------------------------------


def test_endpoint_adapter_creates_and_invokes_under_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    import boto3
    import requests

    from optiloop.models.serving.endpoint import EndpointPredictor, SageMakerEndpoints

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        sm = boto3.client("sagemaker", region_name="us-east-1")
        rt = boto3.client("sagemaker-runtime", region_name="us-east-1")
        backend = SageMakerEndpoints(
            sm, rt, "arn:aws:iam::123456789012:role/sm", "img:1", "bucket", "optiloop-acme"
        )
        version = {"id": "mv_abc", "artifact_key": "models/p/m/model.tar.gz"}
        name = backend.ensure(version)
        assert name == "optiloop-acme-mv-abc"
        assert sm.describe_endpoint(EndpointName=name)["EndpointConfigName"].startswith(name)
        assert backend.ensure(version) == name  # idempotent
        body = {
            "results": [
                {"Body": json.dumps({"predictions": [[0.9], [0.2]]}), "ContentType": "application/json"}
            ]
        }
        requests.post("http://motoapi.amazonaws.com/moto-api/static/sagemaker/endpoint-results", json=body)
        out = EndpointPredictor(backend, name, 1).predict(np.array([[1.0, np.nan, 2.0], [0.0, 1.0, 2.0]]))
        assert out.tolist() == [[0.9], [0.2]]


def test_endpoint_switches_config_with_update_endpoint_and_reports_failures() -> None:
    import boto3
    from botocore.stub import Stubber

    from optiloop.errors import UpstreamFailed
    from optiloop.models.serving.endpoint import SageMakerEndpoints, parse_outputs

    sm = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    backend = SageMakerEndpoints(sm, None, "arn:aws:iam::1:role/r", "img", "bucket", "optiloop-acme")
    name = "optiloop-acme-mv-1"
    with Stubber(sm) as stub:
        stub.add_response(
            "describe_model",
            {
                "ModelName": name,
                "ModelArn": "arn:aws:sagemaker:us-east-1:1:model/x",
                "CreationTime": "2026-01-01",
            },
            {"ModelName": name},
        )
        stub.add_client_error("describe_endpoint_config", "ValidationException", "Could not find")
        stub.add_response(
            "create_endpoint_config", {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:endpoint-config/x"}
        )
        stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": name,
                "EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/x",
                "EndpointConfigName": f"{name}-ml-m5-large",
                "EndpointStatus": "InService",
                "CreationTime": "2026-01-01",
                "LastModifiedTime": "2026-01-01",
            },
        )
        stub.add_response(
            "update_endpoint",
            {"EndpointArn": "arn:aws:sagemaker:us-east-1:1:endpoint/x"},
            {"EndpointName": name, "EndpointConfigName": f"{name}-ml-g5-xlarge"},
        )
        assert backend.ensure({"id": "mv_1", "artifact_key": "k"}, "ml.g5.xlarge") == name
        stub.assert_no_pending_responses()
    with pytest.raises(UpstreamFailed):
        parse_outputs(name, b'{"predictions": [[0.1, 0.9]]}', 1, 1)
    with pytest.raises(UpstreamFailed):
        parse_outputs(name, b"<html>", 1, 1)
