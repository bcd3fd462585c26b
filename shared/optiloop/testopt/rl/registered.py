"""The project's registered RL policy: the version the suggestion engine uses, looked up and cached.

The project's model named `rl_policy` (trained by `training_jobs/rl_policy` through the experiment
workflow, `POST /v1/projects/{id}/policies:train` with `type: "rl"`) is looked up in the registry:
the version at its `production` alias, else at `staging`. Its artifact is read once (checked
against the sha256 the registry recorded) and its actor parsed from `policy.json`; the suggest path
never imports torch or onnxruntime. Lookups are cached per process for `TTL_S` seconds, like the
registered surrogate's, so a promotion takes effect within that and a suggest call costs no store
reads in the steady state. A version that cannot be loaded is logged and treated as no policy.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.artifact import read_artifact, sha256_hex
from optiloop.models.serving.cache import blob_key
from optiloop.testopt.learned import MAX_PROJECTS, LookupCache, held_version
from optiloop.testopt.rl.policy import PolicyNet, parse_policy

MODEL_NAME = "rl_policy"
POLICY_FILE = "policy"  # the manifest's extra_models key

log = logging.getLogger("optiloop.rl")


@dataclass(frozen=True)
class RegisteredPolicy:
    model_id: str
    version_id: str
    version: int
    alias: str
    net: PolicyNet
    metrics: dict[str, float]

    def describe(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_version_id": self.version_id,
            "version": self.version,
            "alias": self.alias,
        }


_nets: OrderedDict[str, PolicyNet] = OrderedDict()  # by artifact sha256: a version is immutable
_nets_lock = threading.Lock()
_CACHE: LookupCache[RegisteredPolicy] = LookupCache("RL policy", log)


def clear_cache() -> None:
    _CACHE.clear()
    with _nets_lock:
        _nets.clear()


def load_net(data: bytes) -> PolicyNet:
    """The actor of an rl_policy artifact (InvalidInput when the archive or document is bad)."""
    art = read_artifact(data)
    name = (art.manifest.get("extra_models") or {}).get(POLICY_FILE)
    if not isinstance(name, str) or name not in art.files:
        raise InvalidInput(
            FieldProblem("artifact.extra_models.policy", "must name the policy's weights file")
        )
    return parse_policy(json.loads(art.files[name]))


def _lookup(deps: Deps, project_id: str) -> RegisteredPolicy | None:
    held = held_version(deps, project_id, MODEL_NAME)
    if held is None:
        return None
    v = held.version
    sha = str(v["artifact_sha256"]).removeprefix("sha256:")
    with _nets_lock:
        net = _nets.get(sha)
    if net is None:
        data = deps.blobs.get(blob_key(str(v["artifact_key"])))
        if data is None or sha256_hex(data) != sha:
            raise ValueError(f"the artifact of {v['id']} is missing or does not match its sha256")
        net = load_net(data)
        with _nets_lock:
            _nets[sha] = net
            while len(_nets) > MAX_PROJECTS:
                _nets.popitem(last=False)
    return RegisteredPolicy(
        model_id=held.model.id,
        version_id=v["id"],
        version=int(v["version"]),
        alias=held.alias,
        net=net,
        metrics=dict(v.get("metrics") or {}),
    )


def registered(deps: Deps, project_id: str, *, now: float | None = None) -> RegisteredPolicy | None:
    """The project's registered RL policy (cached for TTL_S), or None. Never raises: a policy that
    cannot be loaded is the same as none for the suggest path (the registry says why)."""
    return _CACHE.get(deps, project_id, _lookup, now)
