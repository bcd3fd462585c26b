"""Sealing digests on a schedule: the signer and sink a runtime uses, and the local scheduler.

On AWS an EventBridge rule invokes the ``audit_digest`` Lambda every minute (infra_cdk/schedules.py),
which calls `seal_now`. On one machine `optiloop serve` starts `DigestScheduler`, a daemon thread
doing the same every `interval_s`. Both find their key and destination the same way (`signer_for`,
`sink_for`): explicit `Deps` fields first, then the environment (``OPTILOOP_AUDIT_SIGNING_KEY``: a
KMS key id/ARN/alias; ``OPTILOOP_AUDIT_BUCKET``: the Object-Lock bucket), then the local defaults
beside the SQLite file (``audit-signing.pem``, ``audit-digests/``).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from optiloop.audit.digest import seal
from optiloop.audit.signing import KmsSigner, Signer, local_signer
from optiloop.deps import Deps
from optiloop.store.ports import BlobStore

log = logging.getLogger("optiloop.audit")

SIGNING_KEY_ENV = "OPTILOOP_AUDIT_SIGNING_KEY"
BUCKET_ENV = "OPTILOOP_AUDIT_BUCKET"
KEY_FILE = "audit-signing.pem"
DIGEST_DIR = "audit-digests"
_lock = threading.Lock()


def _local_dir(deps: Deps) -> Path | None:
    path = getattr(deps.store, "path", None)
    return Path(path).parent if isinstance(path, str) else None


def signer_for(deps: Deps) -> Signer:
    with _lock:
        if deps.audit_signer is None:
            key = os.environ.get(SIGNING_KEY_ENV, "").strip()
            where = _local_dir(deps)
            if key:
                deps.audit_signer = KmsSigner(key)
            else:
                deps.audit_signer = local_signer(where / KEY_FILE if where is not None else None)
        return deps.audit_signer  # type: ignore[no-any-return]


def sink_for(deps: Deps) -> BlobStore | None:
    with _lock:
        if deps.audit_sink is None:
            bucket = os.environ.get(BUCKET_ENV, "").strip()
            where = _local_dir(deps)
            if bucket:
                from optiloop.store.s3_blobs import S3BlobStore

                deps.audit_sink = S3BlobStore(bucket)
            elif where is not None:
                from optiloop.store.local_blobs import LocalBlobStore

                deps.audit_sink = LocalBlobStore(where / DIGEST_DIR)
        return deps.audit_sink


def seal_now(deps: Deps, *, force: bool = False) -> dict[str, Any] | None:
    """Seal the next digest (if any shard head moved); what the schedule runs."""
    deps.store.audit.flush_events()  # pending high-rate events belong in the heads being sealed
    return seal(deps.store.audit, signer_for(deps), sink_for(deps), force=force)


class DigestScheduler:
    """The in-process scheduler of `optiloop serve`: seals a digest every `interval_s` seconds."""

    def __init__(self, deps: Deps, interval_s: float = 60.0) -> None:
        self.deps = deps
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="optiloop-audit-digest", daemon=True)

    def start(self) -> DigestScheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                d = seal_now(self.deps)
                if d is not None:
                    log.info("sealed audit digest %s over %d shard heads", d["n"], len(d["heads"]))
            except Exception:  # the next tick tries again; a failure must not kill the thread
                log.exception("could not seal an audit digest")
