"""Hand-written signals of prompt injection: the attacks a regex names better than a model learns.

The classifier generalises over phrasing but is only as good as its training data, which is mostly
long role-play jailbreaks. Short, sharp attacks ("ignore all previous instructions and ...", "print
your system prompt", a forged ``</system>`` tag, a base64 blob to decode and obey) are rare there and
easy to state exactly, so they are rules with a weight each; the weights and the threshold are tuned
on the training split together with the classifier. Each rule targets the *instruction* to the model,
not a word: "ignore the previous paragraph's typo" names no instructions, "what is a system prompt?"
asks for none to be revealed.

Text is NFKC-normalised and stripped of zero-width characters first, so full-width letters and
joiners smuggled between letters do not slip past the patterns.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass

from optiloop.prompts.guardrails.multilingual import intent_hits
from optiloop.prompts.guardrails.suffix import WEIGHT as SUFFIX_WEIGHT
from optiloop.prompts.guardrails.suffix import adversarial_suffix

# Rules run on the lower-cased text without IGNORECASE, which is twice as fast in `re`; their
# literals are therefore lower case (dan_name alone looks at the original case: "DAN", not "Dan").
_I = re.MULTILINE


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    weight: float
    pattern: re.Pattern[str]
    # Lower-case literals of which every match contains at least one: a substring test (C speed)
    # that skips the regex on the ordinary text where it cannot match. Keeps 2 KB under 0.3 ms.
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleHit:
    id: str
    weight: float
    start: int
    end: int


# "iunstructions", "instrucions": a misspelt object is an old evasion of exact-phrase filters
_OBJECT = (
    r"(?:i\w{0,2}struc\w*|prompts?|rules|directions|guidelines|guidance|commands?|context|programming|"
    r"directives?|constraints|restrictions|polic(?:y|ies)|training|safeguards|filters)"
)
_VERB_OVERRIDE = r"(?:ignore|disregard|forget|skip|override|overrule|bypass|neglect|abandon|drop|discard)"
_WHICH = (
    r"(?:previous|prior|above|earlier|preceding|initial|original|all|any|every|your|the|system|old|existing)"
)

RULES: tuple[Rule, ...] = (
    Rule(
        "override_instructions",
        0.9,
        re.compile(rf"\b{_VERB_OVERRIDE}\b[\w\s,'-]{{0,40}}?\b{_WHICH}\b[\w\s,'-]{{0,30}}?\b{_OBJECT}\b", _I),
        ("ignore", "disregard", "forget", "skip", "overr", "bypass", "neglect", "abandon", "drop", "discard"),
    ),
    Rule(
        "override_then_act",
        0.8,
        re.compile(
            r"\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+|what\s+(?:is|was)\s+)?"
            r"(?:above|previous|prior|preceding|said|written)\b[\s\w]{0,12}?(?:\s+and|[,.;:!-])\s*"
            r"(?:instead\s+|now\s+|just\s+)?(?:say|print|output|write|respond|reply|tell|repeat|do|answer)\b",
            _I,
        ),
        ("ignore", "disregard", "forget"),
    ),
    Rule(
        "new_instructions",
        0.5,
        re.compile(
            r"\b(?:new|updated|real|actual|true|secret|hidden|override)\s+(?:system\s+)?"
            r"(?:instructions?|rules|directives?|task|orders)\s*(?:are|is|follow)?\s*[:>-]",
            _I,
        ),
        ("instruction", "rules", "directive", "task", "orders"),
    ),
    # Indirect injection: text inside a document, e-mail or tool result that speaks to the agent
    # reading it about *its task*, to slip in another one first or instead. Ordinary content addresses
    # a human reader and does not know the reader has a task; an exam's "before you answer the
    # questions, read the passage" has no "do the following first" and no "the task I gave you".
    Rule(
        "task_hijack",
        0.85,
        re.compile(
            r"\bbefore (?:you )?(?:can |could |are able to )?(?:solv|complet|finish|do|perform|continu|start|"
            r"proceed|answer|execut)\w*(?: with| on)? (?:the|your|this|my|any) (?:\w+ ){0,2}?"
            r"(?:task|request|assignment|job|instructions?)\b.{0,60}?\b(?:do|complete|perform|execute|"
            r"carry out) (?:the following|this|these)\b|"
            r"\b(?:important|urgent|priority) (?:message|note|instructions?|update) (?:from [^\n.]{0,60}? )?"
            r"(?:to|for) (?:you|the (?:ai|assistant|agent|model|llm|language model|bot))\b|"
            r"\b(?:after|once) you(?:'ve| have)? (?:done|do|completed|finished) (?:that|this|it),? "
            r"you (?:can|may) (?:solve|complete|continue|proceed|return|go back|do) ",
            _I | re.DOTALL,
        ),
        (
            "task",
            "request",
            "assignment",
            "job",
            "instruction",
            "message",
            "note",
            "update",
            "you can",
            "you may",
        ),
    ),
    Rule(
        "addressed_to_agent",
        0.5,
        re.compile(
            r"\b(?:instead of|rather than|in addition to) (?:solv|complet|answer|do|perform|follow|"
            r"summari[sz]|handl|execut)\w* (?:the |your |this |my )?"
            r"(?:original |user'?s? |actual |assigned |current |given )?"
            r"(?:task|request|question|instructions?|query)\b|"
            r"\b(?:if you are|to) (?:an? |the |any )?(?:ai|llm|language model|ai assistant|ai agent|"
            r"assistant|chatbot|agent) (?:reading|processing|summari[sz]ing|parsing|browsing)\b|"
            r"\b(?:note|message|instructions?) (?:to|for) (?:the |any )?(?:ai|llm|ai assistant|ai agent|"
            r"language model|chatbot)s?\s*[:,-]",
            _I,
        ),
        (
            "instead of",
            "rather than",
            "in addition to",
            "reading",
            "processing",
            "summari",
            "parsing",
            "browsing",
            "note",
            "message",
            "instruction",
        ),
    ),
    Rule(
        # A to-do line in the *data* that tells the reader to move money, messages or secrets to an
        # outside address: the agentdojo "TODO:" family, stated as its shape rather than its words.
        # Code's TODOs sit behind a comment marker (# or //) and do not name an address to send to.
        "todo_exfiltration",
        0.8,
        re.compile(
            r"^\s*(?:todo|to-?do|action (?:item|required)|reminder|task)\s*[:\-]\s*[\"'“]*\s*(?:please\s+)?"
            r"(?:send|forward|transfer|wire|pay|e-?mail|share|post|publish|upload|invite|grant|give|add|"
            r"change|update|reset|modify|create|delete|book|visit|download|concatenate|copy|say|tell)\b"
            r"[^\n]{0,200}?"
            r"(?:[\w.+-]+@[\w-]+\.\w|https?://|www\.|\b[a-z]{2}\d{2}[a-z0-9]{10,30}\b)",
            _I,
        ),
        ("todo", "to-do", "to do", "action", "reminder", "task"),
    ),
    Rule(
        "jailbreak_persona",
        0.6,
        re.compile(
            r"\b(?:do anything now|developer[ _-]?mode|dev[ _-]?mode|god[ _-]?mode|"
            r"jailbr(?:oken|eak(?:ed)? mode)|unfiltered and unrestricted|"
            r"no (?:ethical|moral) (?:guidelines|constraints|restrictions|principles)|"
            r"(?:not|never) bound by (?:any |the )?(?:rules|ethic|moral|guidelines|restrictions|polic)|"
            r"without any (?:restrictions|filters|censorship|moral)|"
            r"free(?:d)? (?:from|of) (?:the )?(?:typical )?(?:confines|restrictions|rules|limitations)|"
            r"stay in character|opposite mode|evil (?:confidant|mode|bot))\b",
            _I,
        ),
        (
            "anything now",
            "mode",
            "jailbr",
            "unfiltered",
            "ethical",
            "moral",
            "bound by",
            "without any",
            "free",
            "in character",
            "evil",
        ),
    ),
    Rule(
        "dan_name",
        0.5,
        re.compile(r"\b(?:DAN|STAN|DUDE|AIM|UCAR|APOPHIS)\b"),
        ("dan", "stan", "dude", "aim", "ucar", "apophis"),
    ),
    Rule(
        "unrestricted_roleplay",
        0.6,
        re.compile(
            r"\b(?:you are|you're|act as|acting as|pretend (?:to be|you are)|role-?play as|"
            r"from now on,? you)\b.{0,120}?"
            r"\b(?:no longer|unrestricted|without (?:limits|rules|restrictions|filters)|amoral|immoral|"
            r"unethical|uncensored|no (?:limits|rules|restrictions|filters)|anything (?:i|the user) asks?)",
            _I | re.DOTALL,
        ),
        ("you are", "you're", "act as", "acting as", "pretend", "play as", "from now on"),
    ),
    Rule(
        "system_prompt_exfiltration",
        0.8,
        re.compile(
            r"\b(?:repeat|print|reveal|show|output|display|tell me|what(?:'s| is| are| were)|give me|leak|"
            r"dump|spell out|recite|write out|copy|paste|translate|summari[sz]e|encode|list|see|view|access|"
            r"share|expose|disclose)\b.{0,40}?"
            r"(?:\b(?:your|the|this|its|their|my|current|full|entire|exact)\s+"
            r"(?:system|initial|original|hidden|secret|starting|first|developer|pre-?)\s?"
            r"(?:prompt|instructions?|message|configuration|directives?)|"
            r"\binstructions (?:you (?:were|have been) given|above)|"
            r"\b(?:your|the) (?:prompt|instructions)\s*"
            r"(?:[.?!,:;\"')]|$|verbatim|word for word|exactly|in full))",
            _I | re.DOTALL,
        ),
        ("prompt", "instruction", "message", "configuration", "directive"),
    ),
    Rule(
        "repeat_text_above",
        0.7,
        re.compile(
            r"\b(?:repeat|print|reveal|output|leak|dump|spell out|recite|write out|copy|paste|encode)\b"
            r".{0,30}?\b(?:(?:everything|all(?: the)? text|the text|(?:the )?words?) "
            r"(?:above|before (?:this|my)|so far)|"
            r"the above (?:text|instructions|prompt|message))\b",
            _I | re.DOTALL,
        ),
        ("above", "before this", "before my", "so far"),
    ),
    Rule(
        "role_tag_smuggling",
        0.6,
        re.compile(
            r"</?\s*(?:system|assistant|im_start|im_end|instructions?|inst|sys|developer)\s*>|"
            r"<\|(?:im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id|assistant|user)\|>|"
            r"\[/?(?:inst|sys|system)\]|<<sys>>|"
            r"^\s*#{2,}\s*[(\[<{]?\s*(?:instructions?|"
            r"(?:system|admin|developer)(?:[ _-]?(?:prompt|message|note))?|"
            r"new (?:instructions?|task)|response)\b|"
            r"^\s*(?:system|developer)\s*(?:prompt|message)?\s*:",
            _I,
        ),
        ("<", "[/", "[inst", "[sys", "##", "system", "developer"),
    ),
    Rule(
        "decode_and_follow",
        0.7,
        re.compile(
            r"\b(?:decode|decrypt|translate|convert)\b.{0,60}?\b(?:base64|base-64|hex|rot13|binary|morse|cipher)\b"
            r".{0,80}?\b(?:follow|execute|obey|do (?:what|as) it says|carry out|perform|answer|comply)",
            _I | re.DOTALL,
        ),
        ("decode", "decrypt", "translate", "convert"),
    ),
    Rule(
        "refusal_suppression",
        0.4,
        re.compile(
            r"\b(?:never|do not|don't|must not|cannot|can't|will not|won't)\s+(?:ever\s+)?"
            r"(?:refuse|apologi[sz]e|say (?:that )?(?:you )?(?:can't|cannot|are unable)|include (?:any )?"
            r"(?:warnings?|disclaimers?)|mention (?:ethics|morality|legality|that you are an ai))",
            _I,
        ),
        ("refuse", "apologi", "say", "warning", "disclaimer", "mention"),
    ),
    Rule(
        "dual_response",
        0.5,
        re.compile(
            r"\b(?:two|2) (?:different |separate )?(?:responses|answers|paragraphs|ways)\b.{0,200}?"
            r"\b(?:normal|classic|standard|filtered)\b|\[(?:🔒|🔓)|\((?:🔒|🔓)|\b(?:classic|jailbreak)\]",
            _I | re.DOTALL,
        ),
        ("two", "2 ", "🔒", "🔓", "classic]", "jailbreak]"),
    ),
)

# Cyrillic and Greek letters that look like Latin ones. Mapped back only inside words that mix them with
# Latin letters ("іgnоre" with Cyrillic і and о): whole Russian or Greek words are left alone.
_HOMOGLYPHS = str.maketrans(
    "аеорсухіјѕԁԛԝАВЕКМНОРСТХІЈЅαοϲνρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwABEKMHOPCTXIJSaocvptuxABEZHIKMNOPTYX",
)
_MIXED_WORD = re.compile(r"\b(?=\w*[a-zA-Z])(?=\w*[\u0370-\u03ff\u0400-\u04ff])\w+\b")
_ROT13_HINT = re.compile(r"rot-?13|caesar|cipher|decode|decrypt|rotate", re.I)

_HEX_PAIRS = frozenset(f"{i:02x}" for i in range(256)) | frozenset(f"{i:02X}" for i in range(256))
_CASED = frozenset({"dan_name"})
_BASE64_BLOB = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
_HEX_BLOB = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ ]?){24,}(?![0-9A-Fa-f])")
_DIALOGUE_TURN = re.compile(r"^\s*(?:user|human|assistant|ai|bot|q|a)\s*:", re.MULTILINE)
MANY_SHOT_TURNS = 12
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff\u00ad"))


_JSON_ESCAPES = re.compile(r"\\[nrt\"]")
_SPACED_LETTERS = re.compile(r"(?<!\S)(?:\w ){5,}\w(?!\S)")


def clean(text: str) -> str:
    """The text as a model would read it: NFKC, zero-width characters removed, Latin look-alikes
    restored inside mixed-script words, JSON string escapes undone (an attack inside a tool's JSON
    output has ``\\n`` where its line breaks were), and s p a c e d letters joined."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    if not text.isascii():
        text = _MIXED_WORD.sub(lambda m: m.group().translate(_HOMOGLYPHS), text)
    if "\\" in text:
        text = _JSON_ESCAPES.sub(lambda m: {"n": "\n", "r": " ", "t": " ", '"': '"'}[m.group()[1]], text)
    if " " in text:
        text = _SPACED_LETTERS.sub(lambda m: m.group().replace(" ", ""), text)
    return text


