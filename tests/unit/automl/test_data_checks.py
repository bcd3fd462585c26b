"""The ingest checks one by one: the SQL statement guard, expectations, leaky columns, ordinal levels,
PII masking, bounds and the stored table's levels."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.automl import expectations, leakage, ordinal, pii_columns
from optiloop.automl.connectors import limits
from optiloop.automl.connectors.records import relative_path
from optiloop.automl.connectors.sqlguard import check_select
from optiloop.automl.infer import infer_table
from optiloop.automl.table import from_bytes
from optiloop.errors import InvalidInput


def fields(e: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [p.field for p in e.value.problems]


@pytest.mark.parametrize(
    "sql",
    [
        "select 1",
        "SELECT a, b FROM t WHERE c = 'drop table t; delete'",
        "with x as (select 1 as a) select a from x;",
        'select "update", updated_at, deleted from t -- delete',
        "select * from t /* insert */ order by 1",
        "values (1, 2)",
        "select $$ drop $$ as s",
    ],
)
def test_read_only_statements_pass(sql: str) -> None:
    assert check_select(sql) == sql.strip().rstrip(";").rstrip()


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("delete from t", "starts with DELETE"),
        ("insert into t values (1)", "starts with INSERT"),
        ("select 1; drop table t", "more than one statement"),
        ("select 1;; select 2", "more than one statement"),
        ("select * into t2 from t", "INTO"),
        ("with d as (delete from t returning *) select * from d", "DELETE"),
        ("select * from t for update", "locks rows"),
        ("select * from t for share", "locks rows"),
        ("pragma writable_schema = 1", "starts with PRAGMA"),
        ("attach database 'x' as y", "starts with ATTACH"),
        ("select 'open", "unterminated"),
        ("select 1 /* open", "unterminated"),
        ("", "empty"),
        ("select 1 --\n; copy t to '/tmp/x'", "more than one statement"),
        ("select set_config('x', 'y', false)", None),  # no keyword: left to the read-only session
    ],
)
def test_writing_statements_are_refused(sql: str, why: str | None) -> None:
    if why is None:
        check_select(sql)
        return
    with pytest.raises(InvalidInput) as e:
        check_select(sql)
    assert fields(e) == ["query"] and why in e.value.problems[0].reason


def table(**cols: list[object]) -> object:
    return infer_table({k: list(v) for k, v in cols.items()})


def test_expectations_validate_and_check() -> None:
    with pytest.raises(InvalidInput) as e:
        expectations.validate(
            [
                {"expect": "nope", "column": "a"},
                {"expect": "range", "column": "a"},
                {"expect": "type", "column": "a", "type": "blob"},
                {"expect": "unique", "column": "a", "values": [1]},
                {"expect": "not_null", "column": "a", "min_fraction": 2},
            ]
        )
    assert fields(e) == [
        "expectations[0].expect",
        "expectations[1]",
        "expectations[2].type",
        "expectations[3]",
        "expectations[4].min_fraction",
    ]
    t = table(a=[1, 2, 3, None], b=["x", "y", "x", "z"])
    spec = expectations.validate(
        [
            {"expect": "column_exists", "column": "c"},
            {"expect": "type", "column": "a", "type": "numeric"},
            {"expect": "not_null", "column": "a", "min_fraction": 0.75},
            {"expect": "not_null", "column": "a"},
            {"expect": "range", "column": "a", "min": 1, "max": 2},
            {"expect": "allowed_values", "column": "b", "values": ["x", "y"]},
            {"expect": "unique", "column": "b"},
        ]
    )
    got = expectations.check(t, spec)  # type: ignore[arg-type]
    assert [r["passed"] for r in got] == [False, True, True, False, False, False, False]
    assert got[5]["observed"] == ["z"] and got[6]["observed"] == 1
    with pytest.raises(InvalidInput) as e:
        expectations.check(t, [{**spec[0], "severity": "error"}, spec[1]])  # type: ignore[arg-type]
    assert fields(e) == ["expectations[0]"]


def test_leaks_against_a_classification_target() -> None:
    rng = np.random.default_rng(0)
    n = 200
    y = rng.integers(0, 2, n)
    noise = rng.normal(size=n)
    near = y * 10 + rng.normal(scale=0.1, size=n)  # a threshold separates the classes
    almost = y.copy()
    almost[:2] = 1 - almost[:2]  # 99% the target
    t = table(
        y=[["no", "yes"][v] for v in y],
        noise=noise.tolist(),
        near=near.tolist(),
        almost=[["a", "b"][v] for v in almost],
        rowid=list(range(n)),
        cat=[["p", "q", "r"][i % 3] for i in range(n)],
    )
    leaks = {x["column"]: x for x in leakage.find_leaks(t, "y")}  # type: ignore[arg-type]
    assert set(leaks) == {"near", "almost"}
    assert leaks["almost"]["score"] == pytest.approx(0.99)


def test_an_imbalanced_target_does_not_make_every_column_leaky() -> None:
    y = [1] * 990 + [0] * 10
    t = table(y=y, c=[["a", "b"][i % 2] for i in range(1000)])
    assert leakage.find_leaks(t, "y") == []  # type: ignore[arg-type]


def test_leaks_against_a_regression_target() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=300)
    t = table(
        y=y.tolist(),
        doubled=(2 * y + 1).tolist(),
        monotone=np.exp(y).tolist(),
        noise=rng.normal(size=300).tolist(),
        group=[["a", "b", "c"][i % 3] for i in range(300)],
    )
    assert {x["column"] for x in leakage.find_leaks(t, "y")} == {"doubled", "monotone"}  # type: ignore[arg-type]


def test_ordinal_levels_recognised_declared_and_stored() -> None:
    t = table(
        size=["S", "M", "L", "M", None, "XL"],
        level=["Low", "High", "Medium", "low", "high", "medium"],  # case differs: not one spelling each
        rating=[1, 2, 3, 2, 1, 3],
        color=["red", "blue", "red", "blue", "red", "blue"],
    )
    done = ordinal.apply(t, {"rating": ["1", "2", "3"]})  # type: ignore[arg-type]
    assert done == [
        {"column": "size", "levels": ["S", "M", "L", "XL"], "how": "recognised"},
        {"column": "rating", "levels": ["1", "2", "3"], "how": "declared"},
    ]
    size = t.column("size")  # type: ignore[attr-defined]
    assert size.type == "ordinal" and ordinal.rank(size)[:4].tolist() == [0.0, 1.0, 2.0, 1.0]
    assert t.column("level").type == "categorical" and t.column("color").type == "categorical"  # type: ignore[attr-defined]
    back = from_bytes(t.to_bytes())  # type: ignore[attr-defined]
    assert back.column("size").levels == ("S", "M", "L", "XL") and back.fingerprint() == t.fingerprint()  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as e:
        ordinal.apply(table(size=["S", "M", "XXL?"]), {"size": ["S", "M"]})  # type: ignore[arg-type]
    assert fields(e) == ["ordinal.size"]
    with pytest.raises(InvalidInput) as e:
        ordinal.check_declared({"a": ["x"]})
    assert fields(e) == ["ordinal.a"]


def test_a_table_without_levels_keeps_its_old_fingerprint() -> None:
    """Tables stored before ordinal columns existed name the same content the same way."""
    import hashlib
    import json

    from optiloop.automl.table import FORMAT

    t = table(a=[1.0, 2.0], b=["x", "y"])
    h = hashlib.sha256(FORMAT.encode())
    for c in t.columns:  # type: ignore[attr-defined]
        h.update(json.dumps([c.name, c.type]).encode())
        h.update(np.ascontiguousarray(c.values).tobytes())
        h.update(np.ascontiguousarray(c.missing).tobytes())
    assert t.fingerprint() == "sha256:" + h.hexdigest()  # type: ignore[attr-defined]


def pii_table() -> object:
    return table(
        contact=["write to ann@example.com", "call +44 20 7946 0958", "nothing here", None] * 6,
        email=[f"user{i}@example.org" for i in range(24)],
        city=["Paris", "Lyon", "Nice"] * 8,
    )


def test_pii_report_mask_hash_and_drop() -> None:
    t = pii_table()
    rep = pii_columns.scan_and_apply(t, pii_columns.validate(None), b"k")  # type: ignore[arg-type]
    by = {x["column"]: x for x in rep["columns"]}
    assert by["contact"]["kinds"] == {"email": 6, "phone": 6} and by["contact"]["action"] == "report"
    assert by["email"]["cells"] == 24 and by["city"]["cells"] == 0 and by["city"]["action"] == "none"
    assert t.column("contact").values[0] == "write to ann@example.com"  # type: ignore[attr-defined]

    t = pii_table()
    policy = pii_columns.validate({"action": "mask", "columns": {"email": "hash", "city": "drop"}})
    rep = pii_columns.scan_and_apply(t, policy, lambda: b"key-1")  # type: ignore[arg-type]
    assert t.column("contact").values[:3].tolist() == ["write to [EMAIL]", "call [PHONE]", "nothing here"]  # type: ignore[attr-defined]
    hashed = t.column("email").values.tolist()  # type: ignore[attr-defined]
    assert all(h.startswith("[EMAIL:") and len(h) == len("[EMAIL:]") + 16 for h in hashed)
    assert len(set(hashed)) == 24 and t.column("city") is not None and rep["dropped"] == []  # type: ignore[attr-defined]
    again = pii_table()
    pii_columns.scan_and_apply(again, policy, lambda: b"key-1")  # type: ignore[arg-type]
    assert again.column("email").values.tolist() == hashed  # type: ignore[attr-defined]
    other = pii_table()
    pii_columns.scan_and_apply(other, policy, lambda: b"key-2")  # type: ignore[arg-type]
    assert other.column("email").values.tolist() != hashed  # type: ignore[attr-defined]

    t = pii_table()
    rep = pii_columns.scan_and_apply(t, pii_columns.validate({"action": "drop"}), b"k")  # type: ignore[arg-type]
    assert rep["dropped"] == ["contact", "email"] and t.names == ["city"]  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput) as e:
        pii_columns.validate({"action": "shred"})
    assert fields(e) == ["pii.action"]
    with pytest.raises(InvalidInput) as e:
        pii_columns.scan_and_apply(pii_table(), pii_columns.validate({"columns": {"x": "mask"}}), b"k")  # type: ignore[arg-type]
    assert fields(e) == ["pii.columns.x"]


def test_bounds_are_capped_by_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTILOOP_INGEST_MAX_BYTES", "1000")
    monkeypatch.setenv("OPTILOOP_INGEST_TIMEOUT_S", "5")
    b = limits.bounds(None, None, None)
    assert (b.max_bytes, b.timeout_s) == (1000, 5.0)
    with pytest.raises(InvalidInput) as e:
        limits.bounds(0, 1001, 6)
    assert fields(e) == ["max_rows", "max_bytes", "timeout_s"]


@pytest.mark.parametrize("bad", ["../x", "a/../../b", "/etc/passwd", "a\\b", "a\x00b", "x" * 1025])
def test_relative_paths_stay_inside(bad: str) -> None:
    with pytest.raises(InvalidInput):
        relative_path(bad, "path")


def test_relative_paths_normalise() -> None:
    assert relative_path("a//./b/", "path").as_posix() == "a/b"
    assert relative_path("", "path").parts == ()


def test_pii_scans_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pii_columns, "MASK_BUDGET", 29)
    monkeypatch.setattr(pii_columns, "REPORT_SAMPLE", 10)
    monkeypatch.setattr(pii_columns, "REPORT_BUDGET", 15)
    with pytest.raises(InvalidInput) as e:  # 3 + 24 + 3 distinct values to mask: refused before any is read
        pii_columns.scan_and_apply(pii_table(), pii_columns.validate({"action": "mask"}), b"k")  # type: ignore[arg-type]
    assert fields(e) == ["pii"] and "30 distinct values" in e.value.problems[0].reason
    rep = pii_columns.scan_and_apply(pii_table(), pii_columns.validate(None), b"k")  # type: ignore[arg-type]
    read = {x["column"]: (x["scanned_values"], x["sampled"]) for x in rep["columns"]}
    assert read == {"contact": (3, False), "email": (10, True), "city": (2, True)}  # the budget ran out
    t = pii_table()
    rep = pii_columns.scan_and_apply(t, pii_columns.validate({"columns": {"email": "drop"}}), b"k")  # type: ignore[arg-type]
    email = next(x for x in rep["columns"] if x["column"] == "email")
    assert email["scanned_values"] == 1 and email["action"] == "drop" and t.column("email") is None  # type: ignore[attr-defined]


def test_malformed_connector_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from optiloop.config import ConfigError

    for name, value in (
        ("OPTILOOP_INGEST_MAX_BYTES", "lots"),
        ("OPTILOOP_INGEST_MAX_BYTES", str(2 * 1024**3)),
        ("OPTILOOP_INGEST_TIMEOUT_S", "0"),
        ("OPTILOOP_CONNECTOR_ROOT", "/no/such/folder"),
    ):
        with monkeypatch.context() as m:
            m.setenv(name, value)
            with pytest.raises(ConfigError, match=name):
                limits.check_env()
