"""Test harness for the Lambda handlers: fixtures on disk, a fake context, a fresh "deployment".

A handler module builds its app at import, as Lambda does, so a test gets a fresh deployment by
setting the environment and re-importing the handlers (`load_handlers`). Every handler of one test
reads the same backend, like the Lambdas of one stage share one table and bucket.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# The Lambda tier needs the `aws` extra (and moto); without it these modules skip, visibly, instead of
# failing collection of the whole suite on a machine set up for the local runtime only.
for _module in ("mangum", "aws_lambda_powertools", "boto3", "moto"):
    pytest.importorskip(_module, reason="pip install -e '.[aws]' 'moto[dynamodb,s3,sqs]>=5'")

EVENTS = Path(__file__).resolve().parent
ROOT = EVENTS.parents[2]
if str(ROOT) not in sys.path:  # `functions` is a top-level package of the repository, not installed
    sys.path.insert(0, str(ROOT))
from infra_cdk import routes  # noqa: E402 - a plain table, no CDK import; needs ROOT on sys.path

ADMIN_TOKEN = "lambda-admin-token-0123456789"
HTTP_FUNCTIONS = routes.HTTP_GROUPS  # the functions the API routes to, listed once
REGION = "eu-west-1"
AWS_TABLE = "optiloop-test"
AWS_BUCKET = "optiloop-test-artifacts"


@dataclass
class FakeLambdaContext:
    """What Powertools reads from a real context (logger keys, cold-start dimension, idempotency's
    remaining-time check)."""

    function_name: str = "optiloop-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    log_group_name: str = "/aws/lambda/optiloop-test"
    log_stream_name: str = "2026/11/22/[$LATEST]0123456789abcdef"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 30_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def default_backend() -> str:
    """`aws` (DynamoDB + S3 under moto) once the core has that backend, else `local` (SQLite + a
    folder); OPTILOOP_LAMBDA_TEST_BACKEND picks one explicitly."""
    from optiloop.config import BACKENDS

    chosen = os.environ.get("OPTILOOP_LAMBDA_TEST_BACKEND")
    return chosen or ("aws" if "aws" in BACKENDS else "local")


def lambda_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, **extra: str) -> None:
    """The environment a deployed function has, on the local backend under `data_dir` (`extra`
    overrides, e.g. the aws backend's variables)."""
    env = {
        "OPTILOOP_BACKEND": "local",
        "OPTILOOP_DATA_DIR": str(data_dir),
        "OPTILOOP_ADMIN_TOKEN": ADMIN_TOKEN,
        "OPTILOOP_TENANT": "acme",
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",  # moto's fake credentials; never real ones
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        **extra,
    }
    for name in ("AWS_PROFILE", "AWS_LAMBDA_FUNCTION_NAME", "OPTILOOP_TABLE", "OPTILOOP_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@contextmanager
def deployment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, backend: str | None = None, **extra: str
) -> Iterator[str]:
    """One stage's backend and environment for the duration: on `aws`, a DynamoDB table and an S3
    bucket under moto, created the way local endpoints get them (CDK makes them in AWS). Yields the
    backend's name; anything else a test needs from AWS (e.g. an idempotency table) it creates inside."""
    backend = backend or default_backend()
    if backend == "local":
        lambda_env(monkeypatch, tmp_path / "data", **extra)
        yield backend
        return
    from moto import mock_aws

    from optiloop.store.factory import ensure_aws_resources

    lambda_env(
        monkeypatch,
        tmp_path / "data",
        OPTILOOP_BACKEND="aws",
        OPTILOOP_TABLE=AWS_TABLE,
        OPTILOOP_BUCKET=AWS_BUCKET,
        **extra,
    )
    with mock_aws():
        ensure_aws_resources(AWS_TABLE, AWS_BUCKET, region=REGION)
        yield backend


def load_handlers(names: Iterable[str]) -> dict[str, ModuleType]:
    """Import (or re-import) `functions.<name>.handler` under the current environment."""
    from functions.common import runtime

    runtime.process_deps.cache_clear()
    out: dict[str, ModuleType] = {}
    for name in names:
        mod_name = f"functions.{name}.handler"
        mod = sys.modules.get(mod_name)
        out[name] = importlib.reload(mod) if mod is not None else importlib.import_module(mod_name)
    return out


def logs_to_stdout(modules: Iterable[ModuleType]) -> None:
    """Point the handlers' Powertools loggers at the current sys.stdout (call it inside the test, where
    capsys captures): Powertools keeps one stream handler per service name across re-imports, bound
    to whatever stdout was when the service's first Logger was built."""
    for mod in modules:
        tools = getattr(mod, "tools", None)
        if tools is None:  # the inference function runs without Powertools (its cold-start budget)
            continue
        handler = tools.logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            if getattr(handler.stream, "closed", False):  # an earlier test's capture: cannot be flushed
                handler.stream = sys.stdout
            else:
                handler.setStream(sys.stdout)


def load_event(name: str, **subs: str) -> dict[str, Any]:
    """A fixture with its `{{placeholders}}` filled in (inside a base64 body too)."""
    event = json.loads((EVENTS / f"{name}.json").read_text())

    def fill(text: str) -> str:
        for k, v in subs.items():
            text = text.replace("{{" + k + "}}", v)
        left = re.findall(r"\{\{\w+\}\}", text)
        assert not left, f"{name}: no value for {left}"
        return text

    body, b64 = event.get("body"), event.get("isBase64Encoded")
    event["body"] = None
    event = json.loads(fill(json.dumps(event)))
    if body is not None:
        event["body"] = (
            base64.b64encode(fill(base64.b64decode(body).decode()).encode()).decode() if b64 else fill(body)
        )
    return event


def rest_event(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    content_type: str = "application/json",
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST proxy event for any route, on a recorded fixture's envelope (the JSON fixtures script the
    test-optimisation loop only). `resource` and `pathParameters` come from the CDK route table
    (infra_cdk/routes.py, plain data), so a path the table does not know fails here, as API Gateway
    would refuse it; a dict body is sent as JSON, a str as is."""
    from infra_cdk.routes import ROUTES

    resource, params = _route_of(method, path, [(r.method, r.path) for r in ROUTES])
    event = load_event("healthz")
    headers = dict(event["headers"])
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = content_type
        body = body if isinstance(body, str) else json.dumps(body)
    event.update(
        resource=resource,
        path=path,
        httpMethod=method,
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        pathParameters=params or None,
        body=body,
        isBase64Encoded=False,
    )
    event["requestContext"].update(
        httpMethod=method, resourcePath=resource, path=f"/prod{path}", requestId=str(uuid.uuid4())
    )
    return event


def _route_of(method: str, path: str, routes: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The route template a concrete path matches, literal segments first (as API Gateway picks
    `/v1/evals/run` over `/v1/evals/{eval_run_id}`), and the path parameters it binds."""
    parts = path.strip("/").split("/")
    best: tuple[int, str, dict[str, str]] | None = None
    for verb, template in routes:
        tparts = template.strip("/").split("/")
        if verb != method or len(tparts) != len(parts):
            continue
        params: dict[str, str] = {}
        literal = 0
        for t, p in zip(tparts, parts, strict=True):
            if t.startswith("{") and t.endswith("}"):
                params[t[1:-1]] = p
            elif t == p:
                literal += 1
            else:
                break
        else:
            if best is None or literal > best[0]:
                best = (literal, template, params)
    assert best is not None, f"no route {method} {path} in infra_cdk/routes.py"
    return best[1], best[2]


def invoke(handler: Any, event: dict[str, Any], function_name: str = "optiloop-test") -> dict[str, Any]:
    return handler(event, FakeLambdaContext(function_name=function_name))


def response_body(response: dict[str, Any]) -> Any:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    ctype = {k.lower(): v for k, v in (response.get("headers") or {}).items()}.get("content-type", "")
    return json.loads(body) if ctype.startswith("application/json") and body else body


def as_request(event: dict[str, Any]) -> dict[str, Any]:
    """The same HTTP request for a TestClient, from an API Gateway REST proxy event."""
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    return {
        "method": event["httpMethod"],
        "url": event["path"],
        "params": event.get("multiValueQueryStringParameters") or {},
        "headers": event.get("headers") or {},
        "content": body,
    }


class Ids:
    """Deterministic record ids, so two deployments fed the same requests name records alike.

    Starts at a random offset: the engine caches per-project state by (store, project id), and ids
    repeating across tests could meet a stale entry."""

    def __init__(self, start: int) -> None:
        self.n = start

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n:016x}"


