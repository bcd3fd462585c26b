"""The `audit_digest` Lambda (handler: `functions.audit_digest.handler.handler`)."""
