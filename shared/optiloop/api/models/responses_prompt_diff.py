"""What `GET /v1/prompt_versions/{id}/diff` answers (issue 12). Extra fields stay allowed
(`ResponseModel`): minor versions add fields, and a client must ignore the ones it does not know."""

from __future__ import annotations

from pydantic import Field

from optiloop.api.models.common import ResponseModel


class VersionRef(ResponseModel):
    id: str = Field(description="The prompt version's id (`pv_...`).")
    version: int = Field(description="Its number.")


class PromptDiffOut(ResponseModel):
    prompt_id: str = Field(description="The prompt both versions belong to.")
    from_version: VersionRef = Field(alias="from", description="The version diffed from (`against`).")
    to_version: VersionRef = Field(alias="to", description="The version diffed to (the path's).")
    body: str = Field(description="A unified diff of the template body; empty when equal.")
    variables: str = Field(description="A unified diff of the declared variables (sorted JSON, one a line).")
    defaults: str = Field(
        description="A unified diff of the default model parameters (sorted JSON, one a line)."
    )
    identical: bool = Field(description="Whether the two versions' content hashes are equal.")
