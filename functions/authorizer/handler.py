"""API Gateway REQUEST authorizer: the edge check that a request carries a live OptiLoop credential.

It reads the key exactly as the FastAPI app does (`Authorization: Bearer <key>` first, then
`x-api-key`) and resolves it with the core's `authenticate` against the tenant's store, so a key is
valid at the edge if and only if the local runtime would accept it. Only the key's SHA-256 is looked
up; the key itself is never logged or returned.

Outcomes, and what API Gateway makes of them:
* no key               -> raise "Unauthorized" -> 401 (gateway response UNAUTHORIZED)
* unknown/revoked key  -> Deny policy          -> 401 (ACCESS_DENIED, remapped in infra_cdk/auth.py)
* live key             -> Allow on this method, with the principal in the request context

Access tokens (`POST /v1/auth/token`) and ID tokens of the configured OIDC issuer are accepted the
same way, through the core's `Credentials.authenticate`: a token's signature, issuer, audience and
expiry are checked, and for an access token its key is read by id, so a token of a revoked key is
denied on its next request. No result cache (infra_cdk/auth.py, TTL 0): a cached Allow would outlive
a revocation by up to the TTL.

Per-project roles are not decided here: the function behind the route still runs
`require(Action)` on the same key, so a project-scoped key is stopped at the right project.

Per-principal limits: where the tenant meters principals in a usage plan (OPTILOOP_USAGE_PLAN,
`optiloop.auth.usage_plan`), an Allow carries the principal's `usageIdentifierKey` (the REST API's
key source is AUTHORIZER), so API Gateway throttles each principal, all its keys and tokens
together, as `optiloop serve`'s in-process buckets do. The principal is registered in the plan on
its first Allow in this container (an OIDC user has no OptiLoop key to have registered it); a failed
registration is logged and the request goes on (the gateway refuses it if the principal has no key
in the plan yet, and the next request tries again).

Refusals are audited as the app audits them (`optiloop.auth.refusals`): a refused JWT as
`auth.refused` under `unauthenticated` with what it claimed, a revoked key under its principal, each
within the name's refusal budget (`OPTILOOP_REFUSALS_PER_MINUTE`, per container like the functions'
own), so a flood of bad credentials cannot grow the log without bound. A request refused here never
reaches a function, so this is where its record is written; IAM lets this function write the audit
partitions only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from functions.common.runtime import process_deps, settings_from_env
from optiloop.api.ratelimit import PrincipalLimits
from optiloop.auth.credentials import Credentials
from optiloop.auth.principal import Principal, authenticate
from optiloop.auth.refusals import RefusalBudget, audit_refused
from optiloop.auth.usage_plan import UsageKeys, usage_keys_of
from optiloop.errors import Unauthorized
from optiloop.store.ports import Store

log = logging.getLogger("optiloop.authorizer")
log.setLevel(logging.INFO)

Event = dict[str, Any]


def presented_key(headers: Mapping[str, str] | None) -> str | None:
    """The key as FastAPI's HTTPBearer/APIKeyHeader pair would see it: header names are
    case-insensitive, the Bearer scheme too, the credential is what follows the first space, stripped
    (`get_authorization_scheme_param`), and a non-Bearer Authorization header falls through to
    x-api-key."""
    lower = {k.lower(): v for k, v in (headers or {}).items() if isinstance(v, str)}
    scheme, _, param = lower.get("authorization", "").partition(" ")
    credential = param.strip()
    if scheme and credential and scheme.lower() == "bearer":
        return credential
    return lower.get("x-api-key") or None


def policy(
    principal_id: str, effect: str, method_arn: str, context: Mapping[str, Any] | None = None
) -> Event:
    """An IAM policy for this one method: without caching there is nothing to gain from a broader
    resource, and a narrow one cannot be replayed onto another route."""
    out: Event = {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }
    if context:
        out["context"] = dict(context)
    return out


def request_path(event: Event) -> str:
    """The path the refused request asked for: the event's `path`, else the method ARN's tail
    (`arn:...:api-id/stage/VERB/v1/projects` -> `/v1/projects`)."""
    path = event.get("path")
    if isinstance(path, str) and path:
        return path
    parts = str(event.get("methodArn", "")).split("/", 3)
    return "/" + parts[3] if len(parts) == 4 else ""


def authorize(
    event: Event,
    store: Store,
    credentials: Credentials | None = None,
    budget: RefusalBudget | None = None,
    usage: UsageKeys | None = None,
) -> Event:
    raw = presented_key(event.get("headers"))
    if not raw:
        raise Exception("Unauthorized")  # API Gateway's contract: this exact message means 401
    try:
        who: Principal = credentials.authenticate(store, raw) if credentials else authenticate(store, raw)
    except Unauthorized as exc:
        log.info("denied: %s", exc)  # the reason only ("expired token"), never the credential
        audit_refused(store, budget, raw, exc.message, request_path(event), where="authorizer")
        return policy("anonymous", "Deny", event["methodArn"])
    # Context values must be strings, numbers or booleans; None is not allowed.
    allowed = policy(
        who.name,
        "Allow",
        event["methodArn"],
        {
            "principal": who.name,
            "role": who.role,
            "project_id": who.project_id or "",
            "key_id": who.key_id or "",
        },
    )
    if usage is not None:
        try:
            usage.ensure(who.name)
        except Exception:
            log.exception("could not register the principal in the usage plan")
        allowed["usageIdentifierKey"] = usage.identifier(who.name)
    return allowed


def make_handler(
    store: Callable[[], Store],
    credentials: Callable[[], Credentials] | None = None,
    budget: Callable[[], RefusalBudget] | None = None,
    usage: Callable[[], UsageKeys | None] | None = None,
) -> Callable[[Event, Any], Event]:
    def handler(event: Event, context: Any) -> Event:
        return authorize(
            event,
            store(),
            credentials() if credentials else None,
            budget() if budget else None,
            usage() if usage else None,
        )

    return handler


@lru_cache(maxsize=1)
def process_budget() -> PrincipalLimits:
    """This container's refusal budgets, kept while warm (the same settings as the functions')."""
    settings = settings_from_env()
    return PrincipalLimits(settings.rate_limit_rps, settings.rate_limit_burst, settings.refusals_per_minute)


@lru_cache(maxsize=1)
def process_credentials() -> Credentials:
    """Built on first use and kept while warm: the signing secret is read from Secrets Manager once
    per execution environment (OPTILOOP_TOKEN_SECRET_ARN), the OIDC issuer's keys are cached."""
    settings = settings_from_env()
    return Credentials.from_settings(
        settings.auth,
        backend=settings.backend,
        data_dir=settings.data_dir,
        endpoint_url=settings.aws_endpoint,
    )


handler = make_handler(
    lambda: process_deps().store,
    process_credentials,
    process_budget,
    lambda: usage_keys_of(process_deps()),
)
