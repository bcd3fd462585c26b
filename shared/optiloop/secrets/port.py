"""The secrets port: put a secret (a small JSON object of strings), get it back by reference, delete it.

Why a port and references: a document (a connector, say) is read by every viewer of its project,
copied into audit details and exported; a credential inside it would leak through all of these.
So documents keep a reference (`local:...`, `memory:...`, `aws:...`, `env:...`) and only the code
that opens a connection resolves it. References to operator-provisioned environment variables
(`env:OPTILOOP_SECRET_<NAME>`) are resolved by every adapter, so a deployment can hand a credential
to the platform without ever sending it over the API; nothing outside that prefix is reachable, or a
caller could name `env:OPTILOOP_ADMIN_TOKEN` as a database password and read it on their own server.
"""

from __future__ import annotations

import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from optiloop.errors import FieldProblem, InvalidInput

ENV_PREFIX = "OPTILOOP_SECRET_"
_ENV_REF = re.compile(r"^env:(OPTILOOP_SECRET_[A-Z0-9_]{1,100})$")
_NAME = re.compile(r"^[A-Za-z0-9/_.-]{1,200}$")
MAX_SECRET_BYTES = 16 * 1024


class SecretMissing(LookupError):
    """The reference names nothing (deleted, or an env variable the operator did not set)."""


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"bad secret name {name!r}")
    return name


def check_value(value: Mapping[str, str]) -> dict[str, str]:
    if not value or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("a secret is a non-empty object of strings")
    if len(json.dumps(value)) > MAX_SECRET_BYTES:
        raise ValueError(f"a secret holds at most {MAX_SECRET_BYTES} bytes")
    return dict(value)


def is_env_ref(ref: str) -> bool:
    return bool(_ENV_REF.fullmatch(ref))


def check_env_ref(ref: str, field: str) -> str:
    """A caller-supplied reference: only `env:OPTILOOP_SECRET_*` (see the module docstring)."""
    if not is_env_ref(ref):
        raise InvalidInput(
            FieldProblem(
                field,
                f"must be env:{ENV_PREFIX}<NAME> (A-Z, 0-9, _), a variable the operator provisioned",
            )
        )
    return ref


def read_env_ref(ref: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variable's value: a JSON object of strings, or a plain string meaning {"password": value}."""
    m = _ENV_REF.fullmatch(ref)
    if m is None:
        raise SecretMissing("not an env reference")
    raw = (os.environ if env is None else env).get(m.group(1))
    if raw is None:
        raise SecretMissing(f"the environment variable {m.group(1)} is not set on the server")
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        return {"password": raw}
    if isinstance(parsed, dict) and all(isinstance(v, str) for v in parsed.values()):
        return {str(k): v for k, v in parsed.items()}
    return {"password": raw}


class SecretStore(ABC):
    """One backend; `env:` references resolve in every one (`get`)."""

    @abstractmethod
    def _put(self, name: str, value: dict[str, str]) -> str: ...

    @abstractmethod
    def _get(self, ref: str) -> dict[str, str]: ...

    @abstractmethod
    def _delete(self, ref: str) -> None: ...

    @abstractmethod
    def ref_of(self, name: str) -> str:
        """The reference `put(name, ...)` answers, without storing anything."""

    def put(self, name: str, value: Mapping[str, str]) -> str:
        """Store (or overwrite) the secret `name`; its reference."""
        return self._put(check_name(name), check_value(value))

    def get(self, ref: str) -> dict[str, str]:
        """The secret; SecretMissing when the reference names nothing."""
        if ref.startswith("env:"):
            return read_env_ref(ref)
        return self._get(ref)

    def get_or_create(self, name: str, make: Callable[[], Mapping[str, str]]) -> dict[str, str]:
        """The secret `name`, created with `make()` the first time (a key the platform generates)."""
        try:
            return self.get(self.ref_of(check_name(name)))
        except SecretMissing:
            self.put(name, make())
            return self.get(self.ref_of(name))

    def delete(self, ref: str) -> None:
        """Forget the secret; deleting a missing one or an `env:` reference is a no-op."""
        if not ref.startswith("env:"):
            self._delete(ref)


def secrets_of(deps: Any) -> SecretStore:
    """The Deps' secret store; a Deps built without one (tests, a throwaway app) gets an in-memory
    store of its own on first use, so secrets never land somewhere the caller did not choose."""
    if deps.secrets is None:
        from optiloop.secrets.local import MemorySecrets

        deps.secrets = MemorySecrets()
    store: SecretStore = deps.secrets
    return store
