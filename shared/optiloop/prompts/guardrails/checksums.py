"""Check-digit validation for payment cards (Luhn) and IBANs (ISO 13616, mod 97).

A pattern alone cannot tell a card number from an order number; the check digit can, for all but
one random digit string in ten (Luhn) or one in 97 (IBAN). That is what keeps the PII detector from
redacting every long number in a prompt.
"""

from __future__ import annotations

# ISO 13616 registry: IBAN length per country (SWIFT IBAN registry, release 2024).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# Card schemes: (scheme, lowest IIN prefix, highest, allowed lengths, Luhn required, needs context),
# over the first digits of the number (a prefix compares as a string of its own length). Luhn alone
# lets one random 16-digit string in ten through ("2023 2024 2025 2026" passes it), so a number must
# also start like a card of its length. "needs context" marks forms that are common as other numbers
# (12-digit Maestro, UnionPay without Luhn, UATP): they count only next to a card word. Sources: the
# networks' published IIN tables as collected in ISO/IEC 7812 registries (2024).
_SCHEMES: tuple[tuple[str, str, str, tuple[int, ...], bool, bool], ...] = (
    ("visa", "4", "4", (13, 16, 19), True, False),
    ("mastercard", "51", "55", (16,), True, False),
    ("mastercard", "2221", "2720", (16,), True, False),
    ("amex", "34", "34", (15,), True, False),
    ("amex", "37", "37", (15,), True, False),
    ("discover", "6011", "6011", (16, 17, 18, 19), True, False),
    ("discover", "644", "649", (16, 17, 18, 19), True, False),
    ("discover", "65", "65", (16, 17, 18, 19), True, False),
    ("discover", "622126", "622925", (16, 17, 18, 19), True, False),
    ("jcb", "3528", "3589", (16, 17, 18, 19), True, False),
    ("jcb", "1800", "1800", (15,), True, False),  # legacy JCB
    ("jcb", "2131", "2131", (15,), True, False),  # legacy JCB
    ("diners", "300", "305", (14, 15, 16, 17, 18, 19), True, False),
    ("diners", "3095", "3095", (14, 15, 16, 17, 18, 19), True, False),
    ("diners", "36", "36", (14, 15, 16, 17, 18, 19), True, False),
    ("diners", "38", "39", (14, 15, 16, 17, 18, 19), True, False),
    ("mir", "2200", "2204", (16, 17, 18, 19), True, False),
    ("unionpay", "62", "62", (16, 17, 18, 19), True, False),
    ("unionpay", "62", "62", (16, 17, 18, 19), False, True),  # some UnionPay cards carry no Luhn digit
    ("unionpay", "81", "81", (16, 17, 18, 19), True, False),
    ("rupay", "60", "60", (16,), True, False),
    ("rupay", "652", "653", (16,), True, False),
    ("rupay", "508", "508", (16,), True, False),
    ("rupay", "82", "82", (16,), True, False),
    ("maestro", "50", "50", (13, 14, 15, 16, 17, 18, 19), True, False),
    ("maestro", "56", "69", (13, 14, 15, 16, 17, 18, 19), True, False),
    ("maestro", "50", "50", (12,), True, True),
    ("maestro", "56", "69", (12,), True, True),
    ("dankort", "5019", "5019", (16,), True, False),
    ("troy", "9792", "9792", (16,), True, False),
    ("verve", "506099", "506198", (16, 18, 19), True, False),
    ("verve", "650002", "650027", (16, 18, 19), True, False),
    ("uatp", "1", "1", (15,), True, True),
)


def card_scheme(digits: str, *, context: bool = False) -> str | None:
    """The scheme a string of ASCII digits is a valid number of, or None.

    ``context``: a card word ("card", "Karte", "carte", "卡"...) stands near the number, which admits the
    forms that are otherwise too common as other numbers (12-digit Maestro, UnionPay without Luhn)."""
    if not digits.isascii() or not digits.isdigit():
        return None
    n = len(digits)
    luhn: bool | None = None
    for scheme, low, high, lengths, needs_luhn, needs_context in _SCHEMES:
        if n not in lengths or not low <= digits[: len(low)] <= high or (needs_context and not context):
            continue
        if needs_luhn:
            if luhn is None:
                luhn = luhn_valid(digits)
            if not luhn:
                continue
        return scheme
    return None


def issuer_known(digits: str) -> bool:
    """Some scheme issues numbers starting like ``digits`` (any length, Luhn not checked)."""
    return any(low <= digits[: len(low)] <= high for _, low, high, *_ in _SCHEMES)


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of ASCII digits."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_card_number(digits: str, *, context: bool = False) -> bool:
    """A valid number of some card scheme: its IIN range, one of its lengths, Luhn where it has one."""
    return card_scheme(digits, context=context) is not None


def iban_valid(iban: str) -> bool:
    """ISO 13616: known country, the registry's length, and mod 97 of the rearranged number is 1."""
    s = iban.replace(" ", "").upper()
    if len(s) < 5 or not s.isascii() or not s.isalnum():
        return False
    country, check = s[:2], s[2:4]
    if IBAN_LENGTHS.get(country) != len(s) or not check.isdigit():
        return False
    rearranged = s[4:] + s[:4]
    # Letters count as two digits, A=10 .. Z=35; fold the number in chunks to keep ints small.
    remainder = 0
    for ch in rearranged:
        value = int(ch, 36)
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1
