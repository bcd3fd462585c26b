"""The `generate` Lambda (handler: `functions.generate.handler.handler`)."""
