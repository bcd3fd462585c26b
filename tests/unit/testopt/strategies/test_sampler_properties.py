"""Property: whatever the space, samplers never emit an infeasible point.

Spaces are random (numeric, integer, enum and boolean params) with random linear relations,
implications and enum memberships. Feasibility of every emitted point is re-checked by plain
Python on the decoded values, independently of the vectorised evaluator.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optiloop.errors import InvalidInput
from optiloop.testopt.sampling.feasible import push_to_edges, sample_feasible
from optiloop.testopt.space.schema import ConstraintDoc, build_space

NUMS = ["a", "b", "c"]


@st.composite
def spaces(draw):
    params, checks, rels = {}, [], []
    for name in NUMS:
        lo = draw(st.integers(-50, 50))
        hi = lo + draw(st.integers(0, 200))
        if draw(st.booleans()):
            params[name] = {"type": "integer", "min": lo, "max": hi}
        else:
            params[name] = {"type": "number", "min": float(lo), "max": float(hi)}
    params["mode"] = {"type": "string", "enum": ["x", "y", "z"]}
    params["flag"] = {"type": "boolean"}
    for _ in range(draw(st.integers(0, 3))):
        i, j = draw(st.sampled_from(NUMS)), draw(st.sampled_from(NUMS))
        ci, cj = draw(st.integers(-3, 3)), draw(st.integers(-3, 3))
        bound = draw(st.integers(-100, 300))
        kind = draw(st.sampled_from(["lin", "imp", "enum"]))
        if kind == "lin":
            rels.append(f"{ci} * {i} + {cj} * {j} <= {bound}")
            checks.append(lambda p, i=i, j=j, ci=ci, cj=cj, b=bound: ci * p[i] + cj * p[j] <= b)
        elif kind == "imp":
            m = draw(st.sampled_from(["x", "y", "z"]))
            rels.append(f"if(mode=='{m}') then({i} <= {bound})")
            checks.append(lambda p, i=i, m=m, b=bound: p["mode"] != m or p[i] <= b)
        else:
            allowed = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=2, unique=True))
            rels.append(f"if(flag) then(mode in {allowed!r})".replace('"', "'"))
            checks.append(lambda p, allowed=allowed: not p["flag"] or p["mode"] in allowed)
    return {"params": params, "relations": rels}, checks


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spaces(), st.integers(0, 2**31), st.sampled_from(["uniform", "mixed", "boundary"]))
def test_samplers_never_emit_infeasible_points(space_and_checks, seed, mode):
    schema, checks = space_and_checks
    try:
        space = build_space([ConstraintDoc("s", "hard", 0.0, schema)])
    except InvalidInput:
        return  # e.g. a relation that folds to a constant error; the parser's own tests cover it
    rng = np.random.default_rng(seed)
    U = sample_feasible(space, 64, rng, mode=mode)
    U = np.vstack([U, push_to_edges(space, U, rng, 2)]) if len(U) else U
    for p in space.to_dicts(space.decode(U)):
        for name, spec in schema["params"].items():
            if spec["type"] in ("integer", "number"):
                assert spec["min"] <= p[name] <= spec["max"]
                if spec["type"] == "integer":
                    assert isinstance(p[name], int)
        assert all(check(p) for check in checks), (schema["relations"], p)
