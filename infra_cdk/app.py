"""CDK entry point (cdk.json runs it): one tenant's Stage, checked by cdk-nag.

    cdk deploy -c tenant=acme ['optiloop-acme/*']        # through the CDK CLI
    python infra_cdk/app.py -c tenant=acme [--outdir d]   # synth only, no CLI needed (make synth)

Exits non-zero on any unacknowledged cdk-nag finding, warnings included, so CI and `cdk deploy`
stop on the same findings.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aws_cdk import App, Environment

from infra_cdk.functions import LAYERS, PLACEHOLDER_LAYER, REPO
from infra_cdk.nag import REPORT_FILE, add_checks, synth_and_check
from infra_cdk.stage import OptiLoopStage
from infra_cdk.tenant import TenantConfig, TenantError

# Feature flags this app relies on, set here rather than in cdk.json so that `python app.py` (no CLI,
# hence no cdk.json) synthesizes exactly what `cdk deploy` deploys.
FLAGS: dict[str, Any] = {
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/aws-apigateway:disableCloudWatchRole": False,
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
    "@aws-cdk/core:stackRelativeExports": True,
    # S3 access logs delivered through a bucket policy, not the legacy LogDeliveryWrite ACL
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build_app(
    configs: Iterable[TenantConfig], *, outdir: str | None = None, context: dict[str, Any] | None = None
) -> tuple[App, dict[str, OptiLoopStage]]:
    """An App with one Stage per tenant and the AwsSolutions checks attached."""
    app = App(outdir=outdir, context={**FLAGS, **(context or {})})
    env = None
    if os.environ.get("CDK_DEFAULT_ACCOUNT") and os.environ.get("CDK_DEFAULT_REGION"):
        env = Environment(account=os.environ["CDK_DEFAULT_ACCOUNT"], region=os.environ["CDK_DEFAULT_REGION"])
    stages = {c.tenant: OptiLoopStage(app, c, env=env) for c in configs}
    add_checks(app)
    return app, stages


def _context_args(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise TenantError(f"context must be KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--outdir", default=None, help="cloud assembly directory (default: $CDK_OUTDIR or cdk.out)"
    )
    args = parser.parse_args(argv)
    try:
        context = _context_args(args.context)
        probe = App(context=context)  # picks up the CDK CLI's context (CDK_CONTEXT_JSON) as well
        config = TenantConfig.from_context(probe.node.try_get_context)
    except TenantError as exc:
        print(f"optiloop: {exc}", file=sys.stderr)
        return 2
    missing = [name for name in LAYERS if not (REPO / "build" / "layers" / name).is_dir()]
    if missing:
        print(
            f"optiloop: layers {missing} not built; using {PLACEHOLDER_LAYER.relative_to(REPO)} "
            "(fine for synth and tests, NOT for deploy: run `make layers` first)",
            file=sys.stderr,
        )
    try:
        app, _ = build_app([config], outdir=args.outdir, context=context)
    except TenantError as exc:  # e.g. the model catalogue, checked when the stack is built
        print(f"optiloop: {exc}", file=sys.stderr)
        return 2
    outdir, findings = synth_and_check(app)
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        print(
            f"optiloop: {len(findings)} unacknowledged cdk-nag finding(s); see {outdir / REPORT_FILE}",
            file=sys.stderr,
        )
        return 1
    print(f"optiloop: synthesized tenant {config.tenant!r} into {outdir} (cdk-nag AwsSolutions: clean)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
