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
        str,
        Field(
            min_length=1,
            max_length=100,
            pattern=r"^[A-Za-z0-9_.@:\-]+$",
            description="Who holds the key: the name the audit log and the four-eyes rule use.",
        ),
        AfterValidator(check_name),
    ]
    role: Literal["owner", "admin", "contributor", "viewer"] = Field(
        description="What the key may do (not above the caller's own role)."
    )
    project_id: Id | None = None


class KeyOut(ResponseModel):
    """A key as listed: never the key material, never its hash."""

    id: str = Field(description="The key's id (`key_...`): the client id at POST /v1/auth/token.")
    principal: str = Field(description="Who holds the key.")
    role: str = Field(description="What the key may do.")
    project_id: str | None = Field(description="The one project the key is bound to; null: every project.")
    created_at: str = Field(description="When it was created (ISO-8601, UTC).")
    created_by: str = Field(description="The principal that minted it.")
    revoked: bool = Field(
        description="Whether it was revoked (refused from then on, with its tokens and sessions)."
    )


class KeyCreated(ResponseModel):
    id: str = Field(description="The key's id (`key_...`).")
    key: str = Field(description="The key itself (`olk_...`), in this answer only: store it now.")
    principal: str = Field(description="Who holds the key.")
    role: str = Field(description="What the key may do.")
    project_id: str | None
    created_at: str
