"""Creating the table where nothing else does: moto, moto_server, DynamoDB Local, first local runs.

Production tables come from CDK (with point-in-time recovery, encryption and deletion protection);
this only mirrors their shape, from the same `table_spec`.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from optiloop.store.dynamodb.table_spec import TTL_ATTRIBUTE, create_table_kwargs


def ensure_table(client: Any, name: str, *, wait: bool = True) -> bool:
    """Create the table if it does not exist; True if it was created. TTL is enabled either way."""
    created = False
    try:
        client.create_table(**create_table_kwargs(name))
        created = True
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
    if wait:
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    ttl = client.describe_time_to_live(TableName=name).get("TimeToLiveDescription", {})
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )
    return created
