"""The `evals` Lambda (handler: `functions.evals.handler.handler`)."""
