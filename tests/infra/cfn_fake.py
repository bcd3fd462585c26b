"""Reading synthesized CloudFormation in tests: references, policies, and fake-ARN resolution.

The resolver turns a template's intrinsic functions into the strings CloudFormation would produce
in account 123456789012 / us-east-1 (moto's defaults), with each resource's physical id made from
its logical id, so a definition taken from the template can be created in moto as is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "optiloop-test",
}


def logical_id_of(ref: Any) -> str:
    """The logical id inside {"Ref": X} or {"Fn::GetAtt": [X, attr]}."""
    if isinstance(ref, dict) and "Ref" in ref:
        return ref["Ref"]
    if isinstance(ref, dict) and "Fn::GetAtt" in ref:
        return ref["Fn::GetAtt"][0]
    raise AssertionError(f"not a reference: {ref!r}")


def physical_name(logical_id: str) -> str:
    """A name valid for S3 as well as Lambda, SNS, IAM: lowercase, no underscores."""
    return logical_id.lower()


class Resolver:
    def __init__(self, template: dict[str, Any]) -> None:
        self.resources = template["Resources"]

    def ref(self, logical_id: str) -> str:
        if logical_id in PSEUDO:
            return PSEUDO[logical_id]
        kind = self.resources[logical_id]["Type"]
        name = physical_name(logical_id)
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        return name  # buckets, tables, functions, roles: Ref is the name

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = physical_name(logical_id)
        known = {
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
            "AWS::CloudWatch::Alarm": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        }
        return known[kind]

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(n) for n in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"}:
            return self.ref(node["Ref"])
        if set(node) == {"Fn::GetAtt"}:
            logical_id, attr = node["Fn::GetAtt"]
            if attr.endswith("Name"):  # QueueName, TopicName, ...: the physical name
                return physical_name(logical_id)
            assert attr == "Arn", f"no fake for {attr}"
            return self.arn(logical_id)
        if set(node) == {"Fn::Join"}:
            sep, parts = node["Fn::Join"]
            return sep.join(str(self(p)) for p in parts)
        return {k: self(v) for k, v in node.items()}


def statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every Allow/Deny statement attached to a role: inline policies and AWS::IAM::Policy resources."""
    out: list[dict[str, Any]] = []
    role = template["Resources"][role_id]["Properties"]
    for policy in role.get("Policies", []):
        out += policy["PolicyDocument"]["Statement"]
    for res in template["Resources"].values():
        if res["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in res["Properties"].get("Roles", []):
            out += res["Properties"]["PolicyDocument"]["Statement"]
    return out


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions(stmts: list[dict[str, Any]]) -> set[str]:
    return {a for s in stmts if s["Effect"] == "Allow" for a in as_list(s["Action"])}


def resources_for(stmts: list[dict[str, Any]], prefix: str) -> Iterator[tuple[str, Any]]:
    """(action, resource) pairs of Allow statements whose action starts with `prefix`."""
    for s in stmts:
        if s["Effect"] != "Allow":
            continue
        for a in as_list(s["Action"]):
            if a.startswith(prefix):
                for r in as_list(s["Resource"]):
                    yield a, r


def flat(node: Any) -> str:
    """A reference rendered like cdk-nag does (<Logical.Arn>, <Logical>), for readable assertions."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return "<{}.{}>".format(*node["Fn::GetAtt"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{node['Ref']}>"
    if isinstance(node, dict) and "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(flat(p) for p in parts)
    return json.dumps(node)


def without_data_secrets(stmts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statements other than those on the tenant's connector credentials and PII hashing keys
    (`optiloop/<tenant>/connectors/*`, `pii-hash/*`: the connectors and automl functions, checked in
    tests/infra/test_infra_connectors.py); the model-secret checks are about the others."""
    data = ("/connectors/*", "/pii-hash/*")
    return [
        s
        for s in stmts
        if not all(
            ":secret:optiloop/" in flat(r) and flat(r).endswith(data) for r in as_list(s.get("Resource"))
        )
    ]


def without_token_secret(stmts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Statements other than the read of the access-token signing secret (infra_cdk/auth.py), which
    every function that verifies tokens holds; the "reads no secret" checks are about the others."""
    return [s for s in stmts if "TokenSecret" not in json.dumps(s.get("Resource", ""))]
