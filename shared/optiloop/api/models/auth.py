"""The token endpoint's shapes (RFC 6749 4.4 and 5.1/5.2), for the OpenAPI document and the SDK."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class TokenResponse(ResponseModel):
    access_token: str = Field(description="a signed JWT; send it as `Authorization: Bearer <token>`")
    token_type: str = Field(description="always `Bearer`")
    expires_in: int = Field(description="seconds until the token expires (OPTILOOP_TOKEN_TTL_S)")
    scope: str = Field(description="the token's role, and `project:<id>` when bound to one project")


class OAuthErrorBody(ResponseModel):
    """RFC 6749 5.2: the token endpoint's errors are OAuth2's, so OAuth2 client libraries read them."""

    error: str = Field(
        description="invalid_request | invalid_client | unsupported_grant_type | invalid_scope"
    )
    error_description: str | None = Field(None, description="What was wrong, for a person.")
    request_id: str | None = None


TOKEN_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {
            "type": "string",
            "enum": ["client_credentials"],
            "description": "the one grant the endpoint speaks",
        },
        "client_id": {"type": "string", "description": "the API key's id (or send HTTP Basic)"},
        "client_secret": {"type": "string", "description": "the API key itself (or send HTTP Basic)"},
        "scope": {
            "type": "string",
            "description": "optional, narrows the token: a role not above the key's, `project:<id>`",
        },
    },
    "examples": [
        {
            "grant_type": "client_credentials",
            "client_id": "key_0190c3a4b5f600000004",
            "client_secret": "<the API key>",
            "scope": "viewer",
        }
    ],
}
