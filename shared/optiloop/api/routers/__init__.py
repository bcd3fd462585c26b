"""One router per group, so each Lambda can mount only its own (see `optiloop.api.app.ROUTERS`)."""
