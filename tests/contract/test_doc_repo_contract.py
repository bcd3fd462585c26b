"""DocRepo contract: every adapter behaves like this."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from optiloop.errors import Conflict, InvalidInput, NotFound
from optiloop.store.ports import DocRepo, Store
from optiloop.store.records import Doc

if TYPE_CHECKING:
    from conftest import StoreHarness

NESTED: dict[str, Any] = {
    "text": 'Grüße, 世界 ✓ "quoted" \\ back\nslash',
    "none": None,
    "flags": [True, False],
    "float": 0.1,
    "tiny": 1e-300,
    "big": 1.7976931348623157e308,
    "neg": -2.5,
    "int": 2**53 + 1,
    "nested": {"list": [1, 2.5, None, {"deep": ["x", {}]}], "empty": []},
    "ключ #%": "value with # and %23",
}


class Boom(Exception):
    pass


@pytest.fixture
def docs(store: Store) -> DocRepo:
    return store.docs


def doc(doc_id: str, *, kind: str = "note", scope: str = "s1", sort: str | None = None, **kw: Any) -> Doc:
    data = kw.pop("data", {"id": doc_id})
    return Doc(kind=kind, id=doc_id, scope=scope, sort=doc_id if sort is None else sort, data=data, **kw)


def past() -> float:
    return time.time() - 5


def future() -> float:
    return time.time() + 3600


def ids(found: list[Doc]) -> list[str]:
    return [d.id for d in found]


# -- create / get --------------------------------------------------------------------------------


def test_create_get_round_trip_nested_json(docs: DocRepo) -> None:
    d = doc("d1", scope="prompt/1", sort="0001", data=NESTED, expires_at=future())
    docs.create(d)
    got = docs.get("note", "d1")
    assert got == d
    assert got is not None and got.data == NESTED and got.rev == 1
    assert isinstance(got.data["flags"][0], bool) and isinstance(got.data["float"], float)
    assert got.data["int"] == 2**53 + 1 and isinstance(got.data["int"], int)


def test_create_stores_rev_1_whatever_the_doc_says(docs: DocRepo) -> None:
    docs.create(doc("d1", rev=7))
    got = docs.get("note", "d1")
    assert got is not None and got.rev == 1 and got.expires_at is None


def test_get_unknown_is_none(docs: DocRepo) -> None:
    assert docs.get("note", "nope") is None


def test_create_twice_conflicts_and_keeps_the_first(docs: DocRepo) -> None:
    first = doc("d1", data={"v": 1})
    docs.create(first)
    with pytest.raises(Conflict):
        docs.create(doc("d1", scope="other", data={"v": 2}))
    assert docs.get("note", "d1") == first
    assert docs.list("note", "other") == []


def test_same_id_in_two_kinds_are_two_docs(docs: DocRepo) -> None:
    docs.create(doc("x", kind="a", data={"k": "a"}))
    docs.create(doc("x", kind="b", data={"k": "b"}))
    a, b = docs.get("a", "x"), docs.get("b", "x")
    assert a is not None and a.data == {"k": "a"}
    assert b is not None and b.data == {"k": "b"}
    assert docs.delete("a", "x")
    assert docs.get("a", "x") is None and docs.get("b", "x") == b


@pytest.mark.parametrize(
    "odd",
    ["a/b#c", "a#b", "a%23b", "a%b", "#", "%", "ünïcödé/✓ 世界", "a b\tc", "emoji \U0001f600", "x" * 300],
)
def test_ids_with_odd_characters(docs: DocRepo, odd: str) -> None:
    d = doc(odd, scope=odd, sort=odd, data={"id": odd})
    docs.create(d)
    assert docs.get("note", odd) == d
    assert docs.get_many("note", [odd]) == {odd: d}
    assert docs.list("note", odd) == [d]


def test_ids_scopes_and_kinds_that_escape_alike_stay_apart(docs: DocRepo) -> None:
    # "#" and "%23" (and kinds/scopes that look like joined keys) must never share a key.
    for i, (kind, scope, doc_id) in enumerate(
        [("k", "s#1", "a#b"), ("k", "s%231", "a%23b"), ("k#s", "1", "a"), ("k", "s#1#a", "b")]
    ):
        docs.create(doc(doc_id, kind=kind, scope=scope, data={"i": i}))
    assert ids(docs.list("k", "s#1")) == ["a#b"]
    assert ids(docs.list("k", "s%231")) == ["a%23b"]
    assert ids(docs.list("k#s", "1")) == ["a"]
    assert ids(docs.list("k", "s#1#a")) == ["b"]
    assert ids(docs.list("k", "s")) == []
    got = docs.get_many("k", ["a#b", "a%23b", "a", "b"])
    assert {k: v.data["i"] for k, v in got.items()} == {"a#b": 0, "a%23b": 1, "b": 3}


def test_empty_kind_or_id_is_refused(docs: DocRepo) -> None:
    for bad in (doc("", kind="note"), doc("x", kind="")):
        with pytest.raises(ValueError):
            docs.create(bad)


def test_large_doc_round_trips(docs: DocRepo) -> None:
    d = doc("big", data={"text": "é" * 150_000})  # 300 KB of UTF-8: fits every adapter
    docs.create(d)
    assert docs.get("note", "big") == d
    assert docs.list("note", "s1") == [d]


def test_too_large_doc_is_refused_whole_or_stored_whole(docs: DocRepo) -> None:
    """Adapters with an item limit (DynamoDB: 400 KB) refuse with InvalidInput on `data`, writing
    nothing; the others store it."""
    d = doc("huge", data={"text": "x" * 500_000})
    try:
        docs.create(d)
    except InvalidInput as exc:
        assert [p.field for p in exc.problems] == ["data"]
        assert docs.get("note", "huge") is None and docs.list("note", "s1") == []
    else:
        assert docs.get("note", "huge") == d
    small = doc("small")
    docs.create(small)
    try:
        docs.replace(doc("small", data={"text": "x" * 500_000}), 1)
    except InvalidInput as exc:
        assert [p.field for p in exc.problems] == ["data"]
        assert docs.get("note", "small") == small


# -- replace -----------------------------------------------------------------------------------


def test_replace_with_the_right_rev_bumps_it_and_persists(docs: DocRepo) -> None:
    docs.create(doc("d1", data={"v": 1}))
    r2 = docs.replace(doc("d1", data={"v": 2}, rev=99), expected_rev=1)
    assert r2.rev == 2 and r2.data == {"v": 2}
    assert docs.get("note", "d1") == r2
    r3 = docs.replace(doc("d1", data={"v": 3}, expires_at=future()), expected_rev=2)
    assert r3.rev == 3 and docs.get("note", "d1") == r3
    r4 = docs.replace(doc("d1", data={"v": 4}), expected_rev=3)  # expiry removed again
    assert docs.get("note", "d1") == r4 and r4.expires_at is None


def test_replace_with_a_stale_rev_conflicts_and_changes_nothing(docs: DocRepo) -> None:
    docs.create(doc("d1", data={"v": 1}))
    current = docs.replace(doc("d1", data={"v": 2}), 1)
    for stale in (1, 3, 0):
        with pytest.raises(Conflict):
            docs.replace(doc("d1", scope="elsewhere", data={"v": "lost"}), stale)
    assert docs.get("note", "d1") == current
    assert docs.list("note", "elsewhere") == []


def test_concurrent_replaces_of_one_rev_let_exactly_one_win(docs: DocRepo) -> None:
    docs.create(doc("d1", data={"v": 0}))
    outcomes: list[object] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def writer(n: int) -> None:
        start.wait()
        try:
            result: object = docs.replace(doc("d1", sort=f"w{n}", data={"v": n}), 1)
        except Conflict as exc:
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if isinstance(o, Doc)]
    assert len(outcomes) == 6 and len(winners) == 1
    assert docs.get("note", "d1") == winners[0]
    assert docs.list("note", "s1") == winners  # one listing entry: the loser's never landed


def test_replace_of_absent_is_not_found(docs: DocRepo) -> None:
    with pytest.raises(NotFound):
        docs.replace(doc("nope"), 1)
    assert docs.get("note", "nope") is None
    assert docs.list("note", "s1") == []


def test_replace_moves_between_scopes_and_sort_positions(docs: DocRepo) -> None:
    for i in ("a", "b", "c"):
        docs.create(doc(i, scope="s1", sort=i))
    moved = docs.replace(doc("a", scope="s2", sort="m"), 1)
    assert ids(docs.list("note", "s1")) == ["b", "c"]
    assert docs.list("note", "s2") == [moved]
    docs.replace(doc("b", scope="s1", sort="z"), 1)  # same scope, new position
    assert ids(docs.list("note", "s1")) == ["c", "b"]
    assert ids(docs.list("note", "s1", descending=True)) == ["b", "c"]
    back = docs.replace(doc("a", scope="s1", sort="0"), 2)
    assert ids(docs.list("note", "s1")) == ["a", "c", "b"]
    assert docs.list("note", "s2") == []
    assert docs.get("note", "a") == back


# -- list --------------------------------------------------------------------------------------

TRICKY_SORTS = ["", "a", "a\x01", "a\x02", "a ", "a!", "a#", "a%", "a%23", "a~", "a\x7f", "aé", "a世", "b"]
TRICKY_SORTS.append("a\U0001f600")


def test_list_orders_by_sort_bytes_both_ways(docs: DocRepo) -> None:
    for i, s in enumerate(reversed(TRICKY_SORTS)):
        docs.create(doc(f"id{i:02d}", sort=s, data={"sort": s}))
    asc = [d.sort for d in docs.list("note", "s1", limit=1000)]
    assert asc == sorted(TRICKY_SORTS)  # code point order == UTF-8 byte order
    desc = [d.sort for d in docs.list("note", "s1", limit=1000, descending=True)]
    assert desc == sorted(TRICKY_SORTS, reverse=True)


def test_equal_sort_values_are_ordered_by_id(docs: DocRepo) -> None:
    for i in ("b", "a", "c"):
        docs.create(doc(i, sort="same"))
    docs.create(doc("x", sort="samf"))
    docs.create(doc("y", sort="sam"))
    assert ids(docs.list("note", "s1")) == ["y", "a", "b", "c", "x"]
    assert ids(docs.list("note", "s1", descending=True)) == ["x", "c", "b", "a", "y"]
    # `after` is a sort value: every doc of that sort is past it
    assert ids(docs.list("note", "s1", after="same")) == ["x"]
    assert ids(docs.list("note", "s1", after="same", descending=True)) == ["y"]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("page", [1, 3, 7, 25])
def test_after_paging_never_skips_or_repeats(docs: DocRepo, descending: bool, page: int) -> None:
    sorts = [f"{n:04d}" for n in range(0, 50, 2)] + ["0001#x", "0003%", "0005é"]
    for n, s in enumerate(sorts):
        docs.create(doc(f"d{n}", sort=s))
    expected = sorted(sorts, reverse=descending)
    seen: list[str] = []
    after: str | None = None
    for _ in range(100):
        got = docs.list("note", "s1", after=after, limit=page, descending=descending)
        assert len(got) <= page
        if not got:
            break
        seen.extend(d.sort for d in got)
        after = got[-1].sort
    assert seen == expected


def test_after_a_value_that_no_doc_has(docs: DocRepo) -> None:
    for s in ("b", "d", "f"):
        docs.create(doc(s))
    assert ids(docs.list("note", "s1", after="c")) == ["d", "f"]
    assert ids(docs.list("note", "s1", after="c", descending=True)) == ["b"]
    assert ids(docs.list("note", "s1", after="")) == ["b", "d", "f"]
    assert docs.list("note", "s1", after="", descending=True) == []
    assert docs.list("note", "s1", after="g") == []
    assert ids(docs.list("note", "s1", after="g", descending=True)) == ["f", "d", "b"]


def test_limit(docs: DocRepo) -> None:
    for i in range(5):
        docs.create(doc(f"d{i}"))
    assert ids(docs.list("note", "s1", limit=2)) == ["d0", "d1"]
    assert ids(docs.list("note", "s1", limit=2, descending=True)) == ["d4", "d3"]
    assert len(docs.list("note", "s1", limit=5)) == 5
    assert len(docs.list("note", "s1", limit=50)) == 5
    assert docs.list("note", "s1", limit=0) == []
    assert len(docs.list("note", "s1")) == 5


def test_default_limit_is_100(docs: DocRepo) -> None:
    for i in range(105):
        docs.create(doc(f"d{i:03d}"))
    assert len(docs.list("note", "s1")) == 100


def test_kinds_and_scopes_are_isolated(docs: DocRepo) -> None:
    docs.create(doc("a", kind="note", scope="p1"))
    docs.create(doc("b", kind="note", scope="p10"))  # a scope that extends another
    docs.create(doc("c", kind="note", scope="p"))
    docs.create(doc("d", kind="notes", scope="p1"))  # a kind that extends another
    docs.create(doc("e", kind="other", scope="p1"))
    assert ids(docs.list("note", "p1")) == ["a"]
    assert ids(docs.list("note", "p10")) == ["b"]
    assert ids(docs.list("note", "p")) == ["c"]
    assert ids(docs.list("notes", "p1")) == ["d"]
    assert ids(docs.list("other", "p1")) == ["e"]
    assert docs.list("nothing", "p1") == []
    assert docs.get("note", "d") is None and docs.get("notes", "a") is None


def test_list_empty(docs: DocRepo) -> None:
    assert docs.list("note", "s1") == []
    assert docs.list("note", "s1", descending=True, after="x") == []


# -- get_many ----------------------------------------------------------------------------------


def test_get_many_returns_found_ids_only(docs: DocRepo) -> None:
    for i in ("a", "b", "c"):
        docs.create(doc(i))
    docs.create(doc("z", kind="other"))
    got = docs.get_many("note", ["c", "missing", "a", "a", "z"])
    assert set(got) == {"a", "c"}
    assert got["a"] == docs.get("note", "a")
    assert docs.get_many("note", []) == {}
    assert docs.get_many("note", ["missing"]) == {}


def test_get_many_of_many(docs: DocRepo) -> None:
    want = [f"d{i:03d}" for i in range(0, 240, 2)]
    for i in want:
        docs.create(doc(i))
    asked = [f"d{i:03d}" for i in range(240)]  # more than one batch of every adapter
    assert sorted(docs.get_many("note", asked)) == want


# -- delete ------------------------------------------------------------------------------------


def test_delete(docs: DocRepo) -> None:
    docs.create(doc("a"))
    docs.create(doc("b"))
    assert docs.delete("note", "a") is True
    assert docs.get("note", "a") is None
    assert ids(docs.list("note", "s1")) == ["b"]
    assert docs.delete("note", "a") is False
    assert docs.delete("note", "never") is False
    assert docs.delete("other", "b") is False
    docs.create(doc("a", scope="s2"))  # the id is free again
    got = docs.get("note", "a")
    assert got is not None and got.rev == 1 and got.scope == "s2"


def test_delete_after_a_move_removes_it_from_the_new_scope(docs: DocRepo) -> None:
    docs.create(doc("a", scope="s1"))
    docs.replace(doc("a", scope="s2", sort="q"), 1)
    assert docs.delete("note", "a")
    assert docs.list("note", "s1") == [] and docs.list("note", "s2") == []


def test_delete_scope_counts_and_stays_inside_its_scope(docs: DocRepo) -> None:
    for i in range(130):  # more than DynamoDB's batch sizes (25 writes, 100 per transaction)
        docs.create(doc(f"d{i:03d}", scope="big", data={"i": i}))
    docs.create(doc("keep1", scope="big2"))
    docs.create(doc("keep2", scope="bi"))
    docs.create(doc("keep3", kind="other", scope="big"))
    assert docs.delete_scope("note", "big") == 130
    assert docs.list("note", "big") == []
    assert docs.get_many("note", [f"d{i:03d}" for i in range(130)]) == {}
    assert ids(docs.list("note", "big2")) == ["keep1"]
    assert ids(docs.list("note", "bi")) == ["keep2"]
    assert ids(docs.list("other", "big")) == ["keep3"]
    assert docs.delete_scope("note", "big") == 0
    assert docs.delete_scope("note", "never") == 0
    docs.create(doc("d000", scope="big"))  # ids are free again
    assert ids(docs.list("note", "big")) == ["d000"]


def test_delete_scope_after_moves(docs: DocRepo) -> None:
    docs.create(doc("a", scope="s1"))
    docs.create(doc("b", scope="s2"))
    docs.replace(doc("a", scope="s2"), 1)
    docs.replace(doc("b", scope="s1"), 1)
    assert docs.delete_scope("note", "s1") == 1
    assert docs.get("note", "b") is None
    assert ids(docs.list("note", "s2")) == ["a"]


# -- expiry ------------------------------------------------------------------------------------


def test_expired_docs_are_invisible(docs: DocRepo) -> None:
    docs.create(doc("old", expires_at=past()))
    live = doc("live", expires_at=future())
    docs.create(live)
    assert docs.get("note", "old") is None
    assert docs.get_many("note", ["old", "live"]) == {"live": live}
    assert docs.list("note", "s1") == [live]
    assert docs.list("note", "s1", descending=True) == [live]
    assert docs.list("note", "s1", limit=1) == [live]  # an expired doc does not use up the limit
    with pytest.raises(NotFound):
        docs.replace(doc("old"), 1)
    assert docs.delete("note", "old") is False


def test_expired_docs_do_not_take_up_the_limit(docs: DocRepo) -> None:
    for i in range(30):
        docs.create(doc(f"a{i:02d}", expires_at=past()))
    docs.create(doc("b1"))
    docs.create(doc("b2"))
    assert ids(docs.list("note", "s1", limit=2)) == ["b1", "b2"]
    assert ids(docs.list("note", "s1", limit=1, after="b1")) == ["b2"]
    assert ids(docs.list("note", "s1", limit=1, descending=True, after="b2")) == ["b1"]


def test_an_expired_doc_can_be_created_again(docs: DocRepo) -> None:
    docs.create(doc("d", scope="old", sort="1", expires_at=past()))
    fresh = doc("d", scope="new", sort="2", data={"v": "fresh"})
    docs.create(fresh)
    assert docs.get("note", "d") == fresh
    assert docs.list("note", "old") == []
    assert docs.list("note", "new") == [fresh]
    assert docs.replace(doc("d", scope="new", sort="2"), 1).rev == 2
    docs.create(doc("e", scope="same", expires_at=past()))
    again = doc("e", scope="same", data={"v": 2})
    docs.create(again)  # same scope and sort as the expired one
    assert docs.list("note", "same") == [again]


def test_delete_scope_counts_only_live_docs(docs: DocRepo) -> None:
    docs.create(doc("a", expires_at=past()))
    docs.create(doc("b"))
    docs.create(doc("c", expires_at=future()))
    assert docs.delete_scope("note", "s1") == 2
    assert docs.list("note", "s1") == []
    docs.create(doc("a"))  # nothing of the expired one is in the way
    assert ids(docs.list("note", "s1")) == ["a"]


# -- transactions ------------------------------------------------------------------------------


def test_transaction_sees_its_own_writes(store: Store, docs: DocRepo) -> None:
    docs.create(doc("pre", sort="5"))
    docs.create(doc("gone", sort="6"))
    with store.transaction():
        docs.create(doc("a", sort="1", data={"v": 1}))
        got = docs.get("note", "a")
        assert got is not None and got.data == {"v": 1} and got.rev == 1
        with pytest.raises(Conflict):
            docs.create(doc("a"))
        r2 = docs.replace(doc("a", sort="9", data={"v": 2}), 1)
        assert docs.get("note", "a") == r2
        with pytest.raises(Conflict):
            docs.replace(doc("a"), 1)
        moved = docs.replace(doc("pre", scope="s2"), 1)
        assert docs.delete("note", "gone")
        assert docs.get("note", "gone") is None
        assert ids(docs.list("note", "s1")) == ["a"]
        assert ids(docs.list("note", "s1", descending=True, limit=1)) == ["a"]
        assert docs.list("note", "s2") == [moved]
        assert set(docs.get_many("note", ["a", "pre", "gone"])) == {"a", "pre"}
    assert docs.get("note", "a") == r2
    assert docs.get("note", "gone") is None
    assert ids(docs.list("note", "s1")) == ["a"]
    assert docs.list("note", "s2") == [moved]


def test_create_then_delete_in_one_transaction_leaves_nothing(store: Store, docs: DocRepo) -> None:
    with store.transaction():
        docs.create(doc("a"))
        assert docs.delete("note", "a")
        docs.create(doc("b"))
        docs.replace(doc("b", sort="z"), 1)
    assert docs.get("note", "a") is None
    b = docs.get("note", "b")
    assert b is not None and b.rev == 2
    assert ids(docs.list("note", "s1")) == ["b"]


def test_delete_then_create_in_one_transaction(store: Store, docs: DocRepo) -> None:
    docs.create(doc("a", scope="s1", data={"v": 1}))
    with store.transaction():
        assert docs.delete("note", "a")
        docs.create(doc("a", scope="s2", data={"v": 2}))
    got = docs.get("note", "a")
    assert got is not None and got.data == {"v": 2} and got.rev == 1
    assert docs.list("note", "s1") == []
    assert ids(docs.list("note", "s2")) == ["a"]


def test_a_failed_transaction_leaves_nothing(store: Store, docs: DocRepo) -> None:
    before = doc("keep", data={"v": 1})
    docs.create(before)
    docs.create(doc("also", scope="s2"))
    with pytest.raises(Boom), store.transaction():
        docs.create(doc("new"))
        docs.replace(doc("keep", scope="s3", data={"v": 2}), 1)
        docs.delete("note", "also")
        assert docs.delete_scope("note", "s2") == 0
        raise Boom
    assert docs.get("note", "new") is None
    assert docs.get("note", "keep") == before
    assert ids(docs.list("note", "s1")) == ["keep"]
    assert ids(docs.list("note", "s2")) == ["also"]
    assert docs.list("note", "s3") == []


def test_delete_scope_inside_a_failed_transaction_leaves_everything(store: Store, docs: DocRepo) -> None:
    for i in range(10):
        docs.create(doc(f"d{i}"))
    with pytest.raises(Boom), store.transaction():
        docs.create(doc("new"))
        assert docs.delete_scope("note", "s1") == 11
        assert docs.list("note", "s1") == []
        assert docs.get("note", "d1") is None
        raise Boom
    assert len(docs.list("note", "s1")) == 10


def test_delete_scope_inside_a_transaction_commits_with_it(store: Store, docs: DocRepo) -> None:
    for i in range(10):
        docs.create(doc(f"d{i}"))
    with store.transaction():
        assert docs.delete_scope("note", "s1") == 10
        docs.create(doc("after"))
    assert ids(docs.list("note", "s1")) == ["after"]


def test_a_failing_write_inside_a_transaction_leaves_the_others_intact(store: Store, docs: DocRepo) -> None:
    docs.create(doc("x"))
    with store.transaction():
        docs.create(doc("a"))
        with pytest.raises(Conflict):
            docs.replace(doc("x", scope="elsewhere"), 5)
        with pytest.raises(NotFound):
            docs.replace(doc("absent"), 1)
    assert ids(docs.list("note", "s1")) == ["a", "x"]
    assert docs.list("note", "elsewhere") == []


# -- persistence -------------------------------------------------------------------------------


def test_survives_reopen(store_harness: StoreHarness) -> None:
    docs = store_harness.store.docs
    d = doc("d1", scope="p/1", sort="0002", data=NESTED, expires_at=future())
    docs.create(d)
    docs.create(doc("d2", scope="p/1", sort="0001"))
    r = docs.replace(doc("d2", scope="p/1", sort="0003", data={"v": 2}), 1)
    reopened = store_harness.reopen().docs
    assert reopened.get("note", "d1") == d
    assert reopened.list("note", "p/1") == [d, r]
    assert reopened.replace(doc("d2", scope="p/1", sort="0003"), 2).rev == 3
