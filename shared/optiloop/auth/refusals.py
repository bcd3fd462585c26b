"""Refused credentials are audited, within a budget: one rule for the FastAPI app and the Lambda
authorizer, so a refusal is recorded alike whether `optiloop serve` or API Gateway's edge made it.

What is recorded (`auth.refused`), and under whom:

* a bearer JWT that is refused (forged, expired, another tenant's or issuer's, malformed): under the
  name `unauthenticated`, with what the token *claimed* (`claimed_sub`, `iss`, `kid`, `alg`), since
  unverified claims name nobody for sure;
* a revoked API key that someone still uses: under the key's principal, with its key id (the key is
  known, so its owner's name is not a guess);
* a key that matches nothing: not recorded (nothing to attribute it to, and recording it would let
  anyone write to the log).

Each record spends one refusal of the name it is filed under (`OPTILOOP_REFUSALS_PER_MINUTE`, the
budget the app's `request.refused` records use), so neither a flood of junk tokens nor a script
looping on a revoked key can grow the log without bound: past the budget, only the 401. The
credential itself is never recorded. An audit failure never turns the 401 into an error.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from optiloop.auth import jose
from optiloop.auth.keys import hash_key
from optiloop.auth.principal import MAX_KEY_CHARS
from optiloop.errors import Unauthorized
from optiloop.store.ports import Store

log = logging.getLogger("optiloop.auth")

REFUSED_TOKENS = "unauthenticated"
"""The name refused bearer tokens are audited under: a forged token's claims name nobody for sure."""


class _Verdict(Protocol):
    @property
    def allowed(self) -> bool: ...


class RefusalBudget(Protocol):
    """What spends a principal's refusal budget (`optiloop.api.ratelimit.PrincipalLimits`)."""

    def refusal(self, principal: str) -> _Verdict: ...


def _claimed(raw: str) -> dict[str, Any]:
    try:
        jws = jose.parse(raw)
    except Unauthorized:
        return {}  # not even a well-formed JWT: the reason says so
    return {
        "claimed_sub": str(jws.claims.get("sub"))[:200],
        "iss": str(jws.claims.get("iss"))[:200],
        "kid": str(jws.header.get("kid"))[:100],
        "alg": str(jws.header.get("alg"))[:20],
    }


def attribution(store: Store, raw: str, reason: str) -> tuple[str, str | None, dict[str, Any]] | None:
    """(principal, project, details) to record for a refused credential; None for a key that matches
    no stored key. A revoked key costs one lookup by its hash, made only once it was refused."""
    if jose.looks_like_jwt(raw):
        return REFUSED_TOKENS, None, {"reason": reason[:300], "kind": "jwt", **_claimed(raw)}
    if len(raw) > MAX_KEY_CHARS:
        return None
    key = store.keys.get_by_hash(hash_key(raw))
    if key is None or not key.revoked:
        return None
    return key.principal, key.project_id, {"reason": "key revoked", "kind": "api_key", "key_id": key.id}


def audit_refused(
    store: Store, budget: RefusalBudget | None, raw: str | None, reason: str, path: str, *, where: str
) -> bool:
    """Record the refusal of `raw` (see the module's rules) if its principal's budget allows; True if
    a record was written. `where` says which check refused it (`api`, `authorizer`)."""
    if not raw:
        return False
    try:
        found = attribution(store, raw, reason)
        if found is None:
            return False
        principal, project_id, details = found
        if budget is not None and not budget.refusal(principal).allowed:
            return False
        store.audit.append(
            principal=principal,
            action="auth.refused",
            project_id=project_id,
            target=None,
            details={**details, "path": path[:200], "where": where},
        )
        return True
    except Exception:  # an audit failure must not turn a 401 into a 500 (or an authorizer error)
        log.exception("could not audit a refused credential")
        return False
