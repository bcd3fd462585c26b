"""`optiloop automl ...` against a real server (uvicorn on a free port in this process): ingest a
table, create an experiment, run it with the progress on stderr and the leaderboard as a table on
stdout, read its status and leaderboard, and get the API's 409 (exit 1) resuming a completed one."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import uvicorn

from optiloop.api.app import create_app
from optiloop.cli.main import main
from optiloop.config import Settings
from optiloop.deps import Deps

pytest.importorskip("optuna")
pytest.importorskip("sklearn")


@pytest.fixture
def server(deps: Deps, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(
        uvicorn.Config(create_app(deps, settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    monkeypatch.setenv("OPTILOOP_URL", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("OPTILOOP_API_KEY", raising=False)
    monkeypatch.setenv("OPTILOOP_ADMIN_TOKEN", settings.admin_token or "")
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_automl_from_the_shell(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["a", "b", "churn"])
    for _ in range(80):
        a, b = rng.normal(size=2)
        w.writerow([f"{a:.3f}", f"{b:.3f}", "yes" if a + rng.normal(0, 0.5) > 0 else "no"])
    table = tmp_path / "churn.csv"
    table.write_text(buf.getvalue())

    rc, out, _ = _run(capsys, "projects", "create", "automl-cli")
    pid = json.loads(out)["id"]
    rc, out, _ = _run(capsys, "automl", "ingest", pid, str(table))
    assert rc == 0, out
    ds = json.loads(out)
    assert ds["rows"] == 80 and ds["name"] == "churn.csv"

    create = ["automl", "create", "--project", pid, "--dataset", ds["id"], "--target", "churn"]
    options = [
        "--trials",
        "3",
        "--folds",
        "2",
        "--models",
        "logistic_regression,extra_trees",
        "--budget-cpu-s",
        "600",
    ]
    rc, out, err = _run(capsys, *create, *options)
    assert rc == 0, err
    exp_id = json.loads(out)["experiment_id"]

    rc, out, err = _run(capsys, "automl", "run", exp_id)
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["rank", "trial", "model", "auc"]
    assert len(lines) >= 4 and lines[1].split()[0] == "1"  # 3 trials (and maybe the ensemble), best first
    # then why the first row wins (config.selection), naming its model
    assert lines[-1].startswith("winner: trial ") and f"({lines[1].split()[2]})" in lines[-1]
    assert "trial" in err  # the progress went to stderr

    rc, out, _ = _run(capsys, "automl", "status", exp_id)
    status = json.loads(out)
    # all 3 trials ran: the CPU budget (--budget-cpu-s 600) is far above what they take
    assert rc == 0 and status["status"] == "completed" and status["progress"]["trials_done"] == 3
    assert 0 < status["progress"]["cpu_s"] < 600
    rc, out, _ = _run(capsys, "automl", "leaderboard", exp_id, "--json")
    board = json.loads(out)
    assert board["trials"][0]["trial_id"] == status["best"]["trial_id"]

    rc, _, err = _run(capsys, "automl", "resume", exp_id)
    assert rc == 1 and "409" in err and "experiment_id" in err
