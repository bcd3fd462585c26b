"""Wiring: the one module that imports store adapters and turns Settings into Deps.

Keeping adapter imports here means the core (and each Lambda's hot path) never pulls in a backend
it does not use (boto3 is imported only for the "aws" backend).
"""

from __future__ import annotations

from optiloop.config import ConfigError, Settings
from optiloop.deps import Deps


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
    return Deps(store=store, blobs=blobs)
