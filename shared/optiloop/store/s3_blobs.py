"""`BlobStore` on S3: the production home of model artifacts and exports.

Keys are validated by the very function the local folder adapter uses (`validate_key`,
`validate_prefix`), so a key accepted or refused in development is accepted or refused in
production. S3 itself could store "../x"; refusing it keeps the two adapters interchangeable and keys
that arrive in requests harmless to whatever later maps them to paths.

A PUT on S3 replaces an object atomically (readers see the old or the new bytes, never a torn
object), which is the guarantee the local adapter builds with temp files and rename. Every PUT asks
for server-side encryption explicitly (SSE-S3 by default, SSE-KMS with a key id), so objects are
encrypted even in a bucket whose default encryption was never configured.

`prefix` puts every key of this store under a fixed folder of the bucket, so one bucket can serve
several stores (e.g. blobs and exports of a tenant) without their listings mixing.
"""

from __future__ import annotations

from typing import Any

from optiloop.store.local_blobs import validate_key, validate_prefix
from optiloop.store.ports import BlobStore


def s3_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=3,
        read_timeout=30,
        tcp_keepalive=True,
        max_pool_connections=32,
        # path-style for local endpoints (moto_server, MinIO) whose host names are not bucket-aware
        s3={"addressing_style": "path"} if endpoint_url else None,
    )
    session = boto3.session.Session()
    creds: dict[str, str] = {}
    if endpoint_url and session.get_credentials() is None:
        # a local stand-in (moto_server, DynamoDB Local) checks no signature, but botocore must sign
        creds = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return session.client("s3", region_name=region, endpoint_url=endpoint_url, config=config, **creds)


class S3BlobStore(BlobStore):
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: Any | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        kms_key_id: str | None = None,
    ) -> None:
        if prefix:
            validate_key(prefix.rstrip("/"))
            prefix = prefix.rstrip("/") + "/"
        self.bucket = bucket
        self.prefix = prefix
        self._client = client
        self._region, self._endpoint_url = region, endpoint_url
        self._sse: dict[str, str] = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
            if kms_key_id
            else {"ServerSideEncryption": "AES256"}
        )

    @property
    def client(self) -> Any:
        """Made on first use: S3's service model is the largest botocore loads (~0.1 s), and most
        Lambdas (suggest, ingest) never touch a blob, so a cold start should not pay for it."""
        if self._client is None:
            self._client = s3_client(self._region, self._endpoint_url)
        return self._client

    def _key(self, key: str) -> str:
        validate_key(key)
        return self.prefix + key

    def put(self, key: str, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"blob data must be bytes-like, got {type(data).__name__}")
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=bytes(data), **self._sse)

    def get(self, key: str) -> bytes | None:
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            return None
        with resp["Body"] as body:
            data: bytes = body.read()
            return data

    def delete(self, key: str) -> None:
        """Deleting a missing key is a no-op on S3 already, so retries are safe."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with `prefix` (a plain string prefix), sorted; pages of 1,000 are followed.

        Objects whose key the adapter would refuse (written to the bucket by other means) are left out,
        so every listed key can be passed back to `get`.
        """
        validate_prefix(prefix)
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for obj in page.get("Contents", ()):
                key = obj["Key"][len(self.prefix) :]
                try:
                    validate_key(key)
                except ValueError:
                    continue
                keys.append(key)
        return sorted(keys)
