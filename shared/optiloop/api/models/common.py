"""Shared model config.

Strict and closed: "20" is not a batch size and a misspelt field ("bach_size") is an error rather
than silently ignored, because a silently ignored field is a wrong experiment nobody notices.
NaN and Infinity (which Python's json accepts) are refused everywhere. Identifiers and names are
the `Id`/`Name`/`Label` types below: one validator (`optiloop.names.check_name`) refuses control,
bidi and other invisible characters in all of them, with a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from optiloop.names import check_name

MAX_BUCKET = 2**63 - 1


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="allow")


NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Cents = Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)]


Id = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_name)]
"""An identifier the platform issued (`prj_...`, `pv_...`) or a client chose."""
Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_name)]
LongName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_name)]
"""Project and dataset names; model names (`provider/model:version`)."""
Label = Annotated[str, Field(min_length=1, max_length=50), AfterValidator(check_name)]
"""Short names: environments, deployment labels, entity types."""
