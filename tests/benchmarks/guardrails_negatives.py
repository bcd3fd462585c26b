"""Benign training texts the attack corpora never show the models: other languages, filler and noise.

Why: every benign training text of the earlier rounds was English prose, questions or code, so the
models learnt "not English-looking" as a sign of attack. The shipped embedding head scored lorem ipsum
~0.95, a long run of one character and ordinary French ~0.73; the n-gram model flagged short questions
in Polish or Swahili. These texts give the benign class the same oddities the attack class has:

- filler and noise: one character repeated, separator lines, digit and hex runs, CSV rows, a table
  of numbers; and Faker's Latin placeholder words (shipped: "=" * 500 scored 0.99, now 0.00);
- with ``--classic-lorem``: the classic "Lorem ipsum dolor sit amet ..." placeholder. Measured and
  not shipped: it took that paragraph from 0.94 to 0.29, but the cut it led to blocked a benign
  look-alike of the unit tests and more foreign sentences;
- with ``--multilingual-negatives``: made-up paragraphs, names, jobs and addresses from Faker in
  TRAIN_LOCALES (each locale's own word list). Measured and not shipped: it cut false positives on
  other languages' ordinary text (written sentences 17% -> 1%) but taught the models that a foreign
  text is benign, and non-English recall on the held-out sources fell (0.40 -> 0.30).

Fitted only, never calibrated on (FIT_ONLY in guardrails_eval.py), never a test set. The evaluation's
multilingual false-positive sets are the written sentences of guardrails_multilingual.py (never fitted
by default) and Faker paragraphs in TEST_LOCALES, languages none of TRAIN_LOCALES writes in.
"""

from __future__ import annotations

import random

from guardrails_sources import Item

# Languages with their own Faker word lists, none of them one of TEST_LOCALES' languages.
TRAIN_LOCALES = (
    "da_DK", "vi_VN", "tl_PH", "bn_BD", "hy_AM", "az_AZ", "la", "sv_SE", "fi_FI", "hu_HU",
    "ro_RO", "id_ID", "sk_SK", "hr_HR", "lt_LT", "bg_BG", "ka_GE", "ne_NP", "et_EE", "sl_SI",
)  # fmt: skip
# The evaluation's Faker set (guardrails_eval.multilingual_benign): languages never fitted.
TEST_LOCALES = (
    "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "cs_CZ", "ru_RU", "uk_UA", "ar_AA",
    "fa_IR", "he_IL", "zh_CN", "ja_JP", "th_TH", "el_GR",
)  # fmt: skip
SOURCE = "negatives"


def faker_texts(locales: tuple[str, ...], per_locale: int, seed: int) -> list[str]:
    """Paragraphs and name/job/address lines from each locale's own lists."""
    from faker import Faker

    out: list[str] = []
    for loc in locales:
        fk = Faker(loc)
        fk.seed_instance(seed)
        for k in range(per_locale):
            if k % 3 == 2:
                out.append(f"{fk.name()}, {fk.job()}\n{fk.address()}")
            else:
                out.append(fk.paragraph(nb_sentences=2 + k % 6))
    return out


def filler(rng: random.Random, n: int) -> list[str]:
    """Repeated characters, separators, digit and hex runs, CSV and tables: text without words."""
    out: list[str] = []
    chars = "a.-=_*#~xXz0 1!?"
    for k in range(n):
        kind = k % 6
        size = rng.choice((20, 80, 300, 1200, 3000))
        if kind == 0:
            out.append(rng.choice(chars) * size)
        elif kind == 1:
            line = rng.choice(("-", "=", "*", "#", "_", "~")) * rng.randint(10, 80)
            out.append("\n".join([line, "Section " + str(k), line]) * max(1, size // 200))
        elif kind == 2:
            out.append(" ".join(str(rng.randint(0, 10 ** rng.randint(1, 9))) for _ in range(size // 6)))
        elif kind == 3:
            out.append(" ".join(f"{rng.getrandbits(64):016x}" for _ in range(max(1, size // 17))))
        elif kind == 4:
            rows = [
                ",".join(f"{rng.random():.4f}" for _ in range(rng.randint(3, 9)))
                for _ in range(size // 40 + 1)
            ]
            out.append("id,a,b,c,d,e,f,g,h\n" + "\n".join(rows))
        else:
            cells = [f"| {rng.randint(0, 999):>5} | {rng.random():8.3f} |" for _ in range(size // 22 + 1)]
            out.append("|  n  |  value  |\n|---|---|\n" + "\n".join(cells))
    return out


# The placeholder text's own words (the classic "Lorem ipsum dolor sit amet ..." passage): Faker's
# Latin list is another passage's ("Sed ut perspiciatis"), and the head scored the classic one 0.94.
_LOREM_TEXT = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris "
    "nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse "
    "cillum eu fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui "
    "officia deserunt mollit anim id est laborum"
)


def lorem(rng: random.Random, n: int) -> list[str]:
    """Placeholder paragraphs as generators make them: the classic opening, then shuffled words."""
    out = []
    for k in range(n):
        sentences = []
        for _ in range(rng.randint(1, 12)):
            words = rng.choices(_LOREM_TEXT.split(), k=rng.randint(4, 16))
            sentences.append(" ".join(words).capitalize() + rng.choice((".", ".", ".", "!", "?")))
        body = " ".join(sentences)
        out.append(("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " if k % 2 else "") + body)
    return out


def training_items(seed: int = 13, *, multilingual: bool = False, classic_lorem: bool = False) -> list[Item]:
    """300 filler texts and 60 of Faker's Latin (the shipped recipe). Measured, not shipped
    (docs/benchmarks.md, round 4): ``multilingual`` adds 40 Faker texts in each of TRAIN_LOCALES;
    ``classic_lorem`` 60 paragraphs of the classic placeholder (it then scores 0.29, not 0.94, but
    "Dan said the release is on Friday; ..." and more foreign sentences were blocked)."""
    rng = random.Random(seed)
    items = [Item(t, 0, SOURCE, "filler") for t in filler(rng, 300)]
    items += [Item(t, 0, SOURCE, "lorem") for t in faker_texts(("la",), 60, seed)]
    if classic_lorem:
        items += [Item(t, 0, SOURCE, "lorem") for t in lorem(rng, 60)]
    if multilingual:
        items += [Item(t, 0, SOURCE, "faker") for t in faker_texts(TRAIN_LOCALES, 40, seed)]
    return items
