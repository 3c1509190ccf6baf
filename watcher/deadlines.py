"""Deadlines an instrument sets in its own words, read from its text and resolved to dates.
Pure; nothing is guessed.

"within 180 days of the date of this proclamation", "not later than 90 days after the date
of this order", "no later than July 1, 2026", "within 30 days of the publication of this
notice". The date of a proclamation or order is its signing date; "publication" is its
Federal Register publication date. A phrase whose starting date the document does not give
(or which counts from something else, "the effective date of the agreement") is shown as
written, with no date.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from watcher.facts import MONTHS

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "seventy": 70,
    "seventy-five": 75, "eighty": 80, "ninety": 90,
}  # fmt: skip
_NUMBER = (
    r"(?P<count>\d{1,3}|(?:one|two|three) hundred(?: and)?(?: [a-z]+(?:-[a-z]+)?)?"
    r"|[a-z]+(?:-[a-z]+)?)(?:\s*\(\d{1,3}\))?"
)
_RELATIVE = re.compile(
    r"\b(?P<lead>within|not later than|no later than|not more than)\s+" + _NUMBER
    + r"\s+(?P<unit>days?|months?|years?)"
    r"(?:\s+(?:of|after|from|following)\s+(?P<base>[^.;,]{0,90}))?",
    re.IGNORECASE,
)  # fmt: skip
_ABSOLUTE = re.compile(
    rf"\b(?P<lead>not later than|no later than|on or before|by)\s+(?P<date>(?:{MONTHS})\s+"
    r"\d{1,2},\s+\d{4})",
    re.IGNORECASE,
)
_SIGNED_BASE = re.compile(
    r"^(?:the\s+)?date of (?:this|the) (?:proclamation|order|memorandum|determination)"
    r"|^(?:the\s+)?(?:signing|issuance) of (?:this|the) (?:proclamation|order|memorandum)",
    re.IGNORECASE,
)
_PUBLISHED_BASE = re.compile(
    r"^(?:the\s+)?(?:date of\s+)?publication\b|^(?:the\s+)?(?:date this|this) \w+ "
    r"(?:is|was) published",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class StatedDeadline:
    """A deadline as the text states it, and the date it comes to (None: not stated)."""

    phrase: str  # "within 180 days of the date of this proclamation"
    what: str  # the sentence it is in: what is due
    due: str | None  # ISO date

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> StatedDeadline:
        return cls(str(data.get("phrase") or ""), str(data.get("what") or ""), data.get("due"))


def stated_deadlines(text: str, signed: str | None, published: str | None) -> list[StatedDeadline]:
    """The deadlines the text sets, in order; one per date (the operative sentence, the one
    saying "shall", wins over a recital naming the same date)."""
    flat = " ".join(text.replace("\u00a0", " ").split())
    found: list[tuple[int, StatedDeadline]] = []
    for match in _RELATIVE.finditer(flat):
        due = _relative_due(match, signed, published)
        phrase = match.group(0).strip().rstrip(",;")
        if due is None and not match.group("base"):
            continue  # "within 30 days" with nothing to count from: not a deadline we can say
        found.append((match.start(), StatedDeadline(phrase, _sentence(flat, match), due)))
    for match in _ABSOLUTE.finditer(flat):
        due = _absolute_due(match.group("date"))
        if due is not None and (match.group("lead").casefold() != "by" or _shall(flat, match)):
            found.append(
                (match.start(), StatedDeadline(match.group(0), _sentence(flat, match), due))
            )
    kept: dict[str, StatedDeadline] = {}
    for _, deadline in sorted(found, key=lambda f: f[0]):
        key = deadline.due or deadline.phrase.casefold()
        if key not in kept or ("shall" in deadline.what and "shall" not in kept[key].what):
            kept[key] = deadline
    return list(kept.values())


def _relative_due(match: re.Match[str], signed: str | None, published: str | None) -> str | None:
    count = _count(match.group("count"))
    base_text = (match.group("base") or "").strip()
    if count is None or not base_text:
        return None
    if _SIGNED_BASE.search(base_text):
        start = signed
    elif _PUBLISHED_BASE.search(base_text):
        start = published
    else:
        return None
    if not start:
        return None
    try:
        day = date.fromisoformat(start[:10])
    except ValueError:
        return None
    unit = match.group("unit").casefold().rstrip("s")
    if unit == "day":
        return (day + timedelta(days=count)).isoformat()
    months = count if unit == "month" else 12 * count
    return _add_months(day, months).isoformat()


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _count(words: str) -> int | None:
    words = words.casefold().strip()
    if words.isdigit():
        return int(words)
    hundreds = re.fullmatch(r"(one|two|three) hundred(?: and)?(?: (.+))?", words)
    if hundreds:
        rest = _UNITS.get(hundreds.group(2) or "", 0) if hundreds.group(2) else 0
        if hundreds.group(2) and not rest:
            tens, _, unit = hundreds.group(2).partition("-")
            rest = _UNITS.get(tens, 0) + _UNITS.get(unit, 0)
        return 100 * _UNITS[hundreds.group(1)] + rest
    if words in _UNITS:
        return _UNITS[words]
    tens, _, unit = words.partition("-")
    if tens in _UNITS and unit in _UNITS:
        return _UNITS[tens] + _UNITS[unit]
    return None


def _absolute_due(text: str) -> str | None:
    month_name, day, year = re.split(r"[\s,]+", text.strip())[:3]
    try:
        month = MONTHS.split("|").index(month_name.capitalize()) + 1
        return date(int(year), month, int(day)).isoformat()
    except ValueError:
        return None


def _shall(text: str, match: re.Match[str]) -> bool:
    """ "by July 1, 2026" is a deadline only in a sentence that imposes one."""
    return "shall" in _sentence(text, match).casefold()


def _sentence(text: str, match: re.Match[str], limit: int = 240) -> str:
    """The sentence around a match, as what is due."""
    start = max(text.rfind(". ", 0, match.start()), text.rfind("; ", 0, match.start()))
    start = 0 if start < 0 else start + 2
    end = text.find(". ", match.end())
    end = len(text) if end < 0 else end + 1
    sentence = text[start:end].strip()
    sentence = re.sub(r"^\(?\d{1,2}\)\s*|^\(?[a-z]\)\s*", "", sentence)
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"
