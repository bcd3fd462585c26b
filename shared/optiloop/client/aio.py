"""`AsyncOptiLoop`: the asyncio client (httpx.AsyncClient), the same namespaces and retry rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType

import httpx

from optiloop.client.config import DEFAULT_TIMEOUT, resolve
from optiloop.client.credentials import client_credentials
from optiloop.client.errors import APIConnectionError, OptiLoopClientError, error_from_response
from optiloop.client.namespaces import Namespaces
from optiloop.client.request import JSON, Cursor, Request, items_of, next_request
from optiloop.client.retry import RetryPolicy, parse_retry_after
from optiloop.client.stream import decode_line


class AsyncCaller:
    """Sends `Request`s over one httpx.AsyncClient; the `Caller` of the async client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http
        self.retry = retry
        self.sleep = sleep

    async def send(self, req: Request, *, stream: bool = False) -> httpx.Response:
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
                response = await self.http.send(http_req, stream=stream)
            except httpx.TransportError as e:
                wait = self.retry.after_exception(attempt, e, req.idempotent)
                if wait is None:
                    raise APIConnectionError(req.op.method, str(http_req.url), e) from e
            else:
                if response.status_code < 400:
                    return response
                if stream:  # read the error body before closing, so the exception can carry it
                    await response.aread()
                await response.aclose()
                wait = self.retry.after_status(
                    attempt, response.status_code, response.headers, req.idempotent
                )
                if wait is None:
                    raise error_from_response(
                        response, parse_retry_after(response.headers.get("retry-after"))
                    )
            await self.sleep(wait)
            attempt += 1

    async def json(self, req: Request) -> JSON:
        body = (await self.send(req)).json()
        if not isinstance(body, dict):
            raise OptiLoopClientError(f"{req.op.key} answered {type(body).__name__}, not a JSON object")
        return body

    async def text(self, req: Request) -> str:
        return (await self.send(req)).text

    async def content(self, req: Request) -> bytes:
        return (await self.send(req)).content

    async def empty(self, req: Request) -> None:
        await self.send(req)

    async def pages(self, req: Request, cursor: Cursor) -> AsyncIterator[JSON]:
        current: Request | None = req
        while current is not None:
            page = await self.json(current)
            for item in items_of(page):
                yield item
            current = next_request(current, page, cursor)

    async def lines(self, req: Request) -> AsyncIterator[JSON]:
        response = await self.send(req, stream=True)
        try:
            async for line in response.aiter_lines():
                item = decode_line(line, req)
                if item is not None:
                    yield item
        finally:
            await response.aclose()


class AsyncOptiLoop(Namespaces[Awaitable[JSON], Awaitable[str], Awaitable[None], AsyncIterator[JSON]]):
    """The OptiLoop API from asyncio: every method of `OptiLoop`, awaited; iterators are `async for`.

    >>> async with AsyncOptiLoop() as client:
    ...     project = await client.projects.create("checkout")
    ...     async for p in client.projects.iter(): ...
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        env: Mapping[str, str] | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        conn = resolve(base_url, api_key, env)
        self.base_url = conn.base_url
        self._http = httpx.AsyncClient(
            base_url=conn.base_url,
            headers={**conn.headers(), **(headers or {})},
            timeout=timeout,
            transport=transport,
            # an API key's id and the key: access tokens fetched and refreshed instead (docs/auth.md)
            auth=client_credentials(conn.base_url, client_id, client_secret),
        )
        super().__init__(AsyncCaller(self._http, retry or RetryPolicy(), sleep))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncOptiLoop:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
