from __future__ import annotations

from fastapi import APIRouter

from optiloop import __version__

router = APIRouter(tags=["health"])


@router.get("/v1/healthz")
def healthz() -> dict[str, str]:
    """Liveness without a key: load balancers and the CLI's readiness wait call it."""
    return {"status": "ok", "version": __version__}
