"""Tables as people export them — a spreadsheet's decimal commas and day-first dates, a Windows code
page, currency and percent signs, `-` for an empty cell, a word in a numeric column, a label on one
row — typed so the search can use them, stored, and served back from the same raw cells. Found by
sending such files through the REST flow: each was a column lost (a categorical of hundreds of
numbers-as-strings, excluded) or the whole upload refused."""

from __future__ import annotations

import numpy as np
import pytest

from optiloop.automl import parse
from optiloop.automl.features import MIN_CLASS_ROWS, prepare, rare_classes_warning
from optiloop.automl.infer import infer_column, infer_table, quality_report, stray_warnings
from optiloop.automl.table import from_bytes
from optiloop.errors import InvalidInput

N = 60


def _european_csv() -> bytes:
    rows = ["Datum;Preis;Anteil;Farbe;Ziel"]
    target = np.random.default_rng(0).integers(0, 2, N)
    for k in range(N):
        rows.append(f"{1 + k % 28:02d}.{1 + k % 12:02d}.2024;{1000 + k * 37},{k % 10}0 €;{k % 7},5 %;"
                    f"{'grün' if k % 3 else 'blau'};{target[k]}")  # fmt: skip
    return ("\n".join(rows) + "\n").encode("cp1252")


def test_a_european_spreadsheet_export_reads_as_numbers_and_dates() -> None:
    data = _european_csv()
    source = parse.describe("t.csv", data)
    assert source == {"format": "csv", "encoding": "windows-1252", "delimiter": ";"}
    raw = parse.parse("t.csv", data)
    table = infer_table(raw, comma_hint=source["delimiter"] == ";")
    types = {c.name: (c.type, c.format) for c in table.columns}
    assert types == {
        "Datum": ("datetime", "%d.%m.%Y"),
        "Preis": ("numeric", "1.234,5"),
        "Anteil": ("numeric", "1.234,5"),
        "Farbe": ("categorical", ""),
        "Ziel": ("numeric", ""),
    }
    assert table.column("Datum").values[:2].tolist() == ["2024-01-01", "2024-02-02"]  # type: ignore[union-attr]
    assert table.column("Preis").values[1] == 1037.1  # type: ignore[union-attr]
    assert set(table.column("Farbe").values.tolist()) == {"grün", "blau"}  # type: ignore[union-attr]
    again = from_bytes(table.to_bytes())  # the formats are stored with the table
    assert [(c.type, c.format, c.missing_as) for c in again.columns] == [
        (c.type, c.format, c.missing_as) for c in table.columns
    ]
    assert again.fingerprint() == table.fingerprint()
    report = quality_report(table)
    assert next(c for c in report["columns"] if c["name"] == "Preis")["format"] == "1.234,5"


def test_the_model_reads_a_row_as_it_sat_in_the_file() -> None:
    data = _european_csv()
    table = infer_table(parse.parse("t.csv", data), comma_hint=True)
    prep = prepare(table, "Ziel", "classification")
    assert {i.name: i.format for i in prep.signature.inputs if i.format} == {
        "Datum.month": "%d.%m.%Y", "Datum.day": "%d.%m.%Y", "Datum.weekday": "%d.%m.%Y",
        "Datum.days": "%d.%m.%Y", "Preis": "1.234,5", "Anteil": "1.234,5",
    }  # fmt: skip
    lines = data.decode("cp1252").splitlines()
    header = lines[0].split(";")
    cells = [dict(zip(header, line.split(";"), strict=True)) for line in lines[1:]]
    served = prep.signature.encode(cells)
    assert np.allclose(served, prep.x, equal_nan=True)


def test_a_word_in_a_numeric_column_is_missing_and_reported() -> None:
    raw = {"age": [str(20 + k % 40) for k in range(N)] + ["unknown", "-", "unknown"], "y": [0, 1, 1] * 21}
    table = infer_table(raw)
    age = table.column("age")
    assert age is not None and age.type == "numeric" and age.missing_as == ("unknown",)
    assert int(age.missing.sum()) == 3  # "-" is a spelling of missing everywhere
    assert stray_warnings(raw, table) == [
        {"column": "age", "kind": "read_as_missing", "reason": "2 values ('unknown') read as missing"}
    ]
    prep = prepare(table, "y", "classification")
    assert prep.signature.encode([{"age": "unknown"}, {"age": "-"}, {"age": "33"}])[:, 0].tolist()[2] == 33.0
    with pytest.raises(InvalidInput):
        prep.signature.encode([{"age": "old"}])


