"""The model catalogue at synth: checked, bundled with the functions that call models, and turned into
the narrowest Bedrock and Secrets Manager grants it allows.

`-c models_file=path/to/models.json` (a `TenantConfig` setting) names a catalogue in the core's own
format (`optiloop.prompts.catalog`). It is validated here with the core's parser, so a typo fails
`make synth` with its JSON path instead of the first cold start; it is then copied into the code
package of `generate` and `evals` as `models.json`, and `OPTILOOP_MODELS_FILE` points at it. Without
one, both functions run the built-in deterministic catalogue and get no Bedrock permission at all.

IAM follows the catalogue, model by model (Converse is authorised by `bedrock:InvokeModel`; there is
no separate Converse action):

* a foundation model id (`anthropic.claude-3-haiku-20240307-v1:0`): that model's ARN in the
  provider's region (the stack's when the provider names none), no wildcard;
* a cross-region inference profile (`us.anthropic...`, `eu.`, `apac.`, `global.`...): the profile's
  ARN, plus the underlying foundation model in *every* region (`bedrock:*::foundation-model/<id>`),
  because Bedrock authorises the model in whichever region the profile routes to and that set is
  AWS's to change; the statement only applies through that profile (`bedrock:InferenceProfileArn`)
  and the wildcard is acknowledged per model;
* a full ARN (provisioned throughput, an application inference profile): that ARN as given.

API keys: a provider's `api_key_env` names a variable; `-c provider_secrets='{"NAME": "<secret ARN>"}'`
says which Secrets Manager secret fills it (functions/common/provider_keys.py, at cold start). Every
`api_key_env` of the catalogue needs a secret and every secret a provider, or synth stops: on Lambda
a key can come from nowhere else, and a plaintext environment variable is not an option.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra_cdk.tenant import REPO, TenantConfig, TenantError

MODELS_ENV = "OPTILOOP_MODELS_FILE"
SECRETS_ENV = "OPTILOOP_PROVIDER_SECRETS"
BUNDLED_NAME = "models.json"
BUNDLED_PATH = f"/var/task/{BUNDLED_NAME}"  # LAMBDA_TASK_ROOT: where a zip function's code is unpacked
# System-defined cross-region inference profiles are a geography prefix and a foundation model id.
PROFILE_RE = re.compile(r"^(us|eu|apac|us-gov|global|jp|au|ca)\.(.+)$")


@dataclass(frozen=True, order=True)
class BedrockModel:
    """One model id a Bedrock provider of the catalogue may call, and the region it calls it in."""

    model_id: str
    region: str | None = None  # None: the stack's region

    @property
    def kind(self) -> str:
        if self.model_id.startswith("arn:"):
            return "arn"
        return "profile" if PROFILE_RE.match(self.model_id) else "foundation"

    @property
    def foundation_id(self) -> str:
        """The foundation model behind a cross-region profile (the id itself otherwise)."""
        m = PROFILE_RE.match(self.model_id)
        return m.group(2) if m else self.model_id


@dataclass(frozen=True)
class ModelAccess:
    """What the catalogue means for the functions that call models."""

    path: Path | None = None
    bedrock: tuple[BedrockModel, ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()  # (api_key_env, secret ARN)


def _load_catalog(path: Path) -> Any:
    """The core's parser, so synth and the Lambda agree on what a valid catalogue is."""
    try:
        from optiloop.prompts.catalog import load_catalog
    except ImportError:  # not installed: use the source tree (the parser needs the stdlib only)
        sys.path.insert(0, str(REPO / "shared"))
        from optiloop.prompts.catalog import load_catalog
    from optiloop.config import ConfigError

    try:
        return load_catalog(path)
    except ConfigError as exc:
        raise TenantError(str(exc)) from None


def model_access(config: TenantConfig) -> ModelAccess:
    path = config.models_path
    if path is None:
        return ModelAccess()
    catalog = _load_catalog(path)
    types = {p.name: p for p in catalog.providers}
    local = sorted(p.name for p in catalog.providers if p.type == "local_llm")
    if local:
        raise TenantError(
            f"models_file: providers {local} are local_llm, which has no place on Lambda "
            "(no llama.cpp in the layers, no model file); keep them in a local catalogue"
        )
    bedrock = sorted(
        {
            BedrockModel(m.model_id, types[m.provider].region)
            for m in catalog.models
            if types[m.provider].type == "bedrock"
        }
    )
    needed = {p.api_key_env for p in catalog.providers if p.api_key_env}
    given = dict(config.provider_secrets)
    if needed - set(given):
        raise TenantError(
            f"models_file: providers read their key from {sorted(needed - set(given))}, which "
            "provider_secrets does not fill; on Lambda the key must come from Secrets Manager"
        )
    if set(given) - needed:
        raise TenantError(
            f"provider_secrets: {sorted(set(given) - needed)} is named by no provider's api_key_env "
            "in the models_file"
        )
    return ModelAccess(path=path, bedrock=tuple(bedrock), secrets=tuple(sorted(given.items())))
