from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator

from optiloop.api.models.common import RequestModel
from optiloop.names import check_name


class ConstraintCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "base",
                    "type": "hard",
                    "json_schema": {
                        "params": {
                            "qps": {"type": "integer", "min": 1, "max": 5000},
                            "region": {"type": "string", "enum": ["us", "eu", "apac"]},
                        },
                        "relations": ['if(region=="eu") then(qps<=2000)'],
                    },
                }
            ]
        }
    )

    name: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$"), AfterValidator(check_name)
    ] = "base"
    type: Literal["hard", "soft"] = "hard"
    weight: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] | None = None
    json_schema: dict[str, Any]

    @field_validator("weight")
    @classmethod
    def _weight_is_for_soft(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and info.data.get("type") == "hard":
            raise ValueError("only soft constraints have a weight; omit it for a hard constraint")
        return v
