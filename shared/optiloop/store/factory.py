"""Build a store and blob store: embedded (SQLite + a folder) or AWS (DynamoDB + S3).

The AWS adapters are imported inside their functions: the embedded default never needs boto3 (the
`aws` extra), and SQLite costs an AWS process nothing but the import of the standard library module."""

from __future__ import annotations

import tempfile
from pathlib import Path

from optiloop.store.local_blobs import LocalBlobStore
from optiloop.store.ports import BlobStore, Store
from optiloop.store.sqlite import SqliteStore

DB_FILE = "optiloop.db"
BLOB_DIR = "blobs"


def open_local(data_dir: str | Path) -> tuple[Store, BlobStore]:
    """`<data_dir>/optiloop.db` and `<data_dir>/blobs/`, created on first use and reused afterwards."""
    root = Path(data_dir).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return SqliteStore(root / DB_FILE), LocalBlobStore(root / BLOB_DIR)


def open_memory() -> tuple[Store, BlobStore]:
    """A throwaway pair for tests: the same adapters as production, on a temp folder.

    A real file rather than ``:memory:`` because each thread gets its own connection and must see
    the same database. The folder is removed once both objects are garbage collected (or at exit).
    """
    tmp = tempfile.TemporaryDirectory(prefix="optiloop-")
    store, blobs = open_local(tmp.name)
    # Both hold the TemporaryDirectory, so its finaliser runs only when neither is in use.
    store._tmpdir = tmp  # type: ignore[attr-defined]
    blobs._tmpdir = tmp  # type: ignore[attr-defined]
    return store, blobs


def _aws_region(region: str | None, endpoint_url: str | None) -> str | None:
    """The region to use: given, else boto3's own resolution (env, config); a local endpoint
    (moto_server, DynamoDB Local) needs *some* region to sign with, so it gets us-east-1."""
    if region:
        return region
    import boto3

    found = boto3.session.Session().region_name
    return found or ("us-east-1" if endpoint_url else None)


def open_aws(
    table: str,
    bucket: str,
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    kms_key_id: str | None = None,
) -> tuple[Store, BlobStore]:
    """The production pair: DynamoDB table `table` and S3 bucket `bucket` (both must exist; CDK makes
    them). `endpoint_url` points both at a local stand-in such as moto_server. `kms_key_id`: blobs are
    written with SSE-KMS under that key (the tenant's); without it, SSE-S3."""
    from optiloop.store.dynamodb.store import DynamoStore, dynamodb_client
    from optiloop.store.s3_blobs import S3BlobStore

    region = _aws_region(region, endpoint_url)
    store = DynamoStore(table, client=dynamodb_client(region, endpoint_url))
    # its client is made lazily
    blobs = S3BlobStore(bucket, region=region, endpoint_url=endpoint_url, kms_key_id=kms_key_id)
    return store, blobs


def ensure_aws_resources(
    table: str, bucket: str, endpoint_url: str | None = None, region: str | None = None
) -> dict[str, bool]:
    """Create the table (shape from `table_spec`) and the bucket if missing: for moto_server and
    other local endpoints, never for production, where CDK owns them. Returns what was created."""
    from botocore.exceptions import ClientError

    from optiloop.store.dynamodb.provision import ensure_table
    from optiloop.store.dynamodb.store import dynamodb_client
    from optiloop.store.s3_blobs import s3_client

    region = _aws_region(region, endpoint_url)
    created = {"table": ensure_table(dynamodb_client(region, endpoint_url), table), "bucket": False}
    s3 = s3_client(region, endpoint_url)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
        kw = (
            {}
            if region in (None, "us-east-1")
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=bucket, **kw)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        created["bucket"] = True
    return created
