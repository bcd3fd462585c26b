"""API keys, roles and the principal behind a request. Pure core: only store ports, no HTTP."""

from optiloop.auth.principal import Principal, authenticate
from optiloop.auth.roles import Action, authorize, can

__all__ = ["Action", "Principal", "authenticate", "authorize", "can"]
