"""`optiloop keys` finds the data `optiloop serve` (and `make run`) uses, and says where it looks.

A newcomer who set OPTILOOP_DATA_DIR and ran `make run` got a server on ./.optiloop (the Makefile
passed its own default as a flag, which wins over the variable) while `optiloop keys` used the
variable's folder, and `keys` created an empty data dir wherever it was pointed, silently.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from optiloop.cli.main import _parser, _serve_settings, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPTILOOP_DATA_DIR", "OPTILOOP_BACKEND", "OPTILOOP_TABLE", "OPTILOOP_BUCKET"):
        monkeypatch.delenv(var, raising=False)


def _settings(*argv: str) -> tuple[object, ...]:
    s = _serve_settings(_parser().parse_args(list(argv)))
    return (s.backend, s.data_dir.resolve(), s.table, s.bucket)


def test_serve_and_keys_resolve_the_same_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _settings("serve") == _settings("keys", "list")
    monkeypatch.setenv("OPTILOOP_DATA_DIR", str(tmp_path / "d"))
    assert _settings("serve") == _settings("keys", "list") == ("local", tmp_path / "d", None, None)
    assert _settings("serve", "--data-dir", "e") == _settings("keys", "list", "--data-dir", "e")
    monkeypatch.setenv("OPTILOOP_BACKEND", "aws")  # the table and bucket `serve` defaults to, for keys too
    assert _settings("serve")[2:] == _settings("keys", "create", "--principal", "a", "--role", "admin")[2:]
    assert _settings("keys", "list")[2:] == ("optiloop-local", "optiloop-local")


def test_keys_refuses_a_data_dir_without_data_instead_of_creating_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "nowhere"
    assert main(["keys", "list", "--data-dir", str(empty)]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "--data-dir" in err and "OPTILOOP_DATA_DIR" in err
    assert not empty.exists()


def test_keys_says_which_data_dir_it_uses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "data"
    assert main(["keys", "create", "--principal", "alice", "--role", "admin", "--data-dir", str(d)]) == 0
    err = capsys.readouterr().err
    assert f"{d.resolve()} holds no data yet" in err and f"data dir {d.resolve()}" in err
    assert main(["keys", "list", "--data-dir", str(d)]) == 0
    out, err = capsys.readouterr()
    assert "alice" in out and "holds no data" not in err and f"data dir {d.resolve()}" in err


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_the_data_dir_the_environment_names(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "OPTILOOP_DATA_DIR": str(tmp_path / "d")}
    out = subprocess.run(
        ["make", "-n", "-s", "run"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert f"--data-dir {tmp_path / 'd'}" in out
    out = subprocess.run(
        ["make", "-n", "-s", "run"], cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    ).stdout
    assert "--data-dir ./.optiloop" in out
