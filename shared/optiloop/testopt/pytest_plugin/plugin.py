"""The pytest hooks: suggest at collection, record each outcome, ingest at the end of the session.

Registered through the `pytest11` entry point, so it loads in every pytest session of an
environment where optiloop is installed; everything it does is keyed on the
`@optiloop.parametrize` mark, and a session without one never imports httpx or numpy or opens a
connection. All state lives on the session's `config.stash`, never in module globals, so nested
sessions (pytester) and repeated `pytest.main` calls stay apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from optiloop.testopt.pytest_plugin.decorator import MARK, Request
from optiloop.testopt.pytest_plugin.recorder import (
    DEFAULT_FAILURE_SEVERITY,
    Bucket,
    Outcome,
    Recorder,
    RunNotes,
    Status,
    check_severity,
    clean_buckets,
)
from optiloop.testopt.pytest_plugin.settings import Settings, add_options

if TYPE_CHECKING:
    from optiloop.testopt.pytest_plugin.client import Client, IngestResult, OptiLoopUnavailable, ProjectRef
    from optiloop.testopt.space import Space

SEVERITY_MARK = "optiloop_severity"
CASE_MARK = "optiloop_case"
HOW_TO_CONNECT = (
    "Start a local server with `optiloop serve` (or `make run`) and export OPTILOOP_API_KEY, or point "
    "the plugin at a deployment with OPTILOOP_URL / --optiloop-url and OPTILOOP_API_KEY / --optiloop-key. "
    "To run offline with a seeded random sample instead, give @optiloop.parametrize fallback='random' "
    "and space={...}."
)


class OptiLoopPluginWarning(UserWarning):
    """Something the plugin dropped or could not check, attached to the test it concerns."""


@dataclass
class Offline:
    """A decorated function that ran on the fallback sample: shown in the summary, never reported."""

    nodeid: str
    cases: int
    seed: int
    reason: str


@dataclass
class Reported:
    project: ProjectRef
    runs: int
    failed: int
    result: IngestResult


@dataclass
class State:
    """Everything one session knows; created at configure, read by every hook."""

    config: pytest.Config
    recorder: Recorder = field(default_factory=Recorder)
    offline: list[Offline] = field(default_factory=list)
    reported: list[Reported] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _settings: Settings | None = None
    _client: Client | None = None
    _projects: dict[str, ProjectRef] = field(default_factory=dict)
    by_id: dict[str, ProjectRef] = field(default_factory=dict)  # for the report at the end
    unavailable: OptiLoopUnavailable | None = None  # once seen, no other function waits for retries

    @property
    def settings(self) -> Settings:
        """Read on first use, so a bad OPTILOOP_URL only matters to a session that uses the plugin."""
        if self._settings is None:
            self._settings = Settings.from_config(self.config)
        return self._settings

    def client(self) -> Client:
        if self._client is None:
            from optiloop.testopt.pytest_plugin.client import Client

            self._client = Client(self.settings.url, self.settings.api_key)
        return self._client

    def project(self, name_or_id: str) -> ProjectRef:
        if name_or_id not in self._projects:
            ref = self.client().find_project(name_or_id)
            self._projects[name_or_id] = ref
            self.by_id[ref.id] = ref
        return self._projects[name_or_id]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


STATE = pytest.StashKey[State]()
NOTES = pytest.StashKey[RunNotes]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARK}(request): set by @optiloop.parametrize: the function's cases come from OptiLoop"
    )
    config.addinivalue_line(
        "markers", f"{SEVERITY_MARK}(n): failure severity 0..10 reported to OptiLoop when the test fails"
    )
    config.addinivalue_line("markers", f"{CASE_MARK}(project_id, test_id): the OptiLoop test an item runs")
    config.stash[STATE] = State(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None:
        state.close()


# -- collection ----------------------------------------------------------------------------
class _Refused(Exception):
    """Why a decorated function cannot be collected; turned into one clean collection error."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marks = list(metafunc.definition.iter_markers(MARK))
    if not marks:
        return
    where = metafunc.definition.nodeid
    try:
        req, space = _request(metafunc, marks)
        cases = _cases(metafunc.config.stash[STATE], req, space, metafunc.definition)
    except _Refused as e:
        problem = str(e)
    else:
        metafunc.parametrize(req.argname, cases)
        return
    # failed outside the except block, so the report is the message alone, not a chained traceback
    pytest.fail(f"optiloop: {where}: {problem}", pytrace=False)


