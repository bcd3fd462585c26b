"""Fixtures that run every contract suite against every adapter.

To add an adapter, write a harness (how to open it on a fresh namespace, reopen it, and tamper with
it behind the ports' back) and add one line to `STORE_ADAPTERS` or `BLOB_ADAPTERS`. The suites
themselves only use the ports, so they need no change.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

try:  # a checkout without `pip install -e .` still runs the suites
    import optiloop  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))

from optiloop.store.local_blobs import LocalBlobStore
from optiloop.store.ports import BlobStore, Store
from optiloop.store.records import ApiKey, Constraint, Project, Run, TestCase
from optiloop.store.sqlite import SqliteStore

try:  # the AWS adapters need boto3 and moto (the `dev` extra); without them only the local ones run
    import boto3  # noqa: F401
    import moto  # noqa: F401

    HAVE_AWS = True
except ImportError:  # pragma: no cover
    HAVE_AWS = False

# -- adapter harnesses -------------------------------------------------------------------------


class StoreHarness(ABC):
    """What the suites need beyond the ports: reopening (persistence) and raw tampering (audit)."""

    store: Store

    @abstractmethod
    def reopen(self) -> Store:
        """Close the store and open a new one on the same data, as a restarted process would."""

    @abstractmethod
    def tamper_audit(self, seq: int, field: str, value: Any, shard: str = "p/p1") -> None:
        """Overwrite one stored field of one audit record (of `shard`), bypassing the adapter."""

    @abstractmethod
    def delete_audit(self, seq: int, shard: str = "p/p1") -> None:
        """Remove one audit record, bypassing the adapter."""

    @abstractmethod
    def tamper_head(self, shard: str, seq: int, hash_: str) -> None:
        """Overwrite a shard's head item."""

    @abstractmethod
    def tamper_digest(self, n: int, field: str, value: Any) -> None:
        """Overwrite one field of one stored digest."""

    def close(self) -> None:
        self.store.close()


class SqliteHarness(StoreHarness):
    def __init__(self, tmp: Path) -> None:
        self.path = tmp / "optiloop.db"
        self.store = SqliteStore(self.path)

    def reopen(self) -> Store:
        self.store.close()
        self.store = SqliteStore(self.path)
        return self.store

    def _raw(self, sql: str, args: tuple[Any, ...], trigger: str) -> None:
        # The adapter's triggers refuse UPDATE/DELETE on the audit table; an attacker with file
        # access simply drops them, and so does this harness.
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            (ddl,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (trigger,)).fetchone()
            conn.execute(f"DROP TRIGGER {trigger}")
            conn.execute(sql, args)
            conn.execute(ddl)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def tamper_audit(self, seq: int, field: str, value: Any, shard: str = "p/p1") -> None:
        if field == "details":
            value = json.dumps(value)
        self._raw(
            f"UPDATE audit_log SET {field} = ? WHERE shard = ? AND seq = ?",
            (value, shard, seq),
            "audit_log_no_update",
        )

    def delete_audit(self, seq: int, shard: str = "p/p1") -> None:
        self._raw("DELETE FROM audit_log WHERE shard = ? AND seq = ?", (shard, seq), "audit_log_no_delete")

    def tamper_head(self, shard: str, seq: int, hash_: str) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("UPDATE audit_heads SET seq = ?, hash = ? WHERE shard = ?", (seq, hash_, shard))
        finally:
            conn.close()

    def tamper_digest(self, n: int, field: str, value: Any) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            (body,) = conn.execute("SELECT body FROM audit_digests WHERE n = ?", (n,)).fetchone()
        finally:
            conn.close()
        d = json.loads(body)
        d[field] = value
        self._raw(
            "UPDATE audit_digests SET body = ? WHERE n = ?", (json.dumps(d), n), "audit_digests_no_update"
        )


class BlobHarness:
    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs


def _local_blobs(tmp: Path) -> BlobHarness:
    return BlobHarness(LocalBlobStore(tmp / "blobs"))


