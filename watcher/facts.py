"""Trade facts read out of a document's text. Pure functions; nothing is guessed.

What a trade lawyer scans for: which proclamations and executive orders a document builds
on, the HTSUS headings it touches, the ad valorem rates it sets, when it takes effect (down
to "12:01 a.m. eastern daylight time"), the critical minerals and countries it names, and the
day it was signed. A document that says none of these shows none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from typing import Any

from watcher.reference import AMBIGUOUS_MINERALS, COUNTRIES, CRITICAL_MINERALS

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = rf"(?:{MONTHS})\s+\d{{1,2}},\s+\d{{4}}"
_NUMBER_LIST = r"\d{4,5}(?:(?:\s*,\s*|\s*,?\s+and\s+|\s*,?\s+or\s+)\d{4,5})*"


@dataclass(frozen=True)
class TradeFacts:
    """What a document says, in the words of the document."""

    proclamations: tuple[str, ...] = ()
    executive_orders: tuple[str, ...] = ()
    hts: tuple[str, ...] = ()
    rates: tuple[str, ...] = ()
    effective: tuple[str, ...] = ()
    minerals: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    signed: str | None = None  # ISO date, from "this fourteenth day of January, in the year..."
    # every proclamation and order cited, in the order cited ("executive order 14220", ...):
    # the first is usually the one a new action acts on
    cited: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any(v for v in asdict(self).values())

    def as_record(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if v}

    @classmethod
    def from_record(cls, data: Mapping[str, Any] | None) -> TradeFacts:
        values: dict[str, Any] = {
            k: (tuple(v) if isinstance(v, list) else v)
            for k, v in (data or {}).items()
            if k in cls.__dataclass_fields__
        }
        return cls(**values)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _numbers(text: str, noun: str, digits: str) -> tuple[str, ...]:
    out: list[str] = []
    pattern = re.compile(rf"\b{noun}s?\s+(?:No\.\s*|Nos\.\s*)?({_NUMBER_LIST})")
    for match in pattern.finditer(text):
        out += [n for n in re.findall(r"\d{4,5}", match.group(1)) if re.fullmatch(digits, n)]
    return _unique(out)


def proclamation_numbers(text: str) -> tuple[str, ...]:
    """ "Proclamation 10895", "Proclamations 9704 and 9705", "Presidential Proclamation 10414"."""
    return _numbers(text, "Proclamation", r"\d{4,5}")


_CITED = re.compile(
    rf"\b(Proclamation|Executive Order)s?\s+(?:No\.\s*|Nos\.\s*)?({_NUMBER_LIST})",
    re.IGNORECASE,
)


def cited_instruments(text: str) -> list[tuple[str, str]]:
    """(instrument, number) of every proclamation and executive order the text cites, in the
    order it cites them: "Proclamations 11061, 11062, and 11063", "Executive Order 14272"."""
    out: list[tuple[str, str]] = []
    for match in _CITED.finditer(text):
        kind = match.group(1).casefold()
        for number in re.findall(r"\d{4,5}", match.group(2)):
            if kind == "executive order" and not number.startswith("1"):
                continue
            if (kind, number) not in out:
                out.append((kind, number))
    return out


def executive_order_numbers(text: str) -> tuple[str, ...]:
    """ "Executive Order 14272", "Executive Orders 14193, 14194, and 14195"."""
    return _numbers(text, "Executive Order", r"1\d{4}")


# 8- and 10-digit numbers (9903.81.90, 8471.30.0100) are HTSUS wherever they stand; a 4- or
# 6-digit one (7601, 7601.10) only where the text calls it a heading or subheading, since
# alone it could be a year, a page or a statute section.
_HTS_DOTTED = re.compile(r"(?<![\w.$,])(\d{4}\.\d{2}\.\d{2}(?:\.\d{2})?)(?![\w.]\d)")
_HTS_HEADING = re.compile(
    r"\b(?:sub)?headings?\s+(\d{4}(?:\.\d{2}){0,3}"
    r"(?:(?:\s*,\s*|\s*,?\s+(?:and|or|through)\s+)\d{4}(?:\.\d{2}){0,3})*)",
    re.IGNORECASE,
)


def hts_numbers(text: str) -> tuple[str, ...]:
    """HTSUS headings and subheadings, in order of first mention."""
    found = [(m.start(), m.group(1)) for m in _HTS_DOTTED.finditer(text)]
    for match in _HTS_HEADING.finditer(text):
        for number in re.finditer(r"\d{4}(?:\.\d{2}){0,3}", match.group(1)):
            found.append((match.start(1) + number.start(), number.group()))
    # Chapters run 01 to 99; anything else is a number that only looks like a heading.
    return _unique(n for _, n in sorted(found) if 1 <= int(n[:2]) <= 99)


_RATE_PATTERNS = (
    re.compile(
        r"\b(\d{1,3}(?:\.\d+)?)\s*(?:percent|%)\s+(?:additional\s+)?ad\s+valorem", re.IGNORECASE
    ),
    re.compile(
        r"\bad\s+valorem\s+(?:rate\s+of\s+duty|duty|tariff|rate)\s+of\s+(\d{1,3}(?:\.\d+)?)"
        r"\s*(?:percent|%)",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:additional|tariff|duty|duties|rate\s+of\s+duty)\s+of\s+(\d{1,3}(?:\.\d+)?)\s*"
        r"(?:percent|%)",
        re.IGNORECASE,
    ),
)


def ad_valorem_rates(text: str) -> tuple[str, ...]:
    """Duty rates the text sets ("25 percent ad valorem"), not every percentage it quotes."""
    found: list[tuple[int, str]] = []
    for pattern in _RATE_PATTERNS:
        for match in pattern.finditer(text):
            found.append((match.start(), f"{match.group(1)} percent ad valorem"))
    return _unique(r for _, r in sorted(found))


_EFFECTIVE = (
    re.compile(
        rf"\b(\d{{1,2}}:\d{{2}}\s*[ap]\.?m\.?,?\s+(?:eastern\s+(?:daylight\s+|standard\s+)?time"
        rf"(?:\s*\(E[DS]?T\))?|E[DS]T|ET)\s*,?\s+on\s+{_DATE})",
        re.IGNORECASE,
    ),
    re.compile(rf"\beffective\s+(?:on|as\s+of|beginning|starting)\s+({_DATE})", re.IGNORECASE),
)


def effective_times(text: str) -> tuple[str, ...]:
    """ "12:01 a.m. eastern daylight time on March 12, 2025", "effective on April 5, 2025"."""
    found: list[tuple[int, str]] = []
    for pattern in _EFFECTIVE:
        for match in pattern.finditer(text):
            found.append((match.start(), " ".join(match.group(1).split())))
    out: list[str] = []
    for _, value in sorted(found):
        if not any(value in kept or kept in value for kept in out):
            out.append(value)
    return tuple(out)


def _word_pattern(name: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(word) for word in name.split())
    # "cobalt-bearing" and "lithium-ion" name the mineral; "non-lithium" does not.
    return re.compile(r"(?<![\w-])" + body + r"(?!\w)", re.IGNORECASE)


@cache
def _mineral_patterns() -> dict[str, re.Pattern[str]]:
    return {name: _word_pattern(name) for name in CRITICAL_MINERALS}


# "copper, lead, and zinc" and "lead ore" name lead; "would lead to" and "tin-plated" do not.
_LIST_GAP = re.compile(r"\s*(?:,|;|/|&|and|or)\s*(?:and\s+|or\s+)?", re.IGNORECASE)
_MATERIAL_AFTER = re.compile(
    r"\s+(?:ores?|concentrates?|metal|bullion|ingots?|scrap|mines?|mining|smelt\w*)\b",
    re.IGNORECASE,
)


def minerals(text: str) -> tuple[str, ...]:
    """USGS critical minerals the text names, in order of first mention."""
    spans: list[tuple[int, int, str]] = []
    for name, pattern in _mineral_patterns().items():
        spans += [(m.start(), m.end(), name) for m in pattern.finditer(text)]
    plain = [(s, e) for s, e, n in spans if n not in AMBIGUOUS_MINERALS]

    def named_as_mineral(start: int, end: int) -> bool:
        if _MATERIAL_AFTER.match(text, end):
            return True
        for s, e in plain:
            gap = text[end:s] if s >= end else text[e:start] if e <= start else None
            if gap is not None and _LIST_GAP.fullmatch(gap):
                return True
        return False

    kept = [(s, n) for s, e, n in spans if n not in AMBIGUOUS_MINERALS or named_as_mineral(s, e)]
    return _unique(n for _, n in sorted(kept))


def _alternatives(names: Iterable[str]) -> str:
    return "|".join(re.escape(n).replace("'", "['’]").replace(r"\ ", r"\s+") for n in names)


@cache
def country_patterns() -> dict[str, re.Pattern[str]]:
    patterns = {
        names[0]: re.compile(r"(?<![\w-])(?:" + _alternatives(names) + r")(?![\w-])")
        for names in COUNTRIES
    }
    # "Korea" alone, or the Republic of Korea, is South Korea; the Democratic People's
    # Republic of Korea is not.
    patterns["South Korea"] = re.compile(
        r"(?<![\w-])(?:South\s+Korea|(?<!People['’]s\s)Republic\s+of\s+Korea|"
        r"(?<!North\s)(?<!of\s)Korea)(?![\w-])"
    )
    return patterns


def countries(text: str) -> tuple[str, ...]:
    """Countries (and the EU) the text names, in order of first mention."""
    found = []
    for canonical, pattern in country_patterns().items():
        match = pattern.search(text)
        if match:
            found.append((match.start(), canonical))
    return tuple(name for _, name in sorted(found))


_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "twenty-first": 21, "twenty-second": 22,
    "twenty-third": 23, "twenty-fourth": 24, "twenty-fifth": 25, "twenty-sixth": 26,
    "twenty-seventh": 27, "twenty-eighth": 28, "twenty-ninth": 29, "thirtieth": 30,
    "thirty-first": 31,
}  # fmt: skip
_UNITS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
_WITNESS = re.compile(
    rf"set my hand this\s+([a-z-]+)\s+day of\s+({MONTHS}),?\s+in the year of our Lord\s+"
    r"two thousand(?:\s+and)?\s*([a-z-]*)",
    re.IGNORECASE,
)


def _year_words(words: str) -> int | None:
    words = words.lower().strip()
    if not words:
        return 2000
    if words in _UNITS:
        return 2000 + _UNITS[words]
    if words in _TEENS:
        return 2000 + _TEENS[words]
    tens, _, unit = words.partition("-")
    if tens in _TENS and (not unit or unit in _UNITS):
        return 2000 + _TENS[tens] + (_UNITS[unit] if unit else 0)
    return None


def signing_date(text: str) -> str | None:
    """The date of "IN WITNESS WHEREOF, I have hereunto set my hand this fourteenth day of
    January, in the year of our Lord two thousand twenty-six"."""
    match = _WITNESS.search(text)
    if not match:
        return None
    day = _ORDINALS.get(match.group(1).lower())
    year = _year_words(match.group(3))
    month = MONTHS.split("|").index(match.group(2).capitalize()) + 1
    if day is None or year is None:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def extract(text: str) -> TradeFacts:
    """Every trade fact the text states."""
    text = " ".join(text.replace("\u00a0", " ").split())
    return TradeFacts(
        proclamations=proclamation_numbers(text),
        executive_orders=executive_order_numbers(text),
        hts=hts_numbers(text),
        rates=ad_valorem_rates(text),
        effective=effective_times(text),
        minerals=minerals(text),
        countries=countries(text),
        signed=signing_date(text),
        cited=tuple(f"{kind} {number}" for kind, number in cited_instruments(text)),
    )
