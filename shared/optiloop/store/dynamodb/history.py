"""Suggested tests and their runs: the per-project history the learner loads incrementally.

Each test is two items, each run two items, both holding the whole record:

* by seq, ``P#<project>#T`` / ``<seq>`` (runs: ``#R``): one partition per project in seq order, so
  ``list_since`` is a range read, and the put's ``attribute_not_exists`` makes seq unique per project;
* by id, ``P#<project>#TID#<test id>`` / ``T`` (runs: ``#RUN#<test id>`` / ``R``): ``get_many`` is a
  BatchGetItem, the put's condition makes the test id (and one run per test) unique, and the keys
  spread over partitions, so a big batch does not pile its writes onto one.

Copies rather than pointers: one read per lookup on the hot paths (ingest reads tests and runs by
id; the learner reads by seq) for twice the storage of small items. Both copies are written in the
same transaction and never change afterwards.

The caller computes seq values, the store only refuses duplicates, so two writers that raced on
max_seq+1 get a `Conflict`, as on SQLite. Foreign-key style checks (a test's project, a run's test)
are reads, made before anything is buffered; they are sound without a condition in the transaction
because projects and tests are never deleted.
"""

from __future__ import annotations

import json
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from optiloop.errors import Conflict, NotFound
from optiloop.store.dynamodb.codec import (
    Item,
    Key,
    N,
    S,
    decimal_sum_text,
    enc_int,
    esc,
    float_attr,
    int_text,
    join,
    json_text,
    key_part,
    to_float,
    to_int,
)
from optiloop.store.dynamodb.counters import counter_of_runs, counter_of_tests, run_totals, seq_max
from optiloop.store.dynamodb.session import Pending, Session, Write
from optiloop.store.dynamodb.staging import Visibility
from optiloop.store.dynamodb.table import BATCH_GET_MAX, Table
from optiloop.store.ports import RunRepo, TestRepo
from optiloop.store.records import Run, TestCase

RUN_STATUSES = ("pass", "fail", "skipped")
_SEQ_MIN, _SEQ_MAX = -(2**63), 2**63 - 1
_CHECK_ATTRS = "tx"  # what a duplicate check needs besides the key


def pk_tests_by_seq(project_id: str) -> str:
    return join("P", esc(project_id), "T")


def key_test_by_id(project_id: str, test_id: str) -> Key:
    return join("P", esc(project_id), "TID", esc(test_id)), "T"


def pk_runs_by_seq(project_id: str) -> str:
    return join("P", esc(project_id), "R")


def key_run_by_test(project_id: str, test_id: str) -> Key:
    return join("P", esc(project_id), "RUN", esc(test_id)), "R"


