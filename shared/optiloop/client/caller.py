"""The one seam between the resources and I/O, so each resource is written once for both clients.

A resource method builds a `Request` and hands it to its caller; what comes back is the caller's
business: the sync caller returns the decoded value, the async one an awaitable of it. The four
type parameters name those result types (a JSON object, text, nothing, an iterator of objects), so
`OptiLoop().projects.get(...)` is typed `dict[str, Any]` and `AsyncOptiLoop().projects.get(...)`
`Awaitable[dict[str, Any]]` from one definition.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from optiloop.client.request import Cursor, Request

J_co = TypeVar("J_co", covariant=True)
S_co = TypeVar("S_co", covariant=True)
N_co = TypeVar("N_co", covariant=True)
I_co = TypeVar("I_co", covariant=True)

J = TypeVar("J")  # a JSON object (or an awaitable of one)
S = TypeVar("S")  # text
N = TypeVar("N")  # nothing (204)
It = TypeVar("It")  # an iterator of JSON objects (sync or async)


class Caller(Protocol[J_co, S_co, N_co, I_co]):
    def json(self, req: Request) -> J_co:
        """Send; the answer's JSON object."""
        ...

    def text(self, req: Request) -> S_co:
        """Send; the answer's body as text (CSV, Markdown)."""
        ...

    def content(self, req: Request) -> Any:
        """Send; the answer's body as bytes (a PNG) — for the async client, an awaitable of them.
        Typed Any: a fifth result type for the one binary answer would thread through every resource."""
        ...

    def empty(self, req: Request) -> N_co:
        """Send; expect no body (204)."""
        ...

    def pages(self, req: Request, cursor: Cursor) -> I_co:
        """Send, and again for each following page; the items of every page, lazily."""
        ...

    def lines(self, req: Request) -> I_co:
        """Send; the answer's NDJSON lines as objects, as they arrive (an error line raises)."""
        ...


class Resource(Generic[J, S, N, It]):
    """A namespace of the client (`client.projects`, `client.models`...)."""

    def __init__(self, caller: Caller[J, S, N, It]) -> None:
        self._call = caller
