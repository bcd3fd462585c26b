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
        str,
        Field(
            min_length=1,
            max_length=64,
            pattern=r"^[A-Za-z0-9_.\-]+$",
            description="The constraint's name; posting a name again makes its next version.",
        ),
        AfterValidator(check_name),
    ] = "base"
    type: Literal["hard", "soft"] = Field(
        "hard",
        description="hard: every suggested test satisfies it; soft: violating it lowers a test's score.",
    )
    weight: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] | None = Field(
        None, description="soft constraints only: how much a violation lowers the score."
    )
    json_schema: dict[str, Any] = Field(
        description='The space: {"params": {name: {"type": integer|number|string|boolean, "min", "max", '
        '"enum", "log", "active_if"}}, "relations": ["<expression>", ...]} in the constraint language '
        '(README, "The constraint language").'
    )

    @field_validator("weight")
    @classmethod
    def _weight_is_for_soft(cls, v: float | None, info: ValidationInfo) -> float | None:
        if v is not None and info.data.get("type") == "hard":
            raise ValueError("only soft constraints have a weight; omit it for a hard constraint")
        return v
