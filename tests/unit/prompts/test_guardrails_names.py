"""PII names found without a model (names.py) and the street forms added for issue 14.

The name rules run alone here (spaCy's part is switched off with ``_ner``), so the cases hold with or
without the ``pii-names`` extra. Texts are written the way people write them, in several languages;
the negatives are capitalised prose with places, firms and days but no person.
"""

from __future__ import annotations

import time

import pytest

from optiloop.prompts.guardrails import find_pii, pii, redact
from optiloop.prompts.guardrails.names import fold, given_names, names
from optiloop.prompts.guardrails.pii import WARN_NAMES_NO_MODEL, WARN_NAMES_OFF


@pytest.fixture
def rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pii, "_ner", lambda: None)


def found_names(text: str) -> list[str]:
    return [text[s.start : s.end] for s in find_pii(text, names=True).spans if s.kind == "name"]


@pytest.mark.usefixtures("rules_only")
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Please send the contract to Jenna van Wijland before Friday.", "Jenna van Wijland"),
        ("Herr Karl-August Hering MBA will call you back.", "Herr Karl-August Hering MBA"),
        ("Sehr geehrte Frau Müller, vielen Dank für Ihre Nachricht.", "Frau Müller"),
        ("Le dossier est suivi par Mme Françoise de la Parent.", "Mme Françoise de la Parent"),
        ("Proszę o kontakt: pani Apolonia Burzawa.", "pani Apolonia Burzawa"),
        ("Yrd. Doç. Lâle Akgündüz Sakarya will attend.", "Yrd. Doç. Lâle Akgündüz Sakarya"),
        ("Отчёт подготовил Гущин Фома Ильясович.", "Гущин Фома Ильясович"),
        ("Yesterday Ondřej Šmíd approved the budget.", "Ondřej Šmíd"),
        ("I spoke with Adelina Tamara Moliner Ojeda about the invoice.", "Adelina Tamara Moliner Ojeda"),
        ("Dear Anna Kowalski, thank you for your order.", "Anna Kowalski"),
        ("President Joe Biden met the press.", "President Joe Biden"),
        ("Please forward this to 黄秀梅 today.", "黄秀梅"),
        ("张伟先生明天到。", "张伟"),
        ("山田太郎さんから連絡がありました。", "山田太郎"),
        ("中川 和也 will join the call on Monday.", "中川 和也"),
        ("김민준 씨가 내일 옵니다.", "김민준"),
        ("Please forward this to 박지우.", "박지우"),
        ("The report was checked by Hans-Heinrich Möchlichen and nobody else.", "Hans-Heinrich Möchlichen"),
        ("Please forward this to Valerie Hall.", "Valerie Hall"),
    ],
)
def test_names_are_found_without_a_model(text: str, name: str) -> None:
    assert found_names(text) == [name]


@pytest.mark.usefixtures("rules_only")
@pytest.mark.parametrize(
    "text",
    [
        "We flew from New York to Los Angeles with United Airlines on Tuesday.",
        "The Golden Gate Bridge faces the Pacific Ocean.",
        "Grace Period Extension applies to all Premium Accounts.",
        "Will Microsoft ship it? May I ask?",
        "Happy New Year from the Customer Success Team!",
        "Victoria Station is closed; take the Jubilee Line to Canary Wharf.",
        "Die Deutsche Bahn hat den Fahrplan für Frankfurt am Main geändert.",
        "La Banque de France publie ses prévisions.",
        "我们在北京和上海都有办公室。",
        "서울과 부산에 사무소가 있습니다.",
        "Install version 10.0.19041.1 before Monday.",
        "Tickets for the Albert Hall and Carnegie Hall sold out.",
        "Flights from San Diego to Santa Monica are cancelled.",
    ],
)
def test_capitalised_prose_without_a_person_has_no_name(text: str) -> None:
    assert found_names(text) == []


@pytest.mark.usefixtures("rules_only")
def test_without_a_model_names_come_from_the_rules_and_the_scan_says_so() -> None:
    scan = find_pii("Please forward this to Jenna van Wijland.", names=True)
    assert scan.warnings == (WARN_NAMES_NO_MODEL,) and not scan.names_checked
    assert "partly" in WARN_NAMES_NO_MODEL and "pii-names" in WARN_NAMES_NO_MODEL
    assert redact("Please forward this to Jenna van Wijland.", names=True) == "Please forward this to [NAME]."
    off = find_pii("Please forward this to Jenna van Wijland.")
    assert off.spans == () and off.warnings == (WARN_NAMES_OFF,)


def test_the_given_name_list_ships_with_its_marks() -> None:
    given, common, no_surname = given_names()
    assert len(given) > 40_000
    assert {"anna", "jenna", "kristian", "alina", "taichi"} <= given
    assert {"will", "may", "new"} <= common  # names that are very frequent words need a title or cue
    assert "period" in no_surname and "anna" not in no_surname
    assert (fold("Łucja"), fold("Zoë"), fold("Алина"), fold("Müller")) == ("lucja", "zoe", "alina", "muller")


def test_names_stay_linear_on_long_capitalised_input() -> None:
    text = "Anna Maria Nowak and Jenna van Wijland met Herr Dr. Karl Hering in New York. " * 2600  # 200 KB
    t0 = time.perf_counter()
    spans = list(names(text))
    assert len(spans) >= 2600 * 3
    assert time.perf_counter() - t0 < 20  # ~1 s alone; generous for a loaded machine


@pytest.mark.usefixtures("rules_only")
@pytest.mark.parametrize(
    "unit", ["张伟先生", "山田太郎さん、", "Dr. Mr. Herr ", "김민준 씨 ", "Rua Avenida Calle "]
)
def test_200_kb_of_dense_name_forms_is_scanned_in_bounded_time(unit: str) -> None:
    text = (unit * (200_000 // len(unit) + 1))[:200_000]
    t0 = time.perf_counter()
    find_pii(text, names=True)
    assert time.perf_counter() - t0 < 30  # ~1 s each alone; generous for a loaded machine


@pytest.mark.parametrize(
    "address",
    [
        "Isabaan 2",
        "Praça Borges, S/N",
        "Viela Castro, 22",
        "85 Steven Roadway",
        "9/389 Daniel Thoroughfare",
        "K Dálnici 9",
        "77, Chandra Zila",
        "ул. 8 Марта, д. 3/6",
        "Višňová 9",
        "Avenida Caleb Souza",
    ],
)
def test_street_forms_added_for_issue_14(address: str) -> None:
    text = f"Please ship the parcel to {address} before Friday."
    spans = [(s.kind, text[s.start : s.end]) for s in find_pii(text).spans]
    assert spans == [("address", address)]


@pytest.mark.parametrize(
    "text",
    [
        "Read these 7 Easy Steps to better sleep.",
        "Top 10 Garden Ideas for small balconies.",
        "Version 2 Roadmap is due in May.",
    ],
)
def test_headline_numbers_are_not_streets(text: str) -> None:
    assert [s.kind for s in find_pii(text).spans] == []


def test_an_ean_is_not_a_card() -> None:
    # 4751484975416 passes Luhn and starts with 4 (a 13-digit Visa), but the label says article number
    assert find_pii("EAN 4751484975416 on the label").spans == ()
    assert [s.kind for s in find_pii("card 4751484975416, please").spans] == ["card"]