# -- AWS adapters under moto ---------------------------------------------------------------------
# One mock (and one pair of boto3 clients, ~0.1 s each to build) per test module; each test gets a
# table or bucket of its own, which under moto costs a few milliseconds, so every test starts empty.


class _Aws:
    dynamodb: Any = None
    s3: Any = None
    names = itertools.count(1)


@pytest.fixture(scope="module")
def aws() -> Iterator[_Aws]:
    from optiloop.store.dynamodb.store import dynamodb_client
    from optiloop.store.dynamodb.testing import mocked_aws
    from optiloop.store.s3_blobs import s3_client

    with mocked_aws():
        _Aws.dynamodb, _Aws.s3 = dynamodb_client("us-east-1"), s3_client("us-east-1")
        try:
            yield _Aws()
        finally:
            _Aws.dynamodb = _Aws.s3 = None


class DynamoHarness(StoreHarness):
    needs_aws = True

    def __init__(self, tmp: Path) -> None:
        from optiloop.store.dynamodb import DynamoStore
        from optiloop.store.dynamodb.testing import create_table

        self.client = _Aws.dynamodb
        self.table = f"optiloop-test-{next(_Aws.names)}"
        create_table(self.client, self.table)
        self._open = lambda: DynamoStore(self.table, client=self.client)
        self.store = self._open()

    def reopen(self) -> Store:
        self.store.close()
        self.store = self._open()  # a new object: no cached head, projects or committed markers
        return self.store

    def _audit_key(self, seq: int, shard: str) -> dict[str, Any]:
        from optiloop.store.dynamodb.audit import AUDIT_PK, record_sk, shard_pk
        from optiloop.store.dynamodb.codec import enc_int

        if shard == "legacy":
            return {"pk": {"S": AUDIT_PK}, "sk": {"S": enc_int(seq)}}
        return {"pk": {"S": shard_pk(shard)}, "sk": {"S": record_sk(seq)}}

    def _set(self, key: dict[str, Any], field: str, value: dict[str, Any]) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=key,
            UpdateExpression="SET #f = :v",
            ExpressionAttributeNames={"#f": field},
            ExpressionAttributeValues={":v": value},
        )

    def tamper_audit(self, seq: int, field: str, value: Any, shard: str = "p/p1") -> None:
        if field == "details":
            value = json.dumps(value)
        self._set(self._audit_key(seq, shard), field, {"S": value})

    def delete_audit(self, seq: int, shard: str = "p/p1") -> None:
        self.client.delete_item(TableName=self.table, Key=self._audit_key(seq, shard))

    def tamper_head(self, shard: str, seq: int, hash_: str) -> None:
        from optiloop.store.dynamodb.audit import head_key

        pk, sk = head_key(shard)
        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        self._set(key, "seq", {"N": str(seq)})
        self._set(key, "hash", {"S": hash_})

    def tamper_digest(self, n: int, field: str, value: Any) -> None:
        from optiloop.store.dynamodb.audit import DIGEST_PK
        from optiloop.store.dynamodb.codec import enc_int

        key = {"pk": {"S": DIGEST_PK}, "sk": {"S": enc_int(n)}}
        item = self.client.get_item(TableName=self.table, Key=key)["Item"]
        d = json.loads(item["body"]["S"])
        d[field] = value
        self._set(key, "body", {"S": json.dumps(d)})


def _s3_blobs(tmp: Path) -> BlobHarness:
    from optiloop.store.s3_blobs import S3BlobStore

    bucket = f"optiloop-test-{next(_Aws.names)}"
    _Aws.s3.create_bucket(Bucket=bucket)
    return BlobHarness(S3BlobStore(bucket, client=_Aws.s3))


_s3_blobs.needs_aws = True  # type: ignore[attr-defined]


STORE_ADAPTERS: dict[str, Callable[[Path], StoreHarness]] = {
    "sqlite": SqliteHarness,
}

