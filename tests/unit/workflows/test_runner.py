"""The local workflow runner's ASL semantics: results, choices, waits, retries, catches, resume."""

from __future__ import annotations

from typing import Any

import pytest

from optiloop.deps import Deps
from optiloop.store.factory import open_memory
from optiloop.workflows.definition import (
    ALL_ERRORS,
    Catch,
    Choice,
    Fail,
    Retry,
    Succeed,
    Task,
    Wait,
    Workflow,
)
from optiloop.workflows.experiment import EXPERIMENT
from optiloop.workflows.runner import KIND, RUNNING_KIND, LocalRunner


class Flaky(Exception):
    pass


class Broken(Exception):
    pass


def flow(**overrides: Any) -> Workflow:
    states: dict[str, Any] = {
        "A": Task(step="count", next="Pause", result_key="a", retry=(Retry(("Flaky",), 3, 0, 1),)),
        "Pause": Wait(seconds_key="pause", default_s=0, next="Route"),
        "Route": Choice(key="a", field="kind", cases={"odd": "Odd"}, default="Even"),
        "Odd": Task(step="boom", next="Done", result_key="b", catch=(Catch(("Broken",), "Recover"),)),
        "Even": Succeed(),
        "Recover": Task(step="count", next=None, result_key="c"),
        "Done": Succeed(),
        "Bad": Fail(error="X"),
    }
    states.update(overrides)
    wf = Workflow(name="t", start="A", states=states)
    wf.check()
    return wf


@pytest.fixture
def deps() -> Deps:
    return Deps(*open_memory())


def runner(deps: Deps, wf: Workflow, fail_first: int = 0) -> tuple[LocalRunner, list[float]]:
    calls = {"n": 0}
    slept: list[float] = []

    def count(_: Deps, state: dict[str, Any]) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] <= fail_first:
            raise Flaky(f"attempt {calls['n']}")
        return {"kind": "odd" if state.get("odd") else "even", "n": calls["n"]}

    def boom(_: Deps, state: dict[str, Any]) -> dict[str, Any]:
        raise Broken("it broke")

    return LocalRunner(deps, {"t": wf}, {"count": count, "boom": boom}, sleep=slept.append), slept


def test_results_choices_and_success(deps: Deps) -> None:
    r, _ = runner(deps, flow())
    out = r.run("t", "x1", "p1", {"odd": False}, "me")
    assert out["status"] == "SUCCEEDED" and out["current_state"] == "Even"
    assert out["state"]["a"] == {"kind": "even", "n": 1}
    assert deps.store.docs.get(KIND, "x1") is not None
    assert deps.store.docs.list(RUNNING_KIND, "local") == []  # an ended execution leaves the index


def test_retries_then_catch_stores_the_error_and_continues(deps: Deps) -> None:
    r, slept = runner(deps, flow(), fail_first=2)
    out = r.run("t", "x2", "p1", {"odd": True, "pause": 7}, "me")
    assert out["status"] == "SUCCEEDED" and out["current_state"] == "Recover"
    statuses = [(e["state"], e["attempt"], e["status"]) for e in out["events"]]
    assert statuses == [
        ("A", 1, "retrying"),
        ("A", 2, "retrying"),
        ("A", 3, "succeeded"),
        ("Odd", 1, "caught"),
        ("Recover", 1, "succeeded"),
    ]
    assert out["state"]["failure"] == {"Error": "Broken", "Cause": "it broke", "state": "Odd"}
    assert slept == [0, 0, 7.0]  # two retry intervals, then the Wait state's seconds from the state


def test_an_uncaught_error_after_its_retries_fails_the_execution(deps: Deps) -> None:
    wf = flow(A=Task(step="count", next="Pause", result_key="a", retry=(Retry(("Flaky",), 2, 0, 1),)))
    r, _ = runner(deps, wf, fail_first=5)
    out = r.run("t", "x3", "p1", {}, "me")
    assert out["status"] == "FAILED" and out["error"]["Error"] == "Flaky"
    assert [e["status"] for e in out["events"]] == ["retrying", "failed"]


def test_catch_all_matches_any_error(deps: Deps) -> None:
    wf = flow(Odd=Task(step="boom", next="Done", result_key="b", catch=(Catch((ALL_ERRORS,), "Bad"),)))
    r, _ = runner(deps, wf)
    out = r.run("t", "x4", "p1", {"odd": True}, "me")
    assert out["status"] == "FAILED" and out["error"] == {"Error": "X", "Cause": ""}


def test_a_stopped_runner_leaves_the_execution_running_and_resume_finishes_it(deps: Deps) -> None:
    wf = flow()
    r, _ = runner(deps, wf)
    r._stop.set()  # as at process shutdown
    out = r.run("t", "x5", "p1", {}, "me")
    assert out["status"] == "RUNNING" and out["current_state"] == "A"
    assert [d.id for d in deps.store.docs.list(RUNNING_KIND, "local")] == ["x5"]
    fresh, _ = runner(deps, wf)
    assert fresh.resume() == ["x5"]
    fresh.wait("x5", timeout=10)
    assert deps.store.docs.get(KIND, "x5").data["status"] == "SUCCEEDED"


def test_a_definition_that_names_a_missing_state_is_refused() -> None:
    with pytest.raises(ValueError, match="undefined 'Nowhere'"):
        Workflow(name="t", start="A", states={"A": Task(step="s", next="Nowhere", result_key="r")}).check()
    with pytest.raises(ValueError, match="start state"):
        Workflow(name="t", start="Z", states={"A": Succeed()}).check()


def test_the_experiment_workflow_is_well_formed() -> None:
    EXPERIMENT.check()
    assert EXPERIMENT.steps() == [
        "check_approval",
        "check_training",
        "deploy",
        "evaluate",
        "prepare_experiment",
        "promote_version",
        "record_failure",
        "register_version",
        "request_approval",
        "start_training",
    ]
    from optiloop.workflows.steps import STEPS

    assert set(STEPS) == set(EXPERIMENT.steps())
