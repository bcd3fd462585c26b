"""API key material: generation and hashing.

Keys are `olk_` + 32 random bytes (urlsafe base64). Only a SHA-256 of the key is stored. A plain,
unsalted fast hash is enough here, unlike for passwords: a key has 256 bits of entropy, so there is
no dictionary to attack and brute force over the hash is infeasible; salting or a slow KDF would only
make each request's lookup slower (we look the key up *by* its hash, which a per-key salt would prevent).
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "olk_"


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()
