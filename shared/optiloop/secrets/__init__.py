"""Secrets: credentials the platform holds for a tenant (connector passwords, access keys, the PII
hashing key), stored behind one small port so that documents only ever hold a reference.

    port.py      the SecretStore port, references, and `secrets_of` (the store a Deps uses)
    local.py     in-memory and local-folder adapters, and `env:` references an operator provisions
    aws.py       AWS Secrets Manager (boto3; imported only where configured)
"""

from optiloop.secrets.port import SecretStore, secrets_of

__all__ = ["SecretStore", "secrets_of"]
