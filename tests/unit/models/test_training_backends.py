"""The pieces around the Trainer port: metric lines, entry points and their bundles, prices, images,
SageMaker's CreateTrainingJob request, and the settings that pick a backend."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from optiloop.config import ConfigError, Settings
from optiloop.errors import InvalidInput
from optiloop.models.training import entry_points
from optiloop.models.training.factory import build_trainer
from optiloop.models.training.images import image_uri
from optiloop.models.training.local import LocalTrainer
from optiloop.models.training.metrics import metric_definitions, parse_metrics
from optiloop.models.training.port import JobSpec
from optiloop.models.training.prices import cost_usd, hourly_price, is_gpu
from optiloop.models.training.sagemaker import SageMakerTrainer
from optiloop.store.local_blobs import LocalBlobStore

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from training_scripts import make_code_root


def test_metric_lines_last_value_wins_and_history_keeps_order() -> None:
    lines = [
        "epoch 1",
        "metric: loss=0.9",
        "[2026-01-01] metric: loss=0.5 metric: auc=.91",
        "metric: auc=nan",  # not a number we keep
        "metric: bad name=1",
        "metric: rmse=1e-3",
        "metric: auc=0.93x",  # not a whole number
    ]
    last, history = parse_metrics(lines)
    assert last == {"loss": 0.5, "auc": 0.91, "rmse": 0.001}
    assert [(h["name"], h["line"]) for h in history] == [("loss", 1), ("loss", 2), ("auc", 2), ("rmse", 5)]


def test_sagemaker_metric_definitions_use_the_same_pattern() -> None:
    defs = metric_definitions(["auc", "train.logloss", "auc"])
    assert [d["Name"] for d in defs] == ["auc", "train.logloss"]
    for d in defs:
        m = re.search(d["Regex"], f"metric: {d['Name']}=0.25")
        assert m is not None and float(m.group(1)) == 0.25
    assert re.search(defs[0]["Regex"], "metric: val_auc=0.3") is None
    with pytest.raises(ValueError):
        metric_definitions(["has space"])


def test_entry_points_resolve_and_bundle_deterministically(tmp_path: Path) -> None:
    root = make_code_root(tmp_path)
    assert {"surrogate", "tabular_xgb", "tiny", "torch_mlp"} <= set(entry_points.available(root))
    entry = entry_points.resolve(root, "tabular_xgb")
    assert entry.framework == "xgboost" and "auc" in entry.metrics
    bundle = entry_points.source_bundle(root, entry)
    assert bundle == entry_points.source_bundle(root, entry)
    (root / "_lib" / "__pycache__").mkdir(exist_ok=True)
    (root / "_lib" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    assert entry_points.source_bundle(root, entry) == bundle  # caches are not code
    (root / "tabular_xgb" / "train.py").write_text("# changed\n")
    assert entry_points.code_version(entry_points.source_bundle(root, entry)) != entry_points.code_version(
        bundle
    )
    for bad in ("nope", "_lib", "../tiny", "Tiny"):
        with pytest.raises(InvalidInput) as e:
            entry_points.resolve(root, bad)
        assert e.value.problems[0].field == "entry_point" and "tabular_xgb" in e.value.problems[0].reason


def test_prices_and_images(monkeypatch: pytest.MonkeyPatch) -> None:
    assert hourly_price("ml.m5.large") == 0.115 and hourly_price("local") == 0.0
    assert cost_usd(3600, 0.115) == 0.115 and cost_usd(None, 1.0) is None
    monkeypatch.setenv("OPTILOOP_LOCAL_TRAINING_USD_PER_HOUR", "0.5")
    monkeypatch.setenv("OPTILOOP_TRAINING_PRICES", json.dumps({"ml.m5.large": 0.2}))
    assert hourly_price("local") == 0.5 and hourly_price("ml.m5.large") == 0.2
    assert is_gpu("ml.g5.xlarge") and not is_gpu("ml.m5.large")
    assert (
        image_uri("xgboost", "eu-west-1")
        == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    assert image_uri("pytorch", "us-east-1", gpu=True).startswith("763104351884.dkr.ecr.us-east-1")
    with pytest.raises(ValueError):
        image_uri("sklearn", "us-east-1", gpu=True)
    with pytest.raises(ValueError):
        image_uri("sklearn", "mars-north-1")


def spec(**kw: object) -> JobSpec:
    base: dict = dict(
        name="tj_00ab",
        entry_point="tabular_xgb",
        framework="xgboost",
        source_key="training/p/tj_00ab/source/sourcedir.tar.gz",
        channels={"train": "training/p/tj_00ab/input/train/"},
        output_prefix="models/p/",
        hyperparameters={"n_estimators": "10", "target": "y"},
        instance_type="ml.m5.large",
        metric_names=("auc",),
        tags={"optiloop:project": "p"},
    )
    return JobSpec(**{**base, **kw})


def test_sagemaker_request_is_script_mode_without_the_sdk(tmp_path: Path) -> None:
    t = SageMakerTrainer(
        tmp_path, bucket="b-1", role_arn="arn:role", job_prefix="optiloop-acme", region="us-east-1"
    )
    req = t.request(spec())
    assert req["TrainingJobName"] == "optiloop-acme-tj-00ab"
    hps = req["HyperParameters"]
    assert json.loads(hps["sagemaker_program"]) == "train.py"
    assert (
        json.loads(hps["sagemaker_submit_directory"]) == "s3://b-1/training/p/tj_00ab/source/sourcedir.tar.gz"
    )
    assert json.loads(hps["n_estimators"]) == "10"  # JSON-encoded like the SDK: the toolkit decodes it
    assert req["AlgorithmSpecification"]["TrainingImage"].endswith("sagemaker-xgboost:1.7-1")
    assert req["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"] == "auc"
    assert (
        req["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"]
        == "s3://b-1/training/p/tj_00ab/input/train/"
    )
    assert req["OutputDataConfig"] == {"S3OutputPath": "s3://b-1/models/p/"}
    assert t.key_of("s3://b-1/models/p/x/output/model.tar.gz") == "models/p/x/output/model.tar.gz"
    with pytest.raises(ValueError):
        t.request(spec(instance_type="ml.g5.xlarge"))  # GPU: pytorch only
    torch = t.request(spec(instance_type="ml.g5.xlarge", framework="pytorch"))
    assert "gpu" in torch["AlgorithmSpecification"]["TrainingImage"]
    assert len(t.job_name("x" * 100)) <= 63


def test_settings_pick_the_trainer(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(ConfigError, match="OPTILOOP_TRAINER"):
        Settings(trainer="kubernetes")
    assert Settings.from_env({"OPTILOOP_TRAINER": "SageMaker "}).trainer == "sagemaker"
    local = build_trainer(Settings(data_dir=tmp_path), blobs, {"OPTILOOP_LOCAL_TRAINING_JOBS": "3"})
    assert (
        isinstance(local, LocalTrainer)
        and local.max_concurrent == 3
        and local.work_dir == tmp_path / "training"
    )
    with pytest.raises(ConfigError, match="OPTILOOP_LOCAL_TRAINING_THREADS"):
        build_trainer(Settings(data_dir=tmp_path), blobs, {"OPTILOOP_LOCAL_TRAINING_THREADS": "0"})
    aws = Settings(backend="aws", table="tbl", bucket="bkt-1", trainer="sagemaker")
    with pytest.raises(ConfigError, match="OPTILOOP_TRAINING_ROLE_ARN"):
        build_trainer(aws, blobs, {})
    sm = build_trainer(
        aws, blobs, {"OPTILOOP_TRAINING_ROLE_ARN": "arn:aws:iam::1:role/r", "OPTILOOP_TENANT": "acme"}
    )
    assert isinstance(sm, SageMakerTrainer) and sm.job_prefix == "optiloop-acme" and sm.bucket == "bkt-1"


def test_torch_entry_points_run_on_the_pytorch_image_and_may_ask_for_a_gpu(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3] / "training_jobs"
    t = SageMakerTrainer(
        root, bucket="b-1", role_arn="arn:role", job_prefix="optiloop-acme", region="eu-west-1"
    )
    for name in ("torch_mlp", "rl_policy"):
        entry = entry_points.resolve(root, name)
        assert entry.framework == "pytorch"
        bundle = entry_points.source_bundle(root, entry)
        assert len(bundle) < 1_000_000  # the script and _lib/, not a model
        gpu = t.request(spec(entry_point=name, framework="pytorch", instance_type="ml.g4dn.xlarge",
                             metric_names=entry.metrics))  # fmt: skip
        image = gpu["AlgorithmSpecification"]["TrainingImage"]
        assert image == "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.1.0-gpu-py310"
        assert {d["Name"] for d in gpu["AlgorithmSpecification"]["MetricDefinitions"]} == set(entry.metrics)
        cpu = t.request(spec(entry_point=name, framework="pytorch", instance_type="ml.m5.large"))
        assert cpu["AlgorithmSpecification"]["TrainingImage"].endswith("pytorch-training:2.1.0-cpu-py310")
