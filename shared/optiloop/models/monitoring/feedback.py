"""Labels for served predictions: `POST /v1/deployments/{id}/feedback`, and joining them to captures.

Ground truth arrives after the prediction (a chargeback weeks later, a reviewer's verdict), keyed by
the `request_id` the predict call answered and, for a batch, the instance's `index`. Each label is one
document whose id is (deployment, request, index), so sending a corrected label replaces the old one
and the join from a capture row to its label is a batch get, not a scan. Labels expire after
LABEL_TTL_S: a performance monitor judges recent traffic, and the store must not grow forever.

Labels are validated against the serving version's signature (a class it knows, or a finite number
for regression) and encoded the way performance.py reads them: the class index, or the value.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models.monitoring.captures import Window
from optiloop.models.monitoring.records import LABEL, LABEL_TTL_S
from optiloop.models.monitoring.targets import load_target
from optiloop.models.signature import Signature, json_key
from optiloop.store.ports import iter_chunks
from optiloop.store.records import Doc

MAX_LABELS = 1000
MAX_INDEX = 100_000
MAX_PROBLEMS = 20


def label_id(deployment_id: str, request_id: str, index: int) -> str:
    return f"{deployment_id}:{request_id}:{index}"


def encode_label(sig: Signature, label: Any) -> float | str:
    """The label's encoded value, or why the signature cannot take it."""
    if sig.task == "regression":
        if isinstance(label, bool) or not isinstance(label, (int, float)) or not math.isfinite(label):
            return "must be a finite number (a regression model's target)"
        return float(label)
    keys = [json_key(c) for c in sig.classes]
    if json_key(label) in keys:
        return float(keys.index(json_key(label)))
    # "1" for class 1, or 1 for class "1": labels travel through many systems' string conversions
    texts = [str(c) for c in sig.classes]
    if not isinstance(label, (dict, list)) and str(label) in texts and texts.count(str(label)) == 1:
        return float(texts.index(str(label)))
    return f"must be one of the model's classes {list(sig.classes)}"


def submit(
    deps: Deps, who: Principal, deployment_id: str, labels: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    target = load_target(deps, deployment_id)
    authorize(who, Action.RUN_INGEST, target.project_id)
    if not labels or len(labels) > MAX_LABELS:
        raise InvalidInput(FieldProblem("labels", f"must hold 1..{MAX_LABELS} labels"))
    problems: list[FieldProblem] = []
    docs: dict[str, Doc] = {}
    now = deps.clock()
    expires = time.time() + LABEL_TTL_S
    for k, item in enumerate(labels):
        rid, index = item.get("request_id"), item.get("index", 0)
        y = encode_label(target.signature, item.get("label"))
        if isinstance(y, str):
            problems.append(FieldProblem(f"labels[{k}].label", y))
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        doc_id = label_id(deployment_id, str(rid), int(index))
        docs[doc_id] = Doc(
            kind=LABEL,
            id=doc_id,
            scope=deployment_id,
            sort=f"{rid}#{int(index):06d}",
            data={"request_id": rid, "index": index, "label": item.get("label"), "y": y, "at": now},
            expires_at=expires,
        )
    if problems:
        raise InvalidInput(problems)
    replaced = 0
    with deps.store.transaction():
        for chunk in iter_chunks(list(docs), 100):
            existing = deps.store.docs.get_many(LABEL, chunk)
            for doc_id in chunk:
                old = existing.get(doc_id)
                if old is None:
                    deps.store.docs.create(docs[doc_id])
                else:
                    deps.store.docs.replace(docs[doc_id], old.rev)
                    replaced += 1
    # labels arrive at serving rates: an audit event sealed in bulk, never a wait on the project's chain
    deps.store.audit.record_event(
        principal=who.name,
        action="deployment.feedback",
        project_id=target.project_id,
        target=deployment_id,
        details={
            "labels": len(docs),
            "replaced": replaced,
            "model_version_id": target.version_id,
            "key_id": who.key_id,
        },
    )
    return {"deployment_id": deployment_id, "accepted": len(docs), "replaced": replaced}


def join(deps: Deps, deployment_id: str, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """(labels, outputs) of the window's rows that have a label, in window order."""
    ids = [label_id(deployment_id, r, i) for r, i in zip(window.request_ids, window.indexes, strict=True)]
    found: dict[str, Doc] = {}
    for chunk in iter_chunks(ids, 100):
        found.update(deps.store.docs.get_many(LABEL, list(chunk)))
    rows = [k for k, doc_id in enumerate(ids) if doc_id in found]
    y = np.array([float(found[ids[k]].data["y"]) for k in rows], dtype=np.float64)
    return y, window.outputs[rows] if rows else window.outputs[:0]
