"""API Gateway: the routes are the FastAPI routes, each behind the authorizer but the health check."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from cfn_fake import logical_id_of
from infra_cdk.routes import HTTP_GROUPS, ROUTES, gateway_path

REPO = Path(__file__).resolve().parents[2]


def api_paths(synth: Any, tenant: str = "acme") -> dict[str, str]:
    """Resource logical id -> full path, rebuilt from PathPart/ParentId."""
    resources = synth.resources(tenant, "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path(rid: str) -> str:
        if rid not in paths:
            props = resources[rid]["Properties"]
            parent = props["ParentId"]
            base = "" if "Fn::GetAtt" in parent else path(logical_id_of(parent))
            paths[rid] = f"{base}/{props['PathPart']}"
        return paths[rid]

    for rid in resources:
        path(rid)
    return paths


def api_methods(synth: Any, tenant: str = "acme") -> dict[tuple[str, str], dict[str, Any]]:
    paths = api_paths(synth, tenant)
    # a `{param}:verb` route is served by the `{param}` resource (routes.gateway_path): key it by the route
    # (by method too: one resource may serve `{monitor_id}` on GET and `{monitor_id}:run` on POST)
    route_of = {(r.method, gateway_path(r.path)): r.path for r in ROUTES}
    out = {}
    for method in synth.resources(tenant, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        path = paths[logical_id_of(props["ResourceId"])]
        out[(props["HttpMethod"], route_of.get((props["HttpMethod"], path), path))] = props
    return out


def fastapi_routes() -> set[tuple[str, str]]:
    from optiloop.api.app import ROUTERS

    return {
        (m, r.path) for router in ROUTERS.values() for r in router.routes for m in r.methods if m != "HEAD"
    }


def test_routes_map_one_to_one_to_the_fastapi_app(synth: Any) -> None:
    expected = {(r.method, r.path) for r in ROUTES}
    assert expected == fastapi_routes()
    assert set(api_methods(synth)) == expected


def test_custom_methods_are_literal_path_parts(synth: Any) -> None:
    parts = {
        r["Properties"]["PathPart"] for r in synth.resources("acme", "AWS::ApiGateway::Resource").values()
    }
    assert {"tests:suggest", "runs:ingest", "{project_id}", "{key_id}"} <= parts
    assert not any("+" in p for p in parts), "no greedy proxy resources"
    methods = api_methods(synth)
    assert ("POST", "/v1/projects/{project_id}/tests:suggest") in methods
    assert ("POST", "/v1/projects/{project_id}/tests:prioritize") in methods
    assert ("POST", "/v1/projects/{project_id}/replay") in methods
    assert ("POST", "/v1/projects/{project_id}/runs:ingest") in methods


def test_authorizer_on_every_method_except_healthz(synth: Any) -> None:
    [(authorizer_id, authorizer)] = synth.resources("acme", "AWS::ApiGateway::Authorizer").items()
    assert authorizer["Properties"]["Type"] == "REQUEST"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0  # revocation is immediate
    public = {("GET", "/v1/healthz"), ("POST", "/v1/auth/token"), ("GET", "/.well-known/jwks.json")}
    assert {(r.method, r.path) for r in ROUTES if r.public} == public  # the key is in the token request
    for (verb, path), props in api_methods(synth).items():
        if (verb, path) in public:
            assert props["AuthorizationType"] == "NONE" and "AuthorizerId" not in props
        else:
            assert props["AuthorizationType"] == "CUSTOM", (verb, path)
            assert logical_id_of(props["AuthorizerId"]) == authorizer_id, (verb, path)


def function_by_handler(synth: Any, tenant: str = "acme") -> dict[str, str]:
    return {
        f["Properties"]["Handler"]: lid for lid, f in synth.resources(tenant, "AWS::Lambda::Function").items()
    }


def test_each_route_is_integrated_with_its_handler_groups_function(synth: Any) -> None:
    by_handler = function_by_handler(synth)
    methods = api_methods(synth)
    for route in ROUTES:
        props = methods[(route.method, route.path)]
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY" and integration["IntegrationHttpMethod"] == "POST"
        target = f"functions.{route.group}.handler.handler"
        assert by_handler[target] in str(integration["Uri"]), (route, integration["Uri"])


def test_handler_groups_serve_exactly_their_routers(synth: Any) -> None:
    """routes.py's grouping agrees with each HTTP function's ROUTERS (functions/<group>/handler.py)."""
    from optiloop.api.app import ROUTERS

    for group in HTTP_GROUPS:
        tree = ast.parse((REPO / "functions" / group / "handler.py").read_text())
        [routers] = [
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "ROUTERS" for t in node.targets)
        ]
        served = {(m, r.path) for name in routers for r in ROUTERS[name].routes for m in r.methods}
        assert served == {(r.method, r.path) for r in ROUTES if r.group == group}, group


def test_bodies_must_be_json_objects_and_path_params_are_required(synth: Any) -> None:
    methods = api_methods(synth)
    validators = synth.resources("acme", "AWS::ApiGateway::RequestValidator")
    [(validator_id, validator)] = validators.items()
    assert (
        validator["Properties"]["ValidateRequestBody"]
        and validator["Properties"]["ValidateRequestParameters"]
    )
    for route in ROUTES:
        props = methods[(route.method, route.path)]
        assert logical_id_of(props["RequestValidatorId"]) == validator_id
        if route.has_body:
            assert set(props["RequestModels"]) == {"application/json"}, route
        elif route.optional_body:  # submit/approve take no body: the gateway must let an empty one pass
            assert "RequestModels" not in props, route
        for param in ("project_id", "key_id"):
            if "{" + param + "}" in route.path:
                assert props["RequestParameters"][f"method.request.path.{param}"] is True


def test_stage_logs_access_throttles_and_traces(synth: Any, acme: Any) -> None:
    [(_, stage)] = synth.resources("acme", "AWS::ApiGateway::Stage").items()
    props = stage["Properties"]
    assert props["StageName"] == "prod" and props["TracingEnabled"] is True
    assert (
        "DestinationArn" in props["AccessLogSetting"]
        and "$context.requestId" in props["AccessLogSetting"]["Format"]
    )
    settings = {s["ResourcePath"]: s for s in props["MethodSettings"]}
    assert settings["/*"]["LoggingLevel"] == "ERROR" and settings["/*"]["DataTraceEnabled"] is False
    assert settings["/*"]["ThrottlingRateLimit"] == 50 and settings["/*"]["ThrottlingBurstLimit"] == 100
    suggest = settings["/~1v1~1projects~1{project_id}~1tests:suggest"]
    assert suggest["HttpMethod"] == "POST" and suggest["ThrottlingRateLimit"] == 25


def test_rejections_answer_in_the_apps_error_shape(synth: Any) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.resources("acme", "AWS::ApiGateway::GatewayResponse").values()
    }
    assert set(responses) == {
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "BAD_REQUEST_BODY",
        "THROTTLED",
        "QUOTA_EXCEEDED",
        "INVALID_API_KEY",
        "REQUEST_TOO_LARGE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    }
    assert responses["ACCESS_DENIED"]["StatusCode"] == "401"
    for props in responses.values():
        template = props["ResponseTemplates"]["application/json"]
        assert '"error":{"code":' in template and '"request_id":"$context.requestId"' in template
        assert '"details":[' in template


def test_gateway_throttling_is_a_429_with_retry_after(synth: Any) -> None:
    """The stage and route throttles are the per-tenant edge limit on AWS; a throttled request gets
    the same 429 shape, with Retry-After, as the app's per-principal buckets answer locally."""
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.resources("acme", "AWS::ApiGateway::GatewayResponse").values()
    }
    throttled = responses["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    assert throttled["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    assert '"code":"too_many_requests"' in throttled["ResponseTemplates"]["application/json"]
    assert responses["REQUEST_TOO_LARGE"]["StatusCode"] == "413"
    assert "StatusCode" not in responses["DEFAULT_4XX"]  # keeps the status of what it answers


def test_principals_are_throttled_by_one_usage_plan_key_each(synth: Any) -> None:
    """Issue 12, "on AWS the same limits per API key usage plan": the authorizer supplies the key
    (AUTHORIZER source), every authorized method requires it, and the plan throttles each key at the
    tenant's per-principal rate (default half the stage's: no principal takes the whole tenant)."""
    from infra_cdk.routes import ROUTES

    _, api = synth.one("acme", "AWS::ApiGateway::RestApi")
    assert api["Properties"]["ApiKeySourceType"] == "AUTHORIZER"
    public = {(r.method, r.path) for r in ROUTES if r.public}
    methods = api_methods(synth)
    for key, props in methods.items():
        if props["HttpMethod"] == "OPTIONS":
            continue
        assert props.get("ApiKeyRequired", False) is (key not in public), key
    _, plan = synth.one("acme", "AWS::ApiGateway::UsagePlan")
    props = plan["Properties"]
    assert props["UsagePlanName"] == "optiloop-acme-principals"
    assert props["Throttle"] == {"RateLimit": 25, "BurstLimit": 50} and "Quota" not in props
    [stage] = props["ApiStages"]
    assert stage["Stage"] == {"Ref": next(iter(synth.resources("acme", "AWS::ApiGateway::Stage")))}
    # no API key is made at synth: they are per principal, made at run time (optiloop.auth.usage_plan)
    assert not synth.resources("acme", "AWS::ApiGateway::ApiKey")
    assert not synth.resources("acme", "AWS::ApiGateway::UsagePlanKey")


def test_a_principal_missing_from_the_plan_gets_a_retryable_answer(synth: Any) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.resources("acme", "AWS::ApiGateway::GatewayResponse").values()
    }
    invalid = responses["INVALID_API_KEY"]
    assert invalid["StatusCode"] == "503"
    assert invalid["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    quota = responses["QUOTA_EXCEEDED"]
    assert (
        quota["StatusCode"] == "429"
        and '"field":"principal"' in quota["ResponseTemplates"]["application/json"]
    )


def test_the_authorizer_and_key_management_keep_the_plans_keys(synth: Any) -> None:
    """Both find the plan by name (OPTILOOP_USAGE_PLAN) and create keys only with the plan's tag;
    only key management (the projects function) deletes them, and only keys with that tag."""
    functions = synth.resources("acme", "AWS::Lambda::Function")
    policies = synth.resources("acme", "AWS::IAM::Policy")

    def role_statements(fn: dict[str, Any]) -> list[dict[str, Any]]:
        role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
        return [
            st
            for p in policies.values()
            if {"Ref": role} in p["Properties"]["Roles"]
            for st in p["Properties"]["PolicyDocument"]["Statement"]
        ]

    seen = {}
    for fn in functions.values():
        env = fn["Properties"].get("Environment", {}).get("Variables", {})
        if "OPTILOOP_USAGE_PLAN" not in env:
            continue
        assert env["OPTILOOP_USAGE_PLAN"] == "optiloop-acme-principals"
        handler = fn["Properties"]["Handler"]
        gw = [
            s
            for s in role_statements(fn)
            if str(s["Action"]).startswith("apigateway:")
            or any(
                str(a).startswith("apigateway:")
                for a in (s["Action"] if isinstance(s["Action"], list) else [])
            )
        ]
        creates = [s for s in gw if "apigateway:POST" in s["Action"] and "Condition" in s]
        assert creates and all(
            c["Condition"]["StringEquals"]["aws:RequestTag/optiloop:usage-plan"] == "optiloop-acme-principals"
            for c in creates
        )
        deletes = [s for s in gw if s["Action"] == "apigateway:DELETE"]
        seen[handler] = len(deletes)
    assert seen == {"functions.authorizer.handler.handler": 0, "functions.projects.handler.handler": 2}
