"""The pytest plugin end to end: a real `optiloop serve`, inner pytest sessions (pytester, in process)
that load the plugin through its installed pytest11 entry point, and the runs as the server stored them.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpcore  # noqa: F401 - see below
import pytest
import requests

import optiloop.testopt.pytest_plugin.client  # noqa: F401 - see below
from optiloop.testopt.pytest_plugin.fallback import space_from_doc

# Loaded here, before any inner session: pytester drops the modules first imported inside an inner
# session when it ends, and httpx caches httpcore's exception classes on first use, so an httpcore
# imported afresh by a later inner session would raise exceptions httpx no longer recognises.

pytest_plugins = ["pytester"]

TOKEN = "e2e-plugin-admin-token-0123456789abcdef"
SPACE: dict[str, Any] = {
    "params": {
        "qps": {"type": "integer", "min": 1, "max": 100},
        "region": {"type": "string", "enum": ["eu", "us", "ap"]},
        "cache": {"type": "boolean"},
    },
    "relations": ["if(region == 'eu') then(qps <= 50)"],
}


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def feasible(params: list[dict[str, Any]]) -> bool:
    return bool(space_from_doc(SPACE).feasible_dicts(params).all()) and all(
        set(p) == {"qps", "region", "cache"} for p in params
    )


def no_server_url() -> str:
    """A port nothing listens on (bound, then released): connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


INNER = """
import optiloop
import pytest

SPACE = {space!r}
OLD_SPACE = {{"params": {{"qps": {{"type": "integer", "min": 1, "max": 10}}}}}}

@optiloop.parametrize(project="checkout", n=12, seed=5)
def test_checkout(params, optiloop_buckets):
    optiloop_buckets.append("checkout.py:" + str(params["qps"]))
    optiloop_buckets.append("region:" + params["region"])
    optiloop_buckets.append("")  # not a bucket: dropped with a warning, the rest is reported

@optiloop.parametrize(project="{pid}", n=2, generator="random", seed=1, fallback="random", space=SPACE)
@pytest.mark.optiloop_severity(7)
def test_refund(params, optiloop_buckets):
    optiloop_buckets.append("refund.py:1")
    assert params["qps"] < 0, "refund failed"

@optiloop.parametrize(
    project="checkout", n=3, argname="case", options={{"objectives": ["coverage_gain"]}}, space=OLD_SPACE
)
def test_sized(case, optiloop_run):
    optiloop_run.cost_cents = 2.5
    optiloop_run.severity = 9
    optiloop_run.buckets.append(1000 + case["qps"])
    if case["cache"]:
        pytest.skip("cache on: not this suite's business")
    assert False, "sized failed"

def test_plain():
    pass
"""


