"""Reruns: `runs:ingest` items with `rerun_of` add a test row per rerun (one run per test stays the
rule), and disagreeing outcomes of identical params show up as flakiness in coverage and prioritize."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.functional.conftest import Api


def ingest(api: Api, pid: str, runs: list[dict[str, Any]]) -> Any:
    return api.client.post(f"/v1/projects/{pid}/runs:ingest", headers=api.admin, json={"runs": runs})


def test_a_rerun_is_a_new_test_linked_to_the_original(api: Api) -> None:
    pid = api.project()
    (t,) = api.add_tests(pid, 1)
    assert ingest(api, pid, [{"test_id": t, "status": "pass"}]).json()["accepted"] == 1
    # a second run of the same test id is still refused ...
    r = ingest(api, pid, [{"test_id": t, "status": "fail"}])
    assert r.status_code == 422 and api.error_fields(r) == ["runs[0].test_id"]
    # ... but a rerun under a new id is accepted, and a resend of it is a duplicate
    rerun = {"test_id": f"{t}#2", "rerun_of": t, "status": "fail", "failure_severity": 2}
    out = ingest(api, pid, [rerun]).json()
    assert (out["accepted"], out["duplicates"]) == (1, 0)
    out = ingest(api, pid, [rerun]).json()
    assert (out["accepted"], out["duplicates"]) == (0, 1)
    # a rerun of the rerun links to the first original
    assert (
        ingest(api, pid, [{"test_id": f"{t}#3", "rerun_of": f"{t}#2", "status": "pass"}]).status_code == 200
    )
    items = api.client.get(f"/v1/projects/{pid}/tests", headers=api.admin).json()["items"]
    by_id = {i["id"]: i for i in items}
    assert set(by_id) == {t, f"{t}#2", f"{t}#3"}
    for rid in (f"{t}#2", f"{t}#3"):
        assert by_id[rid]["operator"] == "rerun" and by_id[rid]["suggestion_id"] == f"rerun-of:{t}"
        assert by_id[rid]["params"] == by_id[t]["params"] and by_id[rid]["status"] == "ran"
    # a different report for the rerun id is refused like any second run
    r = ingest(api, pid, [{**rerun, "status": "pass"}])
    assert r.status_code == 422 and api.error_fields(r) == ["runs[0].test_id"]


def test_flakiness_in_coverage_and_prioritize(api: Api) -> None:
    pid = api.project()
    api.constrain(pid)
    params = [
        {"payload_kb": 100 + i, "region": "eu", "retries": 1, "timeout_s": 2.0, "cache": False}
        for i in range(3)
    ]
    a, b, c = api.add_tests(pid, 3, params)
    runs = [{"test_id": x, "status": "pass"} for x in (a, b, c)]
    runs += [
        {"test_id": f"{a}~{k}", "rerun_of": a, "status": s} for k, s in enumerate(["fail", "pass", "fail"])
    ]
    runs += [{"test_id": f"{b}~1", "rerun_of": b, "status": "pass"}]
    assert ingest(api, pid, runs).json()["accepted"] == 7
    cov = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()
    flaky = cov["flaky"]
    assert flaky["reruns"] == 4 and flaky["flaky_params"] == 1 and flaky["params_run_more_than_once"] == 2
    (g,) = flaky["groups"]
    assert g["params"] == params[0] and (g["runs"], g["passes"], g["fails"]) == (4, 2, 2)
    assert g["test_ids"][0] == a and len(g["test_ids"]) == 4
    # Beta(0.5 + 2, 9.5 + 2): mean 2.5 / 14
    assert g["flake_rate"] == round(2.5 / 14, 4) and g["posterior"] == {"alpha": 2.5, "beta": 11.5}
    assert cov["duplicate_rate"] == 0.0  # reruns are not duplicate suggestions
    cases = [{"id": f"case{i}", "params": p} for i, p in enumerate(params)]
    cases.append({"id": "never-run", "params": {**params[0], "payload_kb": 999}})
    order = api.client.post(
        f"/v1/projects/{pid}/tests:prioritize", headers=api.admin, json={"tests": cases}
    ).json()
    fp = {o["id"]: o["flaky_probability"] for o in order["order"]}
    assert fp["case0"] == round(2.5 / 14, 4)
    assert fp["case1"] == round(0.5 / 12, 4)  # two agreeing runs: below the prior
    assert fp["case2"] == round(0.5 / 11, 4)
    assert fp["never-run"] == 0.05  # the prior mean


def test_project_without_reruns_reports_no_flakiness(api: Api) -> None:
    pid = api.project()
    t = api.add_tests(pid, 2)
    ingest(api, pid, [{"test_id": x, "status": "fail"} for x in t])
    flaky = api.client.get(f"/v1/projects/{pid}/coverage", headers=api.admin).json()["flaky"]
    assert flaky["reruns"] == 0 and flaky["flaky_params"] == 0 and flaky["groups"] == []


def test_bad_reruns_are_refused_naming_the_field(api: Api) -> None:
    pid = api.project()
    (t, u) = api.add_tests(pid, 2)
    ingest(api, pid, [{"test_id": t, "status": "pass"}, {"test_id": u, "status": "pass"}])
    r = ingest(api, pid, [{"test_id": "new-1", "rerun_of": "no-such-test", "status": "pass"}])
    assert r.status_code == 422 and api.error_fields(r) == ["runs[0].rerun_of"]
    r = ingest(api, pid, [{"test_id": t, "rerun_of": t, "status": "pass"}])
    assert r.status_code == 422 and any("rerun_of" in f for f in api.error_fields(r)), r.text
    # an existing test that is not a rerun of the original cannot become one
    r = ingest(api, pid, [{"test_id": u, "rerun_of": t, "status": "fail"}])
    assert r.status_code == 422 and api.error_fields(r) == ["runs[0].test_id"]
    # nothing half-written: no test row for the refused rerun
    items = api.client.get(f"/v1/projects/{pid}/tests", headers=api.admin).json()["items"]
    assert {i["id"] for i in items} == {t, u}
