"""What a use case wrote during one invocation, seen through the store port it was handed.

The issue asks for business metrics (batch size, new coverage buckets, failures found) without
Powertools in the core. The use cases already hand every suggested test and every accepted run to
`store.tests.add_many` / `store.runs.add_many`, so the Lambda's composition root decorates those two
repositories and counts what passes through: exact numbers (duplicates and rejected runs never
reach `add_many`), no change to the core, and the same tally serves the HTTP and the SQS ingest.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, cast

from optiloop.deps import Deps
from optiloop.store.ports import HistoryHeads, RunRepo, Store, TestRepo
from optiloop.store.records import Run, TestCase


@dataclass
class WriteTally:
    """Counts since the last `reset()`. Lambda runs one invocation per process at a time, so a
    per-process tally reset at the start of each invocation (or SQS record) is per-invocation."""

    tests: int = 0
    runs: int = 0
    new_buckets: int = 0
    failures: int = 0
    novel_failures: int = 0

    def reset(self) -> None:
        self.tests = self.runs = self.new_buckets = self.failures = self.novel_failures = 0

    def absorb(self, other: WriteTally) -> None:
        """Add another tally's counts (a batch total built from per-message tallies)."""
        self.tests += other.tests
        self.runs += other.runs
        self.new_buckets += other.new_buckets
        self.failures += other.failures
        self.novel_failures += other.novel_failures

    def add_runs(self, runs: Sequence[Run]) -> None:
        self.runs += len(runs)
        self.new_buckets += sum(r.new_buckets for r in runs)
        fails = [r for r in runs if r.status == "fail"]
        self.failures += len(fails)
        # a failure that also hit unseen behaviour: a new failure mode rather than a rerun of a known one
        self.novel_failures += sum(1 for r in fails if r.new_buckets > 0)


class _Observed:
    """Forwards everything to the wrapped repository; subclasses intercept the one write they count."""

    def __init__(self, inner: Any, tally: WriteTally) -> None:
        self._inner = inner
        self._tally = tally

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _ObservedTests(_Observed):
    def add_many(self, tests: Sequence[TestCase]) -> None:
        self._inner.add_many(tests)
        self._tally.tests += len(tests)


class _ObservedRuns(_Observed):
    def add_many(self, runs: Sequence[Run]) -> None:
        self._inner.add_many(runs)  # counted only once the adapter took them
        self._tally.add_runs(runs)


class StoreView(Store):
    """The wrapped `Store` with some repositories swapped for decorated ones (the rest, and any
    adapter extras such as a table name, are the wrapped store's own)."""

    REPOS = ("projects", "constraints", "tests", "runs", "keys", "audit", "docs")

    def __init__(self, inner: Store, **repos: Any) -> None:
        unknown = set(repos) - set(self.REPOS)
        if unknown:
            raise ValueError(f"not store repositories: {sorted(unknown)}")
        self._inner = inner
        for name in self.REPOS:
            setattr(self, name, repos.get(name, getattr(inner, name)))

    def transaction(self) -> AbstractContextManager[None]:
        return self._inner.transaction()

    def close(self) -> None:
        self._inner.close()

    def history_heads(self, project_id: str) -> HistoryHeads:
        return self._inner.history_heads(project_id)  # the adapter's batched read, not the default

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ObservedStore(StoreView):
    """A `Store` that is the wrapped one except that test and run writes are tallied.

    Counts are taken when `add_many` returns, inside the use case's transaction; a caller that
    reports them should do so only when the whole call succeeded (a later rollback undoes the write).
    """

    def __init__(self, inner: Store, tally: WriteTally) -> None:
        super().__init__(
            inner,
            tests=cast(TestRepo, _ObservedTests(inner.tests, tally)),
            runs=cast(RunRepo, _ObservedRuns(inner.runs, tally)),
        )


def observed(deps: Deps, tally: WriteTally) -> Deps:
    """The same ports with the store observed."""
    return replace(deps, store=ObservedStore(deps.store, tally))
