"""The trees runtime's depth walk (one numpy step per level): the same depth as a node-by-node walk,
and a hostile file's cycles and shared nodes refused before they could loop."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.errors import InvalidInput
from optiloop.models.runtimes.trees import _depth


def _reference(left: np.ndarray, right: np.ndarray) -> int:
    best, stack = 0, [(0, 0)]
    while stack:
        node, d = stack.pop()
        if left[node] < 0:
            best = max(best, d)
        else:
            stack += [(int(left[node]), d + 1), (int(right[node]), d + 1)]
    return best


def _random_tree(rng: np.random.Generator, leaves: int) -> tuple[np.ndarray, np.ndarray]:
    """Split random leaves until there are `leaves` of them; children are appended (ids > parent's)."""
    left, right, open_ = [-1], [-1], [0]
    while len(open_) < leaves:
        node = open_.pop(int(rng.integers(len(open_))))
        left[node], right[node] = len(left), len(left) + 1
        left += [-1, -1]
        right += [-1, -1]
        open_ += [len(left) - 2, len(left) - 1]
    return np.array(left), np.array(right)


def test_the_level_walk_finds_the_longest_path() -> None:
    rng = np.random.default_rng(0)
    assert _depth(np.array([-1]), np.array([-1])) == 0
    for leaves in (2, 3, 17, 300):
        left, right = _random_tree(rng, leaves)
        assert _depth(left, right) == _reference(left, right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ([1, 2, 1], [2, 1, 2]),  # 1 -> 2 -> 1 -> ...: a cycle below the root
        ([1, 2, -1], [2, 2, -1]),  # node 2 is a child of the root and of node 1
    ],
)
def test_cycles_and_shared_nodes_are_refused(left: list[int], right: list[int]) -> None:
    with pytest.raises(InvalidInput):
        _depth(np.array(left), np.array(right))
