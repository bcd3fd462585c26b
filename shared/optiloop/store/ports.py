"""Store ports. Each port has one contract suite in tests/contract/ run against every adapter.

Every method is atomic on its own. `Store.transaction()` groups several writes so they land
together or not at all; adapters that cannot nest transactions must make nesting a no-op join.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from optiloop.errors import NotFound
from optiloop.store.records import ApiKey, AuditHead, AuditRecord, Constraint, Doc, Project, Run, TestCase


class ProjectRepo(ABC):
    @abstractmethod
    def add(self, project: Project) -> None: ...

    @abstractmethod
    def get(self, project_id: str) -> Project | None: ...

    @abstractmethod
    def list(self, limit: int = 100, after_id: str | None = None) -> list[Project]: ...

    @abstractmethod
    def set_budget(self, project_id: str, budget_cents: float | None) -> None: ...


class ConstraintRepo(ABC):
    @abstractmethod
    def add(self, constraint: Constraint) -> None:
        """Store a new version. Raises `Conflict` if (project_id, name, version) exists."""

    @abstractmethod
    def latest(self, project_id: str) -> list[Constraint]:
        """The newest version of each named constraint of the project, ordered by name."""

    @abstractmethod
    def history(self, project_id: str, name: str) -> list[Constraint]:
        """All versions of one named constraint, oldest first."""


class TestRepo(ABC):
    __test__ = False

    @abstractmethod
    def add_many(self, tests: Sequence[TestCase]) -> None: ...

    @abstractmethod
    def get_many(self, project_id: str, test_ids: Sequence[str]) -> dict[str, TestCase]:
        """Tests of this project among `test_ids`; ids of other projects are simply absent."""

    @abstractmethod
    def list_since(self, project_id: str, after_seq: int = 0, until_seq: int | None = None) -> list[TestCase]:
        """Tests with after_seq < seq <= until_seq (no upper bound when None), ordered by seq.

        `until_seq` pages a long history in bounded reads and, given the counter a caller has just
        read (`Store.history_heads`), spares the adapter reading it again."""

    @abstractmethod
    def max_seq(self, project_id: str) -> int:
        """0 when the project has no tests."""


class RunRepo(ABC):
    @abstractmethod
    def add_many(self, runs: Sequence[Run]) -> None:
        """Insert runs. Raises `Conflict` if a run for one of the test ids exists already."""

    @abstractmethod
    def get_many(self, project_id: str, test_ids: Sequence[str]) -> dict[str, Run]: ...

    @abstractmethod
    def list_since(self, project_id: str, after_seq: int = 0, until_seq: int | None = None) -> list[Run]:
        """Runs with after_seq < seq <= until_seq (no upper bound when None), ordered by seq."""

    @abstractmethod
    def max_seq(self, project_id: str) -> int: ...

    @abstractmethod
    def totals(self, project_id: str) -> dict[str, float]:
        """{"runs": n, "cost_cents": sum, "failures": n_fail} without loading every run."""


class KeyRepo(ABC):
    @abstractmethod
    def add(self, key: ApiKey) -> None: ...

    @abstractmethod
    def get_by_hash(self, key_hash: str) -> ApiKey | None: ...

    @abstractmethod
    def list(self, project_id: str | None = None) -> list[ApiKey]: ...

    def get(self, key_id: str) -> ApiKey | None:
        """By id, revoked keys too: an access token names its key, and each use checks it is live.
        Adapters override this with a point read; this fallback is for adapters that do not."""
        return next((k for k in self.list() if k.id == key_id), None)

    @abstractmethod
    def revoke(self, key_id: str) -> bool: ...

    @abstractmethod
    def count(self) -> int: ...


class AuditRepo(ABC):
    """The audit trail: one hash chain per shard (a project's, or the tenant's), sealed tenant-wide by
    signed digests. See `optiloop.audit.shards` and docs/audit-trail.md for the design.

    Only `append` and `add_digest` write, and neither can change what is stored.
    """

    @abstractmethod
    def append(
        self,
        *,
        principal: str,
        action: str,
        project_id: str | None,
        target: str | None,
        details: dict[str, Any],
    ) -> AuditRecord:
        """Append a record to its shard's chain (`shard_of(project_id)`), inside the caller's
        transaction if one is open. Appends to one shard serialise; appends to different shards
        never touch the same item."""

    @abstractmethod
    def list(
        self,
        *,
        project_id: str | None = None,
        action: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
        after: str | None = None,
    ) -> list[AuditRecord]:
        """With `project_id`: that project's records by seq (strongly consistent), `after_seq` pages.
        Without: every shard merged in tenant order (`optiloop.audit.shards.ord_of`), `after` (an
        ord, see `encode_cursor`) pages; `after_seq` is then ignored."""

    @abstractmethod
    def anchor(self) -> AuditHead:
        """Where every shard's chain starts: the sealed legacy chain's last (seq, hash), else (0, genesis)."""

    @abstractmethod
    def heads(self) -> builtins.list[AuditHead]:
        """The head item of every shard (not the legacy chain: its head is the anchor)."""

    @abstractmethod
    def shards(self) -> builtins.list[str]:
        """Every shard known to hold records (verification walks these and the heads)."""

    @abstractmethod
    def rows(self, shard: str, after_seq: int = 0, limit: int | None = None) -> Iterator[tuple[Any, ...]]:
        """Raw records of one shard by seq, as `optiloop.audit.verify.Row` tuples (details as the
        stored text): what verification streams without building objects."""

    @abstractmethod
    def add_digest(self, digest: dict[str, Any]) -> None:
        """Store digest n; raises `Conflict` if n exists (two sealers: one wins)."""

    @abstractmethod
    def digests(self) -> Iterator[dict[str, Any]]:
        """Every digest, by n."""

    @abstractmethod
    def latest_digest(self) -> dict[str, Any] | None: ...

    def verify(self, signer: Any = None) -> Any:
        """Recompute every chain, the heads and the digests: an `optiloop.audit.verify.Verification`,
        which unpacks as ``(ok, first_bad_seq)``; `signer` also checks the digests' signatures."""
        from optiloop.audit.verify import verify_trail

        return verify_trail(self, signer)

    def record_event(
        self,
        *,
        principal: str,
        action: str,
        project_id: str | None,
        target: str | None,
        details: dict[str, Any],
    ) -> str:
        """For high-rate paths: `append`'s arguments, but no chain is waited on. The event is batched
        in memory and sealed into the trail in bulk (`optiloop.audit.events`); returns its id."""
        event_id: str = self.events().record(
            principal=principal, action=action, project_id=project_id, target=target, details=details
        )
        return event_id

    def flush_events(self) -> int:
        """Seal every pending event now (call before a Lambda invocation ends); returns how many."""
        batcher = self.__dict__.get("_events")
        return batcher.flush() if batcher is not None else 0

    def events(self) -> Any:
        batcher = self.__dict__.get("_events")
        if batcher is None:
            from optiloop.audit.events import EventBatcher

            batcher = self.__dict__.setdefault("_events", EventBatcher(self))
        return batcher


