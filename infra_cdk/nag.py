"""cdk-nag (AwsSolutions) wiring: the plugin, acknowledgements with reasons, and reading results.

cdk-nag 3 runs as a CDK policy-validation plugin (`Validations.of(app).add_plugins(...)`) and is
acknowledged with CDK's own `Validations.of(scope).acknowledge(...)`; v2's Aspects and
NagSuppressions are gone. Two things the plugin does not do for us, done here:

* CDK fails synth only on *error* findings once any rule is acknowledged anywhere; warnings
  (e.g. APIG3, DDB3) would pass silently. `synth_and_check` fails on every unacknowledged finding.
* Wildcard findings (IAM5) are acknowledged one finding at a time (`AwsSolutions-IAM5[Resource::...]`,
  v3 has no prefix matching), so a new wildcard always shows up instead of hiding behind an old
  blanket acknowledgement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"
REPORT_FILE = "validation-report.json"


def add_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


_recording: list[tuple[str, str]] | None = None


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge `rule` (e.g. "AwsSolutions-L1") on `scope` and everything below it."""
    if len(reason) < 40:
        raise ValueError(f"acknowledging {rule} needs a specific reason, got {reason!r}")
    if _recording is not None:
        _recording.append((scope.node.path, rule))
        return
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


@contextmanager
def recording() -> Iterator[list[tuple[str, str]]]:
    """Constructs built inside acknowledge nothing; the (path, rule) pairs they would have
    acknowledged are collected instead. With the raw findings of such a tree a test shows that every
    acknowledgement still matches a finding: none outlives the code that needed it."""
    global _recording
    _recording = []
    try:
        yield _recording
    finally:
        _recording = None


def arn_of(construct: IConstruct) -> str:
    """How cdk-nag spells a `Fn::GetAtt [X, Arn]` in a finding id: `<X.Arn>`."""
    cfn = construct.node.default_child or construct
    return f"<{Stack.of(construct).resolve(cfn.logical_id)}.Arn>"  # type: ignore[attr-defined]


def acknowledge_wildcards(scope: IConstruct, findings: Iterable[str], reason: str) -> None:
    """Acknowledge IAM5 findings one by one: `Resource::<Bucket.Arn>/models/*`, `Action::...`."""
    for finding in findings:
        acknowledge(scope, f"{PACK}-IAM5[{finding}]", reason)


def acknowledge_state_machine_role(role: IConstruct, steps: IConstruct) -> None:
    """The two wildcards every state machine's role holds that invokes the steps function: its
    versions (`<function ARN>:<version>`) and the log delivery and X-Ray calls IAM scopes to `*` only."""
    acknowledge_wildcards(
        role,
        [f"Resource::{arn_of(steps)}:*"],
        "Step Functions invokes function versions as <function ARN>:<version>.",
    )
    acknowledge_wildcards(
        role,
        ["Resource::*"],
        "CloudWatch Logs delivery (CreateLogDelivery, DescribeResourcePolicies, ...) and X-Ray "
        "PutTraceSegments accept no resource-level permissions: '*' is the only resource IAM allows.",
    )


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    path: str
    description: str

    def __str__(self) -> str:
        return f"[{self.severity}] {self.rule} at {self.path}: {self.description}"


def read_findings(outdir: str | Path) -> list[Finding]:
    """Unacknowledged findings in the report CDK wrote at synth (none written: none found)."""
    report = Path(outdir) / REPORT_FILE
    if not report.exists():
        return []
    data = json.loads(report.read_text())
    out: list[Finding] = []
    for plugin in data.get("pluginReports", []):
        for v in plugin.get("violations", []):
            for c in v.get("violatingConstructs", []) or [{"constructPath": "?"}]:
                out.append(
                    Finding(
                        v["ruleName"],
                        v.get("severity", "?"),
                        c.get("constructPath", "?"),
                        v.get("description", ""),
                    )
                )
    return out


def synth_and_check(app: App) -> tuple[Path, list[Finding]]:
    """Synthesize `app` and return (assembly dir, unacknowledged findings of any severity).

    CDK raises on error findings after writing the templates and the report; that exception is
    turned into findings so callers (the tests, `make synth`) report them all the same way.
    """
    outdir = Path(app.outdir)
    try:
        app.synth()
    except RuntimeError as exc:  # jsii surfaces CDK's ValidationError as RuntimeError
        if "Validation failed" not in str(exc):
            raise
    return outdir, read_findings(outdir)


def acknowledgements(root: IConstruct) -> dict[str, dict[str, str]]:
    """{construct path: {rule: reason}} for every acknowledgement in the tree (for review and tests)."""
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    out: dict[str, dict[str, str]] = {}
    for node in root.node.find_all():
        for entry in node.node.metadata:
            if entry.type == key and entry.data:
                rules = out.setdefault(node.node.path, {})
                for rule, reason in dict(entry.data).items():
                    rules[rule.split("::", 1)[-1]] = reason
    return out
