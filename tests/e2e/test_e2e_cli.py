"""`optiloop keys ...` on a data dir, in-process (same code path as the console script)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optiloop.cli.main import main


def test_keys_create_list_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPTILOOP_DATA_DIR", raising=False)
    d = str(tmp_path / "data")
    assert main(["keys", "create", "--principal", "alice", "--role", "contributor", "--data-dir", d]) == 0
    out = capsys.readouterr().out
    raw = next(line for line in out.splitlines() if line.startswith("olk_"))
    kid = out.split()[2]
    assert main(["keys", "list", "--data-dir", d]) == 0
    listing = capsys.readouterr().out
    assert "alice" in listing and kid in listing and raw not in listing and "active" in listing
    assert main(["keys", "revoke", kid, "--data-dir", d]) == 0
    capsys.readouterr()
    main(["keys", "list", "--data-dir", d])
    assert "revoked" in capsys.readouterr().out
    assert (
        main(
            [
                "keys",
                "create",
                "--principal",
                "bob",
                "--role",
                "viewer",
                "--project-id",
                "prj_x",
                "--data-dir",
                d,
            ]
        )
        == 1
    )
    assert "no project" in capsys.readouterr().err


def test_bad_config_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPTILOOP_BACKEND", "mainframe")
    assert main(["keys", "list"]) == 2
    assert "OPTILOOP_BACKEND" in capsys.readouterr().err


def test_demo_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    import optiloop.cli.demo as demo

    seen = {}
    monkeypatch.setattr(demo, "run", lambda args: seen.update(vars(args)) or 0)
    assert main(["demo", "--tests", "40"]) == 0
    assert seen["tests"] == 40 and seen["batch"] == 20 and seen["seed"] == 0
    assert (
        seen["sut"] == "checkout-service" and seen["out"] == "optiloop-demo.png" and seen["data_dir"] is None
    )