def test_suggests_runs_and_reports_to_a_real_server(
    serve: Callable, tmp_path: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = serve(tmp_path / "data", TOKEN)
    pid = requests.post(
        f"{s.url}/v1/projects", headers=h(TOKEN), json={"name": "checkout"}, timeout=5
    ).json()["id"]
    r = requests.post(
        f"{s.url}/v1/projects/{pid}/constraints",
        headers=h(TOKEN),
        json={"name": "base", "type": "hard", "json_schema": SPACE},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    key = requests.post(
        f"{s.url}/v1/api-keys",
        headers=h(TOKEN),
        json={"principal": "ci", "role": "contributor", "project_id": pid},
        timeout=5,
    ).json()["key"]
    monkeypatch.setenv("OPTILOOP_URL", s.url)
    monkeypatch.setenv("OPTILOOP_API_KEY", key)
    pytester.makepyfile(test_inner=INNER.format(pid=pid, space=SPACE))

    res = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-v")
    # 12 + 3 - skipped pass or fail; test_refund's 2 fail; test_plain is untouched by the plugin
    outcomes = res.parseoutcomes()
    assert outcomes["passed"] + outcomes["failed"] + outcomes.get("skipped", 0) == 12 + 2 + 3 + 1, (
        res.stdout.str()
    )
    out = res.stdout.str()
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    assert "bucket '' dropped" in out  # the warning on test_checkout's empty bucket
    # space= is checked against the project's: test_refund's matches, test_sized's is out of date
    assert out.count("differs from the space of project 'checkout'") == 1
    assert re.search(r"test_inner.py:\d+: OptiLoopPluginWarning: space= \(sp-", out), out
    assert f"project checkout ({pid}): 17 runs reported" in out, out

    tests = requests.get(
        f"{s.url}/v1/projects/{pid}/tests", headers=h(key), params={"limit": 1000}, timeout=5
    ).json()["items"]
    assert len(tests) == 17 and all(t["status"] == "ran" for t in tests)  # nothing left pending
    assert feasible([t["params"] for t in tests])
    item_ids = set(re.findall(r"^test_inner\.py::test_\w+\[(\w+)\]", out, flags=re.M))
    assert item_ids == {t["id"] for t in tests}  # each item is named by its OptiLoop test id

    by_status: dict[tuple[str, int], int] = {}
    for t in tests:
        k = (t["run"]["status"], t["run"]["failure_severity"])
        by_status[k] = by_status.get(k, 0) + 1
    sized_skipped = by_status.get(("skipped", 0), 0)
    assert by_status.get(("fail", 7)) == 2  # the marker's severity
    assert by_status.get(("fail", 9), 0) + sized_skipped == 3  # optiloop_run.severity wins over the default
    assert by_status.get(("pass", 0)) == 12
    assert sum(t["run"]["cost_cents"] for t in tests) == pytest.approx(2.5 * 3)
    assert all(t["run"]["duration_ms"] > 0 for t in tests if t["run"]["status"] != "skipped")

    checkout = [t["params"] for t in tests if t["run"]["status"] == "pass"]
    sized = [t["params"] for t in tests if t["run"]["cost_cents"] > 0]
    expected = (
        {f"checkout.py:{p['qps']}" for p in checkout}
        | {f"region:{p['region']}" for p in checkout}
        | {"refund.py:1"}
        | {1000 + p["qps"] for p in sized}
    )
    cov = requests.get(f"{s.url}/v1/projects/{pid}/coverage", headers=h(key), timeout=5).json()
    assert cov["tests_run"] == 17 and cov["unique_buckets"] == len(expected)
    assert cov["failures_by_severity"]["7"] == 2

    # a project nobody can see: a collection error naming it, and nothing suggested
    inner = "import optiloop\n@optiloop.parametrize(project='nope', n=2)\ndef test_x(params): pass\n"
    pytester.makepyfile(test_inner=inner)
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert res.ret == pytest.ExitCode.INTERRUPTED
    res.stdout.fnmatch_lines(["*no project with id or name 'nope' is visible to this key*"])

    # a wrong key, given as an option: the server's 401 in the message
    pytester.makepyfile(test_inner=inner.replace("nope", "checkout"))
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--optiloop-key", "olk_wrong")
    assert res.ret == pytest.ExitCode.INTERRUPTED
    res.stdout.fnmatch_lines(["*GET /v1/projects -> 401 unauthorized*"])

    # the server goes away during the session: every test passed, yet the session fails, naming the runs lost
    pytester.makepyfile(
        test_inner=f"""
import os, signal, optiloop

@optiloop.parametrize(project="checkout", n=2)
def test_x(params):
    pass

def test_zz_server_goes_away():
    os.kill({s.proc.pid}, signal.SIGTERM)
    os.waitpid({s.proc.pid}, 0)
"""
    )
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    res.assert_outcomes(passed=3)
    assert res.ret == pytest.ExitCode.TESTS_FAILED
    res.stdout.fnmatch_lines(
        ["ERROR 2 runs of project 'checkout' were not reported: OptiLoop server not reachable*"]
    )


def test_unreachable_server_fails_collection_with_a_clear_message(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = no_server_url()
    monkeypatch.setenv("OPTILOOP_URL", url)
    monkeypatch.delenv("OPTILOOP_API_KEY", raising=False)
    body = "import optiloop\n@optiloop.parametrize(project='checkout', n=5)\ndef test_a(params): pass\n"
    pytester.makepyfile(test_one=body, test_two=body)
    t0 = time.monotonic()
    # schemathesis' pytest plugin (in the dev environment for the API fuzz test) wraps collection in an
    # old-style hookwrapper whose teardown re-raises with "During handling ..." around any collection
    # error; what this test checks is OptiLoop's own message
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:schemathesis")
    assert res.ret == pytest.ExitCode.INTERRUPTED
    out = res.stdout.str()
    assert f"optiloop: test_one.py::test_a: OptiLoop server not reachable at {url}" in out
    assert "optiloop serve" in out and "OPTILOOP_URL" in out and "fallback='random'" in out
    assert "Traceback" not in out and "During handling" not in out  # the message, not a stack trace
    # the second module fails as clearly, without waiting through the retries again
    assert f"optiloop: test_two.py::test_a: OptiLoop server not reachable at {url}" in out
    assert time.monotonic() - t0 < 5


def test_fallback_runs_offline_with_seeded_feasible_params(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OPTILOOP_URL", no_server_url())
    record = tmp_path / "params.jsonl"
    pytester.makepyfile(
        test_inner=f"""
import json
import optiloop

SPACE = {SPACE!r}

@optiloop.parametrize(project="checkout", n=15, seed=3, fallback="random", space=SPACE)
def test_offline(params, optiloop_buckets):
    optiloop_buckets.append(params["region"])
    with open({str(record)!r}, "a") as f:
        f.write(json.dumps(params, sort_keys=True) + "\\n")
"""
    )
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    res.assert_outcomes(passed=15)
    res.stdout.fnmatch_lines(
        ["*offline: test_inner.py::test_offline: 15 seeded random cases (seed 3)*nothing reported*"]
    )
    first = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(first) == 15 and feasible(first)

    # --optiloop-off asks no server; the same seed draws the same cases
    record.unlink()
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--optiloop-off")
    res.assert_outcomes(passed=15)
    res.stdout.fnmatch_lines(["*(--optiloop-off)*"])
    assert [json.loads(line) for line in record.read_text().splitlines()] == first
