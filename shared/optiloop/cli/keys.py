"""`optiloop keys ...`: key management for whoever holds the data dir.

Operators with the data dir could edit the database anyway, so these commands act as an owner
(principal "operator" in the audit log) and are the way back in if every admin key is lost.
"""

from __future__ import annotations

import argparse

from optiloop.auth import key_admin as uc
from optiloop.auth.principal import OPERATOR
from optiloop.deps import Deps


def create(deps: Deps, args: argparse.Namespace) -> int:
    key, raw = uc.create_key(deps, OPERATOR, name=args.principal, role=args.role, project_id=args.project_id)
    scope = f"project {key.project_id}" if key.project_id else "all projects"
    print(f"created key {key.id} for '{key.principal}' ({key.role}, {scope}); it is shown only once:")
    print(raw)
    return 0


def list_(deps: Deps, args: argparse.Namespace) -> int:
    keys = uc.list_keys(deps, OPERATOR)
    if not keys:
        print("no keys")
        return 0
    print(f"{'ID':<22} {'PRINCIPAL':<20} {'ROLE':<12} {'PROJECT':<22} {'CREATED':<25} STATE")
    for k in keys:
        print(
            f"{k.id:<22} {k.principal:<20} {k.role:<12} {k.project_id or '*':<22} {k.created_at:<25} "
            f"{'revoked' if k.revoked else 'active'}"
        )
    return 0


def revoke(deps: Deps, args: argparse.Namespace) -> int:
    key = uc.revoke_key(deps, OPERATOR, args.key_id)
    print(f"revoked key {key.id} of '{key.principal}'")
    return 0
