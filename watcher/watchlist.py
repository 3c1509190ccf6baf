"""Does this touch us? A team's watchlist (HTS codes, countries, critical minerals, phrases)
checked against a document's own text. Pure.

`check(watchlist, text)` says which entries the text touches and why, each with the words
that did it: "7407.10.50 (heading 7407 named)", "Chile", "gallium". Chapter 99 duty lines
the text names are kept apart: shown, never a touch. A country the team watches that is an EU
member is touched when the text speaks of the European Union.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from watcher.facts import country_patterns
from watcher.facts import minerals as minerals_named
from watcher.hts import Code, mentions, shown
from watcher.match import Phrase, compile_phrases
from watcher.reference import COUNTRIES, CRITICAL_MINERALS, EU_MEMBERS, MINERAL_GROUPS

CONTEXT = 60  # characters of text either side of what matched, to show why


@dataclass(frozen=True)
class Watchlist:
    hts: tuple[tuple[str, Code], ...] = ()  # (as the team wrote it, the code)
    countries: tuple[str, ...] = ()  # canonical names
    minerals: tuple[str, ...] = ()  # names on the USGS list
    terms: tuple[Phrase, ...] = ()
    mention: str | None = None  # a Slack mention, when an alert touches it

    def __bool__(self) -> bool:
        return bool(self.hts or self.countries or self.minerals or self.terms)


@dataclass(frozen=True)
class Touch:
    """One watched entry the text touches."""

    entry: str  # as the team wrote it: "7407.10.50", "Chile", "gallium", "copper cathodes"
    kind: str  # hts | country | mineral | term
    why: str  # "heading 7407 named", "named", "as an EU member: the European Union is named"
    span: str  # the words around it
    new: bool = False  # first seen in this stage of a story

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Touch:
        return cls(**{k: data[k] for k in ("entry", "kind", "why", "span") if k in data},
                   new=bool(data.get("new")))  # fmt: skip

    @property
    def shown(self) -> str:
        return f"{self.entry} ({self.why})" if self.kind == "hts" else self.entry


# -- the watchlist, from the configuration ------------------------------------------------------


def canonical_country(name: str) -> str | None:
    """The canonical name of a country watcher knows by this name or alias ("UK")."""
    wanted = " ".join(name.split()).casefold()
    for names in COUNTRIES:
        if wanted in (n.casefold() for n in names):
            return names[0]
    return None


def known_mineral(name: str) -> tuple[str, ...] | None:
    """The USGS minerals a watched name stands for ("gallium"; "rare earths" -> its 15)."""
    wanted = " ".join(name.split()).casefold()
    if wanted in CRITICAL_MINERALS:
        return (wanted,)
    if wanted.rstrip("s") in CRITICAL_MINERALS:
        return (wanted.rstrip("s"),)
    return MINERAL_GROUPS.get(wanted)


def compile_watchlist(spec: Mapping[str, Any] | None) -> Watchlist | None:
    """The watchlist a validated spec describes (see config_models.WatchlistModel)."""
    if not spec:
        return None
    countries = tuple(
        canonical_country(c) or " ".join(c.split()) for c in spec.get("countries", ())
    )
    return Watchlist(
        hts=tuple((entry, Code.parse(entry)) for entry in spec.get("hts", ())),
        countries=tuple(dict.fromkeys(countries)),
        minerals=tuple(spec.get("minerals", ())),
        terms=compile_phrases(spec.get("terms", ())),
        mention=spec.get("mention"),
    )


# -- checking a text ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    touches: tuple[Touch, ...]
    duty_lines: tuple[str, ...]  # chapter 99 headings named (shown, never a touch)


def check(watchlist: Watchlist, text: str) -> Verdict:
    """Which watched entries the text touches, and why."""
    flat = " ".join(text.replace("\u00a0", " ").split())
    touches: list[Touch] = []
    found = mentions(flat)
    for entry, code in watchlist.hts:
        for mention in found:
            if mention.code.duty_line or not mention.code.overlaps(code):
                continue
            touches.append(
                Touch(
                    entry,
                    "hts",
                    _why(code, mention.code),
                    _around(flat, mention.start, mention.end),
                )
            )
            break
    touches += _countries(watchlist.countries, flat)
    named = set(minerals_named(flat))
    for mineral in watchlist.minerals:
        members = known_mineral(mineral) or (mineral,)
        hit = next((m for m in members if m in named), None)
        if hit is not None:
            match = _word(hit).search(flat)
            span = _around(flat, *match.span()) if match else hit
            touches.append(Touch(mineral, "mineral", "named", span))
    for phrase in watchlist.terms:
        match = phrase.pattern.search(flat)
        if match:
            touches.append(Touch(phrase.text, "term", "named", _around(flat, *match.span())))
    duty = tuple(dict.fromkeys(shown(m.code.low) for m in found if m.code.duty_line))
    return Verdict(tuple(touches), duty)


def _why(watched: Code, named: Code) -> str:
    if named.low == watched.low and named.high == watched.high:
        return "named"
    return f"{named.label} named"


def _countries(watched: Sequence[str], text: str) -> list[Touch]:
    out = []
    patterns = country_patterns()
    eu = patterns["European Union"].search(text)
    for country in watched:
        pattern = patterns.get(country) or _word(country)
        match = pattern.search(text)
        if match:
            out.append(Touch(country, "country", "named", _around(text, *match.span())))
        elif eu and country in EU_MEMBERS:
            why = "an EU member: the European Union is named"
            out.append(Touch(country, "country", why, _around(text, *eu.span())))
    return out


@cache
def _word(name: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(w) for w in name.split())
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


def _around(text: str, start: int, end: int) -> str:
    left = max(0, start - CONTEXT)
    right = min(len(text), end + CONTEXT)
    return ("…" if left else "") + text[left:right].strip() + ("…" if right < len(text) else "")


# -- a story's stages ---------------------------------------------------------------------------


def merged(earlier: Iterable[Touch], own: Iterable[Touch]) -> tuple[Touch, ...]:
    """A later stage's verdict: what the story touched, and what this stage adds (new)."""
    known = {(t.kind, t.entry): t for t in earlier}
    out = [Touch(t.entry, t.kind, t.why, t.span) for t in known.values()]
    for touch in own:
        if (touch.kind, touch.entry) not in known:
            out.append(Touch(touch.entry, touch.kind, touch.why, touch.span, new=True))
    return tuple(out)
