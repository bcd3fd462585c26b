"""The `projects` Lambda (handler: `functions.projects.handler.handler`)."""
