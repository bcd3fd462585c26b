"""Counter items: per-project highest seq and run totals, and the number of API keys ever issued.

They make `max_seq`, `totals` and `count` one strongly consistent GetItem instead of a query over
the history, and, because a counter moves in the same transaction as the items it counts, they are
also the commit point readers go by: `list_since` reads no further than the counter says, so it never
returns part of a batch whose transaction DynamoDB is still applying (Query is only read-committed
per item, not per transaction).

A highest-seq counter is raised with a condition on the value read just before (``mx = :seen``) so
that two writers cannot lower it; sums use ADD, which commutes and needs no condition. Both are
derived at commit time (see `commit.py`), never at buffer time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from optiloop.store.dynamodb.codec import Item, Key, esc, join, to_float, to_int

KEYS_COUNTER: Key = ("KEYS", "COUNT")


def counter_of_tests(project_id: str) -> Key:
    return join("P", esc(project_id)), "TESTS"


def counter_of_runs(project_id: str) -> Key:
    return join("P", esc(project_id)), "RUNS"


def seq_max(item: Item | None) -> int | None:
    if item is None or "mx" not in item:
        return None
    return to_int(item["mx"])


def run_totals(item: Item | None) -> tuple[int, float, int]:
    if item is None:
        return 0, 0.0, 0
    n = to_int(item["n"]) if "n" in item else 0
    cost = to_float(item["cost"]) if "cost" in item else 0.0
    fail = to_int(item["failures"]) if "failures" in item else 0
    return n, cost, fail


def key_count(item: Item | None) -> int:
    return to_int(item["n"]) if item is not None and "n" in item else 0


def counter_update(
    table: str,
    key: Key,
    *,
    new_max: int | None,
    seen_max: int | None,
    add: tuple[int, Decimal, int] | None = None,
) -> dict[str, Any] | None:
    """The Update op for one project counter, or None when nothing changes.

    `seen_max` is the value read at commit time; the max is only raised, and only if still unchanged.
    """
    sets: list[str] = []
    adds: list[str] = []
    values: dict[str, Any] = {}
    cond: str | None = None
    if new_max is not None and (seen_max is None or new_max > seen_max):
        sets.append("mx = :mx")
        values[":mx"] = {"N": str(new_max)}
        if seen_max is None:
            cond = "attribute_not_exists(mx)"
        else:
            cond = "mx = :seen"
            values[":seen"] = {"N": str(seen_max)}
    if add is not None:
        n, cost, fail = add
        adds.append("n :n, cost :c, failures :f")
        values[":n"] = {"N": str(n)}
        values[":c"] = {"N": format(cost, "f")}
        values[":f"] = {"N": str(fail)}
    if not sets and not adds:
        return None
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if adds:
        clauses.append("ADD " + ", ".join(adds))
    expr = " ".join(clauses)
    op: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": key[0]}, "sk": {"S": key[1]}},
        "UpdateExpression": expr,
        "ExpressionAttributeValues": values,
    }
    if cond:
        op["ConditionExpression"] = cond
    return {"Update": op}


def keys_update(table: str, added: int, seen: int | None) -> dict[str, Any]:
    """ADD to the key count; if the transaction read the count, only while it is still that value.

    That re-check is what makes "create the first admin key if there is none" safe across Lambdas
    starting at once: the second one to commit fails instead of creating a second bootstrap key.
    """
    op: dict[str, Any] = {
        "TableName": table,
        "Key": {"pk": {"S": KEYS_COUNTER[0]}, "sk": {"S": KEYS_COUNTER[1]}},
        "UpdateExpression": "ADD n :k",
        "ExpressionAttributeValues": {":k": {"N": str(added)}},
    }
    if seen is not None:
        if seen == 0:
            op["ConditionExpression"] = "attribute_not_exists(n) OR n = :zero"
            op["ExpressionAttributeValues"][":zero"] = {"N": "0"}
        else:
            op["ConditionExpression"] = "n = :seen"
            op["ExpressionAttributeValues"][":seen"] = {"N": str(seen)}
    return {"Update": op}
