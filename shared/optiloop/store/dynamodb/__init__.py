"""DynamoDB adapter of the store ports: the production store, one table per tenant.

Single-table design. Every item has ``pk`` and ``sk`` (strings); ids inside keys are escaped
(``%`` -> ``%25``, ``#`` -> ``%23``) and integers are 20-digit offset numbers that sort numerically
(`codec.py`). The table itself is defined once, as data, in `table_spec.py` (CDK imports it).

=====================  ==============================  ==============  ===================================
record                 pk                              sk              indexes / notes
=====================  ==============================  ==============  ===================================
project                ``PROJECT``                     <project id>    one partition: consistent keyset list
constraint version     ``P#<pid>#C``                   <name>#<ver>    latest/history: one partition read
test, by seq           ``P#<pid>#T``                   <seq>           list_since (range), seq unique
test, by id            ``P#<pid>#TID#<test id>``       ``T``           get_many (BatchGet), id unique
run, by seq            ``P#<pid>#R``                   <seq>           list_since (range), seq unique
run, by test           ``P#<pid>#RUN#<test id>``       ``R``           get_many, one run per test
test counter           ``P#<pid>``                     ``TESTS``       mx: highest committed seq
run counter            ``P#<pid>``                     ``RUNS``        mx, n, cost, failures (totals)
api key, by id         ``KEY``                         <key id>        one partition: consistent list
api key, by hash       ``KEYHASH#<sha256>``            ``KEY``         get_by_hash: consistent GetItem
api key counter        ``KEYS``                        ``COUNT``       n: keys ever issued
audit record           ``AUDIT``                       <seq>           gsi1 ``AUDIT#P#<pid>``,
                                                                       gsi2 ``AUDIT#A#<action>``
audit chain head       ``AUDIT#HEAD``                  ``HEAD``        seq, hash of the last record
staged-commit marker   ``TX#<tx id>``                  ``TX``          st: pending/committed/aborted;
                                                                       ``expires_at`` (TTL) once aborted
doc, by id             ``DOC#<kind>#<id>``             ``DOC``         get/get_many, rev, ``expires_at`` TTL
doc, listing           ``DOCS#<kind>#<scope>``         <sort>\x01<id>  list: one Query page (`docs.py`)
table format version   ``FORMAT``                      ``TABLE``       version; a running step's progress
=====================  ==============================  ==============  ===================================

Item formats are versioned per kind (a ``fmt`` attribute, absent = 1) and migrated up or down by
`formats.py` (``optiloop db migrate --backend aws``; docs/migrations.md).

GSIs (`table_spec.py`): ``gsi1`` (``gsi1pk``, ``gsi1sk``) "by parent" and ``gsi2`` (``gsi2pk``,
``gsi2sk``) "by kind", both projecting ALL, sort key the audit seq. Only the audit trail, which grows
without bound, is listed through them (filtered by project or action; eventually consistent on AWS,
so a record may take a moment to appear there). Every other read is a strongly consistent read of
the main table: lookups a request depends on (key by hash, project, tests and runs by id or seq,
counters, the audit head) and the listings of small collections (projects, keys, constraints), which
sit in one partition each so that a listing right after a write shows it. API keys are found by
hash through their own item, not a GSI on the hash: a GSI would let a revoked key authenticate
until it caught up (`apikeys.py`).

Why the pieces look the way they do, in the module that owns each: transactions and the >100-item
commit (`session.py`, `commit.py`, `staging.py`), counters as commit points (`counters.py`), the
audit chain head (`audit.py`), history items (`history.py`), keys (`apikeys.py`), documents (`docs.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optiloop.store.dynamodb.store import DynamoStore

__all__ = ["DynamoStore"]


def __getattr__(name: str) -> Any:
    # Lazy, so that reading `table_spec` (CDK, tooling) does not import boto3 and the repositories.
    if name == "DynamoStore":
        from optiloop.store.dynamodb.store import DynamoStore

        return DynamoStore
    raise AttributeError(name)
