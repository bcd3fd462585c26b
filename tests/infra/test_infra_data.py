"""The tenant's data: table shape from the adapter's spec, PITR/KMS/TTL, buckets and Object Lock."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from cfn_fake import logical_id_of
from infra_cdk.table_spec import table_shape


def test_table_is_built_from_the_adapter_spec_with_pitr_kms_and_ttl(synth: Any, acme: Any) -> None:
    from optiloop.store.dynamodb import table_spec as spec  # the adapter's own module, as a package

    kwargs = spec.create_table_kwargs("x")
    acme.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "KeySchema": kwargs["KeySchema"],
                "AttributeDefinitions": Match.array_with(kwargs["AttributeDefinitions"]),
                "GlobalSecondaryIndexes": [
                    {**gsi, "IndexName": gsi["IndexName"]} for gsi in kwargs["GlobalSecondaryIndexes"]
                ],
                "BillingMode": "PAY_PER_REQUEST",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "SSESpecification": {
                    "SSEEnabled": True,
                    "SSEType": "KMS",
                    "KMSMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^DataKey"), "Arn"]},
                },
                "TimeToLiveSpecification": {"AttributeName": spec.TTL_ATTRIBUTE, "Enabled": True},
                "DeletionProtectionEnabled": True,
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    assert table_shape().source.endswith("store/dynamodb/table_spec.py")


def test_idempotency_table_for_the_queue_consumer(acme: Any) -> None:
    acme.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
        },
    )
    acme.resource_count_is("AWS::DynamoDB::Table", 2)


def test_one_rotating_customer_managed_key_per_tenant(acme: Any) -> None:
    """One symmetric key encrypts the tenant's data (rotating); the second key only signs audit
    digests (an asymmetric ECC key: KMS cannot rotate those, and nothing is encrypted with it)."""
    acme.resource_count_is("AWS::KMS::Key", 2)
    acme.has_resource(
        "AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}, "DeletionPolicy": "Retain"}
    )
    acme.has_resource_properties("AWS::KMS::Key", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"})
    acme.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/optiloop-acme"})


def _bucket(synth: Any, prefix: str) -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in synth.resources("acme", "AWS::S3::Bucket").items() if k.startswith(prefix)]
    assert len(found) == 1, found
    return found[0]


def test_every_bucket_blocks_public_access_and_refuses_plain_http(synth: Any) -> None:
    buckets = synth.resources("acme", "AWS::S3::Bucket")
    policies = synth.resources("acme", "AWS::S3::BucketPolicy")
    assert len(buckets) == 4  # artifacts, audit archive, access logs, the console's files
    for logical_id, bucket in buckets.items():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        assert bucket["DeletionPolicy"] == "Retain", logical_id
        [policy] = [p for p in policies.values() if logical_id_of(p["Properties"]["Bucket"]) == logical_id]
        denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denies], logical_id
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in [s["Condition"] for s in denies], logical_id


def test_artifacts_bucket_is_versioned_kms_encrypted_and_logged(synth: Any) -> None:
    _, bucket = _bucket(synth, "DataArtifacts")
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert logical_id_of(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]).startswith("DataKey")
    assert rule["BucketKeyEnabled"] is True
    assert logical_id_of(props["LoggingConfiguration"]["DestinationBucketName"]).startswith("DataAccessLogs")


def test_audit_bucket_has_object_lock_in_governance_mode_for_a_year(synth: Any) -> None:
    _, bucket = _bucket(synth, "DataAudit")
    props = bucket["Properties"]
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert (
        props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "SSEAlgorithm"
        ]
        == "aws:kms"
    )
