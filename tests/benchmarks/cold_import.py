"""Cold import of every Lambda handler: what a cold start pays before the first request.

Each handler module is imported in a fresh interpreter (a subprocess per try, best of N) with the
environment a deployed function has: Lambda's variables, X-Ray tracing on (Powertools then loads
the X-Ray SDK and patches botocore at import, as it does in AWS), the backend the stage uses. The
import is timed inside the child, so interpreter start-up (which Lambda's runtime pays anyway and
we cannot change) is reported separately as the whole process's wall time.

    .venv/bin/python tests/benchmarks/cold_import.py                # from the source tree
    .venv/bin/python tests/benchmarks/cold_import.py --layers build # from `make layers` output
    .venv/bin/python tests/benchmarks/cold_import.py --profile suggest   # heaviest imports

The issue's target: `suggest` and `ingest` import in under 1.0 s. Exit status 1 if one does not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = (
    "projects",
    "suggest",
    "ingest",
    "coverage",
    "audit",
    "ingest_queue",
    "retrain_check",
    "workflow_steps",
    "authorizer",
    "prompts",
    "approvals",
    "evals",
    "generate",
)
TARGETS_S = {"suggest": 1.0, "ingest": 1.0}
CHILD = (
    "import time; t = time.perf_counter(); import functions.{name}.handler; "
    "print(repr(time.perf_counter() - t))"
)


def backend_env(backend: str, data_dir: str) -> dict[str, str]:
    if backend == "aws":
        # Names only: building the adapters must not call AWS, so nothing here needs to exist.
        return {
            "OPTILOOP_BACKEND": "aws",
            "OPTILOOP_TABLE": "optiloop-bench-table",
            "OPTILOOP_BUCKET": "optiloop-bench-bucket",
            "OPTILOOP_IDEMPOTENCY_TABLE": "optiloop-bench-idempotency",
        }
    return {"OPTILOOP_BACKEND": "local", "OPTILOOP_DATA_DIR": data_dir}


def lambda_env(name: str, backend: str, data_dir: str, pythonpath: str, trace: bool) -> dict[str, str]:
    """A copy of this process's environment reduced to what a function would see, plus Lambda's."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env = {
        **keep,
        "AWS_LAMBDA_FUNCTION_NAME": f"optiloop-bench-{name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "bench",  # never used for a call; boto3 wants something to read
        "AWS_SECRET_ACCESS_KEY": "bench",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "POWERTOOLS_SERVICE_NAME": name,
        "POWERTOOLS_METRICS_NAMESPACE": "OptiLoop",
        "OPTILOOP_TENANT": "bench",
        "PYTHONPATH": pythonpath,
        "PYTHONDONTWRITEBYTECODE": "1",
        **backend_env(backend, data_dir),
    }
    if not trace:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def pythonpath_for(name: str, layers: Path | None) -> str:
    if layers is None:
        return str(ROOT)
    # as Lambda lays it out: the code package first, then /opt/python of each layer
    parts = [
        layers / "functions" / name,
        layers / "layers" / "core" / "python",
        layers / "layers" / "aws" / "python",
    ]
    return os.pathsep.join(str(p) for p in parts)


def time_once(name: str, env: Mapping[str, str], python: str) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", CHILD.format(name=name)],
        env=dict(env),
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"import of functions.{name}.handler failed:\n{proc.stderr[-2000:]}")
    return float(proc.stdout.strip().splitlines()[-1]), wall


def profile(name: str, env: Mapping[str, str], python: str, top: int = 20) -> str:
    """The modules with the largest cumulative import time (python -X importtime)."""
    proc = subprocess.run(
        [python, "-X", "importtime", "-c", f"import functions.{name}.handler"],
        env=dict(env),
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own_us, cum_us, module = line[len("import time:") :].split("|", 2)
        rows.append((int(cum_us), int(own_us), module.strip()))
    rows.sort(reverse=True)
    return "\n".join(
        f"{cum / 1e6:8.3f} s cumulative {own / 1e6:7.3f} s self  {mod}" for cum, own, mod in rows[:top]
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="cold import time of each Lambda handler")
    ap.add_argument("--repeat", type=int, default=5, help="fresh interpreters per handler (best is reported)")
    ap.add_argument("--backend", choices=("local", "aws"), default="local")
    ap.add_argument(
        "--layers", type=Path, help="import from a `make layers` build folder instead of the tree"
    )
    ap.add_argument("--no-trace", action="store_true", help="POWERTOOLS_TRACE_DISABLED (no X-Ray SDK import)")
    ap.add_argument("--profile", metavar="HANDLER", help="print the heaviest imports of one handler and exit")
    ap.add_argument("handlers", nargs="*", default=list(HANDLERS))
    args = ap.parse_args(argv)
    python = sys.executable
    if args.layers is not None:
        args.layers = args.layers.resolve()  # the children run elsewhere (a temp cwd, like /var/task)

    with tempfile.TemporaryDirectory(prefix="optiloop-cold-") as data_dir:
        if args.profile:
            env = lambda_env(
                args.profile,
                args.backend,
                data_dir,
                pythonpath_for(args.profile, args.layers),
                not args.no_trace,
            )
            print(profile(args.profile, env, python))
            return 0
        print(
            f"cold import, best of {args.repeat} fresh interpreters; backend={args.backend}, "
            f"tracing={'off' if args.no_trace else 'on'}, source={args.layers or 'tree'}, python={python}"
        )
        print(f"{'handler':<16}{'import s':>10}{'median s':>10}{'process s':>11}{'target s':>10}  status")
        failed = False
        for name in args.handlers:
            env = lambda_env(
                name, args.backend, data_dir, pythonpath_for(name, args.layers), not args.no_trace
            )
            runs = [time_once(name, env, python) for _ in range(args.repeat)]
            imports = [r[0] for r in runs]
            best, median, wall = min(imports), statistics.median(imports), min(r[1] for r in runs)
            target = TARGETS_S.get(name)
            ok = target is None or best < target
            failed |= not ok
            status = "-" if target is None else ("OK" if ok else "SLOW")
            target_txt = f"{target:.1f}" if target else "-"
            print(f"{name:<16}{best:>10.3f}{median:>10.3f}{wall:>11.3f}{target_txt:>10}  {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
