"""Request and response models of connectors and of `POST /v1/datasets/ingest` with a JSON body.

Shape only: kinds, paths, URLs, bounds, expectations and PII policies are checked in the core
(optiloop.automl.connectors, optiloop.automl.ingest_spec), so the API and a direct caller get the same
422 naming the same field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from optiloop.api.models.common import Id, LongName, RequestModel, ResponseModel

Short = Annotated[str, Field(max_length=2048)]


class ConnectorCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_id": "prj_0190c3a4b5f600000001",
                    "kind": "s3",
                    "name": "orders-bucket",
                    "description": "daily order exports",
                    "bucket": "acme-exports",
                    "prefix": "orders/",
                    "region": "eu-west-1",
                },
                {
                    "project_id": "prj_0190c3a4b5f600000001",
                    "kind": "sql",
                    "name": "warehouse",
                    "url": "postgresql://reader@db.internal:5432/analytics",
                    "secret_ref": "env:OPTILOOP_SECRET_WAREHOUSE",
                },
            ]
        }
    )

    project_id: Id = Field(description="the project that owns the connector")
    kind: Literal["folder", "s3", "sql"] = Field(
        description="folder: a folder under the server's OPTILOOP_CONNECTOR_ROOT; s3: a bucket and "
        "prefix; sql: any SQLAlchemy URL (SQLite under the root, PostgreSQL, ...)"
    )
    name: LongName = Field(description="a name for people")
    description: Annotated[str, Field(max_length=500)] = Field("", description="what it reads, for people")
    path: Short | None = Field(None, description="folder: the folder, relative to the server's root")
    bucket: Annotated[str, Field(max_length=63)] | None = Field(None, description="s3: the bucket")
    prefix: Short | None = Field(None, description="s3: the key prefix ingests read under")
    region: Annotated[str, Field(max_length=30)] | None = Field(None, description="s3: the bucket's region")
    role_arn: Short | None = Field(
        None, description="s3: a role to assume for reads; default: the tenant's own role"
    )
    external_id: Short | None = Field(
        None, description="s3: the external id the role's trust policy asks for"
    )
    url: Short | None = Field(
        None,
        description="sql: a SQLAlchemy URL; a password in it is moved to the secret store and shown as ***",
    )
    credentials: dict[Annotated[str, Field(max_length=50)], Annotated[str, Field(max_length=4096)]] | None = (
        Field(
            None,
            description="stored in the secret store, never returned: sql {password}; s3 {access_key_id, "
            "secret_access_key, session_token?}",
        )
    )
    secret_ref: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="instead of credentials: env:OPTILOOP_SECRET_<NAME>, provisioned by the operator"
    )


class CredentialsRef(ResponseModel):
    ref: str = Field(description="the secret's reference in the secret store (never its value)")
    fields: list[str] = Field(description="the names of the stored credential fields")
    managed: bool = Field(description="true: created with the connector and deleted with it")


class ConnectorOut(ResponseModel):
    id: str = Field(description="the connector's id (con_...)")
    project_id: str = Field(description="its project")
    name: str = Field(description="its name")
    kind: str = Field(description="folder, s3 or sql")
    description: str = Field(description="what it reads")
    config: dict[str, Any] = Field(
        description="where it reads: folder {path}; s3 {bucket, prefix, region?, role_arn?, external_id?}; "
        "sql {url (password as ***), dialect, read_only: driver|statement}"
    )
    credentials: CredentialsRef | None = Field(description="the secret reference, or null when none")
    created_at: str = Field(description="when it was created (UTC)")
    created_by: str = Field(description="who created it")


class ConnectorList(ResponseModel):
    items: list[ConnectorOut] = Field(description="the project's connectors, oldest first")
    next_after: str | None = Field(description="pass as `after` for the next page; null on the last")


class Expectation(RequestModel):
    expect: Literal["column_exists", "type", "not_null", "range", "allowed_values", "unique"] = Field(
        description="what is expected of the column"
    )
    column: Annotated[str, Field(min_length=1, max_length=200)] = Field(description="the column")
    severity: Literal["warn", "error"] = Field(
        "warn", description="error: a failure refuses the ingest (422)"
    )
    type: Literal["numeric", "boolean", "categorical", "ordinal", "text", "datetime", "id"] | None = Field(
        None, description="type: the expected inferred type"
    )
    min_fraction: float | None = Field(None, description="not_null: the least share of present values")
    min: float | None = Field(None, description="range: the lowest allowed value")
    max: float | None = Field(None, description="range: the highest allowed value")
    values: list[str | float | bool] | None = Field(
        None, max_length=1000, description="allowed_values: the allowed values"
    )


class PiiPolicy(RequestModel):
    action: Literal["report", "mask", "hash", "drop"] = Field(
        "report",
        description="for every scanned column: report only, mask spans ([EMAIL]), hash them with the "
        "project's key ([EMAIL:<hex>]) or drop a column with any PII",
    )
    columns: dict[Annotated[str, Field(max_length=200)], Literal["report", "mask", "hash", "drop"]] = Field(
        default_factory=dict, description="per-column actions, overriding `action`"
    )


class TableIngest(RequestModel):
    project_id: Id | None = Field(None, description="the project (not with refresh_of)")
    name: LongName | None = Field(
        None, description="the dataset's name (refresh: default the refreshed one's)"
    )
    connector_id: Id | None = Field(None, description="the connector to read from")
    path: Short | None = Field(None, description="folder and s3: the file, relative to the connector's root")
    query: Annotated[str, Field(max_length=20_000)] | None = Field(
        None, description="sql: one read-only SELECT (WITH ... SELECT, VALUES)"
    )
    table: Annotated[str, Field(max_length=300)] | None = Field(
        None, description="sql: a table (schema.table) to read whole"
    )
    max_rows: int | None = Field(
        None, description="refuse a result with more rows (default and most: 1,000,000)"
    )
    max_bytes: int | None = Field(
        None, description="refuse a file or result larger than this (default and most: the server's ceiling)"
    )
    timeout_s: float | None = Field(
        None, description="the query's or read's time limit (the server's ceiling)"
    )
    target: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="the column a model will predict: leaky columns are found against it"
    )
    expectations: list[Expectation] | None = Field(
        None, max_length=200, description="checked on this and every refresh of this dataset"
    )
    pii: PiiPolicy | None = Field(None, description="the PII scan's action (default: report)")
    ordinal: (
        dict[Annotated[str, Field(max_length=200)], list[Annotated[str, Field(max_length=200)]]] | None
    ) = Field(None, description="declared ordinal columns: column -> its levels, lowest first")
    refresh_of: Id | None = Field(
        None, description="read again with that dataset's stored spec; a new dataset naming it previous_id"
    )
