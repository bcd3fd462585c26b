"""One synthesis of the whole app, two tenants side by side, shared by every infra test.

aws-cdk-lib's first import and the first synth in a process cost tens of seconds on a small machine,
so the app is built and synthesized exactly once per session; tests read the synthesized templates
(`Template.from_json`) and the cdk-nag report instead of synthesizing again.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_DEPRECATED", "quiet")

TENANTS = ("acme", "globex")
# acme runs the built-in deterministic catalogue; globex brings a model catalogue with Bedrock models
# (a foundation model, a cross-region profile, one in another region) and a keyed provider, so the
# catalogue-driven grants, the bundling and the secret wiring are all in the synthesized templates.
MODELS_FILE = "tests/infra/models_catalogue.json"
GATEWAY_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:optiloop/globex/gateway-AbCdEf"
CONFIGS: dict[str, dict[str, Any]] = {
    "acme": {},
    "globex": {"models_file": MODELS_FILE, "provider_secrets": (("GATEWAY_API_KEY", GATEWAY_SECRET),)},
}


@dataclass
class Synth:
    outdir: Path
    findings: list[Any]
    acks: dict[str, dict[str, str]]
    templates: dict[str, dict[str, Any]]  # tenant -> CloudFormation template
    stages: dict[str, Any]

    def resources(self, tenant: str, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.templates[tenant]["Resources"].items() if v["Type"] == kind}

    def state_machine(self, tenant: str, suffix: str) -> tuple[str, dict[str, Any]]:
        """The tenant's state machine named `<prefix>-<suffix>` (experiment workflow, automl)."""
        found = [
            (k, v)
            for k, v in self.resources(tenant, "AWS::StepFunctions::StateMachine").items()
            if str(v["Properties"].get("StateMachineName", "")).endswith(f"-{suffix}")
        ]
        assert len(found) == 1, f"{tenant}: expected one state machine named *-{suffix}"
        return found[0]

    def one(self, tenant: str, kind: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(tenant, kind)
        assert len(found) == 1, f"{tenant}: expected one {kind}, found {sorted(found)}"
        return next(iter(found.items()))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    from infra_cdk.app import build_app
    from infra_cdk.nag import acknowledgements, synth_and_check
    from infra_cdk.tenant import TenantConfig

    outdir = tmp_path_factory.mktemp("cdk.out")
    # placeholder layers: a built build/layers/ would be hashed and copied (~100 MB) on every run
    app, stages = build_app(
        [TenantConfig(t, **CONFIGS[t]) for t in TENANTS],
        outdir=str(outdir),
        context={"optiloop:layers": "placeholder"},
    )
    out, findings = synth_and_check(app)
    templates = {}
    for tenant, stage in stages.items():
        path = out / stage.artifact_id / f"{stage.stack.artifact_id}.template.json"
        templates[tenant] = json.loads(path.read_text())
    return Synth(out, findings, acknowledgements(app), templates, stages)


@pytest.fixture(scope="session")
def templates(synth: Synth) -> dict[str, Any]:
    """`aws_cdk.assertions.Template` per tenant, built from the JSON (no second synth)."""
    from aws_cdk.assertions import Template

    return {t: Template.from_json(synth.templates[t]) for t in TENANTS}


@pytest.fixture(scope="session")
def acme(templates: dict[str, Any]) -> Any:
    return templates["acme"]


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials in one region, and no endpoint override that would send moto's traffic out."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield
