"""Benchmark: the platform's own overhead in `generate`, and render + guardrails in process.

1. Over local HTTP: starts `optiloop serve` (SQLite + folder, the embedded default) on a free port,
   sets up a project, a prompt version and a dev deployment, then times `--calls` POST /v1/generate
   with the deterministic provider. Overhead = client-observed latency - the provider's own latency
   (reported per response), i.e. HTTP, auth, resolution, guardrails, render, routing, pricing,
   cache lookup/store and the trace write. Reported with the cache off (the full path) and on (hits).
2. In process: `Template.render` + `check_input` + `check_output` on a ~1.5 KB variable.

usage: python tests/benchmarks/generate_overhead.py [--calls 300]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

TOKEN = "bench-admin-token-0123456789"
BODY = "You are a support assistant for ACME.\nContext: {{context}}\nQ: {{question}}\nA: {{hint}}"
CONTEXT = ("Orders ship within two business days. Returns are accepted for 30 days with a receipt. " * 18)[
    :1500
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float]) -> str:
    a = np.array(xs)
    return f"p50={np.percentile(a, 50):6.2f} ms  p95={np.percentile(a, 95):6.2f} ms  max={a.max():6.2f} ms"


def http_bench(calls: int) -> None:
    port = free_port()
    data = tempfile.mkdtemp(prefix="optiloop-genbench-")
    env = {**os.environ, "OPTILOOP_ADMIN_TOKEN": TOKEN}
    cmd = [sys.executable, "-m", "optiloop.cli.main", "serve", "--port", str(port), "--data-dir", data]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    h = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            for _ in range(100):
                try:
                    if c.get("/v1/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            pid = c.post("/v1/projects", json={"name": "bench"}).json()["id"]
            prm = c.post(f"/v1/projects/{pid}/prompts", json={"name": "support"}).json()["id"]
            variables = {"context": "str", "question": "str", "hint": "str"}
            vid = c.post(f"/v1/prompts/{prm}/versions", json={"body": BODY, "variables": variables}).json()[
                "id"
            ]
            c.post("/v1/deployments", json={"prompt_version_id": vid, "environment": "dev"})
            for cached in (False, True):
                over, total = [], []
                for i in range(calls + 20):
                    q = f"Where is order {i if not cached else 0}? My email is jane{i}@example.com"
                    body = {
                        "project_id": pid,
                        "prompt": {"name": "support", "label": "dev"},
                        "variables": {"context": CONTEXT, "question": q, "hint": "It ships soon."},
                        "cache": {"enabled": cached},
                    }
                    t = time.perf_counter()
                    r = c.post("/v1/generate", json=body)
                    ms = (time.perf_counter() - t) * 1000
                    assert r.status_code == 200, r.text
                    if i >= 20:  # warm-up
                        total.append(ms)
                        over.append(ms - r.json()["metrics"]["provider_latency_ms"])
                label = "cache hit " if cached else "cache off "
                print(f"HTTP generate, {label} total     {pct(total)}")
                print(f"HTTP generate, {label} overhead  {pct(over)}   (n={calls})")
    finally:
        proc.terminate()
        proc.wait(10)


def inproc_bench(calls: int) -> None:
    from optiloop.prompts.guardrails import GuardConfig, check_input, check_output
    from optiloop.prompts.templates import compile_template

    t = compile_template(BODY, {"context": "str", "question": "str", "hint": "str"})
    cfg = GuardConfig()
    lat = []
    for i in range(calls + 50):
        values = {
            "context": CONTEXT,
            "question": f"Where is order {i}? Call +44 20 7946 0958",
            "hint": "soon",
        }
        s = time.perf_counter()
        v = check_input(values, cfg)
        prompt = t.render(v.texts if v.action == "redact" else values)
        check_output(prompt[-200:], cfg)
        if i >= 50:
            lat.append((time.perf_counter() - s) * 1000)
    print(
        f"in-process render + guardrails (in and out)  {pct(lat)}   (n={calls}, input {len(CONTEXT)} chars)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    a = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, {Path.cwd()}")
    inproc_bench(a.calls)
    http_bench(a.calls)


if __name__ == "__main__":
    main()
