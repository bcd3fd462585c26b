"""A finished experiment's ranking is computed once per revision of its document; a running one's on
every request; a few experiments are kept."""

from __future__ import annotations

from optiloop.automl import board_cache
from optiloop.deps import Deps
from optiloop.store.records import Doc


def _doc(exp_id: str, rev: int) -> Doc:
    return Doc(kind="experiment", id=exp_id, scope="p1", sort=exp_id, data={}, rev=rev)


def test_kept_per_revision_of_a_finished_experiment(deps: Deps) -> None:
    calls: list[str] = []

    def compute(tag: str) -> str:
        calls.append(tag)
        return tag

    assert board_cache.ranking(deps, _doc("e1", 3), True, lambda: compute("a")) == "a"
    assert board_cache.ranking(deps, _doc("e1", 3), True, lambda: compute("b")) == "a"  # kept
    assert board_cache.ranking(deps, _doc("e1", 4), True, lambda: compute("c")) == "c"  # rewritten
    assert board_cache.ranking(deps, _doc("e2", 1), False, lambda: compute("d")) == "d"  # running
    assert board_cache.ranking(deps, _doc("e2", 1), False, lambda: compute("e")) == "e"
    assert calls == ["a", "c", "d", "e"]


def test_only_a_few_experiments_are_kept(deps: Deps) -> None:
    for k in range(board_cache.KEEP + 2):
        board_cache.ranking(deps, _doc(f"x{k}", 1), True, lambda k=k: k)  # type: ignore[misc]
    assert board_cache.ranking(deps, _doc("x0", 1), True, lambda: "again") == "again"  # evicted
    last = board_cache.KEEP + 1
    assert board_cache.ranking(deps, _doc(f"x{last}", 1), True, lambda: "again") == last


def test_another_store_never_reads_this_ones_ranking(deps: Deps) -> None:
    from optiloop.store.factory import open_memory

    other = Deps(*open_memory())
    board_cache.ranking(deps, _doc("same", 1), True, lambda: "first store")
    assert board_cache.ranking(other, _doc("same", 1), True, lambda: "second store") == "second store"
