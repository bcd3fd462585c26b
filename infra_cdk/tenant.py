"""Who a deployment is for, validated before any construct exists.

Every physical name that is not CDK-generated derives from the tenant, so a bad tenant string would
surface late as an obscure CloudFormation error (a bucket or alias name rule) or, worse, collide with
another tenant's resources. Checking it up front keeps that failure at synth, with its reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TENANT_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,18})[a-z0-9]$")
"""3-20 of lowercase letters, digits and hyphens, not starting or ending with a hyphen: the
intersection of what S3, KMS aliases, CloudFormation stack names and dashboard names accept once
prefixed with `optiloop-`, and a leading hyphen would read as a flag on every CLI."""

DEFAULT_TRAINING_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
"""AWS's scikit-learn training container in us-east-1 (script mode runs training_jobs/<name>/);
other regions host it under another account id: override with `-c training_image=...`."""

REPO = Path(__file__).resolve().parents[1]
ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SECRET_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$"
)
"""A complete secret ARN, with the six random characters Secrets Manager appends: a partial ARN
would need a `-??????` wildcard in the grant, and a name could match a later secret of that name."""


class TenantError(ValueError):
    """The tenant (or a per-tenant setting) cannot be deployed; the message says why."""


def validate_tenant(tenant: object) -> str:
    if not isinstance(tenant, str) or not tenant:
        raise TenantError("context 'tenant' is required: cdk synth -c tenant=<name> (e.g. -c tenant=acme)")
    if not TENANT_RE.match(tenant):
        raise TenantError(
            f"tenant {tenant!r} must be 3-20 lowercase letters, digits or hyphens, "
            "starting and ending with a letter or digit"
        )
    return tenant


@dataclass(frozen=True)
class TenantConfig:
    """What differs between tenants. Defaults suit a small team; each is a `-c key=value` context."""

    tenant: str
    alarm_email: str | None = None
    training_image: str = DEFAULT_TRAINING_IMAGE
    retrain_check_minutes: int = 60
    api_rate_limit: int = 50  # steady requests/s per tenant stage; burst is twice that
    # per principal (all its keys and tokens), API Gateway's usage plan (optiloop.auth.usage_plan):
    # steady requests/s (None: half of api_rate_limit, so no one principal takes the tenant's whole
    # rate), burst (None: twice the rate), and requests a day (0: no quota)
    principal_rate_limit: int | None = None
    principal_burst: int | None = None
    principal_quota_per_day: int = 0
    audit_retention_days: int = 365
    # A model catalogue (JSON, optiloop.prompts.catalog) bundled into generate and evals; None: the
    # built-in deterministic catalogue. A path relative to the repository root, or absolute.
    models_file: str | None = None
    # (api_key_env, complete secret ARN) pairs: provider keys the functions fetch at cold start
    provider_secrets: tuple[tuple[str, str], ...] = ()
    # Where people open the console: its /console/oidc/callback is the Cognito app client's only
    # callback URL (https, or http on localhost for a console run on one's own machine)
    console_url: str = "http://localhost:8080"
    # AutoML on AWS (infra_cdk/automl_workflow.py): how many trials run at once (the Map's
    # MaxConcurrency and the batch each plan asks for; mind the account's SageMaker training quota),
    # and the ECR image with optiloop[train] the trial jobs run on ("": trial jobs fail saying so)
    automl_max_concurrency: int = 4
    automl_image: str = ""

    def __post_init__(self) -> None:
        validate_tenant(self.tenant)
        if not re.fullmatch(
            r"https://[A-Za-z0-9.\-]+(:\d+)?(/[^\s?#]*)?|http://localhost(:\d+)?", self.console_url
        ):
            raise TenantError(
                f"console_url {self.console_url!r} must be https://host[/path] (or http://localhost:port)"
            )
        if self.alarm_email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.alarm_email):
            raise TenantError(f"alarm_email {self.alarm_email!r} is not an e-mail address")
        if not 5 <= self.retrain_check_minutes <= 24 * 60:
            raise TenantError("retrain_check_minutes must be between 5 and 1440")
        if not 1 <= self.api_rate_limit <= 10_000:
            raise TenantError("api_rate_limit must be between 1 and 10000 requests per second")
        if not 1 <= self.principal_rate <= self.api_rate_limit:
            raise TenantError(
                "principal_rate_limit must be between 1 and api_rate_limit requests per second "
                "(a principal's limit above the stage's would never apply)"
            )
        if not self.principal_rate <= self.principal_burst_limit <= 5000:
            raise TenantError("principal_burst must be between principal_rate_limit and 5000 requests")
        if not 0 <= self.principal_quota_per_day <= 10**9:
            raise TenantError("principal_quota_per_day must be between 0 (no quota) and 1000000000")
        if not 1 <= self.automl_max_concurrency <= 40:
            raise TenantError("automl_max_concurrency must be between 1 and 40 trials at once")
        if self.automl_image and not re.fullmatch(
            r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[^\s]+", self.automl_image
        ):
            raise TenantError(
                f"automl_image {self.automl_image!r} must be an ECR image URI (<account>.dkr.ecr...)"
            )
        if not 1 <= self.audit_retention_days <= 3650:
            raise TenantError("audit_retention_days must be between 1 and 3650")
        if self.models_path is not None and not self.models_path.is_file():
            raise TenantError(f"models_file {self.models_file!r} is not a file (relative to {REPO})")
        for name, arn in self.provider_secrets:
            if not ENV_NAME_RE.match(name):
                raise TenantError(
                    f"provider_secrets: {name!r} is not an environment variable name (A-Z 0-9 _)"
                )
            if not SECRET_ARN_RE.match(arn):
                raise TenantError(
                    f"provider_secrets[{name}]: {arn!r} is not a complete Secrets Manager ARN "
                    "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)"
                )
        if self.provider_secrets and self.models_file is None:
            raise TenantError("provider_secrets needs a models_file whose providers name them in api_key_env")

    @property
    def prefix(self) -> str:
        """The stem of every tenant-derived physical name."""
        return f"optiloop-{self.tenant}"

    @property
    def principal_rate(self) -> int:
        """Requests a second one principal may send, steadily (the usage plan's throttle rate)."""
        if self.principal_rate_limit is not None:
            return self.principal_rate_limit
        return max(1, self.api_rate_limit // 2)

    @property
    def principal_burst_limit(self) -> int:
        return 2 * self.principal_rate if self.principal_burst is None else self.principal_burst

    @property
    def models_path(self) -> Path | None:
        if self.models_file is None:
            return None
        path = Path(self.models_file)
        return path if path.is_absolute() else REPO / path

    @classmethod
    def from_context(cls, get: Any) -> TenantConfig:
        """Build from a context getter (`node.try_get_context`); context values arrive as strings
        from `-c key=value`, so numbers are converted here, once."""
        values: dict[str, Any] = {"tenant": validate_tenant(get("tenant"))}
        for key in ("alarm_email", "training_image", "models_file", "console_url", "automl_image"):
            if get(key):
                values[key] = str(get(key))
        for key in (
            "retrain_check_minutes",
            "api_rate_limit",
            "principal_rate_limit",
            "principal_burst",
            "principal_quota_per_day",
            "audit_retention_days",
            "automl_max_concurrency",
        ):
            raw = get(key)
            if raw is not None and raw != "":
                try:
                    values[key] = int(raw)
                except (TypeError, ValueError):
                    raise TenantError(f"context {key!r} must be an integer, got {raw!r}") from None
        secrets = get("provider_secrets")
        if secrets:
            values["provider_secrets"] = parse_provider_secrets(secrets)
        return cls(**values)


def parse_provider_secrets(raw: Any) -> tuple[tuple[str, str], ...]:
    """`{"OPENAI_API_KEY": "arn:aws:secretsmanager:...", ...}`: an object in cdk.json, or the same as a
    JSON string from `-c provider_secrets='{...}'`. Sorted, so the synthesized template is stable."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TenantError(f"context 'provider_secrets' is not JSON: {exc.msg}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise TenantError('context \'provider_secrets\' must be {"ENV_VAR_NAME": "secret ARN", ...}')
    return tuple(sorted(raw.items()))
