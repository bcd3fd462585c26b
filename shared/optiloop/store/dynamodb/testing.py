"""Running the AWS adapters under moto in tests: fake credentials, a region, and a faster moto.

Imports moto lazily; it is a dev dependency, never needed at run time.

Why patch moto at all: moto 5 implements TransactWriteItems by deep-copying the whole table once per
item in the transaction (its rollback snapshot), so a 100-item transaction on a table of a few
thousand items takes seconds and the contract suites would take many minutes. `faster_transactions`
keeps moto's own implementation and only replaces that snapshot with one of the items the
transaction touches, restored the same way on failure; the observable behaviour (conditions,
cancellation reasons, limits, all-or-nothing) is moto's. It also puts one lock around moto's
DynamoDB operations, because moto has none and real DynamoDB applies each request atomically, which
the concurrency tests rely on. Set ``OPTILOOP_MOTO_STOCK=1`` to run against unpatched moto.
"""

from __future__ import annotations

import copy
import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
CLEARED_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE")

_LOCK = threading.RLock()
_LOCKED_OPS = ("put_item", "update_item", "delete_item", "get_item", "query", "scan", "batch_get_item")


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        try:
            ((kind, op),) = entry.items()
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            attrs = op["Item"] if kind == "Put" else op["Key"]
            h = DynamoType(attrs[table.hash_key_attr])
            r = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, ValueError, TypeError, AttributeError):
            continue  # malformed: moto itself refuses it before writing anything
        saved.append((table, h, r, copy.deepcopy(table.get_item(h, r))))
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, h, r, item in reversed(saved):
        if r is None:
            if item is None:
                table.items.pop(h, None)
            else:
                table.items[h] = item
        elif item is None:
            table.items.get(h, {}).pop(r, None)
        else:
            table.items[h][r] = item


class _NoTableCopy:
    """Stands in for the `copy` module inside moto's DynamoDB models: tables are not copied."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, x: Any, memo: Any = None) -> Any:
        return x if isinstance(x, self._table_type) else copy.deepcopy(x, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


@contextmanager
def faster_transactions() -> Iterator[None]:
    if os.environ.get("OPTILOOP_MOTO_STOCK") == "1":
        yield
        return
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original_transact = DynamoDBBackend.transact_write_items
    originals = {name: getattr(DynamoDBBackend, name) for name in _LOCKED_OPS}
    original_copy = models.copy  # type: ignore[attr-defined]  # moto's module-level `import copy`

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            saved = _snapshot(self, transact_items)
            try:
                return original_transact(self, transact_items)
            except BaseException:
                _restore(saved)
                raise

    def locked(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            with _LOCK:
                return fn(*args, **kwargs)

        return call

    models.copy = _NoTableCopy(Table)  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    for name, fn in originals.items():
        setattr(DynamoDBBackend, name, locked(fn))
    try:
        yield
    finally:
        models.copy = original_copy  # type: ignore[attr-defined]
        DynamoDBBackend.transact_write_items = original_transact  # type: ignore[method-assign]
        for name, fn in originals.items():
            setattr(DynamoDBBackend, name, fn)


@contextmanager
def aws_test_env() -> Iterator[None]:
    """Fake credentials and a region; no endpoint override that could send calls somewhere real."""
    import pytest

    with pytest.MonkeyPatch.context() as mp:
        for k, v in FAKE_ENV.items():
            mp.setenv(k, v)
        for k in CLEARED_ENV:
            mp.delenv(k, raising=False)
        yield


@contextmanager
def mocked_aws() -> Iterator[None]:
    """moto's mock_aws inside `aws_test_env`, with `faster_transactions`."""
    from moto import mock_aws

    with aws_test_env(), mock_aws(), faster_transactions():
        yield


def create_table(client: Any, name: str) -> None:
    from optiloop.store.dynamodb.provision import ensure_table

    ensure_table(client, name, wait=False)  # moto tables are ACTIVE at once
