"""Two processes suggesting for one project: the loser of the seq race plans again, it does not fail."""

from __future__ import annotations

import dataclasses

import pytest

from optiloop.errors import Conflict
from optiloop.testopt.sut.driver import LocalLoop

SPACE = {"params": {"x": {"type": "integer", "min": 0, "max": 1000}, "on": {"type": "boolean"}}}


def _rival_takes_next_seqs(loop: LocalLoop, times: int) -> list[str]:
    """Make the next `times` suggestion writes lose a race: between planning and writing, another
    writer (as a second Lambda would) commits a test with the next free seq."""
    store = loop.deps.store
    real_transaction = store.transaction
    rivals: list[str] = []

    def racing_transaction():
        if len(rivals) < times:
            seq = store.tests.max_seq(loop.project_id) + 1
            [template] = store.tests.list_since(loop.project_id, seq - 2) or [None]
            rival = dataclasses.replace(
                template, id=f"tst_rival{len(rivals)}", seq=seq, params={"x": 999 - len(rivals), "on": True}
            )
            store.tests.add_many([rival])
            rivals.append(rival.id)
        return real_transaction()

    store.transaction = racing_transaction  # type: ignore[method-assign]
    return rivals


def test_a_lost_seq_race_is_retried_on_the_new_history():
    loop = LocalLoop(SPACE)
    loop.suggest(batch_size=1, seed=0)  # one test to copy rivals from
    rivals = _rival_takes_next_seqs(loop, times=2)
    out = loop.suggest(batch_size=10, seed=1)
    assert len(out["tests"]) == 10 and len(rivals) == 2
    stored = loop.deps.store.tests.list_since(loop.project_id)
    assert [t.seq for t in stored] == list(range(1, 14))  # first test, two rivals, the batch: no gaps
    assert {t["id"] for t in out["tests"]} <= {t.id for t in stored}
    audits = loop.deps.store.audit.list(project_id=loop.project_id, action="tests.suggest")
    assert len(audits) == 2  # the first call and the batch: the lost attempts left nothing behind


def test_gives_up_with_a_clear_409_after_repeated_losses():
    loop = LocalLoop(SPACE)
    loop.suggest(batch_size=1, seed=0)
    _rival_takes_next_seqs(loop, times=10)
    with pytest.raises(Conflict, match="retry"):
        loop.suggest(batch_size=5, seed=1)
    assert len(loop.deps.store.audit.list(project_id=loop.project_id, action="tests.suggest")) == 1


def test_ingest_that_loses_the_run_seq_race_is_judged_again():
    loop = LocalLoop(SPACE)
    out = loop.suggest(batch_size=4, seed=0)
    ids = [t["id"] for t in out["tests"]]
    ok = {"status": "pass", "coverage_delta": {"buckets_hit": [1, 2]}}
    loop.ingest(ids[:1], [ok])
    store = loop.deps.store
    real_transaction = store.transaction
    raced = []

    def racing_transaction():
        if not raced:  # another process ingests test 1 first, taking the next run seq
            [first] = store.runs.list_since(loop.project_id)
            store.runs.add_many(
                [dataclasses.replace(first, test_id=ids[1], seq=first.seq + 1, fingerprint="other")]
            )
            raced.append(True)
        return real_transaction()

    store.transaction = racing_transaction  # type: ignore[method-assign]
    result = loop.ingest(ids[1:], [ok, ok, ok])
    # judged on the new history: test 1 now has a different run, the other two are stored after it
    assert result["accepted"] == 2 and [r["test_id"] for r in result["rejected"]] == [ids[1]]
    assert [r.seq for r in store.runs.list_since(loop.project_id)] == [1, 2, 3, 4]
