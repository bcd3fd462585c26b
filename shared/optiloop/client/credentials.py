"""OAuth2 client credentials for the SDK: trade an API key for short-lived access tokens, refreshed.

An `httpx.Auth`, so the same object serves the blocking and the asyncio client: the token request is
yielded through the client's own transport (retries, proxies, test transports alike). A token is
fetched on the first request, reused until `refresh_margin_s` before it expires, and fetched again
once if the API answers 401 (the token was revoked or the server's signing key rotated); a second
401 is the caller's answer. The key itself is sent only to `POST /v1/auth/token`.

    from optiloop.client import OptiLoop

    with OptiLoop(client_id="key_...", client_secret="olk_...") as ol:
        ol.projects.list()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from urllib.parse import urlencode

import httpx

TOKEN_PATH = "v1/auth/token"


class ClientCredentials(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        token_url: str,
        *,
        scope: str | None = None,
        refresh_margin_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.token_url = token_url
        self.scope = scope
        self.refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:  # never the secret or the token
        return f"ClientCredentials(client_id={self.client_id!r}, token_url={self.token_url!r})"

    def _token_request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
        if self.scope:
            form["scope"] = self.scope
        return httpx.Request(
            "POST",
            self.token_url,
            content=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )

    def _store(self, response: httpx.Response) -> httpx.Response | None:
        """Keep the token of a successful answer; a failed one is returned to become the error."""
        if response.status_code != 200:
            return response
        body = response.json()
        self._token = str(body["access_token"])
        self._expires_at = self._clock() + float(body.get("expires_in", 300))
        return None

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - self.refresh_margin_s

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._fresh():
            failed = self._store((yield self._token_request()))
            if failed is not None:  # the token endpoint's own error (invalid_client...) is the answer
                return
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401 and self._store((yield self._token_request())) is None:
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


def client_credentials(
    base_url: str, client_id: str | None, client_secret: str | None
) -> ClientCredentials | None:
    """The clients' `auth`: None (a static key, or none) unless both halves are given."""
    if client_id is None and client_secret is None:
        return None
    if not client_id or not client_secret:
        raise ValueError("client credentials need both client_id (the key's id) and client_secret (the key)")
    return ClientCredentials(client_id, client_secret, base_url.rstrip("/") + "/" + TOKEN_PATH)
