"""Per-principal limits on AWS (issue 12): API Gateway usage-plan keys kept by key management and the
authorizer (moto), one key per principal whatever how many OptiLoop keys it holds."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.authorizer.handler import authorize
from optiloop.auth import key_admin
from optiloop.auth.principal import Principal
from optiloop.auth.usage_plan import MARK_KIND, MARK_TTL_S, ApiGatewayUsageKeys, usage_keys_of
from optiloop.deps import Deps
from optiloop.store.factory import open_memory

PLAN = "optiloop-acme-principals"
ADMIN = Principal("root", "admin", None, None)
ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/v1/projects"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gw(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Deps, Any, str, ApiGatewayUsageKeys, Clock]]:
    for name, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "t"),
        ("AWS_SECRET_ACCESS_KEY", "t"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        client.create_usage_plan(name="someone-elses-plan")
        plan_id = client.create_usage_plan(name=PLAN, throttle={"rateLimit": 25, "burstLimit": 50})["id"]
        clock = Clock()
        store, blobs = open_memory()
        keys = ApiGatewayUsageKeys(PLAN, client=client, clock=clock, marks=store.docs)
        yield Deps(store=store, blobs=blobs, usage_keys=keys), client, plan_id, keys, clock
        store.close()


def plan_keys(client: Any, plan_id: str) -> list[dict[str, Any]]:
    return list(client.get_usage_plan_keys(usagePlanId=plan_id)["items"])


def test_minting_registers_the_principal_once_and_the_last_revocation_retires_it(gw: Any) -> None:
    deps, client, plan_id, keys, _ = gw
    first, _ = key_admin.create_key(deps, ADMIN, name="ci-runner", role="contributor", project_id=None)
    second, _ = key_admin.create_key(deps, ADMIN, name="ci-runner", role="viewer", project_id=None)
    [registered] = plan_keys(client, plan_id)  # two OptiLoop keys, one budget: one gateway key
    assert registered["value"] == keys.identifier("ci-runner") and registered["type"] == "API_KEY"
    [api_key] = client.get_api_keys(includeValues=True)["items"]
    assert api_key["tags"] == {"optiloop:usage-plan": PLAN} and api_key["enabled"] is True
    key_admin.revoke_key(deps, ADMIN, first.id)
    assert len(plan_keys(client, plan_id)) == 1  # the principal still holds a live key
    key_admin.revoke_key(deps, ADMIN, second.id)
    assert client.get_api_keys()["items"] == []


def test_identifiers_differ_by_principal_and_by_tenant_plan(gw: Any) -> None:
    _, client, _, keys, _ = gw
    other = ApiGatewayUsageKeys("optiloop-globex-principals", client=client)
    ids = {keys.identifier("alice"), keys.identifier("bob"), other.identifier("alice")}
    assert len(ids) == 3 and all(20 <= len(i) <= 128 for i in ids)
    assert keys.identifier("alice") == ApiGatewayUsageKeys(PLAN, client=client).identifier("alice")


def test_ensure_is_idempotent_and_heals_a_key_left_outside_the_plan(gw: Any) -> None:
    _, client, plan_id, keys, clock = gw
    # a key made by a container that failed before attaching it (or a race with another container)
    client.create_api_key(name=keys.key_name("alice"), value=keys.identifier("alice"), enabled=True)
    keys.ensure("alice")
    keys.ensure("alice")
    clock.now += 3600
    keys.ensure("alice")  # past the trust period: checked again, nothing duplicated
    assert [k["value"] for k in plan_keys(client, plan_id)] == [keys.identifier("alice")]
    assert len(client.get_api_keys()["items"]) == 1


def test_the_authorizer_answers_the_principals_usage_key_and_registers_it(gw: Any) -> None:
    deps, client, plan_id, keys, _ = gw
    _, raw = key_admin.create_key(deps, ADMIN, name="alice", role="viewer", project_id=None)
    client.delete_usage_plan_key(usagePlanId=plan_id, keyId=plan_keys(client, plan_id)[0]["id"])
    keys._known.clear()  # a fresh container; the key was minted before this release (no mark)
    deps.store.docs.delete(MARK_KIND, keys._digest("alice"))
    event = {"methodArn": ARN, "headers": {"x-api-key": raw}, "path": "/v1/projects"}
    out = authorize(event, deps.store, usage=keys)
    assert out["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert out["usageIdentifierKey"] == keys.identifier("alice")
    assert [k["value"] for k in plan_keys(client, plan_id)] == [keys.identifier("alice")]


def test_a_failing_gateway_never_fails_key_management_or_the_request(gw: Any, caplog: Any) -> None:
    deps, client, *_ = gw
    broken = ApiGatewayUsageKeys("optiloop-missing-principals", client=client)
    deps = dataclasses.replace(deps, usage_keys=broken)
    key, raw = key_admin.create_key(deps, ADMIN, name="bob", role="viewer", project_id=None)
    assert deps.store.keys.get(key.id) is not None and "could not register" in caplog.text
    out = authorize({"methodArn": ARN, "headers": {"x-api-key": raw}}, deps.store, usage=broken)
    assert out["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert out["usageIdentifierKey"] == broken.identifier("bob")  # the gateway decides (a 503, retry)


def test_one_machine_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """`optiloop serve` meters principals in process (optiloop.api.ratelimit): no usage keys."""
    monkeypatch.delenv("OPTILOOP_USAGE_PLAN", raising=False)
    store, blobs = open_memory()
    deps = Deps(store=store, blobs=blobs)
    assert usage_keys_of(deps) is None
    key, _ = key_admin.create_key(deps, ADMIN, name="carol", role="viewer", project_id=None)
    key_admin.revoke_key(deps, ADMIN, key.id)
    monkeypatch.setenv("OPTILOOP_USAGE_PLAN", PLAN)
    assert isinstance(usage_keys_of(deps), ApiGatewayUsageKeys)


class CountingClient:
    """The gateway client, counting the control-plane calls made through it."""

    def __init__(self, client: Any) -> None:
        self.client, self.calls = client, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return attr(*args, **kwargs)

        return counted


def test_containers_share_one_registration_through_the_stores_mark(gw: Any) -> None:
    """A hundred fresh containers seeing one principal ask API Gateway once, not a hundred times:
    the first registration is marked in the store and the others read the mark; an expired mark (or a
    retirement, which deletes it) sends the next container to the control plane again."""
    deps, client, plan_id, _, _ = gw
    counting = CountingClient(client)
    wall = Clock()
    wall.now = time.time()  # the store judges `expires_at` by its own (real) clock
    containers = [
        ApiGatewayUsageKeys(PLAN, client=counting, marks=deps.store.docs, wall=wall) for _ in range(100)
    ]
    for keys in containers:
        keys.ensure("alice")
    first = counting.calls
    assert 0 < first <= 4  # find + create key + plan lookup + attach, by the first container only
    assert [k["value"] for k in plan_keys(client, plan_id)] == [containers[0].identifier("alice")]

    wall.now += MARK_TTL_S + 1  # the mark expired: the next fresh container checks the gateway again
    ApiGatewayUsageKeys(PLAN, client=counting, marks=deps.store.docs, wall=wall).ensure("alice")
    assert counting.calls > first

    containers[1].retire("alice")
    assert plan_keys(client, plan_id) == []
    assert deps.store.docs.get(MARK_KIND, containers[1]._digest("alice")) is None
    ApiGatewayUsageKeys(PLAN, client=counting, marks=deps.store.docs, wall=wall).ensure("alice")
    assert [k["value"] for k in plan_keys(client, plan_id)] == [containers[0].identifier("alice")]
