"""The OptiLoop Python SDK: `OptiLoop` (blocking) and `AsyncOptiLoop` (asyncio) over httpx.

    from optiloop.client import OptiLoop, InvalidInputError

    with OptiLoop() as ol:  # OPTILOOP_URL (default http://127.0.0.1:8080) and OPTILOOP_API_KEY
        project = ol.projects.create("checkout")

Every API operation has a method (`optiloop.client.operations.OPERATIONS` is the table, checked
against the app's OpenAPI document by the tests); list endpoints have `iter*` helpers that follow
the cursor; failed calls raise `APIError` subclasses carrying the API's code, message, details and
request id; retries follow the rule in `optiloop.client.retry`.
"""

from optiloop.client.aio import AsyncOptiLoop
from optiloop.client.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    OptiLoopClientError,
    PayloadTooLargeError,
    PermissionDeniedError,
    Problem,
    RateLimitError,
    ServerError,
)
from optiloop.client.operations import OPERATIONS, Operation
from optiloop.client.retry import RetryPolicy
from optiloop.client.sync import Client, OptiLoop

__all__ = [
    "OPERATIONS",
    "APIConnectionError",
    "APIError",
    "AsyncOptiLoop",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "Operation",
    "OptiLoop",
    "OptiLoopClientError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
]
