"""The `suggest` Lambda (handler: `functions.suggest.handler.handler`)."""
