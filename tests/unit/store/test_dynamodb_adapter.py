"""DynamoDB specifics the contract suites cannot see: the table's shape, exact numbers, key escaping,
parent checks, which reads are strongly consistent, and the wiring (factory, settings, CLI)."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

pytest.importorskip("moto")

from optiloop.config import ConfigError, Settings
from optiloop.errors import NotFound
from optiloop.store.dynamodb import DynamoStore, table_spec
from optiloop.store.dynamodb.codec import dec_int, enc_int, float_text
from optiloop.store.dynamodb.store import dynamodb_client
from optiloop.store.dynamodb.testing import create_table, mocked_aws
from optiloop.store.records import ApiKey, Constraint, Project, Run, TestCase

SPEC_FILE = Path(table_spec.__file__)
_names = itertools.count(1)


@pytest.fixture(scope="module")
def ddb() -> Iterator[Any]:
    with mocked_aws():
        yield dynamodb_client("us-east-1")


@pytest.fixture
def table(ddb: Any) -> str:
    name = f"unit-ad-{next(_names)}"
    create_table(ddb, name)
    return name


@pytest.fixture
def store(ddb: Any, table: str) -> DynamoStore:
    return DynamoStore(table, client=ddb)


def project(pid: str = "p1", **kw: Any) -> Project:
    return Project(pid, "name", "desc", "2025-01-01T00:00:00.000Z", "alice", **kw)


def mk_test(pid: str, seq: int, tid: str | None = None, **kw: Any) -> TestCase:
    t = TestCase(tid or f"{pid}_t{seq}", pid, seq, {"x": seq}, 0.5, "g", "op", "s1", 1.0, "t", "sv")
    return replace(t, **kw)


def run(test: TestCase, seq: int, **kw: Any) -> Run:
    r = Run(test.id, test.project_id, seq, "pass", 1.0, 1.0, 0, (1, 2), 1, "t", "fp")
    return replace(r, **kw)


# -- the table ----------------------------------------------------------------------------------


def test_the_created_table_is_the_documented_spec(ddb: Any, table: str) -> None:
    desc = ddb.describe_table(TableName=table)["Table"]
    assert desc["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in desc["AttributeDefinitions"]} == {
        a["AttributeName"]: "S" for a in table_spec.ATTRIBUTE_DEFINITIONS
    }
    indexes = {ix["IndexName"]: ix for ix in desc["GlobalSecondaryIndexes"]}
    for ix in table_spec.INDEXES:
        got = indexes[ix["name"]]
        assert [k["AttributeName"] for k in got["KeySchema"]] == [ix["partition_key"], ix["sort_key"]]
        assert got["Projection"]["ProjectionType"] == ix["projection"]
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == table_spec.TTL_ATTRIBUTE and ttl["TimeToLiveStatus"] == "ENABLED"


def test_the_spec_loads_by_path_without_boto3_or_optiloop() -> None:
    """The CDK app reads it at synth time, where neither is importable."""
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('s', {str(SPEC_FILE)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "m.create_table_kwargs('t')\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('boto3', 'botocore', 'optiloop')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_reading_the_spec_through_the_package_does_not_import_boto3() -> None:
    code = "import sys; import optiloop.store.dynamodb.table_spec; print('boto3' in sys.modules)"
    shared = str(Path(__file__).resolve().parents[3] / "shared")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": shared}
    )
    assert out.stdout.strip() == "False"


# -- numbers and keys -----------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
cents = st.floats(min_value=0.0, max_value=1e15)  # what the API accepts for a run's cost


# No shrinking: under moto each example takes a while, and a failure's inputs are clear enough.
@settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(a=finite, b=finite, c=finite, cost=cents)
@example(a=5e-324, b=-1.7976931348623157e308, c=-0.0, cost=2.2697078499133515e-200)
@example(a=1e-130, b=9.999999999999999e125, c=1e126, cost=1e15)
def test_float_fields_round_trip_bit_for_bit(
    store: DynamoStore, a: float, b: float, c: float, cost: float
) -> None:
    pid = f"p{next(_names)}"
    store.projects.add(project(pid, budget_cents=a))
    t = mk_test(pid, 1, score=b, predicted_cost=c)
    store.tests.add_many([t])
    store.runs.add_many([run(t, 1, duration_ms=c, cost_cents=cost)])
    got_p, got_t = store.projects.get(pid), store.tests.get_many(pid, [t.id])[t.id]
    got_r = store.runs.get_many(pid, [t.id])[t.id]
    assert got_p is not None
    pairs = [(a, got_p.budget_cents), (b, got_t.score), (c, got_t.predicted_cost), (c, got_r.duration_ms)]
    for want, have in [*pairs, (cost, got_r.cost_cents)]:
        assert have == want and (have.hex() == want.hex() or want == 0.0)  # DynamoDB may drop -0.0's sign
    assert store.runs.totals(pid)["cost_cents"] == pytest.approx(cost, rel=1e-15, abs=1e-9)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_refused_naming_the_field(store: DynamoStore, bad: float) -> None:
    store.projects.add(project())
    with pytest.raises(ValueError, match="score"):
        store.tests.add_many([mk_test("p1", 1, score=bad)])
    with pytest.raises(ValueError, match="budget_cents"):
        store.projects.set_budget("p1", bad)
    assert store.tests.max_seq("p1") == 0
    assert store.projects.get("p1") == project()


def test_floats_beyond_dynamodb_numbers_are_kept_as_text(ddb: Any, table: str, store: DynamoStore) -> None:
    store.projects.add(project(budget_cents=1e-200))
    store.projects.add(project("p2", budget_cents=0.25))
    raw = ddb.get_item(TableName=table, Key={"pk": {"S": "PROJECT"}, "sk": {"S": "p1"}})["Item"]
    assert raw["budget_cents"] == {"S": "1e-200"}
    raw = ddb.get_item(TableName=table, Key={"pk": {"S": "PROJECT"}, "sk": {"S": "p2"}})["Item"]
    assert raw["budget_cents"] == {"N": "0.25"}  # a number wherever DynamoDB can hold it


def test_json_fields_keep_what_numbers_cannot(store: DynamoStore) -> None:
    store.projects.add(project())
    params = {"tiny": 5e-324, "huge": 1.7976931348623157e308, "neg0": -0.0, "big": 2**70}
    t = mk_test("p1", 1, params=params)
    store.tests.add_many([t])
    assert store.tests.list_since("p1")[0].params == params


def test_sort_keys_order_numerically_across_the_int64_range() -> None:
    values = [-(2**63), -(10**12), -1, 0, 1, 9, 10, 2**53, 2**63 - 1]
    encoded = [enc_int(v) for v in values]
    assert sorted(encoded) == encoded and [dec_int(e) for e in encoded] == values
    with pytest.raises(ValueError):
        enc_int(2**63)
    with pytest.raises(ValueError):
        enc_int(True)  # type: ignore[arg-type]


def test_float_text_is_the_shortest_exact_repr() -> None:
    assert float_text(0.1, "x") == "0.1" and float(float_text(1 / 3, "x")) == 1 / 3


def test_ids_with_separators_never_share_a_key(store: DynamoStore) -> None:
    ids = ["a", "a#T", "a%23T", "a#TID#x", "a%", "#", "%"]
    for pid in ids:
        store.projects.add(project(pid))
        store.tests.add_many([mk_test(pid, 1, tid="x#T")])
        store.constraints.add(Constraint(f"c_{pid}", pid, "n#1", "hard", 1.0, {"p": pid}, 1, "t", "u"))
    for pid in ids:
        assert [t.project_id for t in store.tests.list_since(pid)] == [pid]
        assert [c.json_schema for c in store.constraints.history(pid, "n#1")] == [{"p": pid}]
        assert store.constraints.history(pid, "n") == []
    assert [p.id for p in store.projects.list()] == sorted(ids)


def test_run_cost_totals_are_summed_to_a_billionth_of_a_cent(store: DynamoStore) -> None:
    store.projects.add(project())
    tests = [mk_test("p1", s) for s in range(1, 4)]
    store.tests.add_many(tests)
    store.runs.add_many([run(tests[0], 1, cost_cents=1e20), run(tests[1], 2, cost_cents=0.1)])
    store.runs.add_many([run(tests[2], 3, cost_cents=1e-12, status="fail")])
    assert store.runs.totals("p1") == {"runs": 3, "cost_cents": 1e20 + 0.1, "failures": 1}
    store.tests.add_many([mk_test("p1", 4)])
    with pytest.raises(ValueError, match="too large to total"):  # the API caps a cost at 1e15 cents
        store.runs.add_many([run(mk_test("p1", 4), 4, cost_cents=1e30)])


# -- integrity ------------------------------------------------------------------------------------


def test_records_must_reference_existing_parents(store: DynamoStore) -> None:
    store.projects.add(project("p1"))
    store.projects.add(project("p2"))
    with pytest.raises(NotFound):
        store.tests.add_many([mk_test("nope", 1)])
    with pytest.raises(NotFound):
        store.constraints.add(Constraint("c1", "nope", "c", "hard", 1.0, {}, 1, "t", "u"))
    with pytest.raises(NotFound):
        store.keys.add(ApiKey("k1", "h1", "bob", "viewer", "nope", "t", "u"))
    t = mk_test("p1", 1)
    store.tests.add_many([t])
    with pytest.raises(NotFound):
        store.runs.add_many([run(mk_test("p1", 2), 1)])  # no such test
    with pytest.raises(NotFound):
        store.runs.add_many([Run(t.id, "p2", 1, "pass", 1.0, 1.0, 0, (), 0, "t", "fp")])  # a test of p1
    assert store.runs.totals("p1")["runs"] == 0
    assert store.keys.count() == 0


def test_invalid_values_are_refused(store: DynamoStore) -> None:
    store.projects.add(project())
    t = mk_test("p1", 1)
    store.tests.add_many([t])
    with pytest.raises(ValueError):
        store.runs.add_many([run(t, 1, status="exploded")])
    with pytest.raises(ValueError):
        store.keys.add(ApiKey("k1", "h1", "bob", "god", None, "t", "u"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.constraints.add(Constraint("c1", "p1", "c", "medium", 1.0, {}, 1, "t", "u"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.projects.add(project(""))
    with pytest.raises(ValueError):
        store.tests.add_many([mk_test("p1", 2, generator=None)])  # type: ignore[arg-type]
    assert store.tests.max_seq("p1") == 1 and store.runs.totals("p1")["runs"] == 0


def test_run_conflict_names_the_clashing_tests(store: DynamoStore) -> None:
    from optiloop.errors import Conflict

    store.projects.add(project())
    tests = [mk_test("p1", s) for s in (1, 2, 3)]
    store.tests.add_many(tests)
    store.runs.add_many([run(tests[1], 1)])
    with pytest.raises(Conflict) as caught:
        store.runs.add_many([run(tests[0], 2), run(tests[1], 3)])
    assert caught.value.details == [{"field": "test_id", "reason": "run exists", "test_id": tests[1].id}]


# -- which reads are consistent ------------------------------------------------------------------


def test_authentication_and_history_never_read_a_gsi(
    store: DynamoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GSIs are eventually consistent on AWS: a revoked key must stop working at once."""
    store.projects.add(project())
    k = ApiKey("k1", "h1", "bob", "viewer", "p1", "t", "u")
    store.keys.add(k)
    t = mk_test("p1", 1)
    store.tests.add_many([t])
    store.runs.add_many([run(t, 1)])
    calls: list[dict[str, Any]] = []
    client = store.table.client
    real_query = client.query

    def query(**kw: Any) -> Any:
        calls.append(kw)
        return real_query(**kw)

    monkeypatch.setattr(client, "query", query)
    store.keys.revoke("k1")
    assert store.keys.get_by_hash("h1") == replace(k, revoked=True)
    store.tests.list_since("p1"), store.tests.get_many("p1", [t.id]), store.runs.list_since("p1")
    store.runs.totals("p1"), store.tests.max_seq("p1"), store.projects.list(), store.audit.list()
    assert calls and all("IndexName" not in c and c["ConsistentRead"] for c in calls)


