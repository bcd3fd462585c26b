"""The offline fallback: n seeded random feasible cases drawn locally, with the platform's own space.

It uses the same constraint language and feasible sampler as the server's `random` generator, so
an offline case satisfies every hard relation exactly as a suggested one would, and the same seed
gives the same cases. Imported only when a fallback is needed (it loads numpy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from optiloop.errors import InvalidInput
from optiloop.testopt.sampling.feasible import sample_feasible
from optiloop.testopt.space import Space
from optiloop.testopt.space.schema import ConstraintDoc, build_space


def space_from_doc(doc: Mapping[str, Any]) -> Space:
    """A hard constraint document as the API takes it; raises ValueError naming every problem."""
    try:
        return build_space(
            [ConstraintDoc(name="space", type="hard", weight=1.0, json_schema=dict(doc), field="space")]
        )
    except InvalidInput as e:
        raise ValueError(f"space= is not a valid constraint document: {e.message}") from None


def random_cases(space: Space, n: int, seed: int) -> list[dict[str, Any]]:
    """Up to n feasible cases (fewer only if the space is so tight that repair finds no more)."""
    U = sample_feasible(space, n, np.random.default_rng(seed), mode="uniform")
    return space.to_dicts(space.decode(U))
