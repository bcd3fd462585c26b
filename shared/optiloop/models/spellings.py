"""How a table cell reads as missing, a boolean, a number or a category's text.

One definition for both sides of a model: ingest types an uploaded column with it
(`optiloop.automl.infer`) and serving reads an instance's fields with it (`Signature.encode`), so a
row sent back to a deployed model exactly as it sat in the uploaded CSV — `"yes"`, `"73"`, `""`,
`"NA"`, `3.0` for the category `3` — means what it meant at training time instead of being refused
(a whole batch answered 422 for one spelling) or silently read as an unseen category.

A number that is not finite (an infinity from Parquet or a JSON `Infinity`, a CSV's `inf`, NaN) is
a missing value on both sides. Why missing rather than refused: the table is data as the user has
it (a ratio column divided by zero somewhere), no model in the search can fit an infinity
(scikit-learn and XGBoost refuse it, scaling turns it into NaN), and the imputation every runtime
already has is what a missing cell gets. Why the same at serving: a row sent back as it sat in the
uploaded table must not be refused by the model that was trained on it. Ingest counts these cells
in the quality report (`missing`, and a `non_finite` warning) so the reading is never silent.
"""

from __future__ import annotations

import math
from typing import Any

# pandas' default NA spellings (lower-cased), plus what spreadsheets, UCI's tables and SAS write for an
# empty cell: "?", "-", "--", "."
MISSING = frozenset(
    {"", "na", "n/a", "n.a.", "nan", "-nan", "null", "none", "<na>", "#n/a", "#na", "?", "-", "--", "."}
)
# what float() reads as an infinity, lower-cased: missing too (the module docstring says why)
NON_FINITE = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
TRUE = frozenset({"true", "yes", "t"})
FALSE = frozenset({"false", "no", "f"})


def is_missing(v: Any) -> bool:
    """None, a number that is not finite, and the usual spellings of a missing cell or an infinity
    (any case, surrounding spaces ignored)."""
    if v is None:
        return True
    if isinstance(v, float):
        return not math.isfinite(v)
    if isinstance(v, str):
        s = v.strip().lower()
        return s in MISSING or s in NON_FINITE
    return False


def is_non_finite(v: Any) -> bool:
    """An infinity, as a number or spelt (`inf`, `-Infinity`): what ingest reports as `non_finite`."""
    if isinstance(v, float):
        return math.isinf(v)
    return isinstance(v, str) and v.strip().lower() in NON_FINITE


def as_bool(v: Any) -> bool | None:
    """A JSON boolean or one of true/false/yes/no/t/f (any case); None for anything else."""
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        s = v.strip().lower()
        if s in TRUE:
            return True
        if s in FALSE:
            return False
    return None


def as_float(v: Any) -> float | None:
    """A finite number, or a string that parses as one; None otherwise (booleans are not numbers).
    Both sides call `is_missing` first, so an infinity never gets here as a value to refuse."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        f = float(v)
    elif isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return None
    else:
        return None
    return f if math.isfinite(f) else None


def as_text(v: Any) -> str:
    """A category's text: stripped, a whole float without its `.0`, a boolean as true/false."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()
