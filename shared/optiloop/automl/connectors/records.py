"""Connectors: create, list, get, delete. Project-scoped documents, audited, credentials by reference.

Roles: creating and deleting a connector is project administration (`project.update`, like webhooks):
a connector reaches outside the platform with credentials the project holds. Reading one needs
`model.read`; ingesting from one needs `model.write` (optiloop.automl.datasets).

A connector's document never holds a credential: a password, access key or token sent on create
goes to the secrets port (optiloop.secrets) and the document keeps its reference and the names of
its fields (`credentials: {"ref", "fields"}`); a password inside a SQL URL is moved there too and the
URL is kept with `***`. Every read of the document shows it as stored, so no answer, audit record
or log line carries the secret. Deleting a connector deletes the secret it created (an operator's
`env:` reference is left alone).

Nothing is contacted on create (a database or bucket that is down should not stop configuration);
the first ingest finds out, with a 422 naming what failed.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.automl.connectors import limits
from optiloop.deps import Deps
from optiloop.errors import Conflict, FieldProblem, InvalidInput
from optiloop.projects import get_project
from optiloop.secrets import secrets_of
from optiloop.secrets.port import check_env_ref
from optiloop.store.records import Doc

KIND = "connector"
KINDS = ("folder", "s3", "sql")
MANAGE = Action.PROJECT_UPDATE
READ = Action.MODEL_READ
MAX_PER_PROJECT = 100
MAX_DESCRIPTION = 500
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "folder": (),
    "s3": ("access_key_id", "secret_access_key", "session_token"),
    "sql": ("password",),
}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
# URL query parameters that could carry a secret or undo the read-only session (`options` can set
# default_transaction_read_only=off on PostgreSQL), refused in SQL URLs.
_SQL_PARAM_REFUSED = re.compile(r"pass|secret|token|key|options|init|command|service", re.IGNORECASE)


def _bad(field: str, reason: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(FieldProblem(field, reason, hint))


def relative_path(raw: str, field: str) -> PurePosixPath:
    """A relative POSIX path without `..`, `.` tricks, backslashes or NULs (the S3 key or file part
    below a connector's root): checked lexically, before any file system or bucket is asked."""
    if "\x00" in raw or "\\" in raw:
        raise _bad(field, "must not contain NUL or backslash characters")
    if raw.startswith("/"):
        raise _bad(field, "must be relative to the connector's root (no leading /)")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise _bad(field, "must stay inside the connector's root (no '..')")
    if len(raw) > 1024:
        raise _bad(field, "must be at most 1024 characters")
    return PurePosixPath(*parts) if parts else PurePosixPath()


def _folder_config(cfg: dict[str, Any]) -> dict[str, Any]:
    root = limits.connector_root()
    if root is None:
        raise Conflict(
            "folder connectors are off on this server: the operator has not set OPTILOOP_CONNECTOR_ROOT",
            details=[{"field": "kind", "reason": "folder connectors need OPTILOOP_CONNECTOR_ROOT"}],
        )
    rel = relative_path(str(cfg.get("path") or ""), "path")
    target = (root / rel).resolve()
    if not target.is_relative_to(root):  # a symbolic link out of the root
        raise _bad("path", "leaves the allowed root (through a link)")
    if not target.is_dir():
        raise _bad("path", f"is not a folder under the allowed root: {rel.as_posix() or '.'!r}")
    return {"path": rel.as_posix() if rel.parts else ""}


def _s3_config(cfg: dict[str, Any]) -> dict[str, Any]:
    bucket = str(cfg.get("bucket") or "")
    if not _BUCKET.fullmatch(bucket):
        raise _bad("bucket", "must be an S3 bucket name (3-63 of a-z 0-9 . -)")
    allowed = limits.allowed_buckets()
    if bucket == limits.platform_bucket() or (allowed is not None and bucket not in allowed):
        raise _bad("bucket", "is not a bucket connectors may read on this server")
    prefix = relative_path(str(cfg.get("prefix") or ""), "prefix").as_posix()
    out: dict[str, Any] = {"bucket": bucket, "prefix": "" if prefix == "." else prefix}
    role = cfg.get("role_arn")
    if role is not None:
        if not isinstance(role, str) or not _ROLE_ARN.fullmatch(role):
            raise _bad("role_arn", "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        out["role_arn"] = role
        ext = cfg.get("external_id")
        if ext is not None:
            if not isinstance(ext, str) or not 2 <= len(ext) <= 1224:
                raise _bad("external_id", "must be 2..1224 characters")
            out["external_id"] = ext
    region = cfg.get("region")
    if region is not None:
        if not isinstance(region, str) or not _REGION.fullmatch(region):
            raise _bad("region", "must be an AWS region such as eu-west-1")
        out["region"] = region
    return out


def _sql_config(cfg: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The URL without its password (moved to the credentials) and what the driver guarantees."""
    from optiloop.automl.connectors.sql import dialect_of, parse_url

    url = parse_url(str(cfg.get("url") or ""))
    password = url.password
    for key in url.query:
        if _SQL_PARAM_REFUSED.search(key):
            raise _bad(
                "url", f"the query parameter {key!r} is not accepted", "send a password in credentials"
            )
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.query:
            raise _bad("url", "SQLite URLs take no query parameters (the file is opened read-only)")
        from optiloop.automl.connectors.sql import sqlite_file

        sqlite_file(url.database or "")
    else:
        hosts = limits.allowed_sql_hosts()
        if not url.host:
            raise _bad("url", "must name the database host")
        if hosts is not None and url.host not in hosts:
            raise _bad("url", f"the host {url.host!r} is not one SQL connectors may reach on this server")
    dialect_of(url)
    rendered = url.render_as_string(hide_password=True)  # a password shows as ***, kept as a secret
    read_only = "driver" if backend in ("sqlite", "postgresql") else "statement"  # tested read-only sessions
    return {"url": rendered, "dialect": backend, "read_only": read_only}, password


def _credentials(
    kind: str, body: dict[str, Any], extra_password: str | None
) -> tuple[dict[str, str], str | None]:
    """(fields to store, an operator env reference); at most one of the two."""
    fields = CREDENTIAL_FIELDS[kind]
    raw = body.get("credentials")
    ref = body.get("secret_ref")
    given: dict[str, str] = {}
    if raw is not None:
        if not fields:
            raise _bad("credentials", f"{kind} connectors take no credentials")
        if not isinstance(raw, dict) or not raw:
            raise _bad("credentials", f"must be an object of {', '.join(fields)}")
        for k, v in raw.items():
            if k not in fields:
                raise _bad(f"credentials.{k}", f"is not a {kind} credential ({', '.join(fields)})")
            if not isinstance(v, str) or not 1 <= len(v) <= 4096:
                raise _bad(f"credentials.{k}", "must be a string of 1..4096 characters")
            given[k] = v
        if kind == "s3" and not {"access_key_id", "secret_access_key"} <= set(given):
            raise _bad("credentials", "S3 keys need both access_key_id and secret_access_key")
    if extra_password is not None:
        if "password" in given:
            raise _bad("url", "holds a password and credentials.password is set too; send one")
        given["password"] = extra_password
    if ref is not None:
        if not fields:
            raise _bad("secret_ref", f"{kind} connectors take no credentials")
        if given:
            raise _bad("secret_ref", "send credentials or secret_ref, not both")
        return {}, check_env_ref(str(ref), "secret_ref")
    return given, None


def create(deps: Deps, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A new connector; its credentials stored as a secret, its document holding the reference."""
    project_id = str(body["project_id"])
    authorize(who, MANAGE, project_id)
    kind = body.get("kind")
    if kind not in KINDS:
        raise _bad("kind", f"must be one of {', '.join(KINDS)}")
    name = str(body.get("name") or "").strip()
    if not 1 <= len(name) <= 200:
        raise _bad("name", "must be 1..200 characters")
    description = str(body.get("description") or "")
    if len(description) > MAX_DESCRIPTION:
        raise _bad("description", f"at most {MAX_DESCRIPTION} characters")
    get_project(deps, project_id)
    password: str | None = None
    if kind == "folder":
        config = _folder_config(body)
    elif kind == "s3":
        config = _s3_config(body)
    else:
        config, password = _sql_config(body)
    fields, env_ref = _credentials(kind, body, password)
    if len(deps.store.docs.list(KIND, project_id, limit=MAX_PER_PROJECT + 1)) >= MAX_PER_PROJECT:
        raise _bad("project_id", f"at most {MAX_PER_PROJECT} connectors per project")
    connector_id = deps.ids("con")
    now = deps.clock()
    credentials: dict[str, Any] | None = None
    if env_ref is not None:
        credentials = {"ref": env_ref, "fields": [], "managed": False}
    elif fields:
        ref = secrets_of(deps).put(f"connectors/{project_id}/{connector_id}", fields)
        credentials = {"ref": ref, "fields": sorted(fields), "managed": True}
    data: dict[str, Any] = {
        "id": connector_id,
        "project_id": project_id,
        "name": name,
        "kind": kind,
        "description": description,
        "config": config,
        "credentials": credentials,
        "created_at": now,
        "created_by": who.name,
    }
    try:
        with deps.store.transaction():
            deps.store.docs.create(Doc(KIND, connector_id, project_id, f"{now}|{connector_id}", data))
            record(
                deps,
                who,
                "connector.created",
                project_id,
                connector_id,
                {"name": name, "kind": kind, "config": config, "credential_fields": sorted(fields)},
            )
    except BaseException:
        if credentials is not None and credentials["managed"]:
            secrets_of(deps).delete(credentials["ref"])
        raise
    return data


def load(
    deps: Deps, who: Principal, connector_id: str, action: Action = READ, *, field: str = "connector_id"
) -> Doc:
    doc = deps.store.docs.require(KIND, connector_id, field=field, what="connector")
    authorize(who, action, str(doc.data["project_id"]))
    return doc


def get(deps: Deps, who: Principal, connector_id: str) -> dict[str, Any]:
    return dict(load(deps, who, connector_id).data)


def list_for(
    deps: Deps, who: Principal, project_id: str, *, after: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str | None]:
    authorize(who, READ, project_id)
    get_project(deps, project_id)
    docs = deps.store.docs.list(KIND, project_id, after=after, limit=limit)
    return [d.data for d in docs], (docs[-1].sort if len(docs) == limit else None)


def delete(deps: Deps, who: Principal, connector_id: str) -> None:
    """Delete the connector and the secret it created; datasets ingested from it stay (they keep
    their spec, whose refresh then answers 404 naming the connector)."""
    doc = load(deps, who, connector_id, MANAGE)
    project_id = str(doc.data["project_id"])
    with deps.store.transaction():
        deps.store.docs.delete(KIND, connector_id)
        record(deps, who, "connector.deleted", project_id, connector_id, {"name": doc.data["name"]})
    creds = doc.data.get("credentials")
    if creds and creds.get("managed"):
        secrets_of(deps).delete(str(creds["ref"]))
