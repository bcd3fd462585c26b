"""The SDK cannot drift from the API: its operations table and the app's OpenAPI document agree.

Fails when a route is added without a client method (add one, and its row in
`optiloop.client.operations.OPERATIONS`), when a row names a route the API no longer serves, and
when a row names a method the client does not have.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from optiloop.api.app import create_app
from optiloop.client import OPERATIONS, AsyncOptiLoop, OptiLoop
from optiloop.config import Settings
from optiloop.deps import Deps
from optiloop.store.factory import open_memory

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def served() -> set[str]:
    store, blobs = open_memory()
    try:
        doc = create_app(Deps(store=store, blobs=blobs), Settings(backend="memory")).openapi()
    finally:
        store.close()
    return {f"{m.upper()} {path}" for path, ops in doc["paths"].items() for m in ops if m in HTTP_METHODS}


def _method(client: Any, name: str) -> Any:
    target = client
    for part in name.split("."):
        target = getattr(target, part, None)
    return target


def test_every_api_operation_has_a_client_method(served: set[str]) -> None:
    covered = {op.key for op in OPERATIONS.values()}
    missing = sorted(served - covered)
    assert not missing, f"routes without a client method (add them to OPERATIONS): {missing}"


def test_every_client_operation_is_served_by_the_api(served: set[str]) -> None:
    stale = sorted({f"{name}: {op.key}" for name, op in OPERATIONS.items() if op.key not in served})
    assert not stale, f"client methods for routes the API does not serve: {stale}"


@pytest.mark.parametrize("cls", [OptiLoop, AsyncOptiLoop])
def test_every_row_names_a_method_of_both_clients(cls: type[Any]) -> None:
    client = cls(base_url="http://testserver", api_key="k" * 20, env={})
    missing = [name for name in OPERATIONS if not callable(_method(client, name))]
    assert missing == []


def test_every_public_client_method_has_a_row() -> None:
    """The other way round: a method that calls the API is in the table (so the retry rule knows
    whether it is idempotent, and this comparison sees it)."""
    client = OptiLoop(base_url="http://testserver", api_key="k" * 20, env={})
    names = {"health", "generate"}
    for ns, resource in vars(client).items():
        if ns.startswith("_") or not hasattr(resource, "_call"):
            continue
        for attr, _ in inspect.getmembers(type(resource), inspect.isfunction):
            if not attr.startswith("_"):
                names.add(f"{ns}.{attr}")
    assert sorted(names - set(OPERATIONS)) == []


def test_idempotency_follows_the_method_unless_declared() -> None:
    for name, op in OPERATIONS.items():
        if op.method != "POST":
            assert op.idempotent, name
    retried_posts = sorted(name for name, op in OPERATIONS.items() if op.method == "POST" and op.idempotent)
    assert retried_posts == [
        "policies.legacy_create",
        "policies.put",
        "runs.ingest",
        "tests.prioritize",
        "tests.replay",
        "training_jobs.stop",
    ]
