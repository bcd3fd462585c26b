"""What a monitor watches: a model deployment, the version its stable variant serves, that version's
signature, and the training baseline inside its artifact.

The deployment record is the serving code's (`optiloop.models.serving.records`, kind
`model_deployment`); it is read here as a plain document (its `project_id`, `model_id` and
`stable.model_version_id`) so monitoring depends on the record's shape, not on serving's modules.

The baseline is read from the artifact once per artifact sha256 and process (a bounded cache): an
evaluation every few minutes must not unpack a model archive each time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from optiloop.deps import Deps
from optiloop.errors import InvalidInput
from optiloop.models.artifact import read_artifact
from optiloop.models.signature import Signature, parse_signature

DEPLOYMENT_KIND = "model_deployment"
VERSION_KIND = "model_version"
MAX_CACHED = 32


@dataclass(frozen=True)
class Target:
    deployment_id: str
    project_id: str
    model_id: str
    version: dict[str, Any]  # the model_version document's data
    signature: Signature

    @property
    def version_id(self) -> str:
        return str(self.version["id"])


def stable_version_id(deployment: dict[str, Any]) -> str | None:
    stable = deployment.get("stable")
    if isinstance(stable, dict) and stable.get("model_version_id"):
        return str(stable["model_version_id"])
    vid = deployment.get("model_version_id")
    return str(vid) if vid else None


def load_target(deps: Deps, deployment_id: str, *, field: str = "deployment_id") -> Target:
    """The deployment and its serving version, or a 404 naming `field`."""
    dep = deps.store.docs.require(DEPLOYMENT_KIND, deployment_id, field=field, what="model deployment").data
    vid = stable_version_id(dep)
    vdoc = deps.store.docs.get(VERSION_KIND, vid) if vid else None
    if vdoc is None:
        deps.store.docs.require(
            VERSION_KIND, vid or "?", field=field, what="model version", reason="its version is gone"
        )
    assert vdoc is not None
    version = vdoc.data
    return Target(
        deployment_id=deployment_id,
        project_id=str(dep.get("project_id") or version.get("project_id")),
        model_id=str(dep.get("model_id") or version.get("model_id")),
        version=version,
        signature=parse_signature(version.get("signature"), where="model_version.signature"),
    )


def blob_key(artifact_key: str) -> str:
    """`s3://bucket/key` -> `key`: versions may record the URI, the blob store takes the key."""
    if artifact_key.startswith("s3://"):
        rest = artifact_key[5:]
        return rest.split("/", 1)[1] if "/" in rest else ""
    return artifact_key


class _BaselineCache:
    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[dict[str, Any] | None, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, deps: Deps, version: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The version's baseline (None if it has none) and why it could not be read, if so."""
        key = str(version.get("artifact_sha256") or version.get("id"))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        found = _read(deps, version)
        with self._lock:
            self._items[key] = found
            while len(self._items) > MAX_CACHED:
                self._items.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _read(deps: Deps, version: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    key = version.get("artifact_key")
    data = deps.blobs.get(blob_key(str(key))) if key else None
    if data is None:
        return None, "the version's artifact is not in the artifact store"
    try:
        return read_artifact(data).baseline, None
    except InvalidInput as e:
        return None, f"the version's artifact cannot be read: {e.message}"


BASELINES = _BaselineCache()