BLOB_ADAPTERS: dict[str, Callable[[Path], BlobHarness]] = {
    "local": _local_blobs,
}

if HAVE_AWS:
    STORE_ADAPTERS["dynamodb"] = DynamoHarness
    BLOB_ADAPTERS["s3"] = _s3_blobs


def _needs_aws(request: pytest.FixtureRequest, factory: Any) -> None:
    if getattr(factory, "needs_aws", False):
        request.getfixturevalue("aws")


@pytest.fixture(params=list(STORE_ADAPTERS))
def store_harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreHarness]:
    factory = STORE_ADAPTERS[request.param]
    _needs_aws(request, factory)
    harness = factory(tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def store(store_harness: StoreHarness) -> Store:
    return store_harness.store


@pytest.fixture(params=list(BLOB_ADAPTERS))
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    factory = BLOB_ADAPTERS[request.param]
    _needs_aws(request, factory)
    return factory(tmp_path).blobs


# -- record builders ---------------------------------------------------------------------------


class Make:
    """Valid records with unique ids; tests override only the fields they are about."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._n):06d}"

    def project(self, **kw: Any) -> Project:
        base: dict[str, Any] = {
            "id": self._id("prj"),
            "name": "Wing flutter",
            "description": "Finds the flutter boundary — ünïcode ok",
            "created_at": "2025-01-02T03:04:05.678Z",
            "created_by": "alice",
            "budget_cents": None,
        }
        return Project(**{**base, **kw})

    def constraint(self, project_id: str, name: str = "max_load", version: int = 1, **kw: Any) -> Constraint:
        base: dict[str, Any] = {
            "id": self._id("con"),
            "project_id": project_id,
            "name": name,
            "type": "hard",
            "weight": 1.0,
            "json_schema": {"relations": [{"expr": "x + y <= 10", "nested": {"a": [1, 2.5, None, True]}}]},
            "version": version,
            "created_at": "2025-01-02T03:04:05.678Z",
            "created_by": "alice",
        }
        return Constraint(**{**base, **kw})

    def test(self, project_id: str, seq: int, **kw: Any) -> TestCase:
        base: dict[str, Any] = {
            "id": self._id("tst"),
            "project_id": project_id,
            "seq": seq,
            "params": {"x": 0.125, "n": seq, "mode": "fast", "flags": [True, False], "opt": None},
            "score": 0.75,
            "generator": "gp-ucb",
            "operator": "mutation",
            "suggestion_id": "sug_1",
            "predicted_cost": 12.5,
            "created_at": "2025-01-02T03:04:05.678Z",
            "space_version": "sv_1",
        }
        return TestCase(**{**base, **kw})

    def run(self, test: TestCase, seq: int, **kw: Any) -> Run:
        base: dict[str, Any] = {
            "test_id": test.id,
            "project_id": test.project_id,
            "seq": seq,
            "status": "pass",
            "duration_ms": 1234.5,
            "cost_cents": 3.25,
            "failure_severity": 0,
            "buckets": (3, 17, 42),
            "new_buckets": 2,
            "ingested_at": "2025-01-02T03:04:06.000Z",
            "fingerprint": "fp_" + test.id,
        }
        return Run(**{**base, **kw})

    def key(self, project_id: str | None = None, **kw: Any) -> ApiKey:
        kid = self._id("key")
        base: dict[str, Any] = {
            "id": kid,
            "key_hash": "h_" + kid,
            "principal": "bob",
            "role": "contributor",
            "project_id": project_id,
            "created_at": "2025-01-02T03:04:05.678Z",
            "created_by": "alice",
        }
        return ApiKey(**{**base, **kw})


@pytest.fixture
def make() -> Make:
    return Make()


@pytest.fixture
def project(store: Store, make: Make) -> Project:
    """A stored project: most records need one to exist (adapters may enforce it)."""
    p = make.project()
    store.projects.add(p)
    return p
