"""S3 connectors: one object under the connector's bucket and prefix.

Whose credentials: the connector's `role_arn` when it names one (assumed with STS for this one read,
with its external id, session named after the project), else access keys it holds as a secret, else
the function's own role — the tenant's, since each tenant is its own stage with its own roles. The
platform's bucket is refused at creation (optiloop.automl.connectors.limits), so the tenant's role
cannot be used to read another project's artifacts through a connector.

Bounded: the object's size is asked first (HeadObject) and the body read stops one byte past the
bound; connect and read timeouts come from the request's `timeout_s`, with two retries.
"""

from __future__ import annotations

from typing import Any

from optiloop.automl.connectors.limits import Bounds
from optiloop.automl.connectors.records import relative_path
from optiloop.errors import FieldProblem, InvalidInput

CHUNK = 1024 * 1024


def _bad(field: str, reason: str) -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason))


def key_of(prefix: str, path: str) -> str:
    rel = relative_path(path, "path")
    if not rel.parts:
        raise _bad("path", "must name an object under the connector's prefix")
    return f"{prefix.strip('/')}/{rel.as_posix()}" if prefix.strip("/") else rel.as_posix()


def client(config: dict[str, Any], creds: dict[str, str] | None, timeout_s: float, project_id: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = Config(connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 2})
    kwargs: dict[str, Any] = {"config": cfg}
    if config.get("region"):
        kwargs["region_name"] = config["region"]
    if config.get("role_arn"):
        assume: dict[str, Any] = {
            "RoleArn": config["role_arn"],
            "RoleSessionName": f"optiloop-{project_id}"[:64],
            "DurationSeconds": 900,
        }
        if config.get("external_id"):
            assume["ExternalId"] = config["external_id"]
        try:
            got = boto3.client("sts", config=cfg).assume_role(**assume)["Credentials"]
        except Exception as e:
            raise _bad("connector_id", f"the role could not be assumed ({_code(e)})") from None
        kwargs.update(
            aws_access_key_id=got["AccessKeyId"],
            aws_secret_access_key=got["SecretAccessKey"],
            aws_session_token=got["SessionToken"],
        )
    elif creds:
        kwargs.update(
            aws_access_key_id=creds["access_key_id"],
            aws_secret_access_key=creds["secret_access_key"],
            aws_session_token=creds.get("session_token"),
        )
    return boto3.client("s3", **kwargs)


def _code(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or e.__class__.__name__)
    return e.__class__.__name__


def read(s3: Any, config: dict[str, Any], path: str, bounds: Bounds) -> tuple[str, bytes]:
    bucket = config["bucket"]
    key = key_of(config.get("prefix", ""), path)
    where = f"s3://{bucket}/{key}"
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
        size = int(head.get("ContentLength", 0))
        if size > bounds.max_bytes:
            raise _bad("max_bytes", f"{where} is {size} bytes; at most {bounds.max_bytes}")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        parts: list[bytes] = []
        got = 0
        while got <= bounds.max_bytes:
            chunk = body.read(min(CHUNK, bounds.max_bytes + 1 - got))
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        body.close()
    except InvalidInput:
        raise
    except Exception as e:
        code = _code(e)
        if code in ("404", "NoSuchKey", "NotFound"):
            raise _bad("path", f"no object {where}") from None
        if code in (
            "403",
            "AccessDenied",
            "AllAccessDisabled",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
        ):
            raise _bad("path", f"the connector's credentials cannot read {where} ({code})") from None
        if code == "NoSuchBucket":
            raise _bad("connector_id", f"the bucket {bucket!r} does not exist") from None
        raise _bad("path", f"{where} could not be read ({code})") from None
    if got > bounds.max_bytes:
        raise _bad("max_bytes", f"{where} is larger than {bounds.max_bytes} bytes")
    return key.rsplit("/", 1)[-1], b"".join(parts)
