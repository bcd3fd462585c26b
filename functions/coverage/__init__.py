"""The `coverage` Lambda (handler: `functions.coverage.handler.handler`)."""
