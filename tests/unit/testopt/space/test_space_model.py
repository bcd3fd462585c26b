"""Space: decoding is always valid, discrete values round-trip, feasibility means what the relations say."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optiloop.testopt.space import Space, build_space
from optiloop.testopt.space.schema import ConstraintDoc

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def space_of(params: dict[str, Any], relations: list[str] | None = None) -> Space:
    js: dict[str, Any] = {"params": params}
    if relations:
        js["relations"] = relations
    return build_space([ConstraintDoc(name="base", type="hard", weight=0.0, json_schema=js)])


EXAMPLE = space_of(
    {
        "qps": {"type": "integer", "min": 1, "max": 5000},
        "region": {"type": "string", "enum": ["us", "eu", "apac"]},
        "payload_kb": {"type": "number", "min": 0.1, "max": 512},
        "cache": {"type": "boolean"},
    },
    ["if(region=='eu') then(payload_kb<=256.0)", "qps * payload_kb <= 1.0e6"],
)


# -- random spaces: decode is in range and typed; discrete values survive encode -> decode ------


@st.composite
def param_spec(draw: st.DrawFn) -> dict[str, Any]:
    t = draw(st.sampled_from(["integer", "number", "string", "boolean"]))
    if t == "integer":
        log = draw(st.booleans())
        lo = draw(st.integers(1 if log else -(10**6), 10**6))
        hi = lo + draw(st.sampled_from([0, 1, 2, 9, 1000, 10**6]))
        return {"type": t, "min": lo, "max": hi, "log": log}
    if t == "number":
        log = draw(st.booleans())
        lo = draw(st.floats(1e-6, 1e6) if log else st.floats(-1e9, 1e9))
        hi = lo + draw(st.sampled_from([0.0, 1e-9, 0.1, 1.0, 1e3, 1e9]))
        return {"type": t, "min": lo, "max": hi, "log": log}
    if t == "string":
        enum = draw(st.lists(st.text("abcxyz", min_size=1, max_size=4), min_size=1, max_size=7, unique=True))
        return {"type": t, "enum": enum}
    return {"type": t}


@st.composite
def space_and_points(draw: st.DrawFn) -> tuple[Space, np.ndarray]:
    specs = draw(st.lists(param_spec(), min_size=1, max_size=6))
    space = space_of({f"p{i}": s for i, s in enumerate(specs)})
    n = draw(st.integers(1, 30))
    unit = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 0.5, 1.0, np.nextafter(1.0, 0.0), 1e-12]))
    row = st.lists(unit, min_size=space.dim, max_size=space.dim)
    U = np.array(draw(st.lists(row, min_size=n, max_size=n)))
    return space, U


def assert_valid(space: Space, cols: dict[str, np.ndarray], n: int) -> None:
    for p in space.params:
        v = cols[p.name]
        assert v.shape == (n,)
        if p.type == "boolean":
            assert v.dtype == bool
        elif p.type == "string":
            assert all(x in p.enum for x in v)  # type: ignore[operator]
        else:
            assert v.dtype == np.float64
            assert np.isfinite(v).all()
            assert (v >= p.low).all() and (v <= p.high).all(), (p, v)
            if p.type == "integer":
                assert (v == np.floor(v)).all()


@SETTINGS
@given(case=space_and_points())
def test_decode_is_always_in_range_and_typed(case: tuple[Space, np.ndarray]) -> None:
    space, U = case
    batch = space.decode(U)
    assert batch.n == len(U)
    assert_valid(space, batch.cols, batch.n)
    for p in space.params:  # the per-param decoder agrees with the batched one
        i = space.index[p.name]
        assert_valid(space, {**batch.cols, p.name: p.decode(U[:, i])}, batch.n)


@SETTINGS
@given(case=space_and_points())
def test_out_of_cube_and_nan_coordinates_still_decode_validly(case: tuple[Space, np.ndarray]) -> None:
    space, U = case
    W = U * 3.0 - 1.0
    W[0, 0] = np.nan
    batch = space.decode(W)
    assert_valid(space, batch.cols, batch.n)
    space.to_dicts(batch)


@SETTINGS
@given(case=space_and_points())
def test_discrete_values_round_trip(case: tuple[Space, np.ndarray]) -> None:
    space, U = case
    batch = space.decode(U)
    again = space.decode(space.snap(U))
    for p in space.params:
        v, w = batch.cols[p.name], again.cols[p.name]
        if p.n_levels is not None:
            assert (v == w).all(), p
            assert (p.decode(p.encode(v)) == v).all(), p  # the per-param encode/decode pair too
        else:
            np.testing.assert_allclose(w, v, rtol=1e-9, atol=1e-9 * max(1.0, abs(p.high - p.low)))


@SETTINGS
@given(case=space_and_points())
def test_stored_tests_encode_back_to_the_same_values(case: tuple[Space, np.ndarray]) -> None:
    space, U = case
    batch = space.decode(U)
    dicts = space.to_dicts(batch)
    back = space.decode(space.encode_dicts(dicts))
    for p in space.params:
        if p.n_levels is not None:
            assert (back.cols[p.name] == batch.cols[p.name]).all(), p


def test_snap_is_idempotent_and_pins_inactive_params() -> None:
    space = space_of(
        {"cache": {"type": "boolean"}, "size": {"type": "integer", "min": 1, "max": 9, "active_if": "cache"}}
    )
    U = np.random.default_rng(1).random((64, 2))
    S = space.snap(U)
    np.testing.assert_array_equal(space.snap(S), S)
    assert (S[S[:, 0] < 0.5, 1] == 0.5).all()


# -- conditional params ---------------------------------------------------------------------------

CONDITIONAL = space_of(
    {
        "cache": {"type": "boolean"},
        "cache_size": {"type": "integer", "min": 1, "max": 100, "active_if": "cache"},
        "qps": {"type": "integer", "min": 1, "max": 10},
    },
    ["cache_size <= 10", "qps >= 2"],
)


def test_inactive_params_are_omitted_by_to_dicts() -> None:
    batch = CONDITIONAL.decode(np.array([[0.2, 0.5, 0.5], [0.8, 0.5, 0.5]]))
    assert CONDITIONAL.to_dicts(batch) == [
        {"cache": False, "qps": 6},
        {"cache": True, "cache_size": 51, "qps": 6},
    ]
    d = CONDITIONAL.to_dicts(batch)[1]
    assert type(d["cache"]) is bool and type(d["cache_size"]) is int


def test_relations_on_inactive_params_count_as_satisfied() -> None:
    U = np.array(
        [
            [0.2, 0.99, 0.5],  # cache off: cache_size (100) does not exist, so `cache_size <= 10` holds
            [0.8, 0.99, 0.5],  # cache on, cache_size 100 > 10
            [0.8, 0.01, 0.5],  # cache on, cache_size 1
            [0.2, 0.99, 0.0],  # qps == 1 breaks the other relation
        ]
    )
    batch = CONDITIONAL.decode(U)
    mask = CONDITIONAL.relation_mask(batch).tolist()
    assert mask == [[True, True], [False, True], [True, True], [True, False]]
    assert CONDITIONAL.feasible(batch).tolist() == [True, False, True, False]


def test_feasible_dicts_of_stored_tests() -> None:
    points = [
        {"cache": False, "qps": 5},
        {"cache": True, "cache_size": 50, "qps": 5},
        {"cache": True, "cache_size": 5, "qps": 5},
    ]
    assert CONDITIONAL.feasible_dicts(points).tolist() == [True, False, True]


def test_encode_dicts_drops_only_values_that_no_longer_fit() -> None:
    space = space_of(
        {
            "qps": {"type": "integer", "min": 1, "max": 10},
            "rate": {"type": "number", "min": 0.1, "max": 10, "log": True},
        }
    )
    U = space.encode_dicts([{"qps": 3, "rate": -1.0}, {"qps": "many", "rate": 1.0}, {"qps": 4, "rate": [1]}])
    assert np.isfinite(U).all()
    cols = space.decode(U).cols
    assert cols["qps"][0] == 3 and cols["qps"][2] == 4  # a bad value in row 1 does not drop rows 0 and 2
    assert math.isclose(cols["rate"][1], 1.0)


# -- feasibility agrees with a plain Python reading of the relations -----------------------------


def reference_feasible(d: dict[str, Any]) -> bool:
    implication = d["region"] != "eu" or d["payload_kb"] <= 256.0
    return implication and d["qps"] * d["payload_kb"] <= 1.0e6


def test_feasible_matches_a_python_reference_on_the_example_space() -> None:
    U = np.random.default_rng(7).random((4000, EXAMPLE.dim))
    batch = EXAMPLE.decode(U)
    got = EXAMPLE.feasible(batch)
    want = np.array([reference_feasible(d) for d in EXAMPLE.to_dicts(batch)])
    np.testing.assert_array_equal(got, want)
    assert 0.05 < got.mean() < 0.95  # both outcomes are exercised


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(
            st.integers(1, 5000), st.sampled_from(["us", "eu", "apac"]), st.floats(0.1, 512), st.booleans()
        ),
        min_size=1,
        max_size=20,
    )
)
def test_feasible_dicts_matches_the_reference(rows: list[tuple[int, str, float, bool]]) -> None:
    points = [{"qps": q, "region": r, "payload_kb": p, "cache": c} for q, r, p, c in rows]
    got = EXAMPLE.feasible_dicts(points)
    # stored values are re-encoded, so compare against what they decode back to
    decoded = EXAMPLE.to_dicts(EXAMPLE.decode(EXAMPLE.encode_dicts(points)))
    assert [d["qps"] for d in decoded] == [q for q, _, _, _ in rows]
    assert got.tolist() == [reference_feasible(d) for d in decoded]
