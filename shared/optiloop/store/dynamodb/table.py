"""The few DynamoDB calls the adapter makes, with paging, unprocessed keys and error codes handled once.

Every read of the main table is strongly consistent: the ports promise read-your-writes (a key
created, then used; a seq written, then counted), and eventually consistent reads would break that
on AWS while passing under moto. Only GSI queries are eventually consistent, because DynamoDB
offers nothing else on them; they serve listings only (see the package docstring).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from optiloop.store.dynamodb.codec import Item, Key
from optiloop.store.dynamodb.table_spec import PARTITION_KEY, SORT_KEY

BATCH_GET_MAX = 100  # DynamoDB's limit per BatchGetItem
_NAMES = {"#pk": PARTITION_KEY, "#sk": SORT_KEY}


class Cancelled(Exception):
    """A write (transactional or single) was refused; `codes` has one entry per op, None where fine."""

    def __init__(self, codes: Sequence[str | None], message: str = "") -> None:
        super().__init__(message or f"write cancelled: {list(codes)}")
        self.codes = list(codes)


def key_map(key: Key) -> Item:
    return {PARTITION_KEY: {"S": key[0]}, SORT_KEY: {"S": key[1]}}


def key_of(item: Item) -> Key:
    return item[PARTITION_KEY]["S"], item[SORT_KEY]["S"]


def _backoff(attempt: int, base: float = 0.01, cap: float = 0.5) -> None:
    """Full jitter: contending writers spread out instead of retrying in lock step."""
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))


class Table:
    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    # -- reads -------------------------------------------------------------------------------

    def get(self, key: Key, projection: str | None = None) -> Item | None:
        kw: dict[str, Any] = {"TableName": self.name, "Key": key_map(key), "ConsistentRead": True}
        if projection:
            kw["ProjectionExpression"], kw["ExpressionAttributeNames"] = _projection(projection)
        item: dict[str, dict[str, Any]] | None = self.client.get_item(**kw).get("Item")
        return item

    def batch_get(self, keys: Sequence[Key], projection: str | None = None) -> dict[Key, Item]:
        """Items by key (missing keys are absent), 100 keys per call, unprocessed keys retried."""
        out: dict[Key, Item] = {}
        unique = list(dict.fromkeys(keys))  # BatchGetItem refuses duplicate keys
        for i in range(0, len(unique), BATCH_GET_MAX):
            request: dict[str, Any] = {
                "Keys": [key_map(k) for k in unique[i : i + BATCH_GET_MAX]],
                "ConsistentRead": True,
            }
            if projection:
                request["ProjectionExpression"], request["ExpressionAttributeNames"] = _projection(
                    projection, keys=True
                )
            attempt = 0
            pending: dict[str, Any] | None = {self.name: request}
            while pending:
                resp = self.client.batch_get_item(RequestItems=pending)
                for item in resp.get("Responses", {}).get(self.name, []):
                    out[key_of(item)] = item
                pending = resp.get("UnprocessedKeys") or None
                if pending:
                    _backoff(attempt)
                    attempt += 1
        return out

    def query(
        self,
        pk: str,
        *,
        index: str | None = None,
        pk_name: str = PARTITION_KEY,
        sk_name: str = SORT_KEY,
        between: tuple[str, str] | None = None,
        gt: str | None = None,
        begins: str | None = None,
        limit: int | None = None,
        forward: bool = True,
        filter_expr: str | None = None,
        names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
        projection: str | None = None,
    ) -> Iterator[Item]:
        """Items of one partition in sort-key order, across pages; `limit` caps what is yielded.

        With a filter, DynamoDB applies ``Limit`` before filtering, so pages are asked for at the
        remaining count and the loop continues until enough items passed or the partition ends.
        """
        expr_names = {"#p": pk_name, **(names or {})}
        if between is not None or gt is not None or begins is not None:
            expr_names["#s"] = sk_name
        expr_values: dict[str, Any] = {":p": {"S": pk}, **(values or {})}
        cond = "#p = :p"
        if between is not None:
            cond += " AND #s BETWEEN :lo AND :hi"
            expr_values[":lo"], expr_values[":hi"] = {"S": between[0]}, {"S": between[1]}
        elif gt is not None:
            cond += " AND #s > :gt"
            expr_values[":gt"] = {"S": gt}
        elif begins is not None:
            cond += " AND begins_with(#s, :b)"
            expr_values[":b"] = {"S": begins}
        kw: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": cond,
            "ExpressionAttributeValues": expr_values,
            "ScanIndexForward": forward,
        }
        if index is None:
            kw["ConsistentRead"] = True
        else:
            kw["IndexName"] = index
        if filter_expr:
            kw["FilterExpression"] = filter_expr
        if projection:
            proj, proj_names = _projection(projection)
            kw["ProjectionExpression"] = proj
            expr_names.update(proj_names)
        kw["ExpressionAttributeNames"] = expr_names
        left = limit
        while True:
            if left is not None:
                if left <= 0:
                    return
                kw["Limit"] = left
            resp = self.client.query(**kw)
            for item in resp.get("Items", []):
                yield item
                if left is not None:
                    left -= 1
            last = resp.get("LastEvaluatedKey")
            if not last:
                return
            kw["ExclusiveStartKey"] = last

    # -- writes ------------------------------------------------------------------------------

    def transact(self, ops: Sequence[dict[str, Any]], token: str | None = None) -> None:
        """TransactWriteItems, even for a single op: with a ClientRequestToken, botocore's retry of a
        call that did succeed (a lost response) is answered as a success, where a retried conditional
        PutItem would fail on its own write and report a false Conflict.

        Raises `Cancelled` with one code per op; a ValidationException (item too large, bad
        number) becomes ValueError, since it is about the data and retrying cannot help.
        """
        kw: dict[str, Any] = {"TransactItems": list(ops)}
        if token:
            kw["ClientRequestToken"] = token
        try:
            self.client.transact_write_items(**kw)
        except ClientError as exc:
            code = _code(exc)
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                codes = [None if r.get("Code") in (None, "None") else r.get("Code") for r in reasons]
                raise Cancelled(codes or ["Unknown"] * len(ops), str(exc)) from exc
            if code in ("TransactionConflictException", "TransactionInProgressException"):
                raise Cancelled(["TransactionConflict"] * len(ops), str(exc)) from exc
            if code == "ValidationException":
                raise ValueError(
                    f"DynamoDB refused the write: {exc.response['Error'].get('Message')}"
                ) from exc
            raise

    def update(self, key: Key, expr: str, *, cond: str | None = None, **kw: Any) -> bool:
        """One conditional UpdateItem; False when the condition failed."""
        args: dict[str, Any] = {"TableName": self.name, "Key": key_map(key), "UpdateExpression": expr, **kw}
        if cond:
            args["ConditionExpression"] = cond
        try:
            self.client.update_item(**args)
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, key: Key, *, cond: str | None = None, **kw: Any) -> bool:
        args: dict[str, Any] = {"TableName": self.name, "Key": key_map(key), **kw}
        if cond:
            args["ConditionExpression"] = cond
        try:
            self.client.delete_item(**args)
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _projection(attrs: str, keys: bool = False) -> tuple[str, dict[str, str]]:
    """A ProjectionExpression with every name aliased (many field names are DynamoDB reserved words)."""
    names = [a.strip() for a in attrs.split(",") if a.strip()]
    if keys:
        names = list(dict.fromkeys([PARTITION_KEY, SORT_KEY, *names]))
    aliases = {f"#a{i}": n for i, n in enumerate(names)}
    return ", ".join(aliases), aliases
