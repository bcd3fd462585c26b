"""Model-provider API keys from Secrets Manager into the process environment, once per cold start.

The model catalogue names, per provider, the environment variable that holds its key (`api_key_env`),
and the provider reads that variable on each call. On Lambda the key itself must never be a function
environment variable: those sit in plaintext in the template and in `GetFunctionConfiguration`.
So CDK sets `OPTILOOP_PROVIDER_SECRETS` to `{"<api_key_env>": "<secret ARN>"}` (ARNs, no secrets),
grants the function `secretsmanager:GetSecretValue` on exactly those ARNs, and this module puts each
secret's value into `os.environ` under its name before the app is built. The core needs no change.

A secret that cannot be read fails the cold start with the variable's name (never the value): a
function that would answer every call of that provider with "key not set" is worse than one that
does not start, and Lambda retries the init on the next invocation, so a transient error heals.
A variable that is already set is left alone (local runs and tests bring their own).
Rotation takes effect in new execution environments; the key is not re-read while one stays warm.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, MutableMapping
from typing import Any

ENV = "OPTILOOP_PROVIDER_SECRETS"
_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")

Fetch = Callable[[str], Any]


class ProviderKeyError(RuntimeError):
    """`OPTILOOP_PROVIDER_SECRETS` is malformed or a secret could not be read."""


def parse_secret_map(raw: str) -> dict[str, str]:
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ProviderKeyError(f"{ENV} is not JSON: {exc.msg}") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and _NAME.match(k) and isinstance(v, str) and v for k, v in mapping.items()
    ):
        raise ProviderKeyError(f'{ENV} must be {{"ENV_VAR_NAME": "secret ARN", ...}}')
    return mapping


def load_provider_keys(
    environ: MutableMapping[str, str] | None = None, fetch: Fetch | None = None
) -> list[str]:
    """Set each named variable from its secret; returns the names it set."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV)
    if not raw:
        return []
    wanted = {name: arn for name, arn in parse_secret_map(raw).items() if not env.get(name)}
    if wanted and fetch is None:
        from aws_lambda_powertools.utilities.parameters import get_secret

        fetch = get_secret
    loaded = []
    for name, arn in wanted.items():
        assert fetch is not None
        try:
            value = fetch(arn)
        except Exception as exc:  # any SDK failure; re-raised with the variable's name
            raise ProviderKeyError(f"cannot read the secret for {name} ({type(exc).__name__})") from exc
        if isinstance(value, bytes):
            value = value.decode()
        if not isinstance(value, str) or not value.strip():
            raise ProviderKeyError(f"the secret for {name} is empty or not a string")
        env[name] = value.strip()
        loaded.append(name)
    return loaded
