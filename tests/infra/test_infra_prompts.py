"""The prompt side's infrastructure: who may call models and read keys, the bundled catalogue, TTL.

acme deploys the built-in deterministic catalogue; globex a catalogue with Bedrock models and a keyed
provider (conftest.CONFIGS), so both the "no model access at all" and the "exactly these models"
shapes are asserted on synthesized templates.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from cfn_fake import (
    actions,
    as_list,
    flat,
    logical_id_of,
    resources_for,
    statements,
    without_data_secrets,
    without_token_secret,
)
from infra_cdk.tenant import TenantConfig, TenantError

REPO = Path(__file__).resolve().parents[2]
MODELS_FILE = "tests/infra/models_catalogue.json"  # globex's (conftest.CONFIGS)
MODEL_FUNCTIONS = {"functions.generate.handler.handler", "functions.evals.handler.handler"}
SECRET_ARN = re.compile(r"^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-\w{6}$")
SECRETISH = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|CREDENTIAL", re.I)
# variables whose names look secret but whose values are references, checked below
REFERENCES = {
    "OPTILOOP_KMS_KEY_ID",
    "OPTILOOP_PROVIDER_SECRETS",
    "OPTILOOP_AUDIT_SIGNING_KEY",
    "OPTILOOP_TOKEN_SECRET_ARN",  # an ARN: the value is read at cold start (infra_cdk/auth.py)
    "OPTILOOP_SECRETS_PREFIX",  # a name prefix: connectors' secrets (tests/infra/test_infra_connectors.py)
}


def functions(synth: Any, tenant: str) -> dict[str, dict[str, Any]]:
    """The platform's functions by handler (not CDK's own providers, e.g. the console's
    BucketDeployment, which holds no platform configuration)."""
    return {
        f["Properties"]["Handler"]: f["Properties"]
        for k, f in synth.resources(tenant, "AWS::Lambda::Function").items()
        if not k.startswith("CustomCDK")
    }


def role_statements(synth: Any, tenant: str, handler: str) -> list[dict[str, Any]]:
    return statements(synth.templates[tenant], logical_id_of(functions(synth, tenant)[handler]["Role"]))


def env(props: dict[str, Any]) -> dict[str, Any]:
    return dict(props["Environment"]["Variables"])


@pytest.mark.parametrize("tenant", ["acme", "globex"])
def test_only_generate_and_evals_may_call_models_or_read_secrets(synth: Any, tenant: str) -> None:
    for handler in functions(synth, tenant):
        acts = actions(without_data_secrets(without_token_secret(role_statements(synth, tenant, handler))))
        model_acts = {a for a in acts if a.startswith(("bedrock:", "secretsmanager:"))}
        if tenant == "acme" or handler not in MODEL_FUNCTIONS:
            assert not model_acts, (tenant, handler, model_acts)  # the built-in catalogue calls nothing
        else:
            assert model_acts == {"bedrock:InvokeModel", "secretsmanager:GetSecretValue"}, handler


def test_bedrock_grants_name_exactly_the_catalogues_models(synth: Any) -> None:
    p = "arn:<AWS::Partition>:bedrock"
    profile = (
        f"{p}:<AWS::Region>:<AWS::AccountId>:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"
    )
    expected = {
        f"{p}:<AWS::Region>::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        f"{p}:eu-west-1::foundation-model/amazon.titan-text-lite-v1",  # its provider names its region
        profile,
        f"{p}:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0",  # wherever the profile routes
    }
    for handler in MODEL_FUNCTIONS:
        stmts = role_statements(synth, "globex", handler)
        assert {flat(r) for _, r in resources_for(stmts, "bedrock:")} == expected, handler
        for stmt in stmts:
            if any(a.startswith("bedrock:") for a in as_list(stmt["Action"])):
                wild = [flat(r) for r in as_list(stmt["Resource"]) if "*" in flat(r)]
                if wild:  # the one wildcard (the region) holds only through that profile
                    assert wild == [f"{p}:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"]
                    [(key, value)] = stmt["Condition"]["StringEquals"].items()
                    assert key == "bedrock:InferenceProfileArn" and flat(value) == profile


@pytest.mark.parametrize("tenant", ["acme", "globex"])
def test_provider_keys_are_secret_arns_never_values(synth: Any, tenant: str) -> None:
    for handler, props in functions(synth, tenant).items():
        variables = env(props)
        secretish = {k for k in variables if SECRETISH.search(k)} - REFERENCES
        assert not secretish, (tenant, handler, secretish)
        assert "OPTILOOP_ADMIN_TOKEN" not in variables and "GATEWAY_API_KEY" not in variables
        assert logical_id_of(variables["OPTILOOP_KMS_KEY_ID"]).startswith("DataKey")
        raw = variables.get("OPTILOOP_PROVIDER_SECRETS")
        if tenant == "globex" and handler in MODEL_FUNCTIONS:
            mapping = json.loads(raw)
            assert mapping == dict(synth.stages["globex"].config.provider_secrets)
            assert set(mapping) == {"GATEWAY_API_KEY"}
            assert all(SECRET_ARN.match(v) for v in mapping.values())
            stmts = without_token_secret(role_statements(synth, tenant, handler))
            grants = {flat(r) for _, r in resources_for(stmts, "secrets")}
            assert grants == set(mapping.values())  # that one secret, by its complete ARN
        else:
            assert raw is None, (tenant, handler)
    catalogue = (REPO / MODELS_FILE).read_text()
    assert "api_key_env" in catalogue and "sk-" not in catalogue  # the catalogue names variables only


def test_catalogue_is_bundled_into_generate_and_evals_only(synth: Any) -> None:
    assert synth.stages["globex"].config.models_file == MODELS_FILE
    for tenant in ("acme", "globex"):
        for handler, props in functions(synth, tenant).items():
            bundled = env(props).get("OPTILOOP_MODELS_FILE")
            if tenant == "globex" and handler in MODEL_FUNCTIONS:
                assert bundled == "/var/task/models.json"
                asset_hash = props["Code"]["S3Key"].removesuffix(".zip")
                [asset] = [p for p in synth.outdir.rglob(f"asset.{asset_hash}") if p.is_dir()]
                assert (asset / "models.json").read_bytes() == (REPO / MODELS_FILE).read_bytes()
                package = handler.split(".")[1]
                assert sorted(p.name for p in (asset / "functions").iterdir()) == [
                    "__init__.py",
                    "common",
                    package,
                ]
            else:
                assert bundled is None, (tenant, handler)  # the built-in catalogue


def _catalogue(tmp_path: Path, providers: dict[str, Any], models: list[dict[str, Any]]) -> str:
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"providers": providers, "models": models}))
    return str(path)


MODEL = {"input_usd_per_1m": 1, "output_usd_per_1m": 1, "quality": 0.5, "p95_latency_ms": 100,
         "context_tokens": 1000}  # fmt: skip
KEYED = {"gw": {"type": "openai_compatible", "base_url": "https://x.example/v1", "api_key_env": "GW_KEY"}}
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gw-key-AbCdEf"


def test_catalogue_problems_stop_synth_with_their_reason(tmp_path: Path) -> None:
    from infra_cdk.models import BedrockModel, model_access

    keyed = _catalogue(tmp_path, KEYED, [{"name": "gw-1", "provider": "gw", "model_id": "m", **MODEL}])
    access = model_access(TenantConfig("acme", models_file=keyed, provider_secrets=(("GW_KEY", SECRET),)))
    assert access.secrets == (("GW_KEY", SECRET),) and access.bedrock == ()
    with pytest.raises(TenantError, match="GW_KEY"):  # a keyed provider without its secret
        model_access(TenantConfig("acme", models_file=keyed))
    with pytest.raises(TenantError, match="OTHER"):  # a secret no provider reads
        model_access(
            TenantConfig("acme", models_file=keyed, provider_secrets=(("GW_KEY", SECRET), ("OTHER", SECRET)))
        )
    local = _catalogue(
        tmp_path, {"cpu": {"type": "local_llm"}}, [{"name": "s", "provider": "cpu", "model_id": "s", **MODEL}]
    )
    with pytest.raises(TenantError, match="local_llm"):
        model_access(TenantConfig("acme", models_file=local))
    bad = _catalogue(tmp_path, {"d": {"type": "deterministic", "api_key": "sk-123"}}, [])
    with pytest.raises(TenantError, match="secrets do not belong"):  # the core's own parser
        model_access(TenantConfig("acme", models_file=bad))
    assert BedrockModel("us.meta.llama3-1-8b-instruct-v1:0").kind == "profile"
    assert BedrockModel("arn:aws:bedrock:us-east-1:1:provisioned-model/x").kind == "arn"


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"models_file": "no/such/models.json"}, "not a file"),
        ({"models_file": MODELS_FILE, "provider_secrets": (("GW_KEY", "arn:aws:secretsmanager:eu-west-1:"
                                                                      "123456789012:secret:gw-key"),)},
         "complete Secrets Manager ARN"),  # no random suffix: the grant would need a wildcard
        ({"models_file": MODELS_FILE, "provider_secrets": (("gw-key", SECRET),)}, "environment variable"),
        ({"provider_secrets": (("GW_KEY", SECRET),)}, "needs a models_file"),
    ],
)  # fmt: skip
def test_model_settings_are_validated(settings: dict[str, Any], words: str) -> None:
    with pytest.raises(TenantError, match=words):
        TenantConfig("acme", **settings)


def test_model_settings_from_context() -> None:
    ctx = {"tenant": "acme", "models_file": MODELS_FILE, "provider_secrets": json.dumps({"GW_KEY": SECRET})}
    config = TenantConfig.from_context(ctx.get)
    assert config.models_path == REPO / MODELS_FILE and config.provider_secrets == (("GW_KEY", SECRET),)
    with pytest.raises(TenantError, match="provider_secrets"):
        TenantConfig.from_context({**ctx, "provider_secrets": "GW_KEY=arn"}.get)


def test_eval_runs_have_their_own_throttle(synth: Any) -> None:
    [(_, stage)] = synth.resources("acme", "AWS::ApiGateway::Stage").items()
    settings = {s["ResourcePath"]: s for s in stage["Properties"]["MethodSettings"]}
    runs = settings["/~1v1~1evals~1run"]
    assert runs["HttpMethod"] == "POST" and (runs["ThrottlingRateLimit"], runs["ThrottlingBurstLimit"]) == (
        1,
        2,
    )


def test_docs_expire_through_the_tables_ttl_attribute(acme: Any) -> None:
    """The DocRepo adapter writes `expires_at` to the attribute the table's TTL is enabled on."""
    from optiloop.store.dynamodb import table_spec as spec

    acme.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"TimeToLiveSpecification": {"AttributeName": spec.TTL_ATTRIBUTE, "Enabled": True}},
    )
    tree = ast.parse((REPO / "shared" / "optiloop" / "store" / "dynamodb" / "docs.py").read_text())
    imported = {
        alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module == "optiloop.store.dynamodb.table_spec"
        for alias in node.names
    }
    assert "TTL_ATTRIBUTE" in imported


def test_dashboard_shows_generate_and_eval_durations(synth: Any) -> None:
    from test_infra_monitoring import dashboard

    widgets = {w["properties"].get("title"): w["properties"] for w in dashboard(synth)["widgets"]}

    def names(title: str) -> set[tuple[str, str]]:
        return {(m[1], m[3]) for m in widgets[title]["metrics"]}  # (metric, service dimension)

    assert names("Generate latency (ms)") == {("GenerateLatency", "generate")}
    assert names("Generate cost (USD) and tokens") == {
        ("GenerateCostUsd", "generate"),
        ("GenerateTokens", "generate"),
    }
    assert names("Guardrail blocks and cache hits") == {
        ("GuardrailBlocks", "generate"),
        ("GenerateCacheHits", "generate"),
    }
    assert names("Eval run duration (ms)") == {("EvalRunLatency", "evals")}
    assert widgets["Eval run duration (ms)"]["annotations"]["horizontal"][0]["value"] == 29_000


def test_app_reports_a_catalogue_problem_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    from infra_cdk.app import main

    assert main(["-c", "tenant=acme", "-c", f"models_file={MODELS_FILE}"]) == 2
    assert "GATEWAY_API_KEY" in capsys.readouterr().err  # the keyed provider has no secret
