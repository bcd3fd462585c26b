"""S3 specifics of the blob store: encryption on every PUT, paging, the key prefix, foreign objects."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("moto")

from optiloop.store.dynamodb.testing import mocked_aws
from optiloop.store.local_blobs import LocalBlobStore
from optiloop.store.s3_blobs import S3BlobStore, s3_client

_names = itertools.count(1)


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    with mocked_aws():
        yield s3_client("us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"unit-blobs-{next(_names)}"
    s3.create_bucket(Bucket=name)
    return name


def test_every_put_asks_for_server_side_encryption(s3: Any, bucket: str) -> None:
    S3BlobStore(bucket, client=s3).put("a/b", b"x")
    assert s3.head_object(Bucket=bucket, Key="a/b")["ServerSideEncryption"] == "AES256"


def test_a_kms_key_switches_to_sse_kms(s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    blobs = S3BlobStore(bucket, client=s3, kms_key_id="alias/optiloop")
    real = s3.put_object
    monkeypatch.setattr(s3, "put_object", lambda **kw: sent.append(kw) or real(**kw))
    blobs.put("k", b"x")
    assert sent[0]["ServerSideEncryption"] == "aws:kms" and sent[0]["SSEKMSKeyId"] == "alias/optiloop"


def test_listing_follows_pages(s3: Any, bucket: str) -> None:
    blobs = S3BlobStore(bucket, client=s3)
    keys = [f"p/{i:05d}" for i in range(1005)]  # S3 returns at most 1,000 keys per page
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    assert blobs.list("p/") == keys
    assert blobs.list("p/0100") == [f"p/{i:05d}" for i in range(1000, 1005)]


def test_a_prefix_keeps_stores_sharing_a_bucket_apart(s3: Any, bucket: str) -> None:
    models = S3BlobStore(bucket, client=s3, prefix="models")
    exports = S3BlobStore(bucket, client=s3, prefix="exports/")
    models.put("p1/v1.npz", b"m")
    exports.put("p1/v1.npz", b"e")
    assert models.list() == ["p1/v1.npz"] and exports.list() == ["p1/v1.npz"]
    assert models.get("p1/v1.npz") == b"m" and exports.get("p1/v1.npz") == b"e"
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == [
        "exports/p1/v1.npz",
        "models/p1/v1.npz",
    ]
    with pytest.raises(ValueError):
        S3BlobStore(bucket, client=s3, prefix="../up")


def test_objects_with_keys_the_adapter_refuses_are_not_listed(s3: Any, bucket: str) -> None:
    """Written to the bucket by something else: listing them would hand out keys `get` refuses."""
    for k in ("ok/a", "ok/.hidden", "ok//double", "ok/x/../y"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    assert S3BlobStore(bucket, client=s3).list("ok/") == ["ok/a"]


@pytest.mark.parametrize("key", [".hidden", "a/.tmp/x", "C:/x", "a\x00b", "a/", "/abs"])
def test_keys_are_validated_exactly_like_the_local_folder(
    s3: Any, bucket: str, tmp_path: Any, key: str
) -> None:
    for blobs in (S3BlobStore(bucket, client=s3), LocalBlobStore(tmp_path)):
        with pytest.raises(ValueError):
            blobs.put(key, b"x")


def test_non_bytes_are_refused_before_any_request(s3: Any, bucket: str) -> None:
    blobs = S3BlobStore(bucket, client=s3)
    with pytest.raises(TypeError):
        blobs.put("k", "text")  # type: ignore[arg-type]
    assert blobs.list() == []
