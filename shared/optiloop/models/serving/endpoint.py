"""SageMaker real-time endpoints for `endpoint` models, behind OptiLoop's own router.

A version whose runtime is `endpoint` needs its framework or a GPU, so it runs in a SageMaker
container; OptiLoop still does the split (canary/shadow), the validation and the metrics. One
endpoint per model version: a canary is a second endpoint, not a production variant, because the
router must work the same for every backend (serverless endpoints have no variants). Redeploying a
version with another instance type writes a new endpoint config and switches the endpoint to it
(`update_endpoint`).

boto3 only (never the SageMaker SDK), imported by the caller that builds the clients; the wire
format is JSON: `{"instances": [[feature, ...], ...]}` in (NaN as null, the signature's encoding),
`{"predictions": [[output, ...], ...]}` (or a flat list for one output) back.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from optiloop.errors import Conflict, UpstreamFailed

NAME_CHARS = re.compile(r"[^a-zA-Z0-9-]")
DEFAULT_INSTANCE = "ml.m5.large"


def endpoint_name(prefix: str, version_id: str) -> str:
    """SageMaker names: 1-63 of [a-zA-Z0-9-], starting with a letter or digit."""
    return NAME_CHARS.sub("-", f"{prefix}-{version_id}")[:63].strip("-")


@dataclass
class SageMakerEndpoints:
    """The `endpoints` port of Deps on AWS: creates and invokes one endpoint per model version."""

    sagemaker: Any  # boto3 "sagemaker" client
    runtime: Any  # boto3 "sagemaker-runtime" client
    role_arn: str  # the execution role the model's container runs as
    image_uri: str | None  # the inference image; None: the framework's SageMaker image for the region
    bucket: str  # where artifact keys live (s3://bucket/key)
    prefix: str = "optiloop"
    region: str = "us-east-1"

    def image_for(self, version: dict[str, Any]) -> str:
        """The container for a version: the configured image, else the SageMaker framework image of
        the framework that trained it (the scikit-learn and XGBoost containers serve as well as train;
        PyTorch models bring their inference code in the artifact)."""
        if self.image_uri:
            return self.image_uri
        from optiloop.models.training.images import image_uri

        try:
            return image_uri(str(version.get("framework", "")), self.region)
        except ValueError as e:
            raise Conflict(
                f"no SageMaker image for model version '{version['id']}': {e}; set OPTILOOP_SAGEMAKER_IMAGE",
                details=[{"field": "model_version_id", "reason": str(e)}],
            ) from e

    def ensure(self, version: dict[str, Any], instance_type: str = DEFAULT_INSTANCE) -> str:
        """The endpoint serving `version`, created (or switched to `instance_type`) if needed."""
        name = endpoint_name(self.prefix, version["id"])
        config = NAME_CHARS.sub("-", f"{name}-{instance_type}")[:63].strip("-")
        model_data = version["artifact_key"]
        if not model_data.startswith("s3://"):
            model_data = f"s3://{self.bucket}/{model_data}"
        if not self._exists("describe_model", ModelName=name):
            self.sagemaker.create_model(
                ModelName=name,
                PrimaryContainer={"Image": self.image_for(version), "ModelDataUrl": model_data},
                ExecutionRoleArn=self.role_arn,
            )
        if not self._exists("describe_endpoint_config", EndpointConfigName=config):
            self.sagemaker.create_endpoint_config(
                EndpointConfigName=config,
                ProductionVariants=[
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": name,
                        "InstanceType": instance_type,
                        "InitialInstanceCount": 1,
                    }
                ],
            )
        try:
            current = self.sagemaker.describe_endpoint(EndpointName=name)
        except Exception as e:
            if not _missing(e):
                raise
            self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
            return name
        if current.get("EndpointConfigName") != config:
            self.sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=config)
        return name

    def _exists(self, op: str, **kw: str) -> bool:
        try:
            getattr(self.sagemaker, op)(**kw)
            return True
        except Exception as e:
            if _missing(e):
                return False
            raise

    def invoke(self, name: str, x: np.ndarray, n_outputs: int) -> np.ndarray:
        rows = [[None if math.isnan(v) else v for v in row] for row in x.tolist()]
        try:
            resp = self.runtime.invoke_endpoint(
                EndpointName=name,
                ContentType="application/json",
                Accept="application/json",
                Body=json.dumps({"instances": rows}),
            )
            raw = resp["Body"].read()
        except Exception as e:  # the endpoint is down, throttled, or its container failed
            raise UpstreamFailed(
                f"SageMaker endpoint '{name}' failed: {e.__class__.__name__}",
                details=[{"field": "endpoint", "reason": str(e)[:300]}],
            ) from e
        return parse_outputs(name, raw, x.shape[0], n_outputs)


def _missing(e: Exception) -> bool:
    """SageMaker answers a describe of something absent with a ValidationException ("Could not find")."""
    code = getattr(e, "response", {}).get("Error", {}).get("Code")
    return code in ("ValidationException", "ResourceNotFound")


def parse_outputs(name: str, raw: bytes | str, rows: int, n_outputs: int) -> np.ndarray:
    """The container's answer as (rows, n_outputs), or UpstreamFailed saying what was wrong with it."""
    try:
        body = json.loads(raw)
        preds = body["predictions"] if isinstance(body, dict) else body
        out = np.asarray(preds, dtype=np.float64).reshape(rows, -1)
    except (ValueError, KeyError, TypeError) as e:
        raise UpstreamFailed(
            f"SageMaker endpoint '{name}' answered something that is not predictions",
            details=[{"field": "endpoint", "reason": f"{e.__class__.__name__}: {e}"[:300]}],
        ) from e
    if out.shape[1] != n_outputs or not np.all(np.isfinite(out)):
        raise UpstreamFailed(
            f"SageMaker endpoint '{name}' answered {out.shape[1]} outputs a row; the signature needs "
            f"{n_outputs} finite values",
            details=[{"field": "endpoint", "reason": "wrong output shape"}],
        )
    return out


