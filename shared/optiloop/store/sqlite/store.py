"""The SQLite `Store`: every repository over one `Database`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from optiloop.store.ports import Store
from optiloop.store.sqlite.audit import SqliteAuditRepo
from optiloop.store.sqlite.db import DEFAULT_BUSY_TIMEOUT_S, Database
from optiloop.store.sqlite.docs import SqliteDocRepo
from optiloop.store.sqlite.history import SqliteRunRepo, SqliteTestRepo
from optiloop.store.sqlite.keys import SqliteKeyRepo
from optiloop.store.sqlite.projects import SqliteConstraintRepo, SqliteProjectRepo


class SqliteStore(Store):
    """Thread-safe; see `optiloop.store.sqlite.db` for the connection and locking design."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self.db = Database(path, busy_timeout_s=busy_timeout_s)
        self.projects = SqliteProjectRepo(self.db)
        self.constraints = SqliteConstraintRepo(self.db)
        self.tests = SqliteTestRepo(self.db)
        self.runs = SqliteRunRepo(self.db)
        self.keys = SqliteKeyRepo(self.db)
        self.audit = SqliteAuditRepo(self.db)
        self.docs = SqliteDocRepo(self.db)

    @property
    def path(self) -> str:
        return self.db.path

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Per thread: writes of this thread inside land together; other threads are not included."""
        with self.db.transaction():
            yield

    def close(self) -> None:
        self.db.close()
