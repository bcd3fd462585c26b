"""A workflow as data: the one definition both executors run.

The experiment workflow runs on Step Functions in a deployment and on the local runner on one
machine. Writing it once, as a small subset of the Amazon States Language (tasks with Retry and
Catch, waits, choices on one state field, succeed and fail), is what keeps the two the same: the CDK
app translates this definition to a state machine (infra_cdk/workflows.py), the local runner
interprets it (optiloop.workflows.runner), and each Task names a step function that both call —
through the workflow-steps Lambda on AWS, in process locally.

Pure dataclasses with no imports from the rest of the package: `cdk synth` reads a definition
without loading the steps (or numpy).

State data flows as in ASL with `ResultPath`: a task receives the whole state object and its
result is stored at `result_key` (top level), so later states and choices can read it. Result keys
must not be input fields: a result would overwrite the request the later steps still read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_ERRORS = "States.ALL"


@dataclass(frozen=True)
class Retry:
    """Retry a task on these error names (exception class names; States.ALL for any)."""

    errors: tuple[str, ...]
    max_attempts: int = 3
    interval_s: float = 2.0
    backoff: float = 2.0


@dataclass(frozen=True)
class Catch:
    """On these errors (after retries) go to `next`, with the error stored at `result_key`."""

    errors: tuple[str, ...]
    next: str
    result_key: str = "failure"


@dataclass(frozen=True)
class Task:
    step: str  # the step function's name (optiloop.workflows.steps.STEPS)
    next: str | None  # None: the workflow succeeds after this task
    result_key: str
    retry: tuple[Retry, ...] = ()
    catch: tuple[Catch, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Wait:
    seconds_key: str  # the state field holding the wait in seconds (so tests and inputs can shorten it)
    default_s: int
    next: str


@dataclass(frozen=True)
class Choice:
    """Branch on the string at `state[key][field]` (or `state[key]` when field is empty)."""

    key: str
    field: str
    cases: dict[str, str]
    default: str


@dataclass(frozen=True)
class Succeed:
    comment: str = ""


@dataclass(frozen=True)
class Fail:
    error: str
    cause: str = ""


State = Task | Wait | Choice | Succeed | Fail


@dataclass(frozen=True)
class Workflow:
    name: str
    start: str
    states: dict[str, State] = field(default_factory=dict)
    timeout_s: int = 7 * 24 * 3600

    def check(self) -> None:
        """Every transition names a state; raises ValueError otherwise (a definition bug)."""
        names = set(self.states)
        if self.start not in names:
            raise ValueError(f"{self.name}: start state {self.start!r} is not defined")
        for name, s in self.states.items():
            targets: list[str | None] = []
            if isinstance(s, Task):
                targets = [s.next, *(c.next for c in s.catch)]
            elif isinstance(s, Wait):
                targets = [s.next]
            elif isinstance(s, Choice):
                targets = [*s.cases.values(), s.default]
            for t in targets:
                if t is not None and t not in names:
                    raise ValueError(f"{self.name}: state {name!r} goes to undefined {t!r}")

    def steps(self) -> list[str]:
        return sorted({s.step for s in self.states.values() if isinstance(s, Task)})
