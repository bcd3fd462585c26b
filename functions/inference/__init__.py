"""The `inference` Lambda (handler: `functions.inference.handler.handler`)."""
