"""PII on ordinary text: names and addresses run on every generate, so a multiple-choice question's
option letters ("D. None of the above", "C. About 200") and the nouns after a person's name ("Truman
Doctrine", "Stone Age") must not be redacted. Cases come from MMLU questions where the detector
reported a name or a street before this was fixed (tests/benchmarks/pii_eval.py --mmlu)."""

from __future__ import annotations

import pytest

from optiloop.prompts.guardrails import find_pii, pii


@pytest.fixture(autouse=True)
def rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules alone (loading spaCy, where the pii-names extra is installed, takes seconds)."""
    monkeypatch.setattr(pii, "_ner", lambda: None)


def spans(text: str) -> list[tuple[str, str]]:
    return [(s.kind, text[s.start : s.end]) for s in find_pii(text, names=True).spans]


@pytest.mark.parametrize(
    "text",
    [
        "Which statement is true?\nA. Both\nB. Neither\nC. All of them\nD. None of the above\nAnswer:",
        "Pick one.\nA. 12\nB. 200\nC. About 200\nD. The rest\nAnswer:",
        "Which is a Roman square\nB. 12 of them\nC. Mass 5 kg\nAnswer:",
        "M.\nD. The Moon's orbit",
        "Cells of the Stone Age and the Truman Doctrine were discussed in North America.",
        "Ramsay Hunt Syndrome is rare in Sri Lanka and Costa Rica.",
        "Sehr geehrte Damen und Herren, das Frau Bett ist neu.",
    ],
)
def test_ordinary_text_has_no_pii(text: str) -> None:
    assert spans(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Le dossier est chez M. Dupont depuis lundi.", "M. Dupont"),
        ("El expediente lo firma D. José García.", "D. José García"),
        ("Dr. Harold Hanson will see you now.", "Dr. Harold Hanson"),
        ("The role went to Jude Law in the end.", "Jude Law"),
    ],
)
def test_titles_and_names_still_found(text: str, name: str) -> None:
    assert ("name", name) in spans(text)


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("You can reach Ana at 935847886 after six.", "935847886"),  # pt-PT mobile, English text
        ("For access, contact Ravi on 6541217862.", "6541217862"),  # Indian mobile
        ("Ana (8 (477) 055-07-24) asked for a callback.", "8 (477) 055-07-24"),  # area code in brackets
        ("The front desk number changed to 841 9 714 last week.", "841 9 714"),  # a local number
        ("Tel. +1-290-336-0761 Western rise create president.", "+1-290-336-0761"),  # beats the street
    ],
)
def test_phones_with_a_hint_word(text: str, phone: str) -> None:
    assert ("phone", phone) in spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "Reach level 96 with 5217246 points.",
        "Our contact centre handled 7656820 calls in 2025.",
        "WhatsApp has 2 611 450 474 users.",
        "Ring size 9, order 840208690.",
        "Calls to the API: 167765057 this month, 1834320 errors.",
        "Contact support with case 12345678 in the subject.",
    ],
)
def test_counts_and_ids_next_to_phone_words_are_no_phones(text: str) -> None:
    assert [k for k, _ in spans(text) if k == "phone"] == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Please forward this to Ishanvi Ramachandran.", "Ishanvi Ramachandran"),  # a 3-4 source name
        ("The minutes were taken by Kalpit Bakshi.", "Kalpit Bakshi"),  # an Indian family name
        ("Hız için Aksöğüt Zengin dün geldi.", "Aksöğüt Zengin"),  # a Turkish word as a surname
        ("Stærk kort: taken by Prof. Karla Lassen.", "Prof. Karla Lassen"),  # German word, Danish text
        ("I spoke with Miss June Cook yesterday.", "Miss June Cook"),  # a month as a given name
        ("Please forward this to Dra. Larissa Sá.", "Dra. Larissa Sá"),  # "Sá" is no firm's "SA"
        ("The minutes were taken by Yrd. Doç. Üge Sevgen.", "Yrd. Doç. Üge Sevgen"),
    ],
)
def test_names_of_round_four(text: str, name: str) -> None:
    assert ("name", name) in spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "They said that Magna Carta and the Peace Corps were discussed.",  # other languages' words
        "The company Bay Co closed.",
        "Reach the route Portuguese sailors took; read a passage Twice Aloud.",
    ],
)
def test_phrases_that_are_no_persons_or_streets(text: str) -> None:
    assert [k for k, _ in spans(text) if k in ("name", "address")] == []


def test_invisible_characters_do_not_hide_pii_and_spans_point_into_the_text_as_given() -> None:
    text = "Mail ann\u200ba@exam\u200bple.org or call 020\u00ad7946\u200b0958 today."
    assert spans(text) == [("email", "ann\u200ba@exam\u200bple.org"), ("phone", "020\u00ad7946\u200b0958")]
    assert pii.redact(text) == "Mail [EMAIL] or call [PHONE] today."


@pytest.mark.parametrize(
    "text",
    [
        "\u200b".join("Call Anna Nowak on +44 20 7946 0958 " * 3000)[:200_000],  # zero-width
        ("Cаll Аnnа Nоwаk оn 020 7946 0958, rеаch hеr аt 935847886. " * 3500)[:200_000],  # homoglyphs
        ("Привет Anna Nowak 世界 张伟先生 01 23 45 67 89 김민준 씨 " * 5000)[:200_000],  # mixed scripts
        ("reach me at 935847886, contact: 841 9 714 " * 5000)[:200_000],  # the phone hints, dense
        ("A. Both\nB. The\nC. About 200\nD. None\n" * 6000)[:200_000],  # option letters
    ],
)
def test_200_kb_of_odd_input_is_scanned_in_bounded_time(text: str) -> None:
    import time

    t0 = time.thread_time()
    find_pii(text, names=True)
    assert time.thread_time() - t0 < 6.0  # CPU seconds (~1 s here): linear, no backtracking


def test_the_model_reads_the_first_part_of_a_long_text_and_the_scan_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[int] = []

    class Doc:
        ents: tuple[object, ...] = ()

    def fake_model(text: str) -> Doc:
        seen.append(len(text))
        return Doc()

    monkeypatch.setattr(pii, "_ner", lambda: fake_model)
    short = find_pii("Anna Nowak called.", names=True)
    assert short.names_checked and short.warnings == ()
    long = find_pii("Anna Nowak called. " * 2000, names=True)
    assert seen == [18, pii.NER_MAX_CHARS]
    assert not long.names_checked and long.warnings == (pii.WARN_NAMES_LONG,)
    assert ("name", "Anna Nowak") in [
        (s.kind, ("Anna Nowak called. " * 2000)[s.start : s.end]) for s in long.spans
    ]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Ship to 92/829 Bava today.", "92/829 Bava"),  # an Indian plot number and locality
        ("Ship to 10/38, Mukherjee today.", "10/38, Mukherjee"),
        ("Adresa: V Hájkách 989, Praha.", "V Hájkách 989"),
        ("Poslat na Žofie Podlipské 2 do pátku.", "Žofie Podlipské 2"),
        ("Poslat na Lumiérů 46 do pátku.", "Lumiérů 46"),
    ],
)
def test_street_forms_of_round_four(text: str, address: str) -> None:
    assert ("address", address) in spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "He scored 45/50 Overall.",
        "Open 24/7 Support.",
        "On 1/23 Purchase orders were due.",
        "BP 130/80, Trig 150 mg/dL.",
        "In 3/2024 Budget cuts began.",
    ],
)
def test_scores_dates_and_blood_pressures_are_no_streets(text: str) -> None:
    assert [k for k, _ in spans(text) if k == "address"] == []


def test_a_popular_given_name_takes_another_languages_word_as_surname_in_english_text() -> None:
    assert ("name", "Sarah Porto") in spans("The minutes were taken by Sarah Porto.")
    assert ("name", "Joey Bos") in spans("I spoke with Joey Bos yesterday.")
    assert [k for k, _ in spans("They said that Magna Carta was signed.") if k == "name"] == []
