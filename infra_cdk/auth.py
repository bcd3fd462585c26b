"""API key authentication at the edge: a Lambda REQUEST authorizer in front of every route but
`GET /v1/healthz`.

It accepts the same keys as the local runtime (`Authorization: Bearer <key>` or `x-api-key: <key>`),
hashes the presented key and looks the hash up in the tenant's table through the core's own
`authenticate`, so the two runtimes cannot disagree about what a valid key is.

No identity sources and no result cache, on purpose:
* API Gateway rejects a REQUEST authorizer call outright (401, authorizer not invoked) when any
  declared identity source is missing, and a client sends *either* header, never both.
* A cached Allow would let a revoked key through for the TTL; the local runtime refuses a revoked
  key on the next request, and so does this (one GetItem/Query per request, single-digit ms).

Access tokens (`POST /v1/auth/token`, docs/auth.md) are HS256 JWTs signed with the tenant's
`TokenSigningSecret`: a generated Secrets Manager secret under the tenant key, readable only by the
authorizer and the HTTP functions (each FastAPI app verifies the token again), fetched once per cold
start (OPTILOOP_TOKEN_SECRET_ARN, never the value in the environment). A token of a revoked key is
denied on its next request for the same reason a revoked key is: no result cache.

Per-project roles stay in the functions (FastAPI's `require(Action)`): the authorizer answers "is
this a live key", the function answers "may this key do this to this project".
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra_cdk.nag import acknowledge

UNAUTHORIZED_BODY = (
    '{"error":{"code":"unauthorized","message":"an API key is required: send '
    "'Authorization: Bearer <key>' or 'x-api-key: <key>'"
    '","details":[],"request_id":"$context.requestId"}}'
)
FORBIDDEN_BODY = (
    '{"error":{"code":"forbidden","message":"invalid or revoked API key",'
    '"details":[],"request_id":"$context.requestId"}}'
)


class ApiKeyAuth(Construct):
    def __init__(self, scope: Construct, cid: str, *, function: lambda_.IFunction) -> None:
        super().__init__(scope, cid)
        self.function = function
        self.authorizer = apigw.RequestAuthorizer(
            self,
            "Authorizer",
            handler=function,
            identity_sources=[],
            results_cache_ttl=Duration.seconds(0),
        )

    def add_gateway_responses(self, api: apigw.RestApi) -> None:
        """Rejections by the authorizer in the app's own error shape, so clients parse one format."""
        api.add_gateway_response(
            "Unauthorized",
            type=apigw.ResponseType.UNAUTHORIZED,
            status_code="401",
            templates={"application/json": UNAUTHORIZED_BODY},
        )
        api.add_gateway_response(
            "AccessDenied",
            type=apigw.ResponseType.ACCESS_DENIED,
            status_code="401",  # an unknown or revoked key is 401 in the local runtime too
            templates={"application/json": FORBIDDEN_BODY},
        )


class TokenSigningSecret(Construct):
    """The tenant's HS256 signing secret for access tokens: 64 random characters, tenant-KMS encrypted.

    Rotation is by hand and in two steps, because warm functions keep the value they read at cold
    start: set `NEW,OLD` only once every function verifies NEW (`OLD,NEW` first, then new execution
    environments, e.g. a deploy), and drop OLD after the token lifetime (docs/auth.md, "Rotation")."""

    def __init__(self, scope: Construct, cid: str, *, tenant: str, key: kms.IKey) -> None:
        super().__init__(scope, cid)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description=f"OptiLoop {tenant}: HS256 signing secret of access tokens (POST /v1/auth/token)",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            removal_policy=RemovalPolicy.DESTROY,  # tokens live minutes; a new stack signs anew
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "A signing secret cannot be rotated by a single-step Lambda: verifiers keep the old value "
            "while warm, so rotation is the two-step NEW,OLD procedure of docs/auth.md, done by an "
            "operator; tokens signed with it expire within OPTILOOP_TOKEN_TTL_S anyway.",
        )
