"""The client reads the admin key under the name `make run` prints, and the bootstrap token's."""

from __future__ import annotations

from optiloop.client.config import resolve


def test_the_api_key_wins_then_the_bootstrap_token() -> None:
    assert resolve(env={"OPTILOOP_API_KEY": "olk_a", "OPTILOOP_ADMIN_TOKEN": "tok-b"}).api_key == "olk_a"
    assert resolve(env={"OPTILOOP_ADMIN_TOKEN": "tok-b"}).api_key == "tok-b"
    assert resolve(env={}).api_key is None
