"""Real `optiloop serve` processes on free ports, for tests that must cross a real socket and restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

SHARED = Path(__file__).resolve().parents[2] / "shared"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `optiloop serve` subprocess; stdout goes to a file so a chatty server can never block on a pipe."""

    def __init__(
        self, data_dir: Path, log: Path, admin_token: str | None, extra_env: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPTILOOP_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SHARED), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        if admin_token:
            env["OPTILOOP_ADMIN_TOKEN"] = admin_token
        env.update(extra_env or {})
        cmd = [
            sys.executable,
            "-m",
            "optiloop.cli.main",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ]
        self._out = log.open("wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=subprocess.STDOUT, env=env)
        self._wait_ready()

    # A bound on waiting, not a claim about start-up time: a quiet machine is ready in a few seconds,
    # but with the suite on two xdist workers and other load, importing the app has taken over 15 s.
    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"optiloop serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if requests.get(f"{self.url}/v1/healthz", timeout=0.5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"optiloop serve did not become ready in {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._out.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    """`serve(data_dir, admin_token=None, env=None)` starts a server (`env`: extra OPTILOOP_* settings);
    every server started is stopped at teardown."""
    started: list[Server] = []

    def start(data_dir: Path, admin_token: str | None = None, env: dict[str, str] | None = None) -> Server:
        s = Server(data_dir, tmp_path / f"serve-{len(started)}.log", admin_token, env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()
