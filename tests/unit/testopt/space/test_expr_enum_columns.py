"""Enum comparisons give the same answer on the decoder's unicode columns and on object columns."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.testopt.space.expr import parse
from optiloop.testopt.space.model import Param

PARAMS = {
    "region": Param("region", "string", enum=("us", "eu", "apac")),
    "cache": Param("cache", "boolean", enum=(False, True)),
}


@pytest.mark.parametrize(
    "src",
    [
        "region == 'eu'",
        "'eu' != region",
        "region in ['eu', 'apac']",
        "region not in ['us']",
        "if(region=='eu') then(cache) else(not cache)",
    ],
)
def test_unicode_and_object_columns_agree(src):
    rng = np.random.default_rng(0)
    values = np.asarray(["us", "eu", "apac"])[rng.integers(0, 3, 500)]
    cache = rng.random(500) < 0.5
    e = parse(src, PARAMS)
    uni = e.evaluate({"region": values, "cache": cache}, 500)
    obj = e.evaluate({"region": values.astype(object), "cache": cache}, 500)
    ref = np.array([eval_ref(src, str(r), bool(c)) for r, c in zip(values, cache, strict=True)])
    np.testing.assert_array_equal(uni, obj)
    np.testing.assert_array_equal(uni, ref)


def eval_ref(src: str, region: str, cache: bool) -> bool:
    return {
        "region == 'eu'": region == "eu",
        "'eu' != region": region != "eu",
        "region in ['eu', 'apac']": region in ("eu", "apac"),
        "region not in ['us']": region != "us",
        "if(region=='eu') then(cache) else(not cache)": cache if region == "eu" else not cache,
    }[src]


def test_decoded_enum_columns_are_unicode_and_json_values_plain_str():
    p = PARAMS["region"]
    col = p.decode(np.array([0.1, 0.5, 0.9]))
    assert col.dtype.kind == "U"
    assert [type(p.to_json_value(v)) for v in col] == [str, str, str]
