"""The platform kernel: API keys, access tokens and the audit log."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from optiloop.client.caller import It, J, N, Resource, S
from optiloop.client.request import Cursor, build

Role = Literal["owner", "admin", "contributor", "viewer"]


class Keys(Resource[J, S, N, It]):
    def create(self, principal: str, role: Role, *, project_id: str | None = None) -> J:
        """A key for `principal`; the response's `key` is shown this once (admins only)."""
        body = {"principal": principal, "role": role, "project_id": project_id}
        return self._call.json(build("keys.create", json=body))

    def list(self) -> J:
        """The keys this key may see (never their material)."""
        return self._call.json(build("keys.list"))

    def revoke(self, key_id: str) -> J:
        return self._call.json(build("keys.revoke", {"key_id": key_id}))


class Auth(Resource[J, S, N, It]):
    def token(self, client_id: str, client_secret: str, *, scope: str | None = None) -> J:
        """An access token for an API key (OAuth2 client credentials): `access_token`, `expires_in`.
        To have the client fetch and refresh them itself, construct it with `client_id`/`client_secret`."""
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        if scope:
            form["scope"] = scope
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self._call.json(build("auth.token", content=urlencode(form).encode(), headers=headers))

    def jwks(self) -> J:
        """The public keys that verify access tokens (empty where they are signed with a secret)."""
        return self._call.json(build("auth.jwks"))


class Audit(Resource[J, S, N, It]):
    def logs(
        self,
        *,
        project_id: str | None = None,
        action: str | None = None,
        after_seq: int | None = None,
        after: str | None = None,
        limit: int | None = None,
        verify: bool | None = None,
    ) -> J:
        """One page of records, oldest first; continue with `after=next_after` (`after_seq`: the
        deprecated name of a project listing's cursor)."""
        params = {
            "project_id": project_id,
            "action": action,
            "after_seq": after_seq,
            "after": after,
            "limit": limit,
            "verify": verify,
        }
        return self._call.json(build("audit.logs", params=params))

    def iter(self, *, project_id: str | None = None, action: str | None = None, page_size: int = 500) -> It:
        """Every record visible to the key, oldest first."""
        req = build("audit.iter", params={"project_id": project_id, "action": action, "limit": page_size})
        return self._call.pages(req, Cursor(follow=(("next_after", "after"),)))

    def verify(self) -> J:
        """Recompute the hash chains; `ok` and, when not, the first thing that does not match."""
        return self._call.json(build("audit.verify"))
