"""The `decisions` Lambda (handler: `functions.decisions.handler.handler`)."""
