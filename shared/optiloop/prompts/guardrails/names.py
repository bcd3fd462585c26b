"""Person names without a statistical model: a given-name list, the shape of a name, and cues.

Why not only spaCy: its small English model (the ``pii-names`` extra) finds Latin-script names in
English sentences and misses the rest — Cyrillic, Chinese, Japanese and Korean names, names with
particles ("Jenna van Wijland"), titles ("pani Apolonia Burzawa") — and it costs ~10 ms a call. What
marks a name in any of the 20 languages we test is cheaper to check:

* a **given name** from a list (``given_names.txt.gz``: the 56,073 names that at least five of the
  ``nomquamgender`` package's sources list, MIT; rebuilt by tests/benchmarks/build_given_names.py)
  followed by a capitalised word, particles allowed between ("de la", "van der", "dos");
* a **title** before capitalised words (Mr, Frau, Mme, Sr., Sig.ra, pani, Dhr., Bay, Ing., г-н …),
  or a role ("President", "Professor");
* a **cue**: a greeting or a label ("Dear", "Sehr geehrte", "Name:", "Attn:", "Estimada", "Sayın");
* a Russian **patronymic** (-ович, -овна, -ична …) among capitalised Cyrillic words, and two or more
  capitalised words with a letter only Turkish writes (ğ, ı, ş, İ);
* a **family name** of the Turkish and Indian lists (ayikla, indian-names; "^" lines) or a given
  name that only 3-4 sources list ("+" lines) before or after a capitalised word that is no frequent
  word of any language read ("Ishanvi Ramachandran", "Gülcegün Akçay");
* a Chinese, Japanese or Korean name: a common **family name** (census rankings, our own tables)
  starting two to four Han or Hangul characters that stand as an island in Latin-script text, a
  Japanese "family given" pair written with a space, or a name before an honorific (先生, さん, 씨).

What keeps capitalised prose from turning into names: a given name that is also one of a language's
300 most frequent words ("Will", "May", "New"; marked "~" in the list from wordfreq, CC BY-SA 4.0)
needs a title or a cue, or must stand mid-sentence before a surname-like word and not be one of the
words that start place names ("New", "Los", "Die"); a frequent word that is no common family name
("-" lines: "Period", "Music") or a place or firm word (Street, Bank, University, Falls, Monday …)
after the given name, an article right before it ("the Jubilee Line"), a place word first ("Santa",
"Monte", "St") or the middle of a longer capitalised phrase ("Happy New Year") makes it no person.
Faker's own name lists are *not* used: Faker makes the evaluation texts.

Not covered (said in docs/prompts.md): Chinese, Japanese and Korean names inside running text of the
same script without an honorific or label (there is no word boundary to stand on), a given name
that no list holds next to a surname no list holds (a fifth of Faker's Indian and Turkish names:
"Chaitaly Jaggi"), one-word names, and surnames frequent in news but not in the 1990 US census
("Obama" reads as a word).
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --- folding: how the list writes names (lower case, ASCII, Cyrillic transliterated) --------------
_FOLD = str.maketrans(
    {"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
     "đ": "d", "Đ": "d", "ı": "i", "ð": "d", "þ": "th", "’": "'"}
)  # fmt: skip
_CYRILLIC = str.maketrans(
    {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
     "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
     "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
     "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g"}
)  # fmt: skip


def fold(word: str) -> str:
    """``word`` as the given-name list writes it: "Zoë" -> "zoe", "Łucja" -> "lucja", "Алина" -> "alina"."""
    w = word.translate(_FOLD).lower().translate(_CYRILLIC)
    if w.isascii():
        return w
    return "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c))


@dataclass(frozen=True)
class NameLists:
    """The shipped lists, read once (~0.1 s, a few MB)."""

    given: frozenset[str]
    common: frozenset[str]  # given names that are also very frequent words ("~")
    english: frozenset[str]  # frequent English words that are no given or family name ("-")
    other: frozenset[str]  # the same for the other languages read ("=")
    family: frozenset[str]  # Turkish and Indian family names ("^")
    weak: frozenset[str]  # given names only 3-4 sources list ("+")
    popular: frozenset[str]  # given names 5,000+ people bear ("*"), also in ``given``


@lru_cache(maxsize=1)
def name_lists() -> NameLists:
    raw = resources.files("optiloop.prompts.guardrails").joinpath("given_names.txt.gz").read_bytes()
    sets: dict[str, set[str]] = {m: set() for m in ("", "~", "-", "=", "^", "+", "*")}
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        mark = line[0] if line[0] in "~-=^+*" else ""
        sets[mark].add(line[len(mark) :])
    sets[""] |= sets["~"] | sets["*"]
    return NameLists(*(frozenset(sets[m]) for m in ("", "~", "-", "=", "^", "+", "*")))


def given_names() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(given names, given names that are also frequent words, frequent words that are no given or
    family name in any language read)."""
    lists = name_lists()
    return lists.given, lists.common, lists.english | lists.other