def _request(metafunc: pytest.Metafunc, marks: list[pytest.Mark]) -> tuple[Request, Space | None]:
    """The decorator's request after every check that needs no server, and its space if it has one."""
    if len(marks) > 1:
        raise _Refused("decorate a test with @optiloop.parametrize once")
    req = marks[0].args[0] if marks[0].args else None
    if not isinstance(req, Request):
        raise _Refused(f"use @optiloop.parametrize(...), not the {MARK} mark")
    if hasattr(metafunc.config, "workerinput"):
        raise _Refused(
            "@optiloop.parametrize does not work under pytest-xdist (each worker would draw different "
            "cases); run this test without -n"
        )
    if req.argname not in metafunc.fixturenames:
        raise _Refused(f"the test takes no argument {req.argname!r} to parametrize")
    severity = metafunc.definition.get_closest_marker(SEVERITY_MARK)
    try:
        if severity is not None:
            check_severity(severity.args[0] if severity.args else None, SEVERITY_MARK)
        metafunc.config.stash[STATE].settings  # noqa: B018 - read now: a bad URL or seed is refused here
        if req.space is None:
            return req, None
        from optiloop.testopt.pytest_plugin.fallback import space_from_doc

        return req, space_from_doc(req.space)
    except ValueError as e:
        raise _Refused(str(e)) from None


def _cases(state: State, req: Request, space: Space | None, node: pytest.Item) -> list[Any]:
    """pytest.param per case: suggested by the server, or the fallback sample when it may be used."""
    where = node.nodeid
    from optiloop.testopt.pytest_plugin.client import OptiLoopClientError, OptiLoopUnavailable

    seed = req.seed if req.seed is not None else state.settings.seed
    if state.settings.off:
        if req.fallback != "random":
            raise _Refused(
                "--optiloop-off (or OPTILOOP_OFF) is set, but this test has no fallback='random' with "
                "space={...} to run offline"
            )
        return _offline(state, req, space, seed, where, "--optiloop-off")
    try:
        if state.unavailable is not None:
            raise state.unavailable  # seen once: no other function waits through the retries again
        project = state.project(req.project)
        suggestion = state.client().suggest(project.id, req.n, req.body(seed))
    except OptiLoopUnavailable as e:
        state.unavailable = e
        if req.fallback == "random":
            return _offline(state, req, space, seed, where, e.reason)
        raise _Refused(f"{e}.\n{HOW_TO_CONNECT}") from None
    except OptiLoopClientError as e:
        raise _Refused(f"project {req.project!r}: {e}") from None
    if space is not None and suggestion.space_version and suggestion.space_version != space.version:
        node.warn(
            OptiLoopPluginWarning(
                f"space= ({space.version}) differs from the space of project {project.name!r} "
                f"({suggestion.space_version}): the offline fallback would draw from another space"
            )
        )
    case = getattr(pytest.mark, CASE_MARK)
    for t in suggestion.tests:
        state.recorder.expect(project.id, t.id)
    return [
        pytest.param(t.params, id=t.id, marks=case(project_id=project.id, test_id=t.id))
        for t in suggestion.tests
    ]


def _offline(
    state: State, req: Request, space: Space | None, seed: int | None, where: str, reason: str
) -> list[Any]:
    from optiloop.testopt.pytest_plugin.fallback import random_cases

    assert space is not None  # the decorator refuses fallback='random' without a space
    seed = 0 if seed is None else seed
    cases = random_cases(space, req.n, seed)
    state.offline.append(Offline(nodeid=where, cases=len(cases), seed=seed, reason=reason))
    mark = getattr(pytest.mark, CASE_MARK)(project_id=None, test_id=None)
    return [pytest.param(c, id=f"random-{seed}-{i}", marks=mark) for i, c in enumerate(cases)]


