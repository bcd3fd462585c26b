from __future__ import annotations

from fastapi import APIRouter

from optiloop import __version__
from optiloop.api.models.responses import HealthOut

router = APIRouter(tags=["health"])


@router.get("/v1/healthz", response_model=HealthOut)
def healthz() -> dict[str, str]:
    """Liveness without a key: load balancers and the CLI's readiness wait call it."""
    return {"status": "ok", "version": __version__}
