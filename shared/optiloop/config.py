"""Settings from the environment, validated once at start.

A typo in an environment variable should stop the process with a message naming the variable,
not surface later as a confusing 500 on the first request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optiloop.auth.settings import AuthSettings

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 16 * 1024 * 1024
# a batch predict (POST /v1/inference/...): Lambda's synchronous payload limit, so a batch that the
# local server takes is one that AWS takes too
DEFAULT_MAX_PREDICT_BYTES = 6 * 1024 * 1024
# Limits of the HTTP surface (README "Limits"); each is an OPTILOOP_* variable, validated here.
# name: (environment variable, type, lowest, highest)
LIMITS: dict[str, tuple[str, type, float, float]] = {
    "max_body_bytes": ("OPTILOOP_MAX_BODY_BYTES", int, 1024, 1024**3),
    "max_upload_bytes": ("OPTILOOP_MAX_UPLOAD_BYTES", int, 1024, 1024**3),
    "max_predict_bytes": ("OPTILOOP_MAX_PREDICT_BYTES", int, 1024, 1024**3),
    "max_header_bytes": ("OPTILOOP_MAX_HEADER_BYTES", int, 1024, 1024**2),
    "body_timeout_s": ("OPTILOOP_BODY_TIMEOUT_S", float, 0.1, 3600),
    "header_timeout_s": ("OPTILOOP_HEADER_TIMEOUT_S", float, 0.1, 3600),
    "keepalive_timeout_s": ("OPTILOOP_KEEPALIVE_TIMEOUT_S", int, 1, 3600),
    "rate_limit_rps": ("OPTILOOP_RATE_LIMIT_RPS", float, 0.01, 1e6),
    "rate_limit_burst": ("OPTILOOP_RATE_LIMIT_BURST", int, 1, 10**7),
    "refusals_per_minute": ("OPTILOOP_REFUSALS_PER_MINUTE", int, 1, 10**6),
}
BACKENDS = ("local", "memory", "aws")
TRAINERS = ("local", "sagemaker")
MIN_ADMIN_TOKEN_CHARS = 16
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")  # DynamoDB's rule
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")  # S3's rule (the common part)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./.optiloop")
    admin_token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # a table upload (multipart on POST /v1/datasets/ingest): a real table's CSV is often over the
    # 1 MiB every other body is held to (R's ames is 1.3 MB); past the larger of the two a 413
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    # a batch of instances to score (POST /v1/inference/...): up to 10,000 rows a request, which
    # the 1 MiB of every other body held to a few thousand narrow ones; past the larger of the two a 413
    max_predict_bytes: int = DEFAULT_MAX_PREDICT_BYTES
    max_header_bytes: int = 16 * 1024  # request line and headers; past it a 431
    body_timeout_s: float = 30.0  # from the headers to the last byte of the body; past it a 408
    header_timeout_s: float = 10.0  # from a request's first byte to the end of its headers (serve)
    keepalive_timeout_s: int = 5  # an idle connection between requests is closed after this (serve)
    rate_limit_rps: float = 200.0  # requests a second per principal, sustained
    rate_limit_burst: int = 2000  # ... and in a burst
    refusals_per_minute: int = 120  # refused requests (403/409/422) audited per principal a minute
    # "local": SQLite + folder; "memory": throwaway (tests, demos); "aws": DynamoDB + S3
    backend: str = "local"
    table: str | None = None  # aws: the DynamoDB table (OPTILOOP_TABLE)
    bucket: str | None = None  # aws: the S3 bucket (OPTILOOP_BUCKET)
    aws_endpoint: str | None = None  # aws: one endpoint for both, e.g. a moto_server (OPTILOOP_AWS_ENDPOINT)
    kms_key_id: str | None = None  # aws: SSE-KMS key for blobs (OPTILOOP_KMS_KEY_ID); else SSE-S3
    alarm_topic_arn: str | None = None  # model alerts are published here (OPTILOOP_ALARM_TOPIC_ARN)
    # generate: the model catalogue and provider settings (JSON); none: the deterministic provider only
    models_file: Path | None = None  # OPTILOOP_MODELS_FILE
    # models: where training jobs run (OPTILOOP_TRAINER): local | sagemaker; None: local when asked for
    trainer: str | None = None
    # access tokens and OIDC ID tokens (OPTILOOP_TOKEN_*, OPTILOOP_OIDC_*): optiloop.auth.settings
    auth: AuthSettings = field(default_factory=AuthSettings)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"OPTILOOP_BACKEND must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.backend == "aws":
            if not self.table or not _TABLE_NAME.fullmatch(self.table):
                raise ConfigError("OPTILOOP_TABLE must name the DynamoDB table (3-255 of A-Z a-z 0-9 _ . -)")
            if not self.bucket or not _BUCKET_NAME.fullmatch(self.bucket):
                raise ConfigError("OPTILOOP_BUCKET must name the S3 bucket (3-63 of a-z 0-9 . -)")
        if self.trainer is not None and self.trainer not in TRAINERS:
            raise ConfigError(f"OPTILOOP_TRAINER must be one of {', '.join(TRAINERS)}, got {self.trainer!r}")
        if self.models_file is not None and not Path(self.models_file).is_file():
            raise ConfigError(f"OPTILOOP_MODELS_FILE must name a JSON file, got {str(self.models_file)!r}")
        if self.aws_endpoint is not None and not re.match(r"^https?://[^\s/]+", self.aws_endpoint):
            raise ConfigError(f"OPTILOOP_AWS_ENDPOINT must be an http(s) URL, got {self.aws_endpoint!r}")
        for name, (var, kind, low, high) in LIMITS.items():
            value = getattr(self, name)
            ok_type = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok_type or (kind is int and not isinstance(value, int)) or not low <= value <= high:
                what = "an integer" if kind is int else "a number"
                raise ConfigError(f"{var} must be {what} between {low:g} and {high:g}, got {value!r}")
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
        for name, (var, kind, _, _) in LIMITS.items():
            raw = env.get(var)
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    what = "an integer" if kind is int else "a number"
                    raise ConfigError(f"{var} must be {what}, got {raw!r}") from None
        if env.get("OPTILOOP_MODELS_FILE"):
            values["models_file"] = Path(env["OPTILOOP_MODELS_FILE"])
        if env.get("OPTILOOP_TRAINER"):
            values["trainer"] = env["OPTILOOP_TRAINER"].strip().lower()
        if env.get("OPTILOOP_BACKEND"):
            values["backend"] = env["OPTILOOP_BACKEND"].strip().lower()
        for var, name in (
            ("OPTILOOP_TABLE", "table"),
            ("OPTILOOP_BUCKET", "bucket"),
            ("OPTILOOP_AWS_ENDPOINT", "aws_endpoint"),
            ("OPTILOOP_KMS_KEY_ID", "kms_key_id"),
            ("OPTILOOP_ALARM_TOPIC_ARN", "alarm_topic_arn"),
        ):
            if env.get(var):
                values[name] = env[var].strip()
        values["auth"] = AuthSettings.from_env(env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"])
        return cls(**values)
