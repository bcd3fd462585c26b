"""A sample of what was served, for the drift monitors: `inference_capture` documents.

A captured request keeps the encoded feature rows (the signature's encoding, NaN as null), the
outputs after the link, and one key per row, so a monitor compares them with the training baseline
without re-reading requests, and labels that arrive later (feedback) can be joined on the key.

    kind "inference_capture", scope = deployment id, sort = f"{at}#{request_id}", expires_at = +30 d
    data {"deployment_id", "variant", "model_version_id", "at", "request_id",
          "features": [[...]], "outputs": [[...]], "keys": [...], "feature_names": [...]}

Sampling: a deployment's `capture_rate` is the share of requests captured, and at most
`MAX_ROWS` rows of a request are kept. The write runs after the response (a background task).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from optiloop.deps import Deps
from optiloop.models.signature import Signature
from optiloop.store.records import Doc

KIND = "inference_capture"
MAX_ROWS = 50
RETENTION_S = 30 * 86_400


def sampled(rate: float, rng: random.Random | None = None) -> bool:
    return rate >= 1.0 or (rate > 0.0 and (rng or random).random() < rate)


def _json_rows(a: np.ndarray) -> list[list[float | None]]:
    return [[None if math.isnan(v) else round(v, 9) for v in row] for row in a.tolist()]


def row_key(sig: Signature, inst: Any, request_id: str, r: int) -> str:
    """The first id field's value when the instance has one, else `request_id:row`."""
    if isinstance(inst, Mapping):
        for f in sig.id_fields:
            if f in inst:
                return str(inst[f])
    return f"{request_id}:{r}"


def build(
    *,
    deployment_id: str,
    variant: str,
    version_id: str,
    at: str,
    request_id: str,
    sig: Signature,
    x: np.ndarray,
    outputs: np.ndarray,
    instances: Sequence[Any],
) -> Doc:
    n = min(MAX_ROWS, x.shape[0])
    expires = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(UTC).timestamp() + RETENTION_S
    return Doc(
        kind=KIND,
        id=f"{deployment_id}|{request_id}|{variant}",
        scope=deployment_id,
        sort=f"{at}#{request_id}#{variant}" if variant == "shadow" else f"{at}#{request_id}",
        data={
            "deployment_id": deployment_id,
            "variant": variant,
            "model_version_id": version_id,
            "at": at,
            "request_id": request_id,
            "feature_names": [i.name for i in sig.inputs],
            "features": _json_rows(x[:n]),
            "outputs": _json_rows(outputs[:n]),
            "keys": [row_key(sig, instances[r], request_id, r) for r in range(n)],
        },
        expires_at=expires,
    )


def write(deps: Deps, doc: Doc) -> None:
    deps.store.docs.create(doc)


def list_captures(
    deps: Deps, deployment_id: str, *, since: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Captures of a deployment after `since` (an ISO time), oldest first: what monitors read."""
    return [d.data for d in deps.store.docs.list(KIND, deployment_id, after=since, limit=limit)]
