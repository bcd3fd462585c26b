"""OptiLoop's own traffic router: which variant answers a request, and whether a shadow also runs.

Why our own: the split must behave alike on every backend (in process, the predict Lambda and
SageMaker endpoints, and serverless endpoints have no production variants at all), and a caller
that sends a key must keep landing on the same variant for as long as the split stays the same.

A key is hashed with the deployment id to a point in [0, 100): the deployment id is in the hash so
that one user is not in every deployment's canary at once. Without a key the point is random.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from optiloop.models.serving.records import ModelDeployment, candidate_name

_SCALE = 100.0 / 2**64


def point(deployment_id: str, key: str) -> float:
    """The key's sticky place in [0, 100): the first 8 bytes of sha256(deployment id, key)."""
    digest = hashlib.sha256(f"{deployment_id}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") * _SCALE


@dataclass(frozen=True)
class Route:
    variant: str  # stable | canary: the variant that answers
    shadow: bool  # the shadow variant also runs on this request (its answer is not returned)


def route(d: ModelDeployment, key: str | None, rng: random.Random | None = None) -> Route:
    """The variant for one request. Canary and blue/green send `traffic.canary` percent of the points
    to the candidate; shadow answers from stable and mirrors that percent to the shadow."""
    share = d.candidate_share
    if share <= 0:
        return Route("stable", False)
    p = point(d.id, key) if key is not None else (rng or random).random() * 100.0
    hit = p < share
    if candidate_name(d) == "shadow":
        return Route("stable", hit)
    return Route("canary" if hit else "stable", False)
