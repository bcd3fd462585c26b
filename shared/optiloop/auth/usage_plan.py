"""Per-principal request limits on AWS: one API Gateway API key per principal, in the tenant's usage plan.

One machine meters every principal in process (`optiloop.api.ratelimit`: token buckets keyed by the
principal's name, so all of a principal's keys and tokens share one budget). On AWS the functions run
in many containers, so the shared limit is API Gateway's usage plan: its throttle (and optional daily
quota) applies per API key, and the REST API takes that key from the authorizer (`apiKeySource:
AUTHORIZER`), which answers the principal's `usageIdentifierKey`. The contract is the in-process one:
per principal, minting more keys buys nothing, and past the limit a 429 with Retry-After in the
API's error shape (infra_cdk/api.py maps THROTTLED and QUOTA_EXCEEDED).

The gateway key's value is derived from the plan's name and the principal's, not stored, so the
authorizer computes it without a read. It is not a credential: with the AUTHORIZER source API Gateway
never takes it from a request, and the key belongs to this plan only.

Lifecycle (`UsageKeys`): key management registers a principal when it mints a key and retires it when
the principal's last live key is revoked, so the account's API keys (10,000 a region) stay bounded.
The authorizer also registers a principal before its first Allow in a container (then trusts that
for `KNOWN_TTL_S`): a person signed in through OIDC has no OptiLoop key, and keys minted before this
existed are registered on their first request. So a failed registration is logged, never fatal: the
next request of that principal tries again.

Why a durable mark as well: API Gateway's control plane is throttled per account (a few requests a
second), and without one every warm container would ask it about every principal once a minute —
with a hundred containers that is throttled control-plane calls and added latency on the request
path. A registration therefore writes a small document (`MARK_KIND`, by the principal's digest,
expiring after `MARK_TTL_S`) to the tenant's store; a container that has not seen the principal reads
that (one DynamoDB get) and calls the control plane only when it is missing or expired. Retiring
deletes the mark before the gateway key, so a principal who comes back is registered again at once;
a gateway key deleted outside OptiLoop is healed within `MARK_TTL_S`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Protocol

from optiloop.errors import Conflict, NotFound
from optiloop.store.records import Doc

if TYPE_CHECKING:
    from optiloop.store.ports import DocRepo

log = logging.getLogger("optiloop.auth.usage_plan")

ENV = "OPTILOOP_USAGE_PLAN"
"""The usage plan's name (`<prefix>-principals`, set by infra_cdk): its id is looked up by name once,
because the functions cannot be given the id itself (the plan depends on the API stage, which depends
on the functions)."""
KNOWN_TTL_S = 60.0
"""How long a container trusts that a principal it registered is still registered: a principal whose
last key was revoked and who comes back (a new key, an OIDC sign-in) is registered again within this."""
MAX_KNOWN = 10_000
MARK_KIND = "usage_plan_member"
MARK_TTL_S = 3600.0
"""How long a durable registration mark is trusted before the control plane is asked again (the
heal time for a gateway key deleted by hand)."""


class UsageKeys(Protocol):
    """Where a principal's requests are metered, outside the process that serves them."""

    def identifier(self, principal: str) -> str:
        """The value the authorizer answers as `usageIdentifierKey` for this principal."""
        ...

    def ensure(self, principal: str) -> None:
        """Make the principal metered (idempotent; cheap when recently done)."""
        ...

    def retire(self, principal: str) -> None:
        """The principal holds no live key any more: stop metering it (idempotent)."""
        ...


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


