"""The key ring that signs and verifies OptiLoop's access tokens, with key ids for rotation.

The first key signs; every key verifies, found by the token's `kid`. Rotating is: put the new key
first, keep the old one until the last token it signed has expired (`OPTILOOP_TOKEN_TTL_S`), then
drop it. HS256 keys are secrets and are never published; ES256/EdDSA keys publish their public half
at `GET /.well-known/jwks.json`, so other services can verify OptiLoop tokens without a shared secret.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optiloop.auth import jose
from optiloop.auth.settings import AuthSettings, parse_secrets

SECRET_FILE = "token-secret"  # in the data dir: the local runtime's signing secret, made on first use


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    sign: Callable[[bytes], bytes]
    verify: Callable[[bytes, bytes], bool]
    public_jwk: dict[str, str] | None = None  # None for HS256: a secret has no public half


def hmac_key(secret: str, kid: str | None = None) -> SigningKey:
    """A kid derived from the secret when none is given: stable across processes, and a 32-bit
    prefix of a hash reveals nothing useful about a 256-bit secret."""
    raw = secret.encode("utf-8")
    kid = kid or "hs-" + hashlib.sha256(raw).hexdigest()[:8]
    return SigningKey(
        kid,
        "HS256",
        lambda data: jose.hs256_sign(raw, data),
        lambda data, sig: jose.hs256_verify(raw, data, sig),
    )


def pem_keys(path: Path) -> list[SigningKey]:
    from optiloop.auth import asymmetric as asym  # needs `cryptography`; only where PEM keys are used

    out = []
    for alg, key in asym.load_private_pems(Path(path).read_bytes()):
        jwk = asym.public_jwk(key.public_key())
        kid = asym.thumbprint(jwk)
        pub = key.public_key()
        out.append(
            SigningKey(
                kid,
                alg,
                functools.partial(asym.sign, alg, key),
                functools.partial(asym.verify, alg, pub),
                {**jwk, "kid": kid, "alg": alg, "use": "sig"},
            )
        )
    return out


class KeyRing:
    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = tuple(keys)
        self._by_kid = {k.kid: k for k in keys}

    @property
    def current(self) -> SigningKey:
        return self.keys[0]

    def find(self, kid: Any) -> SigningKey | None:
        return self._by_kid.get(kid) if isinstance(kid, str) else None

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self.keys if k.public_jwk is not None]}


def local_secret(data_dir: Path) -> str:
    """The local runtime's secret: created once (0600) so tokens survive a restart of `serve`."""
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def read_secret(arn: str, endpoint_url: str | None = None) -> str:
    """The signing secret from Secrets Manager, once per cold start: a secret must never be a
    function environment variable (plaintext in the template and in GetFunctionConfiguration).
    Rotation reaches new execution environments; warm ones keep the value they read."""
    import boto3  # AWS only; the runtime provides it

    value = boto3.client("secretsmanager", endpoint_url=endpoint_url).get_secret_value(SecretId=arn)
    return str(value.get("SecretString") or "").strip()


def keyring_for(
    auth: AuthSettings, *, backend: str, data_dir: Path, endpoint_url: str | None = None
) -> KeyRing | None:
    """The ring the settings describe; None where nothing is configured on AWS (tokens disabled)."""
    if auth.token_keys_file is not None:
        return KeyRing(pem_keys(auth.token_keys_file))
    secret = auth.token_secret
    if secret is None and auth.token_secret_arn:
        secret = read_secret(auth.token_secret_arn, endpoint_url)
    if secret is not None:
        return KeyRing([hmac_key(value, kid) for kid, value in parse_secrets(secret)])
    if backend == "local":
        return KeyRing([hmac_key(local_secret(data_dir))])
    if backend == "memory":
        return KeyRing([hmac_key(secrets.token_urlsafe(48))])
    return None