def _printable_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    ok = sum(32 <= b < 127 or b in (9, 10, 13) for b in data)
    return ok / len(data)


def _longest_byte_run(tokens: list[str]) -> int:
    best = run = 0
    for t in tokens:
        run = run + 1 if len(t) == 2 and t in _HEX_PAIRS else 0
        best = max(best, run)
    return best


def _encoded_payloads(text: str) -> list[RuleHit]:
    """Base64/hex blobs that decode to readable text: a hash or a key decodes to noise and is ignored."""
    hits: list[RuleHit] = []
    tokens = text.split()
    if not any(len(t) >= 40 for t in tokens) and _longest_byte_run(tokens) < 24:
        return hits  # no token long enough for base64, no run of byte pairs long enough for hex
    for m in _BASE64_BLOB.finditer(text):
        blob = m.group()
        try:
            data = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        if _printable_ratio(data) > 0.95 and b" " in data:
            hits.append(RuleHit("encoded_payload", 0.5, m.start(), m.end()))
    for m in _HEX_BLOB.finditer(text):
        try:
            data = bytes.fromhex(m.group().replace(" ", ""))
        except ValueError:
            continue
        if _printable_ratio(data) > 0.95 and b" " in data:
            hits.append(RuleHit("encoded_payload", 0.5, m.start(), m.end()))
    return hits


