"""`optiloop projects|constraints|suggest|ingest|coverage|export` against a real server (uvicorn on a
free port in this process), configured as a user would: OPTILOOP_URL and the key `serve` was
started with."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from optiloop.api.app import create_app
from optiloop.cli.loop import parse_runs
from optiloop.cli.main import main
from optiloop.config import Settings
from optiloop.deps import Deps

SPACE = {
    "params": {
        "qps": {"type": "integer", "min": 1, "max": 5000},
        "region": {"type": "string", "enum": ["us", "eu", "apac"]},
    },
    "relations": ["qps <= 4000 or region != 'apac'"],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(deps: Deps, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(deps, settings), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("OPTILOOP_URL", url)
    monkeypatch.delenv("OPTILOOP_API_KEY", raising=False)
    monkeypatch.setenv("OPTILOOP_ADMIN_TOKEN", settings.admin_token or "")  # what `serve` was started with
    yield url
    srv.should_exit = True
    thread.join(10)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_the_loop_from_the_shell(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(
        capsys, "projects", "create", "api-load", "--description", "load", "--budget-cents", "500"
    )
    assert rc == 0
    pid = json.loads(out)["id"]
    rc, out, _ = _run(capsys, "projects", "get", pid)
    assert rc == 0 and json.loads(out)["budget_cents"] == 500
    rc, out, _ = _run(capsys, "projects", "list")
    assert rc == 0 and pid in out and "api-load" in out
    rc, out, _ = _run(capsys, "projects", "list", "--json")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [pid]

    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    assert _run(capsys, "constraints", "add", pid, str(space))[0] == 0
    rc, out, _ = _run(capsys, "constraints", "list", pid)
    assert rc == 0 and [c["name"] for c in json.loads(out)["items"]] == ["base"]

    batch = tmp_path / "batch.json"
    rc, _, err = _run(capsys, "suggest", pid, "--batch-size", "6", "--seed", "3", "--out", str(batch))
    assert rc == 0 and "6 tests written" in err
    tests = json.loads(batch.read_text())["tests"]
    runs = tmp_path / "runs.jsonl"
    runs.write_text(
        "\n".join(
            json.dumps(
                {"test_id": t["id"], "status": "fail" if i == 0 else "pass", "failure_severity": i % 2}
            )
            + ("\n" if i == 2 else "")  # a blank line is fine
            for i, t in enumerate(tests)
        )
    )
    rc, out, _ = _run(capsys, "ingest", pid, str(runs))
    assert rc == 0 and json.loads(out)["accepted"] == 6

    rc, out, _ = _run(capsys, "coverage", pid)
    assert rc == 0 and json.loads(out)["project_id"] == pid
    rc, out, _ = _run(capsys, "coverage", pid, "--csv")
    assert rc == 0 and out.splitlines()[0].count(",") >= 1

    rc, out, _ = _run(capsys, "export", pid)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rc == 0 and [r["id"] for r in rows] == [t["id"] for t in tests]
    assert {"param.qps", "param.region", "run.status", "run.failure_severity"} <= set(rows[0])
    assert rows[0]["run.status"] == "fail" and rows[1]["run.status"] == "pass"
    assert rows[0]["param.qps"] == str(tests[0]["params"]["qps"])
    out_file = tmp_path / "export.csv"
    rc, _, err = _run(capsys, "export", pid, "--out", str(out_file))
    assert rc == 0 and "6 tests written" in err and out_file.read_text().startswith("id,seq,status")


def test_an_api_error_is_printed_with_its_fields(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = json.loads(_run(capsys, "projects", "create", "typos")[1])["id"]
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"name": "c", "type": "hard", "json_schema": {**SPACE, "relations": ["qs <= 3"]}})
    )
    rc, _, err = _run(capsys, "constraints", "add", pid, str(bad))
    assert rc == 1 and "422 invalid_input" in err and "qps" in err and "request id" in err
    rc, _, err = _run(capsys, "projects", "get", "prj_nope")
    assert rc == 1 and "404" in err


def test_ingest_reports_rejected_runs_by_their_place_in_the_file(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], api: Any
) -> None:
    pid = json.loads(_run(capsys, "projects", "create", "rej")[1])["id"]
    (tid,) = api.add_tests(pid, 1)
    f = tmp_path / "runs.json"
    f.write_text(
        json.dumps({"runs": [{"test_id": tid, "status": "pass"}, {"test_id": "tst_x", "status": "pass"}]})
    )
    rc, out, _ = _run(capsys, "ingest", pid, str(f))
    summary = json.loads(out)
    assert rc == 1 and summary["accepted"] == 1 and summary["rejected"][0]["index"] == 1
    f.write_text(json.dumps([{"test_id": "tst_x", "status": "pass"}]))  # nothing accepted: the API's 422
    rc, _, err = _run(capsys, "ingest", pid, str(f))
    assert rc == 1 and "runs[0].test_id" in err


def test_the_key_and_url_come_from_flags_over_the_environment(
    server: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTILOOP_API_KEY", "olk_not_a_real_key_0000000000")  # wins over the admin token
    rc, _, err = _run(capsys, "projects", "list")
    assert rc == 1 and "401" in err
    rc, _, _ = _run(capsys, "projects", "list", "--api-key", Settings.from_env().admin_token or "")
    assert rc == 0
    rc, _, err = _run(capsys, "projects", "list", "--url", f"http://127.0.0.1:{_free_port()}")
    assert rc == 3 and "cannot reach" in err


def test_bad_input_files_are_refused_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPTILOOP_URL", f"http://127.0.0.1:{_free_port()}")  # nothing listens: not reached
    f = tmp_path / "runs.jsonl"
    f.write_text('{"test_id": "a", "status": "pass"}\nnot json\n')
    rc, _, err = _run(capsys, "ingest", "prj_1", str(f))
    assert rc == 2 and "line 2" in err
    rc, _, err = _run(capsys, "constraints", "add", "prj_1", str(tmp_path / "missing.json"))
    assert rc == 2 and "missing.json" in err


def test_runs_are_read_from_json_lists_objects_and_lines() -> None:
    one = {"test_id": "a", "status": "pass"}
    assert parse_runs(json.dumps([one, one])) == [one, one]
    assert parse_runs(json.dumps({"runs": [one]})) == [one]
    assert parse_runs(json.dumps(one)) == [one]
    assert parse_runs(json.dumps(one) + "\n" + json.dumps(one) + "\n") == [one, one]
    assert parse_runs("  ") == []
    with pytest.raises(ValueError, match="list of runs"):
        parse_runs("[1, 2]")