_ID = re.compile(r"^[a-z]{3}_[0-9a-f]{16,32}$")
_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_HASH = re.compile(r"^[0-9a-f]{64}$")
VOLATILE_KEYS = {"request_id": "<request-id>", "key": "<secret>"}


class Normaliser:
    """Masks what differs between two correct deployments (audit ids and hashes, timestamps, request
    ids, freshly minted secrets) and keeps everything else, so equal output means equal behaviour.
    Ids map to their first-seen order, so "the same id in both places" still has to hold."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def __call__(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, str):
            return value
        if key in VOLATILE_KEYS:
            return VOLATILE_KEYS[key]
        if _ID.match(value):
            return self.ids.setdefault(value, f"<{value[:3]}#{len(self.ids)}>")
        if _TS.match(value):
            return "<ts>"
        if _HASH.match(value):
            return "<sha256>"
        return value


def emf_blobs(stdout: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric documents Powertools printed."""
    out = []
    for line in stdout.splitlines():
        if line.startswith('{"_aws"'):
            out.append(json.loads(line))
    return out


def metric_values(stdout: str, name: str) -> list[float]:
    values: list[float] = []
    for blob in emf_blobs(stdout):
        if name in blob:
            v = blob[name]
            values.extend(v if isinstance(v, list) else [v])
    return values