def _is_given(word: str) -> tuple[bool, bool]:
    """(in the list, also a frequent word); "й" is tried as "y" and as "i" (Andrey / Andrei), and a
    hyphenated name by its first part ("Bernd-Dieter", "Pénélope-Zoé")."""
    lists = name_lists()
    names, common = lists.given, lists.common
    f = fold(word)
    if f not in names and "й" in word.lower():
        f = fold(word.lower().replace("й", "и"))
    if f not in names and "-" in f:
        f = f.split("-")[0]
    return f in names, f in common


def _no_surname(word: str, *, english_only: bool = False) -> bool:
    """A frequent word that is neither a given nor a family name: "Period", "Street" after a name.
    ``english_only``: after a sure given name or a particle, only an English word ends the name —
    the other languages' frequent words hold their own surnames ("de Groot", "Lassen", "Dostál",
    "Porto"), while "Grace Period" and "Apple Music" stay no persons."""
    lists = name_lists()
    return fold(word) in lists.english or (not english_only and word.lower() in lists.other)


def _family(word: str) -> bool:
    """A Turkish or Indian family name of the list ("Akçay", "Ramachandran")."""
    return fold(word) in name_lists().family


def _not_name(word: str) -> bool:
    """A place, firm or day word (compared in lower case with its accents: "Sá" is a surname, "SA" a
    firm's suffix; "Strasse" matches "straße")."""
    return word.lower() in _NOT_NAME_ANY


