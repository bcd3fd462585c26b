"""Compact JWS (RFC 7515) for JWTs (RFC 7519): just the algorithms OptiLoop signs or accepts.

Why not a JOSE library: the hot path (every Lambda, the authorizer) must stay small, and HS256 needs
only the standard library. Asymmetric algorithms use `cryptography`, imported on first use, so a
process that only sees HS256 tokens never loads it.

The verifier never trusts the token's own `alg` on its own: a key has one algorithm, the header must
name exactly that one, and `none` (or any alg outside `ALGORITHMS`) is refused before anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optiloop.errors import Unauthorized

# What a verifier can check at all; each issuer narrows it further (its allow-list).
ALGORITHMS = ("HS256", "ES256", "EdDSA", "RS256")
MAX_TOKEN_CHARS = 8192  # ID tokens with many groups are a few KB; beyond this it is not a token


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or any(c in text for c in "=+/ \n"):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def looks_like_jwt(raw: str) -> bool:
    """Three dot-separated parts: what tells a token from an API key (`olk_...`) before any crypto."""
    return raw.count(".") == 2 and not raw.startswith("olk_")


@dataclass(frozen=True)
class Jws:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse(raw: str) -> Jws:
    """Split and decode without verifying; every malformation is the same 401 to the caller."""
    if len(raw) > MAX_TOKEN_CHARS:
        raise Unauthorized("invalid token: too long")
    try:
        h, c, s = raw.split(".")
        header = json.loads(b64url_decode(h))
        claims = json.loads(b64url_decode(c))
        signature = b64url_decode(s)
    except (ValueError, UnicodeDecodeError):
        raise Unauthorized("invalid token: not a well-formed JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthorized("invalid token: not a well-formed JWT")
    alg = header.get("alg")
    if alg not in ALGORITHMS:  # `none` and every unlisted alg, before any key is looked at
        raise Unauthorized(f"invalid token: algorithm {str(alg)[:20]!r} is not accepted")
    if "crit" in header:  # RFC 7515 4.1.11: unknown critical extensions must be refused
        raise Unauthorized("invalid token: critical header extensions are not supported")
    return Jws(header, claims, f"{h}.{c}".encode("ascii"), signature)


def encode(header: Mapping[str, Any], claims: Mapping[str, Any], sign: Any) -> str:
    """`sign(signing_input) -> signature`; the header must already name the alg and kid."""
    h = b64url(json.dumps(dict(header), separators=(",", ":"), sort_keys=True).encode())
    c = b64url(json.dumps(dict(claims), separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{h}.{c}".encode("ascii")
    return f"{h}.{c}.{b64url(sign(signing_input))}"


def hs256_sign(secret: bytes, data: bytes) -> bytes:
    return hmac.new(secret, data, hashlib.sha256).digest()


def hs256_verify(secret: bytes, data: bytes, signature: bytes) -> bool:
    return hmac.compare_digest(hs256_sign(secret, data), signature)
