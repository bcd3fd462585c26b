"""Source text -> tokens.

Hand-written rather than regex-driven so every rejected character gets its own message and a
fix: a user who pasted `≤` or a curly quote from a document is told what to type instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optiloop.testopt.space.expr.errors import ExprError

MAX_SOURCE = 2000

KEYWORDS = frozenset({"and", "or", "not", "if", "then", "else", "in", "true", "false"})

# longest first: the scanner tries each in order at the current offset
_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("**", "**"),
    ("==", "=="),
    ("!=", "!="),
    ("<=", "<="),
    (">=", ">="),
    ("&&", "and"),
    ("||", "or"),
    ("+", "+"),
    ("-", "-"),
    ("*", "*"),
    ("/", "/"),
    ("%", "%"),
    ("<", "<"),
    (">", ">"),
    ("!", "not"),
    ("(", "("),
    (")", ")"),
    ("[", "["),
    ("]", "]"),
    (",", ","),
)

# ASCII characters that are not part of the language but have an obvious intended meaning
_ASCII_HINTS = {
    "&": "use 'and' (or '&&')",
    "|": "use 'or' (or '||')",
    "^": "use '**' for powers",
    ";": "a relation is a single expression: put each relation in its own string",
    "{": "use parentheses '(' ')' for grouping",
    "}": "use parentheses '(' ')' for grouping",
    "`": "quote strings with ' or \"",
    "~": "use 'not' to negate a condition",
}

# non-ASCII look-alikes pasted from documents
_UNICODE_HINTS = {
    "≤": "use '<='",
    "≥": "use '>='",
    "≠": "use '!='",
    "×": "use '*'",
    "÷": "use '/'",
    "−": "use '-'",
    "–": "use '-'",
    "—": "use '-'",
    "‘": "use straight quotes ' or \"",
    "’": "use straight quotes ' or \"",
    "“": "use straight quotes ' or \"",
    "”": "use straight quotes ' or \"",
    "\u00a0": "use a normal space",
    "∧": "use 'and'",
    "∨": "use 'or'",
    "¬": "use 'not'",
    "→": "use if(a) then(b) for an implication",
    "⇒": "use if(a) then(b) for an implication",
}

_WHITESPACE = " \t\n\r"


@dataclass(frozen=True, slots=True)
class Token:
    """`kind` is the canonical form ('&&' and 'and' both have kind 'and'); `text` is what was typed."""

    kind: str  # num | str | name | eof | a keyword | an operator or punctuation
    text: str
    pos: int
    end: int
    value: float | str | None = None


def describe_char(ch: str) -> str:
    if ch.isprintable() and ch not in _WHITESPACE:
        return f"'{ch}' (U+{ord(ch):04X})"
    return f"U+{ord(ch):04X}"


def tokenize(source: str) -> list[Token]:
    """Split `source` into tokens ending with an 'eof' token; raises ExprError at the first bad character."""
    if len(source) > MAX_SOURCE:
        raise ExprError(
            f"expression is too long ({len(source)} characters; at most {MAX_SOURCE})",
            MAX_SOURCE,
            "split it into several relations",
        )
    out: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in _WHITESPACE:
            i += 1
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            j = i + 1
            while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
                j += 1
            word = source[i:j]
            out.append(Token(word if word in KEYWORDS else "name", word, i, j, word))
            i = j
        elif _digit(ch) or (ch == "." and i + 1 < n and _digit(source[i + 1])):
            tok = _number(source, i)
            out.append(tok)
            i = tok.end
        elif ch in "'\"":
            tok = _string(source, i)
            out.append(tok)
            i = tok.end
        else:
            for sym, kind in _SYMBOLS:
                if source.startswith(sym, i):
                    out.append(Token(kind, sym, i, i + len(sym)))
                    i += len(sym)
                    break
            else:
                raise _bad_char(source, i)
            if out[-1].kind == "<" and source.startswith(">", i):
                raise ExprError("unexpected '<>'", i - 1, "use '!=' for 'not equal'")
    out.append(Token("eof", "", n, n))
    return out


def _bad_char(source: str, i: int) -> ExprError:
    ch = source[i]
    if ch == "=":
        if source.startswith("=>", i):
            return ExprError("unexpected '=>'", i, "use '>=' to compare, or if(a) then(b) for an implication")
        return ExprError("unexpected '='", i, "use '==' to compare")
    if ch in _ASCII_HINTS:
        return ExprError(f"unexpected character '{ch}'", i, _ASCII_HINTS[ch])
    if not ch.isascii():
        return ExprError(
            f"non-ASCII character {describe_char(ch)} outside a string",
            i,
            _UNICODE_HINTS.get(ch, "use ASCII letters, digits and operators"),
        )
    if not ch.isprintable():
        return ExprError(f"control character {describe_char(ch)} is not allowed", i, "remove it")
    return ExprError(f"unexpected character '{ch}'", i, None)


def _digit(ch: str) -> bool:
    """0-9 only: str.isdigit() is also true of '¹' or '٣', which float() does not take."""
    return "0" <= ch <= "9"


def _number(source: str, i: int) -> Token:
    n = len(source)
    j = i
    while j < n and _digit(source[j]):
        j += 1
    if j < n and source[j] == ".":
        j += 1
        while j < n and _digit(source[j]):
            j += 1
    if j < n and source[j] in "eE":
        k = j + 1
        if k < n and source[k] in "+-":
            k += 1
        if not (k < n and _digit(source[k])):
            raise ExprError(f"malformed number '{source[i:k]}'", i, "an exponent needs digits, e.g. 1.0e6")
        j = k
        while j < n and _digit(source[j]):
            j += 1
    # `2x`, `1.2.3`, `0x1f`, `1_000`: glued characters are a typo, not two tokens
    if j < n and source[j].isascii() and (source[j].isalnum() or source[j] in "_."):
        k = j
        while k < n and source[k].isascii() and (source[k].isalnum() or source[k] in "_."):
            k += 1
        hint = "put an operator between a number and a name, e.g. 2 * x" if source[j].isalpha() else None
        raise ExprError(f"malformed number '{source[i:k]}'", i, hint)
    text = source[i:j]
    value = float(text)  # text is digits/./e only, so float() cannot fail
    if not math.isfinite(value):
        raise ExprError(f"number {text} is too large", i, "numbers must be finite (at most about 1.8e308)")
    return Token("num", text, i, j, value)


def _string(source: str, i: int) -> Token:
    """A quoted string; a backslash escapes only quotes and itself (enum values are plain text)."""
    quote = source[i]
    n = len(source)
    j = i + 1
    chars: list[str] = []
    while j < n:
        ch = source[j]
        if ch == quote:
            return Token("str", source[i : j + 1], i, j + 1, "".join(chars))
        if ch == "\\" and j + 1 < n and source[j + 1] in "\\'\"":
            chars.append(source[j + 1])
            j += 2
            continue
        if not ch.isprintable():
            raise ExprError(f"control character {describe_char(ch)} inside a string", j, "remove it")
        chars.append(ch)
        j += 1
    raise ExprError("unterminated string", i, f"close it with {quote}")
