"""Street addresses in free text: a house number next to a street word, in the languages Faker writes.

Why patterns and not spaCy: en_core_web_sm has no address entity (its GPE and FAC are cities and
buildings, which alone identify nobody), so the NER model would add 10 ms a call without finding the
line that does identify someone, "12 rue de la Paix" or "Hauptstraße 5". What makes a street line is
a street *word* (Street, Avenue, Straße, rue, Via, Calle, ul., улица, Sokak …) with a house number
before or after it; a capitalised phrase next to a number without one ("In 1648 Westphalia") is not
taken. Apartment, suite and flat numbers that follow are part of the span, so redaction removes them.
Script-free languages (Chinese, Japanese, Korean addresses) are not covered. An address is one line:
no pattern spans a line break (an MMLU question's options, "square\nB. 12", are no street).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

_CAP = r"[A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁ][\w'’.-]*"  # a capitalised word, Latin or Cyrillic
_CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]"
_SP = r"[^\S\n]"  # white space within a line: an address never spans a line break
_PARTICLE = "de|del|della|di|da|do|dos|das|la|le|les|los|las|van|von|der|den|am|an"
_NAME = rf"{_CAP}(?:{_SP}+(?:{_PARTICLE}|{_CAP})){{0,4}}"
_NUM = r"\d{1,5}(?:[^\S\n]?[A-Za-z](?![\w]))?(?:[^\S\n]?[/-][^\S\n]?\d{1,4}[A-Za-z]?)?"
_UNIT = (
    r"(?:,?[^\S\n]+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Fl\.|#|No\.?|Nr\.?|n[º°o]\.?|Wohnung|bus|app\.|"
    r"Piso|Puerta|Piano|Appartamento|Interno|Scala|Apto\.?|Bloco|Casa)[^\S\n]*\d{1,5}[A-Za-z]?)?"
)
# English street types, Faker's en_* suffixes included (it writes "Hopkins Shoals", "Reed Ports").
_EN_TYPES = (
    "street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|square|sq|"
    "terrace|close|crescent|parkway|pkwy|highway|hwy|circle|cir|trail|trl|alley|row|mews|grove|gardens|"
    "walk|ridge|shoals|springs?|ports?|inlet|mountains?|plains?|islands?|heights|hills?|points?|views?|"
    "villages?|valleys?|vistas?|crossing|junction|loop|pass|pike|plaza|meadows?|mills?|lakes?|knolls?|"
    "harbors?|fields?|falls|estates?|extensions?|expressway|flats?|fords?|forges?|forks?|fort|freeway|"
    "glens?|greens?|groves?|haven|hollow|isle|keys?|landing|locks?|lodge|manor|motorway|oval|park|"
    "parade|path|pines?|prairie|radial|ranch|rapids?|rest|routes?|shore|shores|spur|squares?|station|"
    "stravenue|stream|summit|throughway|trace|track|tunnel|turnpike|underpass|unions?|via|viaducts?|"
    "wall|wells?|cape|camp|canyon|causeway|centers?|cliffs?|club|common|corners?|course|courts|coves?|"
    "creek|crest|curve|dale|dam|divide|drives|burgs?|bypass|bluffs?|bottom|branch|bridge|brooks?|"
    "arcade|bayoo|beach|bend|skyway|lights?|quays?|ronde|orchard|roads|shoal|circles|dales?|"
    "chowk|ganj|nagar|marg|wharf|esplanade|promenade|rise|vale|gate|gateway|yard|end|side|reserve|rue|"
    "cross|approach|towers?|baan|mission|walkway|brace|lees|canale|incrocio|esplanada|"
    # Australia's street types (AS 4590 / Australia Post) not listed above, less the ones that are as
    # often headline nouns after a number ("7 Easy Steps", "3 Quick Wins"): steps, run, turn, top,
    # edge, front, link, range, break, round, reach, ride, access, block, ground ...
    "alleyway|amble|anchorage|artery|basin|brae|broadway|brow|byway|centreway|circlet|circuit|circus|"
    "colonnade|concourse|copse|courtyard|crossroad|crossway|cruiseway|dell|deviation|distributor|"
    "driveway|fairway|firetrail|footway|foreshore|frontage|garden|glade|grange|gully|highroad|"
    "interchange|laneway|lookout|mall|meander|mew|nook|outlook|parklands|pathway|plateau|quadrangle|"
    "quadrant|ramble|retreat|ridgeway|riverway|riviera|roadside|roadway|rotary|siding|strand|subway|"
    "tarn|thoroughfare|tollway|tor|trunkway|villas|wynd|trafficway|"
    # more of AS 4590 and of the US Postal Service's suffixes (C1): seldom a headline noun after a number
    "piazza|elbow|triangle|strip|trailer|quad|neck|fall|mount|ramp|passage|ville|"
    # India: district and locality words written after a name
    "zila|mohalla|colony|enclave|vihar|bagh|puram|pur"
)
_DIGIT = re.compile(r"\d")
_DE_SUFFIXES = (
    "straße|strasse|str.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|steig|pfad|straat|laan|plein|gracht|"
    "kade|singel|dijk|steeg|boulevard|dreef|hof|gatan|vägen|gata|väg|gränd|torget|stigen|backen|vej|gade|"
    "allé|stræde|veien|gaten|veg|baan|pad|markt|wal|straatweg|plantsoen"
)
_ROMANCE = (
    "Calle|C/|Avenida|Avda.|Av.|Plaza|Paseo|Camino|Ronda|Carrer|Rúa|Callejón|Cañada|Urbanización|Via|Viale|"
    "Piazza|Piazzale|Corso|Largo|Vicolo|Contrada|Borgo|Strada|Rua|Travessa|Praça|Alameda|Estrada|Rodovia|"
    "Vila|Passagem|Ladeira|Beco|Quadra|Vereda|Setor|Trecho|Acceso|Vial|Rotonda|Stretto|Campo|Fazenda|"
    "Viaduto|Lugar|Glorieta|Pasaje|Travesía|Sector|Parque|Jardim|Lote|Núcleo|Chácara|Residencial|Conjunto|"
    "Loteamento|Rambla|Pasadizo|Morro|Feira|Pátio|Canale|Incrocio|Esplanada|R.|Av|"
    # Brazil's logradouro types (Correios) and Spanish/Catalan road words not listed above
    "Aeroporto|Área|Condomínio|Distrito|Estação|Favela|Lago|Lagoa|Passarela|Recanto|Sítio|Trevo|Vale|"
    "Colônia|Viela|Carretera|Senda|Cuesta|Bajada|Subida|Vía|Avinguda|Passeig|Plaça|Travessera|C.|Praia"
)
# The words that name a street and nothing else: with one of them a house number is not needed
# ("Avenida Caleb Souza", "Loteamento Barbosa"); "Praça", "Parque", "Via" also name squares and parks.
_ROMANCE_STREET = (
    "Rua|Avenida|Travessa|Alameda|Rodovia|Viela|Loteamento|Calle|Carrer|Avinguda|Rúa|Vila|Jardim|"
    "Residencial|Condomínio|Chácara"
)
_FR = "rue|avenue|av.|boulevard|bd|chemin|place|allée|impasse|route|quai|cours|square|passage|rond-point|voie"
# Without a number only the words English does not write in lower case before a name ("a passage Jane
# Eyre", "the route Portuguese sailors took" are English)
_FR_ONLY = "rue|avenue|av.|boulevard|bd|chemin|allée|impasse|quai|rond-point|voie"
_PL = "ul.|ulica|al.|aleja|pl.|plac|os.|osiedle|ulice|náměstí|nám.|třída"
_TR = "Sokak|Sokağı|Caddesi|Cad.|Cd.|Sk.|Bulvarı|Mahallesi|Mah."
_RU = "ул.|улица|алл.|аллея|пр.|пр-т|проспект|пер.|переулок|ш.|шоссе|наб.|набережная|б-р|бульвар|пл.|площадь"
_OF = r"(?:(?:(?:de|del|della|di|da|do|dos|das|de la|de los|de las|du|des|de l'|d'|l')[^\S\n]*){1,2})"


def _alt(words: str) -> str:
    return "|".join(re.escape(w) for w in words.split("|"))


Gate = Callable[[str, str], bool]  # (text, lower-cased text) -> whether the pattern can match at all


def _words(words: str, *, lower: bool = False) -> Gate:
    """A gate that passes when one of ``words`` occurs (a substring test, C speed): the regexes below
    cost ~0.5 ms each on 2 KB, so each runs only where its street words are present."""
    ws = tuple(w.lower() if lower else w for w in words.split("|"))
    return lambda text, low: any(w in (low if lower else text) for w in ws)


def _digits_and(gate: Gate) -> Gate:
    return lambda text, low: _DIGIT.search(text) is not None and gate(text, low)


def _numbered_and(gate: Gate) -> Gate:
    """A digit or "S/N" (sin número / sem número: no house number) in the text, and ``gate``."""
    return lambda text, low: (_DIGIT.search(text) is not None or "s/n" in low) and gate(text, low)


_ANY_DIGIT: Gate = lambda text, low: _DIGIT.search(text) is not None  # noqa: E731
_NON_ASCII: Gate = lambda text, low: not text.isascii()  # noqa: E731

# (pattern, gate): every pattern is a street word next to a house number, or a script's own form.
_PATTERNS: tuple[tuple[re.Pattern[str], Gate], ...] = (
    # "0487 Hopkins Shoals Apt. 620", "221B Baker Street", "Flat 3, 12 High St", "82/59, Bhatti Chowk"
    (
        re.compile(
            rf"\b(?:(?:Studio|Flat|Apt\.|Unit|Suite|Level|H\.No\.)[^\S\n]*\d{{1,4}}[A-Za-z]?,?[^\S\n]+(?:{_NUM},?[^\S\n]+)?"
            rf"|{_NUM},?[^\S\n]+)(?:{_NAME}|{_CJK}+)[^\S\n]+(?i:{_EN_TYPES})s?\b\.?{_UNIT}"
        ),
        _ANY_DIGIT,
    ),
    # India: a house, flat, plot or door number written before the locality ("H.No. 58, Dutt")
    (
        re.compile(
            rf"\b(?:H\.[^\S\n]?No\.|House No\.?|Flat No\.?|Plot No\.?|Door No\.?)[^\S\n]*\d{{1,5}}"
            rf"[A-Za-z]?(?:/\d{{1,5}})?,?[^\S\n]+{_NAME}"
        ),
        _digits_and(_words("No")),
    ),
    # German, Dutch, Nordic compounds: "Hauptstraße 5", "Kerkstraat 12a", "Storgatan 3", "Sorø Allé 9"
    (
        re.compile(rf"\b{_CAP}(?:[^\S\n]+{_CAP})?[^\S\n]?(?i:{_alt(_DE_SUFFIXES)})[^\S\n]+{_NUM}{_UNIT}"),
        _digits_and(_words(_DE_SUFFIXES, lower=True)),
    ),
    # "Am Markt 5", "An der Kirche 12", "Auf dem Berg 3"
    (
        re.compile(rf"\b(?:Am|An der|Auf dem|Im|In der|Zum|Zur)[^\S\n]+{_CAP}[^\S\n]+{_NUM}\b"),
        _digits_and(_words("Am |An der |Auf dem |Im |In der |Zum |Zur ")),
    ),
    # French, Belgian: "12, rue de la Paix", "5 bis avenue Foch"; and without a number "avenue de Roy",
    # where the street word must be written in lower case as French writes it ("Madison Square
    # Garden" is no French street)
    (
        re.compile(rf"\b\d{{1,4}}(?:[^\S\n]?(?:bis|ter))?,?[^\S\n]+(?i:{_alt(_FR)})[^\S\n]+{_OF}?{_NAME}"),
        _digits_and(_words(_FR, lower=True)),
    ),
    (re.compile(rf"\b(?:{_alt(_FR_ONLY)})[^\S\n]+{_OF}?{_NAME}"), _words(_FR_ONLY)),
    # Spanish, Italian, Portuguese, Catalan: "Calle Mayor 5", "Via Roma, 10", "Praça da Sé, 12"
    (
        re.compile(
            rf"\b(?:{_alt(_ROMANCE)})\.?[^\S\n]+{_OF}?{_NAME},?[^\S\n]+(?:(?:n[º°o]\.?[^\S\n]*)?{_NUM}|[Ss]/[Nn]\b){_UNIT}"
        ),
        _numbered_and(_words(_ROMANCE)),
    ),
    (
        re.compile(rf"\b(?:{_ROMANCE_STREET})[^\S\n]+{_OF}?{_NAME}"),
        _words(_ROMANCE_STREET),
    ),
    # Polish, Czech: "ul. Długa 5/7", "al. Jana Pawła II 12", "Průjezdná 825", "U Štěpu 82"
    (
        re.compile(rf"\b(?i:{_alt(_PL)})[^\S\n]+{_NAME}[^\S\n]+{_NUM}{_UNIT}"),
        _digits_and(_words(_PL, lower=True)),
    ),
    (
        re.compile(
            r"\b(?:[A-ZÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ][a-záčďéěíňóřšťúůýž]+[^\S\n]+)?"
            r"[A-ZÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ][a-záčďéěíňóřšťúůýž]+"
            r"(?:ná|ská|ské|ský|cká|ova|ová|ové|ovo|ní|ká|ého|iho|ího|ých|ích|ách|ů)[^\S\n]+"
            r"(?:(?:Náměstí|Nám\.|Nábřeží|Sady|Třída)[^\S\n]+)?\d{1,4}(?:/\d{1,4}[a-z]?)?\b"
        ),
        _digits_and(_NON_ASCII),
    ),
    (
        re.compile(
            rf"\b(?:U|K|Ke|V|Ve|Pod|Nad|Na|Za|Před|Mezi)[^\S\n]+{_NAME}[^\S\n]+\d{{1,4}}(?:/\d{{1,4}}[a-z]?)?\b"
        ),
        _digits_and(_words("U |K |Ke |V |Ve |Pod |Nad |Na |Za |Před |Mezi ")),
    ),
    # Turkish: "Atatürk Caddesi No: 12", "Gül Sokak 5", "Bağ Sk. No:3"
    (
        re.compile(rf"\b{_NAME}[^\S\n]+(?:{_alt(_TR)})[^\S\n]*(?:No[^\S\n]*:?[^\S\n]*)?{_NUM}"),
        _digits_and(_words(_TR)),
    ),
    # Russian: "ул. Ленина, д. 5", "пр. Мира 12", "улица Пушкина, дом 3"
    (
        re.compile(
            rf"(?i:{_alt(_RU)})[^\S\n]+(?:\d{{1,3}}[^\S\n]+(?:лет[^\S\n]+)?)?[А-ЯЁA-Z][\w.-]*(?:[^\S\n]+[\w.-]+){{0,2}},?[^\S\n]*"
            r"(?:(?:д\.|дом)[^\S\n]*)?\d{1,4}"
            r"(?:[/-]\d{1,4})?(?:,?[^\S\n]*(?:к\.|корп\.|стр\.|кв\.)[^\S\n]*\d{1,4})*"
        ),
        _digits_and(_NON_ASCII),
    ),
    # Chinese, Korean: "张家港路M座", "建国路88号", "대전광역시 동구 반포대길 116". The building or number is
    # required: 路/街/道/里 alone end ordinary words ("知道", "逛街", "在图书馆里"), not addresses
    (
        re.compile(rf"{_CJK}{{1,10}}(?:路|街|道|巷|大道|里)(?:[A-Za-z\d]{{1,4}}座|\d{{1,5}}[号號])"),
        _NON_ASCII,
    ),
    (
        re.compile(
            r"(?:[가-힣]+[^\S\n]+){0,3}[가-힣\d]{1,12}(?:로|길|가|거리)[^\S\n]+(?:지하[^\S\n]?)?\d{1,5}(?:-\d{1,4})?"
            r"(?:[^\S\n]*\([가-힣]+\))?"
        ),
        _digits_and(_NON_ASCII),
    ),
)


# India: "92/829 Bava", "46/40, Varty" — a building or plot number with a slash before the locality,
# no street word. Not a date (12/10, 1/23), a year (3/2024), a score out of a round total ("45/50
# Overall") or a blood pressure ("130/80"): read on MMLU questions.
_SLASH_LOCALITY = re.compile(
    r"(?<![\w/.-])(?!(?:[0-2]?\d|3[01])/(?:0?[1-9]|1[0-2])\b)(\d{1,3})/(?!(?:19|20)\d\d\b)(\d{2,4}),?"
    r"[^\S\n]+[A-Z][a-z]{2,}\b(?![^\S\n]+[A-Z])"
)
_ROUND_TOTALS = frozenset({10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100, 120, 150, 200, 250, 500, 1000})


def _slash_localities(text: str) -> Iterator[tuple[int, int]]:
    if "/" not in text:
        return
    for m in _SLASH_LOCALITY.finditer(text):
        part, total = int(m.group(1)), int(m.group(2))
        if (part <= total and total in _ROUND_TOTALS) or (part <= 31 and total <= 31):
            continue  # a score ("45/50 Overall"), a date either way round ("1/23 Purchase")
        if 70 <= part <= 250 and 40 <= total <= 140 and part > total:
            continue  # a blood pressure ("130/80, Trig")
        yield m.start(), m.end()


def addresses(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each street line in ``text`` (spans of different patterns may overlap; the
    PII resolver keeps one)."""
    low = text.lower()
    for pattern, gate in _PATTERNS:
        if gate(text, low):
            for m in pattern.finditer(text):
                if m.group()[1:2] == "." and m.group()[:1].isupper() and _line_start(text, m.start()):
                    continue  # "C. About 200", "R. 12 …": a list's letter, not Calle or Rua
                yield m.start(), m.end()
    yield from _slash_localities(text)


def _line_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t(":
        i -= 1
    return i < 0 or text[i] == "\n"