# --- Latin and Cyrillic script -----------------------------------------------------------------------
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+|-[^\W\d_]+)*")
# Honorifics and academic titles, as written before a name (a closed class in each language).
_TITLE_WORDS = (
    r"Mrs|Mr|Ms|Miss|Mx|Dra|Drs|Dr|Prof|Sir|Dame|Lady|Lord|Rev|Fr|Capt|Col|Gen|Sgt|Hon|"
    r"Herr|Frau|Fräulein|Dipl\.-Ing|Dipl\.-Kfm|Univ\.Prof|Mag|Hr|Fru|Frk|"
    r"Mmes|Mme|Mlle|MM|Me|M|Pr|"
    r"Srta|Sra|Sres|Sr|Dña|Dª|Doña|Don|D|"
    r"Sig\.ra|Sig\.na|Sigg|Sig|Dott\.ssa|Dott|Avv|Ing\.arch|Ing|Arch|Geom|Rag|"
    r"Dhr|Mevr|Mw|Ir|Drs|"
    r"[Pp]anna|[Pp]ani|[Pp]aní|[Pp]an|"
    r"Bayan|Bay|Sayın|Doç|Yrd|Öğr|Gör|Av|Uzm|Uz|Op|Okt|"
    r"Mgr|Bc|MUDr|JUDr|PhDr|RNDr|MVDr|"
    r"Shri|Smt|Sri|Kumari|Km|"
    r"г-н|г-жа|господин|госпожа|тов"
)
_NEEDS_DOT = frozenset(
    {"M", "D", "Op", "Km", "Av", "Pr", "Okt", "Uz"}
)  # one or two letters: a title only with "."
# Spaces only (no line break) inside and after the chain: "M.\nD. The" is two list labels, no title.
_TITLE_CHAIN = re.compile(
    rf"(?<![\w.-])(?:(?:{_TITLE_WORDS})(?:\.|(?=[ \t\u00a0]))[ \t\u00a0]*){{1,3}}(?=\S)"
)
_SUFFIX = re.compile(
    r",?\s+(?:Jr|Sr|II|III|IV|PhD|Ph\.D|MD|M\.D|MBA|MSc|M\.Sc|BSc|B\.Sc|B\.A|M\.A|BA|MA|B\.Eng|M\.Eng|"
    r"DDS|DVM|Esq|CPA|LL\.M|LL\.B|Dipl\.-Ing|MdB|DiS|CSc|DrSc)\.?(?![\w])"
)
_PARTICLES = _set(
    "de da do dos das del della delle dei di du des la le lo van von der den ter ten te zu af av "
    "het y e i bin binti ibn al el dal degli"
)
# Capitalised words that end a name: what follows a given name in a place, a firm, a day or a title,
# and the nouns that name an era, a doctrine or a syndrome after a person's name ("Truman Doctrine",
# "Stone Age", "Ramsay Hunt Syndrome"; checked on MMLU questions, where names run on every generate).
_NOT_NAME = _set(
    """street road avenue lane drive boulevard square station airport university college school academy
    hospital clinic bank hotel company corporation corp inc ltd llc plc gmbh ag sa srl bv ab oy as
    group foundation institute society association agency ministry department council committee
    river lake mountain mount bridge tower center centre museum church cathedral temple gallery library
    stadium arena theatre theater hall house court palace castle airport port harbour harbor valley
    island islands agreement act treaty day days week monday tuesday wednesday thursday friday saturday
    sunday january february march april june july august september october november december
    city county state states republic kingdom empire union times post news journal review magazine
    award prize cup league championship festival conference summit protocol project program programme
    platform studio studios records media network systems technologies software labs capital partners
    holdings ventures airlines airways railway railways express motors pharma foods energy
    straße strasse platz weg allee gasse stadt universität bahnhof rue place gare université
    calle plaza avenida universidad via piazza università rua praça universidade straat plein
    ulica plac uniwersytet gatan vägen gade vej sokak sokağı caddesi mahallesi bulvarı meydanı
    üniversitesi bankası belediyesi havalimanı hastanesi köprüsü camii sarayı müzesi parkı şirketi
    bakanlığı holding beach bay coast canyon falls junction wharf gardens garden heights
    co america americas africa asia europe germany lanka age era dynasty doctrine syndrome disease
    disorder effect theorem principle equation charter revolution rebellion movement reformation
    renaissance enlightenment liberation industrialization buddhism islam christianity catholicism
    damen herren ladies gentlemen"""
)
_NOT_NAME_ANY = _NOT_NAME | frozenset(fold(w) for w in _NOT_NAME)  # "strasse" for "straße"
_CUE = re.compile(
    r"(?i:(?:\b(?:name|full name|contact(?: person)?|attn|attention|from|to|cc|bcc|signed(?: by)?|"
    r"author|patient|client|customer|applicant|employee|nome|nombre|nom|imię i nazwisko|imię|namn|navn|"
    r"naam|isim|ad soyad|jméno|ansprechpartner(?:in)?|kontakt|contacto|contatto|contato|"
    r"имя|фио|контакт)\s*:)"
    r"|\b(?:dear|hi|hello|hey|greetings|regards|sincerely|thanks|cheers|yours|sehr geehrte[rs]?|"
    r"liebe[rs]?|hallo|cher|chère|bonjour|estimad[oa]s?|querid[oa]s?|hola|gentile|egregi[oa]|car[oa]|"
    r"ciao|beste|geachte|prezad[oa]|drog[ia]|szanown[ay]|hej|kære|sayın|sevgili|vážen[ýá]|mil[ýá]|"
    r"уважаем(?:ый|ая)|дорог(?:ой|ая)|здравствуйте)\b[,:]?)\s*$"
)
# Place words that are common family names too: "Valerie Hall" is a person, "Carnegie Hall" is not
# (Carnegie is no given name), "the Albert Hall" is not (article).
_SURNAME_TOO = _set("hall church house castle day bridges banks rivers lane law")
# First words of place names that are also given names ("Santa", "Monte", "Sankt", "North", "Costa").
_PLACE_WORDS = _set(
    "san santa santo sao saint sainte st ste monte mont port porto puerto fort sankt rio costa "
    "north south east west northern southern eastern western central"
)
# Frequent words that start place and firm names far more often than they are a person's given name.
_STRICT = _set(
    "new old great grand little big upper lower north south east west central royal united los las el "
    "la le les die der den das de del di da do van von the and or for with will may can bad"
)
# Verbs and words that open a sentence before a name and are given names too ("Ask" is one).
_OPENERS = _set("ask tell call email mail send let meet invite thank thanks ping cc please kindly")
# Roles written before a name like a title: "President Joe Biden", "Kanzlerin Angela Merkel".
_ROLES = _set(
    """president minister professor doctor senator judge captain chancellor director manager coach agent
    officer inspector detective father sister brother mother uncle aunt governor mayor ambassador
    praesident prasident ministerin kanzler kanzlerin bundeskanzler direktor direktorin president
    presidente ministro professore professoressa profesor profesora professora prezes dyrektor
    burgemeester minister"""
)
# An article right before capitalised words: "the Pacific Ocean", "der Siemens AG", "de Porto Alegre".
_ARTICLES = _set(
    "the a an our their der die das dem den des ein eine einer le la les un une du au aux il lo gli el "
    "los las una o os as um uma het een de"
)
_ARTICLE_BEFORE = re.compile(rf"(?:^|[\s(])(?:{'|'.join(sorted(_ARTICLES))}|l'|van|naar|na|w|ve)\s$")
_PATRONYMIC = re.compile(r"(?:ович|евич|ьич|ична|овна|евна|инична)$")
_CYRILLIC_WORD = re.compile(r"[А-ЯЁа-яё]")
_TURKISH = frozenset("ğışĞŞİ")  # letters only Turkish writes (ç, ö, ü are shared with other languages)
_SENTENCE_END = ".!?:;\"'«»“”„(\n[•*–—-"


