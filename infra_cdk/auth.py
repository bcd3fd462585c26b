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

Per-project roles stay in the functions (FastAPI's `require(Action)`): the authorizer answers "is
this a live key", the function answers "may this key do this to this project".
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

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
