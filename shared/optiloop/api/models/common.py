"""Shared model config.

Strict and closed: "20" is not a batch size and a misspelt field ("bach_size") is an error rather
than silently ignored, because a silently ignored field is a wrong experiment nobody notices.
NaN and Infinity (which Python's json accepts) are refused everywhere.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_BUCKET = 2**63 - 1


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="allow")


NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Cents = Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)]
