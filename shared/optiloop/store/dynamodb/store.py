"""The DynamoDB `Store`: every repository over one table, one client and per-thread transactions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from optiloop.store.dynamodb.apikeys import DynamoKeyRepo
from optiloop.store.dynamodb.audit import DynamoAuditRepo
from optiloop.store.dynamodb.commit import ATTEMPTS, Committer
from optiloop.store.dynamodb.counters import counter_of_runs, counter_of_tests, seq_max
from optiloop.store.dynamodb.docs import DynamoDocRepo
from optiloop.store.dynamodb.history import DynamoRunRepo, DynamoTestRepo
from optiloop.store.dynamodb.projects import DynamoConstraintRepo, DynamoProjectRepo, project_key
from optiloop.store.dynamodb.session import Session
from optiloop.store.dynamodb.staging import Visibility
from optiloop.store.dynamodb.table import Table
from optiloop.store.ports import HistoryHeads, Store

DEFAULT_STALE_AFTER_S = 120.0


def dynamodb_client(region: str | None = None, endpoint_url: str | None = None) -> Any:
    """A low-level client tuned for Lambda: standard retry mode (throttling backs off), short connect
    timeout, keep-alive, and a connection pool as large as the request thread pool."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=3,
        read_timeout=10,
        tcp_keepalive=True,
        max_pool_connections=64,
    )
    session = boto3.session.Session()
    creds: dict[str, str] = {}
    if endpoint_url and session.get_credentials() is None:
        # a local stand-in (moto_server, DynamoDB Local) checks no signature, but botocore must sign
        creds = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return session.client("dynamodb", region_name=region, endpoint_url=endpoint_url, config=config, **creds)


class DynamoStore(Store):
    """Thread-safe: the boto3 client is, and transactions are buffered per thread (`session.py`).

    `stale_after_s`: how long a staged transaction may stay pending before another writer that needs
    its keys may abandon it (`commit.py`); well above the longest commit (seconds), and short enough
    that a crashed one does not block a project for long. `commit_attempts`: how often a commit whose
    derived items (counters, audit head) another writer of the same project moved is retried before
    it is refused with `Contended` (409 + Retry-After).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: Any | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
        commit_attempts: int = ATTEMPTS,
    ) -> None:
        self.table = Table(client or dynamodb_client(region, endpoint_url), table_name)
        self.visibility = Visibility(self.table, stale_after_s=stale_after_s)
        self.committer = Committer(self.table, self.visibility, attempts=commit_attempts)
        self.session = Session(self.committer)
        self.projects = self._projects = DynamoProjectRepo(self.table, self.session)
        self.constraints = DynamoConstraintRepo(self.table, self.session, self.projects)
        self.tests = DynamoTestRepo(self.table, self.session, self.visibility, self.projects.exists)
        self.runs = DynamoRunRepo(self.table, self.session, self.visibility)
        self.keys = DynamoKeyRepo(self.table, self.session, self.projects)
        self.audit = DynamoAuditRepo(self.table, self.session, self.committer)
        self.docs = DynamoDocRepo(self.table, self.session)

    @property
    def table_name(self) -> str:
        return self.table.name

    def history_heads(self, project_id: str) -> HistoryHeads:
        """One BatchGetItem for the project item and both seq counters (suggest's first read);
        inside a transaction, the repositories' own reads, which see its buffered writes."""
        if self.session.pending is not None or not isinstance(project_id, str) or not project_id:
            return super().history_heads(project_id)
        keys = [project_key(project_id), counter_of_tests(project_id), counter_of_runs(project_id)]
        found = self.table.batch_get(keys)
        return HistoryHeads(
            project=self._projects.from_item(project_id, found.get(keys[0])),
            tests_seq=seq_max(found.get(keys[1])) or 0,
            runs_seq=seq_max(found.get(keys[2])) or 0,
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Per thread: this thread's writes inside are committed together at the outermost exit."""
        with self.session.transaction():
            yield
