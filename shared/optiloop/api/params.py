"""Path parameters shared by several routers (here, so one router never imports another)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

ProjectId = Annotated[str, Path(min_length=1, max_length=100)]
