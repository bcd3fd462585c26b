"""The core injection intents as rules in 30 languages, matched on a folded text.

Why rules and not the models: the shipped token table is distilled from an English encoder (MiniLM,
bert-base-uncased vocabulary), and the n-gram model learnt from mostly English jailbreaks, so a German
"Vergiss alle vorherigen Anweisungen" or a Japanese "以前の指示をすべて無視して" carries little meaning for
either. The few things an injection has to *say* are the same in every language: discard the previous
instructions, show the hidden prompt, become someone without rules, here are new instructions, keep it
from the user, send the secret somewhere. Each is an ``Intent``: a clause that holds a word of every
one of its groups (multilingual_terms.py), e.g. an IGNORE verb and an INSTRUCTIONS noun.

Why clauses: a verb and a noun anywhere in a long passage ("the court ignored ... the rules of
evidence") are not an order; both have to sit in one clause (no sentence end between them, at most
``window`` characters apart), and in one language (a Polish stem must not complete an English clause).
Why a fold: the text arrives cleaned (heuristics.clean: NFKC, zero-width characters removed, Latin
look-alikes restored); it is then case-folded and stripped of diacritics, so "PRÉCÉDENTES",
"precedentes" and "pre\u0301ce\u0301dentes" are one spelling and the lists need one entry.

Cost: one regex alternation of ~300 fragments costs ~5 ms per 2 KB in ``re`` (it tries every branch
at every position), so each fragment is its own pattern behind a cheap key test (Group.candidates),
and at most ``MAX_ANCHORS`` anchor hits per intent are looked at: ~0.5 ms for 2 KB of English, ~1 ms
for 2 KB in another script, tens of milliseconds for 200 KB.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from optiloop.prompts.guardrails import multilingual_terms as t

MAX_ANCHORS = 64  # anchor hits examined per intent: a 200 KB text of repeated verbs stays bounded
# A sentence ends at . ! ? ; before a space (not inside "exemple.fr" or "3.5") or at a line break or
# a CJK, Arabic or Devanagari full stop.
_CLAUSE_END = re.compile(r"[.!?;](?=\s|$)|[\n\u3002\uff01\uff1f\u061f\u0964\u06d4]")
# Letters NFD does not decompose but readers treat as their plain form.
_EXTRA_FOLD = str.maketrans(
    {"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe"}
)
# Scripts whose words are separated by spaces and take no prefixes: a term must start a word there.
_WORD_START_BELOW = 0x0590  # Latin, Greek, Cyrillic, Armenian; not Hebrew/Arabic/Indic/Thai/CJK


@lru_cache(maxsize=1)
def _marks() -> dict[int, None]:
    """Every combining mark of the Basic Multilingual Plane, to delete with one str.translate."""
    return {cp: None for cp in range(0x300, 0x10000) if unicodedata.category(chr(cp)) == "Mn"}


def fold(text: str) -> str:
    """NFKC, case-folded, without combining marks and with a few unaccented letters mapped; NFC again
    so Hangul syllables split by NFD are whole. ASCII text is only lower-cased (the common case)."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).casefold())
    return unicodedata.normalize("NFC", text.translate(_marks()).translate(_EXTRA_FOLD))


_META = set("\\.^$*+?{}[]|()")


def _expand(frag: str) -> list[str]:
    """``(?:a|b)?rest`` as ``a rest``, ``b rest`` (and ``rest``): every variant then starts with a
    literal, which is what the key lookup in ``Group.candidates`` needs."""
    if not frag.startswith("(?:"):
        return [frag]
    depth, cut, alts, start = 0, -1, [], 3
    for i, c in enumerate(frag):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                cut = i
                alts.append(frag[start:i])
                break
        elif c == "|" and depth == 1:
            alts.append(frag[start:i])
            start = i + 1
    rest = frag[cut + 1 :]
    optional = rest.startswith("?")
    rest = rest[1:] if optional else rest
    out = [v for alt in alts for v in _expand(alt + rest)]
    return out + (_expand(rest) if optional else [])


