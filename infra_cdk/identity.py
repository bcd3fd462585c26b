"""A Cognito user pool per tenant: the people who sign in to the console on AWS.

One pool per tenant stage (never shared), so tenants' people, groups and tokens are apart: an ID
token of one tenant's pool names that pool as its issuer and its app client as its audience, and
another tenant's API, configured with its own pool, refuses it (`optiloop.auth.oidc`).

* Nobody signs themselves up: an administrator invites people (AdminCreateUser), who must set up
  TOTP MFA; passwords are long and mixed; threat protection (adaptive authentication, compromised
  credentials) is enforced.
* Roles are groups, `optiloop-<role>`, read from the `cognito:groups` claim: the `OPTILOOP_OIDC_*`
  settings the functions need are in `oidc_environment` (issuer, audience, role claim and map).
* The console's app client is public and may only run the authorization code flow with PKCE (no
  client secret, no password or implicit flows), with the callback `/console/oidc/callback` of the
  tenant's console URL, as `optiloop.console.oidc` expects, and the root of the tenant's CloudFront
  console (`infra_cdk/console.py`), whose page runs the flow itself.
* The pool has a Cognito domain, `<prefix>-login` (`login_url`): the authorization and token
  endpoints live there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

ROLES = ("viewer", "contributor", "admin", "owner")
CALLBACK_PATH = "/console/oidc/callback"


def login_url(prefix: str, region: str) -> str:
    """The pool's sign-in domain (Cognito's hosted pages and its /oauth2/* endpoints): the tenant
    prefix under Cognito's regional domain, so each tenant has its own."""
    return f"https://{prefix}-login.auth.{region}.amazoncognito.com"


def group_name(role: str) -> str:
    return f"optiloop-{role}"


class ConsoleUserPool(Construct):
    def __init__(
        self, scope: Construct, cid: str, *, prefix: str, console_url: str, static_urls: Sequence[str] = ()
    ) -> None:
        """`console_url`: where `optiloop serve` signs people in (its server-side callback);
        `static_urls`: consoles served as static files (S3), whose page is its own callback."""
        super().__init__(scope, cid)
        self.pool = cognito.UserPool(
            self,
            "Pool",
            user_pool_name=f"{prefix}-people",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,  # people's accounts outlive a redeployed stack
        )
        for rank, role in enumerate(ROLES):
            cognito.CfnUserPoolGroup(
                self,
                f"Group{role.capitalize()}",
                user_pool_id=self.pool.user_pool_id,
                group_name=group_name(role),
                description=f"OptiLoop role '{role}' on every project of the tenant",
                precedence=len(ROLES) - rank,  # Cognito: lower wins; the API takes the highest role anyway
            )
        self.client = self.pool.add_client(
            "Console",
            user_pool_client_name=f"{prefix}-console",
            generate_secret=False,  # a public client: PKCE is the proof (RFC 7636)
            auth_flows=cognito.AuthFlow(
                user_password=False, user_srp=False, custom=False, admin_user_password=False
            ),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True, implicit_code_grant=False),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[console_url.rstrip("/") + CALLBACK_PATH, *static_urls],
                logout_urls=[console_url.rstrip("/") + "/", *static_urls],
            ),
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(8),
            enable_token_revocation=True,
        )
        region = Stack.of(self).region
        # the hosted sign-in pages and the /oauth2/authorize and /oauth2/token endpoints PKCE needs
        self.domain = self.pool.add_domain(
            "Login", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=f"{prefix}-login")
        )
        self.login_url = login_url(prefix, region)
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{self.pool.user_pool_id}"
        CfnOutput(self, "Issuer", value=self.issuer, description="OPTILOOP_OIDC_ISSUER of this tenant")
        CfnOutput(
            self, "ClientId", value=self.client.user_pool_client_id, description="OPTILOOP_OIDC_AUDIENCE"
        )

    def oidc_environment(self) -> dict[str, str]:
        """The `OPTILOOP_OIDC_*` settings that make the API accept this pool's ID tokens."""
        return {
            "OPTILOOP_OIDC_ISSUER": self.issuer,
            "OPTILOOP_OIDC_AUDIENCE": self.client.user_pool_client_id,
            "OPTILOOP_OIDC_ROLE_CLAIM": "cognito:groups",
            "OPTILOOP_OIDC_ROLES": json.dumps({group_name(r): r for r in ROLES}),
        }
