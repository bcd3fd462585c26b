"""The SageMaker training backend: boto3 calls only (never the `sagemaker` SDK, ~1 GB with its deps).

Script mode without the SDK is four hyperparameters on a framework image: `sagemaker_program`
(`train.py`) and `sagemaker_submit_directory` (the job's `sourcedir.tar.gz` in S3) tell the
image's training toolkit what to run; `sagemaker_region` and `sagemaker_container_log_level` what it
expects besides. Like the SDK, every hyperparameter value is sent JSON-encoded (the toolkit decodes
each one), so a script reads the same strings in `SM_HPS` as it does locally.

Blob keys and S3: the blob store is the tenant's artifacts bucket, so a channel prefix is
`s3://<bucket>/<prefix>` and the artifact SageMaker reports (`s3://<bucket>/<key>`) is read back as
the key. Job names are `<job_prefix>-<job id>`: the tenant's IAM grants CreateTrainingJob only on
`training-job/<job_prefix>-*`.

Logs come from CloudWatch (`/aws/sagemaker/TrainingJobs`, one stream per host, `<job name>/algo-1-...`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optiloop.models.training.images import image_uri
from optiloop.models.training.metrics import metric_definitions
from optiloop.models.training.port import JobSpec, JobState, LogPage, Trainer
from optiloop.models.training.prices import is_gpu

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
MAX_LOG_LINES = 10_000
STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")


def _iso(value: Any) -> str | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SageMakerTrainer(Trainer):
    backend = "sagemaker"

    def __init__(
        self,
        code_root: Path,
        *,
        bucket: str,
        role_arn: str,
        job_prefix: str,
        region: str | None = None,
        kms_key_id: str | None = None,
        volume_gb: int = 10,
        sagemaker_client: Any = None,
        logs_client: Any = None,
        endpoint_url: str | None = None,
    ) -> None:
        super().__init__(code_root)
        self.bucket = bucket
        self.role_arn = role_arn
        self.job_prefix = job_prefix
        self.kms_key_id = kms_key_id
        self.volume_gb = volume_gb
        self._sm = sagemaker_client
        self._logs = logs_client
        self._endpoint_url = endpoint_url
        self._region = region

    # -- clients (created on first use: a Lambda that never trains never builds them) -------------

    @property
    def region(self) -> str:
        if self._region is None:
            import boto3

            self._region = boto3.session.Session().region_name or "us-east-1"
        return self._region

    @property
    def sm(self) -> Any:
        if self._sm is None:
            import boto3

            self._sm = boto3.client("sagemaker", region_name=self.region, endpoint_url=self._endpoint_url)
        return self._sm

    @property
    def cw_logs(self) -> Any:
        if self._logs is None:
            import boto3

            self._logs = boto3.client("logs", region_name=self.region, endpoint_url=self._endpoint_url)
        return self._logs

    # -- the port ----------------------------------------------------------------------------------

    def job_name(self, name: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9-]", "-", name).strip("-")
        return f"{self.job_prefix}-{stem}"[:63].rstrip("-")

    def request(self, spec: JobSpec) -> dict[str, Any]:
        """The CreateTrainingJob request for a spec (pure, so tests can read it)."""
        gpu = is_gpu(spec.instance_type)
        if gpu and spec.framework != "pytorch":
            raise ValueError(
                f"GPU instance types run pytorch entry points; {spec.entry_point} is {spec.framework}"
            )
        hps = {k: json.dumps(v) for k, v in spec.hyperparameters.items()}
        hps.update(
            {
                "sagemaker_program": json.dumps("train.py"),
                "sagemaker_submit_directory": json.dumps(self.s3_uri(spec.source_key)),
                "sagemaker_region": json.dumps(self.region),
                "sagemaker_container_log_level": "20",
            }
        )
        algorithm: dict[str, Any] = {
            "TrainingImage": image_uri(spec.framework, self.region, gpu=gpu),
            "TrainingInputMode": "File",
        }
        if spec.metric_names:
            algorithm["MetricDefinitions"] = metric_definitions(spec.metric_names)
        output: dict[str, str] = {"S3OutputPath": self.s3_uri(spec.output_prefix)}
        if self.kms_key_id:
            output["KmsKeyId"] = self.kms_key_id
        return {
            "TrainingJobName": self.job_name(spec.name),
            "HyperParameters": hps,
            "AlgorithmSpecification": algorithm,
            "RoleArn": self.role_arn,
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": self.s3_uri(prefix),
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
                for channel, prefix in sorted(spec.channels.items())
            ],
            "OutputDataConfig": output,
            "ResourceConfig": {
                "InstanceType": spec.instance_type,
                "InstanceCount": 1,
                "VolumeSizeInGB": self.volume_gb,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": spec.max_runtime_s},
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(spec.tags.items())],
        }

    def submit(self, spec: JobSpec) -> str:
        from botocore.exceptions import ClientError

        req = self.request(spec)
        try:
            self.sm.create_training_job(**req)
        except ClientError as e:
            err = e.response.get("Error", {})
            raise ValueError(f"SageMaker refused the job: {err.get('Code')}: {err.get('Message')}") from e
        return str(req["TrainingJobName"])

    def describe(self, name: str) -> JobState:
        from botocore.exceptions import ClientError

        try:
            d = self.sm.describe_training_job(TrainingJobName=name)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound"):
                raise KeyError(name) from e
            raise
        status = d.get("TrainingJobStatus", "InProgress")
        metrics = {
            m["MetricName"]: float(m["Value"])
            for m in d.get("FinalMetricDataList", [])
            if "MetricName" in m and "Value" in m
        }
        artifact = d.get("ModelArtifacts", {}).get("S3ModelArtifacts") if status == "Completed" else None
        return JobState(
            status=status if status in STATUSES else "InProgress",
            started_at=_iso(d.get("TrainingStartTime")),
            ended_at=_iso(d.get("TrainingEndTime")),
            failure_reason=d.get("FailureReason"),
            metrics=metrics,
            artifact_key=self.key_of(artifact) if artifact else None,
            wall_seconds=float(d["TrainingTimeInSeconds"]) if "TrainingTimeInSeconds" in d else None,
            cpu_seconds=None,
            billable_seconds=float(d["BillableTimeInSeconds"]) if "BillableTimeInSeconds" in d else None,
        )

    def stop(self, name: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.sm.stop_training_job(TrainingJobName=name)
        except ClientError as e:
            # SageMaker refuses to stop a job that has ended: that is not an error for us
            if e.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            if self.describe(name).status not in ("Completed", "Failed", "Stopped", "Stopping"):
                raise

    def logs(self, name: str, since: int = 0, limit: int = 1000) -> LogPage:
        from botocore.exceptions import ClientError

        lines: list[str] = []
        kwargs: dict[str, Any] = {"logGroupName": LOG_GROUP, "logStreamNamePrefix": f"{name}/"}
        try:
            while len(lines) < min(since + limit, MAX_LOG_LINES):
                page = self.cw_logs.filter_log_events(**kwargs)
                lines.extend(str(e.get("message", "")).rstrip("\n") for e in page.get("events", []))
                token = page.get("nextToken")
                if not token:
                    break
                kwargs["nextToken"] = token
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        chunk = lines[since : since + limit]
        nxt = since + len(chunk)
        terminal = self.describe(name).status in ("Completed", "Failed", "Stopped")
        return LogPage(lines=chunk, next_since=nxt, complete=terminal and nxt >= len(lines))

    # -- S3 <-> blob keys --------------------------------------------------------------------------

    def s3_uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def key_of(self, uri: str) -> str:
        prefix = f"s3://{self.bucket}/"
        return uri[len(prefix) :] if uri.startswith(prefix) else uri