def _capitalised(word: str) -> bool:
    """A capitalised word of two letters or more, not an acronym ("I", "NASA" are no name parts)."""
    return len(word) >= 2 and word[0].isupper() and not (len(word) > 2 and word.isupper())


def _sentence_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\u00a0":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _titles(text: str) -> dict[int, int]:
    """End of each title chain ("Dr. ", "Yrd. Doç. ", "pani ") -> its start."""
    out: dict[int, int] = {}
    for m in _TITLE_CHAIN.finditer(text):
        word = m.group().split(".")[0].split()[0]
        if word in _NEEDS_DOT and not m.group().startswith(word + "."):
            continue
        if len(word) == 1 and _line_start(text, m.start()):
            continue  # "D. None of the above", "M. If ...": an option's letter, not Don or Monsieur
        out[m.end()] = m.start()
    return out


def _line_start(text: str, start: int) -> bool:
    """Nothing but spaces, or an opening bracket, between the last line break and ``start``."""
    i = start - 1
    while i >= 0 and text[i] in " \t\u00a0(":
        i -= 1
    return i < 0 or text[i] == "\n"


def _runs(text: str) -> Iterator[list[tuple[int, int]]]:
    """Maximal runs of capitalised words (and the particles between them) joined by single spaces."""
    run: list[tuple[int, int]] = []
    for m in _WORD.finditer(text):
        s, e = m.span()
        word = m.group()
        joined = bool(run) and text[run[-1][1] : s] in (" ", "\u00a0")
        if not joined:
            if run:
                yield run
            run = []
        if _capitalised(word) or (run and word in _PARTICLES):
            run.append((s, e))
        else:
            if run:
                yield run
            run = []
    if run:
        yield run


