"""Monte Carlo over the unit cube: the generator's ruler for feasible fractions and rarities.

Constants of relations are quantiles of their left-hand side, bands are quantiles of a slack,
and a failure's rarity is (its box's exact unit volume) x P(feasible | box) / P(feasible), where
the two probabilities come from samples drawn here. Everything is vectorised (a few thousand
rows per system), which keeps generating the whole suite to about a second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from optiloop.testopt.sut.procedural.params import ParamDef, decode_all

if TYPE_CHECKING:
    from optiloop.testopt.sut.procedural.regions import Box
    from optiloop.testopt.sut.procedural.relations import Relation


class Sample:
    """Rows of the unit cube decoded to columns, with activity masks of conditional params.

    `harness` marks the rows decoded like the benchmark harness (log ignored); constants are
    calibrated on both kinds of rows so that neither way of sampling finds the space empty.
    """

    def __init__(
        self,
        params: Sequence[ParamDef],
        cols: Mapping[str, np.ndarray],
        active: Mapping[str, np.ndarray],
        n: int,
        harness: np.ndarray | None = None,
    ) -> None:
        self.params = list(params)
        self.cols = dict(cols)
        self.active = dict(active)
        self.n = n
        self.harness = np.zeros(n, bool) if harness is None else harness
        self._plat: np.ndarray | None = None
        self._by_name: dict[str, ParamDef] = {}

    @classmethod
    def uniform(cls, params: Sequence[ParamDef], n: int, rng: np.random.Generator) -> Sample:
        """n rows, the odd ones decoded like the harness."""
        U = rng.random((n, len(params)))
        harness = np.arange(n) % 2 == 1
        c1, a1 = decode_all(list(params), U[~harness])
        c2, a2 = decode_all(list(params), U[harness], linear=True)
        cols: dict[str, np.ndarray] = {}
        active: dict[str, np.ndarray] = {}
        for src, dst in ((c1, cols), (a1, active)):
            for k in src:
                dst[k] = np.empty(n, dtype=src[k].dtype)
                dst[k][~harness] = src[k]
        for src, dst in ((c2, cols), (a2, active)):
            for k in src:
                dst[k][harness] = src[k]
        return cls(params, cols, active, n, harness)

    def holds(self, rel: Relation) -> np.ndarray:
        """Rows satisfying `rel`; a relation on an inactive parameter holds (the platform's rule)."""
        with np.errstate(all="ignore"):
            v = np.asarray(rel.node.vec(self.cols), dtype=bool)
        v = np.broadcast_to(v, (self.n,)).copy() if v.shape != (self.n,) else v
        for name in rel.conditional:
            v = v | ~self.active[name]
        return v

    def feasible(self, relations: Sequence[Relation]) -> np.ndarray:
        ok = np.ones(self.n, bool)
        for r in relations:
            ok &= self.holds(r)
        return ok

    def fractions(self, relations: Sequence[Relation]) -> tuple[float, float]:
        """Feasible fraction of the platform's rows and of the harness's rows."""
        ok = self.feasible(relations)
        plat = float(ok[~self.harness].mean()) if (~self.harness).any() else 0.0
        harn = float(ok[self.harness].mean()) if self.harness.any() else plat
        return plat, harn

    def inside(self, names: frozenset[str], boxes: Sequence[Box], n: int, rng: np.random.Generator) -> Sample:
        """n platform rows uniform inside each of `boxes` (stacked, box after box), over the
        parameters in `names` only (what the relations read): random platform rows of this sample,
        with each box's coordinates redrawn inside it. Sides on other parameters are left out:
        they do not change feasibility."""
        if self._plat is None:
            self._plat = np.flatnonzero(~self.harness)
            self._by_name = {p.name: p for p in self.params}
        rows = self._plat[rng.integers(0, len(self._plat), n * len(boxes))]
        cols = {k: self.cols[k][rows] for k in names}
        # unit coordinates inside each box, gathered per parameter and decoded in one call each
        redraw: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
        for j, box in enumerate(boxes):
            where = np.arange(j * n, (j + 1) * n)
            for r in box.ranges:
                if r.param.name in cols:
                    got = redraw.setdefault(r.param.name, ([], []))
                    got[0].append(where)
                    got[1].append(r.ua + rng.random(n) * (r.ub - r.ua))
            for k in box.picks:
                if k.param.name in cols:
                    cells = np.asarray(k.cells())
                    got = redraw.setdefault(k.param.name, ([], []))
                    got[0].append(where)
                    pick = cells[rng.integers(0, len(cells), n)]
                    got[1].append((pick + rng.random(n)) / len(k.param.levels))
        for name, (where_parts, u_parts) in redraw.items():
            cols[name][np.concatenate(where_parts)] = self._by_name[name].decode(np.concatenate(u_parts))
        active: dict[str, np.ndarray] = {}
        for name in names:
            p = self._by_name[name]
            if p.parent is not None:
                active[name] = np.isin(cols[p.parent], list(p.parent_values))
        return Sample(self.params, cols, active, n * len(boxes))
