"""An in-process API over a throwaway store, plus helpers that keep each test about one behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from optiloop.api.app import create_app
from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.store.records import TestCase

ADMIN_TOKEN = "test-admin-token-0123456789"

SPACE = {
    "params": {
        "payload_kb": {"type": "integer", "min": 1, "max": 1024},
        "region": {"type": "string", "enum": ["eu", "us", "ap"]},
        "retries": {"type": "integer", "min": 0, "max": 5},
        "timeout_s": {"type": "number", "min": 0.1, "max": 30.0, "log": True},
        "cache": {"type": "boolean"},
    },
    "relations": ["retries * timeout_s <= 60", "payload_kb <= 512 or region != 'ap'"],
}


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Api:
    """A TestClient with an admin key and shortcuts for the set-up most tests need.

    Tests reach helpers through this fixture rather than importing this module, which pytest
    loads under its own name.
    """

    ADMIN_TOKEN = ADMIN_TOKEN
    SPACE = SPACE
    auth = staticmethod(auth)

    def __init__(self, client: TestClient, deps: Deps) -> None:
        self.client = client
        self.deps = deps
        self.admin = auth(ADMIN_TOKEN)

    def key(self, role: str, project_id: str | None = None, principal: str | None = None) -> dict[str, str]:
        r = self.client.post(
            "/v1/api-keys",
            headers=self.admin,
            json={"principal": principal or f"{role}-user", "role": role, "project_id": project_id},
        )
        assert r.status_code == 201, r.text
        return auth(r.json()["key"])

    def project(self, name: str = "checkout", **extra: Any) -> str:
        r = self.client.post(
            "/v1/projects", headers=self.admin, json={"name": name, "description": "d", **extra}
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def stage(self, model_id: str, trial_id: str) -> str:
        """A trial registered as a version of `model_id` and deployed to staging: the deployment's id."""
        version = {"trial_id": trial_id}
        r = self.client.post(f"/v1/models/{model_id}/versions", headers=self.admin, json=version)
        assert r.status_code == 201, r.text
        r = self.client.post(
            "/v1/deployments",
            headers=self.admin,
            json={"model_version_id": r.json()["id"], "environment": "staging"},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def constrain(self, pid: str, json_schema: dict | None = None, name: str = "base", **extra: Any) -> dict:
        r = self.client.post(
            f"/v1/projects/{pid}/constraints",
            headers=self.admin,
            json={"name": name, "type": "hard", "json_schema": json_schema or SPACE, **extra},
        )
        assert r.status_code == 201, r.text
        return r.json()

    def add_tests(self, pid: str, n: int, params: list[dict] | None = None) -> list[str]:
        """Pending tests written straight to the store: ingest and coverage tests must not depend on
        what the suggestion engine happens to produce."""
        store = self.deps.store
        base = store.tests.max_seq(pid)
        tests = [
            TestCase(
                id=f"tst_{pid[-6:]}_{base + i + 1}",
                project_id=pid,
                seq=base + i + 1,
                params=(params[i] if params else {"payload_kb": base + i + 1}),
                score=0.0,
                generator="random",
                operator="uniform",
                suggestion_id="sug_x",
                predicted_cost=1.0,
                created_at="2026-01-01T00:00:00.000Z",
                space_version="sp-test",
            )
            for i in range(n)
        ]
        with store.transaction():
            store.tests.add_many(tests)
        return [t.id for t in tests]

    @staticmethod
    def error_fields(resp: Any) -> list[str]:
        return error_fields(resp)

    def audit_count(self) -> int:
        """Records of what happened; refusals are audited too, but they are not half-written state."""
        return sum(1 for r in self.deps.store.audit.list(limit=100_000) if r.action != "request.refused")

    def refusals(self) -> list[Any]:
        return self.deps.store.audit.list(action="request.refused", limit=100_000)


def error_fields(resp: Any) -> list[str]:
    body = resp.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "details"} <= set(body["error"]), body
    return [d["field"] for d in body["error"]["details"]]


@pytest.fixture
def settings() -> Settings:
    return Settings(backend="memory", admin_token=ADMIN_TOKEN, max_body_bytes=64 * 1024)


@pytest.fixture
def client(deps: Deps, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(deps, settings)) as c:
        yield c


@pytest.fixture
def api(client: TestClient, deps: Deps) -> Api:
    return Api(client, deps)
