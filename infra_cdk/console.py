"""The console on AWS: its static files in a private S3 bucket, served by CloudFront with the API.

One CloudFront distribution per tenant serves both:

* `/` and `/console/*` from the bucket (origin access control: the bucket is private and refuses
  anyone but this distribution), with the console's security headers (a CSP whose `connect-src` is
  this origin and the tenant's Cognito sign-in domain, HSTS, nosniff, no referrer, no framing);
* `/v1/*` and `/.well-known/*` forwarded to the tenant's API Gateway stage, uncached, with every
  viewer header but Host (so `Authorization` reaches the authorizer).

So the console calls the API on its **own origin**: no cross-origin request is ever made, and no
other site's page can read an answer (the API sends no CORS headers at all, so browsers refuse every
other origin). The alternative, the API on API Gateway's origin with CORS for the console's origin,
needs a preflight `OPTIONS` method on each of the API's resources: about 120 more resources on a
stack near CloudFormation's 500, and a preflight round trip before every call.

Sign-in runs in the browser (authorization code + PKCE, `static/js/oidc.js`): nothing on S3 can keep
a code_verifier. The Cognito app client (`identity.ConsoleUserPool`) lists this distribution's root
as a callback; the page redeems the code at the pool's token endpoint and sends the ID token to the
API as a bearer credential, which the authorizer and the functions verify against the pool. The
console learns all that from `/console-config.json`, written here at deploy time.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra_cdk.api import STAGE
from infra_cdk.data import DataStore
from infra_cdk.identity import ConsoleUserPool, login_url
from infra_cdk.nag import acknowledge, acknowledge_wildcards, arn_of
from infra_cdk.tenant import TenantConfig
from optiloop.console import CONSOLE_CSP, STATIC

CONFIG_FILE = "console-config.json"  # read by static/js/api.js `consoleConfig()`
API_PATHS = ("/v1/*", "/.well-known/*")


class ConsoleSite(Construct):
    """The bucket and the distribution; `publish` uploads the files once the user pool exists."""

    def __init__(
        self, scope: Construct, cid: str, *, config: TenantConfig, data: DataStore, api: apigw.RestApi
    ) -> None:
        super().__init__(scope, cid)
        self.bucket = s3.Bucket(
            self,
            "Assets",
            encryption=s3.BucketEncryption.S3_MANAGED,  # public code and styles; OAC reads SSE-S3 simply
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=data.access_logs,
            server_access_logs_prefix="console/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        region = Stack.of(self).region
        csp = CONSOLE_CSP.replace(
            "connect-src 'self'", f"connect-src 'self' {login_url(config.prefix, region)}"
        )
        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment=f"{config.prefix} console: CSP, HSTS, no sniffing, no framing",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=True, override=True
                ),
            ),
        )
        # the stage's host and path spelled from the API's id, not from `api.url` (RestApiOrigin): that
        # would make the distribution wait for the stage, whose methods' functions take the app
        # client's id, whose callback is this distribution's name: a cycle
        api_host = f"{api.rest_api_id}.execute-api.{region}.{Stack.of(self).url_suffix}"
        to_api = cloudfront.BehaviorOptions(
            origin=origins.HttpOrigin(
                api_host,
                origin_path=f"/{STAGE}",
                protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            ),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Cdn",
            comment=f"{config.prefix}: console and API",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                # a handful of small files: uncached, so a deploy is seen at once, as with serve
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                response_headers_policy=headers,
            ),
            additional_behaviors=dict.fromkeys(API_PATHS, to_api),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "The console serves every country its tenant's people sign in from; who may use it is "
            "decided by Cognito sign-in and the API's roles, not by geography.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "No WAF web ACL yet, as for the API Gateway stage (APIG3): the API behind it keeps its "
            "throttles and per-principal limits, the static files are public code.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR3",
            "CloudFront standard logs need an ACL-enabled bucket; the tenant's access-log bucket "
            "enforces bucket-owner ownership (no ACLs). API calls are logged by API Gateway's access "
            "log and the bucket by S3 server access logs.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution uses CloudFront's default *.cloudfront.net certificate, whose minimum "
            "viewer protocol CloudFront fixes; give it a domain and an ACM certificate to set TLSv1.2_2021.",
        )

    def publish(self, config: TenantConfig, people: ConsoleUserPool) -> None:
        """Upload the console's files and its configuration (the API on this origin, the pool's
        sign-in endpoints and app client), both through CDK's bucket deployment."""
        login = login_url(config.prefix, Stack.of(self).region)
        settings = {
            "api": "",  # this origin: CloudFront forwards /v1/* to the API
            "oidc": {
                "authorize_endpoint": f"{login}/oauth2/authorize",
                "token_endpoint": f"{login}/oauth2/token",
                "client_id": people.client.user_pool_client_id,
                "redirect_uri": f"{self.url}/",
                "scope": "openid email profile",
            },
        }
        files = s3deploy.BucketDeployment(
            self,
            "Files",
            sources=[s3deploy.Source.asset(str(STATIC))],
            destination_bucket=self.bucket,
            destination_key_prefix="console/",
            prune=True,  # within console/ only
            memory_limit=256,
        )
        root = s3deploy.BucketDeployment(
            self,
            "Root",
            sources=[
                s3deploy.Source.data("index.html", (Path(STATIC) / "index.html").read_text()),
                s3deploy.Source.json_data(CONFIG_FILE, settings),
            ],
            destination_bucket=self.bucket,
            prune=False,  # would delete console/
            memory_limit=256,
        )
        self.deployments = (files, root)
        self._acknowledge_deployer()

    def _acknowledge_deployer(self) -> None:
        """CDK's bucket deployment runs one function per stack (a singleton at the stack's root, named
        after CDK's fixed id and its memory), with CDK's own role and runtime."""
        stack = Stack.of(self)
        [deployer] = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        acknowledge(
            deployer,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "CDK's bucket-deployment function gets the basic execution policy (its own logs) from CDK; "
            "it runs only while CloudFormation deploys the console's files.",
        )
        acknowledge_wildcards(
            deployer,
            [
                "Action::s3:GetBucket*",
                "Action::s3:GetObject*",
                "Action::s3:List*",
                "Action::s3:Abort*",
                "Action::s3:DeleteObject*",
                "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*",
                f"Resource::{arn_of(self.bucket)}/*",
            ],
            "CDK's bucket deployment copies the console's files from CDK's asset bucket into the console "
            "bucket (and prunes old ones under console/): CDK's object read/write grants on those two.",
        )
        acknowledge(
            deployer,
            "AwsSolutions-L1",
            "The bucket-deployment function's runtime is CDK's choice (it ships the AWS CLI layer with "
            "it); it moves with aws-cdk-lib upgrades, not with this app.",
        )
