"""Token and OIDC settings (`Settings.auth`), read from OPTILOOP_TOKEN_* and OPTILOOP_OIDC_* variables.

Kept beside the code that uses them rather than in config.py, which only holds one `auth` field: the
rules here (secret length, issuer URL, the group -> role map) are about tokens, not about the process.
Validated once at start like every setting, with the variable's name in the message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optiloop.store.records import ROLES

MIN_SECRET_CHARS = 32  # HS256 wants a key at least as long as its hash: 32 random characters or more
OIDC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _error(message: str) -> Exception:
    from optiloop.config import ConfigError  # config imports this module; by now it is loaded

    return ConfigError(message)


def parse_secrets(raw: str) -> list[tuple[str | None, str]]:
    """`secret` or `kid:secret`, comma-separated; the first signs, all verify (rotation)."""
    out: list[tuple[str | None, str]] = []
    for entry in raw.split(","):
        entry = entry.strip()
        kid, sep, secret = entry.partition(":")
        if not sep:
            kid, secret = "", entry
        if kid and not _KID.fullmatch(kid):
            raise _error("OPTILOOP_TOKEN_SECRET: a key id must be 1-64 of A-Z a-z 0-9 . _ -")
        if len(secret) < MIN_SECRET_CHARS or any(c.isspace() for c in secret):
            raise _error(
                f"OPTILOOP_TOKEN_SECRET: each secret must be {MIN_SECRET_CHARS}+ characters, no spaces"
            )
        out.append((kid or None, secret))
    return out


@dataclass(frozen=True)
class AuthSettings:
    # Access tokens (POST /v1/auth/token). HS256 with these secrets; or ES256/EdDSA with the PEM keys
    # of OPTILOOP_TOKEN_KEYS_FILE (which wins). Neither: a secret in the data dir (local), a random one
    # per process (memory), none on AWS (token issue is then a 501; API keys still work).
    token_secret: str | None = None
    # AWS: the Secrets Manager secret holding OPTILOOP_TOKEN_SECRET's value, read once per cold start
    token_secret_arn: str | None = None
    token_keys_file: Path | None = None
    token_ttl_s: int = 900
    token_issuer: str = "optiloop"
    token_audience: str = "optiloop-api"
    # ID tokens of an OpenID Connect issuer, accepted beside API keys and access tokens
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_file: Path | None = None  # offline: the issuer's JWKS as a file instead of discovery
    oidc_principal_claim: str = "email"  # falls back to `sub` when the token lacks it
    oidc_role_claim: str = "groups"
    oidc_roles: tuple[tuple[str, str], ...] = ()  # (claim value, role); the highest matching role wins
    oidc_default_role: str | None = None  # for an identity no mapping matches; None: refused
    oidc_algorithms: tuple[str, ...] = OIDC_ALGORITHMS
    oidc_timeout_s: float = 3.0  # discovery and JWKS fetches
    oidc_jwks_ttl_s: int = 3600

    def __post_init__(self) -> None:
        if self.token_secret is not None:
            parse_secrets(self.token_secret)
        if self.token_keys_file is not None and not Path(self.token_keys_file).is_file():
            raise _error(f"OPTILOOP_TOKEN_KEYS_FILE must name a PEM file, got {str(self.token_keys_file)!r}")
        if not isinstance(self.token_ttl_s, int) or not 60 <= self.token_ttl_s <= 86400:
            raise _error(
                f"OPTILOOP_TOKEN_TTL_S must be an integer between 60 and 86400, got {self.token_ttl_s!r}"
            )
        for var, value in (
            ("OPTILOOP_TOKEN_ISSUER", self.token_issuer),
            ("OPTILOOP_TOKEN_AUDIENCE", self.token_audience),
        ):
            if not value or len(value) > 200 or any(c.isspace() for c in value):
                raise _error(f"{var} must be 1-200 characters without spaces, got {value!r}")
        if self.oidc_issuer is not None:
            if not re.match(r"^https://[^\s/]+", self.oidc_issuer) and not self.oidc_jwks_file:
                raise _error("OPTILOOP_OIDC_ISSUER must be an https URL (or give OPTILOOP_OIDC_JWKS_FILE)")
            if not self.oidc_audience:
                raise _error("OPTILOOP_OIDC_AUDIENCE is required with OPTILOOP_OIDC_ISSUER (the client id)")
        if self.oidc_jwks_file is not None and not Path(self.oidc_jwks_file).is_file():
            raise _error(f"OPTILOOP_OIDC_JWKS_FILE must name a JSON file, got {str(self.oidc_jwks_file)!r}")
        bad = [r for _, r in self.oidc_roles if r not in ROLES]
        if bad or (self.oidc_default_role is not None and self.oidc_default_role not in ROLES):
            raise _error(f"OPTILOOP_OIDC_ROLES / OPTILOOP_OIDC_DEFAULT_ROLE: roles are {', '.join(ROLES)}")
        unknown = [a for a in self.oidc_algorithms if a not in OIDC_ALGORITHMS]
        if unknown or not self.oidc_algorithms:
            raise _error(f"OPTILOOP_OIDC_ALGORITHMS must be some of {', '.join(OIDC_ALGORITHMS)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AuthSettings:
        values: dict[str, Any] = {}
        for var, name in (
            ("OPTILOOP_TOKEN_SECRET", "token_secret"),
            ("OPTILOOP_TOKEN_SECRET_ARN", "token_secret_arn"),
            ("OPTILOOP_TOKEN_ISSUER", "token_issuer"),
            ("OPTILOOP_TOKEN_AUDIENCE", "token_audience"),
            ("OPTILOOP_OIDC_ISSUER", "oidc_issuer"),
            ("OPTILOOP_OIDC_AUDIENCE", "oidc_audience"),
            ("OPTILOOP_OIDC_PRINCIPAL_CLAIM", "oidc_principal_claim"),
            ("OPTILOOP_OIDC_ROLE_CLAIM", "oidc_role_claim"),
            ("OPTILOOP_OIDC_DEFAULT_ROLE", "oidc_default_role"),
        ):
            if env.get(var):
                values[name] = env[var].strip()
        if "token_issuer" not in values and env.get("OPTILOOP_TENANT"):
            # each tenant its own issuer: a token of another tenant fails on `iss` even before its key
            values["token_issuer"] = f"optiloop/{env['OPTILOOP_TENANT'].strip()}"
        for var, name in (
            ("OPTILOOP_TOKEN_KEYS_FILE", "token_keys_file"),
            ("OPTILOOP_OIDC_JWKS_FILE", "oidc_jwks_file"),
        ):
            if env.get(var):
                values[name] = Path(env[var])
        for var, name, kind in (
            ("OPTILOOP_TOKEN_TTL_S", "token_ttl_s", int),
            ("OPTILOOP_OIDC_TIMEOUT_S", "oidc_timeout_s", float),
            ("OPTILOOP_OIDC_JWKS_TTL_S", "oidc_jwks_ttl_s", int),
        ):
            if env.get(var):
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    raise _error(f"{var} must be a number, got {env[var]!r}") from None
        if env.get("OPTILOOP_OIDC_ROLES"):
            values["oidc_roles"] = parse_role_map(env["OPTILOOP_OIDC_ROLES"])
        if env.get("OPTILOOP_OIDC_ALGORITHMS"):
            values["oidc_algorithms"] = tuple(
                a.strip() for a in env["OPTILOOP_OIDC_ALGORITHMS"].split(",") if a.strip()
            )
        return cls(**values)


def parse_role_map(raw: str) -> tuple[tuple[str, str], ...]:
    """`{"optiloop-admins": "admin", "ml-team": "contributor"}`: claim value -> role."""
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _error(f"OPTILOOP_OIDC_ROLES is not JSON: {exc.msg}") from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise _error('OPTILOOP_OIDC_ROLES must be {"<group>": "<role>", ...}')
    return tuple(sorted(mapping.items()))
