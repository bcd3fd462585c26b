"""Mirror registered versions to SageMaker model package groups, approval status included.

Why: teams on AWS already look at SageMaker's Model Registry (Studio, EventBridge rules on
`SageMaker Model Package State Change`, CI/CD templates that deploy whatever is `Approved`). OptiLoop
stays the source of truth — its four-eyes approvals, policy gates, aliases and audit chain decide —
and keeps a copy there in step: each version becomes a model package in the group
`{prefix}-{model id}` whose `ModelApprovalStatus` follows the version's status (Approved -> Approved;
Rejected or Archived -> Rejected; anything else -> PendingManualApproval).

Mirroring never fails, rolls back or delays the registry write that caused it: `sync` runs after the
write has committed, and a SageMaker error is logged and leaves the mirror as it was, to be put right
by the next sync of that version (`POST /v1/models/{id}/versions/{ver}/promote` or an approval
decision calls it again). A `model_package_mirror` document per version records the package ARN and
the status last written; it is claimed before the package is created, so two concurrent syncs never
create two packages for one version.

    OPTILOOP_MODEL_PACKAGE_GROUP_PREFIX   turn mirroring on (the tenant's prefix; unset: off)
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any, Protocol

from optiloop.deps import Deps
from optiloop.errors import Conflict
from optiloop.models.records import ModelVersion
from optiloop.store.records import Doc

log = logging.getLogger("optiloop.models.registry.mirror")

KIND = "model_package_mirror"
ENV = "OPTILOOP_MODEL_PACKAGE_GROUP_PREFIX"
PENDING, APPROVED, REJECTED = "PendingManualApproval", "Approved", "Rejected"


class PackageMirror(Protocol):
    """What a model-package registry must do for OptiLoop (SageMaker's, or a test double)."""

    prefix: str

    def ensure_group(self, group: str, description: str) -> None: ...

    def create(
        self, group: str, *, source_uri: str | None, description: str, status: str, metadata: dict[str, str]
    ) -> str: ...

    def set_status(self, arn: str, status: str, description: str) -> None: ...


class SageMakerPackages:
    """boto3's SageMaker client (never the SageMaker SDK): create groups and packages, set statuses."""

    def __init__(self, prefix: str, client: Any | None = None) -> None:
        self.prefix = prefix
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("sagemaker")
        return self._client

    def ensure_group(self, group: str, description: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.create_model_package_group(
                ModelPackageGroupName=group, ModelPackageGroupDescription=description[:1000]
            )
        except ClientError as e:  # an existing group is what we wanted
            if "already exists" not in str(e) and e.response["Error"]["Code"] != "ValidationException":
                raise

    def create(
        self, group: str, *, source_uri: str | None, description: str, status: str, metadata: dict[str, str]
    ) -> str:
        args: dict[str, Any] = {
            "ModelPackageGroupName": group,
            "ModelPackageDescription": description[:1000],
            "ModelApprovalStatus": status,
            "CustomerMetadataProperties": metadata,
        }
        if source_uri:
            args["SourceUri"] = source_uri
        return str(self.client.create_model_package(**args)["ModelPackageArn"])

    def set_status(self, arn: str, status: str, description: str) -> None:
        self.client.update_model_package(
            ModelPackageArn=arn, ModelApprovalStatus=status, ApprovalDescription=description[:1000]
        )


_BUILT: dict[str, SageMakerPackages] = {}
_LOCK = threading.Lock()


def mirror_of(deps: Deps) -> PackageMirror | None:
    """The deployment's mirror: an injected one (tests), SageMaker's when the prefix is set, else None."""
    injected = getattr(deps, "package_mirror", None)
    if injected is not None:
        return injected  # type: ignore[no-any-return]
    prefix = os.environ.get(ENV, "").strip()
    if not prefix:
        return None
    with _LOCK:
        if prefix not in _BUILT:
            _BUILT[prefix] = SageMakerPackages(prefix)
        return _BUILT[prefix]


def approval_status(v: ModelVersion) -> str:
    if v.status == "Approved":
        return APPROVED
    if v.status in ("Rejected", "Archived"):
        return REJECTED
    return PENDING


def group_name(prefix: str, model_id: str) -> str:
    """SageMaker's pattern: letters, digits and single hyphens, at most 63 characters."""
    raw = re.sub(r"[^A-Za-z0-9]+", "-", f"{prefix}-{model_id}").strip("-")
    return raw[:63].rstrip("-")


def _source_uri(deps: Deps, key: str) -> str | None:
    if key.startswith("s3://"):
        return key
    bucket, prefix = getattr(deps.blobs, "bucket", None), getattr(deps.blobs, "prefix", "")
    return f"s3://{bucket}/{prefix}{key}" if bucket else None


def sync(deps: Deps, version_id: str) -> str | None:
    """Bring the version's model package in step; returns its ARN (None: mirroring off or failed)."""
    mirror = mirror_of(deps)
    if mirror is None:
        return None
    from optiloop.models.registry.versions import load_version

    try:
        v, _ = load_version(deps, version_id)
        status = approval_status(v)
        note = f"OptiLoop {v.project_id} model {v.model_id} version {v.version} ({v.status})"
        doc = deps.store.docs.get(KIND, v.id)
        if doc is None:
            return _create(deps, mirror, v, status, note)
        arn = doc.data.get("arn")
        if not arn:  # another sync holds the claim, or one died between claim and create
            return None
        if doc.data.get("status") != status:
            mirror.set_status(arn, status, note)
            data = {**doc.data, "status": status}
            deps.store.docs.replace(Doc(KIND, v.id, v.model_id, v.id, data), doc.rev)
        return str(arn)
    except Conflict:
        return None  # a concurrent sync wrote first; it saw a status at least as new as ours
    except Exception as e:  # the registry is the truth: a mirror failure never fails its write
        log.warning("mirroring model version %s to SageMaker failed: %s", version_id, e)
        return None


def _create(deps: Deps, mirror: PackageMirror, v: ModelVersion, status: str, note: str) -> str | None:
    group = group_name(mirror.prefix, v.model_id)
    claim = Doc(KIND, v.id, v.model_id, v.id, {"group": group, "arn": None, "status": None})
    try:
        deps.store.docs.create(claim)
    except Conflict:
        return None
    try:
        mirror.ensure_group(group, f"OptiLoop model {v.model_id} of project {v.project_id}")
        arn = mirror.create(
            group,
            source_uri=_source_uri(deps, v.artifact_key),
            description=note,
            status=status,
            metadata={
                "optiloop_project_id": v.project_id,
                "optiloop_model_id": v.model_id,
                "optiloop_version_id": v.id,
                "optiloop_version": str(v.version),
                "artifact_sha256": v.artifact_sha256,
            },
        )
    except Exception:
        deps.store.docs.delete(KIND, v.id)  # release the claim so the next sync tries again
        raise
    stored = deps.store.docs.get(KIND, v.id)
    data = {"group": group, "arn": arn, "status": status}
    if stored is not None:
        deps.store.docs.replace(Doc(KIND, v.id, v.model_id, v.id, data), stored.rev)
    return arn


def mirrored(deps: Deps, version_id: str) -> dict[str, Any] | None:
    """What the version's mirror holds (group, ARN, status); None until its package exists."""
    doc = deps.store.docs.get(KIND, version_id)
    return dict(doc.data) if doc is not None and doc.data.get("arn") else None
