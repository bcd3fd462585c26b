"""Settings -> a Trainer: the one place that chooses a training adapter (called by optiloop.runtime).

    OPTILOOP_TRAINER                 local (default) | sagemaker
    OPTILOOP_TRAINING_JOBS_DIR       where entry points live (default: the repository's training_jobs/,
                                     else ./training_jobs, else $LAMBDA_TASK_ROOT/training_jobs)
    OPTILOOP_LOCAL_TRAINING_JOBS     local: jobs running at once (default 2; the rest wait as Pending)
    OPTILOOP_LOCAL_TRAINING_THREADS  local: threads per job, OMP/BLAS pools and SM_NUM_CPUS (default 1)
    OPTILOOP_TRAINING_ROLE_ARN       sagemaker: the execution role jobs run as (required)
    OPTILOOP_TRAINING_JOB_PREFIX     sagemaker: job names start with it (default: optiloop-$OPTILOOP_TENANT)
    OPTILOOP_LOCAL_TRAINING_USD_PER_HOUR, OPTILOOP_TRAINING_PRICES: see prices.py

A malformed value raises ConfigError naming the variable, at start, like every other setting.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from optiloop.config import ConfigError, Settings
from optiloop.models.training.port import Trainer
from optiloop.store.ports import BlobStore

TRAINERS = ("local", "sagemaker")


def code_root(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("OPTILOOP_TRAINING_JOBS_DIR"):
        return Path(env["OPTILOOP_TRAINING_JOBS_DIR"])
    import optiloop

    candidates = [
        Path(optiloop.__file__).resolve().parents[2] / "training_jobs",
        Path.cwd() / "training_jobs",
    ]
    if env.get("LAMBDA_TASK_ROOT"):
        candidates.append(Path(env["LAMBDA_TASK_ROOT"]) / "training_jobs")
    return next((c for c in candidates if c.is_dir()), candidates[0])


def _int(env: Mapping[str, str], var: str, default: int, low: int, high: int) -> int:
    raw = env.get(var)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{var} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{var} must be between {low} and {high}, got {value}")
    return value


def build_trainer(settings: Settings, blobs: BlobStore, env: Mapping[str, str] | None = None) -> Trainer:
    env = os.environ if env is None else env
    kind = getattr(settings, "trainer", None) or env.get("OPTILOOP_TRAINER", "local").strip().lower()
    root = code_root(env)
    if kind == "local":
        from optiloop.models.training.local import LocalTrainer

        if settings.backend == "local":
            work = Path(settings.data_dir) / "training"
        else:  # memory and aws stores: a throwaway folder (jobs on a Lambda's /tmp would not outlive it)
            work = Path(tempfile.mkdtemp(prefix="optiloop-training-"))
        return LocalTrainer(
            root,
            work,
            blobs,
            max_concurrent=_int(env, "OPTILOOP_LOCAL_TRAINING_JOBS", 2, 1, 64),
            threads=_int(env, "OPTILOOP_LOCAL_TRAINING_THREADS", 1, 1, 256),
        )
    if kind == "sagemaker":
        from optiloop.models.training.sagemaker import SageMakerTrainer

        role = env.get("OPTILOOP_TRAINING_ROLE_ARN", "").strip()
        if not role.startswith("arn:"):
            raise ConfigError("OPTILOOP_TRAINING_ROLE_ARN must be the ARN of the SageMaker training role")
        if not settings.bucket:
            raise ConfigError("OPTILOOP_TRAINER=sagemaker needs the aws backend's OPTILOOP_BUCKET")
        prefix = env.get("OPTILOOP_TRAINING_JOB_PREFIX") or f"optiloop-{env.get('OPTILOOP_TENANT', 'local')}"
        return SageMakerTrainer(
            root,
            bucket=settings.bucket,
            role_arn=role,
            job_prefix=prefix,
            kms_key_id=settings.kms_key_id,
            endpoint_url=settings.aws_endpoint,
        )
    raise ConfigError(f"OPTILOOP_TRAINER must be one of {', '.join(TRAINERS)}, got {kind!r}")