class ApiGatewayUsageKeys:
    """`UsageKeys` on API Gateway: an API key per principal, attached to the usage plan `plan_name`."""

    def __init__(
        self,
        plan_name: str,
        *,
        client: Any = None,
        endpoint_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        marks: DocRepo | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.plan_name = plan_name
        self._client = client
        self._endpoint_url = endpoint_url
        self._clock = clock
        self.marks = marks
        self._wall = wall
        self._plan_id: str | None = None
        self._known: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("apigateway", endpoint_url=self._endpoint_url)
        return self._client

    def _digest(self, principal: str) -> str:
        return hashlib.sha256(f"{self.plan_name}\0{principal}".encode()).hexdigest()

    def identifier(self, principal: str) -> str:
        return f"olp-{self._digest(principal)}"

    def key_name(self, principal: str) -> str:
        """The gateway key's name: the plan's, then the digest (a principal's name may hold characters
        a name should not, and the digest keeps two tenants' keys apart in one account)."""
        return f"{self.plan_name}-{self._digest(principal)[:32]}"

    def plan_id(self) -> str:
        if self._plan_id is None:
            kwargs: dict[str, Any] = {"limit": 500}
            while True:
                page = self.client.get_usage_plans(**kwargs)
                for plan in page.get("items", []):
                    if plan.get("name") == self.plan_name:
                        self._plan_id = str(plan["id"])
                        return self._plan_id
                if not page.get("position"):
                    raise LookupError(f"no API Gateway usage plan named {self.plan_name!r} ({ENV})")
                kwargs["position"] = page["position"]
        return self._plan_id

    def _find(self, name: str) -> str | None:
        kwargs: dict[str, Any] = {"nameQuery": name, "includeValues": False, "limit": 500}
        while True:
            page = self.client.get_api_keys(**kwargs)
            for key in page.get("items", []):
                if key.get("name") == name:
                    return str(key["id"])
            if not page.get("position"):
                return None
            kwargs["position"] = page["position"]

    def _create(self, principal: str, name: str) -> str:
        try:
            created = self.client.create_api_key(
                name=name,
                value=self.identifier(principal),
                enabled=True,
                description=f"OptiLoop principal {principal[:100]!r}, metered by {self.plan_name}",
                tags={"optiloop:usage-plan": self.plan_name},
            )
            return str(created["id"])
        except Exception as exc:
            if _code(exc) != "ConflictException":
                raise
            found = self._find(name)  # another container created it first
            if found is None:
                raise
            return found

    def _marked(self, principal: str) -> bool:
        """Whether some container registered the principal less than `MARK_TTL_S` ago."""
        if self.marks is None:
            return False
        doc = self.marks.get(MARK_KIND, self._digest(principal))
        return doc is not None and self._wall() - float(doc.data.get("verified_at", 0.0)) < MARK_TTL_S

    def _mark(self, principal: str) -> None:
        """Record the registration; `expires_at` lets DynamoDB's TTL delete marks nobody renews."""
        if self.marks is None:
            return
        doc_id = self._digest(principal)
        now = self._wall()
        data = {"plan": self.plan_name, "verified_at": now}
        doc = Doc(MARK_KIND, doc_id, self.plan_name, doc_id, data, expires_at=now + 2 * MARK_TTL_S)
        with suppress(Conflict, NotFound):  # another container marked it in between: as good as ours
            old = self.marks.get(MARK_KIND, doc_id)
            if old is None:
                self.marks.create(doc)
            else:
                self.marks.replace(doc, old.rev)

    def ensure(self, principal: str) -> None:
        now = self._clock()
        with self._lock:
            seen = self._known.get(principal)
            if seen is not None and now - seen < KNOWN_TTL_S:
                return
        if not self._marked(principal):
            self._register(principal)
        with self._lock:
            if len(self._known) >= MAX_KNOWN:
                self._known.clear()
            self._known[principal] = now

    def _register(self, principal: str) -> None:
        """The control-plane calls: the principal's gateway key (found or created) put in the plan."""
        name = self.key_name(principal)
        key_id = self._find(name) or self._create(principal, name)
        try:
            self.client.create_usage_plan_key(usagePlanId=self.plan_id(), keyId=key_id, keyType="API_KEY")
        except Exception as exc:
            if _code(exc) != "ConflictException":  # already in the plan
                raise
        self._mark(principal)

    def retire(self, principal: str) -> None:
        with self._lock:
            self._known.pop(principal, None)
        if self.marks is not None:
            self.marks.delete(MARK_KIND, self._digest(principal))
        key_id = self._find(self.key_name(principal))
        if key_id is None:
            return
        for call, kwargs in (
            (self.client.delete_usage_plan_key, {"usagePlanId": self.plan_id(), "keyId": key_id}),
            (self.client.delete_api_key, {"apiKey": key_id}),
        ):
            try:
                call(**kwargs)
            except Exception as exc:
                if _code(exc) != "NotFoundException":
                    raise


_BUILT: dict[str, ApiGatewayUsageKeys] = {}
_LOCK = threading.Lock()


def usage_keys_of(deps: Any) -> UsageKeys | None:
    """The deployment's `UsageKeys`: an injected one (tests), API Gateway's where OPTILOOP_USAGE_PLAN
    names a plan (AWS), else None — on one machine the in-process buckets meter every principal by
    name, with nothing to register."""
    injected = getattr(deps, "usage_keys", None)
    if injected is not None:
        return injected  # type: ignore[no-any-return]
    plan = os.environ.get(ENV, "").strip()
    if not plan:
        return None
    with _LOCK:
        if plan not in _BUILT:
            _BUILT[plan] = ApiGatewayUsageKeys(
                plan,
                endpoint_url=os.environ.get("OPTILOOP_AWS_ENDPOINT") or None,
                marks=deps.store.docs,
            )
        return _BUILT[plan]


def register(deps: Any, principal: str) -> None:
    """Key management's hook after a key is minted: meter its principal from its first request."""
    keys = usage_keys_of(deps)
    if keys is None:
        return
    try:
        keys.ensure(principal)
    except Exception:  # the key is minted; the authorizer registers on its first request
        log.exception("could not register principal %r in the usage plan", principal)


def retire_if_unkeyed(deps: Any, principal: str) -> None:
    """Key management's hook after a revocation: retire the principal once it holds no live key."""
    keys = usage_keys_of(deps)
    if keys is None or any(k.principal == principal and not k.revoked for k in deps.store.keys.list()):
        return
    try:
        keys.retire(principal)
    except Exception:  # the revocation stands; a leftover gateway key meters nobody who can sign in
        log.exception("could not retire principal %r from the usage plan", principal)
