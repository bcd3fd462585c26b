"""The EventBridge retrain check: which projects it flags, what it records, and that it says so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from events.harness import add_runs, deployment, invoke, load_handlers, logs_to_stdout, metric_values
from functions.common.runtime import process_deps
from optiloop.auth.principal import OPERATOR
from optiloop.config import ConfigError
from optiloop.deps import Deps
from optiloop.projects import create_project
from optiloop.store.records import Doc
from optiloop.testopt.constraints import add_constraint
from optiloop.workflows.retrain import RETRAIN_DUE

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SPACE = {
    "params": {
        "payload_kb": {"type": "integer", "min": 1, "max": 1024},
        "region": {"type": "string", "enum": ["eu"]},
    }
}


def scheduled(detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """An EventBridge Scheduler/rule event as Lambda receives it."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-22T21:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/optiloop-dev-retrain-check"],
        "detail": detail or {},
    }


@pytest.fixture
def lambdas(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, ModuleType]]:
    with deployment(monkeypatch, tmp_path):
        yield load_handlers(["retrain_check"])


@pytest.fixture
def deps(lambdas: dict[str, ModuleType]) -> Deps:
    return process_deps()


def project(deps: Deps, name: str, runs: int) -> str:
    pid = create_project(deps, OPERATOR, name).id
    add_constraint(deps, OPERATOR, pid, name="base", type="hard", weight=1.0, json_schema=SPACE)
    if runs:
        add_runs(deps, pid, runs)
    return pid


def flags(deps: Deps, pid: str) -> list[dict[str, Any]]:
    return [r.details for r in deps.store.audit.list(project_id=pid, action=RETRAIN_DUE)]


def due_ids(result: dict[str, Any]) -> set[str]:
    return {d["project_id"] for d in result["due"]}


def test_flags_projects_with_runs_no_model_has_seen(
    lambdas: dict[str, ModuleType], deps: Deps, capsys: pytest.CaptureFixture[str]
) -> None:
    logs_to_stdout(lambdas.values())
    check = lambdas["retrain_check"].handler
    busy, idle = project(deps, "busy", runs=3), project(deps, "idle", runs=0)

    result = invoke(check, scheduled(), "retrain_check")
    assert result["checked"] == 2 and result["up_to_date"] == 1 and result["recorded"] == 1
    assert due_ids(result) == {busy}
    [flag] = flags(deps, busy)
    assert (flag["last_run_seq"], flag["last_fit_seq"], flag["new_runs"]) == (3, 0, 3)
    assert flags(deps, idle) == []
    out = capsys.readouterr().out
    assert metric_values(out, "RetrainDue") == [1] and metric_values(out, "ProjectsChecked") == [2]
    assert busy in out  # the log line names what it found

    # the next tick without new runs: still due, but flagged once
    again = invoke(check, scheduled())
    assert due_ids(again) == {busy} and again["recorded"] == 0 and len(flags(deps, busy)) == 1
    add_runs(deps, busy, 2)
    assert invoke(check, scheduled())["recorded"] == 1
    assert [f["last_run_seq"] for f in flags(deps, busy)] == [3, 5]


def test_a_registered_model_is_the_last_fit(lambdas: dict[str, ModuleType], deps: Deps) -> None:
    """What the registry leaves when a surrogate trained on runs 1..4 is registered: the training
    job's snapshot channel says how far it read, the registration names the job."""
    check = lambdas["retrain_check"].handler
    pid = project(deps, "trained", runs=4)
    job = {"id": "tj_1", "inputs": {"runs": {"project_runs": pid, "snapshot": "s1", "runs_through_seq": "4"}}}
    deps.store.docs.create(Doc(kind="training_job", id="tj_1", scope=pid, sort="x#tj_1", data=job))
    deps.store.audit.append(
        principal="alice",
        action="model_version.registered",
        project_id=pid,
        target="mv_1",
        details={"source": {"training_job_id": "tj_1"}},
    )
    assert invoke(check, scheduled())["due"] == []

    add_runs(deps, pid, 2)
    [found] = invoke(check, scheduled())["due"]
    assert (found["last_fit_seq"], found["last_run_seq"], found["new_runs"], found["recorded"]) == (
        4,
        6,
        2,
        True,
    )


def test_the_threshold_comes_from_the_schedule_or_the_environment(
    lambdas: dict[str, ModuleType], deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = lambdas["retrain_check"].handler
    pid = project(deps, "few", runs=3)
    assert invoke(check, scheduled({"min_new_runs": 4}))["due"] == []
    monkeypatch.setenv("OPTILOOP_RETRAIN_MIN_RUNS", "10")
    assert invoke(check, scheduled())["due"] == []
    assert due_ids(invoke(check, scheduled({"min_new_runs": 3}))) == {pid}  # the rule's input wins
    monkeypatch.setenv("OPTILOOP_RETRAIN_MIN_RUNS", "many")
    with pytest.raises(ConfigError, match="OPTILOOP_RETRAIN_MIN_RUNS"):
        invoke(check, scheduled())
