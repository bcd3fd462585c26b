"""Secrets on one machine: in memory (tests, `--backend memory`) or as files in a private folder.

The folder adapter writes one JSON file per secret, mode 0600 in a 0700 folder, by atomic rename, so a
reader never sees half a secret and other local users cannot read it. It is the local stand-in for
Secrets Manager, not encryption at rest: whoever can read the data directory can read the secrets.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

from optiloop.secrets.port import SecretMissing, SecretStore


class MemorySecrets(SecretStore):
    def __init__(self) -> None:
        self._items: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def _put(self, name: str, value: dict[str, str]) -> str:
        with self._lock:
            self._items[name] = value
        return self.ref_of(name)

    def ref_of(self, name: str) -> str:
        return f"memory:{name}"

    def _get(self, ref: str) -> dict[str, str]:
        with self._lock:
            found = self._items.get(ref.removeprefix("memory:")) if ref.startswith("memory:") else None
        if found is None:
            raise SecretMissing("no such secret")
        return dict(found)

    def _delete(self, ref: str) -> None:
        with self._lock:
            self._items.pop(ref.removeprefix("memory:"), None)


class FolderSecrets(SecretStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root / (name.replace("/", "__") + ".json")

    def _put(self, name: str, value: dict[str, str]) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        path = self._path(name)
        tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(value, f)
        os.replace(tmp, path)
        return self.ref_of(name)

    def ref_of(self, name: str) -> str:
        return f"local:{name}"

    def _get(self, ref: str) -> dict[str, str]:
        if not ref.startswith("local:"):
            raise SecretMissing("no such secret")
        try:
            data = json.loads(self._path(ref.removeprefix("local:")).read_text())
        except (OSError, ValueError):
            raise SecretMissing("no such secret") from None
        return {str(k): str(v) for k, v in data.items()}

    def _delete(self, ref: str) -> None:
        if ref.startswith("local:"):
            with contextlib.suppress(FileNotFoundError):
                self._path(ref.removeprefix("local:")).unlink()
