"""What a use case receives: ports, never adapters (the runtime wires them in `optiloop.runtime`)."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optiloop.store.ports import BlobStore, Store


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_id_rng: tuple[int, random.Random] | None = None
_id_last: tuple[int, int] = (0, 0)  # (ms, random part) of this process's last id: ids only go up
_id_lock = threading.Lock()


def new_id(prefix: str) -> str:
    """A time-ordered id: 11 hex digits of Unix milliseconds, then 36 bits (20 hex digits in all).

    Time first, so listings that page by id (projects, tables, experiments) come in creation order, as
    the API promises (docs/api-versioning.md, "Listings"). Within a process ids strictly increase (an id
    in the same millisecond as the last one takes the last one's random part plus one); across
    processes, 36 random bits keep ids of the same millisecond apart. Ids name records, they grant
    nothing (API keys use `secrets`), so a PRNG seeded from the OS per process is enough, and ~100x
    cheaper than an urandom call per id in a batch of hundreds. Reseeded after fork so forked workers
    never share a stream."""
    global _id_rng, _id_last
    with _id_lock:
        if _id_rng is None or _id_rng[0] != os.getpid():
            _id_rng = (os.getpid(), random.Random(os.urandom(32)))
            _id_last = (0, 0)  # a forked child counts from its own random start, not its parent's
        ms, bits = time.time_ns() // 1_000_000, _id_rng[1].getrandbits(36)
        last_ms, last_bits = _id_last
        if ms <= last_ms:  # same millisecond (or the clock stepped back): count up from the last id
            ms, bits = last_ms, last_bits + 1
            if bits >= 1 << 36:
                ms, bits = last_ms + 1, 0
        _id_last = (ms, bits)
    return f"{prefix}_{ms:011x}{bits:09x}"


@dataclass
class Deps:
    store: Store
    blobs: BlobStore
    clock: Callable[[], str] = utc_now
    ids: Callable[[str], str] = field(default=new_id)
    # generate/evals: the model catalogue file (None: the built-in deterministic one), and a ready
    # gateway that tests inject instead (None: built from the catalogue on first use)
    models_file: Path | None = None
    gateway: Any = None
    # audit digests (`optiloop.audit.digest`): the tenant's signer (KMS on AWS, a key file locally) and
    # where sealed digests are also written (the Object-Lock audit bucket, a local folder); None: the
    # runtime's defaults (`optiloop.audit.sealing.signer_for`)
    audit_signer: Any = None
    audit_sink: Any = None
    # models: the training backend (optiloop.models.training.port.Trainer); None: built from the
    # environment on first use (optiloop.models.training.jobs.trainer_of)
    trainer: Any = None
    # models: SageMaker real-time endpoints for `endpoint` versions
    # (optiloop.models.serving.endpoint.SageMakerEndpoints); None: built from OPTILOOP_SAGEMAKER_* on
    # first use, or refused with a 409 where none is configured
    endpoints: Any = None
    # models: where registered versions are mirrored (optiloop.models.registry.mirror.PackageMirror);
    # None: SageMaker model package groups when OPTILOOP_MODEL_PACKAGE_GROUP_PREFIX is set, else off
    package_mirror: Any = None
    # experiment workflows (optiloop.workflows.engine.WorkflowEngine): Step Functions where a state
    # machine is configured, else a local runner built on first use (engine_of)
    workflows: Any = None
    # model monitors: where alerts are published (optiloop.models.monitoring.notify.Notifier; SNS on
    # AWS from OPTILOOP_ALARM_TOPIC_ARN); None: alerts are recorded, not sent
    notifier: Any = None
    # credentials held for the tenant (connector passwords, keys): optiloop.secrets.SecretStore; None:
    # an in-memory store of this Deps' own on first use (optiloop.secrets.secrets_of)
    secrets: Any = None
    # where principals are metered outside this process (optiloop.auth.usage_plan.UsageKeys): None:
    # API Gateway's usage plan when OPTILOOP_USAGE_PLAN names one (AWS), else only the in-process buckets
    usage_keys: Any = None
