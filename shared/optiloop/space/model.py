"""The parameter space: typed params, the unit-cube encoding, and vectorised feasibility.

Every sampler works in the unit cube [0, 1)^d, one dimension per parameter, and `Space.decode`
maps points to typed columns. Working in one cube lets samplers, distances and surrogates be
type-agnostic while the decoded values are always valid for their type and range.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

ParamType = Literal["integer", "number", "string", "boolean"]


class CompiledExpr(Protocol):
    """What the expression language hands back (see `optiloop.space.expr`)."""

    source: str
    names: frozenset[str]

    def evaluate(self, cols: dict[str, np.ndarray], n: int) -> np.ndarray: ...


@dataclass(frozen=True)
class Param:
    name: str
    type: ParamType
    low: float | None = None
    high: float | None = None
    log: bool = False
    enum: tuple[Any, ...] | None = None
    active_if: CompiledExpr | None = field(default=None, compare=False)
    active_if_source: str | None = None

    @property
    def is_numeric(self) -> bool:
        return self.type in ("integer", "number")

    @property
    def n_levels(self) -> int | None:
        """Distinct values, or None for a continuum."""
        if self.type == "boolean":
            return 2
        if self.enum is not None:
            return len(self.enum)
        if self.type == "integer":
            return int(self.high - self.low) + 1  # type: ignore[operator]
        return None

    # -- unit <-> value -----------------------------------------------------------------
    def decode(self, u: np.ndarray) -> np.ndarray:
        u = np.clip(u, 0.0, np.nextafter(1.0, 0.0))
        if self.type == "boolean":
            return u >= 0.5
        if self.enum is not None:
            idx = np.minimum((u * len(self.enum)).astype(np.int64), len(self.enum) - 1)
            return np.asarray(self.enum, dtype=object)[idx]
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.type == "integer":
            if self.log:
                # log-uniform over [lo, hi + 1) then floor: each integer keeps its log-width share
                a, b = math.log(lo), math.log(hi + 1)
                v = np.floor(np.exp(a + u * (b - a)))
            else:
                v = lo + np.floor(u * (hi - lo + 1))
            return np.clip(v, lo, hi)
        if self.log:
            a, b = math.log(lo), math.log(hi)
            return np.clip(np.exp(a + u * (b - a)), lo, hi)
        return lo + u * (hi - lo)

    def encode(self, v: np.ndarray) -> np.ndarray:
        """Inverse of decode; discrete values map to the centre of their cell."""
        if self.type == "boolean":
            return np.where(v.astype(bool), 0.75, 0.25)
        if self.enum is not None:
            index = {e: i for i, e in enumerate(self.enum)}
            idx = np.array([index[x] for x in v], dtype=float)
            return (idx + 0.5) / len(self.enum)
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        v = v.astype(float)
        if self.type == "integer":
            if self.log:
                a, b = math.log(lo), math.log(hi + 1)
                return (0.5 * (np.log(v) + np.log(v + 1)) - a) / (b - a)
            return (v - lo + 0.5) / (hi - lo + 1)
        if self.log:
            a, b = math.log(lo), math.log(hi)
            return (np.log(v) - a) / (b - a) if b > a else np.zeros_like(v)
        return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)

    def to_json_value(self, v: Any) -> Any:
        if self.type == "boolean":
            return bool(v)
        if self.type == "integer":
            return int(v)
        if self.type == "number":
            return float(v)
        return v

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.enum is not None and self.type == "string":
            out["enum"] = list(self.enum)
        if self.is_numeric:
            out["min"], out["max"] = self.low, self.high
            if self.log:
                out["log"] = True
        if self.active_if_source:
            out["active_if"] = self.active_if_source
        return out


@dataclass(frozen=True)
class Relation:
    """A parsed relation; `field` is where it came from, e.g. `constraints[base].relations[1]`."""

    source: str
    expr: CompiledExpr
    constraint: str
    field: str
    weight: float = 0.0  # soft relations only


@dataclass
class Batch:
    """n decoded points: typed columns plus which params are active in each point."""

    cols: dict[str, np.ndarray]
    active: dict[str, np.ndarray]
    n: int


class Space:
    def __init__(self, params: list[Param], hard: list[Relation], soft: list[Relation]) -> None:
        if not params:
            raise ValueError("a space needs at least one parameter")
        self.params = tuple(params)
        self.hard = tuple(hard)
        self.soft = tuple(soft)
        self.names = tuple(p.name for p in params)
        self.index = {p.name: i for i, p in enumerate(params)}
        self.dim = len(params)
        self._conditional = [p for p in params if p.active_if is not None]
        canon = {
            "params": {p.name: p.spec() for p in params},
            "hard": [r.source for r in hard],
            "soft": [[r.source, r.weight] for r in soft],
        }
        self.version = "sp-" + hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()[:12]

    # -- decoding ------------------------------------------------------------------------
    def decode(self, U: np.ndarray) -> Batch:
        U = np.atleast_2d(np.asarray(U, dtype=float))
        n = U.shape[0]
        cols = {p.name: p.decode(U[:, i]) for i, p in enumerate(self.params)}
        active = {p.name: np.ones(n, dtype=bool) for p in self.params}
        # active_if may refer to params that are themselves conditional: iterate to a fixed point
        for _ in range(len(self._conditional)):
            changed = False
            for p in self._conditional:
                mask = self._eval(p.active_if, cols, active, n)  # type: ignore[arg-type]
                if not np.array_equal(mask, active[p.name]):
                    active[p.name] = mask
                    changed = True
            if not changed:
                break
        return Batch(cols=cols, active=active, n=n)

    def snap(self, U: np.ndarray) -> np.ndarray:
        """Move points to the canonical unit coordinate of the value they decode to.

        Two points that decode to the same test then have distance 0, and inactive params are
        pinned to 0.5 so they do not make two identical tests look different.
        """
        U = np.atleast_2d(np.asarray(U, dtype=float))
        batch = self.decode(U)
        out = np.empty_like(U)
        for i, p in enumerate(self.params):
            out[:, i] = p.encode(batch.cols[p.name])
            out[~batch.active[p.name], i] = 0.5
        return out

    def encode_dicts(self, points: list[dict[str, Any]]) -> np.ndarray:
        """Unit coordinates of stored tests (absent params count as inactive -> 0.5)."""
        U = np.full((len(points), self.dim), 0.5)
        for i, p in enumerate(self.params):
            present = [j for j, pt in enumerate(points) if pt.get(p.name) is not None]
            if not present:
                continue
            vals = [points[j][p.name] for j in present]
            try:
                if p.enum is not None:
                    ok = [k for k, v in enumerate(vals) if v in p.enum]
                    present, vals = [present[k] for k in ok], [vals[k] for k in ok]
                enc = p.encode(np.asarray(vals, dtype=object if p.enum is not None else float))
            except (TypeError, ValueError, KeyError):
                continue  # a test from an older space version whose value no longer fits
            U[present, i] = np.clip(enc, 0.0, 1.0)
        return U

    def to_dicts(self, batch: Batch) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for j in range(batch.n):
            d: dict[str, Any] = {}
            for p in self.params:
                if batch.active[p.name][j]:
                    d[p.name] = p.to_json_value(batch.cols[p.name][j])
            out.append(d)
        return out

    # -- feasibility -----------------------------------------------------------------------
    @staticmethod
    def _eval(expr: CompiledExpr, cols: dict[str, np.ndarray], active: dict[str, np.ndarray], n: int) -> np.ndarray:
        """Evaluate a boolean expression. Rows where a referenced param is inactive count as True:
        a relation about a parameter that does not exist in this test constrains nothing."""
        with np.errstate(all="ignore"):
            val = np.asarray(expr.evaluate(cols, n), dtype=bool)
        if val.shape != (n,):
            val = np.broadcast_to(val, (n,)).copy()
        for name in expr.names:
            if name in active:
                val = val | ~active[name]
        return val

    def relation_mask(self, batch: Batch) -> np.ndarray:
        """(n, n_hard) bool: which hard relation each point satisfies."""
        if not self.hard:
            return np.ones((batch.n, 0), dtype=bool)
        return np.stack([self._eval(r.expr, batch.cols, batch.active, batch.n) for r in self.hard], axis=1)

    def feasible(self, batch: Batch) -> np.ndarray:
        ok = np.ones(batch.n, dtype=bool)
        for r in self.hard:
            ok &= self._eval(r.expr, batch.cols, batch.active, batch.n)
        return ok

    def soft_penalty(self, batch: Batch) -> np.ndarray:
        pen = np.zeros(batch.n)
        for r in self.soft:
            pen += r.weight * ~self._eval(r.expr, batch.cols, batch.active, batch.n)
        return pen

    def feasible_dicts(self, points: list[dict[str, Any]]) -> np.ndarray:
        return self.feasible(self.decode(self.encode_dicts(points)))
