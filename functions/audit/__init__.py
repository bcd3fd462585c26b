"""The `audit` Lambda (handler: `functions.audit.handler.handler`)."""
