"""layers/build.py's checks, on fake trees: no network, no pip, the same verdicts as a real build.

Sizes come from sparse files, so a "240 MB numpy" costs nothing on disk.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


@pytest.fixture(scope="module")
def build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("optiloop_layers_build", ROOT / "layers" / "build.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve their module by name
    spec.loader.exec_module(mod)
    return mod


def sized(path: Path, nbytes: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(nbytes)
    return path


def dist(site: Path, name: str, version: str = "1.0", files: dict[str, int] | None = None) -> None:
    """A fake installed distribution: its files and a dist-info whose RECORD lists them."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    files = files or {}
    for rel, size in files.items():
        sized(site / rel, size)
    (info / "RECORD").write_text("".join(f"{rel},sha256=x,{size}\n" for rel, size in files.items()))
    (info / "METADATA").write_text(f"Name: {name}\nVersion: {version}\n")


def fake_build(build: ModuleType, out: Path, core_mb: float = 60, aws_mb: float = 5) -> None:
    core = out / "layers" / "core" / "python"
    dist(core, "numpy", "2.2.6", {"numpy/_core/_multiarray_umath.so": int(core_mb * MB)})
    dist(core, "fastapi", "0.165.0", {"fastapi/__init__.py": 2048})
    sized(core / "optiloop" / "__init__.py", 1024)
    aws = out / "layers" / "aws" / "python"
    dist(aws, "aws_lambda_powertools", "3.37.0", {"aws_lambda_powertools/__init__.py": int(aws_mb * MB)})
    dist(out / "layers" / "sql" / "python", "sqlalchemy", "2.1.9", {"sqlalchemy/__init__.py": 4096})
    for name in build.FUNCTIONS:
        sized(out / "functions" / name / "functions" / name / "handler.py", 4096)


def sites(out: Path) -> dict[str, Path]:
    return {name: out / "layers" / name / "python" for name in ("core", "aws", "sql")}


def dirs(build: ModuleType, out: Path) -> dict[str, Path]:
    return {name: out / "functions" / name for name in build.FUNCTIONS}


def test_a_lean_build_passes_and_is_tabled(
    build: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fake_build(build, tmp_path)
    layer_bytes, reports = build.check(sites(tmp_path), dirs(build, tmp_path))
    assert layer_bytes["core"] == pytest.approx(60 * MB, abs=MB)
    assert all(not r.problems for r in reports)
    suggest = next(r for r in reports if r.name == "suggest")
    assert suggest.http and suggest.total_bytes == layer_bytes["core"] + layer_bytes["aws"] + 4096
    authorizer = next(r for r in reports if r.name == "authorizer")
    assert authorizer.total_bytes == layer_bytes["core"] + 4096  # core only
    assert build.main(["--check-only", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "suggest" in table and "60.0" in table and "OK" in table and "FAIL" not in table


def test_over_250_mb_with_layers_fails_naming_the_function(
    build: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fake_build(build, tmp_path, core_mb=240, aws_mb=15)
    _, reports = build.check(sites(tmp_path), dirs(build, tmp_path))
    over = {r.name for r in reports if r.problems}
    assert over == set(build.FUNCTIONS) - {"authorizer"}  # 240 MB alone still fits
    assert "over Lambda's 250 MB" in next(r for r in reports if r.name == "suggest").problems[0]
    assert build.main(["--check-only", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and "error: suggest:" in captured.err


@pytest.mark.parametrize(
    "plant",
    [
        lambda site: dist(site, "scikit_learn", "1.5.0", {"sklearn/__init__.py": 10}),  # wheel dist-info name
        lambda site: sized(site / "torch" / "__init__.py", 10),  # vendored, no dist-info
        lambda site: dist(site, "sagemaker", "2.200.0", {"sagemaker/__init__.py": 10}),
        lambda site: dist(site, "XGBoost", "2.0.0", {"xgboost/__init__.py": 10}),
    ],
)
def test_heavy_libraries_on_the_http_path_fail(build: ModuleType, tmp_path: Path, plant) -> None:
    fake_build(build, tmp_path)
    plant(sites(tmp_path)["aws"])
    _, reports = build.check(sites(tmp_path), dirs(build, tmp_path))
    flagged = {r.name for r in reports if r.forbidden}
    http = {name for name, (layers, is_http) in build.FUNCTIONS.items() if is_http and "aws" in layers}
    assert flagged == http  # the async functions may carry them; the authorizer has no aws layer
    assert all("on the HTTP path" in p for r in reports if r.forbidden for p in r.problems)


def test_runtime_provided_sdk_is_pruned_and_nothing_else(build: ModuleType, tmp_path: Path) -> None:
    site = tmp_path / "python"
    dist(site, "botocore", "1.34.0", {"botocore/__init__.py": 100, "botocore/data/x.json": 5 * MB})
    dist(site, "jmespath", "1.0.1", {"jmespath/__init__.py": 10})
    dist(site, "python_dateutil", "2.9.0", {"dateutil/__init__.py": 10})
    dist(site, "mangum", "0.22.0", {"mangum/__init__.py": 10})
    removed = build.prune(site, build.RUNTIME_PROVIDED)
    assert sorted(removed) == ["botocore", "jmespath", "python-dateutil"]
    assert sorted(p.name for p in site.iterdir()) == ["mangum", "mangum-0.22.0.dist-info"]


def test_function_packages_hold_only_their_handler_and_common(build: ModuleType, tmp_path: Path) -> None:
    out = build.build_function("suggest", tmp_path)
    pkg = out / "functions"
    assert sorted(p.name for p in pkg.iterdir() if p.name != "__pycache__") == [
        "__init__.py",
        "common",
        "suggest",
    ]
    assert (pkg / "suggest" / "handler.py").is_file() and (pkg / "common" / "http.py").is_file()
    if sys.version_info[:2] == (3, 11):  # precompiled for the runtime, never copied from the tree
        assert {p.name.split(".")[0] for p in pkg.rglob("*.pyc")} >= {"handler", "http", "observe"}


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="pycs only for the runtime's python")
def test_bytecode_is_shipped_and_never_revalidated(build: ModuleType, tmp_path: Path) -> None:
    """Lambda's /opt is read-only: without shipped pycs every cold start compiles from source."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("X = 1\n")
    assert build.compile_bytecode(tmp_path)
    [pyc] = (tmp_path / "pkg" / "__pycache__").glob("mod.cpython-311.pyc")
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01  # hash-based, source not checked: immune to the mtimes a zip round trip rounds


def test_check_only_without_a_build_says_so(build: ModuleType, tmp_path: Path) -> None:
    assert build.main(["--check-only", "--out", str(tmp_path / "nothing")]) == 2


def test_requirements_never_name_a_forbidden_package(build: ModuleType) -> None:
    for req in (ROOT / "layers").glob("*/requirements.txt"):
        names = {
            build.normalise(line.split("==")[0].split(">=")[0].split("[")[0].strip())
            for line in req.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
        assert not names & {build.normalise(n) for n in build.FORBIDDEN}, req
    assert set(build.LAYERS) == {p.parent.name for p in (ROOT / "layers").glob("*/requirements.txt")}


def test_every_function_the_cdk_app_deploys_is_built_and_measured(build: ModuleType) -> None:
    """A function missing here would deploy without its code package being sized or checked."""
    from infra_cdk.functions import SPECS

    assert set(build.FUNCTIONS) == {s.package for s in SPECS}
    for spec in SPECS:
        assert build.FUNCTIONS[spec.package][0] == spec.layers, spec.key
