"""Build the Lambda layers and function code packages, and refuse a deployment Lambda would refuse.

`make layers` runs this. For each layer it pip-installs `layers/<name>/requirements.txt` for the
Lambda runtime (not for this machine: manylinux2014 x86_64 wheels for CPython 3.11, binaries only,
because the python3.11 runtime runs on Amazon Linux 2 and cannot build or load anything newer) into
`build/layers/<name>/python`; the `core` layer also gets the optiloop package itself. Each function's
code package goes to `build/functions/<name>` (the handler plus `functions/common`).

Then it measures what Lambda measures (unzipped bytes of function + its layers, limit 250 MB), and
looks for packages the house rules keep off the HTTP hot path. Either problem exits non-zero, so a
heavy dependency creeping in through a transitive requirement fails the build, not the deployment.
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MB = 1024 * 1024
LIMIT_BYTES = 250 * MB  # Lambda: function code + all its layers, unzipped
PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.11"

LAYERS: dict[str, str] = {
    "core": "the optiloop package and its runtime dependencies (fastapi, pydantic, numpy, threadpoolctl, "
    "jinja2, jsonschema, httpx, sacrebleu, rouge-score + nltk, phonenumberslite, sentencepiece)",
    "aws": "Mangum and Powertools (logger, tracer, metrics, batch, idempotency)",
    "sql": "SQLAlchemy 2 and psycopg 3 for SQL connectors (automl); Optuna for the AutoML fan-out's "
    "planning (workflow_steps)",
}
# function -> (layers it uses, whether it serves HTTP)
FUNCTIONS: dict[str, tuple[tuple[str, ...], bool]] = {
    "authorizer": (("core",), True),  # in front of every request: no Mangum/Powertools, smallest start
    "projects": (("core", "aws"), True),
    "suggest": (("core", "aws"), True),
    "ingest": (("core", "aws"), True),
    "coverage": (("core", "aws"), True),
    "audit": (("core", "aws"), True),
    "prompts": (("core", "aws"), True),
    "approvals": (("core", "aws"), True),
    "evals": (("core", "aws"), True),
    "generate": (("core", "aws"), True),
    "ingest_queue": (("core", "aws"), False),
    "retrain_check": (("core", "aws"), False),
    "audit_digest": (("core", "aws"), False),
    "workflow_steps": (("core", "aws", "sql"), False),  # + Optuna: plans AutoML batches (fanout)
    "training": (("core", "aws"), True),
    "models": (("core", "aws"), True),
    "deployments": (("core", "aws"), True),
    "inference": (("core", "aws"), True),  # numpy trees runtime; see docs/models.md on ONNX in Lambda
    "monitoring": (("core", "aws"), True),
    "monitors": (("core", "aws"), False),
    "workflows": (("core", "aws"), True),
    "webhooks": (("core", "aws"), True),
    "webhook_dispatch": (("core", "aws"), False),
    "connectors": (("core", "aws"), True),
    "decisions": (("core", "aws"), True),  # numpy bandits and statistics; documents only
    "automl": (("core", "aws", "sql"), True),  # numpy ingest and experiments; SQL connectors' reads
}
# Never on the HTTP path (ARCHITECTURE.md): distribution names as pip normalises them, and the
# import names they install, because a vendored copy has no dist-info to find.
FORBIDDEN: dict[str, str] = {
    "scikit-learn": "sklearn",
    "xgboost": "xgboost",
    "torch": "torch",
    "sagemaker": "sagemaker",
}
# The python3.11 runtime ships the AWS SDK and its dependencies; a second copy in a layer would only
# add ~80 MB and shadow the runtime's. Installed anyway as transitive requirements (aws-xray-sdk
# needs botocore), so they are pruned after install.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")
SKIP_DIRS = {"__pycache__"}
# Pure-Python requirements published as an sdist only. `pip install --platform` refuses sources, so
# each is first built into a py3-none-any wheel here (`pip wheel --no-deps`: it runs no code of
# ours on the target and the result is platform-independent), then installed from that wheel.
SOURCE_ONLY = ("rouge-score",)


def normalise(name: str) -> str:
    """PEP 503 name: 'Scikit_Learn' and 'scikit-learn' are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def tree_size(path: Path) -> int:
    """Bytes Lambda counts for a tree: the sum of its files' sizes (a symlink counts as the link)."""
    if not path.exists():
        return 0
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def installed_distributions(site: Path) -> dict[str, Path]:
    """Normalised distribution name -> its .dist-info (or .egg-info) folder."""
    out: dict[str, Path] = {}
    for info in [*site.glob("*.dist-info"), *site.glob("*.egg-info")]:
        name = info.name.rsplit(".", 1)[0]
        name = re.split(r"-\d", name, maxsplit=1)[0]  # strip "-<version>"
        out[normalise(name)] = info
    return out


