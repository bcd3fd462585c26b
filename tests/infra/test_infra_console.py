"""The console on AWS (infra_cdk/console.py): private S3 files behind CloudFront, the API on the same
origin, security headers, and the Cognito pieces the browser's PKCE sign-in needs."""

from __future__ import annotations

import json
from typing import Any

from cfn_fake import logical_id_of

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed policies' fixed ids
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _console(synth: Any, tenant: str = "acme") -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    [(bucket_id, bucket)] = [
        (k, v) for k, v in synth.resources(tenant, "AWS::S3::Bucket").items() if k.startswith("ConsoleAssets")
    ]
    dist_id, dist = synth.one(tenant, "AWS::CloudFront::Distribution")
    return bucket_id, bucket, dist_id, dist["Properties"]["DistributionConfig"]


def test_the_files_are_private_and_read_only_by_the_distribution(synth: Any) -> None:
    bucket_id, bucket, dist_id, cfg = _console(synth)
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert all(
        block[k]
        for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    )
    [policy] = [
        p for p in synth.resources("acme", "AWS::S3::BucketPolicy").values()
        if logical_id_of(p["Properties"]["Bucket"]) == bucket_id
    ]  # fmt: skip
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1 and allows[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allows[0]["Action"] == "s3:GetObject" and dist_id in json.dumps(allows[0]["Condition"])
    [origin] = [o for o in cfg["Origins"] if "S3OriginConfig" in o]
    assert "OriginAccessControlId" in origin and origin["S3OriginConfig"]["OriginAccessIdentity"] == ""
    assert cfg["DefaultRootObject"] == "index.html"
    assert cfg["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_the_api_is_served_on_the_consoles_origin_uncached_with_its_headers(synth: Any) -> None:
    _, _, _, cfg = _console(synth)
    behaviors = {b["PathPattern"]: b for b in cfg["CacheBehaviors"]}
    assert set(behaviors) == {"/v1/*", "/.well-known/*"}
    [api_origin] = [o for o in cfg["Origins"] if "CustomOriginConfig" in o]
    api_id, _ = synth.one("acme", "AWS::ApiGateway::RestApi")
    assert api_origin["OriginPath"] == "/prod" and api_id in json.dumps(api_origin["DomainName"])
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    for b in behaviors.values():
        assert b["TargetOriginId"] == api_origin["Id"] and b["ViewerProtocolPolicy"] == "https-only"
        assert {"POST", "PUT", "PATCH", "DELETE"} <= set(b["AllowedMethods"])
        assert b["CachePolicyId"] == CACHING_DISABLED  # answers are per principal: never cached
        assert b["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST  # Authorization reaches the authorizer


def test_the_console_gets_its_security_headers(synth: Any) -> None:
    _, policy = synth.one("acme", "AWS::CloudFront::ResponseHeadersPolicy")
    sec = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = json.dumps(sec["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self' https://optiloop-acme-login.auth." in csp  # the token endpoint, nothing else
    assert sec["FrameOptions"]["FrameOption"] == "DENY" and sec["ContentTypeOptions"]["Override"] is True
    assert sec["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000


def test_each_tenant_has_its_sign_in_domain_and_the_page_its_configuration(synth: Any) -> None:
    for tenant in ("acme", "globex"):
        _, domain = synth.one(tenant, "AWS::Cognito::UserPoolDomain")
        assert domain["Properties"]["Domain"] == f"optiloop-{tenant}-login"
    client_id, _ = synth.one("acme", "AWS::Cognito::UserPoolClient")
    _, _, dist_id, _ = _console(synth)
    deployments = synth.resources("acme", "Custom::CDKBucketDeployment").values()
    by_prefix = {d["Properties"].get("DestinationBucketKeyPrefix", ""): d["Properties"] for d in deployments}
    assert set(by_prefix) == {"console/", ""}
    assert by_prefix["console/"]["Prune"] is True and by_prefix[""]["Prune"] is False  # root keeps console/
    markers = json.dumps(by_prefix[""]["SourceMarkers"])  # console-config.json's deploy-time values
    for expected in ("/oauth2/authorize", "/oauth2/token", client_id, dist_id, "optiloop-acme-login"):
        assert expected in markers, expected
    outputs = synth.templates["acme"]["Outputs"]
    assert dist_id in json.dumps(outputs["ConsoleUrl"]["Value"])
