"""The DynamoDB table the adapter expects, as plain data.

This module imports nothing (not boto3, not optiloop) so that the CDK app can load it by path at
synth time and build the production table from the very same definition the tests create under
moto; a key schema written twice drifts. `infra_cdk/table_spec.py` translates it into CDK.

Point-in-time recovery, encryption and deletion protection are deployment concerns set by CDK; they do
not change the shape, so they are not here.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"

# Generic names, so that a later record type can be indexed without a new GSI (see the package
# docstring for who puts what in them). String keys, projection ALL: listings read whole records.
GSI1 = "gsi1"  # by parent: audit records by project
GSI1_PK = "gsi1pk"
GSI1_SK = "gsi1sk"
GSI2 = "gsi2"  # by kind: audit records by action
GSI2_PK = "gsi2pk"
GSI2_SK = "gsi2sk"

# Epoch seconds. Markers of aborted staged transactions get it (see `dynamodb/commit.py`), and so do
# documents given an `expires_at` (`dynamodb/docs.py`, which also hides them once past, as TTL
# deletes late); everything else lives until deleted. TTL must be enabled on this attribute.
TTL_ATTRIBUTE = "expires_at"

BILLING_MODE = "PAY_PER_REQUEST"  # spiky, per-tenant traffic; no capacity planning per tenant

INDEXES: tuple[dict[str, str], ...] = (
    {"name": GSI1, "partition_key": GSI1_PK, "sort_key": GSI1_SK, "projection": "ALL"},
    {"name": GSI2, "partition_key": GSI2_PK, "sort_key": GSI2_SK, "projection": "ALL"},
)

ATTRIBUTE_DEFINITIONS: tuple[dict[str, str], ...] = tuple(
    {"AttributeName": name, "AttributeType": "S"}
    for name in (PARTITION_KEY, SORT_KEY, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK)
)


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments for boto3 ``create_table`` (local and moto use; production tables come from CDK)."""
    return {
        "TableName": table_name,
        "BillingMode": BILLING_MODE,
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [dict(a) for a in ATTRIBUTE_DEFINITIONS],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": ix["name"],
                "KeySchema": [
                    {"AttributeName": ix["partition_key"], "KeyType": "HASH"},
                    {"AttributeName": ix["sort_key"], "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": ix["projection"]},
            }
            for ix in INDEXES
        ],
    }
