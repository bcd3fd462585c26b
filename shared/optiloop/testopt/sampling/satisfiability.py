"""Is a space satisfiable? Checked by sampling before a constraint is stored.

Exact satisfiability of arbitrary arithmetic relations is undecidable in general, so we sample:
uniform points plus points pushed to the bounds (where equality-style relations such as
`quality == 100` live). If no sample is feasible the space is rejected, naming the relation
that rejects the most samples: in practice that is the one the user got wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optiloop.errors import FieldProblem, Unsatisfiable
from optiloop.testopt.sampling.proposals import propose
from optiloop.testopt.space import Space

LOW_FRACTION = 1e-3


def check_satisfiable(space: Space, n: int = 8192, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    U = np.vstack([rng.random((n // 2, space.dim)), propose(space, n - n // 2, rng, mode="boundary")])
    batch = space.decode(U)
    mask = space.relation_mask(batch)
    feasible = mask.all(axis=1) if mask.shape[1] else np.ones(batch.n, dtype=bool)
    frac = float(feasible.mean())
    rejected = [float(1.0 - mask[:, i].mean()) for i in range(len(space.hard))]
    rejection = [
        {"relation": r.source, "field": r.field, "rejected_fraction": rejected[i]}
        for i, r in enumerate(space.hard)
    ]
    if frac == 0.0:
        worst = max(range(len(space.hard)), key=lambda i: rejected[i])
        r = space.hard[worst]
        alone = rejected[worst]
        reason = (
            f"no point of the space satisfies every hard relation; '{r.source}' rejects "
            f"{alone:.1%} of {batch.n} samples"
        )
        if alone < 1.0:
            reason += " (the relations are each satisfiable but contradict each other)"
        raise Unsatisfiable(
            [
                FieldProblem(
                    r.field,
                    reason,
                    hint="relax this relation or widen the ranges it uses",
                    extra={"relations": rejection},
                )
            ]
        )
    out: dict[str, Any] = {"feasible_fraction": frac, "samples": int(batch.n), "relations": rejection}
    if frac < LOW_FRACTION:
        out["warning"] = "very few points are feasible; suggestions rely on repair near the boundary"
    return out