def find_forbidden(site: Path, forbidden: Mapping[str, str] = FORBIDDEN) -> list[str]:
    """Forbidden distributions or top-level import packages found in one site-packages tree."""
    dists = installed_distributions(site)
    found = set()
    for dist, module in forbidden.items():
        if normalise(dist) in dists or (site / module).is_dir() or (site / f"{module}.py").is_file():
            found.add(dist)
    return sorted(found)


@dataclass(frozen=True)
class FunctionReport:
    name: str
    http: bool
    layers: tuple[str, ...]
    code_bytes: int
    total_bytes: int
    forbidden: tuple[str, ...]  # on the HTTP path only

    @property
    def problems(self) -> list[str]:
        out = []
        if self.total_bytes > LIMIT_BYTES:
            out.append(
                f"{self.name}: {self.total_bytes / MB:.1f} MB unzipped with its layers, over Lambda's "
                f"{LIMIT_BYTES / MB:.0f} MB"
            )
        if self.forbidden:
            out.append(
                f"{self.name}: {', '.join(self.forbidden)} on the HTTP path (layers {', '.join(self.layers)})"
            )
        return out


def check(
    layer_sites: Mapping[str, Path],
    function_dirs: Mapping[str, Path],
    functions: Mapping[str, tuple[tuple[str, ...], bool]] = FUNCTIONS,
) -> tuple[dict[str, int], list[FunctionReport]]:
    """Sizes of every layer and every function with its layers, and what is wrong with each.

    `layer_sites` maps a layer to its `python/` folder (what Lambda unpacks under /opt/python)."""
    layer_bytes = {name: tree_size(site) for name, site in layer_sites.items()}
    forbidden = {name: find_forbidden(site) for name, site in layer_sites.items()}
    reports = []
    for name, (layers, http) in functions.items():
        code = tree_size(function_dirs[name])
        bad = sorted({f for layer in layers for f in forbidden[layer]}) if http else []
        reports.append(
            FunctionReport(
                name=name,
                http=http,
                layers=layers,
                code_bytes=code,
                total_bytes=code + sum(layer_bytes[layer] for layer in layers),
                forbidden=tuple(bad),
            )
        )
    return layer_bytes, reports


def render(layer_bytes: Mapping[str, int], reports: Sequence[FunctionReport]) -> str:
    lines = [
        f"{'layer':<16}{'unzipped MB':>12}",
        *(f"{n:<16}{b / MB:>12.2f}" for n, b in layer_bytes.items()),
        "",
    ]
    lines.append(f"{'function':<16}{'code MB':>10}{'+ layers MB':>13}{'limit MB':>10}  {'path':<5} status")
    for r in reports:
        status = "OK" if not r.problems else "FAIL"
        lines.append(
            f"{r.name:<16}{r.code_bytes / MB:>10.2f}{r.total_bytes / MB:>13.2f}{LIMIT_BYTES / MB:>10.0f}  "
            f"{'http' if r.http else 'async':<5} {status}"
        )
    return "\n".join(lines)


def _copy_package(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*SKIP_DIRS, "*.pyc"), dirs_exist_ok=True)


def prune(site: Path, names: Iterable[str]) -> list[str]:
    """Remove distributions (files listed in their RECORD, then the dist-info); returns what went."""
    dists = installed_distributions(site)
    removed = []
    for name in names:
        info = dists.get(normalise(name))
        if info is None:
            continue
        record = info / "RECORD"
        tops: set[str] = set()
        if record.is_file():
            for line in record.read_text().splitlines():
                rel = line.split(",", 1)[0]
                if rel and not rel.startswith(".."):
                    tops.add(rel.split("/", 1)[0])
        for top in tops:
            path = site / top
            if path.is_dir() and not path.name.endswith((".dist-info", ".egg-info")):
                shutil.rmtree(path, ignore_errors=True)
            elif path.is_file():
                path.unlink()
        shutil.rmtree(info, ignore_errors=True)
        removed.append(normalise(name))
    return removed