@pytest.mark.parametrize("spelt", ["-", "--", "#N/A", ".", "n.a."])
def test_more_spellings_of_an_empty_cell(spelt: str) -> None:
    col = infer_column("x", ["1.5", spelt, "2"])
    assert col.type == "numeric" and col.missing.tolist() == [False, True, False]


def test_currency_and_percent_columns_are_numbers() -> None:
    col = infer_column("price", [f"${1000 + k * 13:,}.50" for k in range(30)])
    assert col.type == "numeric" and col.format == "1,234.5" and col.values[0] == 1000.5
    assert infer_column("share", ["12.5%", "3%", "100%"]).values.tolist() == [12.5, 3.0, 100.0]


def test_text_that_is_not_utf8_is_read_in_the_windows_code_page_and_binary_refused() -> None:
    assert parse.parse("t.csv", "größe,y\n1,café\n".encode("cp1252")) == {"größe": ["1"], "y": ["café"]}
    assert (
        parse.text_encoding(b"a,b\n\x81,1\n") == "latin-1"
    )  # undefined in cp1252: any byte reads in Latin-1
    assert parse.text_encoding("\ufeffa,b\n1,2\n".encode()) == "utf-8"
    for binary in (b"PK\x03\x04" + b"\x00" * 20, b"a,b\n\x00\x01,2\n"):
        with pytest.raises(InvalidInput, match="is binary"):
            parse.parse("t.csv", binary)


def test_a_class_too_rare_to_cross_validate_is_left_out_with_its_rows() -> None:
    raw = {"x": [float(k % 7) for k in range(N)], "y": ["a", "b"] * 29 + ["z", "b"]}
    prep = prepare(infer_table(raw), "y", "classification", min_class_rows=MIN_CLASS_ROWS)
    assert prep.signature.classes == ("a", "b") and prep.dropped_classes == {"z": 1}
    assert prep.dropped_rows == 1 and prep.x.shape[0] == N - 1 and prep.class_balance == {"a": 29, "b": 30}
    assert "'z' (1)" in (rare_classes_warning(prep.dropped_classes) or "")
    assert prepare(infer_table(raw), "y", "classification").signature.classes == ("a", "b", "z")
    with pytest.raises(InvalidInput, match="one class"):
        prepare(infer_table({"x": [1.0, 2.5, 3.0], "y": ["a", "a", "z"]}), "y", "classification",
                min_class_rows=MIN_CLASS_ROWS)  # fmt: skip


def test_a_forecast_reads_a_time_column_of_month_names() -> None:
    """`Mar 2019` was a categorical, and a forecasting experiment on it a 422 ("neither a datetime
    nor integers"); stored as ISO dates it is a series' time like any datetime."""
    from datetime import date

    from optiloop.automl.forecast import prepare_for

    months = [date(2010 + k // 12, 1 + k % 12, 1) for k in range(60)]
    raw = {
        "when": [d.strftime("%b %Y") for d in months],
        "sales": [float(k % 12 + k / 10) for k in range(60)],
    }
    table = infer_table(raw)
    assert (table.column("when").type, table.column("when").format) == ("datetime", "%b %Y")  # type: ignore[union-attr]
    config = {"cv": {"folds": 3}, "forecast": {"time_column": "when", "horizon": 6, "season_length": 12}}
    prep = prepare_for(table, "sales", "forecasting", config)
    assert prep.series.tolist() == raw["sales"] and prep.horizon == 6


def test_a_date_column_with_a_stray_word_keeps_its_times_and_serves_the_word_as_missing() -> None:
    stamps = [f"2024-03-{1 + k % 28:02d}T{k % 24:02d}:30:00" for k in range(60)]
    raw = {"at": [*stamps, "TBD"], "y": np.random.default_rng(0).integers(0, 2, 61).tolist()}
    table = infer_table(raw)
    at = table.column("at")
    assert at is not None and (at.type, at.format, at.missing_as) == ("datetime", "", ("TBD",))
    assert at.values[1] == stamps[1] and at.missing.tolist()[-1] is True  # ISO kept whole, the word missing
    prep = prepare(table, "y", "classification")
    hour = [i.name for i in prep.signature.inputs].index("at.hour")
    served = prep.signature.encode([{"at": "TBD"}, {"at": stamps[5]}])
    assert np.isnan(served[0, hour]) and served[1, hour] == 5.5