def _latin_names(text: str) -> Iterator[tuple[int, int, float]]:
    titles = _titles(text)
    ascii_text = text.isascii()
    popular = name_lists().popular
    title_starts = set(titles.values())
    for run in _runs(text):
        words = [text[s:e] for s, e in run]
        i = 0
        while i < len(run):
            if not _capitalised(words[i]) or fold(words[i]) in _PLACE_WORDS:
                i += 1  # "Santa Monica", "St Kilda", "Monte Carlo": places named like people
                continue
            if i == 0 and fold(words[0]) in _OPENERS and _sentence_start(text, run[0][0]):
                i += 1  # "Ask Bent Andersen ...": a verb that opens the sentence, not a given name
                continue
            start = run[i][0]
            title_start = titles.get(start)
            if i > 0 and title_start is None and fold(words[i - 1]) in _ROLES:
                title_start = run[i - 1][0]  # "President Joe Biden", "Professor Anna Nowak"
            # a given name that is also a place or day word keeps its title only before a surname
            # ("Miss June Cook", not "Bay Co")
            given_first = _is_given(words[i])[0] and i + 1 < len(run) and _capitalised(words[i + 1])
            # a frequent word of another language counts only as written ("Bett"), not as folded
            # ("Üge" is a Turkish name, "uge" a Danish word); "Frau Bett", "Dr. The" name nobody
            if (
                title_start is not None
                and not given_first
                and (_not_name(words[i]) or _no_surname(words[i], english_only=not words[i].isascii()))
            ):
                title_start = None
            if i > 0 and title_start is None and not _sentence_opener(text, run, words, i):
                i += 1  # inside a longer capitalised phrase: "Happy New Year", "The Golden Gate Bridge"
                continue
            # The name's words: capitalised ones up to a word that ends a name, particles between.
            j, caps, institution = i, 0, False
            first = _is_given(words[i])
            sure_given = (first[0] and (not first[1] or title_start is not None)) or any(
                ch in _TURKISH for ch in words[i]
            )
            while j < len(run) and caps < 4:
                w = words[j]
                if _capitalised(w):
                    if caps > 0 and run[j][0] in title_starts:
                        break  # "Ask Sig. Salvi Nonis": a title starts the next name
                    surname_too = caps == 1 and fold(w) in _SURNAME_TOO and j + 1 == len(run)
                    titled_given = caps == 0 and title_start is not None  # "Miss June Cook"
                    # after a particle, or after a sure given name in a text that is not plain ASCII
                    # or one 5,000+ people bear ("Sarah Porto"; "Magna Carta", "Peace Corps" stay
                    # phrases), another language's frequent word is a surname ("Karla Lassen")
                    sure = j > i and (
                        words[j - 1] in _PARTICLES
                        or (caps == 1 and sure_given and (not ascii_text or fold(words[i]) in popular))
                    )
                    if (_not_name(w) and not surname_too and not titled_given) or (
                        caps > 0 and _no_surname(w, english_only=sure)
                    ):
                        institution = True  # "Sydney Opera House", "Grace Period", "Frau Bett"
                        break
                    caps += 1
                elif not (j + 1 < len(run) and (words[j + 1] in _PARTICLES or _capitalised(words[j + 1]))):
                    break
                j += 1
            while j > i and not _capitalised(words[j - 1]):
                j -= 1  # a particle never ends a name
            titled = title_start is not None
            if institution or (not titled and _after_article(text, start) and not _cue(text, start)):
                i = max(j, i + 1)
                continue
            score = _score(text, words[i:j], start, caps, titled)
            if score == 0.0:
                i += 1
                continue
            s = title_start if title_start is not None else start
            e = run[j - 1][1]
            suffix = _SUFFIX.match(text, e)
            yield s, (suffix.end() if suffix else e), score
            i = j


def _sentence_opener(text: str, run: list[tuple[int, int]], words: list[str], i: int) -> bool:
    """Whether the one capitalised word before position ``i`` of the run is only capitalised because it
    opens a sentence ("Yesterday Anna Nowak ...", "Ask Anna Nowak ..."), and is not an article."""
    return i == 1 and _sentence_start(text, run[0][0]) and fold(words[0]) not in _ARTICLES


def _cue(text: str, start: int) -> bool:
    """A greeting or a label right before ``start`` (a regex over 40 characters: asked only when
    nothing cheaper has decided)."""
    return _CUE.search(text, max(0, start - 40), start) is not None


def _after_article(text: str, start: int) -> bool:
    return _ARTICLE_BEFORE.search(text, max(0, start - 8), start) is not None


def _score(text: str, words: list[str], start: int, caps: int, titled: bool) -> float:
    """How sure the words ``words`` (starting at ``start``) are a person's name; 0 when not."""
    if caps == 0:
        return 0.0
    if titled:
        return 0.9
    if _CYRILLIC_WORD.match(words[0]) and caps >= 2 and any(_PATRONYMIC.search(w) for w in words):
        return 0.9
    given, common = _is_given(words[0])
    if caps >= 2 and given and not common:
        return 0.85
    if caps >= 2 and given and _loose_common(text, start, words):
        return 0.75  # "Bo Nilsson", "Hans-Heinrich Möchlichen" in mid-sentence
    if caps >= 2 and _CYRILLIC_WORD.match(words[0]) and _is_given(words[1])[0]:
        return 0.8  # surname first: "Гущин Фома"
    if (caps >= 2 or (given and not common)) and _cue(text, start):
        return 0.8
    if caps >= 2 and any(ch in _TURKISH for w in words for ch in w):
        return 0.7  # "Servinaz Durmuş", "Akatay Öcalan": Turkish given names are an open class
    if caps >= 2 and (_family(words[-1]) or _weak_given(words[0])) and _unknown_first(words[0]):
        return 0.7  # "Ishanvi Ramachandran", "Gülcegün Zengin Akçay": a family name of the list after
        # a word that is no frequent word of any language read
    return 0.0


