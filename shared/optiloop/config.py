"""Settings from the environment, validated once at start.

A typo in an environment variable should stop the process with a message naming the variable,
not surface later as a confusing 500 on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
BACKENDS = ("local", "memory")
MIN_ADMIN_TOKEN_CHARS = 16


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./.optiloop")
    admin_token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    backend: str = "local"  # "local": SQLite + folder; "memory": throwaway (tests, demos)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"OPTILOOP_BACKEND must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if not isinstance(self.max_body_bytes, int) or not 1024 <= self.max_body_bytes <= 1024**3:
            raise ConfigError(f"OPTILOOP_MAX_BODY_BYTES must be an integer between 1024 and {1024**3}")
        if self.admin_token is not None:
            tok = self.admin_token
            # a short token is guessable; whitespace usually means a copy-paste accident
            if len(tok) < MIN_ADMIN_TOKEN_CHARS or tok != tok.strip() or any(c.isspace() for c in tok):
                raise ConfigError(
                    f"OPTILOOP_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_CHARS} characters without spaces"
                )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read OPTILOOP_* variables; explicit overrides (CLI flags) win over the environment."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if env.get("OPTILOOP_DATA_DIR"):
            values["data_dir"] = Path(env["OPTILOOP_DATA_DIR"])
        if env.get("OPTILOOP_ADMIN_TOKEN"):
            values["admin_token"] = env["OPTILOOP_ADMIN_TOKEN"]
        raw = env.get("OPTILOOP_MAX_BODY_BYTES")
        if raw:
            try:
                values["max_body_bytes"] = int(raw)
            except ValueError:
                raise ConfigError(f"OPTILOOP_MAX_BODY_BYTES must be an integer, got {raw!r}") from None
        if env.get("OPTILOOP_BACKEND"):
            values["backend"] = env["OPTILOOP_BACKEND"].strip().lower()
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"])
        return cls(**values)