def _decoded_instructions(text: str, low: str) -> list[RuleHit]:
    """Instructions hidden in base64 or rot13: decode, and run the English rules on what comes out.

    A decoded blob that itself says "ignore all previous instructions" is much stronger evidence than
    a readable blob alone (``encoded_payload``), so it gets the weight of the rule it trips."""
    hits: list[RuleHit] = []
    for m in _BASE64_BLOB.finditer(text) if any(len(t) >= 24 for t in text.split()) else ():
        blob = m.group()
        try:
            data = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        if _printable_ratio(data) > 0.95:
            inner = _plain_hits(data.decode("ascii", "replace").lower(), RULES)
            if inner:
                hits.append(RuleHit("encoded_instruction", max(h.weight for h in inner), m.start(), m.end()))
                break
    if _ROT13_HINT.search(low):
        inner = _plain_hits(codecs.decode(low, "rot13"), RULES)
        if inner:
            hits.append(RuleHit("rot13_instruction", max(h.weight for h in inner), 0, len(text)))
    return hits


def _plain_hits(low: str, rules: tuple[Rule, ...]) -> list[RuleHit]:
    out = []
    for rule in rules:
        if rule.id in _CASED or (rule.anchors and not any(a in low for a in rule.anchors)):
            continue
        m = rule.pattern.search(low)
        if m is not None:
            out.append(RuleHit(rule.id, rule.weight, m.start(), m.end()))
    return out


