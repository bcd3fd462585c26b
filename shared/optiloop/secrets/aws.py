"""AWS Secrets Manager: one secret per name under the tenant's prefix (`<prefix>/<name>`).

The functions' IAM policy grants the secret actions on `<prefix>/*` only (infra_cdk), so a reference
cannot reach another tenant's or the platform's own secrets even if a document were tampered with;
`_get` also refuses a reference outside the prefix before asking AWS. Deleting forces deletion without
the recovery window: a deleted connector's credential should stop working at once.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from optiloop.secrets.port import SecretMissing, SecretStore


class SecretsManagerSecrets(SecretStore):
    def __init__(self, client: Any, prefix: str = "optiloop", kms_key_id: str | None = None) -> None:
        self.client, self.prefix, self.kms_key_id = client, prefix.strip("/"), kms_key_id

    def _put(self, name: str, value: dict[str, str]) -> str:
        full = f"{self.prefix}/{name}"
        body = json.dumps(value)
        try:
            self.client.put_secret_value(SecretId=full, SecretString=body)
        except self.client.exceptions.ResourceNotFoundException:
            kwargs: dict[str, Any] = {"Name": full, "SecretString": body}
            if self.kms_key_id:
                kwargs["KmsKeyId"] = self.kms_key_id
            self.client.create_secret(**kwargs)
        return self.ref_of(name)

    def ref_of(self, name: str) -> str:
        return f"aws:{self.prefix}/{name}"

    def _name(self, ref: str) -> str:
        name = ref.removeprefix("aws:")
        if not ref.startswith("aws:") or not name.startswith(self.prefix + "/"):
            raise SecretMissing("no such secret")
        return name

    def _get(self, ref: str) -> dict[str, str]:
        try:
            raw = self.client.get_secret_value(SecretId=self._name(ref))["SecretString"]
        except self.client.exceptions.ResourceNotFoundException:
            raise SecretMissing("no such secret") from None
        return {str(k): str(v) for k, v in json.loads(raw).items()}

    def _delete(self, ref: str) -> None:
        with contextlib.suppress(self.client.exceptions.ResourceNotFoundException, SecretMissing):
            self.client.delete_secret(SecretId=self._name(ref), ForceDeleteWithoutRecovery=True)


def from_env(
    prefix: str, endpoint_url: str | None = None, kms_key_id: str | None = None
) -> SecretsManagerSecrets:
    import boto3

    return SecretsManagerSecrets(
        boto3.client("secretsmanager", endpoint_url=endpoint_url), prefix, kms_key_id
    )
