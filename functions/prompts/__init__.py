"""The `prompts` Lambda (handler: `functions.prompts.handler.handler`)."""
