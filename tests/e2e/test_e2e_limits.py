"""Connection limits of `optiloop serve`, over a real socket: a client that stalls or never stops
sending a request head cannot hold a connection (and the memory behind it) forever, and every
refusal is the API's JSON error shape."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

TOKEN = "e2e-admin-token-0123456789abcdef"
AUTH = f"Authorization: Bearer {TOKEN}\r\n".encode()
LIMITS = {
    "OPTILOOP_BODY_TIMEOUT_S": "1",
    "OPTILOOP_HEADER_TIMEOUT_S": "1",
    "OPTILOOP_KEEPALIVE_TIMEOUT_S": "1",
    "OPTILOOP_MAX_HEADER_BYTES": "8192",
}


@pytest.fixture
def server(serve: Callable, tmp_path: Path) -> Any:
    return serve(tmp_path / "data", TOKEN, env=LIMITS)


def connect(server: Any) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.settimeout(10)
    return s


def read_until_closed(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def parse(raw: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body)


def assert_error_shape(payload: dict[str, Any], code: str, field: str) -> None:
    assert set(payload) == {"error"}
    err = payload["error"]
    assert err["code"] == code and err["request_id"].startswith("req_")
    assert [d["field"] for d in err["details"]] == [field]


def test_a_body_that_stalls_after_its_headers_gets_a_408_and_the_server_carries_on(server: Any) -> None:
    s = connect(server)
    t0 = time.monotonic()
    s.sendall(
        b"POST /v1/projects HTTP/1.1\r\nHost: x\r\n"
        + AUTH
        + b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": '
    )
    # while that body stalls, other requests are served
    ok = requests.post(
        f"{server.url}/v1/projects",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"name": "other"},
        timeout=5,
    )
    assert ok.status_code == 201
    status, headers, payload = parse(read_until_closed(s))
    waited = time.monotonic() - t0
    assert status == 408 and 0.9 <= waited < 5
    assert headers["connection"] == "close" and headers["content-type"] == "application/json"
    assert_error_shape(payload, "request_timeout", "body")
    assert "OPTILOOP_BODY_TIMEOUT_S" in payload["error"]["details"][0]["reason"]
    names = [
        p["name"]
        for p in requests.get(
            f"{server.url}/v1/projects", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
        ).json()["items"]
    ]
    assert names == ["other"]  # nothing half-written


def test_a_request_head_sent_a_byte_at_a_time_gets_a_408(server: Any) -> None:
    s = connect(server)
    t0 = time.monotonic()
    stop = threading.Event()

    def drip() -> None:  # slowloris: one header byte every 200 ms, never the end of the head
        try:
            s.sendall(b"GET /v1/projects HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            while not stop.wait(0.2):
                s.sendall(b"a")
        except OSError:
            pass

    threading.Thread(target=drip, daemon=True).start()
    try:
        status, _, payload = parse(read_until_closed(s))
    finally:
        stop.set()
    assert status == 408 and time.monotonic() - t0 < 5
    assert_error_shape(payload, "request_timeout", "headers")


def test_idle_connections_are_closed(server: Any) -> None:
    s = connect(server)  # never sends anything
    t0 = time.monotonic()
    assert read_until_closed(s) == b"" and time.monotonic() - t0 < 5
    s = connect(server)  # one request, then idle past keep-alive
    s.sendall(b"GET /v1/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    raw = read_until_closed(s)
    assert raw.startswith(b"HTTP/1.1 200") and time.monotonic() - t0 < 8


def test_a_request_head_past_the_limit_is_a_431_even_if_it_never_ends(server: Any) -> None:
    s = connect(server)
    s.sendall(b"GET /v1/healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 20_000)  # no end of head
    status, _, payload = parse(read_until_closed(s))
    assert status == 431
    assert_error_shape(payload, "request_headers_too_large", "headers")
    s = connect(server)
    s.sendall(b"GET /v1/healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 20_000 + b"\r\n\r\n")
    status, _, payload = parse(read_until_closed(s))
    assert status == 431
    assert_error_shape(payload, "request_headers_too_large", "headers")
