from __future__ import annotations

from pathlib import Path

import pytest

from optiloop.config import DEFAULT_MAX_BODY_BYTES, ConfigError, Settings


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.data_dir == Path("./.optiloop") and s.admin_token is None
    assert s.max_body_bytes == DEFAULT_MAX_BODY_BYTES == 1024 * 1024 and s.backend == "local"


def test_env_and_overrides() -> None:
    env = {
        "OPTILOOP_DATA_DIR": "/tmp/x",
        "OPTILOOP_ADMIN_TOKEN": "t" * 20,
        "OPTILOOP_MAX_BODY_BYTES": "2048",
        "OPTILOOP_BACKEND": "Memory",
    }
    s = Settings.from_env(env)
    assert (s.data_dir, s.admin_token, s.max_body_bytes, s.backend) == (
        Path("/tmp/x"),
        "t" * 20,
        2048,
        "memory",
    )
    assert Settings.from_env(env, data_dir="/tmp/y").data_dir == Path("/tmp/y")
    assert Settings.from_env(env, data_dir=None).data_dir == Path("/tmp/x")


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"OPTILOOP_MAX_BODY_BYTES": "lots"}, "OPTILOOP_MAX_BODY_BYTES"),
        ({"OPTILOOP_MAX_BODY_BYTES": "10"}, "OPTILOOP_MAX_BODY_BYTES"),
        ({"OPTILOOP_MAX_HEADER_BYTES": "100"}, "OPTILOOP_MAX_HEADER_BYTES"),
        ({"OPTILOOP_BODY_TIMEOUT_S": "soon"}, "OPTILOOP_BODY_TIMEOUT_S"),
        ({"OPTILOOP_BODY_TIMEOUT_S": "0"}, "OPTILOOP_BODY_TIMEOUT_S"),
        ({"OPTILOOP_HEADER_TIMEOUT_S": "-1"}, "OPTILOOP_HEADER_TIMEOUT_S"),
        ({"OPTILOOP_KEEPALIVE_TIMEOUT_S": "2.5"}, "OPTILOOP_KEEPALIVE_TIMEOUT_S"),
        ({"OPTILOOP_RATE_LIMIT_RPS": "0"}, "OPTILOOP_RATE_LIMIT_RPS"),
        ({"OPTILOOP_RATE_LIMIT_BURST": "0"}, "OPTILOOP_RATE_LIMIT_BURST"),
        ({"OPTILOOP_REFUSALS_PER_MINUTE": "many"}, "OPTILOOP_REFUSALS_PER_MINUTE"),
        ({"OPTILOOP_BACKEND": "dynamo"}, "OPTILOOP_BACKEND"),
        ({"OPTILOOP_ADMIN_TOKEN": "short"}, "OPTILOOP_ADMIN_TOKEN"),
        ({"OPTILOOP_ADMIN_TOKEN": "has a space in the middle"}, "OPTILOOP_ADMIN_TOKEN"),
    ],
)
def test_bad_settings_name_the_variable(env: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


def test_limits_from_the_environment() -> None:
    s = Settings.from_env(
        {
            "OPTILOOP_MAX_HEADER_BYTES": "8192",
            "OPTILOOP_BODY_TIMEOUT_S": "2.5",
            "OPTILOOP_HEADER_TIMEOUT_S": "3",
            "OPTILOOP_KEEPALIVE_TIMEOUT_S": "7",
            "OPTILOOP_RATE_LIMIT_RPS": "20",
            "OPTILOOP_RATE_LIMIT_BURST": "40",
            "OPTILOOP_REFUSALS_PER_MINUTE": "30",
        }
    )
    assert (s.max_header_bytes, s.body_timeout_s, s.header_timeout_s, s.keepalive_timeout_s) == (
        8192,
        2.5,
        3,
        7,
    )
    assert (s.rate_limit_rps, s.rate_limit_burst, s.refusals_per_minute) == (20, 40, 30)
    d = Settings()
    assert (d.max_header_bytes, d.body_timeout_s, d.header_timeout_s, d.keepalive_timeout_s) == (
        16384,
        30,
        10,
        5,
    )
    assert (d.rate_limit_rps, d.rate_limit_burst, d.refusals_per_minute) == (200, 2000, 120)
