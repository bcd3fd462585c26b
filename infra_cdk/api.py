"""The tenant's REST API: one resource per FastAPI route, one Lambda integration per handler group.

Routes are mapped one to one (routes.py) rather than through a `{proxy+}` catch-all so that API
Gateway itself answers unknown paths, throttles and validates per route, and the dashboard's
per-method metrics mean something. The custom methods `tests:suggest` and `runs:ingest` are literal
resource path parts (API Gateway allows ':' in a path part).

Cheap validation at the edge: path parameters are required, and JSON bodies must be JSON objects
(the functions validate the fields; a non-object body never costs an invocation). Requests with
another content type are not validated (API Gateway validates only against a model of the request's
content type) and reach the app: JSON Lines uploads (`application/x-ndjson` on
`/v1/datasets/{dataset_id}/examples`) on purpose, anything else to get the app's own 415.

What the gateway refuses itself (authorizer, body model, throttles, its 10 MB limit, integration
timeouts) answers in the app's `{"error": ...}` shape too (`GATEWAY_ERRORS`); a throttled request is
a 429 with Retry-After, as the app's own per-principal buckets answer.

Per-principal limits (issue 12, "the same limits per API key usage plan"): every authorized method
requires an API key, which the authorizer supplies (`apiKeySource: AUTHORIZER`, the principal's
`usageIdentifierKey`), and the usage plan `<prefix>-principals` throttles each key at
`principal_rate_limit`/`principal_burst` (optionally a daily quota). A principal's keys are registered
in the plan by key management and by the authorizer (optiloop.auth.usage_plan); all of one principal's
keys and tokens share one gateway key, as they share one bucket in `optiloop serve`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk.auth import ApiKeyAuth
from infra_cdk.nag import acknowledge
from infra_cdk.routes import HTTP_GROUPS, ROUTES, Route, gateway_path
from infra_cdk.tenant import TenantConfig

STAGE = "prod"
USAGE_PLAN_SUFFIX = "-principals"  # the usage plan's name: <prefix>-principals (OPTILOOP_USAGE_PLAN)
EVAL_RUN_RATE = 1  # POST /v1/evals/run per second, per tenant stage (burst twice that)
BAD_BODY = (
    '{"error":{"code":"bad_request","message":"the request body must be a JSON object",'
    '"details":[{"field":"body","reason":$context.error.validationErrorString}],'
    '"request_id":"$context.requestId"}}'
)


def gateway_error(code: str, field: str | None = None, reason: str | None = None) -> str:
    """A gateway response body in the app's error shape (`$context.error.messageString` is quoted)."""
    details = f'[{{"field":"{field}","reason":"{reason}"}}]' if field else "[]"
    return (
        f'{{"error":{{"code":"{code}","message":$context.error.messageString,'
        f'"details":{details},"request_id":"$context.requestId"}}}}'
    )


# What API Gateway itself answers, in the app's `{"error": ...}` shape, so a client parses one format
# whichever layer refused it: (response type, status, code, field, reason, extra headers).
GATEWAY_ERRORS: tuple[tuple[apigw.ResponseType, str, str, str | None, str | None, dict[str, str]], ...] = (
    (
        apigw.ResponseType.THROTTLED,
        "429",
        "too_many_requests",
        "principal",
        "over the principal's, the route's or the stage's request rate (context principal_rate_limit, "
        "api_rate_limit)",
        {"Retry-After": "'1'"},
    ),
    (
        apigw.ResponseType.QUOTA_EXCEEDED,
        "429",
        "too_many_requests",
        "principal",
        "over the principal's daily quota (context principal_quota_per_day)",
        {"Retry-After": "'3600'"},
    ),
    # the principal has no key in the usage plan yet: the authorizer registers it, so a retry passes
    (
        apigw.ResponseType.INVALID_API_KEY,
        "503",
        "unavailable",
        "principal",
        "not yet registered in the tenant's usage plan; retry shortly",
        {"Retry-After": "'1'"},
    ),
    (
        apigw.ResponseType.REQUEST_TOO_LARGE,
        "413",
        "payload_too_large",
        "body",
        "at most 10 MB through API Gateway; the functions take at most 1 MiB",
        {},
    ),
    (apigw.ResponseType.DEFAULT_4_XX, "", "bad_request", None, None, {}),
    (apigw.ResponseType.DEFAULT_5_XX, "", "gateway_error", None, None, {}),
)


def path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