def _literal(frag: str) -> str:
    """The literal text every match of ``frag`` starts with (a quantified last letter left out)."""
    out: list[str] = []
    for c in frag:
        if c in _META:
            if c in "?*{" and out:
                out.pop()
            break
        out.append(c)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Frag:
    lang: str  # the clause's other words must come from the same language (or "any")
    key: str  # spaced scripts: up to 3 first letters of the first word; other scripts: the literal
    spaced: bool  # a match must start a word (checked after the search: a leading \\b in the
    rx: re.Pattern[str]  # pattern would turn off re's fast literal-prefix scan, ~10x slower)


class Group:
    """One list of terms, every language's fragments, folded like the text.

    One regex alternation of all ~300 fragments costs ~5 ms per 2 KB in ``re`` (no trie: each
    position tries every branch), so each fragment is its own pattern behind a cheap key test: the
    first letters of a word for spaced scripts (a set intersection with the text's word prefixes),
    the literal itself for the others (a substring test, only for fragments whose first character
    occurs in the text). Only candidates are searched."""

    def __init__(self, terms: t.Terms) -> None:
        self.always: list[_Frag] = []  # no literal to key on (e-mail and URL shapes)
        self.by_prefix: dict[str, list[_Frag]] = {}
        self.by_char: dict[str, list[_Frag]] = {}
        seen: set[str] = set()
        for lang, words in terms.items():
            for w in words:
                for f in _expand(fold(w)):
                    if f"{lang}:{f}" in seen:
                        continue
                    seen.add(f"{lang}:{f}")
                    spaced = f[0].isalpha() and ord(f[0]) < _WORD_START_BELOW
                    lit = _literal(f)
                    head = re.match(r"\w+", lit) if spaced else None
                    key = (head.group()[:3] if head else "") if spaced else lit
                    frag = _Frag(lang, key, spaced, re.compile(f))
                    if not key:
                        self.always.append(frag)
                    elif spaced:
                        self.by_prefix.setdefault(key, []).append(frag)
                    else:
                        self.by_char.setdefault(key[0], []).append(frag)
        self.prefixes = frozenset(self.by_prefix)
        self.chars = frozenset(self.by_char)

    def candidates(self, keys: _Keys) -> list[_Frag]:
        out = list(self.always)
        for key in self.prefixes & keys.prefixes:
            out.extend(self.by_prefix[key])
        for ch in self.chars & keys.chars:
            out.extend(f for f in self.by_char[ch] if f.key in keys.text)
        return out


def _matches(f: _Frag, text: str) -> Iterator[re.Match[str]]:
    for m in f.rx.finditer(text):
        if not f.spaced or m.start() == 0 or not text[m.start() - 1].isalnum():
            yield m


@dataclass(frozen=True, slots=True)
class _Keys:
    text: str
    chars: frozenset[str]  # every character of the text
    prefixes: frozenset[str]  # the first 1, 2 and 3 letters of every word of the text


def _keys(folded: str) -> _Keys:
    words = set(re.findall(r"\w+", folded))
    prefixes = frozenset({w[:k] for w in words for k in (1, 2, 3)})
    return _Keys(folded, frozenset(folded), prefixes)


@dataclass(frozen=True, slots=True)
class Intent:
    id: str
    weight: float
    anchor: Group  # searched over the whole text
    groups: tuple[Group, ...]  # each must also occur in the anchor's clause
    window: int  # characters either side of the anchor that make its clause (cut at sentence ends)
    strong: Group | None = None  # in the clause too: the weight becomes ``strong_weight``
    strong_weight: float = 0.0


