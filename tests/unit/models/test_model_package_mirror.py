"""Registered versions mirrored to SageMaker model package groups (moto), approval status in step,
and a failing mirror never failing or undoing the registry write that caused it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from optiloop.approvals import requests
from optiloop.auth.principal import Principal
from optiloop.deps import Deps
from optiloop.models.artifact import FORMAT, MANIFEST, pack_files
from optiloop.models.registry import mirror, models, stages, versions
from optiloop.store.records import Project

ALICE = Principal("alice", "contributor", None, None)
BOB = Principal("bob", "admin", None, None)
SIG = {"task": "regression", "inputs": [{"name": "x", "type": "number"}]}
TREE = {
    "format": "optiloop.trees/1", "n_features": 1, "n_outputs": 1, "base_margin": [0.5], "link": "identity",
    "trees": [{"output": 0, "feature": [0, 0, 0], "threshold": [1, 0, 0], "left": [1, -1, -1],
               "right": [2, -1, -1], "default_left": [1, 0, 0], "value": [0, 1.0, 2.0]}],
}  # fmt: skip


def art() -> bytes:
    m = {"format": FORMAT, "framework": "sklearn", "runtime": "trees", "model_file": "m.json",
         "signature": SIG, "metrics": {"rmse": 0.3}}  # fmt: skip
    return pack_files({MANIFEST: json.dumps(m).encode(), "m.json": json.dumps(TREE).encode()})


@pytest.fixture
def sm(deps: Deps) -> Iterator[tuple[Deps, Any, str]]:
    with mock_aws():
        client = boto3.client("sagemaker", region_name="us-east-1")
        mirrored = dataclasses.replace(deps, package_mirror=mirror.SageMakerPackages("acme-prod", client))
        mirrored.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
        yield mirrored, client, models.create_model(mirrored, ALICE, "p1", "churn").id


def _status(client: Any, arn: str) -> str:
    return str(client.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"])


def test_a_version_becomes_a_package_whose_status_follows_approval(sm: tuple[Deps, Any, str]) -> None:
    deps, client, model_id = sm
    v = versions.register_from_upload(deps, ALICE, model_id, art())
    held = mirror.mirrored(deps, v.id)
    assert held is not None and held["status"] == "PendingManualApproval"
    group = mirror.group_name("acme-prod", model_id)
    assert held["group"] == group and len(group) <= 63
    listed = client.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in listed] == [held["arn"]]

    apr = requests.submit(deps, ALICE, "model_version", v.id)
    requests.decide(deps, BOB, "approve", approval_id=apr["id"])
    assert _status(client, held["arn"]) == "Approved" and mirror.mirrored(deps, v.id)["status"] == "Approved"  # type: ignore[index]

    v2 = versions.register_from_upload(deps, ALICE, model_id, art())
    stages.promote(deps, ALICE, model_id, v2.version, stage="archived")
    arn2 = mirror.mirrored(deps, v2.id)["arn"]  # type: ignore[index]
    assert arn2 != held["arn"] and _status(client, arn2) == "Rejected"
    # a second sync with nothing changed writes nothing and creates no second package
    assert mirror.sync(deps, v2.id) == arn2
    assert len(client.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]) == 2


class Broken:
    prefix = "acme"

    def __init__(self) -> None:
        self.calls = 0

    def ensure_group(self, group: str, description: str) -> None:
        self.calls += 1
        raise RuntimeError("SageMaker is down")

    def create(self, group: str, **kw: Any) -> str:  # pragma: no cover - never reached
        raise AssertionError

    def set_status(self, arn: str, status: str, description: str) -> None:  # pragma: no cover
        raise AssertionError


def test_a_failing_mirror_never_fails_the_registry_and_is_retried(deps: Deps) -> None:
    broken = Broken()
    deps = dataclasses.replace(deps, package_mirror=broken)
    deps.store.projects.add(Project("p1", "p", "", "2026-01-01T00:00:00Z", "op"))
    model_id = models.create_model(deps, ALICE, "p1", "m").id
    v = versions.register_from_upload(deps, ALICE, model_id, art())
    assert versions.load_version(deps, v.id)[0].status == "Registered"  # the version is there
    assert mirror.mirrored(deps, v.id) is None and deps.store.docs.get(mirror.KIND, v.id) is None
    assert mirror.sync(deps, v.id) is None and broken.calls == 2  # the claim was released: tried again


def test_off_without_a_prefix(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(mirror.ENV, raising=False)
    assert mirror.mirror_of(deps) is None and mirror.sync(deps, "mv_missing") is None
    monkeypatch.setenv(mirror.ENV, "acme")
    assert isinstance(mirror.mirror_of(deps), mirror.SageMakerPackages)
    assert mirror.group_name("acme", "mdl_0123456789abcdef_" + "x" * 80).count("_") == 0
