from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from optiloop.api.models.common import Id, RequestModel, ResponseModel
from optiloop.names import check_name


class KeyCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "principal": "alice@example.com",
                    "role": "contributor",
                    "project_id": "prj_1a24a496481b699f3ff9",
                }
            ]
        }
    )

    principal: Annotated[
        str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@:\-]+$"), AfterValidator(check_name)
    ]
    role: Literal["owner", "admin", "contributor", "viewer"]
    project_id: Id | None = None


class KeyOut(ResponseModel):
    """A key as listed: never the key material, never its hash."""

    id: str
    principal: str
    role: str
    project_id: str | None
    created_at: str
    created_by: str
    revoked: bool


class KeyCreated(ResponseModel):
    id: str
    key: str  # shown only in this response
    principal: str
    role: str
    project_id: str | None
    created_at: str
