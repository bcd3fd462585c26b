"""Asymmetric JWS keys through `cryptography`: ES256 and EdDSA to sign, those and RS256 to verify.

Imported only where a PEM signing key or an issuer's JWKS is configured, so HS256-only processes
(the default on AWS) never load `cryptography`. Public keys travel as JWKs (RFC 7517); a key's `kid`
defaults to its RFC 7638 thumbprint, so the same key always has the same id without anyone naming it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from optiloop.auth.jose import b64url, b64url_decode

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey
_P256_BYTES = 32


def _int_b64(n: int, size: int | None = None) -> str:
    length = size or max(1, (n.bit_length() + 7) // 8)
    return b64url(n.to_bytes(length, "big"))


def _b64_int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


def load_private_pems(data: bytes) -> list[tuple[str, PrivateKey]]:
    """Every PEM private key in `data`, in order, as (alg, key): the first one signs."""
    out: list[tuple[str, PrivateKey]] = []
    marker = b"-----BEGIN"
    for block in data.split(marker)[1:]:
        key = serialization.load_pem_private_key(marker + block, password=None)
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            out.append(("ES256", key))
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            out.append(("EdDSA", key))
        else:
            raise ValueError("signing keys must be EC P-256 (ES256) or Ed25519 (EdDSA)")
    return out


def public_jwk(key: PublicKey) -> dict[str, str]:
    """The public JWK's required members (what the thumbprint hashes)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        nums = key.public_numbers()
        return {"crv": "P-256", "kty": "EC", "x": _int_b64(nums.x, 32), "y": _int_b64(nums.y, 32)}
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    rnums = key.public_numbers()
    return {"e": _int_b64(rnums.e), "kty": "RSA", "n": _int_b64(rnums.n)}


def thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, no whitespace."""
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"), "RSA": ("e", "kty", "n")}
    members = {k: jwk[k] for k in required[jwk["kty"]]}
    return b64url(
        hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    )


def key_from_jwk(jwk: Mapping[str, Any]) -> tuple[str, PublicKey]:
    """(alg, public key) of a JWK; the alg follows from the key type (and `alg`, where given)."""
    kty = jwk.get("kty")
    if kty == "EC" and jwk.get("crv") == "P-256":
        nums = ec.EllipticCurvePublicNumbers(_b64_int(jwk["x"]), _b64_int(jwk["y"]), ec.SECP256R1())
        return "ES256", nums.public_key()
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return "EdDSA", ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    if kty == "RSA":
        if jwk.get("alg", "RS256") != "RS256":
            raise ValueError(f"RSA key with alg {jwk.get('alg')!r}: only RS256 is accepted")
        return "RS256", rsa.RSAPublicNumbers(_b64_int(jwk["e"]), _b64_int(jwk["n"])).public_key()
    raise ValueError(f"unsupported JWK (kty={kty!r}, crv={jwk.get('crv')!r})")


def sign(alg: str, key: PrivateKey, data: bytes) -> bytes:
    if alg == "ES256" and isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(_P256_BYTES, "big") + s.to_bytes(_P256_BYTES, "big")  # JWS wants raw r||s
    if alg == "EdDSA" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise ValueError(f"cannot sign {alg} with {type(key).__name__}")


def verify(alg: str, key: PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        if alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 2 * _P256_BYTES:
                return False
            r = int.from_bytes(signature[:_P256_BYTES], "big")
            s = int.from_bytes(signature[_P256_BYTES:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        elif alg == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True
