"""One contract for the training port (optiloop.models.training.port.Trainer), run on every adapter.

local: real subprocesses of `tiny` (tests/training_scripts.py). sagemaker: moto's SageMaker, which
completes a job the moment it is created and does not implement StopTrainingJob, so the branches it
cannot reach (a running job, a failed one, stopping) are answered by botocore's Stubber instead —
the same adapter code either way, only the client differs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from training_scripts import make_code_root

from optiloop.models.artifact import pack_files
from optiloop.models.records import JOB_TERMINAL
from optiloop.models.training import entry_points
from optiloop.models.training.local import LocalTrainer
from optiloop.models.training.port import JobSpec, JobState, Trainer
from optiloop.store.local_blobs import LocalBlobStore

OUTPUT = "models/prj_1/"
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/optiloop-acme-training"


class Harness:
    """What the suite needs beyond the port: jobs in a known state and a wait for the end."""

    trainer: Trainer
    blobs: LocalBlobStore

    def spec(self, name: str, mode: str = "ok", **hps: str) -> JobSpec:
        root = self.trainer.code_root
        entry = entry_points.resolve(root, "tiny")
        self.blobs.put(f"src/{name}/sourcedir.tar.gz", entry_points.source_bundle(root, entry))
        self.blobs.put(f"in/{name}/train/part-00000.jsonl", b'{"x": 1}\n{"x": 2}\n')
        return JobSpec(
            name=name,
            entry_point="tiny",
            framework=entry.framework,
            source_key=f"src/{name}/sourcedir.tar.gz",
            channels={"train": f"in/{name}/train/"},
            output_prefix=OUTPUT,
            hyperparameters={"mode": mode, **hps},
            instance_type=self.instance_type,
            metric_names=entry.metrics,
        )

    instance_type = "local"

    def completed(self) -> str:
        return self.trainer.submit(self.spec("job-ok"))

    def failed(self) -> str:
        return self.trainer.submit(self.spec("job-crash", "crash"))

    def running(self) -> str:
        return self.trainer.submit(self.spec("job-sleep", "sleep", seconds="30"))

    def stop_on_terminal(self, name: str) -> None:
        """Arrange what stopping an ended job meets (sagemaker: SageMaker's ValidationException)."""

    def settle(self, name: str, timeout: float = 20.0) -> JobState:
        deadline = time.monotonic() + timeout
        while True:
            state = self.trainer.describe(name)
            if state.status in JOB_TERMINAL or time.monotonic() > deadline:
                return state
            time.sleep(0.02)


class LocalHarness(Harness):
    def __init__(self, tmp: Path) -> None:
        self.blobs = LocalBlobStore(tmp / "blobs")
        self.trainer = LocalTrainer(make_code_root(tmp, real=False), tmp / "work", self.blobs, stop_grace_s=1)


class SageMakerHarness(Harness):
    instance_type = "ml.m5.large"

    def __init__(self, tmp: Path) -> None:
        import boto3

        from optiloop.models.training.sagemaker import SageMakerTrainer

        self.blobs = LocalBlobStore(tmp / "blobs")
        self.trainer = SageMakerTrainer(
            make_code_root(tmp, real=False),
            bucket="optiloop-acme-artifacts",
            role_arn=ROLE,
            job_prefix="optiloop-acme",
            region=REGION,
            sagemaker_client=boto3.client("sagemaker", region_name=REGION),
            logs_client=boto3.client("logs", region_name=REGION),
        )
        self._stubber: Any = None

    def _stub(self) -> Any:
        import boto3
        from botocore.stub import Stubber

        client = boto3.client("sagemaker", region_name=REGION)
        self.trainer._sm = client  # type: ignore[attr-defined]
        self._stubber = Stubber(client)
        self._stubber.activate()
        return self._stubber

    @staticmethod
    def _described(name: str, status: str, **extra: Any) -> dict[str, Any]:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        return {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{name}",
            "TrainingJobStatus": status,
            "SecondaryStatus": "Training",
            "ModelArtifacts": {"S3ModelArtifacts": ""},
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "CreationTime": now,
            **extra,
        }

    def failed(self) -> str:
        name = self.trainer.job_name("job-crash")  # type: ignore[attr-defined]
        stub = self._stub()
        stub.add_response("create_training_job", {"TrainingJobArn": f"arn:{name}"})
        reason = "AlgorithmError: RuntimeError: tiny was asked to crash"
        stub.add_response("describe_training_job", self._described(name, "Failed", FailureReason=reason))
        return self.trainer.submit(self.spec("job-crash", "crash"))

    def running(self) -> str:
        name = self.trainer.job_name("job-sleep")  # type: ignore[attr-defined]
        stub = self._stub()
        stub.add_response("create_training_job", {"TrainingJobArn": f"arn:{name}"})
        stub.add_response("stop_training_job", {}, {"TrainingJobName": name})
        stub.add_response("describe_training_job", self._described(name, "Stopped", BillableTimeInSeconds=12))
        return self.trainer.submit(self.spec("job-sleep", "sleep"))

    def stop_on_terminal(self, name: str) -> None:
        stub = self._stub()
        stub.add_client_error(
            "stop_training_job",
            "ValidationException",
            "The job status is Completed",
            400,
            {"TrainingJobName": name},
        )
        stub.add_response("describe_training_job", self._described(name, "Completed"))
        stub.add_response("describe_training_job", self._described(name, "Completed"))


@pytest.fixture(params=["local", "sagemaker"])
def h(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "local":
        yield LocalHarness(tmp_path)
        return
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        yield SageMakerHarness(tmp_path)


def test_a_completed_job_leaves_its_artifact_under_the_output_prefix(h: Harness) -> None:
    name = h.completed()
    state = h.settle(name)
    assert state.status == "Completed", state.failure_reason
    assert state.artifact_key is not None
    assert state.artifact_key.startswith(f"{OUTPUT}{name}/") and state.artifact_key.endswith("model.tar.gz")
    assert state.failure_reason is None
    assert all(isinstance(v, float) and math.isfinite(v) for v in state.metrics.values())
    assert state.started_at is not None and state.ended_at is not None


def test_an_unknown_job_is_a_key_error(h: Harness) -> None:
    with pytest.raises(KeyError):
        h.trainer.describe("no-such-job")


def test_a_failed_job_says_why_and_has_no_artifact(h: Harness) -> None:
    state = h.settle(h.failed())
    assert state.status == "Failed"
    assert state.failure_reason and "crash" in state.failure_reason
    assert state.artifact_key is None


def test_stopping_a_running_job_stops_it(h: Harness) -> None:
    name = h.running()
    h.trainer.stop(name)
    state = h.settle(name)
    assert state.status == "Stopped"
    assert state.artifact_key is None


def test_stopping_an_ended_job_is_harmless(h: Harness) -> None:
    name = h.completed()
    assert h.settle(name).status == "Completed"
    h.stop_on_terminal(name)
    h.trainer.stop(name)
    assert h.trainer.describe(name).status == "Completed"


def test_logs_page_on_from_since(h: Harness) -> None:
    name = h.completed()
    h.settle(name)
    first = h.trainer.logs(name, 0, 1)
    assert len(first.lines) <= 1 and first.next_since == len(first.lines)
    rest = h.trainer.logs(name, first.next_since, 1000)
    assert rest.next_since >= first.next_since
    assert rest.complete
    if isinstance(h, LocalHarness):  # moto has no training logs; the local log is the script's output
        lines = first.lines + rest.lines
        assert "metric: rows=2" in lines and "metric: auc=0.75" in lines
        assert h.trainer.describe(name).metrics == {"rows": 2.0, "auc": 0.75}


def test_local_jobs_report_cpu_and_wall_time_and_pack_the_model_dir(tmp_path: Path) -> None:
    from optiloop.models.artifact import read_artifact

    h = LocalHarness(tmp_path)
    state = h.settle(h.completed())
    assert state.wall_seconds is not None and state.wall_seconds > 0
    assert state.cpu_seconds is not None and 0 < state.cpu_seconds < 10
    assert state.billable_seconds == state.wall_seconds
    artifact = read_artifact(h.blobs.get(state.artifact_key or "") or b"")
    assert artifact.manifest["params"] == {"mode": "ok"}
    assert pack_files(artifact.files) == h.blobs.get(state.artifact_key or "")  # packed deterministically


def test_local_runs_at_most_max_concurrent_jobs_the_rest_wait(tmp_path: Path) -> None:
    h = LocalHarness(tmp_path)
    h.trainer.max_concurrent = 1  # type: ignore[attr-defined]
    first = h.trainer.submit(h.spec("a", "sleep", seconds="30"))
    second = h.trainer.submit(h.spec("b"))
    assert h.trainer.describe(second).status == "Pending"
    h.trainer.stop(first)
    assert h.settle(first).status == "Stopped"
    assert h.settle(second).status == "Completed"


def test_local_jobs_see_sagemakers_environment_and_capped_threads(tmp_path: Path) -> None:
    h = LocalHarness(tmp_path)
    trainer = h.trainer
    assert isinstance(trainer, LocalTrainer)
    env = trainer._layout(h.spec("env"), tmp_path / "work" / "env")
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["SM_NUM_CPUS"] == "1" and env["SM_HP_MODE"] == "ok"
    assert Path(env["SM_CHANNEL_TRAIN"], "part-00000.jsonl").is_file()
    assert Path(env["SM_INPUT_CONFIG_DIR"], "hyperparameters.json").is_file()
    assert not any(k.startswith(("OPTILOOP_", "AWS_")) for k in env)


def test_a_relative_work_dir_still_feeds_the_job_its_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make run` serves from ./.optiloop: the job's process runs in its own code folder, so a relative
    work dir once pointed its channels and model dir inside that folder — 0 rows read, nothing packed."""
    monkeypatch.chdir(tmp_path)
    h = LocalHarness(tmp_path)
    h.trainer = LocalTrainer(h.trainer.code_root, Path("work"), h.blobs, stop_grace_s=1)
    state = h.settle(h.completed())
    assert state.status == "Completed", state.failure_reason
    assert any("rows=2" in line for line in h.trainer.logs("job-ok").lines)
