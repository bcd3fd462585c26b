"""What may appear in an identifier or a name (of a project, prompt, key, constraint, dataset...).

Names are shown in lists, logs, audit records, CSV exports and terminals, and compared by people. So
they refuse the characters that print as nothing or as something else: control characters (NUL, ESC,
newlines: a log-line or CSV injection), format characters (the bidi overrides U+202A-U+202E and
U+2066-U+2069 that reverse how a name reads, zero-width joiners and spaces, the BOM), line and
paragraph separators, spaces other than U+0020, surrogates, private-use and unassigned code points.
Letters, marks, digits, punctuation, symbols and plain spaces of every script stay allowed.

One check (`name_problem`) serves every request model (`optiloop.api.models.common.Name...`), the
path and query parameters (`optiloop.api.params`) and the core use cases that take names from
elsewhere (the CLI).
"""

from __future__ import annotations

import unicodedata

REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "a format character (e.g. a bidi override or a zero-width space)",
    "Cs": "a surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space other than U+0020",
}


def name_problem(value: str) -> str | None:
    """Why `value` cannot be a name, naming the first offending character; None if it can."""
    for i, ch in enumerate(value):
        if ch.isascii() and ch.isprintable():
            continue
        category = unicodedata.category(ch)
        if category in REFUSED_CATEGORIES and ch != " ":
            label = unicodedata.name(ch, "")
            shown = f"U+{ord(ch):04X}" + (f" ({label})" if label else "")
            return f"contains {REFUSED_CATEGORIES[category]}, {shown}, at position {i}"
    return None


def check_name(value: str) -> str:
    """The same, as a validator: raises ValueError (pydantic turns it into a 422 naming the field)."""
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(f"{problem}; names may not contain control, format or separator characters")
    return value
