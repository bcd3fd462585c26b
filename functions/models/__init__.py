"""The `models` Lambda (handler: `functions.models.handler.handler`): the registry and lineage."""
