"""Stories: one trade action across every source that reports it. Pure.

A story is what the state knows about one action: its stages (a White House post, a public
inspection filing, a Federal Register document, CBP guidance, ...), each with the title,
instrument and number it carried and when it happened. This module holds that model and the
tests that tell whether something is the same action: the normalised title, the instrument
number, the instruments a text cites, the subject of a Section 232 action. `linking.py`
uses them to place each new alert in a story.

When in doubt, two things are two stories: a wrong merge hides an action, a missed link
only costs a thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from watcher.instrument import PRESIDENTIAL
from watcher.models import Item

__all__ = ["PRESIDENTIAL", "Stage", "Story"]

EASTERN = ZoneInfo("America/New_York")  # the Federal Register's and the White House's day

# A presidential document is published within about three weeks of its signing: two stages
# of one instrument lie within this many days of each other.
SAME_ACTION_DAYS = 25


@dataclass(frozen=True)
class Stage:
    """One stage of a story, as the state keeps it."""

    story_id: int
    source: str
    own_key: str | None  # the thread key the item's kind gives it ("fr:2026-01045")
    item_key: str | None
    event: str
    title: str
    url: str | None
    instrument: str | None  # lower case: "proclamation", "csms message", ...
    number: str | None
    dated: str | None  # ISO date the item states: signed, else published
    published: str | None  # ISO date it was (or, on public inspection, will be) published
    at: str  # ISO datetime (UTC) the stage happened: the source's own time, else first seen
    role: str | None  # "published", "inspection" or None (see sources.base.Role)
    label: str | None
    channel: str | None
    alert_id: int | None = None
    touches: tuple[Mapping[str, Any], ...] = ()  # what of the watchlist this stage touched

    @property
    def presidential(self) -> bool:
        return (self.instrument or "") in PRESIDENTIAL

    @property
    def identity(self) -> tuple[str, str] | None:
        """(instrument, number), when the stage names its instrument's number."""
        if self.instrument and self.number:
            return self.instrument, self.number
        return None


@dataclass(frozen=True)
class Story:
    id: int
    thread_key: str
    title: str
    stages: tuple[Stage, ...]
    pointed: frozenset[int] = frozenset()  # the earlier stories it pointed to (follow-ups)

    @cached_property
    def identities(self) -> frozenset[tuple[str, str]]:
        return frozenset(s.identity for s in self.stages if s.identity)

    @cached_property
    def presidential_titles(self) -> frozenset[str]:
        return frozenset(normalise_title(s.title) for s in self.stages if s.presidential)

    @cached_property
    def subject(self) -> frozenset[str] | None:
        for stage in self.stages:
            if stage.presidential or INVESTIGATION.search(normalise_title(stage.title)):
                found = subject_of(stage.title)
                if found:
                    return found
        return None

    @property
    def first(self) -> Stage:
        return min(self.stages, key=lambda s: s.at)

    @property
    def dated(self) -> str | None:
        dates = [s.dated for s in self.stages if s.dated]
        return min(dates) if dates else None

    @property
    def touches(self) -> tuple[Mapping[str, Any], ...]:
        """What of the watchlist the story's stages touched, each entry once."""
        seen: dict[tuple[str, str], Mapping[str, Any]] = {}
        for stage in self.stages:
            for touch in stage.touches:
                seen.setdefault((str(touch.get("kind")), str(touch.get("entry"))), touch)
        return tuple(seen.values())

    def has_key(self, key: str) -> bool:
        return key == self.thread_key or any(s.own_key == key for s in self.stages)

    def with_stage(self, stage: Stage, pointed: Iterable[int] = ()) -> Story:
        return Story(
            self.id, self.thread_key, self.title, (*self.stages, stage), self.pointed | set(pointed)
        )


# -- titles -----------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[^\w\s]")
_PREFIX = re.compile(r"^(?:presidential )?(?:proclamation|executive order|memorandum) on ")
# The public inspection desk adds the instrument and its date: "... (Memorandum of August 7,
# 2020)"; the published document and the White House do not.
_SUFFIX = re.compile(
    r"\s*\((?:proclamation|executive order|memorandum|notice|determination|presidential)"
    r"[^()]*\)\s*$",
    re.IGNORECASE,
)


def normalise_title(title: str) -> str:
    """A title as two sources of one instrument both write it: case, punctuation, "&",
    dashes and "U.S." do not count ("Adjusting Imports of Copper into the United States")."""
    text = _SUFFIX.sub("", title).casefold().replace("&", " and ").replace("u.s.", "united states")
    text = _PUNCTUATION.sub(" ", text.replace("\u2019", "'").replace("'s", "s"))
    text = " ".join(text.split())
    return _PREFIX.sub("", text)


# What a Section 232 action is about, from its title: "Adjusting Imports of Copper Into the
# United States", "... National Security Investigation of Imports of Copper", "... Section 232
# Actions on Processed Critical Minerals and Derivative Products".
_SUBJECT = (
    re.compile(r"adjusting imports of (.+?)(?: into the united states|$)"),
    re.compile(r"investigation of imports of (.+)$"),
    re.compile(r"section 232 actions on (.+)$"),
    re.compile(r"national security from imports of (.+)$"),
    re.compile(r"effect of imports of (.+?) on (?:the )?national security"),
)
INVESTIGATION = re.compile(r"investigation of imports of|effect of imports of")
_SUBJECT_STOP = frozenset({"the", "their", "its", "and", "of", "a", "an", "certain", "other"})


def subject_of(title: str) -> frozenset[str] | None:
    """The words naming what an action adjusts imports of, singular, or None."""
    text = normalise_title(title)
    for pattern in _SUBJECT:
        match = pattern.search(text)
        if match:
            words = [w for w in match.group(1).split() if w not in _SUBJECT_STOP]
            return frozenset(_singular(w) for w in words) or None
    return None


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def same_subject(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    """One subject contains the other: "copper" and "copper"; "timber lumber" and "timber
    lumber derivative product"."""
    return bool(a and b and (a <= b or b <= a))


# -- an item as a stage -----------------------------------------------------------------------


def instrument_of(item: Item) -> str | None:
    """The instrument, lower case; a Federal Register presidential document without a
    subtype counts as one."""
    if item.instrument:
        return item.instrument.casefold()
    if item.doc_type == "Presidential Document":
        return "presidential document"
    return None


def item_date(item: Item, signed: str | None = None) -> str | None:
    """The date an item states for itself: signed, else published (ISO date)."""
    value = item.signed_on or signed or item.published_on
    return value[:10] if value else None


def stage_time(item: Item | None, role: str | None, seen: datetime) -> datetime:
    """When a stage happened: a feed entry's own timestamp (a White House post, a CSMS
    message), else when watcher first saw it (a filing's and a document's dates are the
    days they publish, not when they appeared)."""
    value = item.published_on if item is not None and role is None else None
    if value and "T" in value:
        try:
            stamped = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return seen
        if stamped.tzinfo is not None and stamped <= seen:
            return stamped
    return seen


def days_apart(a: str | None, b: str | None) -> int | None:
    if not a or not b:
        return None
    try:
        return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days)
    except ValueError:
        return None


def eastern_date(moment: str) -> date:
    """The day a moment (ISO, UTC) falls on in Washington."""
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(EASTERN).date()


def latest(stories: Iterable[Story]) -> Story | None:
    """The story whose first stage is the most recent."""
    ordered: Sequence[Story] = sorted(stories, key=lambda s: s.first.at)
    return ordered[-1] if ordered else None