# -- wiring ---------------------------------------------------------------------------------------


def test_open_aws_and_ensure_aws_resources(ddb: Any) -> None:
    from optiloop.store.dynamodb.store import DynamoStore as Store
    from optiloop.store.factory import ensure_aws_resources, open_aws
    from optiloop.store.s3_blobs import S3BlobStore

    assert ensure_aws_resources("unit-wired", "unit-wired-bucket") == {"table": True, "bucket": True}
    assert ensure_aws_resources("unit-wired", "unit-wired-bucket") == {"table": False, "bucket": False}
    store, blobs = open_aws("unit-wired", "unit-wired-bucket")
    assert isinstance(store, Store) and isinstance(blobs, S3BlobStore)
    store.projects.add(project())
    blobs.put("a/b", b"1")
    assert store.projects.get("p1") == project() and blobs.list() == ["a/b"]


def test_settings_for_the_aws_backend() -> None:
    env = {"OPTILOOP_BACKEND": "aws", "OPTILOOP_TABLE": "t-1", "OPTILOOP_BUCKET": "b-1"}
    s = Settings.from_env(env)
    assert (s.backend, s.table, s.bucket, s.aws_endpoint) == ("aws", "t-1", "b-1", None)
    s = Settings.from_env({**env, "OPTILOOP_AWS_ENDPOINT": "http://127.0.0.1:5000"})
    assert s.aws_endpoint == "http://127.0.0.1:5000"
    with pytest.raises(ConfigError, match="OPTILOOP_TABLE"):
        Settings.from_env({"OPTILOOP_BACKEND": "aws", "OPTILOOP_BUCKET": "b-1"})
    with pytest.raises(ConfigError, match="OPTILOOP_BUCKET"):
        Settings.from_env({**env, "OPTILOOP_BUCKET": "Not_A_Bucket"})
    with pytest.raises(ConfigError, match="OPTILOOP_AWS_ENDPOINT"):
        Settings.from_env({**env, "OPTILOOP_AWS_ENDPOINT": "127.0.0.1:5000"})


