"""Records the store ports persist. Plain frozen dataclasses: adapters map them to rows/items."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["owner", "admin", "contributor", "viewer"]
ROLES: tuple[str, ...] = ("owner", "admin", "contributor", "viewer")
RunStatus = Literal["pass", "fail", "skipped"]


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    description: str
    created_at: str  # ISO-8601 UTC
    created_by: str
    budget_cents: float | None = None  # None: no project budget


@dataclass(frozen=True)
class Constraint:
    """One named constraint document. Posting the same name again makes a new version."""

    id: str
    project_id: str
    name: str
    type: Literal["hard", "soft"]
    weight: float
    json_schema: dict[str, Any]
    version: int
    created_at: str
    created_by: str


@dataclass(frozen=True)
class TestCase:
    """A suggested test. `seq` is a per-project monotonic counter (1, 2, ...), used for incremental loads."""

    __test__ = False  # not a pytest class

    id: str
    project_id: str
    seq: int
    params: dict[str, Any]
    score: float
    generator: str
    operator: str  # which candidate source produced it (uniform, boundary, mutation, ...)
    suggestion_id: str
    predicted_cost: float
    created_at: str
    space_version: str


@dataclass(frozen=True)
class Run:
    """The outcome of running one test. One run per test: a resend of the same run is a no-op."""

    test_id: str
    project_id: str
    seq: int
    status: RunStatus
    duration_ms: float
    cost_cents: float
    failure_severity: int
    buckets: tuple[int | str, ...]  # integers, or strings as coverage tools name lines/branches
    new_buckets: int  # buckets this run hit that no earlier run of the project had hit
    ingested_at: str
    fingerprint: str  # hash of the payload, to tell a resend from a conflicting second report


@dataclass(frozen=True)
class ApiKey:
    id: str
    key_hash: str
    principal: str
    role: Role
    project_id: str | None  # None: the key holds its role on every project (platform admins)
    created_at: str
    created_by: str
    revoked: bool = False


@dataclass(frozen=True)
class AuditRecord:
    """An append-only, hash-chained record: `hash` = sha256(prev_hash + canonical JSON of the rest)."""

    seq: int
    id: str
    at: str
    principal: str
    action: str
    project_id: str | None
    target: str | None
    details: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    # The chain the record belongs to (`optiloop.audit.shards`): its project's, "tenant" for records
    # without one, "legacy" for the single tenant-wide chain written before shards existed. Derived
    # from project_id, so it is not hashed; verification checks it matches.
    shard: str = ""


@dataclass(frozen=True)
class AuditHead:
    """The last (seq, hash) of one shard's chain, as the store's head item holds it."""

    shard: str
    seq: int
    hash: str


@dataclass(frozen=True)
class Doc:
    """A JSON document of the prompt, approval, evaluation and generation domains.

    Those domains have many small record types with simple access paths (by id, or a listing of one
    parent's children in order), so they share one generic repository instead of a table each:
    `kind` names the record type, `scope` the parent whose children are listed together (a project,
    a prompt, a dataset), `sort` the order inside it. `rev` counts writes and guards replacements
    (optimistic concurrency); `expires_at` (epoch seconds) makes a document invisible once past,
    and lets DynamoDB's TTL delete it later.
    """

    kind: str
    id: str
    scope: str
    sort: str
    data: dict[str, Any]
    rev: int = 1
    expires_at: float | None = None