class EndpointPredictor:
    """A `Predictor` whose rows are scored by a SageMaker endpoint."""

    def __init__(self, backend: SageMakerEndpoints, name: str, n_outputs: int) -> None:
        self.backend, self.name, self.n_outputs = backend, name, n_outputs

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.backend.invoke(self.name, x, self.n_outputs)


_FROM_ENV: list[SageMakerEndpoints] = []


def from_env(env: Mapping[str, str] | None = None) -> SageMakerEndpoints | None:
    """The adapter from OPTILOOP_SAGEMAKER_ROLE_ARN, _PREFIX, OPTILOOP_BUCKET and optionally _IMAGE (else
    the framework's image per version) — the Lambdas' environment, set by the CDK app — built once per
    process with boto3 (imported here, never on the trees path)."""
    env = os.environ if env is None else env
    if _FROM_ENV:
        return _FROM_ENV[0]
    role, image, bucket = (
        env.get(k) for k in ("OPTILOOP_SAGEMAKER_ROLE_ARN", "OPTILOOP_SAGEMAKER_IMAGE", "OPTILOOP_BUCKET")
    )
    if not (role and bucket):
        return None
    import boto3

    prefix = env.get("OPTILOOP_SAGEMAKER_PREFIX", "optiloop")
    sm = boto3.client("sagemaker")
    _FROM_ENV.append(
        SageMakerEndpoints(
            sm, boto3.client("sagemaker-runtime"), role, image or None, bucket, prefix, sm.meta.region_name
        )
    )
    return _FROM_ENV[0]


def require_backend(backend: Any, version_id: str) -> SageMakerEndpoints:
    backend = backend if backend is not None else from_env()
    if backend is None:
        raise Conflict(
            f"model version '{version_id}' runs on a SageMaker endpoint, and this installation has no "
            "SageMaker backend (OPTILOOP_SAGEMAKER_ROLE_ARN is not set)",
            details=[{"field": "model_version_id", "reason": "runtime 'endpoint' needs SageMaker"}],
        )
    return backend
