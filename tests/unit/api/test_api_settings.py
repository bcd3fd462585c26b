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
        ({"OPTILOOP_BACKEND": "dynamo"}, "OPTILOOP_BACKEND"),
        ({"OPTILOOP_ADMIN_TOKEN": "short"}, "OPTILOOP_ADMIN_TOKEN"),
        ({"OPTILOOP_ADMIN_TOKEN": "has a space in the middle"}, "OPTILOOP_ADMIN_TOKEN"),
    ],
)
def test_bad_settings_name_the_variable(env: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)
