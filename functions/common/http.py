"""The one wrapper every HTTP Lambda puts around Mangum.

Order matters: the logger binds the API Gateway request id as correlation id before anything logs,
the tracer opens the invocation's segment, and `log_metrics` flushes whatever the hooks added (plus
the cold start) after the response is built, even when the app raised.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from functions.common.powertools import Tools

Event = dict[str, Any]
Response = dict[str, Any]
LambdaHandler = Callable[[Event, LambdaContext], Response]
AfterHook = Callable[[Event, Response, float], None]


def header(response: Response, name: str) -> str | None:
    """A response header whichever of Mangum's two header maps carries it."""
    for k, v in (response.get("headers") or {}).items():
        if k.lower() == name:
            return str(v)
    for k, vs in (response.get("multiValueHeaders") or {}).items():
        if k.lower() == name and vs:
            return str(vs[0])
    return None


def is_route(event: Event, method: str, path_suffix: str) -> bool:
    """Whether the event is `method` on a path ending in `path_suffix`: with a stage or custom-domain
    base path in front, the end of the path is what identifies a custom method like `tests:suggest`."""
    return event.get("httpMethod") == method and str(event.get("path") or "").endswith(path_suffix)


def succeeded(response: Response) -> bool:
    return 200 <= int(response.get("statusCode", 500)) < 300


def http_handler(
    asgi: Mangum, tools: Tools, *, before: Callable[[], None] | None = None, after: AfterHook | None = None
) -> LambdaHandler:
    """`asgi` wrapped with the function's Logger, Tracer and Metrics; `before` runs ahead of each
    request (reset per-invocation state) and `after` gets the event, response and latency in ms
    (add business metrics)."""
    logger, tracer, metrics = tools.logger, tools.tracer, tools.metrics

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: Event, context: LambdaContext) -> Response:
        if before is not None:
            before()
        start = time.perf_counter()
        # Powertools' LambdaContext and Mangum's protocol describe the same runtime object; their
        # stubs disagree only on which attributes are settable
        response: Response = asgi(event, context)  # type: ignore[arg-type]
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        # One access line per request; the app's x-request-id ties it to error bodies the client saw.
        logger.info(
            "request",
            extra={
                "method": event.get("httpMethod"),
                "path": event.get("path"),
                "status": response.get("statusCode"),
                "latency_ms": round(elapsed_ms, 2),
                "request_id": header(response, "x-request-id"),
            },
        )
        if after is not None:
            after(event, response, elapsed_ms)
        return response

    return handler  # type: ignore[no-any-return]  # the Powertools decorators are untyped
