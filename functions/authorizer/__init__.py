"""The API Gateway REQUEST authorizer (handler: `functions.authorizer.handler.handler`)."""