def compile_bytecode(tree: Path) -> bool:
    """Ship .pyc files. /opt and /var/task are read-only in Lambda, so without them every cold start
    compiles every module from source again (measured: about twice the import time of the app).
    Unchecked-hash pycs are never validated against the sources, which is right for files that
    cannot change, and immune to the mtimes a zip round trip rounds. Only an interpreter of the
    runtime's minor version writes pycs the runtime will use; any other skips (and says so)."""
    if sys.version_info[:2] != tuple(int(x) for x in PYTHON_VERSION.split(".")):
        here = f"{sys.version_info[0]}.{sys.version_info[1]}"
        print(f"warning: python {here} cannot precompile for {PYTHON_VERSION}; {tree} ships sources only "
              "(slower cold starts)", file=sys.stderr)  # fmt: skip
        return False
    ok = compileall.compile_dir(
        str(tree), quiet=2, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    if not ok:  # a file that does not compile would fail at import in Lambda too
        raise RuntimeError(f"byte-compiling {tree} failed")
    return True


def pinned(requirements: Path, names: Iterable[str]) -> list[str]:
    """The `name==version` lines of `requirements` for the given distributions."""
    wanted = {normalise(n) for n in names}
    out = []
    for line in requirements.read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if spec and normalise(re.split(r"[=<>!~\[; ]", spec, maxsplit=1)[0]) in wanted:
            out.append(spec)
    return out


def build_source_wheels(requirements: Path, wheels: Path, pip: Sequence[str]) -> list[str]:
    """Local py3-none-any wheels for the SOURCE_ONLY pins of `requirements`; returns those pins."""
    specs = pinned(requirements, SOURCE_ONLY)
    if specs:
        wheels.mkdir(parents=True, exist_ok=True)
        quiet = ["--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "wheel", *quiet, "--no-deps", "-w", str(wheels), *specs], check=True)
        bad = [w.name for w in wheels.glob("*.whl") if not w.name.endswith("-py3-none-any.whl")]
        if bad:
            raise RuntimeError(f"{bad}: SOURCE_ONLY packages must build pure-Python wheels")
    return specs


def build_layer(name: str, out: Path, pip: Sequence[str]) -> Path:
    site = out / "layers" / name / "python"
    shutil.rmtree(site.parent, ignore_errors=True)
    site.mkdir(parents=True)
    requirements = ROOT / "layers" / name / "requirements.txt"
    wheels = out / "wheels" / name
    local = ["--find-links", str(wheels)] if build_source_wheels(requirements, wheels, pip) else []
    cmd = [
        *pip, "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(site), "--platform", PLATFORM, "--implementation", "cp",
        "--python-version", PYTHON_VERSION, "--only-binary=:all:", "--upgrade",
        *local, "-r", str(requirements),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)
    # numpy comes with core, which every function carries: a second copy (Optuna pulls it) only adds size
    pruned = prune(site, RUNTIME_PROVIDED if name == "core" else (*RUNTIME_PROVIDED, "numpy"))
    if pruned:
        print(f"{name}: pruned runtime-provided {', '.join(pruned)}")
    if name == "core":
        _copy_package(ROOT / "shared" / "optiloop", site / "optiloop")
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    compile_bytecode(site)
    return site


def build_function(name: str, out: Path) -> Path:
    """`functions/__init__.py`, `functions/common/` and `functions/<name>/`: the handler string is
    `functions.<name>.handler.handler` with the package root as the code asset."""
    dest = out / "functions" / name
    shutil.rmtree(dest, ignore_errors=True)
    pkg = dest / "functions"
    pkg.mkdir(parents=True)
    shutil.copy2(ROOT / "functions" / "__init__.py", pkg / "__init__.py")
    for part in ("common", name):
        _copy_package(ROOT / "functions" / part, pkg / part)
    compile_bytecode(dest)
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build", help="build folder (default: ./build)")
    ap.add_argument("--check-only", action="store_true", help="measure an existing build, install nothing")
    args = ap.parse_args(argv)
    out: Path = args.out
    pip = [sys.executable, "-m", "pip"]
    if args.check_only:
        sites = {name: out / "layers" / name / "python" for name in LAYERS}
        dirs = {name: out / "functions" / name for name in FUNCTIONS}
        missing = [str(p) for p in [*sites.values(), *dirs.values()] if not p.is_dir()]
        if missing:
            print(f"nothing built at {missing[0]}; run without --check-only first", file=sys.stderr)
            return 2
    else:
        sites = {name: build_layer(name, out, pip) for name in LAYERS}
        dirs = {name: build_function(name, out) for name in FUNCTIONS}
    layer_bytes, reports = check(sites, dirs)
    print(render(layer_bytes, reports))
    problems = [p for r in reports for p in r.problems]
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