class DocRepo(ABC):
    """Generic JSON documents by (kind, id), listed by (kind, scope) in `sort` order.

    Writes are atomic per document and join `Store.transaction()`. A document past `expires_at` is
    treated as absent by every read (and may be overwritten by `create`).
    """

    @abstractmethod
    def create(self, doc: Doc) -> None:
        """Insert with rev 1 (whatever `doc.rev` says). Raises `Conflict` if (kind, id) exists."""

    @abstractmethod
    def replace(self, doc: Doc, expected_rev: int) -> Doc:
        """Overwrite (kind, id) if its stored rev is `expected_rev`; store and return it with rev + 1.

        Raises `NotFound` if absent and `Conflict` if the rev differs (someone wrote in between).
        `scope` and `sort` may change."""

    @abstractmethod
    def get(self, kind: str, doc_id: str) -> Doc | None: ...

    @abstractmethod
    def get_many(self, kind: str, doc_ids: Sequence[str]) -> dict[str, Doc]: ...

    def require(self, kind: str, doc_id: str, *, field: str, what: str, reason: str | None = None) -> Doc:
        """`get`, or the NotFound every lookup by a client-supplied id answers: the message names the
        id, the details the request field it came from."""
        doc = self.get(kind, doc_id)
        if doc is None:
            raise NotFound(
                f"no {what} '{doc_id}'", details=[{"field": field, "reason": reason or f"no such {what}"}]
            )
        return doc

    @abstractmethod
    def list(
        self,
        kind: str,
        scope: str,
        *,
        after: str | None = None,
        limit: int = 100,
        descending: bool = False,
    ) -> list[Doc]:
        """Documents of (kind, scope) ordered by `sort` (then id); `after` is the `sort` value to start
        past, exclusive, in the listing's direction. Callers keep `sort` unique inside a scope (append
        the id where it may repeat) so that paging never skips a document."""

    @abstractmethod
    def delete(self, kind: str, doc_id: str) -> bool:
        """True if something was deleted."""

    @abstractmethod
    def delete_scope(self, kind: str, scope: str) -> int:
        """Delete every document of (kind, scope); returns how many. Not transactional as a whole
        (large scopes are deleted in batches), each document is."""


class BlobStore(ABC):
    """Opaque bytes by key (model artifacts, exports). Local folder now, S3 later."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]: ...


@dataclass(frozen=True)
class HistoryHeads:
    """Where a project's history stands: what suggest reads first, in one call where it can."""

    project: Project | None
    tests_seq: int  # the newest test's seq (0: none)
    runs_seq: int  # the newest run's seq (0: none)


class Store(ABC):
    """The record store: one object holding every repository of one backend."""

    projects: ProjectRepo
    constraints: ConstraintRepo
    tests: TestRepo
    runs: RunRepo
    keys: KeyRepo
    audit: AuditRepo
    docs: DocRepo

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside land together or not at all."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def history_heads(self, project_id: str) -> HistoryHeads:
        """The project and its newest test and run seqs, read together. Suggest reads these first on
        every call; adapters where each read is a round trip (DynamoDB) override this with one
        batched read."""
        return HistoryHeads(
            project=self.projects.get(project_id),
            tests_seq=self.tests.max_seq(project_id),
            runs_seq=self.runs.max_seq(project_id),
        )


def iter_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