def rule_hits(text: str, *, extended: bool = True) -> list[RuleHit]:
    """The rules that fire on ``text`` (already cleaned), at most one hit per rule.

    ``extended`` adds the intents in 30 languages (multilingual.py), the decoded (base64, rot13) views
    and the adversarial suffix shape (suffix.py); False gives the
    rule set of the first detector, which the evaluation still reports side by side."""
    hits = []
    low = text.lower()
    for rule in RULES:
        if rule.anchors and not any(a in low for a in rule.anchors):
            continue
        m = rule.pattern.search(text if rule.id in _CASED else low)
        if m is not None:
            hits.append(RuleHit(rule.id, rule.weight, m.start(), m.end()))
    if extended:
        hits.extend(RuleHit(h.id, h.weight, h.start, h.end) for h in intent_hits(text))
        hits.extend(_decoded_instructions(text, low))
        soup = adversarial_suffix(text)
        if soup is not None:
            hits.append(RuleHit("adversarial_suffix", SUFFIX_WEIGHT, *soup))
    hits.extend(_encoded_payloads(text)[:1])
    turns = _DIALOGUE_TURN.findall(low)
    if len(turns) >= MANY_SHOT_TURNS:
        hits.append(RuleHit("many_shot", 0.5, 0, len(text)))
    return hits


def heuristic_score(hits: list[RuleHit]) -> float:
    """Noisy-OR of the weights of the rules that fired: independent pieces of evidence."""
    miss = 1.0
    for hit in hits:
        miss *= 1.0 - hit.weight
    return 1.0 - miss
