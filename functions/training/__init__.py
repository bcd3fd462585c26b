"""The `training` Lambda (handler: `functions.training.handler.handler`)."""