def _weak_given(word: str) -> bool:
    """A given name that only 3-4 of the list's sources hold ("Ishanvi", "Shravya", "Öncel")."""
    return len(word) >= 3 and fold(word) in name_lists().weak


def _unknown_first(word: str) -> bool:
    """A first word that may be a given name no list holds: no frequent word, no place or firm word,
    no article, no word that starts place names."""
    f = fold(word)
    return not (_no_surname(word) or _not_name(word) or _is_given(word)[1] or f in _STRICT or f in _ARTICLES)


def _loose_common(text: str, start: int, words: list[str]) -> bool:
    """Whether a given name that is also a very frequent word ("Bo", "Hans", "Anders", "Kai") starts
    a name here: not at a sentence's start, not one of the words that start place and firm names
    ("New York", "Los Angeles", "Die Bahn"), and followed by a word that is neither a given name nor a
    frequent word (a surname: "Nilsson", not "York" or "Angeles")."""
    if _sentence_start(text, start) or fold(words[0]) in _STRICT:
        return False
    second = next((w for w in words[1:] if _capitalised(w)), None)
    return second is not None and not _is_given(second)[0] and not _no_surname(second)


def model_person_ok(text: str, start: int, end: int) -> bool:
    """Whether a PERSON entity of the statistical model reads like a name by these rules' measure too:
    two or more capitalised words (particles between), none a frequent word, a place or a firm word,
    and no article right before. The small English model calls Latin lorem ipsum ("Laboriosam
    exercitationem"), German noun pairs and firm names persons; it still adds names that the list
    lacks ("Vasatika Kar")."""
    words = _WORD.findall(text[start:end])
    caps = [w for w in words if _capitalised(w)]
    if len(caps) < 2 or any(not _capitalised(w) and w not in _PARTICLES for w in words):
        return False
    if any(_not_name(w) or _no_surname(w) or _is_given(w)[1] for w in caps):
        return False
    return _ARTICLE_BEFORE.search(text, max(0, start - 8), start) is None


# --- Chinese, Japanese, Korean ---------------------------------------------------------------------
# Family names by frequency in national statistics (China's household registration, Statistics Korea's
# census, Japanese surname rankings); tables written for this module.
_CN_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季"
    "裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦"
    "戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑"
    "迟邝官封谈匡鞠惠荆乐冀郁胥南班储栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井"
    "祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊母裘亓修邰赫杭况那宿鲜印逯隆茹"
    "诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由萧"
)
_CN_COMPOUND = _set("欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 端木 轩辕")
_JP_SURNAMES = _set(
    """佐藤 鈴木 高橋 田中 伊藤 渡辺 渡邊 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村
    林 斎藤 斉藤 清水 山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤
    村上 遠藤 青木 坂本 福田 太田 西村 藤井 金子 岡本 藤原 中野 三浦 原田 中川 松田 竹内 小野 田村
    中山 和田 石田 森田 上田 原 内田 柴田 酒井 宮崎 横山 高木 安藤 宮本 大野 小島 谷口 今井 工藤
    高田 増田 丸山 杉山 村田 大塚 新井 小山 平野 藤本 河野 上野 野口 武田 松井 千葉 岩崎 菅原 木下
    久保 佐野 野村 松尾 市川 菊地 杉本 古川 大島 西田 桜井 中田 水野 小松 北村 荒木 浅野 宮田 熊谷
    東 大西 岩田 服部 小池 川口 関 吉川 榎本 浜田 須藤 大橋"""
)
_KR_SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류나진지엄채원천방공현함"
    "변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉사부가복태목형피두감음빈동온호범"
    "좌팽승간상갈"
)
_KR_COMPOUND = _set("남궁 황보 제갈 사공 선우 서문 독고")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff々"
_KANA = "\u3040-\u30ff"
_HANGUL = "\uac00-\ud7a3"
_ANY_CJK = re.compile(rf"[{_KANA}{_HAN}{_HANGUL}]")
_CJK_ISLAND = re.compile(rf"(?<![{_HAN}{_KANA}])[{_HAN}]{{2,4}}(?![{_HAN}{_KANA}])")
_CJK_SPACED = re.compile(
    rf"(?<![{_HAN}{_KANA}])[{_HAN}]{{1,3}}[ \u3000][{_HAN}{_KANA}]{{1,4}}(?![{_HAN}{_KANA}])"
)
_HANGUL_ISLAND = re.compile(rf"(?<![{_HANGUL}])[{_HANGUL}]{{3,4}}(?![{_HANGUL}])")
_HONORIFIC_ZH = re.compile(rf"([{_HAN}]{{2,3}})(?=先生|女士|小姐|老师|同学|经理|教授|医生|总监)")
_HONORIFIC_JA = re.compile(rf"([{_HAN}]{{1,5}})(?=さん|様|さま|氏|先生|君|くん|ちゃん|殿)")
_HONORIFIC_KO = re.compile(rf"(?<![{_HANGUL}])([{_HANGUL}]{{3,4}})(?=\s?(?:씨|님|선생님|교수님))")
_LABELLED = re.compile(
    rf"(?:姓名|名前|氏名|联系人|聯絡人|이름|성명)\s*[:：]?\s*"
    rf"([{_HAN}{_HANGUL}]{{2,4}}(?:[ \u3000][{_HAN}]{{1,3}})?)"
)


