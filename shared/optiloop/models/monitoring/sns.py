"""The SNS adapter of the notifier port: alerts to the tenant's alarm topic (boto3, imported lazily).

Only `optiloop.runtime` imports this module, and only when OPTILOOP_ALARM_TOPIC_ARN is set, so the
local runtime never loads boto3 for it. The topic is KMS-encrypted by the stack; the monitors
function's role may publish to exactly this topic and use its key through SNS.
"""

from __future__ import annotations

from typing import Any


class SnsNotifier:
    def __init__(self, topic_arn: str, *, client: Any = None, endpoint_url: str | None = None) -> None:
        self.topic_arn = topic_arn
        self._client = client
        self._endpoint_url = endpoint_url

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            region = self.topic_arn.split(":")[3] if self.topic_arn.count(":") >= 5 else None
            self._client = boto3.client("sns", region_name=region or None, endpoint_url=self._endpoint_url)
        return self._client

    def publish(self, subject: str, message: str, attributes: dict[str, str]) -> None:
        self.client.publish(
            TopicArn=self.topic_arn,
            Subject=subject,
            Message=message,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
