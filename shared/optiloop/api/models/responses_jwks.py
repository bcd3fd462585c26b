"""What `GET /.well-known/jwks.json` answers (issue 12): a JWK Set (RFC 7517). Extra fields stay
allowed (`ResponseModel`), as RFC 7517 allows members a client does not know."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class JwksOut(ResponseModel):
    keys: list[dict[str, Any]] = Field(
        description="Every public key still valid for verifying access tokens, each a JWK (`kty`, `kid`, "
        "`alg`, `use`, `crv`, `x`...); empty where tokens are signed with a shared secret (HS256)."
    )