# Why each public route has no authorizer (cdk-nag APIG4 wants a reason per method)
PUBLIC_REASONS = {
    "*": "The liveness probe is deliberately unauthenticated (as in the local runtime): load "
    "balancers and uptime checks hold no API key, and it returns no tenant data.",
    "/v1/auth/token": "The OAuth2 token endpoint authenticates the client itself (RFC 6749 4.4: the "
    "API key id and secret are in the request), so an authorizer in front of it would need the "
    "credential it is there to exchange; it answers only a token for that same key.",
    "/.well-known/jwks.json": "Public keys by definition (RFC 7517): verifiers of OptiLoop access "
    "tokens fetch them without a credential; the set holds no secret and no tenant data.",
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        config: TenantConfig,
        handlers: Mapping[str, lambda_.IFunction],
        auth: ApiKeyAuth,
    ) -> None:
        super().__init__(scope, cid)
        missing = [g for g in HTTP_GROUPS if g not in handlers]
        if missing:
            raise ValueError(f"no function for handler groups {missing}")
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        suggest = next(r for r in ROUTES if r.path.endswith("tests:suggest"))
        eval_run = next(r for r in ROUTES if r.path == "/v1/evals/run")
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=config.prefix,
            description=f"OptiLoop API of tenant {config.tenant}",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # raw model.tar.gz uploads (POST /v1/models/{id}/versions:upload) reach the function as
            # bytes (base64 in the proxy event, decoded by Mangum), not as text mangled by UTF-8
            binary_media_types=["application/gzip", "application/x-gzip"],
            # the usage plan's key comes from the authorizer (the principal's), never from a header
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            # API Gateway's CloudWatch role is one setting per account and region. Each tenant stack
            # points it at its own role and retains that role on delete, so removing one tenant never
            # breaks the logging of another that shares the account.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies and headers carry API keys: never log them
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=2 * config.api_rate_limit,
                method_options={
                    # suggest is the CPU-heavy route: it gets half the stage's budget so a runaway
                    # client cannot starve ingest (which is what lets the loop learn).
                    f"{suggest.path}/{suggest.method}": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=max(1, config.api_rate_limit // 2),
                        throttling_burst_limit=max(1, config.api_rate_limit),
                    ),
                    # one evaluation is up to 2,000 paid model calls and minutes of Lambda time: a
                    # client retrying in a loop must not start hundreds at once
                    f"{eval_run.path}/{eval_run.method}": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=EVAL_RUN_RATE, throttling_burst_limit=2 * EVAL_RUN_RATE
                    ),
                },
            ),
        )
        auth.add_gateway_responses(self.api)
        self.api.add_gateway_response(
            "BadRequestBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={"application/json": BAD_BODY},
        )
        for kind, status, code, field, reason, headers in GATEWAY_ERRORS:
            self.api.add_gateway_response(
                "Gateway" + kind.response_type.title().replace("_", ""),
                type=kind,
                status_code=status or None,  # the DEFAULT_ types keep the status of what they answer
                templates={"application/json": gateway_error(code, field, reason)},
                response_headers=headers or None,
            )
        self.validator = self.api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        self.json_object = self.api.add_model(
            "JsonObject",
            content_type="application/json",
            model_name="JsonObject",
            schema=apigw.JsonSchema(schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT),
        )
        # One invoke permission per function for this API's execute-api ARN, not one per method: a
        # permission per method made ~120 AWS::Lambda::Permission resources and pushed the stack past
        # CloudFormation's 500. The gateway still sends each function only the routes mapped to it.
        self.integrations = {
            g: apigw.LambdaIntegration(handlers[g], allow_test_invoke=False, scope_permission_to_method=False)
            for g in HTTP_GROUPS
        }
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        for route in ROUTES:
            self.methods[(route.method, route.path)] = self._method(route, auth)
        self.usage_plan_name = config.prefix + USAGE_PLAN_SUFFIX
        self.usage_plan = self.api.add_usage_plan(
            "PrincipalPlan",
            name=self.usage_plan_name,
            description="One API key per principal (optiloop.auth.usage_plan): its requests, all its "
            "keys and tokens together",
            throttle=apigw.ThrottleSettings(
                rate_limit=config.principal_rate, burst_limit=config.principal_burst_limit
            ),
            quota=apigw.QuotaSettings(limit=config.principal_quota_per_day, period=apigw.Period.DAY)
            if config.principal_quota_per_day
            else None,
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "No WAF web ACL yet: every route but the health check needs a valid API key, and stage "
            "and per-method throttling bound abuse; a web ACL (about $6/month per tenant at idle) "
            "is the next step once a tenant exposes the API beyond its own CI.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "Callers are machines holding OptiLoop API keys, checked by the Lambda REQUEST "
            "authorizer against the tenant's table exactly as the local runtime does; there are "
            "no Cognito users to authenticate.",
        )
        acknowledge_role = self.api.node.try_find_child("CloudWatchRole")
        if acknowledge_role is not None:
            acknowledge(
                acknowledge_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "API Gateway's account-level logging role: the AWS-managed policy is the documented "
                "way to let the service write execution and access logs, and it grants nothing else.",
            )

    def _method(self, route: Route, auth: ApiKeyAuth) -> apigw.Method:
        resource = self.api.root.resource_for_path(gateway_path(route.path))
        method = resource.add_method(
            route.method,
            self.integrations[route.group],
            authorizer=None if route.public else auth.authorizer,
            authorization_type=apigw.AuthorizationType.NONE
            if route.public
            else apigw.AuthorizationType.CUSTOM,
            # metered by the principal's usage-plan key, which the authorizer answers
            api_key_required=not route.public,
            request_validator=self.validator,
            request_parameters={f"method.request.path.{p}": True for p in path_params(route.path)} or None,
            request_models={"application/json": self.json_object} if route.has_body else None,
        )
        if route.public:
            acknowledge(method, "AwsSolutions-APIG4", PUBLIC_REASONS.get(route.path, PUBLIC_REASONS["*"]))
        return method

    @property
    def url(self) -> str:
        return self.api.url
