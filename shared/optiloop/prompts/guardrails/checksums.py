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

# Issuer (IIN) ranges of the card networks, as (low, high) over the first digits of the number. Luhn
# alone lets one random 16-digit string in ten through ("2023 2024 2025 2026" passes it); a card must
# also start like one: Visa 4; Mastercard 51-55, 2221-2720; Mir 2200-2204; Amex 34, 37; Diners
# 300-305, 36, 38, 39; JCB 3528-3589; Maestro 50, 56-58; Discover, UnionPay and the rest of 6.
_IIN_RANGES: tuple[tuple[str, str], ...] = (
    ("4", "4"), ("51", "55"), ("2221", "2720"), ("2200", "2204"), ("34", "34"), ("37", "37"),
    ("300", "305"), ("36", "36"), ("38", "39"), ("3528", "3589"), ("50", "50"), ("56", "58"),
    ("6", "6"),
)  # fmt: skip


def issuer_known(digits: str) -> bool:
    return any(low <= digits[: len(low)] <= high for low, high in _IIN_RANGES)


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


def is_card_number(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or not issuer_known(digits):
        return False
    if digits[:2] in ("34", "37") and len(digits) != 15:  # Amex numbers have 15 digits
        return False
    return luhn_valid(digits)


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
