"""The AutoML state machine, executed: the synthesized ASL runs in moto's Step Functions, its Map fans
the planned trials out as SageMaker training jobs (moto's SageMaker), and the experiment completes;
a forecasting or anomaly experiment's Map runs its whole search as one job, and what it records is
what the local worker records for the same experiment.

What is real: the definition exactly as synthesized (infra_cdk/automl_workflow.py; intrinsics
resolved to fake ARNs), moto's interpreter executing Plan -> Map -> Record -> ... -> Finalise, the
Lambda tasks (the real `functions.workflow_steps.handler.handler`, run in this process by the
patched invoke of test_infra_workflow_run), the DynamoDB and S3 adapters on moto, the SageMaker
trainer's CreateTrainingJob/DescribeTrainingJob, the channel materialised under training/.

SageMaker's side: moto's training jobs complete at once and run nothing, so the test plays the
container at CreateTrainingJob: it runs the job's training_jobs/<entry point>/train.py (automl_trial,
or automl_experiment for a whole search) in process with the job's hyperparameters and its `table`
channel (read back from S3), and puts SM_MODEL_DIR, packed, where the job reports its artifact.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import runpy
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("moto", reason="the AutoML state machine runs in moto")
pytest.importorskip("aws_lambda_powertools", reason="the steps run with Powertools")
pytest.importorskip("optuna")
pytest.importorskip("sklearn")

import boto3
from automl_search_cases import ANOMALY, FORECAST, anomaly_csv, create, panel_csv, run_locally, same_as_local
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.dynamodb.responses import DynamoHandler

from cfn_fake import REGION, Resolver, physical_name
from optiloop.auth.principal import Principal
from optiloop.automl import datasets, experiments, fanout
from optiloop.models.artifact import pack_dir
from optiloop.models.training.sagemaker import SageMakerTrainer
from optiloop.store.records import Project
from test_infra_workflow_run import MOTO, REPO, _ports, run_python_handler

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ADMIN = Principal("alice", "admin", None, None)
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/optiloop-automl:test"
_container = threading.Lock()  # one "container" at a time: it sets the SM_* environment


def _tasks(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in states.values():
        yield state
        if state.get("Type") == "Map":
            yield from _tasks(state["ItemProcessor"]["States"])


def _table() -> bytes:
    rng = np.random.default_rng(5)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "y"])
    for _ in range(80):
        a, b = rng.normal(size=2)
        w.writerow([f"{a:.4f}", f"{b:.4f}", int(a - b + rng.normal(0, 0.4) > 0)])
    return buf.getvalue().encode()


def _play_container(deps: Any, spec: Any) -> bytes:
    """What the trial image does with the job: train.py on its channel, SM_MODEL_DIR packed. The
    script's SageMaker contract (`_lib.sm`) is pointed at this job's folders instead of setting SM_*
    variables: the Map's items run on moto's threads, and another one may be reading os.environ."""
    if str(REPO / "training_jobs") not in sys.path:
        sys.path.insert(0, str(REPO / "training_jobs"))
    sm = importlib.import_module("_lib.sm")
    with _container, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        channel = root / "table"
        channel.mkdir()
        (channel / "table.npz").write_bytes(deps.blobs.get(spec.channels["table"] + "table.npz"))
        contract = {
            "hyperparameters": lambda: dict(spec.hyperparameters),
            "channel": lambda name: channel if name == "table" else None,
            "model_dir": lambda: root / "model",
            "output_dir": lambda: root / "output",
        }
        saved = {name: getattr(sm, name) for name in contract}
        try:
            for name, fn in contract.items():
                setattr(sm, name, fn)
            runpy.run_path(str(REPO / "training_jobs" / spec.entry_point / "train.py"), run_name="__main__")
        finally:
            for name, fn in saved.items():
                setattr(sm, name, fn)
        return pack_dir(root / "model")  # as SageMaker packs SM_MODEL_DIR, folders and all


class Machine:
    """moto's AWS with the synthesized AutoML state machine created, the steps function's ports on
    moto's DynamoDB and S3, and moto's SageMaker trainer whose jobs the test's "container" runs."""

    def __init__(self, synth: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        template = synth.templates["acme"]
        resolve = Resolver(template)
        sm_id, sm = synth.state_machine("acme", "automl")
        asl = json.loads(resolve(sm["Properties"]["DefinitionString"]))
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        monkeypatch.setenv("OPTILOOP_AUTOML_IMAGE", IMAGE)
        monkeypatch.setattr(LambdaSimpleBackend, "invoke", run_python_handler)
        # The Map's items run on moto's threads, and moto's DynamoDB is not thread-safe: a
        # TransactWriteItems deep-copies the table while another item's write changes it ("dictionary
        # changed size during iteration", 1 run in ~5). DynamoDB itself serialises per item; here
        # each request is handled whole, one at a time.
        dynamo_call = DynamoHandler.call_action
        dynamo_lock = threading.RLock()

        def one_at_a_time(handler: DynamoHandler) -> Any:
            with dynamo_lock:
                return dynamo_call(handler)

        monkeypatch.setattr(DynamoHandler, "call_action", one_at_a_time)
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]}}]}  # fmt: skip
        role = boto3.client("iam", region_name=REGION).create_role(
            RoleName="automl-test", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        bucket = physical_name(
            next(k for k in synth.resources("acme", "AWS::S3::Bucket") if k.startswith("DataArtifacts"))
        )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
        functions = {resolve.arn(k): k for k in synth.resources("acme", "AWS::Lambda::Function")}
        lambdas = boto3.client("lambda", region_name=REGION)
        for fn_arn in {t["Resource"] for t in _tasks(asl["States"]) if t.get("Type") == "Task"}:
            lid = functions[fn_arn]
            lambdas.create_function(FunctionName=physical_name(lid), Runtime="python3.11", Role=role,
                                    Handler=template["Resources"][lid]["Properties"]["Handler"],
                                    Code={"ZipFile": b"in-process"})  # fmt: skip

        self.deps = deps = _ports(f"optiloop-acme-{uuid.uuid4().hex[:6]}", bucket)
        trainer = SageMakerTrainer(REPO / "training_jobs", bucket=bucket, role_arn=role,
                                   job_prefix="optiloop-acme", region=REGION)  # fmt: skip
        real_submit = trainer.submit

        def submit_and_train(spec: Any) -> str:
            name = real_submit(spec)
            desc = boto3.client("sagemaker", region_name=REGION).describe_training_job(TrainingJobName=name)
            deps.blobs.put(
                trainer.key_of(desc["ModelArtifacts"]["S3ModelArtifacts"]), _play_container(deps, spec)
            )
            return name

        trainer.submit = submit_and_train  # type: ignore[method-assign]
        deps.trainer = trainer
        steps = importlib.import_module("functions.workflow_steps.handler")
        monkeypatch.setattr(steps, "process_deps", lambda: deps)
        deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.arn = self.sfn.create_state_machine(
            name=physical_name(sm_id), definition=json.dumps(asl), roleArn=role
        )["stateMachineArn"]

    def execute(self, exp: dict[str, Any], batch_size: int) -> tuple[dict[str, Any], list[str]]:
        """One execution for the experiment, as the automl Lambda starts it, run to its end: its
        description and the states it entered, in order."""
        payload = fanout.execution_input(exp, ADMIN) | {"batch_size": batch_size, "poll_seconds": 0}
        arn = self.sfn.start_execution(stateMachineArn=self.arn, name=f"{exp['id']}-0",
                                       input=json.dumps(payload))["executionArn"]  # fmt: skip
        end = time.monotonic() + 240  # moto's first execution in a process warms its ASL parser
        while (ex := self.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < end, "the execution did not end"
            time.sleep(0.05)
        events = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return ex, [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def test_the_automl_state_machine_fans_trials_out_and_completes(
    synth: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mock_aws(config=MOTO):  # type: ignore[call-overload]
        machine = Machine(synth, monkeypatch)
        deps = machine.deps
        ds = datasets.ingest(deps, ADMIN, "p1", "t", "t.csv", _table())
        config = {"cv": {"folds": 2}, "hpo": {"trials": 3, "warm_start": 0},
                  "models": ["logistic_regression", "extra_trees"]}  # fmt: skip
        body = {"project_id": "p1", "task_type": "classification", "objective": "logloss",
                "dataset_id": ds["id"], "target": "y", "config": config}  # fmt: skip
        exp = experiments.create(deps, ADMIN, body)
        experiments.start(deps, ADMIN, exp["id"], lambda _d, _e: None)

        ex, visited = machine.execute(exp, batch_size=2)
        assert ex["status"] == "SUCCEEDED", ex
        outer = [v for v in visited if v in ("Plan", "RunTrials", "Record", "Finalise")]
        assert outer == ["Plan", "RunTrials", "Record", "Plan", "RunTrials", "Record", "Plan", "Finalise"]
        assert visited.count("StartTrial") == 3 and "Done" in visited

        done = experiments._load(deps, exp["id"]).data
        assert done["status"] == "completed", done.get("error")
        every = experiments.trials(deps, ADMIN, exp["id"])
        trials = [t for t in every if t["family"] != "ensemble"]
        assert [t["number"] for t in trials] == [0, 1, 2] and all(t["status"] == "completed" for t in trials)
        # Finalise's greedy ensemble over the jobs' out-of-fold outputs: one more candidate, numbered after
        [ens] = [t for t in every if t["family"] == "ensemble"]
        assert ens["number"] == 3 and ens["status"] == "completed" and ens["runtime"] == "ensemble"
        assert done["best"]["trial_id"] in {t["trial_id"] for t in every}
        # the leaderboard ranks the rows written beside the trials in DynamoDB, then reads those it lists
        board = experiments.leaderboard(deps, ADMIN, exp["id"])
        assert board["trials"][0]["trial_id"] == done["best"]["trial_id"]
        assert sorted(t["trial_id"] for t in board["trials"]) == sorted(t["trial_id"] for t in every)
        assert all(t["params"] is not None for t in board["trials"])
        jobs = boto3.client("sagemaker", region_name=REGION).list_training_jobs()["TrainingJobSummaries"]
        assert len(jobs) == 3 and all(j["TrainingJobName"].startswith("optiloop-acme-") for j in jobs)
        one = boto3.client("sagemaker", region_name=REGION).describe_training_job(
            TrainingJobName=jobs[0]["TrainingJobName"]
        )
        assert one["AlgorithmSpecification"]["TrainingImage"] == IMAGE
        assert one["InputDataConfig"][0]["ChannelName"] == "table"


@pytest.mark.parametrize("case", ["forecasting", "anomaly"])
def test_forecasting_and_anomaly_searches_run_as_one_job_and_equal_the_local_run(
    synth: Any, aws_env: None, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """One execution, one Map item, one `automl_experiment` job; what it records is what the local
    worker records for the same experiment (optiloop.automl.search_job)."""
    data, body = (panel_csv(), FORECAST) if case == "forecasting" else (anomaly_csv(), ANOMALY)
    local = run_locally(data, body)  # before moto: the local run's store is its own SQLite
    with mock_aws(config=MOTO):  # type: ignore[call-overload]
        machine = Machine(synth, monkeypatch)
        exp = create(machine.deps, data, body)
        ex, visited = machine.execute(exp, batch_size=4)
        assert ex["status"] == "SUCCEEDED", ex
        outer = [v for v in visited if v in ("Plan", "RunTrials", "Record", "Finalise")]
        assert outer == ["Plan", "RunTrials", "Record", "Plan", "Finalise"]
        assert visited.count("StartTrial") == 1 and "Done" in visited
        same_as_local(machine.deps, exp["id"], *local)
        [job] = boto3.client("sagemaker", region_name=REGION).list_training_jobs()["TrainingJobSummaries"]
        desc = boto3.client("sagemaker", region_name=REGION).describe_training_job(
            TrainingJobName=job["TrainingJobName"]
        )
        assert desc["AlgorithmSpecification"]["TrainingImage"] == IMAGE
        assert json.loads(desc["HyperParameters"]["task_type"]) == case
