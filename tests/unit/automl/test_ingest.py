"""Parsing and typing an upload: ragged rows by line, missing spellings, the six column types, the
quality report's warnings, and the stored table round trip with a content fingerprint."""

from __future__ import annotations

import pytest

from optiloop.automl import infer, parse
from optiloop.automl.table import from_bytes
from optiloop.errors import InvalidInput


def _reason(e: pytest.ExceptionInfo[InvalidInput]) -> str:
    return e.value.problems[0].reason


def test_a_ragged_csv_row_is_named_by_its_line() -> None:
    with pytest.raises(InvalidInput) as e:
        parse.parse("t.csv", b"a,b\n1,2\n3,4\n5\n")
    assert e.value.problems[0].field == "file" and "line 4 has 1 fields" in _reason(e)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"a,b\n", "no rows"),
        (b"a," + b"x" * 201 + b",c\n1,2,3\n", "column 2"),  # an empty name is filled (pandas' Unnamed: k)
        (b",\n,\n", "no columns"),  # nothing but separators
        (b'{"a": [1]}\n', "nested"),
    ],
)
def test_bad_files(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse.parse("t", data)
    assert reason in _reason(e)


def test_types_and_missing_values() -> None:
    n = 25
    raw = parse.parse_csv(
        (
            "num,flag,cat,when,key,note,row\n"
            + "".join(
                f"{'NA' if k == 3 else k * 1.5},{'yes' if k % 2 else 'no'},{'xyz'[k % 3]},"
                f"2024-02-{k + 1:02d},"
                f"u{k},this is a long free text comment number {k},{k}\n"
                for k in range(n)
            )
        ).encode()
    )
    table = infer.infer_table(raw)
    assert {c.name: c.type for c in table.columns} == {
        "num": "numeric", "flag": "boolean", "cat": "categorical", "when": "datetime",
        "key": "id", "note": "text", "row": "id",
    }  # fmt: skip
    num = table.column("num")
    assert num is not None and int(num.missing.sum()) == 1
    report = infer.quality_report(table)
    kinds = {(w["column"], w["kind"]) for w in report["warnings"]}
    assert ("key", "id_like") in kinds and ("row", "id_like") in kinds
    cat = next(c for c in report["columns"] if c["name"] == "cat")
    assert sum(v["count"] for v in cat["top_values"]) == n


def test_constant_and_duplicate_columns_are_flagged() -> None:
    table = infer.infer_table({"a": [1, 2, 3], "b": [1, 2, 3], "c": [7, 7, 7]})
    kinds = {(w["column"], w["kind"]) for w in infer.quality_report(table)["warnings"]}
    assert kinds == {("b", "duplicate"), ("c", "constant")}


def test_the_stored_table_round_trips_and_its_fingerprint_names_the_content() -> None:
    table = infer.infer_table({"x": [1.0, None, 3.0], "c": ["a", "b", None]})
    back = from_bytes(table.to_bytes())
    assert back.names == ["x", "c"] and back.fingerprint() == table.fingerprint()
    other = infer.infer_table({"x": [1.0, None, 3.5], "c": ["a", "b", None]})
    assert other.fingerprint() != table.fingerprint()


def test_parquet_without_pyarrow_says_what_to_install() -> None:
    try:
        import pyarrow  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        with pytest.raises(InvalidInput) as e:
            parse.parse("t.parquet", b"PAR1....")
        assert "pyarrow" in _reason(e)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_separated_otherwise_than_by_commas_is_read_as_columns(sep: str) -> None:
    # spreadsheets in decimal-comma locales export semicolons; the decimal comma stays in the value
    raw = parse.parse_csv(f'name{sep}"a{sep}b"{sep}y\nann{sep}1,5{sep}1\nbob{sep}2{sep}0\n'.encode())
    assert raw == {"name": ["ann", "bob"], f"a{sep}b": ["1,5", "2"], "y": ["1", "0"]}


def test_a_header_with_commas_is_a_comma_file_whatever_the_rows_hold() -> None:
    assert parse.parse_csv(b"a,b\n1;2,3\n") == {"a": ["1;2"], "b": ["3"]}
    assert parse.parse_csv(b"only\n1\n") == {"only": ["1"]}
    assert parse.delimiter('"x;y",z') == ","