def test_build_deps_for_aws(ddb: Any) -> None:
    from optiloop.runtime import build_deps
    from optiloop.store.factory import ensure_aws_resources
    from optiloop.store.s3_blobs import S3BlobStore

    ensure_aws_resources("unit-deps", "unit-deps")
    deps = build_deps(Settings(backend="aws", table="unit-deps", bucket="unit-deps"))
    assert isinstance(deps.store, DynamoStore) and isinstance(deps.blobs, S3BlobStore)
    assert deps.store.table_name == "unit-deps" and deps.blobs.bucket == "unit-deps"


def test_serve_flags_default_table_and_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    from optiloop.cli.main import _parser, _serve_settings

    for var in ("OPTILOOP_BACKEND", "OPTILOOP_TABLE", "OPTILOOP_BUCKET", "OPTILOOP_AWS_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    args = _parser().parse_args(["serve", "--backend", "aws", "--aws-endpoint", "http://127.0.0.1:5000"])
    s = _serve_settings(args)
    assert (s.backend, s.table, s.bucket, s.aws_endpoint) == (
        "aws",
        "optiloop-local",
        "optiloop-local",
        "http://127.0.0.1:5000",
    )
    args = _parser().parse_args(["serve", "--backend", "aws", "--table", "t-2", "--bucket", "b-2"])
    assert (_serve_settings(args).table, _serve_settings(args).bucket) == ("t-2", "b-2")
    assert _serve_settings(_parser().parse_args(["serve"])).backend == "local"
