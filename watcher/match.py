"""Deciding whether an item is relevant: phrases, rules, and the verdict. Pure functions.

A phrase matches case-insensitively and as whole words; spaces and hyphens inside a phrase
match any run of spaces or hyphens ("duty free" finds "duty-free"), and `*` at the end of a
word matches any ending ("tariff*" finds "tariffs" and "tariff-rate").

A rule holds conditions that must all be true:
  any:    at least one phrase occurs in the item's text (title and abstract or summary)
  all:    every phrase occurs in the item's text
  title:  at least one phrase occurs in the title
  agency: at least one phrase occurs in the issuing agencies' names
  type:   the item's type or subtype is one of these (labels or Federal Register codes)
  unless: no phrase occurs in the item's text (an exception to this rule only)
A bare string is a rule with `any: [that string]`.

An item is relevant when some `match` rule holds and no `exclude` rule does. A source with no
`match` rules finds every item relevant (for sources that are narrow already), minus excludes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from watcher.models import Item

# The Federal Register API filters by code; documents carry the label.
FR_TYPE_CODES = {
    "presdocu": "presidential document",
    "rule": "rule",
    "prorule": "proposed rule",
    "notice": "notice",
    "correct": "correction",
    "unknown": "uncategorized document",
}

_SEPARATOR = r"[\s\-\u2010-\u2015]+"
_TYPOGRAPHY = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "}
)


def normalise_text(text: str) -> str:
    """Text as matching sees it: NFKC, plain quotes, single spaces."""
    if not text.isascii():  # (ASCII is its own NFKC, and has no curly quotes)
        text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY)
    return " ".join(text.split())


@dataclass(frozen=True)
class Phrase:
    """A phrase from the config, compiled once."""

    text: str
    pattern: re.Pattern[str]

    @classmethod
    def compile(cls, text: str) -> Phrase:
        words = [w for w in re.split(r"[\s\-\u2010-\u2015]+", normalise_text(text)) if w]
        if not words or all(w.strip("*") == "" for w in words):
            raise ValueError(f"phrase {text!r} has no words to look for")
        parts = []
        for word in words:
            stem = word.rstrip("*")
            parts.append(re.escape(stem) + (r"\w*" if word.endswith("*") else ""))
        body = _SEPARATOR.join(parts)
        return cls(text=text, pattern=re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE))

    def found_in(self, haystack: str) -> bool:
        return self.pattern.search(haystack) is not None


def compile_phrases(texts: Iterable[str]) -> tuple[Phrase, ...]:
    return tuple(Phrase.compile(t) for t in texts)


@dataclass(frozen=True)
class MatchView:
    """The parts of an item rules look at, normalised once per item."""

    title: str
    text: str
    agency: str
    types: frozenset[str]

    @classmethod
    def of(cls, item: Item) -> MatchView:
        title = normalise_text(item.title)
        types = {t.casefold() for t in (item.doc_type, item.subtype) if t}
        return cls(
            title=title,
            text=f"{title}\n{normalise_text(item.summary)}" if item.summary else title,
            agency="\n".join(normalise_text(a) for a in item.agencies),
            types=frozenset(types),
        )


@dataclass(frozen=True)
class Rule:
    """Conditions that must all hold; see the module docstring."""

    any: tuple[Phrase, ...] = ()
    all: tuple[Phrase, ...] = ()
    title: tuple[Phrase, ...] = ()
    agency: tuple[Phrase, ...] = ()
    types: frozenset[str] = frozenset()
    unless: tuple[Phrase, ...] = ()

    def holds(self, view: MatchView) -> tuple[str, ...] | None:
        """The phrases that made this rule hold, or None when it does not."""
        found: list[str] = []
        if self.any:
            hits = [p.text for p in self.any if p.found_in(view.text)]
            if not hits:
                return None
            found += hits
        if self.all:
            if not all(p.found_in(view.text) for p in self.all):
                return None
            found += [p.text for p in self.all]
        if self.title:
            hits = [p.text for p in self.title if p.found_in(view.title)]
            if not hits:
                return None
            found += hits
        if self.agency and not any(p.found_in(view.agency) for p in self.agency):
            return None
        if self.types and not (self.types & view.types):
            return None
        if any(p.found_in(view.text) for p in self.unless):
            return None
        return tuple(found)

    def describe(self) -> str:
        """A short human form of the rule, for "why you got this" lines."""
        bits = []
        for label, phrases in (
            ("any", self.any),
            ("all", self.all),
            ("title", self.title),
            ("agency", self.agency),
        ):
            if phrases:
                bits.append(f"{label}: " + ", ".join(p.text for p in phrases))
        if self.types:
            bits.append("type: " + ", ".join(sorted(self.types)))
        return "; ".join(bits)


def normalise_type(value: str) -> str:
    """A type condition as items carry it: FR codes become labels, case folded."""
    folded = value.strip().casefold()
    return FR_TYPE_CODES.get(folded, folded.replace("_", " "))


def compile_rule(spec: Mapping[str, Sequence[str]]) -> Rule:
    """The Rule a validated rule spec describes: `{any, all, title, agency, type, unless}`,
    each a list of phrases (or of document types), any of them absent."""
    return Rule(
        any=compile_phrases(spec.get("any", ())),
        all=compile_phrases(spec.get("all", ())),
        title=compile_phrases(spec.get("title", ())),
        agency=compile_phrases(spec.get("agency", ())),
        types=frozenset(normalise_type(t) for t in spec.get("type", ())),
        unless=compile_phrases(spec.get("unless", ())),
    )


@dataclass(frozen=True)
class RuleSet:
    """A source's `match` and `exclude` rules."""

    match: tuple[Rule, ...] = ()
    exclude: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Relevance:
    """The verdict on one item, with the reason a person can read."""

    relevant: bool
    matched: tuple[str, ...] = ()
    excluded_by: tuple[str, ...] = ()


def judge(item: Item, rules: RuleSet) -> Relevance:
    """Is this item one the team wants to hear about?"""
    view = MatchView.of(item)
    if rules.match:
        matched: list[str] = []
        for rule in rules.match:
            hits = rule.holds(view)
            if hits is not None:
                matched += [h for h in hits if h not in matched] or [rule.describe()]
        if not matched:
            return Relevance(False)
    else:
        matched = []
    for rule in rules.exclude:
        hits = rule.holds(view)
        if hits is not None:
            return Relevance(False, tuple(matched), hits or (rule.describe(),))
    return Relevance(True, tuple(matched))
