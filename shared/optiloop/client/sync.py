"""`OptiLoop`: the blocking client (httpx.Client), with retries as `optiloop.client.retry` says."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx

from optiloop.client.config import DEFAULT_TIMEOUT, resolve
from optiloop.client.credentials import client_credentials
from optiloop.client.errors import APIConnectionError, OptiLoopClientError, error_from_response
from optiloop.client.namespaces import Namespaces
from optiloop.client.request import JSON, Cursor, Request, items_of, next_request
from optiloop.client.retry import RetryPolicy, parse_retry_after
from optiloop.client.stream import decode_line


class SyncCaller:
    """Sends `Request`s over one httpx.Client; the `Caller` of the sync client."""

    def __init__(
        self, http: httpx.Client, retry: RetryPolicy, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.http = http
        self.retry = retry
        self.sleep = sleep

    def send(self, req: Request, *, stream: bool = False) -> httpx.Response:
        """One call with retries; returns a successful response (unread when `stream`) or raises."""
        attempt = 0
        while True:
            http_req = self.http.build_request(
                req.op.method,
                req.path,
                params=req.params,
                json=req.json,
                content=req.content,
                headers=req.headers,
            )
            try:
                response = self.http.send(http_req, stream=stream)
            except httpx.TransportError as e:
                wait = self.retry.after_exception(attempt, e, req.idempotent)
                if wait is None:
                    raise APIConnectionError(req.op.method, str(http_req.url), e) from e
            else:
                if response.status_code < 400:
                    return response
                if stream:  # read the error body before closing, so the exception can carry it
                    response.read()
                response.close()
                wait = self.retry.after_status(
                    attempt, response.status_code, response.headers, req.idempotent
                )
                if wait is None:
                    raise error_from_response(
                        response, parse_retry_after(response.headers.get("retry-after"))
                    )
            self.sleep(wait)
            attempt += 1

    def json(self, req: Request) -> JSON:
        body = self.send(req).json()
        if not isinstance(body, dict):
            raise OptiLoopClientError(f"{req.op.key} answered {type(body).__name__}, not a JSON object")
        return body

    def text(self, req: Request) -> str:
        return self.send(req).text

    def content(self, req: Request) -> bytes:
        return self.send(req).content

    def empty(self, req: Request) -> None:
        self.send(req)

    def pages(self, req: Request, cursor: Cursor) -> Iterator[JSON]:
        current: Request | None = req
        while current is not None:
            page = self.json(current)
            yield from items_of(page)
            current = next_request(current, page, cursor)

    def lines(self, req: Request) -> Iterator[JSON]:
        response = self.send(req, stream=True)
        try:
            for line in response.iter_lines():
                item = decode_line(line, req)
                if item is not None:
                    yield item
        finally:
            response.close()


class OptiLoop(Namespaces[JSON, str, None, Iterator[JSON]]):
    """The OptiLoop API from Python, blocking.

    >>> with OptiLoop() as client:  # OPTILOOP_URL (default http://127.0.0.1:8080), OPTILOOP_API_KEY
    ...     project = client.projects.create("checkout")

    Methods return the API's JSON objects as dicts (their fields are documented at /docs); errors are
    `optiloop.client.errors.APIError` subclasses with the API's code, message, details and request id.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        env: Mapping[str, str] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        conn = resolve(base_url, api_key, env)
        self.base_url = conn.base_url
        self._http = httpx.Client(
            base_url=conn.base_url,
            headers={**conn.headers(), **(headers or {})},
            timeout=timeout,
            transport=transport,
            # an API key's id and the key: access tokens fetched and refreshed instead (docs/auth.md)
            auth=client_credentials(conn.base_url, client_id, client_secret),
        )
        super().__init__(SyncCaller(self._http, retry or RetryPolicy(), sleep))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OptiLoop:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Client(OptiLoop):
    """The AutoML seed's spelling of the client, `Client(base_url=..., token=...)`: `token` is what
    `api_key` is to `OptiLoop` (an API key, or an access token from `POST /v1/auth/token`).

    >>> client = Client(base_url="http://127.0.0.1:8080", token="...")
    >>> exp = client.experiments.create(project_id=..., task_type="classification", ...)
    """

    def __init__(
        self, base_url: str | None = None, token: str | None = None, *, api_key: str | None = None, **kw: Any
    ) -> None:
        if token is not None and api_key is not None and token != api_key:
            raise ValueError("give the credential once: token= or api_key=, not two different ones")
        super().__init__(base_url, token if token is not None else api_key, **kw)
