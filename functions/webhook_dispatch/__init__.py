"""The `webhook_dispatch` Lambda (handler: `functions.webhook_dispatch.handler.handler`)."""
