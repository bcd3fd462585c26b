"""Parameter definitions and their unit-cube encoding, mirrored from the platform.

A generated system reasons about volumes (how rare a failure is, how thin a band) in the same
unit cube the platform samples: one coordinate per parameter, log-scaled where the schema says
`log: true`, one equal cell per enum value or integer. `decode` reproduces `Param.decode` of
`optiloop.testopt.space.model` so the generator's Monte Carlo estimates are estimates of what
the platform's samplers see. `linear=True` decodes as the shared benchmark harness does (it
ignores `log`), because a baseline that samples the schema naively must also find the space
feasible often enough to run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from optiloop.testopt.sut.procedural.ast import Cmp, In, Lit, Node, Var

ParamType = Literal["integer", "number", "string", "boolean"]


@dataclass(frozen=True)
class ParamDef:
    name: str
    type: ParamType
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    enum: tuple[str, ...] = ()
    parent: str | None = None  # the (unconditional) parameter whose value activates this one
    parent_values: tuple[Any, ...] = ()

    # -- schema ----------------------------------------------------------------------
    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number")

    @property
    def levels(self) -> tuple[Any, ...]:
        """The values of a discrete parameter, in cell order."""
        if self.type == "boolean":
            return (False, True)
        return self.enum

    def condition(self) -> Node | None:
        """The `active_if` condition as an AST, or None for an unconditional parameter."""
        if self.parent is None:
            return None
        if isinstance(self.parent_values[0], bool):
            return Cmp("==", Var(self.parent, numeric=False), Lit(self.parent_values[0]))
        if len(self.parent_values) == 1:
            return Cmp("==", Var(self.parent, numeric=False), Lit(self.parent_values[0]))
        return In(self.parent, tuple(self.parent_values))

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.numeric:
            lo, hi = self.low, self.high
            if self.type == "integer":
                out["min"], out["max"] = int(lo), int(hi)
            else:
                out["min"], out["max"] = float(lo), float(hi)
            if self.log:
                out["log"] = True
        elif self.type == "string":
            out["enum"] = list(self.enum)
        cond = self.condition()
        if cond is not None:
            out["active_if"] = cond.src()
        return out

    # -- unit cube ---------------------------------------------------------------------
    def _ab(self) -> tuple[float, float]:
        top = self.high + 1 if self.type == "integer" else self.high
        if self.log:
            return math.log(self.low), math.log(top)
        return self.low, top

    def decode(self, u: np.ndarray, linear: bool = False) -> np.ndarray:
        """Values for unit coordinates `u`, as `Param.decode` (or the harness, with linear=True)."""
        u = np.clip(u, 0.0, np.nextafter(1.0, 0.0))
        if self.type == "boolean":
            return u >= 0.5
        if self.type == "string":
            idx = np.minimum((u * len(self.enum)).astype(np.int64), len(self.enum) - 1)
            return np.asarray(self.enum)[idx]
        lo, hi = float(self.low), float(self.high)
        if self.log and not linear:
            a, b = self._ab()
            v = np.exp(a + u * (b - a))
            if self.type == "integer":
                v = np.floor(v)
            return np.clip(v, lo, hi)
        if self.type == "integer":
            return np.clip(lo + np.floor(u * (hi - lo + 1)), lo, hi)
        return lo + u * (hi - lo)

    def value_at(self, u: float) -> float:
        """The value whose cell contains unit coordinate `u` (scalar `decode`, numeric params)."""
        u = min(max(u, 0.0), 1.0 - 2**-53)
        lo, hi = float(self.low), float(self.high)
        if self.log:
            a, b = self._ab()
            v = math.exp(a + u * (b - a))
            if self.type == "integer":
                v = math.floor(v)
            return min(max(v, lo), hi)
        if self.type == "integer":
            return min(max(lo + math.floor(u * (hi - lo + 1)), lo), hi)
        return lo + u * (hi - lo)

    def cell_start(self, v: float) -> float:
        """Unit coordinate where value `v`'s cell starts (for an integer, the cell [v, v + 1))."""
        a, b = self._ab()
        x = math.log(v) if self.log else v
        return min(max((x - a) / (b - a), 0.0), 1.0) if b > a else 0.0

    def encode_vec(self, v: np.ndarray) -> np.ndarray:
        """Unit coordinates of values (vectorised `encoder`)."""
        a, b = self._ab()
        span = (b - a) or 1.0
        v = np.asarray(v, dtype=float)
        if self.type == "integer":
            if self.log:
                return (0.5 * (np.log(v) + np.log(v + 1)) - a) / span
            return (v + 0.5 - a) / span
        if self.log:
            return (np.log(v) - a) / span
        return (v - a) / span

    def encoder(self) -> Any:
        """A fast scalar value -> unit coordinate (integers to the middle of their cell)."""
        a, b = self._ab()
        span = (b - a) or 1.0
        if self.type == "integer":
            if self.log:
                return lambda v: (0.5 * (math.log(v) + math.log(v + 1)) - a) / span
            return lambda v: (v + 0.5 - a) / span
        if self.log:
            return lambda v: (math.log(v) - a) / span
        return lambda v: (v - a) / span


def is_active(param: ParamDef, p: Mapping[str, Any]) -> bool:
    """Whether `param` exists in test `p`, by the platform's rule: its condition holds (on a parent
    that is present) and the test carries a value. A value sent for a parameter whose condition
    is false (the harness's naive samplers do that) is ignored, as the platform would drop it."""
    if param.name not in p:
        return False
    if param.parent is None:
        return True
    v = p.get(param.parent)
    return v is not None and v in param.parent_values


def decode_all(
    params: list[ParamDef], U: np.ndarray, linear: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Columns and activity masks for the rows of U (one column of U per parameter)."""
    cols = {p.name: p.decode(U[:, i], linear) for i, p in enumerate(params)}
    n = U.shape[0]
    active: dict[str, np.ndarray] = {}
    for p in params:
        if p.parent is None:
            continue
        active[p.name] = np.isin(cols[p.parent], list(p.parent_values)) if n else np.zeros(0, bool)
    return cols, active
