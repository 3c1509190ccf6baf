"""HTS codes as a team watches them and as a document names them. Pure.

A watched code is a chapter ("chapter 76"), a heading ("7407"), a subheading ("8544.42",
"7407.10.50") or a statistical line ("8471.30.0100"). A document names codes the way an annex
is written: single codes, lists ("headings 7406, 7407 and 7408"), ranges ("headings 7401
through 7419", "subheadings 8544.42.20 through 8544.49.30", "7601-7609" after "HTSUS"),
chapters ("chapter 74", "chapters 72 and 73"). Each code is an interval of 10-digit lines, so
a watched subheading is touched by its heading, its chapter or a range covering it, and a
watched heading or chapter by any code inside it. Chapter 99 headings (9903.xx.xx) are the
duty lines, not products: reported, never a touch. A bare 4- or 6-digit number is a code only
where the text calls it one (a heading, a subheading, HTSUS), since alone it is as likely a
year, a page or a statute section; 8- and 10-digit dotted codes stand on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WATCHED = re.compile(r"^\d{4}(?:\.\d{2}){0,3}$|^\d{4}\.\d{2}\.\d{4}$")
_CHAPTER_ENTRY = re.compile(r"^chapter\s+(\d{1,2})$", re.IGNORECASE)

_CODE = r"\d{4}(?:\.\d{2}\.\d{4}|(?:\.\d{2}){1,3})?"
_SEP = r"\s*(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+|through\s+|to\s+|[-–—]\s*)\s*"
_SEPS = re.compile(_SEP.replace(r"\s*(?:", r"^\s*(?:", 1) + "$")
# "headings 7406, 7407 and 7408", "HTSUS subheadings 8544.42.20 through 8544.49.30",
# "HTSUS 7601-7609", "HTS heading 9903.78.01"
_LISTED = re.compile(
    rf"\b(?:HTSUS|HTS|(?:sub)?headings?|tariff\s+lines?|classifications?)\s+"
    rf"(?:(?:sub)?headings?\s+|No\.\s*|Nos\.\s*)?({_CODE}(?:{_SEP}{_CODE})*)",
    re.IGNORECASE,
)
_DOTTED = re.compile(
    r"(?<![\w.$,])(\d{4}\.\d{2}\.\d{2}(?:\.\d{2})?|\d{4}\.\d{2}\.\d{4})(?![\w.]\d)"
)
_DOTTED_RANGE = re.compile(
    r"(?<![\w.$,])(\d{4}\.\d{2}\.\d{2}(?:\.\d{2})?)\s*(?:through|to|[-–—])\s*"
    r"(\d{4}\.\d{2}\.\d{2}(?:\.\d{2})?)(?![\w.]\d)",
    re.IGNORECASE,
)
_CHAPTERS = re.compile(
    r"\bchapters?\s+(\d{1,2})((?:\s*(?:,|and|or|through|to|[-–—])\s*\d{1,2}\b)*)"
    r"(?!\s+of\s+(?:title|the\s+(?:Trade|Tariff|Internal|Code)))",
    re.IGNORECASE,
)


class NotACode(ValueError):
    pass


@dataclass(frozen=True)
class Code:
    """A span of HTS lines: a chapter, heading, subheading or line, or a range of them."""

    low: str  # digits, "7407" or "74071050" or "74"
    high: str  # the same, unless a range

    @classmethod
    def parse(cls, text: str) -> Code:
        """A watched code as a team writes it ("7407.10.50", "8544.42", "chapter 76")."""
        text = " ".join(text.split())
        chapter = _CHAPTER_ENTRY.match(text)
        if chapter:
            number = int(chapter.group(1))
            if not 1 <= number <= 98:
                raise NotACode(f"{text!r}: HTS chapters run from 1 to 97 (99 is the duty lines)")
            return cls(f"{number:02d}", f"{number:02d}")
        if not _WATCHED.match(text):
            raise NotACode(
                f"{text!r} is not an HTS code: write a heading (7407), a subheading (7407.10 "
                "or 7407.10.50), a statistical line (7407.10.5000) or a chapter (chapter 74)"
            )
        digits = text.replace(".", "")
        if digits.startswith("99"):
            raise NotACode(f"{text!r} is a chapter 99 duty line, not a product")
        return cls(digits, digits)

    @property
    def interval(self) -> tuple[str, str]:
        return self.low.ljust(10, "0"), self.high.ljust(10, "9")

    def overlaps(self, other: Code) -> bool:
        a, b = self.interval, other.interval
        return a[0] <= b[1] and b[0] <= a[1]

    @property
    def duty_line(self) -> bool:
        return self.low.startswith("99")

    @property
    def label(self) -> str:
        if self.low != self.high:
            return f"{_noun(self.low)}s {shown(self.low)} through {shown(self.high)}"
        return f"{_noun(self.low)} {shown(self.low)}"


def _noun(digits: str) -> str:
    return {2: "chapter", 4: "heading"}.get(len(digits), "subheading")


def shown(digits: str) -> str:
    """Digits as the schedule writes them: 74, 7407, 7407.10, 7407.10.50, 8471.30.0100."""
    if len(digits) == 2:
        return digits
    head, rest = digits[:4], digits[4:]
    if len(rest) == 6:
        return f"{head}.{rest[:2]}.{rest[2:]}"
    parts = [rest[i : i + 2] for i in range(0, len(rest), 2)]
    return ".".join([head, *parts])


@dataclass(frozen=True)
class Mention:
    """A code (or range, or chapter) as a document names it, with the words around it."""

    code: Code
    start: int
    end: int


def mentions(text: str) -> list[Mention]:
    """Every code, list, range and chapter the text names, in order."""
    found: dict[tuple[int, int], Mention] = {}
    for match in _LISTED.finditer(text):
        found.update(_listed(match.group(1), match.start(1)))
    for match in _DOTTED_RANGE.finditer(text):
        low, high = (g.replace(".", "") for g in match.groups())
        if _chapter_ok(low) and low <= high.ljust(len(low), "9"):
            found[(match.start(), match.end())] = Mention(Code(low, high), *match.span())
    for match in _DOTTED.finditer(text):
        if not any(s <= match.start() < e for s, e in found):
            digits = match.group(1).replace(".", "")
            if _chapter_ok(digits):
                found[match.span()] = Mention(Code(digits, digits), *match.span())
    for match in _CHAPTERS.finditer(text):
        numbers = [int(n) for n in re.findall(r"\d{1,2}", match.group(0)[len("chapter") :])]
        through = re.search(r"through|to|[-–—]", match.group(2) or "", re.IGNORECASE)
        if through and len(numbers) == 2 and numbers[0] < numbers[1]:
            found[match.span()] = Mention(
                Code(f"{numbers[0]:02d}", f"{numbers[1]:02d}"), *match.span()
            )
            continue
        for number in numbers:
            if 1 <= number <= 99:
                found[(match.start(), match.end() + number)] = Mention(
                    Code(f"{number:02d}", f"{number:02d}"), match.start(), match.end()
                )
    return sorted(found.values(), key=lambda m: (m.start, m.code.low))


def _listed(listed: str, offset: int) -> dict[tuple[int, int], Mention]:
    """The codes of one list: "7406, 7407 and 7408", "8544.42.20 through 8544.49.30"."""
    tokens = [(m.group(), m.start(), m.end()) for m in re.finditer(_CODE, listed)]
    out: dict[tuple[int, int], Mention] = {}
    index = 0
    while index < len(tokens):
        text, start, end = tokens[index]
        low = text.replace(".", "")
        if index + 1 < len(tokens):
            gap = listed[end : tokens[index + 1][1]]
            if re.search(r"through|to|[-–—]", gap, re.IGNORECASE) and _SEPS.match(gap):
                high_text, _, high_end = tokens[index + 1]
                high = high_text.replace(".", "")
                if _chapter_ok(low) and low <= high.ljust(len(low), "9"):
                    span = (offset + start, offset + high_end)
                    out[span] = Mention(Code(low, high), *span)
                index += 2
                continue
        if _chapter_ok(low):
            span = (offset + start, offset + end)
            out[span] = Mention(Code(low, low), *span)
        index += 1
    return out


def _chapter_ok(digits: str) -> bool:
    """Chapters run 01 to 99: a heading 0000 or a chapter 00 is no code."""
    return 1 <= int(digits[:2]) <= 99
