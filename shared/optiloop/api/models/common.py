"""Shared model config.

Strict and closed: "20" is not a batch size and a misspelt field ("bach_size") is an error rather
than silently ignored, because a silently ignored field is a wrong experiment nobody notices.
NaN and Infinity (which Python's json accepts) are refused everywhere. Identifiers and names are
the `Id`/`Name`/`Label` types below: one validator (`optiloop.names.check_name`) refuses control,
bidi and other invisible characters in all of them, with a 422 naming the field.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from optiloop.names import check_name

MAX_BUCKET = 2**63 - 1


class RequestModel(BaseModel):
    """Strict, closed request bodies, except that a JSON number with no fraction (`20.0`) is an
    integer wherever the schema says `integer`: JSON Schema counts it as one, and JSON encoders in
    other languages write whole floats so. `20.5`, `"20"` and `true` stay refused."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _whole_floats_are_integers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = _integer_fields(cls)
        if not fields or not any(k in fields for k in data):
            return data
        return {k: (_whole(v, fields[k]) if k in fields else v) for k, v in data.items()}


def _whole(value: Any, in_list: bool) -> Any:
    if in_list and isinstance(value, list):
        return [_whole(v, False) for v in value]
    if type(value) is float and value.is_integer() and abs(value) <= 2**63:
        return int(value)
    return value


_INT_FIELDS: dict[type, dict[str, bool]] = {}


def _integer_fields(cls: type[BaseModel]) -> dict[str, bool]:
    """The input names of `cls`'s fields whose type admits an integer (or a list of them, True), read
    once per class from the resolved annotations (`int`, `int | None`, `Annotated[int, ...]`)."""
    found = _INT_FIELDS.get(cls)
    if found is None:
        found = {}
        for name, info in cls.model_fields.items():
            kind = _int_kind(info.annotation)
            if kind is not None:
                found[info.alias or name] = kind
        _INT_FIELDS[cls] = found
    return found


def _int_kind(tp: Any) -> bool | None:
    """False: an integer field; True: a list of integers; None: neither."""
    origin = get_origin(tp)
    if tp is int:
        return False
    if origin is Annotated:
        return _int_kind(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        kinds = [_int_kind(a) for a in get_args(tp) if a is not type(None)]
        return False if False in kinds else (True if True in kinds else None)
    if origin is list:
        args = get_args(tp)
        return True if args and _int_kind(args[0]) is False else None
    return None


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