def metric_units(stdout: str) -> dict[str, str]:
    return {
        m["Name"]: m["Unit"]
        for blob in emf_blobs(stdout)
        for d in blob["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    }


def add_tests(deps: Any, project_id: str, n: int) -> list[str]:
    """Pending tests written straight to the store: these handlers' tests are about what happens to
    runs, not about what the suggestion engine would propose."""
    from optiloop.store.records import TestCase

    base = deps.store.tests.max_seq(project_id)
    tests = [
        TestCase(
            id=f"tst_{project_id[-8:]}_{base + i}",
            project_id=project_id,
            seq=base + i,
            params={"payload_kb": 8 * (base + i), "region": "eu"},
            score=0.0,
            generator="random",
            operator="uniform",
            suggestion_id="sug_fixture",
            predicted_cost=1.0,
            created_at="2026-11-22T00:00:00.000Z",
            space_version="sp-fixture",
        )
        for i in range(1, n + 1)
    ]
    with deps.store.transaction():
        deps.store.tests.add_many(tests)
    return [t.id for t in tests]


def add_runs(deps: Any, project_id: str, n: int) -> list[str]:
    """`n` new tests and their runs, through the real ingest use case."""
    from optiloop.auth.principal import OPERATOR
    from optiloop.testopt.ingest import RunReport, ingest_runs

    tids = add_tests(deps, project_id, n)
    reports = [
        RunReport(
            test_id=t,
            status="fail" if i % 3 == 2 else "pass",
            failure_severity=2 if i % 3 == 2 else 0,
            cost_cents=1.0,
            buckets_hit=(i, 100 + i),
        )
        for i, t in enumerate(tids)
    ]
    assert ingest_runs(deps, OPERATOR, project_id, reports)["accepted"] == n
    return tids
