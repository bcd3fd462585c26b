"""Registry use cases without HTTP: registration checks before writing, stage rules, rollback stack,
the approvals registry, and the seed policy's parsing."""

from __future__ import annotations

import json

import pytest

from optiloop.approvals import entities, requests
from optiloop.approvals.policies import parse_policy
from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.errors import Conflict, InvalidInput, NotFound
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files
from optiloop.models.registry import cards, models, stages, versions
from optiloop.store.records import Project

ALICE = Principal("alice", "contributor", None, None)
BOB = Principal("bob", "admin", None, None)
SIG = {"task": "regression", "inputs": [{"name": "x", "type": "number"}]}
TREE = {
    "format": "optiloop.trees/1", "n_features": 1, "n_outputs": 1, "base_margin": [0.5], "link": "identity",
    "trees": [{"output": 0, "feature": [0, 0, 0], "threshold": [1, 0, 0], "left": [1, -1, -1],
               "right": [2, -1, -1], "default_left": [1, 0, 0], "value": [0, 1.0, 2.0]}],
}  # fmt: skip


def art(**metrics: float) -> bytes:
    m = {"format": FORMAT, "framework": "sklearn", "runtime": "trees", "model_file": "m.json",
         "signature": SIG, "metrics": metrics or {"rmse": 0.3}}  # fmt: skip
    return pack_files({MANIFEST: json.dumps(m).encode(), "m.json": json.dumps(TREE).encode()})


@pytest.fixture
def model_id(deps: Deps) -> str:
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    return models.create_model(deps, ALICE, "p1", "m").id


def test_a_bad_artifact_writes_nothing(deps: Deps, model_id: str) -> None:
    with pytest.raises(InvalidInput):
        versions.register_from_upload(deps, ALICE, model_id, b"\x1f\x8b broken")
    with pytest.raises(InvalidInput) as e:
        versions.register_from_upload(deps, ALICE, model_id, art(), "sha256:" + "a" * 64)
    assert e.value.details[0]["field"] == "sha256"
    assert deps.blobs.list("models/") == [] and deps.store.docs.list("model_version", model_id) == []


def test_resolve_by_number_id_alias_and_latest(deps: Deps, model_id: str) -> None:
    v1 = versions.register_from_upload(deps, ALICE, model_id, art())
    v2 = versions.register_from_upload(deps, ALICE, model_id, art(rmse=0.2))
    stages.promote(deps, ALICE, model_id, 1, alias="champion")
    m = models.get_model(deps, ALICE, model_id)
    assert versions.resolve(deps, m, 2).id == v2.id and versions.resolve(deps, m, v1.id).id == v1.id
    assert (
        versions.resolve(deps, m, "champion").id == v1.id and versions.resolve(deps, m, "latest").id == v2.id
    )
    with pytest.raises(NotFound):
        versions.resolve(deps, m, 3)
    with pytest.raises(NotFound):
        versions.resolve(deps, m, "challenger")


def test_rollback_walks_back_through_promotions(deps: Deps, model_id: str) -> None:
    for _ in range(3):
        versions.register_from_upload(deps, ALICE, model_id, art())
    for n in (1, 2, 3):
        stages.promote(deps, ALICE, model_id, n, stage="staging")
    assert stages.rollback(deps, ALICE, model_id, stage="staging")["event"]["version"] == 2
    stages.promote(deps, ALICE, model_id, 2, stage="archived")
    assert models.get_model(deps, ALICE, model_id).aliases == {}
    # 3 was rolled back from and 2 is archived: the holder before them is 1, and nothing before 1
    assert stages.rollback(deps, ALICE, model_id, stage="staging")["event"]["version"] == 1
    with pytest.raises(Conflict):
        stages.rollback(deps, ALICE, model_id, stage="staging")
    assert stages.rollback(deps, ALICE, model_id, stage="staging", to_version=3)["event"]["version"] == 3
    with pytest.raises(Conflict):
        stages.require_deployable(
            deps, versions.resolve(deps, models.get_model(deps, ALICE, model_id), 2).id, "staging"
        )


def test_production_and_deployability_follow_approval(deps: Deps, model_id: str) -> None:
    v = versions.register_from_upload(deps, ALICE, model_id, art())
    with pytest.raises(Conflict) as e:
        stages.promote(deps, ALICE, model_id, 1, stage="production")
    assert e.value.details[0]["missing"] == "approval"
    assert stages.require_deployable(deps, v.id, "staging").id == v.id
    with pytest.raises(Conflict):
        stages.require_deployable(deps, v.id, "production")
    apr = requests.submit(deps, ALICE, "model_version", v.id)
    requests.decide(deps, BOB, "approve", approval_id=apr["id"])
    assert stages.is_approved(deps, v.id)
    assert stages.promote(deps, ALICE, model_id, 1, stage="production")["changed"]
    assert stages.promote(deps, ALICE, model_id, 1, stage="production")["changed"] is False


def test_both_capabilities_are_registered_with_approvals() -> None:
    import optiloop.prompts  # noqa: F401  # a capability registers its entity type when imported

    assert {"prompt_version", "model_version"} <= set(entities.registered())


def test_the_seed_policy_parses_and_names_its_measures() -> None:
    p = parse_policy(
        {"name": "prod-approval-policy", "scope": "model_version",
         "rule": {"if": {"metrics.auc": {">=": 0.9}, "fairness.demographic_parity": {"<=": 0.1},
                         "calibration.ece": {"<=": 0.05}},
                  "then": "require_approval", "approvers": ["risk_officer", "mlops_admin"]}}
    )  # fmt: skip
    assert [c.metric for c in p.conditions] == [
        "metrics.auc",
        "fairness.demographic_parity",
        "calibration.ece",
    ]
    with pytest.raises(InvalidInput):  # a prompt policy measures evaluations, not metrics
        parse_policy(
            {
                "name": "x",
                "scope": "prompt_version",
                "rule": {"if": {"metrics.auc": {">=": 1}}, "then": "block"},
            }
        )


def test_card_reports_fairness_only_with_a_sensitive_column() -> None:
    v = {"id": "mv_1", "model_id": "mdl_1", "version": 1, "framework": "f", "runtime": "trees",
         "artifact_sha256": "sha256:x", "created_at": "t", "created_by": "a",
         "metrics": {"auc": 0.9, "demographic_parity": 0.05, "calibration_ece": 0.01},
         "signature": SIG}  # fmt: skip
    without = cards.build_card(v, cards.CardSpec(), model_name="m", rows=None)
    assert without["fairness"]["metrics"] == {} and without["calibration"] == {"ece": 0.01}
    assert without["metrics"] == {"auc": 0.9}
    with_col = cards.build_card(v, cards.CardSpec(sensitive_column="sex"), model_name="m", rows=10)
    assert with_col["fairness"]["metrics"] == {"demographic_parity": 0.05} and with_col["data"]["rows"] == 10
    raw, md, sha = cards.encode(with_col)
    assert b"sex" in md and len(sha) == 64 and json.loads(raw) == with_col
