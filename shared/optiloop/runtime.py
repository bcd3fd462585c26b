"""Wiring: the one module that imports store adapters and turns Settings into Deps.

Keeping adapter imports here means the core (and each Lambda's hot path) never pulls in a backend
it does not use (boto3 is imported only for the "aws" backend).
"""

from __future__ import annotations

from typing import Any

from optiloop.config import ConfigError, Settings
from optiloop.deps import Deps
from optiloop.store.ports import BlobStore


def build_deps(settings: Settings) -> Deps:
    if settings.backend == "local":
        from optiloop.store.factory import open_local

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store, blobs = open_local(settings.data_dir)
    elif settings.backend == "memory":
        from optiloop.store.factory import open_memory

        store, blobs = open_memory()
    elif settings.backend == "aws":
        from optiloop.store.factory import open_aws

        assert settings.table and settings.bucket  # Settings refuses aws without them
        store, blobs = open_aws(
            settings.table,
            settings.bucket,
            endpoint_url=settings.aws_endpoint,
            kms_key_id=settings.kms_key_id,
        )
    else:  # Settings validates this; kept so a new backend name cannot fall through silently
        raise ConfigError(f"OPTILOOP_BACKEND {settings.backend!r} is not wired")
    # The trainer where training is configured (OPTILOOP_TRAINER) or runs on this machine (local
    # backend); other Lambdas never build one (jobs.trainer_of builds it on first use if asked).
    trainer = build_trainer(settings, blobs) if settings.trainer or settings.backend == "local" else None
    return Deps(
        store=store,
        blobs=blobs,
        trainer=trainer,
        notifier=build_notifier(settings),
        secrets=build_secrets(settings),
    )


def build_secrets(settings: Settings) -> Any:
    """Where the tenant's credentials live (optiloop.secrets): Secrets Manager under
    OPTILOOP_SECRETS_PREFIX on AWS, a private folder under the data directory locally."""
    if settings.backend == "aws":
        import os

        from optiloop.secrets.aws import from_env

        prefix = os.environ.get("OPTILOOP_SECRETS_PREFIX", "").strip() or f"optiloop/{settings.table}"
        return from_env(prefix, settings.aws_endpoint)  # the account's aws/secretsmanager key
    if settings.backend == "local":
        from optiloop.secrets.local import FolderSecrets

        return FolderSecrets(settings.data_dir / "secrets")
    from optiloop.secrets.local import MemorySecrets

    return MemorySecrets()


def build_notifier(settings: Settings) -> Any:
    """Model alerts to the tenant's alarm topic (OPTILOOP_ALARM_TOPIC_ARN), else None: the alert
    documents and the audit log are then the only record (optiloop.models.monitoring.notify)."""
    if not settings.alarm_topic_arn:
        return None
    from optiloop.models.monitoring.sns import SnsNotifier

    return SnsNotifier(settings.alarm_topic_arn, endpoint_url=settings.aws_endpoint)


def build_trainer(settings: Settings, blobs: BlobStore) -> Any:
    """The training backend the settings choose (optiloop.models.training.factory)."""
    from optiloop.models.training.factory import build_trainer as build

    return build(settings, blobs)
