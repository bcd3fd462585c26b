"""HTTP Lambda for `POST /v1/generate`, trace reads and the response cache purge.

The production prompt path. Besides Powertools' own metrics it reports, per generate call:

- `GenerateLatency` (Milliseconds): every call, refused ones too (a slow 502 is still slow);
- `GenerateCostUsd` (None): the provider cost of the calls it traced (a cache hit costs 0);
- `GenerateTokens` (Count): prompt + completion tokens of the calls that reached a model;
- `GenerateCacheHits` (Count): 1 per call answered from the cache, else 0 (the average is the hit rate);
- `GuardrailBlocks` (Count): inputs refused before any model call (422 `guardrail_blocked`) plus
  outputs withheld after one.

Cost, tokens, cache hits and output blocks come from the trace each call writes (`observe.py`); an
input block writes no trace, so it is read off the response's error code, the one place it shows.
Provider API keys, if the catalogue needs any, are fetched from Secrets Manager at cold start
(`functions/common/provider_keys.py`) before the app is built.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.metrics import MetricUnit
from mangum import Mangum

from functions.common.http import Event, Response, http_handler, is_route
from functions.common.powertools import powertools
from functions.common.provider_keys import load_provider_keys
from functions.common.runtime import settings_from_env
from functions.generate.observe import TraceTally, traced
from optiloop.api.app import create_app
from optiloop.runtime import build_deps

SERVICE = "generate"
ROUTERS = ("generate",)
INPUT_BLOCKED = "guardrail_blocked"  # optiloop.prompts.generate.GuardrailBlocked.code

tools = powertools(SERVICE)
load_provider_keys()
tally = TraceTally()
settings = settings_from_env()
app = create_app(traced(build_deps(settings), tally), settings, routers=ROUTERS)
asgi = Mangum(app, lifespan="off")


def input_blocked(response: Response) -> bool:
    """Whether the app answered 422 `guardrail_blocked` (only such 422s are parsed: small bodies)."""
    if int(response.get("statusCode", 0)) != 422 or response.get("isBase64Encoded"):
        return False
    try:
        body = json.loads(response.get("body") or "{}")
    except ValueError:
        return False
    return isinstance(body, dict) and (body.get("error") or {}).get("code") == INPUT_BLOCKED


def _report(event: Event, response: Response, elapsed_ms: float) -> None:
    if not is_route(event, "POST", "/v1/generate"):
        return
    add = tools.metrics.add_metric
    add(name="GenerateLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    blocks = tally.blocked + (1 if input_blocked(response) else 0)
    add(name="GuardrailBlocks", unit=MetricUnit.Count, value=blocks)
    if tally.calls:
        add(name="GenerateCostUsd", unit=MetricUnit.NoUnit, value=tally.cost_usd)
        add(name="GenerateTokens", unit=MetricUnit.Count, value=tally.tokens)
        add(name="GenerateCacheHits", unit=MetricUnit.Count, value=tally.cache_hits)


handler = http_handler(asgi, tools, before=tally.reset, after=_report)
