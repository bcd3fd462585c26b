"""Model versions as approvable entities (registered with `optiloop.approvals.entities` on import).

A Registered version is submitted; what a decision rests on is the version's content hash (the
artifact's sha256), its held-out metrics and its model card's calibration and fairness numbers, and
a policy measures `metrics.<name>`, `calibration.<name>` and `fairness.<name>` against them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from optiloop.approvals import entities
from optiloop.approvals.policies import Policy
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.deps import Deps
from optiloop.models.records import model_version_doc
from optiloop.models.registry import mirror
from optiloop.models.registry.versions import load_version


def _load(deps: Deps, who: Principal, entity_id: str, action: Action) -> entities.Subject:
    v, _ = load_version(deps, entity_id)
    authorize(who, action, v.project_id)
    return entities.Subject(
        entity_type="model_version",
        entity_id=v.id,
        project_id=v.project_id,
        author=v.created_by,
        status=v.status,
        content_hash=v.artifact_sha256,
        summary={"model_id": v.model_id, "version": v.version, "card_sha256": v.card_sha256},
    )


def _move(deps: Deps, subject: entities.Subject, expected: tuple[str, ...], to: str) -> None:
    v, doc = load_version(deps, subject.entity_id)
    entities.require_status(f"model version {v.version}", v.status, expected)
    deps.store.docs.replace(model_version_doc(replace(v, status=to)), doc.rev)  # type: ignore[arg-type]  # `to` is one of the statuses the approvals module moves between


def _gather(deps: Deps, subject: entities.Subject) -> dict[str, Any]:
    v, _ = load_version(deps, subject.entity_id)
    card: dict[str, Any] = {}
    raw = deps.blobs.get(v.card_key) if v.card_key else None
    if raw is not None:
        try:
            card = json.loads(raw)
        except ValueError:
            card = {}
    fairness = card.get("fairness") or {}
    return {
        "metrics": dict(v.metrics),
        "calibration": dict(card.get("calibration") or {}),
        "fairness": dict(fairness.get("metrics") or {}),
        "sensitive_column": fairness.get("sensitive_column"),
        "card_sha256": v.card_sha256,
        "data_fingerprint": v.data_fingerprint,
    }


def _measurer(ev: dict[str, Any], policy: Policy) -> entities.Measure:
    def measure(key: str) -> float | None:
        family, _, name = key.partition(".")
        numbers = ev.get(family) if family in ("metrics", "calibration", "fairness") else None
        if not isinstance(numbers, dict) or name not in numbers:
            return None
        return float(numbers[name])

    return measure


MODEL_VERSION = entities.EntityType(
    name="model_version",
    load=_load,
    move=_move,
    submittable=("Registered",),
    gather=_gather,
    measurer=_measurer,
    missing_hint="was never measured (the version's metrics and model card do not report it)",
    moved=mirror.sync,
)
entities.register(MODEL_VERSION)
