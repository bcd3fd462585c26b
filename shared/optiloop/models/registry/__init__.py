"""The model registry: models, immutable versions, stages and aliases with history, model cards.

Public interface (what other capabilities and the HTTP layer call):

    models.create_model / get_model / list_models
    versions.register_from_job(deps, who, model_id, training_job_id)   a version from a Completed job
    versions.register_from_upload(deps, who, model_id, data, sha256)   a version from a model.tar.gz
    versions.resolve(deps, model, ref)          a version by number, id, stage/alias or "latest"
    versions.resolve_alias(deps, who, model_id, alias)
    stages.promote / rollback / history          stages (staging, production, archived) and aliases
    stages.require_deployable(deps, version_id, environment)   409 unless it may serve there
    stages.is_approved(deps, version_id)

Importing this package registers `model_version` with the approvals kernel (`approval.py`), so
every process that can name a model version can also submit it for approval.
"""

from optiloop.models.registry import approval as approval  # registers model_version with approvals