def _cn_or_jp_family(name: str, *, alone: bool = False) -> bool:
    """Whether ``name`` starts with a Chinese or Japanese family name (and has more after it, unless
    ``alone``: before an honorific a family name alone is a name, "佐藤さん")."""
    return (
        name[0] in _CN_SURNAMES
        or name[:2] in _CN_COMPOUND
        or any(name[:k] in _JP_SURNAMES and (alone or len(name) > k) for k in (1, 2, 3))
    )


def _kr_family(name: str) -> bool:
    return (name[0] in _KR_SURNAMES and len(name) == 3) or (name[:2] in _KR_COMPOUND and len(name) == 4)


def _island(text: str, start: int, end: int) -> bool:
    """Whether the span stands in text of another script: a Latin or Cyrillic letter or a digit is the
    nearest non-space character on one side ("forward this to 黄秀梅." or "。黄秀梅 will join")."""
    i = start - 1
    while i >= 0 and text[i] == " ":
        i -= 1
    j = end
    while j < len(text) and text[j] == " ":
        j += 1
    return (i >= 0 and text[i].isascii() and text[i].isalnum()) or (
        j < len(text) and text[j].isascii() and text[j].isalnum()
    )


def _cjk_names(text: str) -> Iterator[tuple[int, int, float]]:
    if _ANY_CJK.search(text) is None:
        return
    for m in _CJK_SPACED.finditer(text):
        family = m.group().split()[0]
        if family in _JP_SURNAMES or _cn_or_jp_family(family):
            yield m.start(), m.end(), 0.85
    for m in _CJK_ISLAND.finditer(text):
        short = len(m.group()) <= 3 or any(m.group()[:k] in _JP_SURNAMES for k in (1, 2, 3))
        if short and _cn_or_jp_family(m.group()) and _island(text, m.start(), m.end()):
            yield m.start(), m.end(), 0.8
    for m in _HANGUL_ISLAND.finditer(text):
        if _kr_family(m.group()) and _island(text, m.start(), m.end()):
            yield m.start(), m.end(), 0.8
    named: set[int] = set()  # ends already named: 先生 is an honorific in Chinese and in Japanese
    for pattern in (_HONORIFIC_ZH, _HONORIFIC_JA):
        for m in pattern.finditer(text):
            run = m.group(1)
            for k in range(max(0, len(run) - 4), len(run) - 1):
                if m.end(1) not in named and _cn_or_jp_family(run[k:], alone=True):
                    named.add(m.end(1))
                    yield m.start(1) + k, m.end(1), 0.85
                    break
    for m in _HONORIFIC_KO.finditer(text):
        if _kr_family(m.group(1)):
            yield m.start(1), m.end(1), 0.85
    for m in _LABELLED.finditer(text):
        yield m.start(1), m.end(1), 0.85


def names(text: str) -> Iterator[tuple[int, int, float]]:
    """(start, end, score) of each person name the rules find (spans may overlap; the PII resolver
    keeps one)."""
    yield from _latin_names(text)
    yield from _cjk_names(text)