# -- what a test tells us ------------------------------------------------------------------
@pytest.fixture
def optiloop_run(request: pytest.FixtureRequest) -> RunNotes:
    """Notes for this test's run: `.buckets`, `.cost_cents`, `.severity` (see RunNotes)."""
    notes = RunNotes()
    request.node.stash[NOTES] = notes
    return notes


@pytest.fixture
def optiloop_buckets(optiloop_run: RunNotes) -> list[Bucket]:
    """A list the test appends coverage buckets to: ints, or strings such as 'checkout.py:42'."""
    return optiloop_run.buckets


# -- running -------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    case = item.get_closest_marker(CASE_MARK)
    if case is None or case.kwargs.get("test_id") is None:
        return report
    status = _status(report)
    if status is None:
        return report
    notes = item.stash.get(NOTES, None)
    severity = 0
    if status == "fail":
        marker = item.get_closest_marker(SEVERITY_MARK)
        severity = DEFAULT_FAILURE_SEVERITY if marker is None else int(marker.args[0])
        if notes is not None and notes.severity is not None:
            severity = notes.severity
    buckets: list[Bucket] = []
    if notes is not None:
        buckets, problems = clean_buckets(notes.buckets)
        for p in problems:
            item.warn(OptiLoopPluginWarning(f"optiloop_buckets: {p}"))
    outcome = Outcome(
        status=status,
        duration_ms=report.duration * 1000.0 if report.when == "call" else 0.0,
        severity=severity,
        cost_cents=notes.cost_cents if notes is not None else 0.0,
        buckets=buckets,
    )
    item.config.stash[STATE].recorder.record(case.kwargs["test_id"], outcome)
    return report


def _status(report: pytest.TestReport) -> Status | None:
    """The run's status from the phase that decides it, or None for a phase that does not.

    The call phase decides. A setup that skips or errors means the case was never exercised:
    'skipped', so it does not stay pending forever. An expected failure (xfail) that failed is a
    failure of the system as far as the search is concerned; one that passed (xpass) a pass."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "fail" if report.skipped else "pass"
        return "pass" if report.passed else "fail" if report.failed else "skipped"
    if report.when == "setup" and not report.passed:
        return "skipped"
    return None


# -- reporting -----------------------------------------------------------------------------
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Ingest every run of the session, per project, in requests of at most 1000.

    A failed report fails an otherwise green session: runs that silently go missing leave the
    search learning from a history that is not what happened."""
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    from optiloop.testopt.pytest_plugin.client import OptiLoopClientError

    for project_id, runs in state.recorder.runs_by_project().items():
        project = state.by_id[project_id]
        try:
            result = state.client().ingest(project_id, runs)
        except OptiLoopClientError as e:
            state.errors.append(f"{len(runs)} runs of project {project.name!r} were not reported: {e}")
            continue
        failed = sum(1 for r in runs if r["status"] == "fail")
        state.reported.append(Reported(project=project, runs=len(runs), failed=failed, result=result))
        if result.rejected:
            first = result.rejected[0]
            state.errors.append(
                f"project {project.name!r}: the server rejected {len(result.rejected)} runs "
                f"(first: {first.get('test_id')}: {first.get('reason')})"
            )
    if state.errors and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not (state.reported or state.offline or state.errors or state.recorder.expected):
        return
    tr = terminalreporter
    tr.write_sep("-", "optiloop")
    for r in state.reported:
        dup = f", {r.result.duplicates} already reported" if r.result.duplicates else ""
        tr.write_line(
            f"project {r.project.name} ({r.project.id}): {r.result.accepted} runs reported "
            f"({r.failed} failed{dup}) to {state.settings.url}: {r.result.new_buckets} new buckets, "
            f"{r.result.total_buckets} total"
        )
    pending = state.recorder.not_run()
    if pending:
        tr.write_line(f"{pending} suggested tests did not run and stay pending on the server")
    for o in state.offline:
        tr.write_line(
            f"offline: {o.nodeid}: {o.cases} seeded random cases (seed {o.seed}) from space=, "
            f"nothing reported ({o.reason})",
            yellow=True,
        )
    for e in state.errors:
        tr.write_line(f"ERROR {e}", red=True)
