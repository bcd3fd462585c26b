"""Who signs the tenant's audit digests: KMS on AWS, a local key file on one machine.

A signer signs the 32-byte digest hash and can check a signature it (or a predecessor with the same
key) made. The signature is what turns "the digest chain is intact" into "the digest chain is the
one this tenant's key wrote": whoever can rewrite the table cannot also produce signatures without
the key, which on AWS never leaves KMS (and on one machine is a 0600 file beside the data).

* `KmsSigner`: KMS ``Sign``/``Verify`` with an asymmetric ECC_NIST_P256 key (``ECDSA_SHA_256``,
  ``MessageType=DIGEST``), the tenant's audit-signing key made by CDK (infra_cdk/data.py).
* `Ed25519FileSigner`: an Ed25519 key in a PEM file, created on first use (needs `cryptography`,
  which the platform already depends on through its AWS and JWT stack).
* `HmacFileSigner`: HMAC-SHA256 with a random 32-byte key file, where `cryptography` is missing.
  Symmetric, so anyone who can verify could also sign; it is the fallback, not the default.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any


class Signer(ABC):
    alg: str
    key_id: str

    @abstractmethod
    def sign(self, digest: bytes) -> str:
        """Base64 signature of a 32-byte SHA-256 digest."""

    @abstractmethod
    def verify(self, digest: bytes, signature: str) -> bool: ...


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class Ed25519FileSigner(Signer):
    alg = "Ed25519"

    def __init__(self, path: str | Path | None = None) -> None:
        """`path`: the PEM file, created if absent; None: an ephemeral key (tests, memory backend)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if path is None:
            key = Ed25519PrivateKey.generate()
        else:
            p = Path(path)
            if not p.exists():
                pem = Ed25519PrivateKey.generate().private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
                    _write_private(p, pem)
            loaded = serialization.load_pem_private_key(p.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{p} does not hold an Ed25519 private key")
            key = loaded
        self._key = key
        self._public = key.public_key()
        raw = self._public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key_id = "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]

    def sign(self, digest: bytes) -> str:
        return base64.b64encode(self._key.sign(digest)).decode("ascii")

    def verify(self, digest: bytes, signature: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self._public.verify(base64.b64decode(signature), digest)
        except (InvalidSignature, ValueError):
            return False
        return True


class HmacFileSigner(Signer):
    alg = "HMAC-SHA256"

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            secret = secrets.token_bytes(32)
        else:
            p = Path(path)
            if not p.exists():
                with contextlib.suppress(FileExistsError):
                    _write_private(p, secrets.token_bytes(32))
            secret = p.read_bytes()
        self._secret = secret
        self.key_id = "hmac:" + hashlib.sha256(b"key-id" + secret).hexdigest()[:16]

    def sign(self, digest: bytes) -> str:
        return base64.b64encode(hmac.new(self._secret, digest, hashlib.sha256).digest()).decode("ascii")

    def verify(self, digest: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(digest), signature)


class KmsSigner(Signer):
    alg = "ECDSA_SHA_256"

    def __init__(self, key_id: str, client: Any | None = None, region: str | None = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("kms", region_name=region)
        self._kms = client
        self.key_id = key_id

    def sign(self, digest: bytes) -> str:
        out = self._kms.sign(
            KeyId=self.key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=self.alg
        )
        return base64.b64encode(out["Signature"]).decode("ascii")

    def verify(self, digest: bytes, signature: str) -> bool:
        try:
            out = self._kms.verify(
                KeyId=self.key_id,
                Message=digest,
                MessageType="DIGEST",
                Signature=base64.b64decode(signature),
                SigningAlgorithm=self.alg,
            )
        except Exception as exc:  # KMSInvalidSignatureException: a bad signature, not an outage
            if "InvalidSignature" in type(exc).__name__ or "InvalidSignature" in str(exc):
                return False
            raise
        return bool(out.get("SignatureValid"))


def local_signer(path: str | Path | None = None) -> Signer:
    """Ed25519 when `cryptography` is installed (it is, with the platform's dependencies), else HMAC."""
    try:
        import cryptography  # noqa: F401
    except ImportError:  # pragma: no cover - the fallback for a stripped-down install
        return HmacFileSigner(path)
    return Ed25519FileSigner(path)