def _intents() -> tuple[Intent, ...]:
    ignore, instructions, prior = Group(t.IGNORE), Group(t.INSTRUCTIONS), Group(t.PRIOR)
    sysprompt, reveal, yours = Group(t.SYSTEM_PROMPT), Group(t.REVEAL), Group(t.YOUR_INSTRUCTIONS)
    return (
        # "ignore (all previous) instructions": decisive when the instructions are named as the
        # earlier/all/your ones, a strong hint otherwise ("vergessen Sie die Anweisungen nicht").
        Intent("override_multilingual", 0.6, ignore, (instructions,), 60, prior, 0.85),
        Intent("forget_everything", 0.7, ignore, (Group(t.EVERYTHING),), 30),
        Intent("rules_void_multilingual", 0.5, Group(t.VOID), (instructions,), 60, prior, 0.8),
        Intent("reveal_multilingual", 0.7, reveal, (sysprompt,), 60, yours, 0.8),
        Intent("reveal_multilingual", 0.8, reveal, (yours,), 60),
        Intent("sysprompt_multilingual", 0.25, sysprompt, (), 0),  # "what is a system prompt?"
        Intent("persona_multilingual", 0.4, Group(t.PERSONA), (), 0),
        Intent("persona_multilingual", 0.4, Group(t.ACT_AS), (), 0),
        Intent("devmode_multilingual", 0.6, Group(t.DEV_MODE), (), 0),
        Intent("unrestricted_multilingual", 0.5, Group(t.UNRESTRICTED), (), 0),
        # "New instructions:" announces orders; "new rules take effect on Monday" does not
        Intent("new_instructions_multilingual", 0.5, Group(t.NEW), (instructions, Group(_COLON)), 24),
        Intent("secrecy_multilingual", 0.5, Group(t.USER), (Group(t.TELL), Group(t.NOT)), 40),
        Intent("exfiltration_multilingual", 0.6, Group(t.SEND), (Group(t.SECRET), Group(_ADDRESS)), 160),
    )


# an outside address: e-mail, URL (the key test is skipped: no literal leads these fragments)
_COLON: t.Terms = {"any": (":", "\uff1a", "\\*\\*\\*")}
_ADDRESS: t.Terms = {"any": (r"[\w.+-]+@[\w-]+\.\w", "https?://", "www\\.")}


@lru_cache(maxsize=1)
def intents() -> tuple[Intent, ...]:
    """Compiled once per process, on first use (a few milliseconds), not at import."""
    return _intents()


def _clause(text: str, start: int, end: int, window: int) -> str:
    """The text around [start, end) up to ``window`` characters either side, cut at sentence ends."""
    left = text[max(0, start - window) : start]
    right = text[end : end + window]
    cuts = [m.end() for m in _CLAUSE_END.finditer(left)]
    if cuts:
        left = left[cuts[-1] :]
    m = _CLAUSE_END.search(right)
    if m is not None:
        right = right[: m.start()]
    return left + text[start:end] + right


@dataclass(frozen=True, slots=True)
class IntentHit:
    id: str
    weight: float
    start: int  # offsets in the folded text (equal to the input's for ASCII, close otherwise)
    end: int


def _found(groups: list[list[_Frag]], clause: str, lang: str) -> bool:
    """Every group has a term of ``lang`` (or of any language) in ``clause``: "regul" is a Polish
    stem and "order" a Swedish word, and neither may complete an English clause."""
    return all(any(f.lang in (lang, "any") and _first(f, clause) for f in g) for g in groups)


def _first(f: _Frag, text: str) -> bool:
    return next(_matches(f, text), None) is not None


def intent_hits(text: str) -> list[IntentHit]:
    """The intents ``text`` states, at most one hit per rule id (the heaviest)."""
    folded = fold(text)
    keys = _keys(folded)
    best: dict[str, IntentHit] = {}
    for intent in intents():
        anchors = intent.anchor.candidates(keys)
        if not anchors:
            continue
        groups = [g.candidates(keys) for g in intent.groups]
        if not all(groups):
            continue
        strong = intent.strong.candidates(keys) if intent.strong is not None else []
        top = max(intent.weight, intent.strong_weight)
        found = best.get(intent.id)
        seen = 0
        for f in anchors:
            for m in _matches(f, folded):
                seen += 1
                if seen > MAX_ANCHORS or (found is not None and found.weight >= top):
                    break
                clause = _clause(folded, m.start(), m.end(), intent.window) if intent.window else ""
                if not _found(groups, clause, f.lang):
                    continue
                w = intent.strong_weight if strong and _found([strong], clause, f.lang) else intent.weight
                if found is None or w > found.weight:
                    found = IntentHit(intent.id, w, m.start(), m.end())
        if found is not None:
            best[intent.id] = found
    return list(best.values())
