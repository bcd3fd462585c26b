"""The `webhooks` Lambda (handler: `functions.webhooks.handler.handler`)."""