def _str(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {type(value).__name__}")
    return S(value)


# -- encoding -----------------------------------------------------------------------------------


def _test_item(t: TestCase) -> Item:
    key_part(t.project_id, "test project_id")
    key_part(t.id, "test id")
    return {
        "id": S(t.id),
        "project_id": S(t.project_id),
        "seq": N(int_text(t.seq, "test seq")),
        "params": S(json_text(t.params)),
        "score": float_attr(t.score, "score"),
        "generator": _str(t.generator, "generator"),
        "operator": _str(t.operator, "operator"),
        "suggestion_id": _str(t.suggestion_id, "suggestion_id"),
        "predicted_cost": float_attr(t.predicted_cost, "predicted_cost"),
        "created_at": _str(t.created_at, "created_at"),
        "space_version": _str(t.space_version, "space_version"),
    }


def _test(item: Item) -> TestCase:
    return TestCase(
        id=item["id"]["S"],
        project_id=item["project_id"]["S"],
        seq=to_int(item["seq"]),
        params=json.loads(item["params"]["S"]),
        score=to_float(item["score"]),
        generator=item["generator"]["S"],
        operator=item["operator"]["S"],
        suggestion_id=item["suggestion_id"]["S"],
        predicted_cost=to_float(item["predicted_cost"]),
        created_at=item["created_at"]["S"],
        space_version=item["space_version"]["S"],
    )


def _run_item(r: Run) -> Item:
    key_part(r.project_id, "run project_id")
    key_part(r.test_id, "run test_id")
    if r.status not in RUN_STATUSES:
        raise ValueError(f"run status must be one of {RUN_STATUSES}, got {r.status!r}")
    try:
        buckets = [b if isinstance(b, str) else operator.index(b) for b in r.buckets]
    except TypeError:
        raise ValueError("run buckets must be integers or strings") from None
    return {
        "test_id": S(r.test_id),
        "project_id": S(r.project_id),
        "seq": N(int_text(r.seq, "run seq")),
        "status": S(r.status),
        "duration_ms": float_attr(r.duration_ms, "duration_ms"),
        "cost_cents": float_attr(r.cost_cents, "cost_cents"),
        "failure_severity": N(int_text(r.failure_severity, "failure_severity")),
        "buckets": S(json_text(buckets)),
        "new_buckets": N(int_text(r.new_buckets, "new_buckets")),
        "ingested_at": _str(r.ingested_at, "ingested_at"),
        "fingerprint": _str(r.fingerprint, "fingerprint"),
    }


def _run(item: Item) -> Run:
    return Run(
        test_id=item["test_id"]["S"],
        project_id=item["project_id"]["S"],
        seq=to_int(item["seq"]),
        status=item["status"]["S"],
        duration_ms=to_float(item["duration_ms"]),
        cost_cents=to_float(item["cost_cents"]),
        failure_severity=to_int(item["failure_severity"]),
        buckets=tuple(json.loads(item["buckets"]["S"])),
        new_buckets=to_int(item["new_buckets"]),
        ingested_at=item["ingested_at"]["S"],
        fingerprint=item["fingerprint"]["S"],
    )


def _with_key(body: Item, key: Key) -> Item:
    return {"pk": S(key[0]), "sk": S(key[1]), **body}


# -- shared machinery of both repositories ------------------------------------------------------


class _History:
    """What tests and runs have in common: seq partitions capped by a counter, staged visibility."""

    def __init__(self, table: Table, session: Session, visibility: Visibility) -> None:
        self._table = table
        self._session = session
        self._vis = visibility

    def _seq_pk(self, project_id: str) -> str:
        raise NotImplementedError

    def _counter(self, project_id: str) -> Key:
        raise NotImplementedError

    def _pending_max(self, p: Pending, project_id: str) -> int | None:
        raise NotImplementedError

    def _max_seq(self, project_id: str) -> int:
        if not isinstance(project_id, str) or not project_id:
            return 0
        stored = seq_max(self._table.get(self._counter(project_id)))
        p = self._session.pending
        mine = self._pending_max(p, project_id) if p is not None else None
        values = [v for v in (stored, mine) if v is not None]
        return max(values) if values else 0

    def _items_since(self, project_id: str, after_seq: int, until_seq: int | None = None) -> list[Item]:
        """Items with after_seq < seq <= until_seq up to the committed counter, plus this
        transaction's own. With `until_seq` the counter is not read: the caller read it (or a value
        below it) just before, and items at or below a counter read are committed (`Visibility`
        still hides garbage of abandoned staged transactions)."""
        if not isinstance(project_id, str) or not project_id:
            return []
        pk = self._seq_pk(project_id)
        after = max(_SEQ_MIN, min(_SEQ_MAX, after_seq))
        items: list[Item] = []
        if until_seq is None:
            top = seq_max(self._table.get(self._counter(project_id)))
        else:
            top = max(_SEQ_MIN, min(_SEQ_MAX, until_seq))
        if top is not None and top > after:
            items = self._vis.visible(list(self._table.query(pk, between=(enc_int(after + 1), enc_int(top)))))
        p = self._session.pending
        if p is not None:
            mine = [
                i
                for i in p.items_under(pk)
                if to_int(i["seq"]) > after and (until_seq is None or to_int(i["seq"]) <= until_seq)
            ]
            if mine:
                items = sorted([*items, *mine], key=lambda i: i["sk"]["S"])
        return items

    def _by_id(self, keys: dict[str, Key]) -> dict[str, Item]:
        """Visible items by id (test id -> item), this transaction's writes first."""
        out: dict[str, Item] = {}
        p = self._session.pending
        rest: dict[Key, str] = {}
        for ident, key in keys.items():
            w = p.writes.get(key) if p is not None else None
            if w is not None:
                out[ident] = w.item
            else:
                rest[key] = ident
        if rest:
            found = self._table.batch_get(list(rest))
            for item in self._vis.visible(list(found.values())):
                out[rest[(item["pk"]["S"], item["sk"]["S"])]] = item
        return out

    def _present(self, keys: Sequence[Key]) -> set[Key]:
        """Which of these keys hold a visible item (or one this transaction wrote)."""
        p = self._session.pending
        out = {k for k in keys if p is not None and k in p.writes}
        rest = [k for k in keys if k not in out]
        if rest:
            found = self._table.batch_get(rest, projection=_CHECK_ATTRS)
            out.update((i["pk"]["S"], i["sk"]["S"]) for i in self._vis.visible(list(found.values())))
        return out

    def _taken(
        self, p: Pending, keys: Sequence[Key], seq_keys: dict[str, list[Key]]
    ) -> tuple[set[Key], dict[Key, str]]:
        """Which of the new keys are already taken (buffered, stored, or in flight elsewhere), and
        which are held only by garbage of an abandoned staged transaction (key -> its id)."""
        taken = {k for k in keys if k in p.writes}
        for ks in seq_keys.values():
            taken.update(k for k in ks if k in p.writes)
        point = [k for k in keys if k not in taken]
        seqs = [k for ks in seq_keys.values() for k in ks if k not in taken]
        if len(point) + len(seqs) <= BATCH_GET_MAX:  # a suggest of up to 50: one call for both
            existing = list(self._table.batch_get(point + seqs, projection=_CHECK_ATTRS).values())
        else:
            existing = list(self._table.batch_get(point, projection=_CHECK_ATTRS).values())
            for pk, ks in seq_keys.items():
                existing.extend(self._seq_items(pk, ks))
        blocking, garbage = self._vis.classify_existing(existing)
        taken.update((i["pk"]["S"], i["sk"]["S"]) for i in blocking)
        return taken, garbage

    def _seq_items(self, pk: str, keys: list[Key]) -> Iterable[Item]:
        """Stored items at these seq keys: one range read when the batch is dense (the usual case:
        consecutive seqs), point reads when it is sparse."""
        sks = sorted(k[1] for k in keys)
        lo, hi = int(sks[0]), int(sks[-1])
        if hi - lo + 1 <= 2 * len(sks) + 100:
            wanted = set(sks)
            return [
                i
                for i in self._table.query(
                    pk, between=(sks[0], sks[-1]), projection=f"pk, sk, {_CHECK_ATTRS}"
                )
                if i["sk"]["S"] in wanted
            ]
        return self._table.batch_get(keys, projection=_CHECK_ATTRS).values()


class DynamoTestRepo(_History, TestRepo):
    def __init__(
        self, table: Table, session: Session, visibility: Visibility, project_exists: Callable[[str], bool]
    ) -> None:
        super().__init__(table, session, visibility)
        self._project_exists = project_exists

    def _seq_pk(self, project_id: str) -> str:
        return pk_tests_by_seq(project_id)

    def _counter(self, project_id: str) -> Key:
        return counter_of_tests(project_id)

    def _pending_max(self, p: Pending, project_id: str) -> int | None:
        return p.tests_max.get(project_id)

    def add_many(self, tests: Sequence[TestCase]) -> None:
        """All or none: a duplicate id or (project_id, seq) raises `Conflict` and writes nothing;
        an unknown project raises `NotFound`."""
        if not tests:
            return
        rows: list[tuple[TestCase, Key, Key, Item]] = []
        seen: set[Key] = set()
        for t in tests:
            body = _test_item(t)
            by_seq = (pk_tests_by_seq(t.project_id), enc_int(t.seq, "test seq"))
            by_id = key_test_by_id(t.project_id, t.id)
            for k, what in ((by_seq, f"seq {t.seq}"), (by_id, f"id {t.id!r}")):
                if k in seen:
                    raise Conflict(f"tests: {what} appears twice in the batch (project {t.project_id!r})")
                seen.add(k)
            rows.append((t, by_seq, by_id, body))
        with self._session.write() as p:
            for pid in {t.project_id for t in tests}:
                if not self._project_exists(pid):
                    raise NotFound(f"tests: project {pid!r} does not exist")
            seq_keys: dict[str, list[Key]] = {}
            for _, by_seq, _, _ in rows:
                seq_keys.setdefault(by_seq[0], []).append(by_seq)
            taken, garbage = self._taken(p, [r[2] for r in rows], seq_keys)
            clashes = [
                f"seq {t.seq}" if by_seq in taken else f"id {t.id!r}"
                for t, by_seq, by_id, _ in rows
                if by_seq in taken or by_id in taken
            ]
            if clashes:
                raise Conflict(
                    f"tests: already exist: {', '.join(clashes[:10])}" + (" ..." if len(clashes) > 10 else "")
                )
            for t, by_seq, by_id, body in rows:
                for key in (by_seq, by_id):
                    what = (
                        f"test seq {t.seq} of project {t.project_id!r}" if key is by_seq else f"test {t.id!r}"
                    )
                    p.put(
                        Write(
                            key,
                            _with_key(body, key),
                            "new",
                            what,
                            stageable=True,
                            replaces_tx=garbage.get(key),
                        )
                    )
                prev = p.tests_max.get(t.project_id)
                p.tests_max[t.project_id] = t.seq if prev is None else max(prev, t.seq)

    def get_many(self, project_id: str, test_ids: Sequence[str]) -> dict[str, TestCase]:
        if not isinstance(project_id, str) or not project_id:
            return {}
        keys = {i: key_test_by_id(project_id, i) for i in dict.fromkeys(test_ids) if isinstance(i, str) and i}
        return {i: _test(item) for i, item in self._by_id(keys).items()}

    def list_since(self, project_id: str, after_seq: int = 0, until_seq: int | None = None) -> list[TestCase]:
        return [_test(i) for i in self._items_since(project_id, after_seq, until_seq)]

    def max_seq(self, project_id: str) -> int:
        return self._max_seq(project_id)


class DynamoRunRepo(_History, RunRepo):
    def _seq_pk(self, project_id: str) -> str:
        return pk_runs_by_seq(project_id)

    def _counter(self, project_id: str) -> Key:
        return counter_of_runs(project_id)

    def _pending_max(self, p: Pending, project_id: str) -> int | None:
        return p.runs_max.get(project_id)

    def add_many(self, runs: Sequence[Run]) -> None:
        """All or none. `Conflict` names the test ids that already have a run (or repeat in the batch).

        A run must belong to a test of the same project; otherwise `NotFound`.
        """
        if not runs:
            return
        bodies = [_run_item(r) for r in runs]
        by_test = [key_run_by_test(r.project_id, r.test_id) for r in runs]
        by_seq = [(pk_runs_by_seq(r.project_id), enc_int(r.seq, "run seq")) for r in runs]
        with self._session.write() as p:
            # 1. one run per test: repeats in the batch, then runs already stored or in flight
            counts = Counter(by_test)
            dupes = {r.test_id for r, k in zip(runs, by_test, strict=True) if counts[k] > 1}
            taken, garbage = self._taken(p, by_test, {})
            dupes.update(r.test_id for r, k in zip(runs, by_test, strict=True) if k in taken)
            if dupes:
                listed = sorted(dupes)
                raise Conflict(
                    f"a run already exists for test(s) {', '.join(listed[:10])}"
                    + (" ..." if len(listed) > 10 else ""),
                    details=[{"field": "test_id", "reason": "run exists", "test_id": t} for t in listed],
                )
            # 2. each run's test exists in the run's project
            present = self._present([key_test_by_id(r.project_id, r.test_id) for r in runs])
            missing = [r for r in runs if key_test_by_id(r.project_id, r.test_id) not in present]
            if missing:
                r = missing[0]
                raise NotFound(f"runs: test {r.test_id!r} does not exist in project {r.project_id!r}")
            # 3. seq unique per project
            if len(set(by_seq)) != len(by_seq):
                raise Conflict("runs: the same seq appears twice in the batch")
            seq_keys: dict[str, list[Key]] = {}
            for k in by_seq:
                seq_keys.setdefault(k[0], []).append(k)
            seq_taken, seq_garbage = self._taken(p, [], seq_keys)
            clash = [r.seq for r, k in zip(runs, by_seq, strict=True) if k in seq_taken]
            if clash:
                raise Conflict(f"runs: seq {', '.join(map(str, clash[:10]))} already taken")
            garbage.update(seq_garbage)
            for r, body, k_test, k_seq in zip(runs, bodies, by_test, by_seq, strict=True):
                p.put(
                    Write(
                        k_seq,
                        _with_key(body, k_seq),
                        "new",
                        f"run seq {r.seq} of project {r.project_id!r}",
                        stageable=True,
                        replaces_tx=garbage.get(k_seq),
                    )
                )
                p.put(
                    Write(
                        k_test,
                        _with_key(body, k_test),
                        "new",
                        f"run for test {r.test_id!r}",
                        stageable=True,
                        replaces_tx=garbage.get(k_test),
                    )
                )
                prev = p.runs_max.get(r.project_id)
                p.runs_max[r.project_id] = r.seq if prev is None else max(prev, r.seq)
                p.add_runs(r.project_id, 1, Decimal(decimal_sum_text(r.cost_cents)), int(r.status == "fail"))

    def get_many(self, project_id: str, test_ids: Sequence[str]) -> dict[str, Run]:
        if not isinstance(project_id, str) or not project_id:
            return {}
        keys = {
            i: key_run_by_test(project_id, i) for i in dict.fromkeys(test_ids) if isinstance(i, str) and i
        }
        return {i: _run(item) for i, item in self._by_id(keys).items()}

    def list_since(self, project_id: str, after_seq: int = 0, until_seq: int | None = None) -> list[Run]:
        return [_run(i) for i in self._items_since(project_id, after_seq, until_seq)]

    def max_seq(self, project_id: str) -> int:
        return self._max_seq(project_id)

    def totals(self, project_id: str) -> dict[str, float]:
        """From the counter item, not the runs: one read however long the history."""
        n, cost, fails = 0, 0.0, 0
        if isinstance(project_id, str) and project_id:
            n, cost, fails = run_totals(self._table.get(counter_of_runs(project_id)))
            p = self._session.pending
            if p is not None and project_id in p.runs_add:
                dn, dc, df = p.runs_add[project_id]
                n, cost, fails = n + dn, cost + float(dc), fails + df
        return {"runs": n, "cost_cents": cost, "failures": fails}
